/* Outbound webhooks end to end: a push becomes a signed POST to a receiver
 * in this test; secrets are sealed and never shown; failed attempts are
 * retried with backoff until Delivered or Failed; redelivery repeats a
 * delivery; a delivery still Pending at shutdown is sent after a restart. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define SECRET "s3cr3t-for-hooks-Zq8"
#define MAX_REQS 32

static struct krate_server srv;
static char work[256];

/* ---- the receiver: a plain HTTP/1.1 server that records each request ---- */

struct request {
	char *head;              /* request line and headers */
	char *body;
};

struct receiver {
	int fd, port;
	pthread_t thread;
	int running;
	atomic_int stop;
	pthread_mutex_t mu;
	int fail_first;          /* answer 500 to this many requests, then 200 */
	int always_fail;
	int n;
	struct request req[MAX_REQS];
};

static void serve_one(struct receiver *rc, int c)
{
	char buf[65536], *end = NULL, *cl;
	size_t len = 0, want;
	ssize_t n;
	int status;
	char resp[128];

	while (len < sizeof(buf) - 1 && !(end = strstr(buf, "\r\n\r\n"))) {
		n = read(c, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
	}
	if (!end)
		return;
	cl = strcasestr(buf, "\r\nContent-Length:");
	want = (size_t)(end - buf) + 4 + (cl ? strtoul(cl + 17, NULL, 10) : 0);
	while (len < want && len < sizeof(buf) - 1) {
		n = read(c, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
	}
	pthread_mutex_lock(&rc->mu);
	if (rc->n < MAX_REQS) {
		rc->req[rc->n].head = strndup(buf, (size_t)(end - buf) + 2);
		rc->req[rc->n].body = strndup(end + 4, len - (size_t)(end - buf) - 4);
	}
	rc->n++;
	status = rc->always_fail || rc->n <= rc->fail_first ? 500 : 200;
	pthread_mutex_unlock(&rc->mu);
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 7\r\nConnection: close\r\n\r\n%s", status,
		     status == 200 ? "thanks!" : "broken!");
	if (write(c, resp, (size_t)n) != n)
		return;
}

static void *receiver_main(void *arg)
{
	struct receiver *rc = arg;

	while (!atomic_load(&rc->stop)) {
		struct pollfd p = { rc->fd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(rc->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(rc, c);
		close(c);
	}
	return NULL;
}

/* Binds 127.0.0.1 on an ephemeral port; connections are refused until receiver_up. */
static void receiver_bind(struct receiver *rc)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof(a);
	int one = 1;

	memset(rc, 0, sizeof(*rc));
	pthread_mutex_init(&rc->mu, NULL);
	rc->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(rc->fd >= 0);
	setsockopt(rc->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(rc->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(rc->fd, (struct sockaddr *)&a, &alen), 0);
	rc->port = ntohs(a.sin_port);
}

static void receiver_up(struct receiver *rc)
{
	assert_int_equal(listen(rc->fd, 16), 0);
	assert_int_equal(pthread_create(&rc->thread, NULL, receiver_main, rc), 0);
	rc->running = 1;
}

static void receiver_start(struct receiver *rc, int fail_first, int always_fail)
{
	receiver_bind(rc);
	rc->fail_first = fail_first;
	rc->always_fail = always_fail;
	receiver_up(rc);
}

static void receiver_stop(struct receiver *rc)
{
	int i;

	atomic_store(&rc->stop, 1);
	if (rc->running)
		pthread_join(rc->thread, NULL);
	close(rc->fd);
	for (i = 0; i < rc->n && i < MAX_REQS; i++) {
		free(rc->req[i].head);
		free(rc->req[i].body);
	}
	pthread_mutex_destroy(&rc->mu);
}

static int receiver_count(struct receiver *rc)
{
	int n;

	pthread_mutex_lock(&rc->mu);
	n = rc->n;
	pthread_mutex_unlock(&rc->mu);
	return n;
}

/* The value of header name in request i (static buffer), or NULL. */
static const char *req_header(struct receiver *rc, int i, const char *name)
{
	static char val[512];
	char pat[128];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "\r\n%s:", name);
	pthread_mutex_lock(&rc->mu);
	p = strcasestr(rc->req[i].head, pat);
	if (p) {
		p += strlen(pat);
		while (*p == ' ')
			p++;
		n = strcspn(p, "\r\n");
		snprintf(val, sizeof(val), "%.*s", (int)n, p);
	}
	pthread_mutex_unlock(&rc->mu);
	return p ? val : NULL;
}

/* "sha256=<hex HMAC-SHA256(SECRET, body of request i)>" */
static void expected_signature(struct receiver *rc, int i, char out[80])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0, k;

	pthread_mutex_lock(&rc->mu);
	assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)rc->req[i].body,
			     strlen(rc->req[i].body), mac, &n));
	pthread_mutex_unlock(&rc->mu);
	strcpy(out, "sha256=");
	for (k = 0; k < n; k++)
		sprintf(out + 7 + 2 * k, "%02x", mac[k]);
}

/* ---- the server side ---- */

/* method path with body as the admin; asserts the status; the response stays in *r. */
static void call(const char *method, const char *path, const char *body, long want, struct http_resp *r)
{
	harness_call(&srv, method, path, srv.admin_token, body, want, r);
}

/* An org with a Ready repository "code" and a subscription "hook" to port. */
static void make_org(const char *org, int port, const char *events, int with_secret)
{
	char body[512];

	harness_make_org(&srv, org);
	harness_make_repo(&srv, org, "code", "");
	snprintf(body, sizeof(body),
		 "{\"kind\":\"WebhookSubscription\",\"metadata\":{\"name\":\"hook\"},"
		 "\"spec\":{\"url\":\"http://127.0.0.1:%d/receive\",\"events\":%s%s}}",
		 port, events, with_secret ? ",\"secret\":\"" SECRET "\"" : "");
	harness_apply(&srv, org, body);
}

/* Pushes a new commit of dir (cloned on first use) to branch of org/code. */
static void push(const char *org, const char *dir, const char *branch)
{
	char url[512];

	snprintf(url, sizeof(url), "http://admin:%s@127.0.0.1:%d/%s/code.git", srv.admin_token, srv.port, org);
	if (harness_sh(work, "test -d %s", dir))
		assert_int_equal(harness_sh(work, "git -c credential.helper= clone -q '%s' %s", url, dir), 0);
	assert_int_equal(harness_sh(work, "cd %s && date +%%s%%N >> f.txt && git add . && git commit -qm change"
				    " && git -c credential.helper= push -q '%s' HEAD:%s", dir, url, branch), 0);
}

/* The deliveries of org once count of them have phase (new ref), within 15 s. */
static json_t *deliveries(const char *org, const char *phase, size_t count)
{
	struct http_resp r;
	char path[128];
	json_t *items, *it;
	size_t i, n;
	int k;

	snprintf(path, sizeof(path), "/api/orgs/%s/resources?kind=WebhookDelivery", org);
	for (k = 0; k < 600; k++) {
		call("GET", path, NULL, 200, &r);
		items = json_object_get(r.json, "items");
		n = 0;
		json_array_foreach(items, i, it) {
			const char *ph = json_string_value(json_object_get(json_object_get(it, "status"), "phase"));

			n += ph && !strcmp(ph, phase);
		}
		if (n >= count) {
			json_incref(items);
			http_resp_free(&r);
			return items;
		}
		http_resp_free(&r);
		usleep(25000);
	}
	fail_msg("fewer than %zu %s deliveries in %s", count, phase, org);
	return NULL;
}

static json_int_t status_int(json_t *d, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(d, "status"), key));
}

static const char *spec_str(json_t *d, const char *key)
{
	return json_string_value(json_object_get(json_object_get(d, "spec"), key));
}

/* Signs a new developer of org into the console: "Cookie: krate_session=..." into cookie. */
static void console_session(const char *org, char *cookie, size_t size)
{
	struct http_resp r;
	char body[512], user[64];

	snprintf(user, sizeof(user), "ops-%s", org);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"role\":\"developer\",\"org\":\"%s\","
		 "\"password\":\"correct-horse-battery\"}", user, org);
	call("POST", "/api/users", body, 201, &r);
	http_resp_free(&r);
	harness_sign_in(&srv, user, "correct-horse-battery", cookie, size);
}

/* The console's Redeliver button on the delivery's page: a CSRF-checked POST
 * that opens the new delivery. */
static void console_redeliver(const char *org, const char *name)
{
	struct http_resp r;
	char path[256], form[256], cookie[512], *csrf, *loc;

	console_session(org, cookie, sizeof(cookie));
	snprintf(path, sizeof(path), "/orgs/%s/resources/webhookdeliveries/%s", org, name);
	harness_page(&srv, cookie, path, 200, &r);
	assert_non_null(strstr(r.body, "id=\"redeliver\""));
	csrf = harness_form_csrf(r.body, "id=\"redeliver-form\"");
	assert_non_null(csrf);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/orgs/%s/resources/webhookdeliveries/%s/redeliver", org, name);
	/* without the token: refused */
	harness_post_form(&srv, cookie, path, "csrf=wrong", 403, &r);
	http_resp_free(&r);
	snprintf(form, sizeof(form), "csrf=%s", csrf);
	harness_post_form(&srv, cookie, path, form, 303, &r);
	loc = http_header(&r, "Location");
	assert_non_null(loc);
	snprintf(path, sizeof(path), "/orgs/%s/resources/webhookdeliveries/hook-", org);
	assert_memory_equal(loc, path, strlen(path));
	assert_string_not_equal(loc + strlen(path) - 5, name);
	free(loc);
	http_resp_free(&r);
	free(csrf);
}

/* Stops the server, failing on an unclean exit (a sanitizer report), and keeps its data. */
static void stop_keep(void)
{
	srv.keep_dir = 1;
	assert_int_equal(harness_stop(&srv), 0);
	srv.keep_dir = 0;
}

static void test_signed_push(void **state)
{
	struct receiver rc;
	struct http_resp r;
	char sig[80], name[64], path[256], id[64];
	json_t *items, *d, *body, *nd;
	const char *del;

	(void)state;
	receiver_start(&rc, 0, 0);
	make_org("sig", rc.port, "[\"push\"]", 1);

	/* the secret is sealed: never stored or shown in clear */
	call("GET", "/api/orgs/sig/resources/webhooksubscriptions/hook", NULL, 200, &r);
	assert_null(strstr(r.body, SECRET));
	assert_null(strstr(r.body, "\"secret\""));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(r.json, "spec"), "signing"), "algorithm")),
			    "hmac-sha256");
	assert_non_null(json_string_value(json_object_get(
		json_object_get(json_object_get(r.json, "spec"), "signing"), "sealedSecret")));
	http_resp_free(&r);
	call("GET", "/api/orgs/sig/resources?kind=WebhookSubscription", NULL, 200, &r);
	assert_null(strstr(r.body, SECRET));
	http_resp_free(&r);
	/* also when written with PUT */
	call("PUT", "/api/orgs/sig/resources/webhooksubscriptions/hook",
	     "{\"kind\":\"WebhookSubscription\",\"metadata\":{\"name\":\"hook\"},\"spec\":{\"url\":\"http://127.0.0.1:1/"
	     "x\",\"events\":[\"issue.opened\"],\"secret\":\"another-secret-value\"}}",
	     200, &r);
	assert_null(strstr(r.body, "another-secret-value"));
	http_resp_free(&r);
	/* a secret that is not a string is refused */
	call("POST", "/api/orgs/sig/resources",
	     "{\"kind\":\"WebhookSubscription\",\"metadata\":{\"name\":\"bad\"},\"spec\":{\"url\":\"http://x/\","
	     "\"events\":[\"push\"],\"secret\":42}}",
	     422, &r);
	assert_non_null(strstr(r.body, "spec.secret"));
	http_resp_free(&r);
	{
		char body2[512];

		snprintf(body2, sizeof(body2),
			 "{\"kind\":\"WebhookSubscription\",\"metadata\":{\"name\":\"hook\"},"
			 "\"spec\":{\"url\":\"http://127.0.0.1:%d/receive\",\"events\":[\"push\"],\"secret\":\"" SECRET
			 "\"}}",
			 rc.port);
		harness_apply(&srv, "sig", body2);
	}
	/* a subscription to other events gets nothing */
	harness_apply(&srv, "sig", "{\"kind\":\"WebhookSubscription\",\"metadata\":{\"name\":\"issues-only\"},"
		      "\"spec\":{\"url\":\"http://127.0.0.1:1/none\",\"events\":[\"issue.opened\"]}}");

	push("sig", "sig", "main");
	items = deliveries("sig", "Delivered", 1);
	assert_int_equal(json_array_size(items), 1);
	d = json_array_get(items, 0);
	assert_int_equal(status_int(d, "attempts"), 1);
	assert_int_equal(status_int(d, "responseStatus"), 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "status"), "responseSnippet")),
			    "thanks!");
	assert_string_equal(spec_str(d, "eventType"), "push");
	assert_string_equal(spec_str(d, "subscription"), "hook");
	snprintf(name, sizeof(name), "%s", json_string_value(json_object_get(json_object_get(d, "metadata"), "name")));
	snprintf(id, sizeof(id), "%s", spec_str(d, "deliveryId"));

	/* exactly one POST, signed over the exact body */
	assert_int_equal(receiver_count(&rc), 1);
	assert_non_null(strstr(rc.req[0].head, "POST /receive HTTP/1.1"));
	assert_string_equal(req_header(&rc, 0, "X-Krate-Event"), "push");
	assert_string_equal(req_header(&rc, 0, "User-Agent"), "Krate-Hookshot");
	assert_string_equal(req_header(&rc, 0, "Content-Type"), "application/json");
	del = req_header(&rc, 0, "X-Krate-Delivery");
	assert_non_null(del);
	assert_string_equal(del, spec_str(d, "deliveryId"));
	expected_signature(&rc, 0, sig);
	assert_string_equal(req_header(&rc, 0, "X-Krate-Signature-256"), sig);
	assert_string_equal(spec_str(d, "signature"), sig);
	body = json_loads(rc.req[0].body, 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "event")), "push");
	assert_string_equal(json_string_value(json_object_get(body, "org")), "sig");
	assert_string_equal(json_string_value(json_object_get(body, "repository")), "code");
	assert_string_equal(json_string_value(json_object_get(body, "ref")), "refs/heads/main");
	assert_string_equal(json_string_value(json_object_get(body, "pusher")), "admin");
	assert_string_equal(json_string_value(json_object_get(body, "before")),
			    "0000000000000000000000000000000000000000");
	assert_int_equal(strlen(json_string_value(json_object_get(body, "after"))), 40);
	json_decref(body);

	json_decref(items);

	/* redelivery: a new delivery that replays this one, sent and signed again */
	snprintf(path, sizeof(path), "/api/orgs/sig/webhookdeliveries/%s/redeliver", name);
	call("POST", path, NULL, 201, &r);
	nd = r.json;
	assert_string_equal(spec_str(nd, "replayOf"), name);
	assert_string_not_equal(json_string_value(json_object_get(json_object_get(nd, "metadata"), "name")), name);
	assert_string_not_equal(spec_str(nd, "deliveryId"), id);
	http_resp_free(&r);
	items = deliveries("sig", "Delivered", 2);
	json_decref(items);
	assert_int_equal(receiver_count(&rc), 2);
	expected_signature(&rc, 1, sig);
	assert_string_equal(req_header(&rc, 1, "X-Krate-Signature-256"), sig);
	assert_string_equal(rc.req[1].body, rc.req[0].body);
	/* unknown → 404; the redelivery is audited */
	call("POST", "/api/orgs/sig/webhookdeliveries/hook-000000000000/redeliver", NULL, 404, &r);
	http_resp_free(&r);
	call("GET", "/api/audit?org=sig&limit=1000", NULL, 200, &r);
	assert_non_null(strstr(r.body, "\"verb\":\"redeliver\""));
	http_resp_free(&r);
	/* a viewer may not redeliver */
	{
		char *viewer = harness_token(&srv, "vic", "sig", "viewer");

		assert_non_null(viewer);
		assert_int_equal(http_call(&srv, "POST", path, viewer, NULL, NULL, &r), 0);
		assert_int_equal(r.status, 403);
		http_resp_free(&r);
		free(viewer);
	}
	console_redeliver("sig", name);
	items = deliveries("sig", "Delivered", 3);
	json_decref(items);
	assert_int_equal(receiver_count(&rc), 3);
	assert_string_equal(rc.req[2].body, rc.req[0].body);
	receiver_stop(&rc);
}

static void test_retry_then_delivered(void **state)
{
	struct receiver rc;
	json_t *items, *d;

	(void)state;
	receiver_start(&rc, 2, 0);
	make_org("retry", rc.port, "[\"*\"]", 0);
	push("retry", "retry", "main");
	items = deliveries("retry", "Delivered", 1);
	d = json_array_get(items, 0);
	assert_int_equal(status_int(d, "attempts"), 3);
	assert_int_equal(status_int(d, "responseStatus"), 200);
	assert_int_equal(receiver_count(&rc), 3);
	/* no secret: no signature header */
	assert_null(req_header(&rc, 2, "X-Krate-Signature-256"));
	json_decref(items);
	receiver_stop(&rc);
}

static void test_always_failing(void **state)
{
	struct receiver rc;
	json_t *items, *d, *st;

	(void)state;
	receiver_start(&rc, 0, 1);
	make_org("broken", rc.port, "[\"push\"]", 0);
	push("broken", "broken", "main");
	items = deliveries("broken", "Failed", 1);
	d = json_array_get(items, 0);
	st = json_object_get(d, "status");
	assert_int_equal(status_int(d, "attempts"), 4);
	assert_int_equal(status_int(d, "responseStatus"), 500);
	assert_string_equal(json_string_value(json_object_get(st, "responseSnippet")), "broken!");
	assert_non_null(json_string_value(json_object_get(st, "lastError")));
	assert_int_equal(receiver_count(&rc), 4);
	/* Failed stays Failed */
	usleep(500000);
	assert_int_equal(receiver_count(&rc), 4);
	json_decref(items);
	receiver_stop(&rc);
}

static void test_pending_survives_restart(void **state)
{
	struct receiver rc;
	struct http_resp r;
	json_t *items, *d;
	int i;

	(void)state;
	/* a long backoff keeps the delivery Pending after its first failure */
	stop_keep();
	assert_int_equal(harness_restart(&srv, "--webhook-attempts 4 --webhook-backoff-ms 600000"), 0);
	receiver_bind(&rc);       /* connections refused: the receiver is down */
	make_org("later", rc.port, "[\"push\"]", 1);
	push("later", "later", "main");
	for (i = 0; i < 400; i++) {
		items = deliveries("later", "Pending", 1);
		d = json_array_get(items, 0);
		if (status_int(d, "attempts") == 1)
			break;
		json_decref(items);
		items = NULL;
		usleep(25000);
	}
	assert_non_null(items);
	assert_non_null(json_string_value(json_object_get(json_object_get(d, "status"), "nextAttemptAt")));
	assert_non_null(json_string_value(json_object_get(json_object_get(d, "status"), "lastError")));
	json_decref(items);
	assert_int_equal(receiver_count(&rc), 0);

	stop_keep();
	receiver_up(&rc);
	assert_int_equal(harness_restart(&srv, "--webhook-attempts 4 --webhook-backoff-ms 600000"), 0);
	items = deliveries("later", "Delivered", 1);
	d = json_array_get(items, 0);
	assert_int_equal(status_int(d, "attempts"), 2);
	assert_int_equal(receiver_count(&rc), 1);
	json_decref(items);
	/* the subscription still shows no secret after the restart */
	call("GET", "/api/orgs/later/resources/webhooksubscriptions/hook", NULL, 200, &r);
	assert_null(strstr(r.body, SECRET));
	http_resp_free(&r);
	receiver_stop(&rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_push),
		cmocka_unit_test(test_retry_then_delivered),
		cmocka_unit_test(test_always_failing),
		cmocka_unit_test(test_pending_survives_restart),
	};

	harness_group(&srv, "--webhook-attempts 4 --webhook-backoff-ms 100", work, sizeof(work), "hooks");
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
