/* The one declarative table of Krate resource kinds.
 *
 * It drives admission (required fields, types, enums), discovery
 * (GET /api/kinds), the CLI's name resolution, RBAC (which role may write a
 * kind) and, later, CRD generation. Entries are static and never freed. */
#ifndef KRATE_KINDS_H
#define KRATE_KINDS_H

#include <stddef.h>
#include <jansson.h>

#define KRATE_GROUP "krate.a5c.ai"
#define KRATE_VERSION "v1alpha1"
#define KRATE_API_VERSION "krate.a5c.ai/v1alpha1"
#define KRATE_PLATFORM_NS "krate-system"
#define KRATE_ORG_NS_PREFIX "krate-org-"
#define KRATE_LABEL_ORG "krate.a5c.ai/org"
#define KRATE_LABEL_NS "krate.a5c.ai/namespace"

enum kind_scope { SCOPE_PLATFORM, SCOPE_ORG };
/* config = declarative (etcd/CRD in the original); record = high-volume history (postgres). */
enum kind_storage { STORAGE_CONFIG, STORAGE_RECORD };
enum field_type { FT_STRING, FT_INT, FT_NUMBER, FT_BOOL, FT_OBJECT, FT_ARRAY, FT_STRING_OR_OBJECT, FT_ANY };
/* Least role that may create, update or delete objects of a kind. */
enum role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_DEVELOPER = 2, ROLE_ADMIN = 3 };

struct field_def {
	const char *path;           /* under spec, dotted: "visibility", "transport.type" */
	enum field_type type;
	int required;
	const char *const *enums;   /* NULL-terminated allowed string values, or NULL */
	int write_only;             /* accepted on write, never stored or returned as given (Secret data) */
};

struct kind_def {
	const char *kind;           /* "Repository" */
	const char *plural;         /* "repositories" */
	const char *const *short_names; /* NULL-terminated, may be NULL */
	enum kind_scope scope;
	enum kind_storage storage;
	const char *category;       /* "identity", "repositories", "policy", "ci", "forge", "agent-config", "agent-execution" */
	enum role write_role;
	const struct field_def *fields; /* terminated by an entry with path == NULL */
	const char *const *phases;  /* NULL-terminated documented status phases, may be NULL */
};

/* Case-insensitive lookup by kind, plural or short name; NULL if unknown. */
const struct kind_def *kinds_lookup(const char *name);
/* The whole table; *n set to its length. */
const struct kind_def *kinds_all(size_t *n);
const char *kinds_scope_name(enum kind_scope s);
const char *kinds_storage_name(enum kind_storage s);
const char *kinds_type_name(enum field_type t);
const char *kinds_role_name(enum role r);
/* "viewer" | "developer" | "admin" -> role; ROLE_NONE if unknown. */
enum role kinds_role_parse(const char *s);
/* JSON description of one kind / the whole table (GET /api/kinds); new reference. */
json_t *kinds_to_json(const struct kind_def *k);
json_t *kinds_table_json(void);

#endif
