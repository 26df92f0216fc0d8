/* Internals of src/git: running git and turning its output into C and JSON.
 *
 * Ownership: struct git_io borrows everything it points at; the caller owns
 * the out and err buffers and frees them. */
#ifndef KRATE_GIT_INTERNAL_H
#define KRATE_GIT_INTERNAL_H

#include "git/git.h"

#define GIT_ERR_MAX 4096              /* stderr kept for the log; the rest is dropped */
#define GIT_OUT_MAX (4 * 1024 * 1024) /* stdout cap for plumbing output */
#define GIT_ARGS_MAX 32               /* arguments after `git -C dir` */
#define GIT_ENV_MAX 16                /* entries of git_io.env */

struct git_io {
	const char *const *env; /* extra NAME=value entries, NULL-terminated, or NULL */
	const char *in;         /* bytes for stdin, or NULL for /dev/null */
	size_t in_len;
	struct buf *out;        /* stdout up to out->max bytes, or NULL to discard it */
	struct buf *err;        /* stderr up to err->max bytes (the rest is dropped), or NULL */
	int status;             /* set: exit status, -1 when git died from a signal */
	int truncated;          /* set: stdout went past out->max, so git was killed */
};

/* Runs `git -C <dir> <args...>` (args NULL-terminated) with a clean
 * environment plus io->env, feeding io->in and collecting stdout and stderr.
 * Returns 0 once git has run, whatever its exit status (see io->status); <0
 * when it could not be started, its pipes failed or it ran past the time
 * limit. */
int git_run(const struct git_repo *r, const char *const args[], struct git_io *io, struct kerr *e);
/* Logs git's stderr and sets e to kcode with a message naming the
 * subcommand and exit status (not git's text: it may name server paths).
 * Returns kcode. */
int git_fail(struct kerr *e, int kcode, const char *what, const struct git_io *io);

/* 1 if s holds a 40-hex SHA followed by end, '\n' or '\0'; copies it to sha. */
int git_parse_sha(const char *s, size_t n, char sha[GIT_SHA_HEX + 1]);
/* 1 if s is a full ref (git_ref_valid) or a SHA (git_sha_valid). */
int git_rev_valid(const char *s);
/* A JSON string of s[0..n); bytes that are not UTF-8 (old commits, odd file
 * names) become '?' rather than failing. New reference, NULL on OOM. */
json_t *git_json_text(const char *s, size_t n);

#endif
