/* Git plumbing on bare repositories, run with the git command line (never a
 * working tree): resolving refs, merge bases, mergeability with
 * `git merge-tree --write-tree`, creating merge and squash commits with
 * `commit-tree`, moving a ref atomically with `update-ref <ref> <new> <old>`,
 * and the diff and commit list of a pull request.
 *
 * Every function runs git as a child process with a clean environment (no
 * GIT_DIR from the caller, no user config: GIT_CONFIG_NOSYSTEM=1, HOME unset)
 * in the repository directory given, reads its output into capped buffers
 * and never passes user text through a shell. Ref and SHA arguments are
 * checked before use (git_ref_valid, git_sha_valid) so none can be taken for
 * an option: a "ref" argument is a full ref name or a 40-hex SHA; short names
 * like "main" are KE_INVALID. Every function resolves its refs once up front
 * and works on those commits, so a concurrent push cannot mix two states.
 *
 * Calls block while git runs (1 to 8 processes, each killed after 120 s with
 * KE_UNAVAILABLE); call them from a worker thread, not an event loop.
 * Failures of git itself are KE_IO with a short message (git's stderr goes
 * to the log only, since it can name server paths).
 *
 * Ownership: everything passed in is borrowed; JSON and strings returned
 * through out-parameters belong to the caller. */
#ifndef KRATE_GIT_H
#define KRATE_GIT_H

#include <stddef.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"

#define GIT_SHA_HEX 40
#define GIT_PATCH_MAX (1024 * 1024)   /* unified diff text cap (cut at a file boundary) */
#define GIT_COMMITS_MAX 250           /* commits listed for a range */

struct git_repo {
	const char *git;      /* the git executable (absolute path) */
	const char *dir;      /* the bare repository directory */
};

struct git_ident {
	const char *name;     /* e.g. the user name */
	const char *email;    /* e.g. "<user>@users.krate.local" */
};

/* 1 if ref is a full ref name git would accept (refs/heads/x, refs/tags/y):
 * starts with "refs/", `git check-ref-format` rules, valid UTF-8, at most
 * 1024 bytes. */
int git_ref_valid(const char *ref);
/* 1 if s is exactly 40 lowercase hex digits. */
int git_sha_valid(const char *s);

/* Resolves a full ref (or a SHA) to its commit SHA (41 bytes with NUL).
 * KE_NOTFOUND when it does not exist or is not a commit. */
int git_resolve(const struct git_repo *r, const char *ref, char sha[GIT_SHA_HEX + 1], struct kerr *e);
/* The merge base of two commits; KE_NOTFOUND when they share no history. */
int git_merge_base(const struct git_repo *r, const char *a, const char *b, char sha[GIT_SHA_HEX + 1],
		   struct kerr *e);
/* 1 if ancestor is an ancestor of (or equal to) descendant, 0 if not, <0 on error. */
int git_is_ancestor(const struct git_repo *r, const char *ancestor, const char *descendant, struct kerr *e);

struct git_merge_result {
	int clean;            /* 1: merges without conflicts */
	char tree[GIT_SHA_HEX + 1];   /* the merged tree (valid when clean) */
	json_t *conflicts;    /* array of conflicting paths (strings), sorted, unique; caller decrefs */
};
/* `git merge-tree --write-tree --name-only --no-messages base head`: whether
 * head merges cleanly into base. Writes only unreachable objects. On success
 * out->conflicts is always an array (empty when clean) and out->tree is ""
 * unless clean; on error out->conflicts is NULL. KE_NOTFOUND for an unknown
 * ref, KE_UNPROCESSABLE when the two share no history. */
int git_merge_check(const struct git_repo *r, const char *base, const char *head, struct git_merge_result *out,
		    struct kerr *e);

enum git_merge_strategy { GIT_MERGE_COMMIT, GIT_MERGE_SQUASH, GIT_MERGE_FAST_FORWARD };

/* Creates the commit a merge of head into base produces (no ref moves):
 *   GIT_MERGE_COMMIT        tree of the merge, parents base and head
 *   GIT_MERGE_SQUASH        tree of the merge, parent base only
 *   GIT_MERGE_FAST_FORWARD  head itself; KE_CONFLICT unless base is an ancestor of head
 * Conflicts → KE_CONFLICT with the paths in e's message (the first 20).
 * author is also the committer, dated now; name and email must be non-empty
 * UTF-8 without '<', '>' or control bytes (else KE_INVALID). message is the
 * full commit message, stored as given plus a final newline if missing. */
int git_merge_commit(const struct git_repo *r, enum git_merge_strategy s, const char *base, const char *head,
		     const struct git_ident *author, const char *message, char sha[GIT_SHA_HEX + 1],
		     struct kerr *e);
/* Moves ref from old_sha to new_sha atomically (`update-ref ref new old`);
 * old_sha all zeros means the ref must not exist yet. KE_CONFLICT when ref no
 * longer points at old_sha or another update holds its lock. */
int git_update_ref(const struct git_repo *r, const char *ref, const char *new_sha, const char *old_sha,
		   struct kerr *e);

struct git_file {
	const char *path;     /* repository-relative, no "..", no leading '/' */
	const char *content;  /* NUL-terminated text */
};
/* Creates a commit (no ref moves) whose tree is parent's (or empty) with
 * files added or replaced, authored and committed by who at when (unix s).
 * For content the server itself writes, such as the demo repository. */
int git_commit_files(const struct git_repo *r, const char *parent, const struct git_file *files, size_t n,
		     const struct git_ident *who, const char *message, long long when, char sha[GIT_SHA_HEX + 1],
		     struct kerr *e);

/* The bytes of path (repository-relative, no "." or ".." components) at
 * commit (a 40-hex SHA) into out, which this call initialises with cap max
 * (the caller frees it). More than max bytes: the first max and *truncated
 * set. KE_NOTFOUND when path is not a file at that commit, KE_INVALID for a
 * bad commit or path. */
int git_read_file(const struct git_repo *r, const char *commit, const char *path, size_t max, struct buf *out,
		  int *truncated, struct kerr *e);

/* The pull request view of base...head: the diff of the merge base against
 * head. *out = {"mergeBase", "baseSha", "headSha" (what base and head
 * resolved to), "files":[{path, oldPath|null, status:
 * added|modified|deleted|renamed, additions, deletions}], "patch", "truncated",
 * "commits":[{sha, message (subject line), author (name), time (author time,
 * unix s)}]} with commits oldest first (at most GIT_COMMITS_MAX). Binary
 * files count 0 lines; bytes that are not UTF-8 become '?'. "truncated" is
 * true when the patch was cut before GIT_PATCH_MAX (whole files only) or the
 * file list was too long to count. KE_UNPROCESSABLE when base and head share
 * no history. */
int git_compare(const struct git_repo *r, const char *base, const char *head, json_t **out, struct kerr *e);

#endif
