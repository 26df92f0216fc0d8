/* Push rules enforced at receive time.
 *
 * Every bare repository gets hooks/pre-receive, a two-line sh script that
 * execs `krate git-hook pre-receive` (the running binary's absolute path).
 * For a receive-pack POST, githttp.c writes the org's RefPolicy and
 * BranchProtection objects that apply to the repository to a 0600 file under
 * DATA/tmp (removed when the request ends) and passes its path and the pusher
 * to git http-backend in the environment, which git hands to the hook:
 *   KRATE_PUSH_POLICY  the policy file: {"RefPolicy":[obj...],"BranchProtection":[obj...]}
 *   KRATE_PUSH_USER, KRATE_PUSH_ROLE (viewer|developer|admin), KRATE_PUSH_ORG, KRATE_PUSH_REPO
 *   KRATE_PUSH_GIT     the git executable (for the ancestry check)
 *   KRATE_PUSH_VERDICT a path the hook creates when it refuses, so the server
 *                      audits git.push denied:POLICY
 * The hook reads "<old> <new> <ref>" lines and rejects the whole push (exit 1)
 * with the reason on stderr, which git shows as "remote: ...".
 *
 * hooks/post-receive execs `krate git-hook post-receive`, which appends the
 * lines of the refs git did update ("<old> <new> <ref>\n", checked) to
 *   KRATE_PUSH_UPDATES a 0600 file githttp.c creates per push and reads when
 *                      git http-backend ends, to record the push (api_record_push)
 * and never fails the push. */
#ifndef KRATE_FORGE_HOOKS_H
#define KRATE_FORGE_HOOKS_H

#include <stddef.h>
#include <jansson.h>

/* 1 if ref matches pattern: an exact ref name, or a prefix ending in "*". */
int forge_ref_matches(const char *pattern, const char *ref);
/* 1 for an all-zero object name (a ref created or deleted). */
int forge_sha_zero(const char *sha);

/* 1 if old is an ancestor of new, 0 if not, -1 if it cannot be told. */
typedef int (*forge_ancestor_fn)(const char *old_sha, const char *new_sha, void *arg);

/* Decides one ref update against policy (the policy file's document, borrowed).
 * admin: the pusher has the admin role. Returns 0 (allowed) or 1 (rejected,
 * with the reason in msg). Fails closed: an undecidable ancestry rejects. */
int forge_rules_check(const json_t *policy, const char *old_sha, const char *new_sha, const char *ref,
		      int admin, forge_ancestor_fn ancestor, void *arg, char *msg, size_t size);

/* Writes hooks/pre-receive and hooks/post-receive into the bare repository
 * at repo_path, execing self_exe (an absolute path without quotes). 0 or -1. */
int forge_hook_install(const char *self_exe, const char *repo_path);

/* `krate git-hook pre-receive|post-receive`: argv[0] is "git-hook". Exit status. */
int forge_hook_main(int argc, char **argv);

#endif
