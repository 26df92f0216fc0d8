#include "model/admission.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

#define LABEL_ORG_FIELD "metadata.labels." KRATE_LABEL_ORG
#define LABEL_NS_FIELD "metadata.labels." KRATE_LABEL_NS
#define NS_BUF 80
/* Field paths come from the kinds table, so they are short and trusted. */
#define FIELD_BUF 160

/* One admission run over one object. */
struct adm {
	json_t *obj;
	json_t *meta;
	json_t *spec;
	const struct kind_def *kd;
	const struct admission_ctx *ctx;
	struct kerr *e;
	int bad;     /* reasons added so far */
	int nomem;
};

/* The value of a JSON string, or NULL when v is not a string or hides a NUL
 * byte: a name like "a\u0000/x" must not pass as "a". */
static const char *cstr(const json_t *v)
{
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	return strlen(s) == json_string_length(v) ? s : NULL;
}

/* Like cstr() but "" counts as absent, as it does for every org source. */
static const char *given(const json_t *v)
{
	const char *s = cstr(v);

	return s && *s ? s : NULL;
}

static void set_str(struct adm *a, json_t *o, const char *key, const char *val)
{
	if (!o || json_object_set_new(o, key, json_string(val)))
		a->nomem = 1;
}

/* Returns o[key] as an object, creating it when absent. */
static json_t *child_object(struct adm *a, json_t *o, const char *key)
{
	json_t *c = json_object_get(o, key);

	if (json_is_object(c))
		return c;
	c = json_object();
	if (json_object_set_new(o, key, c)) {
		a->nomem = 1;
		return NULL;
	}
	return c;
}

static int is_absent(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && !json_string_length(v));
}

static const struct field_def *find_field(const struct kind_def *k, const char *path)
{
	const struct field_def *f;

	for (f = k->fields; f && f->path; f++)
		if (!strcmp(f->path, path))
			return f;
	return NULL;
}

/* PolicyTemplate lists organizationRef as optional: such kinds may be global. */
static int org_optional(const struct kind_def *k)
{
	const struct field_def *f = find_field(k, "organizationRef");

	return k->scope == SCOPE_ORG && f && !f->required;
}

static int is_kind(const struct adm *a, const char *kind)
{
	return !strcmp(a->kd->kind, kind);
}

/* spec value at a dotted path; NULL when a step is missing or not an object. */
static json_t *spec_get(json_t *spec, const char *path)
{
	const char *dot;
	json_t *cur = spec;

	while ((dot = strchr(path, '.'))) {
		cur = json_object_getn(cur, path, (size_t)(dot - path));
		if (!json_is_object(cur))
			return NULL;
		path = dot + 1;
	}
	return json_object_get(cur, path);
}

static int type_ok(const json_t *v, enum field_type t)
{
	switch (t) {
	case FT_STRING: return json_is_string(v);
	case FT_INT: return json_is_integer(v);
	case FT_NUMBER: return json_is_number(v);
	case FT_BOOL: return json_is_boolean(v);
	case FT_OBJECT: return json_is_object(v);
	case FT_ARRAY: return json_is_array(v);
	case FT_STRING_OR_OBJECT: return json_is_string(v) || json_is_object(v);
	case FT_ANY: return 1;
	}
	return 0;
}

static int enum_ok(const json_t *v, const char *const *enums)
{
	const char *s = cstr(v);

	if (!s)
		return 0;
	for (; *enums; enums++)
		if (!strcmp(s, *enums))
			return 1;
	return 0;
}

static void add_reason_allowed(struct adm *a, const char *field, const char *const *enums)
{
	struct buf b = BUF_INIT(4096);
	int rc = 0;

	for (; !rc && *enums; enums++)
		rc = buf_printf(&b, "%s%s", b.len ? ", " : "", *enums);
	kerr_add_reason(a->e, "InvalidValue", field, "%s must be one of: %s", field,
			rc ? "(see GET /api/kinds)" : b.data);
	buf_free(&b);
	a->bad++;
}

static void check_field(struct adm *a, const struct field_def *f)
{
	char field[FIELD_BUF];
	json_t *v = spec_get(a->spec, f->path);

	snprintf(field, sizeof(field), "spec.%s", f->path);
	if (is_absent(v)) {
		if (f->required) {
			kerr_add_reason(a->e, "Required", field, "%s is required", field);
			a->bad++;
		}
		return;
	}
	if (!type_ok(v, f->type)) {
		kerr_add_reason(a->e, "InvalidType", field, "%s must be of type %s", field,
				kinds_type_name(f->type));
		a->bad++;
		return;
	}
	if (f->enums && json_is_string(v) && !enum_ok(v, f->enums))
		add_reason_allowed(a, field, f->enums);
}

static void check_fields(struct adm *a)
{
	static const struct field_def implied_org = { "organizationRef", FT_STRING, 0, NULL };
	const struct field_def *f;

	/* Org-scoped kinds leave organizationRef implicit; its type still matters. */
	if (a->kd->scope == SCOPE_ORG && !find_field(a->kd, "organizationRef"))
		check_field(a, &implied_org);
	for (f = a->kd->fields; f && f->path; f++)
		check_field(a, f);
}

static void reason_with_key(struct adm *a, const char *code, const char *map, const char *key,
			    const char *msg)
{
	struct buf f = BUF_INIT(1024);

	/* Without a key, or with one too long for the buffer, name the map itself. */
	if (!key || buf_printf(&f, "metadata.%s.%s", map, key))
		buf_printf(&f, "metadata.%s", map);
	kerr_add_reason(a->e, code, f.data ? f.data : map, "metadata.%s %s", map, msg);
	buf_free(&f);
	a->bad++;
}

/* labels / annotations: when present, an object of string values. */
static void check_string_map(struct adm *a, const char *map)
{
	json_t *m = json_object_get(a->meta, map);
	const char *k;
	json_t *v;

	if (json_is_null(m))
		json_object_del(a->meta, map);
	else if (m && !json_is_object(m))
		reason_with_key(a, "InvalidType", map, NULL, "must be an object of strings");
	else if (m) {
		json_object_foreach(m, k, v)
			if (!cstr(v))
				reason_with_key(a, "InvalidType", map, k, "values must be strings");
	}
}

/* metadata / spec / status: absent or null becomes {} (status is dropped);
 * anything else that is not an object is a reason. Returns the object or NULL. */
static json_t *top_object(struct adm *a, const char *key, int create)
{
	json_t *v = json_object_get(a->obj, key);

	if (!v || json_is_null(v)) {
		if (!create) {
			json_object_del(a->obj, key);
			return NULL;
		}
		return child_object(a, a->obj, key);
	}
	if (!json_is_object(v)) {
		kerr_add_reason(a->e, "InvalidType", key, "%s must be an object", key);
		a->bad++;
		return NULL;
	}
	return v;
}

static void check_name(struct adm *a)
{
	json_t *n = json_object_get(a->meta, "name");

	if (!n) {
		kerr_add_reason(a->e, "InvalidName", "metadata.name", "metadata.name is required");
		a->bad++;
	} else if (!util_dns_label(cstr(n))) {
		kerr_add_reason(a->e, "InvalidName", "metadata.name",
				"metadata.name must be a DNS-1123 label: lowercase letters, digits "
				"and '-', starting and ending with a letter or digit, at most 63 "
				"characters");
		a->bad++;
	}
}

static void check_metadata(struct adm *a)
{
	json_t *ns = json_object_get(a->meta, "namespace");

	if (json_is_null(ns))
		json_object_del(a->meta, "namespace");
	else if (ns && !cstr(ns)) {
		kerr_add_reason(a->e, "InvalidType", "metadata.namespace",
				"metadata.namespace must be a string");
		a->bad++;
	}
	check_string_map(a, "labels");
	check_string_map(a, "annotations");
}

static const char *label(const struct adm *a, const char *key)
{
	return given(json_object_get(json_object_get(a->meta, "labels"), key));
}

/* Fills o[key] when it is absent or null; "" stays, so it is reported as missing. */
static void default_str(struct adm *a, json_t *o, const char *key, const char *val)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		set_str(a, o, key, val);
}

/* An org's name is its slug: fill name/slug/displayName/namespaceName from
 * each other before required fields are checked. Runs after check_name. */
static void organization_defaults(struct adm *a)
{
	const char *name = cstr(json_object_get(a->meta, "name"));
	const char *slug = cstr(json_object_get(a->spec, "slug"));
	char ns[NS_BUF];

	if (!util_dns_label(name))
		return;
	if (slug && strcmp(slug, name)) {
		kerr_add_reason(a->e, "InvalidValue", "spec.slug",
				"spec.slug must equal metadata.name");
		a->bad++;
	}
	default_str(a, a->spec, "slug", name);
	default_str(a, a->spec, "displayName", name);
	if (!admission_org_namespace(name, ns, sizeof(ns)))
		default_str(a, a->spec, "namespaceName", ns);
}

/* The org a binding is for: route, spec, label, then its own name. */
static void binding_defaults(struct adm *a)
{
	const char *org = a->ctx && a->ctx->org && *a->ctx->org ? a->ctx->org : NULL;
	char ns[NS_BUF];

	if (!org)
		org = given(json_object_get(a->spec, "organizationRef"));
	if (!org)
		org = label(a, KRATE_LABEL_ORG);
	if (!org)
		org = given(json_object_get(a->meta, "name"));
	if (!org)
		return;
	default_str(a, a->spec, "organizationRef", org);
	default_str(a, a->meta, "name", org);
	if (!admission_org_namespace(org, ns, sizeof(ns)))
		default_str(a, a->spec, "namespace", ns);
	if (!json_object_get(a->spec, "createNamespace") &&
	    json_object_set_new(a->spec, "createNamespace", json_true()))
		a->nomem = 1;
}

struct org_source {
	const char *value;
	const char *field;
};

static int mismatch(struct adm *a, const char *field, const char *what)
{
	kerr_add_reason(a->e, "Mismatch", field, "%s does not match %s", field, what);
	return 1;
}

/* Resolves and checks the org of the object, then writes namespace, labels
 * and organizationRef. Runs only once every field is well-formed. */
static int org_scope(struct adm *a, char *home, char *org_ns)
{
	const char *name = cstr(json_object_get(a->meta, "name"));
	const char *ns = given(json_object_get(a->meta, "namespace"));
	const char *ns_label = label(a, KRATE_LABEL_NS);
	int platform = a->kd->scope == SCOPE_PLATFORM;
	int is_org = is_kind(a, "Organization"), is_binding = is_kind(a, "OrgNamespaceBinding");
	struct org_source src[3];
	char org_buf[64];
	const char *org = NULL, *org_field = NULL, *spec_ns = NULL, *spec_ns_field = NULL;
	json_t *labels;
	int i, bad = 0;

	src[0].value = a->ctx && a->ctx->org && *a->ctx->org ? a->ctx->org : NULL;
	src[0].field = is_org ? "metadata.name" : "spec.organizationRef";
	src[1].value = is_org ? name : given(json_object_get(a->spec, "organizationRef"));
	src[1].field = is_org ? "metadata.name" : "spec.organizationRef";
	src[2].value = label(a, KRATE_LABEL_ORG);
	src[2].field = LABEL_ORG_FIELD;
	for (i = 0; i < 3; i++) {
		if (!src[i].value)
			continue;
		if (!org) {
			org = src[i].value;
			org_field = src[i].field;
		} else if (strcmp(org, src[i].value)) {
			bad += mismatch(a, src[i].field, "the organization of the request");
		}
	}
	if (!org && !platform && ns && admission_namespace_org(ns)) {
		org = admission_namespace_org(ns);
		org_field = "metadata.namespace";
	}
	if (org && admission_org_namespace(org, org_ns, NS_BUF)) {
		kerr_add_reason(a->e, "InvalidValue", org_field,
				"the organization slug must be a DNS-1123 label");
		return kerr_set(a->e, KE_UNPROCESSABLE, "INVALID_RESOURCE",
				"%s has an invalid organization", a->kd->kind);
	}
	if (!org && !org_optional(a->kd)) {
		kerr_add_reason(a->e, "Required", "spec.organizationRef",
				"an organization is required: use an org route, "
				"spec.organizationRef, the " KRATE_LABEL_ORG " label or an "
				KRATE_ORG_NS_PREFIX "<org> namespace");
		return kerr_set(a->e, KE_UNPROCESSABLE, "ORG_REQUIRED",
				"%s requires an organization", a->kd->kind);
	}
	if (org) {
		/* org points into the object, whose strings the defaults below replace. */
		snprintf(org_buf, sizeof(org_buf), "%s", org);
		org = org_buf;
	} else {
		snprintf(org_ns, NS_BUF, "%s", KRATE_PLATFORM_NS);
	}
	snprintf(home, NS_BUF, "%s", platform ? KRATE_PLATFORM_NS : org_ns);

	if (ns && strcmp(ns, home))
		bad += mismatch(a, "metadata.namespace", "the namespace of the organization");
	if (ns_label && strcmp(ns_label, org_ns))
		bad += mismatch(a, LABEL_NS_FIELD, "the namespace of the organization");
	if (is_org) {
		spec_ns = given(json_object_get(a->spec, "namespaceName"));
		spec_ns_field = "spec.namespaceName";
	} else if (is_binding) {
		const char *l = given(json_object_get(json_object_get(a->spec, "labels"),
						      KRATE_LABEL_ORG));

		if (l && strcmp(l, org))
			bad += mismatch(a, "spec.labels." KRATE_LABEL_ORG, "the organization");
		spec_ns = given(json_object_get(a->spec, "namespace"));
		spec_ns_field = "spec.namespace";
	}
	if (spec_ns && strcmp(spec_ns, org_ns))
		bad += mismatch(a, spec_ns_field, "the namespace of the organization");
	if (bad)
		return kerr_set(a->e, KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH",
				"%s does not match its organization's namespace", a->kd->kind);

	set_str(a, a->meta, "namespace", home);
	labels = child_object(a, a->meta, "labels");
	if (org)
		set_str(a, labels, KRATE_LABEL_ORG, org);
	set_str(a, labels, KRATE_LABEL_NS, org_ns);
	if (org && !is_org)
		set_str(a, a->spec, "organizationRef", org);
	if (is_binding)
		set_str(a, child_object(a, a->spec, "labels"), KRATE_LABEL_ORG, org);
	return a->nomem ? kerr_set(a->e, KE_NOMEM, NULL, "out of memory") : 0;
}

static int check_kind(json_t *obj, const struct kind_def **out, struct kerr *e)
{
	json_t *kind = json_object_get(obj, "kind");
	const char *s = cstr(kind);
	const struct kind_def *k = kinds_lookup(s);

	if (!kind || json_is_null(kind)) {
		kerr_add_reason(e, "Required", "kind", "kind is required");
		return kerr_set(e, KE_UNPROCESSABLE, "UNKNOWN_KIND", "the object has no kind");
	}
	if (!k) {
		kerr_add_reason(e, "UnknownKind", "kind",
				"kind must name a Krate kind (see GET /api/kinds)");
		if (s)
			return kerr_set(e, KE_UNPROCESSABLE, "UNKNOWN_KIND",
					"unknown kind \"%.64s\"", s);
		return kerr_set(e, KE_UNPROCESSABLE, "UNKNOWN_KIND", "kind must be a string");
	}
	if (json_object_set_new(obj, "kind", json_string(k->kind)))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	*out = k;
	return 0;
}

/* Names the object in the error as "Kind/namespace/name", with the namespace
 * it has or, failing that, the one its first org source implies. */
static void set_resource(struct adm *a, const char *home)
{
	const char *ns = given(json_object_get(a->meta, "namespace"));
	const char *org = a->ctx && a->ctx->org && *a->ctx->org ? a->ctx->org : NULL;
	char org_ns[NS_BUF] = "";

	if (!ns && !*home) {
		if (a->kd->scope == SCOPE_PLATFORM)
			ns = KRATE_PLATFORM_NS;
		else {
			if (!org)
				org = given(json_object_get(a->spec, "organizationRef"));
			if (!org)
				org = label(a, KRATE_LABEL_ORG);
			if (!admission_org_namespace(org, org_ns, sizeof(org_ns)))
				ns = org_ns;
		}
	}
	kerr_set_resource(a->e, a->kd->kind, ns ? ns : home,
			  cstr(json_object_get(a->meta, "name")));
}

int admission_check(json_t *obj, const struct admission_ctx *ctx,
		    const struct kind_def **kd, struct kerr *e)
{
	struct adm a = { obj, NULL, NULL, NULL, ctx, e, 0, 0 };
	char home[NS_BUF] = "", org_ns[NS_BUF] = "";
	json_t *av;
	const char *avs;
	int rc;

	if (kd)
		*kd = NULL;
	if (!json_is_object(obj))
		return kerr_set(e, KE_INVALID, "BAD_REQUEST", "a resource must be a JSON object");
	av = json_object_get(obj, "apiVersion");
	if (av && !json_is_null(av) && !json_is_string(av))
		return kerr_set(e, KE_INVALID, "BAD_REQUEST", "apiVersion must be a string");
	rc = check_kind(obj, &a.kd, e);
	if (rc)
		return rc;

	avs = given(av);
	if (avs && strcmp(avs, KRATE_API_VERSION)) {
		kerr_add_reason(e, "InvalidValue", "apiVersion", "apiVersion must be %s",
				KRATE_API_VERSION);
		a.bad++;
	} else if (!avs) {
		set_str(&a, obj, "apiVersion", KRATE_API_VERSION);
	}
	a.meta = top_object(&a, "metadata", 1);
	a.spec = top_object(&a, "spec", 1);
	top_object(&a, "status", 0);
	if (a.meta && a.spec) {
		check_metadata(&a);
		if (is_kind(&a, "OrgNamespaceBinding"))
			binding_defaults(&a);
		if (is_kind(&a, "Organization") && !json_object_get(a.meta, "name") &&
		    given(json_object_get(a.spec, "slug")))
			set_str(&a, a.meta, "name", given(json_object_get(a.spec, "slug")));
		check_name(&a);
		if (is_kind(&a, "Organization"))
			organization_defaults(&a);
		check_fields(&a);
	}
	if (a.nomem) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	if (a.bad) {
		rc = kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE",
			      "%s is invalid: %d field(s) failed admission", a.kd->kind, a.bad);
		goto out;
	}
	rc = org_scope(&a, home, org_ns);
out:
	if (rc)
		set_resource(&a, home);
	else if (kd)
		*kd = a.kd;
	return rc;
}

int admission_org_namespace(const char *slug, char *out, size_t outsz)
{
	int n;

	if (!util_dns_label(slug))
		return KE_UNPROCESSABLE;
	n = snprintf(out, outsz, "%s%s", KRATE_ORG_NS_PREFIX, slug);
	return n < 0 || (size_t)n >= outsz ? KE_INTERNAL : 0;
}

const char *admission_namespace_org(const char *ns)
{
	size_t plen = strlen(KRATE_ORG_NS_PREFIX);

	if (!ns || strncmp(ns, KRATE_ORG_NS_PREFIX, plen) || !util_dns_label(ns + plen))
		return NULL;
	return ns + plen;
}
