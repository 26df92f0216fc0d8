/* libFuzzer target: request bodies through the YAML/JSON parser and admission,
 * with and without an org from the route. Every object is freed. */
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "core/err.h"
#include "core/util.h"
#include "core/yaml.h"
#include "model/admission.h"

/* What every admitted object must look like; a violation is a crash. */
static void check_admitted(json_t *obj, const struct kind_def *kd)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));

	if (!kd || !json_is_object(json_object_get(obj, "spec")) ||
	    strcmp(json_string_value(json_object_get(obj, "kind")), kd->kind) ||
	    strcmp(json_string_value(json_object_get(obj, "apiVersion")), KRATE_API_VERSION) ||
	    !util_dns_label(json_string_value(json_object_get(meta, "name"))) || !ns ||
	    (strcmp(ns, KRATE_PLATFORM_NS) && !admission_namespace_org(ns)))
		__builtin_trap();
}

static void admit(json_t *doc, const char *org)
{
	struct admission_ctx ctx = { org };
	const struct kind_def *kd = NULL;
	struct kerr e = KERR_INIT;
	json_t *copy = json_deep_copy(doc);
	json_t *env;

	if (!copy)
		return;
	if (admission_check(copy, &ctx, &kd, &e)) {
		/* Exercise the error path the HTTP layer takes. */
		env = kerr_envelope(&e, "krate-fuzz");
		json_decref(env);
	} else {
		check_admitted(copy, kd);
	}
	kerr_clear(&e);
	json_decref(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kerr e = KERR_INIT;
	json_t *docs = NULL, *doc;
	size_t i;

	if (yaml_or_json_parse((const char *)data, size, &docs, &e) == 0) {
		json_array_foreach(docs, i, doc) {
			admit(doc, NULL);
			admit(doc, "demo");
		}
	}
	json_decref(docs);
	kerr_clear(&e);
	return 0;
}
