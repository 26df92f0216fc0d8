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

/* Makes a temporary work directory for the git client (into work, size >= 64)
 * and points git at it: HOME there, no system config, no prompts, a fixed
 * author and committer. Returns 0 or -1. */
int harness_git_workdir(char *work, size_t size, const char *tag);
/* Removes the work directory; 0 or -1. */
int harness_git_workdir_remove(const char *work);

/* Fixtures for cmocka_run_group_tests(tests, harness_group_setup,
 * harness_group_teardown), set by harness_group before: the setup makes the
 * git client's work directory when work is not NULL (harness_git_workdir
 * with tag, into work of size), then starts s with extra (harness_start);
 * the teardown removes the directory and stops s (harness_stop). */
void harness_group(struct krate_server *s, const char *extra, char *work, size_t size, const char *tag);
int harness_group_setup(void **state);
int harness_group_teardown(void **state);

/* ---- requests that assert (they fail the running test) ---- */

/* method path as token with body (JSON, may be NULL): fails unless the
 * server answers with status want; the response stays in *r. */
void harness_call(const struct krate_server *s, const char *method, const char *path, const char *token,
		  const char *body, long want, struct http_resp *r);
/* The same, returning the answer's JSON (new ref); an answer that is not
 * JSON fails. */
json_t *harness_call_json(const struct krate_server *s, const char *method, const char *path, const char *token,
			  const char *body, long want);
/* Creates the org with the admin token (201). */
void harness_make_org(const struct krate_server *s, const char *org);
/* Applies one resource (JSON) to org with the admin token; fails unless it
 * is created or updated (201 or 200). */
void harness_apply(const struct krate_server *s, const char *org, const char *json);
/* Waits up to 10 s until Repository name of org is Ready. */
void harness_wait_repo_ready(const struct krate_server *s, const char *org, const char *name);
/* Applies a private Repository name with default branch main to org and
 * waits until it is Ready; spec_extra adds spec fields (e.g.
 * ",\"description\":\"x\"", or ""). */
void harness_make_repo(const struct krate_server *s, const char *org, const char *name, const char *spec_extra);

/* ---- the console ---- */

/* "name=value" of the response's Set-Cookie header for cookie name (up to
 * ';'), malloc'd, or NULL. */
char *harness_cookie(const struct http_resp *r, const char *name);
/* The value of the first hidden csrf input of html after marker (NULL: from
 * the start), malloc'd, or NULL. */
char *harness_form_csrf(const char *html, const char *marker);
/* The demo user and password from DIR/demo-credentials (a --demo server). */
void harness_demo_credentials(const struct krate_server *s, char *user, size_t user_size, char *pass,
			      size_t pass_size);
/* Signs user in through the login form (its CSRF cookie and token, a POST
 * answered with 303) and writes "Cookie: krate_session=..." into cookie.
 * password is form-encoded as given. */
void harness_sign_in(const struct krate_server *s, const char *user, const char *password, char *cookie,
		     size_t size);
/* GET path with the header cookie ("Cookie: ..."); fails unless the answer
 * is want; the response stays in *r. */
void harness_page(const struct krate_server *s, const char *cookie, const char *path, long want,
		  struct http_resp *r);
/* POST of form (URL-encoded fields) to path with the header cookie; fails
 * unless the answer is want; the response stays in *r. */
void harness_post_form(const struct krate_server *s, const char *cookie, const char *path, const char *form,
		       long want, struct http_resp *r);

/* ---- server-sent events, over a plain socket so that every byte is seen as it comes ---- */

struct harness_sse {
	int fd;
	char *data;             /* all read so far, NUL-terminated (malloc'd), or NULL */
	size_t len;
};

/* Opens GET path as token with Accept: text/event-stream, and Last-Event-ID
 * when last_event_id is not NULL; fails the test when it cannot connect. */
void harness_sse_open(const struct krate_server *s, struct harness_sse *e, const char *path, const char *token,
		      const char *last_event_id);
/* Reads until needle appears (1) or timeout_ms passes or the stream ends (0 unless seen). */
int harness_sse_wait(struct harness_sse *e, const char *needle, int timeout_ms);
void harness_sse_close(struct harness_sse *e);

/* ---- shell command lines (printf-style), run in dir ---- */

/* Its output appended to dir/cmd.log; returns the exit code, or -1. */
int harness_sh(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* harness_sh, failing the test unless the command line exits with 0. */
void harness_sh_ok(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The whole stdout, trailing newlines removed (malloc'd); stderr goes to
 * dir/cmd.log. A command line that cannot be started fails the test. */
char *harness_sh_out(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Its stdout and stderr are kept for harness_output until the next call. A
 * sanitizer report in them fails the test: the git hooks are the server's
 * binary, and a sanitizer build reports through git. Returns the exit code,
 * or -1. */
int harness_run(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The output of the last harness_run ("" before the first). */
const char *harness_output(void);
/* Fails the test unless the output of the last harness_run holds needle. */
void harness_expect_output(const char *needle);

/* Fail the test unless text holds (lacks) needle. */
void harness_expect_in(const char *text, const char *needle);
void harness_expect_not_in(const char *text, const char *needle);

/* Path of the krate binary under test. */
const char *harness_bin(void);

#endif
