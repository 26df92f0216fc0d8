/* The push-rule decision for one ref update: pure, so it is unit-tested with
 * the ancestry check injected. */
#include "forge/hooks.h"

#include <stdio.h>
#include <string.h>

int forge_ref_matches(const char *pattern, const char *ref)
{
	size_t n;

	if (!pattern || !ref || !*pattern)
		return 0;
	n = strlen(pattern);
	if (pattern[n - 1] == '*')
		return !strncmp(pattern, ref, n - 1);
	return !strcmp(pattern, ref);
}

int forge_sha_zero(const char *sha)
{
	if (!sha || !*sha)
		return 0;
	for (; *sha; sha++)
		if (*sha != '0')
			return 0;
	return 1;
}

static const char *obj_name(const json_t *obj)
{
	const char *n = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

	return n ? n : "(unnamed)";
}

/* A deny prefix of a RefPolicy that covers ref, or NULL. */
static const json_t *denied_by(const json_t *policy, const char *ref)
{
	const json_t *rp, *p;
	size_t i, k;

	json_array_foreach(json_object_get(policy, "RefPolicy"), i, rp) {
		json_array_foreach(json_object_get(json_object_get(rp, "spec"), "deny"), k, p) {
			const char *prefix = json_string_value(p);

			if (prefix && *prefix && !strncmp(ref, prefix, strlen(prefix)))
				return rp;
		}
	}
	return NULL;
}

static int protected_by(const json_t *bp, const char *ref)
{
	const json_t *p;
	size_t k;

	json_array_foreach(json_object_get(json_object_get(bp, "spec"), "refs"), k, p)
		if (forge_ref_matches(json_string_value(p), ref))
			return 1;
	return 0;
}

int forge_rules_check(const json_t *policy, const char *old_sha, const char *new_sha, const char *ref,
		      int admin, forge_ancestor_fn ancestor, void *arg, char *msg, size_t size)
{
	const json_t *rp, *bp, *rpr;
	size_t i;
	int created = forge_sha_zero(old_sha), deleted = forge_sha_zero(new_sha), a;

	msg[0] = '\0';
	if ((rp = denied_by(policy, ref))) {
		snprintf(msg, size, "ref %s is denied by RefPolicy %s", ref, obj_name(rp));
		return 1;
	}
	json_array_foreach(json_object_get(policy, "BranchProtection"), i, bp) {
		if (!protected_by(bp, ref))
			continue;
		if (deleted) {
			snprintf(msg, size, "deleting %s is not allowed (BranchProtection %s)", ref, obj_name(bp));
			return 1;
		}
		if (!created) {
			a = ancestor ? ancestor(old_sha, new_sha, arg) : -1;
			if (a < 0) {
				snprintf(msg, size, "cannot check the history of %s (BranchProtection %s)", ref,
					 obj_name(bp));
				return 1;
			}
			if (!a) {
				snprintf(msg, size, "force-pushing to %s is not allowed (BranchProtection %s)", ref,
					 obj_name(bp));
				return 1;
			}
		}
		rpr = json_object_get(json_object_get(bp, "spec"), "requirePullRequest");
		if (!admin && (!rpr || !json_is_false(rpr))) {
			snprintf(msg, size, "direct pushes to %s are not allowed (BranchProtection %s): open a pull request",
				 ref, obj_name(bp));
			return 1;
		}
	}
	return 0;
}
