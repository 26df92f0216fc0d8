/* Live watch over server-sent events: initial state, live changes, resume
 * from Last-Event-ID / ?resourceVersion=, and a version too old to resume. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct krate_server srv;

struct sse {
	int fd;
	char *data;
	size_t len;
};

static int setup(void **state)
{
	(void)state;
	/* a small event log so that pruning is easy to reach */
	return harness_start(&srv, "--event-retention 100 --heartbeat 1");
}

static int teardown(void **state)
{
	(void)state;
	return harness_stop(&srv);
}

static void sse_open(struct sse *s, const char *path, const char *last_event_id)
{
	struct sockaddr_in a = { 0 };
	char req[1024];
	int n;

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)srv.port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n%s%s%s\r\n",
		     path, srv.admin_token, last_event_id ? "Last-Event-ID: " : "", last_event_id ? last_event_id : "",
		     last_event_id ? "\r\n" : "");
	assert_int_equal(write(s->fd, req, (size_t)n), n);
}

/* Reads until needle appears (returns 1) or timeout_ms passes (returns 0). */
static int sse_wait(struct sse *s, const char *needle, int timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		char buf[8192];
		ssize_t n;
		long elapsed;

		if (s->data && strstr(s->data, needle))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		elapsed = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (elapsed >= timeout_ms)
			return 0;
		if (poll(&p, 1, (int)(timeout_ms - elapsed)) <= 0)
			continue;
		n = read(s->fd, buf, sizeof(buf));
		if (n <= 0)
			return s->data && strstr(s->data, needle);
		s->data = realloc(s->data, s->len + (size_t)n + 1);
		memcpy(s->data + s->len, buf, (size_t)n);
		s->len += (size_t)n;
		s->data[s->len] = '\0';
	}
}

static void sse_close(struct sse *s)
{
	close(s->fd);
	free(s->data);
}

static void apply(const char *org, const char *body, long want)
{
	struct http_resp r;
	char path[128];

	snprintf(path, sizeof(path), "/api/orgs/%s/resources", org);
	assert_int_equal(http_call(&srv, "POST", path, srv.admin_token, body, NULL, &r), 0);
	assert_int_equal(r.status, want);
	http_resp_free(&r);
}

/* The version once the forge has reported the repository Ready (its status
 * update is a later event than the create). */
static long repo_rv(const char *name)
{
	struct http_resp r;
	char path[128];
	const char *phase;
	long rv;
	int i;

	snprintf(path, sizeof(path), "/api/orgs/live/resources/Repository/%s", name);
	for (i = 0;; i++) {
		assert_int_equal(http_call(&srv, "GET", path, srv.admin_token, NULL, NULL, &r), 0);
		phase = json_string_value(json_object_get(json_object_get(r.json, "status"), "phase"));
		if ((phase && !strcmp(phase, "Ready")) || i == 200)
			break;
		http_resp_free(&r);
		usleep(25000);
	}
	rv = atol(json_string_value(json_object_get(json_object_get(r.json, "metadata"), "resourceVersion")));
	http_resp_free(&r);
	return rv;
}

static void test_watch_live_and_resume(void **state)
{
	struct http_resp r;
	struct sse s, s2, s3;
	char rvbuf[32], path[128];
	long rv;

	(void)state;
	assert_int_equal(http_call(&srv, "POST", "/api/orgs", srv.admin_token, "{\"name\":\"live\"}", NULL, &r), 0);
	http_resp_free(&r);
	assert_int_equal(http_call(&srv, "POST", "/api/orgs", srv.admin_token, "{\"name\":\"other\"}", NULL, &r), 0);
	http_resp_free(&r);
	apply("live", "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"first\"},\"spec\":{\"visibility\":\"public\"}}", 201);

	/* without a version the stream starts with the current objects */
	sse_open(&s, "/api/watch/orgs/live/repositories", NULL);
	assert_true(sse_wait(&s, "text/event-stream", 5000));
	assert_true(sse_wait(&s, "\"type\":\"ADDED\"", 5000));
	assert_true(sse_wait(&s, "\"name\":\"first\"", 5000));

	/* a change in another org is not seen; one in this org is */
	apply("other", "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"elsewhere\"},\"spec\":{\"visibility\":\"public\"}}", 201);
	apply("live", "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"second\"},\"spec\":{\"visibility\":\"public\"}}", 201);
	assert_true(sse_wait(&s, "\"name\":\"second\"", 5000));
	assert_null(strstr(s.data, "elsewhere"));
	assert_non_null(strstr(s.data, "event: krate"));
	assert_non_null(strstr(s.data, "/apis/krate.a5c.ai/v1alpha1/namespaces/krate-org-live/repositories/second"));
	rv = repo_rv("second");
	snprintf(rvbuf, sizeof(rvbuf), "id: %ld\n", rv);
	assert_true(sse_wait(&s, rvbuf, 5000));

	/* heartbeats keep idle streams open */
	assert_true(sse_wait(&s, ": ping", 4000));

	/* delete shows up as DELETED */
	assert_int_equal(http_call(&srv, "DELETE", "/api/orgs/live/resources/Repository/first", srv.admin_token, NULL,
				   NULL, &r), 0);
	http_resp_free(&r);
	assert_true(sse_wait(&s, "\"type\":\"DELETED\"", 5000));
	sse_close(&s);

	/* resume after "second": sees the deletion and later changes, not "second" again */
	apply("live", "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"third\"},\"spec\":{\"visibility\":\"public\"}}", 201);
	snprintf(rvbuf, sizeof(rvbuf), "%ld", rv);
	sse_open(&s2, "/api/watch/orgs/live/repositories", rvbuf);
	assert_true(sse_wait(&s2, "\"name\":\"third\"", 5000));
	assert_non_null(strstr(s2.data, "\"type\":\"DELETED\""));
	assert_null(strstr(s2.data, "\"name\":\"second\""));
	sse_close(&s2);

	/* the same with ?resourceVersion= and a single object's watch */
	snprintf(path, sizeof(path), "/api/watch/orgs/live/repositories/third?resourceVersion=%ld", rv);
	sse_open(&s3, path, NULL);
	assert_true(sse_wait(&s3, "\"name\":\"third\"", 5000));
	assert_null(strstr(s3.data, "\"DELETED\""));
	sse_close(&s3);
}

static void test_watch_too_old(void **state)
{
	struct sse s;
	char body[256];
	int i;

	(void)state;
	/* 300 writes with a 100-event log: version 1 can no longer be resumed */
	for (i = 0; i < 300; i++) {
		snprintf(body, sizeof(body),
			 "{\"kind\":\"Issue\",\"metadata\":{\"name\":\"churn\"},\"spec\":{\"title\":\"Churn number %d\"}}", i);
		apply("live", body, i ? 200 : 201);
	}
	sse_open(&s, "/api/watch/orgs/live?resourceVersion=1", NULL);
	assert_true(sse_wait(&s, "event: error", 5000));
	assert_true(sse_wait(&s, "EXPIRED", 1000));
	sse_close(&s);
}

static void test_watch_errors(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http_call(&srv, "GET", "/api/watch/orgs/nope/repositories", srv.admin_token, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	http_resp_free(&r);
	assert_int_equal(http_call(&srv, "GET", "/api/watch/orgs/live/nosuchkind", srv.admin_token, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	http_resp_free(&r);
	assert_int_equal(http_call(&srv, "GET", "/api/watch/orgs/live/repositories?resourceVersion=abc", srv.admin_token,
				   NULL, NULL, &r), 0);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	assert_int_equal(http_call(&srv, "GET", "/api/watch/orgs/live/repositories", NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 401);
	http_resp_free(&r);
}

static void test_watch_limit(void **state)
{
	struct krate_server saved = srv;
	struct http_resp r;
	struct sse a, b;

	(void)state;
	assert_int_equal(harness_start(&srv, "--max-watches 2"), 0);
	assert_int_equal(http_call(&srv, "POST", "/api/orgs", srv.admin_token, "{\"name\":\"few\"}", NULL, &r), 0);
	http_resp_free(&r);
	sse_open(&a, "/api/watch/orgs/few", NULL);
	sse_open(&b, "/api/watch/orgs/few", NULL);
	assert_true(sse_wait(&a, ": watching", 5000));
	assert_true(sse_wait(&b, ": watching", 5000));
	assert_int_equal(http_call(&srv, "GET", "/api/watch/orgs/few", srv.admin_token, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 429);
	http_resp_free(&r);
	sse_close(&a);
	sse_close(&b);
	assert_int_equal(harness_stop(&srv), 0);
	srv = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_live_and_resume),
		cmocka_unit_test(test_watch_too_old),
		cmocka_unit_test(test_watch_errors),
		cmocka_unit_test(test_watch_limit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
