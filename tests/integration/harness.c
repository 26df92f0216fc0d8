#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

int harness_sh(const char *dir, const char *fmt, ...)
{
	char cmd[4096], full[4600];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && (%s) >>cmd.log 2>&1", dir, cmd);
	rc = system(full);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

char *harness_sh_out(const char *dir, const char *fmt, ...)
{
	char cmd[4096], full[4600], chunk[4096];
	size_t len = 0, n;
	char *out = NULL, *grown;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && %s 2>>cmd.log", dir, cmd);
	f = popen(full, "r");
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (!(grown = realloc(out, len + n + 1))) {
			free(out);
			pclose(f);
			return NULL;
		}
		out = grown;
		memcpy(out + len, chunk, n);
		len += n;
	}
	pclose(f);
	if (!out && !(out = calloc(1, 1)))
		return NULL;
	while (len > 0 && out[len - 1] == '\n')
		len--;
	out[len] = '\0';
	return out;
}
