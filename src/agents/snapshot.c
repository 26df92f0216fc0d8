/* One org's agent objects, read kind by kind. */
#include "agents/snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "model/kinds.h"

static const char *const snapshot_kinds[] = {
	"AgentStack", "AgentServiceAccount", "AgentRoleBinding", "AgentSecretGrant",
	"AgentConfigGrant", "AgentToolProfile", "AgentMcpServer", "AgentSkill",
	"AgentSubagent", "AgentContextLabel", "AgentWorkspacePolicy", "AgentAdapter",
	"AgentGatewayConfig", "RunnerPool", "RefPolicy", "Secret", "ConfigMap", "Repository",
};

/* Secret and ConfigMap objects keep metadata and spec.keys only: the sealed
 * values must not travel with a snapshot (it is passed around and may be
 * frozen into records). */
static json_t *key_names_only(json_t *obj)
{
	json_t *spec = json_object_get(obj, "spec");
	json_t *keys = json_object_get(spec, "keys");
	json_t *out = json_pack("{s:O?, s:O?, s:O?, s:{s:o}}",
				"apiVersion", json_object_get(obj, "apiVersion"),
				"kind", json_object_get(obj, "kind"),
				"metadata", json_object_get(obj, "metadata"),
				"spec", "keys", json_is_array(keys) ? json_copy(keys) : json_array());

	return out;
}

static int list_kind(struct store *s, const char *ns, const char *kind, json_t *arr, struct kerr *e)
{
	struct store_list_query q = { .kind = kind, .ns = ns };
	struct store_list_result r = { 0 };
	char *cont = NULL;
	int rc, strip = !strcmp(kind, "Secret") || !strcmp(kind, "ConfigMap");

	/* A kind missing from the kinds table cannot have objects: an empty list. */
	if (!kinds_lookup(kind))
		return 0;
	do {
		q.cont = cont;
		rc = store_list(s, &q, &r, e);
		free(cont);
		cont = NULL;
		if (rc < 0)
			goto cleanup;
		for (size_t i = 0; i < r.n; i++) {
			json_t *obj = json_loadb(r.items[i], r.lens[i], 0, NULL);

			if (obj && strip) {
				json_t *t = key_names_only(obj);

				json_decref(obj);
				obj = t;
			}
			if (!obj || json_array_append_new(arr, obj)) {
				rc = kerr_set(e, KE_NOMEM, NULL, "out of memory reading %s objects", kind);
				goto cleanup;
			}
		}
		cont = r.cont;
		r.cont = NULL;
		store_list_result_free(&r);
		memset(&r, 0, sizeof r);
	} while (cont);
	rc = 0;
cleanup:
	free(cont);
	store_list_result_free(&r);
	return rc;
}

int agents_snapshot(struct store *s, const char *ns, json_t **out, struct kerr *e)
{
	json_t *snap;
	int rc = 0;

	if (!s || !ns || !out)
		return kerr_set(e, KE_INVALID, NULL, "agents_snapshot: missing argument");
	*out = NULL;
	snap = json_object();
	if (!snap)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	for (size_t i = 0; i < sizeof snapshot_kinds / sizeof snapshot_kinds[0]; i++) {
		json_t *arr = json_array();

		if (json_object_set_new(snap, snapshot_kinds[i], arr)) {
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
			goto cleanup;
		}
		rc = list_kind(s, ns, snapshot_kinds[i], arr, e);
		if (rc < 0)
			goto cleanup;
	}
	*out = snap;
	snap = NULL;
cleanup:
	json_decref(snap);
	return rc;
}

json_t *snapshot_find(json_t *snapshot, const char *kind, const char *name)
{
	json_t *arr = json_object_get(snapshot, kind), *obj;
	size_t i;

	if (!name)
		return NULL;
	json_array_foreach(arr, i, obj) {
		const char *n = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

		if (n && !strcmp(n, name))
			return obj;
	}
	return NULL;
}
