/* Live watch over server-sent events: initial state, live changes, resume
 * from Last-Event-ID / ?resourceVersion=, and a version too old to resume. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct krate_server srv;

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
	struct harness_sse s, s2, s3;
	char rvbuf[32], path[128];
	long rv;

	(void)state;
	assert_int_equal(http_call(&srv, "POST", "/api/orgs", srv.admin_token, "{\"name\":\"live\"}", NULL, &r), 0);
	http_resp_free(&r);
	assert_int_equal(http_call(&srv, "POST", "/api/orgs", srv.admin_token, "{\"name\":\"other\"}", NULL, &r), 0);
	http_resp_free(&r);
	apply("live", "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"first\"},\"spec\":{\"visibility\":\"public\"}}", 201);

	/* without a version the stream starts with the current objects */
	harness_sse_open(&srv, &s, "/api/watch/orgs/live/repositories", srv.admin_token, NULL);
	assert_true(harness_sse_wait(&s, "text/event-stream", 5000));
	assert_true(harness_sse_wait(&s, "\"type\":\"ADDED\"", 5000));
	assert_true(harness_sse_wait(&s, "\"name\":\"first\"", 5000));

	/* a change in another org is not seen; one in this org is */
	apply("other", "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"elsewhere\"},\"spec\":{\"visibility\":\"public\"}}", 201);
	apply("live", "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"second\"},\"spec\":{\"visibility\":\"public\"}}", 201);
	assert_true(harness_sse_wait(&s, "\"name\":\"second\"", 5000));
	assert_null(strstr(s.data, "elsewhere"));
	assert_non_null(strstr(s.data, "event: krate"));
	assert_non_null(strstr(s.data, "/apis/krate.a5c.ai/v1alpha1/namespaces/krate-org-live/repositories/second"));
	rv = repo_rv("second");
	snprintf(rvbuf, sizeof(rvbuf), "id: %ld\n", rv);
	assert_true(harness_sse_wait(&s, rvbuf, 5000));

	/* heartbeats keep idle streams open */
	assert_true(harness_sse_wait(&s, ": ping", 4000));

	/* delete shows up as DELETED */
	assert_int_equal(http_call(&srv, "DELETE", "/api/orgs/live/resources/Repository/first", srv.admin_token, NULL,
				   NULL, &r), 0);
	http_resp_free(&r);
	assert_true(harness_sse_wait(&s, "\"type\":\"DELETED\"", 5000));
	harness_sse_close(&s);

	/* resume after "second": sees the deletion and later changes, not "second" again */
	apply("live", "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"third\"},\"spec\":{\"visibility\":\"public\"}}", 201);
	snprintf(rvbuf, sizeof(rvbuf), "%ld", rv);
	harness_sse_open(&srv, &s2, "/api/watch/orgs/live/repositories", srv.admin_token, rvbuf);
	assert_true(harness_sse_wait(&s2, "\"name\":\"third\"", 5000));
	assert_non_null(strstr(s2.data, "\"type\":\"DELETED\""));
	assert_null(strstr(s2.data, "\"name\":\"second\""));
	harness_sse_close(&s2);

	/* the same with ?resourceVersion= and a single object's watch */
	snprintf(path, sizeof(path), "/api/watch/orgs/live/repositories/third?resourceVersion=%ld", rv);
	harness_sse_open(&srv, &s3, path, srv.admin_token, NULL);
	assert_true(harness_sse_wait(&s3, "\"name\":\"third\"", 5000));
	assert_null(strstr(s3.data, "\"DELETED\""));
	harness_sse_close(&s3);
}

static void test_watch_too_old(void **state)
{
	struct harness_sse s;
	char body[256];
	int i;

	(void)state;
	/* 300 writes with a 100-event log: version 1 can no longer be resumed */
	for (i = 0; i < 300; i++) {
		snprintf(body, sizeof(body),
			 "{\"kind\":\"Issue\",\"metadata\":{\"name\":\"churn\"},\"spec\":{\"title\":\"Churn number %d\"}}", i);
		apply("live", body, i ? 200 : 201);
	}
	harness_sse_open(&srv, &s, "/api/watch/orgs/live?resourceVersion=1", srv.admin_token, NULL);
	assert_true(harness_sse_wait(&s, "event: error", 5000));
	assert_true(harness_sse_wait(&s, "EXPIRED", 1000));
	harness_sse_close(&s);
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
	struct harness_sse a, b;

	(void)state;
	assert_int_equal(harness_start(&srv, "--max-watches 2"), 0);
	assert_int_equal(http_call(&srv, "POST", "/api/orgs", srv.admin_token, "{\"name\":\"few\"}", NULL, &r), 0);
	http_resp_free(&r);
	harness_sse_open(&srv, &a, "/api/watch/orgs/few", srv.admin_token, NULL);
	harness_sse_open(&srv, &b, "/api/watch/orgs/few", srv.admin_token, NULL);
	assert_true(harness_sse_wait(&a, ": watching", 5000));
	assert_true(harness_sse_wait(&b, ": watching", 5000));
	assert_int_equal(http_call(&srv, "GET", "/api/watch/orgs/few", srv.admin_token, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 429);
	http_resp_free(&r);
	harness_sse_close(&a);
	harness_sse_close(&b);
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
