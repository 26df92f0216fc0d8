/* A test Agent Mux gateway: a small HTTP/1.1 server (one thread per
 * connection, one request per connection) that implements the contract of
 * src/agents/mux.h well enough to run dispatch attempts against.
 *
 *   mux_gateway [--drop-first]
 *
 * Listens on 127.0.0.1 on an ephemeral port and prints the port on stdout.
 * A session's run emits, over about a second: message, tool_call, a
 * malformed event, tool_result, usage, final. A prompt containing "[hold]"
 * stops before the final event until a message arrives (the reply, usage
 * and final follow); "[fail]" makes the final event a failure. With
 * --drop-first the first event stream connection is cut after two events, so
 * the client must reconnect with Last-Event-ID. GET /debug/requests returns
 * every request seen ({method, path, lastEventId, idempotencyKey, body}) for
 * the tests to check. Runs until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 65536
#define BODY_MAX (4 * 1024 * 1024)

struct event {
	int id;
	uint64_t due_ms;
	char *data;              /* the data line, as sent (may be malformed on purpose) */
	int terminal;
};

struct session {
	char id[32], run_id[32], key[256];
	int hold, fail;
	char status[16];         /* running, succeeded, failed, cancelled */
	struct event *ev;
	size_t nev, cap;
	struct session *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct session *sessions;
static int nsessions, drop_first, streams_opened;
static json_t *requests;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Under mu. Takes data. */
static int add_event(struct session *s, uint64_t due, char *data, int terminal)
{
	struct event *n;

	if (!data)
		return -1;
	if (s->nev == s->cap) {
		n = realloc(s->ev, (s->cap ? s->cap * 2 : 16) * sizeof(*n));
		if (!n) {
			free(data);
			return -1;
		}
		s->ev = n;
		s->cap = s->cap ? s->cap * 2 : 16;
	}
	if (s->nev && due < s->ev[s->nev - 1].due_ms)
		due = s->ev[s->nev - 1].due_ms;
	s->ev[s->nev] = (struct event){ (int)s->nev + 1, due, data, terminal };
	s->nev++;
	pthread_cond_broadcast(&changed);
	return 0;
}

static char *dump(json_t *v)
{
	char *t = v ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	return t;
}

/* Under mu: the session's status as of now (a due terminal event ends it). */
static const char *status_of(struct session *s)
{
	size_t i;

	if (!strcmp(s->status, "running"))
		for (i = 0; i < s->nev; i++)
			if (s->ev[i].terminal && s->ev[i].due_ms <= now_ms())
				snprintf(s->status, sizeof(s->status), "%s", s->fail ? "failed" : "succeeded");
	return s->status;
}

static struct session *find(const char *id, int by_run)
{
	struct session *s;

	for (s = sessions; s; s = s->next)
		if (!strcmp(by_run ? s->run_id : s->id, id))
			return s;
	return NULL;
}

static void finish(struct session *s, uint64_t at)
{
	add_event(s, at, dump(json_pack("{s:s, s:s, s:s}", "type", "final", "content",
					 s->fail ? "Could not finish" : "Diagnosis: the build script misses a flag",
					 "status", s->fail ? "failure" : "success")), 1);
}

static void script(struct session *s, const char *repository)
{
	uint64_t t = now_ms();
	char text[256];

	snprintf(text, sizeof(text), "Looking at %s", repository ? repository : "the repository");
	add_event(s, t + 100, dump(json_pack("{s:s, s:s, s:s}", "type", "message", "role", "assistant", "content", text)), 0);
	add_event(s, t + 250, dump(json_pack("{s:s, s:s, s:{s:s}}", "type", "tool_call", "name", "read_file", "input",
					     "path", "README.md")), 0);
	add_event(s, t + 400, strdup("{\"type\": \"message\", not json"), 0);
	add_event(s, t + 550, dump(json_pack("{s:s, s:s, s:s}", "type", "tool_result", "name", "read_file", "content",
					     "# Read me")), 0);
	add_event(s, t + 700, dump(json_pack("{s:s, s:i, s:i, s:f}", "type", "usage", "inputTokens", 120, "outputTokens",
					     45, "costUsd", 0.0125)), 0);
	if (!s->hold)
		finish(s, t + 900);
}

/* ---- HTTP ---- */

struct req {
	char method[16], path[1024];
	char last_event_id[256], idem[256];
	char *body;
	size_t body_len;
};

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void reply(int fd, int code, json_t *body)
{
	char head[256], *text = dump(body);
	size_t n = text ? strlen(text) : 0;

	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		 code, code < 300 ? "OK" : "Error", n);
	if (!send_all(fd, head, strlen(head)) && text)
		send_all(fd, text, n);
	free(text);
}

static void header_value(const char *head, const char *name, char *out, size_t size)
{
	const char *p = head;
	size_t nlen = strlen(name);

	*out = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nlen) && p[nlen] == ':') {
			const char *v = p + nlen + 1, *end = strstr(v, "\r\n");
			size_t n;

			while (*v == ' ')
				v++;
			n = end ? (size_t)(end - v) : strlen(v);
			if (n >= size)
				n = size - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return;
		}
	}
}

static int read_request(int fd, struct req *r)
{
	char *buf = malloc(HEAD_MAX + 1), *end = NULL, cl[32];
	size_t len = 0, have, want;
	ssize_t n;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!buf)
		return -1;
	while (len < HEAD_MAX && !(end = strstr(buf, "\r\n\r\n"))) {
		n = recv(fd, buf + len, HEAD_MAX - len, 0);
		if (n <= 0)
			goto out;
		len += (size_t)n;
		buf[len] = '\0';
	}
	if (!end || sscanf(buf, "%15s %1023s", r->method, r->path) != 2)
		goto out;
	end[2] = '\0';
	header_value(buf, "Last-Event-ID", r->last_event_id, sizeof(r->last_event_id));
	header_value(buf, "Idempotency-Key", r->idem, sizeof(r->idem));
	header_value(buf, "Content-Length", cl, sizeof(cl));
	want = (size_t)strtoul(cl, NULL, 10);
	if (want > BODY_MAX)
		goto out;
	r->body = malloc(want + 1);
	if (!r->body)
		goto out;
	have = len - (size_t)(end + 4 - buf);
	if (have > want)
		have = want;
	memcpy(r->body, end + 4, have);
	while (have < want) {
		n = recv(fd, r->body + have, want - have, 0);
		if (n <= 0)
			goto out;
		have += (size_t)n;
	}
	r->body[want] = '\0';
	r->body_len = want;
	rc = 0;
out:
	free(buf);
	return rc;
}

static void log_request(const struct req *r)
{
	json_t *body = r->body_len ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;

	pthread_mutex_lock(&mu);
	json_array_append_new(requests, json_pack("{s:s, s:s, s:s?, s:s?, s:o?}", "method", r->method, "path", r->path,
						  "lastEventId", *r->last_event_id ? r->last_event_id : NULL,
						  "idempotencyKey", *r->idem ? r->idem : NULL, "body", body));
	pthread_mutex_unlock(&mu);
}

/* The session named by path after prefix, with an optional suffix; under mu. */
static struct session *path_session(const char *path, const char *prefix, const char *suffix, int by_run)
{
	char id[64];
	size_t plen = strlen(prefix), slen = strlen(suffix), n;

	if (strncmp(path, prefix, plen))
		return NULL;
	n = strlen(path + plen);
	if (n < slen || strcmp(path + plen + n - slen, suffix) || n - slen >= sizeof(id) || n == slen)
		return NULL;
	memcpy(id, path + plen, n - slen);
	id[n - slen] = '\0';
	if (strchr(id, '/'))
		return NULL;
	return find(id, by_run);
}

static int has_prefix_suffix(const char *path, const char *prefix, const char *suffix)
{
	size_t n = strlen(path), p = strlen(prefix), s = strlen(suffix);

	return n > p + s && !strncmp(path, prefix, p) && !strcmp(path + n - s, suffix);
}

static void create_session(int fd, const struct req *r)
{
	json_t *body = json_loads(r->body ? r->body : "", 0, NULL);
	const char *prompt = json_string_value(json_object_get(body, "prompt"));
	struct session *s;

	if (!json_is_string(json_object_get(body, "agent")) || !prompt) {
		json_decref(body);
		reply(fd, 400, json_pack("{s:s}", "error", "agent and prompt are required"));
		return;
	}
	pthread_mutex_lock(&mu);
	for (s = sessions; s && !(*r->idem && !strcmp(s->key, r->idem)); s = s->next)
		;
	if (!s && (s = calloc(1, sizeof(*s)))) {
		nsessions++;
		snprintf(s->id, sizeof(s->id), "sess-%d", nsessions);
		snprintf(s->run_id, sizeof(s->run_id), "run-%d", nsessions);
		snprintf(s->key, sizeof(s->key), "%s", r->idem);
		snprintf(s->status, sizeof(s->status), "running");
		s->hold = strstr(prompt, "[hold]") != NULL;
		s->fail = strstr(prompt, "[fail]") != NULL;
		s->next = sessions;
		sessions = s;
		script(s, json_string_value(json_object_get(json_object_get(body, "workspace"), "repository")));
	}
	pthread_mutex_unlock(&mu);
	json_decref(body);
	if (!s)
		reply(fd, 500, json_pack("{s:s}", "error", "out of memory"));
	else
		reply(fd, 201, json_pack("{s:s, s:s, s:s}", "runId", s->run_id, "sessionId", s->id, "status", "running"));
}

static void post_message(int fd, const struct req *r)
{
	json_t *body = json_loads(r->body ? r->body : "", 0, NULL);
	const char *content = json_string_value(json_object_get(body, "content"));
	struct session *s;
	char text[512];
	int code = 202;
	uint64_t t = now_ms();

	pthread_mutex_lock(&mu);
	s = path_session(r->path, "/api/v1/sessions/", "/messages", 0);
	if (!s)
		code = 404;
	else if (!content)
		code = 400;
	else if (strcmp(status_of(s), "running"))
		code = 409;
	if (code == 202) {
		snprintf(text, sizeof(text), "Reply to: %s", content);
		add_event(s, t + 100, dump(json_pack("{s:s, s:s, s:s}", "type", "message", "role", "assistant", "content",
						     text)), 0);
		if (s->hold) {
			add_event(s, t + 150, dump(json_pack("{s:s, s:{s:i, s:i}}", "type", "usage", "usage", "inputTokens",
							     30, "outputTokens", 10)), 0);
			finish(s, t + 200);
		}
	}
	pthread_mutex_unlock(&mu);
	json_decref(body);
	reply(fd, code, code == 202 ? json_pack("{s:b}", "accepted", 1) : json_pack("{s:i}", "error", code));
}

static void cancel_session(int fd, struct session *s)
{
	size_t i;

	if (!strcmp(status_of(s), "running")) {
		/* what was not due yet never happens */
		for (i = 0; i < s->nev; i++)
			if (s->ev[i].due_ms > now_ms())
				break;
		while (s->nev > i)
			free(s->ev[--s->nev].data);
		add_event(s, now_ms(), dump(json_pack("{s:s, s:s}", "type", "status", "status", "cancelled")), 1);
		snprintf(s->status, sizeof(s->status), "cancelled");
	}
	reply(fd, 200, json_pack("{s:s, s:s}", "sessionId", s->id, "status", s->status));
}

static int frame(int fd, const struct event *ev)
{
	char head[64];

	/* odd ids end their lines with CRLF, even ones with LF: both must parse */
	snprintf(head, sizeof(head), ev->id % 2 ? "id: %d\r\ndata: " : "id: %d\ndata: ", ev->id);
	return send_all(fd, head, strlen(head)) || send_all(fd, ev->data, strlen(ev->data)) ||
	       send_all(fd, ev->id % 2 ? "\r\n\r\n" : "\n\n", ev->id % 2 ? 4 : 2);
}

static void stream(int fd, struct session *s, const char *last_event_id)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
				   "Connection: close\r\n\r\n: stream open\n\n";
	size_t next = (size_t)strtoul(last_event_id, NULL, 10);
	int drop, sent = 0;

	drop = drop_first && streams_opened++ == 0;
	pthread_mutex_unlock(&mu);
	if (send_all(fd, head, sizeof(head) - 1))
		return;
	pthread_mutex_lock(&mu);
	for (;;) {
		struct timespec until;
		uint64_t wait_ms = 300;

		if (next < s->nev && s->ev[next].due_ms <= now_ms()) {
			struct event ev = s->ev[next];
			int failed;

			ev.data = strdup(ev.data);
			pthread_mutex_unlock(&mu);
			failed = !ev.data || frame(fd, &ev);
			free(ev.data);
			if (failed || ev.terminal || (drop && ++sent == 2))
				return;
			pthread_mutex_lock(&mu);
			next++;
			continue;
		}
		if (next < s->nev && s->ev[next].due_ms - now_ms() < wait_ms)
			wait_ms = s->ev[next].due_ms - now_ms();
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(wait_ms * 1000000u);
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		if (pthread_cond_timedwait(&changed, &mu, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&mu);
			if (send_all(fd, ": keepalive\n\n", 13))
				return;
			pthread_mutex_lock(&mu);
		}
	}
}

static void route(int fd, const struct req *r)
{
	struct session *s;

	if (!strcmp(r->path, "/healthz")) {
		reply(fd, 200, json_pack("{s:b}", "ok", 1));
		return;
	}
	if (!strcmp(r->path, "/debug/requests")) {
		pthread_mutex_lock(&mu);
		reply(fd, 200, json_deep_copy(requests));
		pthread_mutex_unlock(&mu);
		return;
	}
	if (!strcmp(r->method, "GET") && has_prefix_suffix(r->path, "/api/v1/agents/", "/capabilities")) {
		if (strstr(r->path, "/missing-agent/"))
			reply(fd, 404, json_pack("{s:s}", "error", "no such agent"));
		else
			reply(fd, 200, json_pack("{s:b, s:b, s:b}", "streaming", 1, "continue", 1, "cancel", 1));
		return;
	}
	if (!strcmp(r->method, "POST") && !strcmp(r->path, "/api/v1/sessions")) {
		create_session(fd, r);
		return;
	}
	if (!strcmp(r->method, "POST") && has_prefix_suffix(r->path, "/api/v1/sessions/", "/messages")) {
		post_message(fd, r);
		return;
	}
	pthread_mutex_lock(&mu);
	if (!strcmp(r->method, "GET") && (s = path_session(r->path, "/api/v1/runs/", "/events", 1))) {
		stream(fd, s, r->last_event_id);
		return;
	}
	s = path_session(r->path, "/api/v1/sessions/", "", 0);
	if (!s)
		s = path_session(r->path, "/api/v1/sessions/", "/cancel", 0);
	if (s && !strcmp(r->method, "GET") && !strstr(r->path, "/cancel"))
		reply(fd, 200, json_pack("{s:s, s:s, s:s}", "sessionId", s->id, "runId", s->run_id, "status", status_of(s)));
	else if (s && (!strcmp(r->method, "DELETE") || (!strcmp(r->method, "POST") && strstr(r->path, "/cancel"))))
		cancel_session(fd, s);
	else
		reply(fd, 404, json_pack("{s:s}", "error", "not found"));
	pthread_mutex_unlock(&mu);
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct req r;

	if (!read_request(fd, &r)) {
		log_request(&r);
		route(fd, &r);
	}
	free(r.body);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int ls, i, one = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--drop-first")) {
			drop_first = 1;
		} else {
			fprintf(stderr, "usage: mux_gateway [--drop-first]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	requests = json_array();
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 64) ||
	    getsockname(ls, (struct sockaddr *)&a, &alen)) {
		perror("mux_gateway");
		return 1;
	}
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		pthread_t t;
		int fd = accept(ls, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("mux_gateway: accept");
			return 1;
		}
		if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd)) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
}
