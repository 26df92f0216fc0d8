#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *harness_bin(void)
{
	const char *env = getenv("KRATE_BIN");

	return env && *env ? env : KRATE_BIN;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* What harness_group set for the group fixtures. */
static struct {
	struct krate_server *s;
	const char *extra;
	char *work;
	size_t size;
	const char *tag;
} group;

static int read_small_file(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(out, 1, size - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return n ? 0 : -1;
}

static int spawn(struct krate_server *s, const char *extra)
{
	char *argv[16];
	char *extra_copy = extra ? strdup(extra) : NULL, *save = NULL, *tok;
	char logpath[300];
	int argc = 0, fd;
	pid_t pid;

	argv[argc++] = (char *)harness_bin();
	argv[argc++] = "serve";
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--data";
	argv[argc++] = s->dir;
	for (tok = extra_copy ? strtok_r(extra_copy, " ", &save) : NULL; tok && argc < 15;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	snprintf(logpath, sizeof(logpath), "%s/server.log", s->dir);
	pid = fork();
	if (pid < 0) {
		free(extra_copy);
		return -1;
	}
	if (pid == 0) {
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	free(extra_copy);
	s->pid = pid;
	return 0;
}

static int wait_ready(struct krate_server *s)
{
	char path[300], buf[32];
	int i, status;

	snprintf(path, sizeof(path), "%s/krate.port", s->dir);
	for (i = 0; i < 600; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			fprintf(stderr, "harness: krate serve exited early (see %s/server.log)\n", s->dir);
			s->pid = 0;
			return -1;
		}
		if (read_small_file(path, buf, sizeof(buf)) == 0) {
			struct http_resp r;

			s->port = atoi(buf);
			snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
			if (http_call(s, "GET", "/healthz", NULL, NULL, NULL, &r) == 0 && r.status == 200) {
				http_resp_free(&r);
				snprintf(path, sizeof(path), "%s/admin.token", s->dir);
				return read_small_file(path, s->admin_token, sizeof(s->admin_token));
			}
			http_resp_free(&r);
		}
		sleep_ms(50);
	}
	fprintf(stderr, "harness: krate serve did not become ready\n");
	return -1;
}

int harness_start(struct krate_server *s, const char *extra)
{
	const char *tmp = getenv("TMPDIR");

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/krate-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir))
		return -1;
	if (spawn(s, extra))
		return -1;
	return wait_ready(s);
}

int harness_restart(struct krate_server *s, const char *extra)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/krate.port", s->dir);
	unlink(path);
	if (spawn(s, extra))
		return -1;
	return wait_ready(s);
}

void harness_kill(struct krate_server *s, int sig)
{
	int status;

	if (s->pid <= 0)
		return;
	kill(s->pid, sig);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

static void remove_tree(const char *dir)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
}

static void dump_log(const struct krate_server *s)
{
	char path[300], buf[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/server.log", s->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

int harness_stop(struct krate_server *s)
{
	int status = 0, i, rc = 0;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		for (i = 0; i < 200; i++) {
			if (waitpid(s->pid, &status, WNOHANG) == s->pid)
				break;
			sleep_ms(50);
		}
		if (i == 200) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			fprintf(stderr, "harness: krate serve did not stop on SIGTERM\n");
			rc = -1;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			/* sanitizer reports (leaks, UB) end the server with a non-zero status */
			fprintf(stderr, "harness: krate serve exited with status %d; its log:\n", status);
			dump_log(s);
			rc = -1;
		}
		s->pid = 0;
	}
	if (!s->keep_dir && s->dir[0] && rc == 0)
		remove_tree(s->dir);
	return rc;
}

struct grow {
	char *p;
	size_t n;
};

static size_t grow_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct grow *g = arg;
	size_t n = size * nmemb;
	char *np = realloc(g->p, g->n + n + 1);

	if (!np)
		return 0;
	memcpy(np + g->n, data, n);
	g->n += n;
	np[g->n] = '\0';
	g->p = np;
	return n;
}

int http_call(const struct krate_server *s, const char *method, const char *path, const char *token,
	      const char *body, const char *content_type, struct http_resp *out)
{
	return http_call_hdr(s, method, path, token, NULL, body, content_type, out);
}

int http_call_hdr(const struct krate_server *s, const char *method, const char *path, const char *token,
		  const char *const *headers, const char *body, const char *content_type, struct http_resp *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct grow b = { 0 }, hd = { 0 };
	char url[2048], line[512];
	CURLcode cc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return -1;
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grow_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, grow_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (token) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (body) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type ? content_type : "application/json");
		h = curl_slist_append(h, line);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	for (; headers && *headers; headers++)
		h = curl_slist_append(h, *headers);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	out->body = b.p ? b.p : strdup("");
	out->len = b.n;
	out->headers = hd.p ? hd.p : strdup("");
	out->json = json_loadb(out->body, out->len, 0, NULL);
	return cc == CURLE_OK ? 0 : -1;
}

char *http_header(const struct http_resp *r, const char *name)
{
	size_t n = strlen(name);
	const char *p = r->headers;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");

		if (!eol)
			eol = p + strlen(p);
		if ((size_t)(eol - p) > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			return strndup(v, (size_t)(eol - v));
		}
		p = *eol ? eol + 2 : eol;
	}
	return NULL;
}

void http_resp_free(struct http_resp *r)
{
	free(r->body);
	free(r->headers);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/* Runs the krate binary with argv (argv[0] is replaced by the binary, the
 * array ends with NULL). */
static int run_cli(const struct krate_server *s, const char *token, char **argv, const char *stdin_text,
		   char **out)
{
	int in_pipe[2], out_pipe[2], status;
	struct grow g = { 0 };
	char buf[4096];
	ssize_t n;
	pid_t pid;

	*out = NULL;
	if (pipe(in_pipe) || pipe(out_pipe))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(in_pipe[0], 0);
		dup2(out_pipe[1], 1);
		dup2(out_pipe[1], 2);
		close(in_pipe[1]);
		close(out_pipe[0]);
		setenv("KRATE_SERVER", s->base, 1);
		if (token)
			setenv("KRATE_TOKEN", token, 1);
		else
			unsetenv("KRATE_TOKEN");
		setenv("KRATE_CONFIG", "/nonexistent/krate-test-config", 1);
		argv[0] = (char *)harness_bin();
		execv(argv[0], argv);
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	if (stdin_text) {
		size_t len = strlen(stdin_text), off = 0;

		signal(SIGPIPE, SIG_IGN);
		while (off < len) {
			n = write(in_pipe[1], stdin_text + off, len - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	close(in_pipe[1]);
	while ((n = read(out_pipe[0], buf, sizeof(buf))) > 0)
		grow_cb(buf, 1, (size_t)n, &g);
	close(out_pipe[0]);
	waitpid(pid, &status, 0);
	*out = g.p ? g.p : strdup("");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int harness_cli(const struct krate_server *s, const char *token, const char *args, const char *stdin_text,
		char **out)
{
	char *argv[64], *copy = strdup(args), *save = NULL, *tok;
	int argc = 1, rc;

	*out = NULL;
	if (!copy)
		return -1;
	for (tok = strtok_r(copy, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	rc = run_cli(s, token, argv, stdin_text, out);
	free(copy);
	return rc;
}

int harness_cli_argv(const struct krate_server *s, const char *token, const char *const *args,
		     const char *stdin_text, char **out)
{
	char *argv[64];
	int argc = 1;

	*out = NULL;
	for (; args && *args && argc < 63; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return run_cli(s, token, argv, stdin_text, out);
}

char *harness_token(const struct krate_server *s, const char *user, const char *org, const char *role)
{
	struct http_resp r;
	char body[512];
	char *tok = NULL;

	if (org)
		snprintf(body, sizeof(body), "{\"user\":\"%s\",\"org\":\"%s\",\"role\":\"%s\"}", user, org, role);
	else
		snprintf(body, sizeof(body), "{\"user\":\"%s\",\"role\":\"%s\"}", user, role);
	if (http_call(s, "POST", "/api/tokens", s->admin_token, body, NULL, &r) == 0 && r.status == 201)
		tok = strdup(json_string_value(json_object_get(r.json, "token")));
	http_resp_free(&r);
	return tok;
}

int harness_git_workdir(char *work, size_t size, const char *tag)
{
	snprintf(work, size, "/tmp/krate-%s-XXXXXX", tag);
	if (!mkdtemp(work))
		return -1;
	setenv("HOME", work, 1);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Tess", 1);
	setenv("GIT_AUTHOR_EMAIL", "tess@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Tess", 1);
	setenv("GIT_COMMITTER_EMAIL", "tess@example.com", 1);
	return 0;
}

int harness_git_workdir_remove(const char *work)
{
	remove_tree(work);
	return access(work, F_OK) == 0 ? -1 : 0;
}

void harness_group(struct krate_server *s, const char *extra, char *work, size_t size, const char *tag)
{
	group.s = s;
	group.extra = extra;
	group.work = work;
	group.size = size;
	group.tag = tag;
}

int harness_group_setup(void **state)
{
	(void)state;
	if (group.work && harness_git_workdir(group.work, group.size, group.tag))
		return -1;
	return harness_start(group.s, group.extra);
}

int harness_group_teardown(void **state)
{
	int rc = 0;

	(void)state;
	if (group.work && harness_git_workdir_remove(group.work))
		rc = -1;
	return harness_stop(group.s) ? -1 : rc;
}

void harness_call(const struct krate_server *s, const char *method, const char *path, const char *token,
		  const char *body, long want, struct http_resp *r)
{
	assert_int_equal(http_call(s, method, path, token, body, NULL, r), 0);
	if (r->status != want)
		fail_msg("%s %s: expected %ld, got %ld: %s", method, path, want, r->status, r->body);
}

json_t *harness_call_json(const struct krate_server *s, const char *method, const char *path, const char *token,
			  const char *body, long want)
{
	struct http_resp r;
	json_t *j;

	harness_call(s, method, path, token, body, want, &r);
	j = json_incref(r.json);
	http_resp_free(&r);
	assert_non_null(j);
	return j;
}

void harness_make_org(const struct krate_server *s, const char *org)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", org);
	json_decref(harness_call_json(s, "POST", "/api/orgs", s->admin_token, body, 201));
}

void harness_apply(const struct krate_server *s, const char *org, const char *json)
{
	struct http_resp r;
	char path[256];

	snprintf(path, sizeof(path), "/api/orgs/%s/resources", org);
	assert_int_equal(http_call(s, "POST", path, s->admin_token, json, NULL, &r), 0);
	if (r.status != 201 && r.status != 200)
		fail_msg("apply to %s failed (%ld): %s", org, r.status, r.body);
	http_resp_free(&r);
}

void harness_wait_repo_ready(const struct krate_server *s, const char *org, const char *name)
{
	struct http_resp r;
	char path[256];
	int i, ready;

	snprintf(path, sizeof(path), "/api/orgs/%s/resources/Repository/%s", org, name);
	for (i = 0; i < 400; i++) {
		const char *phase;

		harness_call(s, "GET", path, s->admin_token, NULL, 200, &r);
		phase = json_string_value(json_object_get(json_object_get(r.json, "status"), "phase"));
		ready = phase && !strcmp(phase, "Ready");
		http_resp_free(&r);
		if (ready)
			return;
		sleep_ms(25);
	}
	fail_msg("repository %s/%s never became Ready", org, name);
}

void harness_make_repo(const struct krate_server *s, const char *org, const char *name, const char *spec_extra)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"%s\"},"
		 "\"spec\":{\"visibility\":\"private\",\"defaultBranch\":\"main\"%s}}",
		 name, spec_extra);
	harness_apply(s, org, body);
	harness_wait_repo_ready(s, org, name);
}

char *harness_cookie(const struct http_resp *r, const char *name)
{
	const char *p = r->headers;
	size_t n = strlen(name);

	while ((p = strcasestr(p, "Set-Cookie:"))) {
		p += 11;
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, n) && p[n] == '=')
			return strndup(p, strcspn(p, ";\r\n"));
	}
	return NULL;
}

char *harness_form_csrf(const char *html, const char *marker)
{
	static const char input[] = "name=\"csrf\" value=\"";
	const char *p = marker ? strstr(html, marker) : html;

	p = p ? strstr(p, input) : NULL;
	if (!p)
		return NULL;
	p += strlen(input);
	return strndup(p, strcspn(p, "\""));
}

void harness_demo_credentials(const struct krate_server *s, char *user, size_t user_size, char *pass,
			      size_t pass_size)
{
	char path[300], line[512], u[256], pw[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/demo-credentials", s->dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(sscanf(line, "%255s %255s", u, pw), 2);
	snprintf(user, user_size, "%s", u);
	snprintf(pass, pass_size, "%s", pw);
}

void harness_sign_in(const struct krate_server *s, const char *user, const char *password, char *cookie,
		     size_t size)
{
	struct http_resp r;
	char body[1024], login_cookie[512];
	char *pair, *csrf, *session;

	assert_int_equal(http_call(s, "GET", "/login", NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	pair = harness_cookie(&r, "krate_login_csrf");
	csrf = harness_form_csrf(r.body, NULL);
	assert_non_null(pair);
	assert_non_null(csrf);
	http_resp_free(&r);
	snprintf(login_cookie, sizeof(login_cookie), "Cookie: %s", pair);
	snprintf(body, sizeof(body), "username=%s&password=%s&csrf=%s", user, password, csrf);
	harness_post_form(s, login_cookie, "/login", body, 303, &r);
	session = harness_cookie(&r, "krate_session");
	assert_non_null(session);
	http_resp_free(&r);
	snprintf(cookie, size, "Cookie: %s", session);
	free(session);
	free(pair);
	free(csrf);
}

void harness_page(const struct krate_server *s, const char *cookie, const char *path, long want,
		  struct http_resp *r)
{
	const char *hdrs[2] = { cookie, NULL };

	assert_int_equal(http_call_hdr(s, "GET", path, NULL, hdrs, NULL, NULL, r), 0);
	if (r->status != want)
		fail_msg("GET %s: expected %ld, got %ld:\n%.2000s", path, want, r->status, r->body);
}

void harness_post_form(const struct krate_server *s, const char *cookie, const char *path, const char *form,
		       long want, struct http_resp *r)
{
	const char *hdrs[2] = { cookie, NULL };

	assert_int_equal(http_call_hdr(s, "POST", path, NULL, hdrs, form, "application/x-www-form-urlencoded", r), 0);
	if (r->status != want)
		fail_msg("POST %s: expected %ld, got %ld:\n%.2000s", path, want, r->status, r->body);
}

void harness_sse_open(const struct krate_server *s, struct harness_sse *e, const char *path, const char *token,
		      const char *last_event_id)
{
	struct sockaddr_in a = { 0 };
	char req[1024];
	int n;

	memset(e, 0, sizeof(*e));
	e->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(e->fd >= 0);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)s->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(e->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n%s%s%s\r\n",
		     path, token, last_event_id ? "Last-Event-ID: " : "", last_event_id ? last_event_id : "",
		     last_event_id ? "\r\n" : "");
	assert_int_equal(write(e->fd, req, (size_t)n), n);
}

int harness_sse_wait(struct harness_sse *e, const char *needle, int timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { e->fd, POLLIN, 0 };
		char buf[8192];
		ssize_t n;
		long elapsed;

		if (e->data && strstr(e->data, needle))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		elapsed = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (elapsed >= timeout_ms)
			return 0;
		if (poll(&p, 1, (int)(timeout_ms - elapsed)) <= 0)
			continue;
		n = read(e->fd, buf, sizeof(buf));
		if (n <= 0)
			return e->data && strstr(e->data, needle);
		e->data = realloc(e->data, e->len + (size_t)n + 1);
		assert_non_null(e->data);
		memcpy(e->data + e->len, buf, (size_t)n);
		e->len += (size_t)n;
		e->data[e->len] = '\0';
	}
}

void harness_sse_close(struct harness_sse *e)
{
	close(e->fd);
	free(e->data);
}

/* "cd 'dir' && (<fmt with ap>) <redirect>" into out. */
static void command_line(char *out, size_t size, const char *dir, const char *redirect, const char *fmt,
			 va_list ap)
{
	char cmd[4096];

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	snprintf(out, size, "cd '%s' && (%s) %s", dir, cmd, redirect);
}

/* Runs the command line with its output appended to dir/cmd.log; the exit code, or -1. */
static int sh_logged(const char *dir, const char *fmt, va_list ap, char *full, size_t size)
{
	int rc;

	command_line(full, size, dir, ">>cmd.log 2>&1", fmt, ap);
	rc = system(full);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Everything the shell command line full writes to stdout (malloc'd, NUL-terminated),
 * and its wait status in *status; fails the test when it cannot be run. */
static char *read_command(const char *full, int *status)
{
	struct grow g = { 0 };
	char chunk[4096];
	size_t n;
	FILE *f = popen(full, "r");

	if (!f)
		fail_msg("cannot run: %s", full);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (grow_cb(chunk, 1, n, &g) != n) {
			pclose(f);
			fail_msg("out of memory reading the output of: %s", full);
		}
	*status = pclose(f);
	if (!g.p && !(g.p = calloc(1, 1)))
		fail_msg("out of memory");
	return g.p;
}

int harness_sh(const char *dir, const char *fmt, ...)
{
	char full[4600];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sh_logged(dir, fmt, ap, full, sizeof(full));
	va_end(ap);
	return rc;
}

void harness_sh_ok(const char *dir, const char *fmt, ...)
{
	char full[4600];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sh_logged(dir, fmt, ap, full, sizeof(full));
	va_end(ap);
	if (rc)
		fail_msg("command failed: %s (see %s/cmd.log)", full, dir);
}

char *harness_sh_out(const char *dir, const char *fmt, ...)
{
	char full[4600], *out;
	va_list ap;
	size_t len;
	int status;

	va_start(ap, fmt);
	command_line(full, sizeof(full), dir, "2>>cmd.log", fmt, ap);
	va_end(ap);
	out = read_command(full, &status);
	len = strlen(out);
	while (len > 0 && out[len - 1] == '\n')
		len--;
	out[len] = '\0';
	return out;
}

static char *last_output;

int harness_run(const char *dir, const char *fmt, ...)
{
	char full[4600];
	va_list ap;
	int status;

	va_start(ap, fmt);
	command_line(full, sizeof(full), dir, "2>&1", fmt, ap);
	va_end(ap);
	free(last_output);
	last_output = read_command(full, &status);
	if (strstr(last_output, "Sanitizer") || strstr(last_output, "runtime error"))
		fail_msg("a sanitizer report in the output of %s:\n%s", full, last_output);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *harness_output(void)
{
	return last_output ? last_output : "";
}

void harness_expect_output(const char *needle)
{
	harness_expect_in(harness_output(), needle);
}

void harness_expect_in(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("expected \"%s\" in:\n%.4000s", needle, text);
}

void harness_expect_not_in(const char *text, const char *needle)
{
	if (strstr(text, needle))
		fail_msg("did not expect \"%s\" in:\n%.4000s", needle, text);
}
