/* Integration-test harness: runs the real `krate serve` on 127.0.0.1 with an
 * ephemeral port and a temporary data directory, and talks to it over HTTP
 * (libcurl) and through the CLI (the same binary). */
#ifndef KRATE_HARNESS_H
#define KRATE_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <sys/types.h>

struct krate_server {
	pid_t pid;
	char dir[256];          /* data directory (removed by harness_stop unless keep_dir) */
	int port;
	char base[64];          /* "http://127.0.0.1:PORT" */
	char admin_token[128];  /* read from DIR/admin.token */
	int keep_dir;
};

/* Starts `krate serve --listen 127.0.0.1:0 --data <tmpdir> [extra args]` and waits
 * until /healthz answers. extra may be NULL or e.g. "--demo". Returns 0 or -1. */
int harness_start(struct krate_server *s, const char *extra);
/* Starts again on the same data directory (after harness_kill). */
int harness_restart(struct krate_server *s, const char *extra);
/* Sends sig (e.g. SIGKILL) and reaps the process; the directory stays. */
void harness_kill(struct krate_server *s, int sig);
/* SIGTERM, wait, remove the directory. Returns 0 when the server exited
 * cleanly (status 0, so no sanitizer report), else -1 and keeps the directory. */
int harness_stop(struct krate_server *s);

struct http_resp {
	long status;
	char *body;             /* NUL-terminated */
	size_t len;
	json_t *json;           /* parsed body or NULL */
	char *headers;          /* raw response headers */
};

/* token NULL = no Authorization header; body NULL = no body. */
int http_call(const struct krate_server *s, const char *method, const char *path,
	      const char *token, const char *body, const char *content_type,
	      struct http_resp *out);
/* The same with extra request headers (NULL-terminated "Name: value" list, may be NULL). */
int http_call_hdr(const struct krate_server *s, const char *method, const char *path, const char *token,
		  const char *const *headers, const char *body, const char *content_type, struct http_resp *out);
/* Value of response header name (case-insensitive) as malloc'd string, or NULL. */
char *http_header(const struct http_resp *r, const char *name);
void http_resp_free(struct http_resp *r);

/* Runs `krate <args>` (args split on spaces; no quoting) with KRATE_SERVER and
 * KRATE_TOKEN set for s and token, feeding stdin_text (may be NULL).
 * *out gets stdout+stderr (malloc'd); returns the exit code, or -1. */
int harness_cli(const struct krate_server *s, const char *token, const char *args,
		const char *stdin_text, char **out);
/* The same with the arguments as a NULL-terminated array, passed as they are
 * (so they may hold spaces); at most 62 are used. */
int harness_cli_argv(const struct krate_server *s, const char *token, const char *const *args,
		     const char *stdin_text, char **out);

/* Creates a token through POST /api/tokens with the admin token; returns malloc'd secret. */
char *harness_token(const struct krate_server *s, const char *user, const char *org, const char *role);

/* Runs a shell command line (printf-style) in dir, its output appended to
 * dir/cmd.log; returns the exit code, or -1. */
/* Makes a temporary work directory for the git client (into work, size >= 64)
 * and points git at it: HOME there, no system config, no prompts, a fixed
 * author and committer. Returns 0 or -1. */
int harness_git_workdir(char *work, size_t size, const char *tag);
/* Removes the work directory; 0 or -1. */
int harness_git_workdir_remove(const char *work);
int harness_sh(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The whole stdout of a shell command line run in dir, trailing newlines
 * removed (malloc'd), or NULL; stderr goes to dir/cmd.log. */
char *harness_sh_out(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Path of the krate binary under test. */
const char *harness_bin(void);

#endif
