/* The typed repository routes as a client sees them: POST, GET and DELETE on
 * /api/orgs/{org}/repositories[/{repo}], their defaults, validation, RBAC and
 * org visibility, and the forge making the new repository Ready. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct krate_server srv;

static long call(const char *method, const char *path, const char *token, const char *body, struct http_resp *r)
{
	assert_int_equal(http_call(&srv, method, path, token, body, NULL, r), 0);
	return r->status;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* 1 if the error's reasons name field. */
static int has_reason(struct http_resp *r, const char *field)
{
	json_t *reasons = json_object_get(json_object_get(r->json, "error"), "reasons");
	size_t i;

	for (i = 0; i < json_array_size(reasons); i++)
		if (!strcmp(str(json_array_get(reasons, i), "field"), field))
			return 1;
	return 0;
}

static void test_create_defaults_and_reads(void **state)
{
	struct http_resp r;
	const char *host_hdr[] = { "Host: git.example.test:8080", NULL };
	json_t *items, *s;

	(void)state;
	harness_make_org(&srv, "acme");

	assert_int_equal(call("POST", "/api/orgs/acme/repositories", srv.admin_token, "{\"name\":\"web\"}", &r), 201);
	assert_string_equal(str(r.json, "kind"), "Repository");
	assert_string_equal(str(json_object_get(r.json, "metadata"), "name"), "web");
	assert_string_equal(str(json_object_get(r.json, "metadata"), "namespace"), "krate-org-acme");
	assert_string_equal(str(json_object_get(r.json, "spec"), "visibility"), "internal");
	assert_string_equal(str(json_object_get(r.json, "spec"), "defaultBranch"), "main");
	http_resp_free(&r);

	/* applying again updates */
	assert_int_equal(call("POST", "/api/orgs/acme/repositories", srv.admin_token,
			      "{\"name\":\"api\",\"visibility\":\"private\",\"defaultBranch\":\"trunk\","
			      "\"description\":\"the API\"}", &r), 201);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/acme/repositories", srv.admin_token,
			      "{\"name\":\"api\",\"visibility\":\"public\",\"defaultBranch\":\"trunk\"}", &r), 200);
	assert_string_equal(str(json_object_get(r.json, "spec"), "visibility"), "public");
	http_resp_free(&r);

	/* the list, with cloneUrl built from the Host header */
	assert_int_equal(http_call_hdr(&srv, "GET", "/api/orgs/acme/repositories", srv.admin_token, host_hdr, NULL,
				       NULL, &r), 0);
	assert_int_equal(r.status, 200);
	items = json_object_get(r.json, "items");
	assert_int_equal(json_array_size(items), 2);
	s = json_array_get(items, 0);
	if (strcmp(str(s, "name"), "web"))
		s = json_array_get(items, 1);
	assert_string_equal(str(s, "name"), "web");
	assert_string_equal(str(s, "kind"), "Repository");
	assert_string_equal(str(s, "org"), "acme");
	assert_string_equal(str(s, "namespace"), "krate-org-acme");
	assert_string_equal(str(s, "visibility"), "internal");
	assert_string_equal(str(s, "defaultBranch"), "main");
	assert_string_equal(str(s, "cloneUrl"), "http://git.example.test:8080/acme/web.git");
	assert_string_equal(str(s, "href"), "/orgs/acme/resources/repositories/web");
	assert_non_null(str(s, "phase"));
	http_resp_free(&r);

	/* one */
	assert_int_equal(http_call_hdr(&srv, "GET", "/api/orgs/acme/repositories/api", srv.admin_token, host_hdr,
				       NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(str(r.json, "name"), "api");
	assert_string_equal(str(r.json, "visibility"), "public");
	assert_string_equal(str(r.json, "defaultBranch"), "trunk");
	assert_string_equal(str(r.json, "cloneUrl"), "http://git.example.test:8080/acme/api.git");
	http_resp_free(&r);

	assert_int_equal(call("GET", "/api/orgs/acme/repositories/nope", srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);
}

static void test_becomes_ready(void **state)
{
	struct http_resp r;
	int i, ready = 0;

	(void)state;
	harness_make_org(&srv, "rdy");
	assert_int_equal(call("POST", "/api/orgs/rdy/repositories", srv.admin_token, "{\"name\":\"svc\"}", &r), 201);
	http_resp_free(&r);
	for (i = 0; i < 100 && !ready; i++) {
		assert_int_equal(call("GET", "/api/orgs/rdy/repositories/svc", srv.admin_token, NULL, &r), 200);
		ready = !strcmp(str(r.json, "phase"), "Ready");
		http_resp_free(&r);
		if (!ready)
			usleep(50000);
	}
	assert_true(ready);
	assert_int_equal(call("GET", "/api/orgs/rdy/resources/repositories/svc", srv.admin_token, NULL, &r), 200);
	assert_string_equal(str(json_object_get(r.json, "status"), "phase"), "Ready");
	http_resp_free(&r);

	/* the browse routes under the same prefix still answer */
	assert_int_equal(call("GET", "/api/orgs/rdy/repositories/svc/branches", srv.admin_token, NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
	http_resp_free(&r);
}

static void test_validation(void **state)
{
	struct http_resp r;

	(void)state;
	harness_make_org(&srv, "val");
	assert_int_equal(call("POST", "/api/orgs/val/repositories", srv.admin_token, "{\"name\":\"Bad_Name\"}", &r),
			 422);
	assert_true(has_reason(&r, "metadata.name"));
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/val/repositories", srv.admin_token,
			      "{\"name\":\"ok\",\"visibility\":\"secret\"}", &r), 422);
	assert_true(has_reason(&r, "spec.visibility"));
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/val/repositories", srv.admin_token, "not json", &r), 400);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/val/repositories", srv.admin_token, NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
	http_resp_free(&r);
}

static void test_rbac_and_delete(void **state)
{
	struct http_resp r;
	char *viewer, *other;

	(void)state;
	harness_make_org(&srv, "own");
	harness_make_org(&srv, "oth");
	viewer = harness_token(&srv, "vic", "own", "viewer");
	other = harness_token(&srv, "ola", "oth", "admin");
	assert_non_null(viewer);
	assert_non_null(other);

	assert_int_equal(call("POST", "/api/orgs/own/repositories", viewer, "{\"name\":\"x\"}", &r), 403);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/own/repositories", srv.admin_token, "{\"name\":\"lib\"}", &r), 201);
	http_resp_free(&r);
	/* a viewer reads */
	assert_int_equal(call("GET", "/api/orgs/own/repositories/lib", viewer, NULL, &r), 200);
	http_resp_free(&r);
	assert_int_equal(call("DELETE", "/api/orgs/own/repositories/lib", viewer, NULL, &r), 403);
	http_resp_free(&r);

	/* another org's token sees nothing */
	assert_int_equal(call("GET", "/api/orgs/own/repositories", other, NULL, &r), 404);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/own/repositories/lib", other, NULL, &r), 404);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/own/repositories", other, "{\"name\":\"y\"}", &r), 404);
	http_resp_free(&r);
	assert_int_equal(call("DELETE", "/api/orgs/own/repositories/lib", other, NULL, &r), 404);
	http_resp_free(&r);

	assert_int_equal(call("DELETE", "/api/orgs/own/repositories/lib", srv.admin_token, NULL, &r), 200);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/own/repositories/lib", srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);
	assert_int_equal(call("DELETE", "/api/orgs/own/repositories/lib", srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);

	/* the writes are audited like generic ones */
	assert_int_equal(call("GET", "/api/audit?org=own", srv.admin_token, NULL, &r), 200);
	assert_non_null(strstr(r.body, "\"denied:FORBIDDEN\""));
	assert_non_null(strstr(r.body, "Repository/krate-org-own/lib"));
	http_resp_free(&r);
	free(viewer);
	free(other);
}

static void test_cli(void **state)
{
	struct http_resp r;
	char *out = NULL;

	(void)state;
	harness_make_org(&srv, "cli");
	assert_int_equal(harness_cli(&srv, srv.admin_token,
				     "repo create tools -n cli --visibility private --default-branch dev", NULL, &out), 0);
	assert_non_null(strstr(out, "repository tools created"));
	free(out);
	assert_int_equal(call("GET", "/api/orgs/cli/repositories/tools", srv.admin_token, NULL, &r), 200);
	assert_string_equal(str(r.json, "visibility"), "private");
	assert_string_equal(str(r.json, "defaultBranch"), "dev");
	http_resp_free(&r);

	assert_int_equal(harness_cli(&srv, srv.admin_token, "repo list -n cli", NULL, &out), 0);
	assert_non_null(strstr(out, "NAME"));
	assert_non_null(strstr(out, "tools"));
	assert_non_null(strstr(out, "private"));
	assert_non_null(strstr(out, "/cli/tools.git"));
	free(out);

	/* the server's refusal reaches the user */
	assert_int_equal(harness_cli(&srv, srv.admin_token, "repo create tools -n cli --visibility secret", NULL,
				     &out), 1);
	assert_non_null(strstr(out, "spec.visibility"));
	free(out);
	assert_int_equal(harness_cli(&srv, srv.admin_token, "repo list", NULL, &out), 2);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_defaults_and_reads),
		cmocka_unit_test(test_becomes_ready),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_rbac_and_delete),
		cmocka_unit_test(test_cli),
	};

	harness_group(&srv, NULL, NULL, 0, NULL);
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
