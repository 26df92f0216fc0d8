/* The resource API over HTTP, as a client sees it: auth, CRUD, admission
 * errors, concurrency, org isolation, paging, audit and the UI model. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct krate_server srv;

static int setup(void **state)
{
	(void)state;
	return harness_start(&srv, NULL);
}

static int teardown(void **state)
{
	(void)state;
	return harness_stop(&srv);
}

static long call(const char *method, const char *path, const char *token, const char *body, struct http_resp *r)
{
	assert_int_equal(http_call(&srv, method, path, token, body, NULL, r), 0);
	return r->status;
}

static const char *err_code(struct http_resp *r)
{
	return json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
}

static void make_org(const char *name)
{
	struct http_resp r;
	char body[256];

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"displayName\":\"Org %s\"}", name, name);
	call("POST", "/api/orgs", srv.admin_token, body, &r);
	assert_true(r.status == 201 || r.status == 200);
	http_resp_free(&r);
}

static void test_health_and_auth(void **state)
{
	struct http_resp r;
	char *cid;

	(void)state;
	assert_int_equal(call("GET", "/healthz", NULL, NULL, &r), 200);
	assert_true(json_is_true(json_object_get(r.json, "ok")));
	http_resp_free(&r);

	call("GET", "/readyz", NULL, NULL, &r);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(r.json, "components"),
									       "store"), "status")), "ready");
	assert_non_null(json_object_get(json_object_get(r.json, "components"), "agentGateway"));
	http_resp_free(&r);

	assert_int_equal(call("GET", "/api/kinds", NULL, NULL, &r), 401);
	assert_string_equal(err_code(&r), "UNAUTHENTICATED");
	cid = http_header(&r, "X-Correlation-Id");
	assert_non_null(cid);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "correlationId")), cid);
	free(cid);
	http_resp_free(&r);

	assert_int_equal(call("GET", "/api/kinds", "krt_not-a-real-token", NULL, &r), 401);
	http_resp_free(&r);

	/* an unauthenticated write is refused and audited */
	assert_int_equal(call("POST", "/api/orgs", NULL, "{\"name\":\"x\"}", &r), 401);
	http_resp_free(&r);

	assert_int_equal(call("GET", "/api/kinds", srv.admin_token, NULL, &r), 200);
	{
		json_t *kinds = json_object_get(r.json, "kinds"), *k;
		size_t i;
		int found = 0;

		assert_true(json_array_size(kinds) >= 50);
		json_array_foreach(kinds, i, k)
			if (!strcmp(json_string_value(json_object_get(k, "kind")), "Repository"))
				found = !strcmp(json_string_value(json_object_get(k, "plural")), "repositories");
		assert_true(found);
	}
	http_resp_free(&r);

	assert_int_equal(call("GET", "/api/nope", srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);
	assert_int_equal(call("PATCH", "/api/orgs", srv.admin_token, "{}", &r), 405);
	http_resp_free(&r);
}

static void test_crud_generation_and_conflict(void **state)
{
	struct http_resp r;
	const char *repo = "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"app\"},"
			   "\"spec\":{\"visibility\":\"private\"}}";
	char body[512], path[256];
	const char *uid, *rv;
	char uid_s[64], rv_s[32];

	(void)state;
	make_org("acme");
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token, repo, &r), 201);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "metadata"), "namespace")),
			    "krate-org-acme");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "spec"), "organizationRef")),
			    "acme");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "metadata"), "generation")), 1);
	uid = json_string_value(json_object_get(json_object_get(r.json, "metadata"), "uid"));
	assert_non_null(uid);
	snprintf(uid_s, sizeof(uid_s), "%s", uid);
	http_resp_free(&r);

	/* same spec again: 200, generation unchanged */
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token, repo, &r), 200);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "metadata"), "generation")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "metadata"), "uid")), uid_s);
	http_resp_free(&r);

	/* spec change moves generation */
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			      "{\"kind\":\"repo\",\"metadata\":{\"name\":\"app\"},\"spec\":{\"visibility\":\"public\"}}",
			      &r), 200);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "metadata"), "generation")), 2);
	rv = json_string_value(json_object_get(json_object_get(r.json, "metadata"), "resourceVersion"));
	snprintf(rv_s, sizeof(rv_s), "%s", rv);
	http_resp_free(&r);

	/* status update: generation stays */
	assert_int_equal(call("PUT", "/api/orgs/acme/resources/Repository/app/status", srv.admin_token,
			      "{\"status\":{\"phase\":\"Ready\"}}", &r), 200);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "metadata"), "generation")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "status"), "phase")), "Ready");
	http_resp_free(&r);

	/* the version read before the status write is now stale */
	snprintf(body, sizeof(body),
		 "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"app\",\"resourceVersion\":\"%s\"},"
		 "\"spec\":{\"visibility\":\"internal\"}}", rv_s);
	assert_int_equal(call("PUT", "/api/orgs/acme/resources/Repository/app", srv.admin_token, body, &r), 409);
	assert_string_equal(err_code(&r), "CONFLICT");
	http_resp_free(&r);

	/* controller route with ?namespace= reads the same object; kind by plural */
	assert_int_equal(call("GET", "/api/controller/resources/repositories/app?namespace=krate-org-acme",
			      srv.admin_token, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "spec"), "visibility")), "public");
	http_resp_free(&r);

	/* delete, then it is gone */
	snprintf(path, sizeof(path), "/api/orgs/acme/resources/Repository/app");
	assert_int_equal(call("DELETE", path, srv.admin_token, NULL, &r), 200);
	http_resp_free(&r);
	assert_int_equal(call("GET", path, srv.admin_token, NULL, &r), 404);
	assert_string_equal(err_code(&r), "NOT_FOUND");
	http_resp_free(&r);
	assert_int_equal(call("DELETE", path, srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);
}

static void assert_nothing_stored(const char *name)
{
	struct http_resp r;
	char path[256];

	snprintf(path, sizeof(path), "/api/orgs/acme/resources/Repository/%s", name);
	assert_int_equal(call("GET", path, srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);
}

static void test_bad_input(void **state)
{
	struct http_resp r;
	json_t *reasons;
	char *big;
	size_t i;
	int saw_vis = 0;

	(void)state;
	make_org("acme");
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token, "{\"kind\": ", &r), 400);
	assert_string_equal(err_code(&r), "INVALID_JSON");
	http_resp_free(&r);

	/* 422 with one reason per field */
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			      "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"bad1\"},\"spec\":{\"visibility\":\"secret\","
			      "\"defaultBranch\":7}}", &r), 422);
	reasons = json_object_get(json_object_get(r.json, "error"), "reasons");
	assert_true(json_array_size(reasons) >= 2);
	for (i = 0; i < json_array_size(reasons); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(reasons, i), "field")), "spec.visibility"))
			saw_vis = 1;
	assert_true(saw_vis);
	http_resp_free(&r);
	assert_nothing_stored("bad1");

	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			      "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"../etc\"},\"spec\":{\"visibility\":\"public\"}}",
			      &r), 422);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			      "{\"kind\":\"NoSuchKind\",\"metadata\":{\"name\":\"x\"},\"spec\":{}}", &r), 422);
	assert_string_equal(err_code(&r), "UNKNOWN_KIND");
	http_resp_free(&r);

	/* YAML aliases are refused */
	assert_int_equal(http_call(&srv, "POST", "/api/orgs/acme/resources", srv.admin_token,
				   "kind: Repository\nmetadata: &m {name: bad2}\nspec: {visibility: public}\nx: *m\n",
				   "application/yaml", &r), 0);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	assert_nothing_stored("bad2");

	/* invalid UTF-8 */
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			      "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"bad3\"},\"spec\":{\"visibility\":\"public\","
			      "\"description\":\"\xff\xfe\"}}", &r), 400);
	http_resp_free(&r);
	assert_nothing_stored("bad3");

	/* oversized body */
	big = malloc(2 * 1024 * 1024 + 1);
	memset(big, ' ', 2 * 1024 * 1024);
	big[2 * 1024 * 1024] = '\0';
	{
		static const char head[] =
			"{\"kind\":\"Repository\",\"metadata\":{\"name\":\"bad4\"},\"spec\":{\"visibility\":\"public\"}}";

		memcpy(big, head, sizeof(head) - 1);
	}
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token, big, &r), 413);
	free(big);
	http_resp_free(&r);
	assert_nothing_stored("bad4");

	/* still serving */
	assert_int_equal(call("GET", "/healthz", NULL, NULL, &r), 200);
	http_resp_free(&r);
}

static void test_org_isolation_and_roles(void **state)
{
	struct http_resp r;
	char *alpha_dev, *viewer;

	(void)state;
	make_org("alpha");
	make_org("beta");
	assert_int_equal(call("POST", "/api/orgs/beta/resources", srv.admin_token,
			      "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"secret-plans\"},\"spec\":{\"visibility\":\"private\"}}",
			      &r), 201);
	http_resp_free(&r);

	alpha_dev = harness_token(&srv, "dana", "alpha", "developer");
	viewer = harness_token(&srv, "vic", "alpha", "viewer");
	assert_non_null(alpha_dev);
	assert_non_null(viewer);

	/* the other org does not exist for this token, and nothing names its objects */
	assert_int_equal(call("GET", "/api/orgs/beta/resources/Repository/secret-plans", alpha_dev, NULL, &r), 404);
	assert_null(strstr(r.body, "secret-plans"));
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/beta/resources?kind=Repository", alpha_dev, NULL, &r), 404);
	assert_null(strstr(r.body, "secret-plans"));
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/controller/resources", alpha_dev,
			      "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"sneak\"},"
			      "\"spec\":{\"organizationRef\":\"beta\",\"visibility\":\"public\"}}", &r), 404);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs", alpha_dev, NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "organizations")), 1);
	http_resp_free(&r);
	/* a list without namespace stays inside the token's org */
	assert_int_equal(call("GET", "/api/controller/resources?kind=Repository", alpha_dev, NULL, &r), 200);
	assert_null(strstr(r.body, "secret-plans"));
	http_resp_free(&r);

	/* developer may write a Repository in its org, not an admin-only kind */
	assert_int_equal(call("POST", "/api/orgs/alpha/resources", alpha_dev,
			      "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"svc\"},\"spec\":{\"visibility\":\"public\"}}",
			      &r), 201);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/alpha/resources", alpha_dev,
			      "{\"kind\":\"RunnerPool\",\"metadata\":{\"name\":\"rp\"},\"spec\":{\"warmReplicas\":1,\"maxReplicas\":2}}",
			      &r), 403);
	http_resp_free(&r);

	/* viewers only read */
	assert_int_equal(call("GET", "/api/orgs/alpha/resources/Repository/svc", viewer, NULL, &r), 200);
	http_resp_free(&r);
	assert_int_equal(call("DELETE", "/api/orgs/alpha/resources/Repository/svc", viewer, NULL, &r), 403);
	assert_string_equal(err_code(&r), "FORBIDDEN");
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/tokens", viewer, "{\"user\":\"x\",\"role\":\"admin\"}", &r), 403);
	http_resp_free(&r);

	assert_int_equal(call("GET", "/api/whoami", viewer, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "role")), "viewer");
	http_resp_free(&r);
	free(alpha_dev);
	free(viewer);
}

static void test_paging_and_selectors(void **state)
{
	struct http_resp r;
	char body[512], path[1024], cont[512] = "";
	int i, seen = 0, pages = 0;

	(void)state;
	make_org("paging");
	for (i = 0; i < 25; i++) {
		snprintf(body, sizeof(body),
			 "{\"kind\":\"Issue\",\"metadata\":{\"name\":\"issue-%02d\",\"labels\":{\"parity\":\"%s\"}},"
			 "\"spec\":{\"title\":\"Issue number %d\"}}", i, i % 2 ? "odd" : "even", i);
		assert_int_equal(call("POST", "/api/orgs/paging/resources", srv.admin_token, body, &r), 201);
		http_resp_free(&r);
	}
	do {
		json_t *items;

		snprintf(path, sizeof(path), "/api/orgs/paging/resources?kind=Issue&limit=10%s%s", cont[0] ? "&continue=" : "",
			 cont);
		assert_int_equal(call("GET", path, srv.admin_token, NULL, &r), 200);
		assert_string_equal(json_string_value(json_object_get(r.json, "kind")), "IssueList");
		items = json_object_get(r.json, "items");
		assert_true(json_array_size(items) <= 10);
		for (i = 0; i < (int)json_array_size(items); i++) {
			char want[32];

			snprintf(want, sizeof(want), "issue-%02d", seen + i);
			assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(items, (size_t)i), "metadata"), "name")), want);
		}
		seen += (int)json_array_size(items);
		pages++;
		{
			const char *c = json_string_value(json_object_get(json_object_get(r.json, "metadata"), "continue"));

			snprintf(cont, sizeof(cont), "%s", c ? c : "");
		}
		http_resp_free(&r);
	} while (cont[0] && pages < 10);
	assert_int_equal(seen, 25);
	assert_int_equal(pages, 3);

	assert_int_equal(call("GET", "/api/orgs/paging/resources?kind=Issue&labelSelector=parity%3Dodd", srv.admin_token,
			      NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 12);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/paging/resources?kind=Issue&continue=garbage", srv.admin_token, NULL,
			      &r), 400);
	http_resp_free(&r);
}

static void test_multi_document_apply_is_atomic(void **state)
{
	struct http_resp r;
	const char *good = "kind: Organization\nmetadata: {name: multi}\nspec: {displayName: Multi}\n---\n"
			   "kind: Repository\nmetadata: {name: one}\nspec: {organizationRef: multi, visibility: public}\n---\n"
			   "kind: Issue\nmetadata: {name: two}\nspec: {organizationRef: multi, title: Second object}\n";
	const char *bad = "kind: Repository\nmetadata: {name: three}\nspec: {organizationRef: multi, visibility: public}\n---\n"
			  "kind: Issue\nmetadata: {name: four}\nspec: {organizationRef: multi}\n";

	(void)state;
	assert_int_equal(http_call(&srv, "POST", "/api/controller/resources", srv.admin_token, good, "application/yaml",
				   &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/multi/resources/Issue/two", srv.admin_token, NULL, &r), 200);
	http_resp_free(&r);

	assert_int_equal(http_call(&srv, "POST", "/api/controller/resources", srv.admin_token, bad, "application/yaml",
				   &r), 0);
	assert_int_equal(r.status, 422);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/multi/resources/Repository/three", srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);
}

static void test_controller_model_and_metrics(void **state)
{
	struct http_resp r;
	json_t *agents;
	int i;

	(void)state;
	make_org("acme");
	assert_int_equal(call("GET", "/api/controller?org=acme", srv.admin_token, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "org"), "name")), "acme");
	assert_true(json_array_size(json_object_get(r.json, "orgs")) >= 1);
	assert_true(json_array_size(json_object_get(r.json, "resources")) > 40);
	agents = json_object_get(json_object_get(r.json, "views"), "agents");
	assert_non_null(json_object_get(agents, "activeRuns"));
	assert_non_null(json_object_get(agents, "pendingApprovals"));
	assert_non_null(json_object_get(agents, "stackReadiness"));
	assert_non_null(json_object_get(agents, "missingPermissions"));
	assert_non_null(json_object_get(agents, "repositoryAffordances"));
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/controller?org=nope", srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);

	/* A request is counted when the server finishes it, which may be just
	 * after the client has read the answer: give the count a moment. */
	for (i = 0; i < 100; i++) {
		assert_int_equal(call("GET", "/metrics", NULL, NULL, &r), 200);
		if (strstr(r.body, "krate_http_requests_total{method=\"GET\",route=\"/api/controller\",code=\"200\"}"))
			break;
		http_resp_free(&r);
		usleep(20000);
	}
	assert_non_null(strstr(r.body, "krate_http_requests_total{method=\"GET\",route=\"/api/controller\",code=\"200\"}"));
	assert_non_null(strstr(r.body, "krate_http_request_duration_seconds_bucket"));
	assert_non_null(strstr(r.body, "krate_watches_open"));
	assert_non_null(strstr(r.body, "krate_store_bytes"));
	http_resp_free(&r);
}

static void test_audit_log(void **state)
{
	struct http_resp r;
	json_t *items, *it;
	size_t i;
	int denied = 0, allowed = 0;

	(void)state;
	assert_int_equal(call("GET", "/api/audit?limit=1000", srv.admin_token, NULL, &r), 200);
	items = json_object_get(r.json, "items");
	assert_true(json_array_size(items) > 5);
	json_array_foreach(items, i, it) {
		const char *res = json_string_value(json_object_get(it, "result"));

		assert_non_null(json_object_get(it, "actor"));
		assert_non_null(json_object_get(it, "time"));
		assert_int_equal(strlen(json_string_value(json_object_get(it, "hash"))), 64);
		if (!strncmp(res, "denied:", 7) || !strncmp(res, "failed:", 7))
			denied++;
		if (!strcmp(res, "allowed"))
			allowed++;
	}
	assert_true(denied > 0);
	assert_true(allowed > 0);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/audit/verify", srv.admin_token, NULL, &r), 200);
	assert_true(json_is_true(json_object_get(r.json, "ok")));
	http_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_and_auth),
		cmocka_unit_test(test_crud_generation_and_conflict),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_org_isolation_and_roles),
		cmocka_unit_test(test_paging_and_selectors),
		cmocka_unit_test(test_multi_document_apply_is_atomic),
		cmocka_unit_test(test_controller_model_and_metrics),
		cmocka_unit_test(test_audit_log),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
