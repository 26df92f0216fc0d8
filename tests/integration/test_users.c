/* Console users as a client sees them: POST /api/users (who may, what comes
 * back, conflicts, audit), `krate user create`, the session cookie on the
 * API's safe methods, and the demo user that `serve --demo` prints. */
#include "harness.h"

#include <curl/curl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

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
	char body[128];

	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	call("POST", "/api/orgs", srv.admin_token, body, &r);
	assert_true(r.status == 201 || r.status == 200);
	http_resp_free(&r);
}

static int base64url(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static void test_create_over_http(void **state)
{
	struct http_resp r;
	char *viewer, *acme_admin, *audit_text;
	const char *pw;

	(void)state;
	make_org("acme");
	make_org("beta");

	/* no password given: one is generated and shown once */
	assert_int_equal(call("POST", "/api/users", srv.admin_token, "{\"name\":\"ana\",\"role\":\"developer\"}", &r),
			 201);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "ana");
	assert_string_equal(json_string_value(json_object_get(r.json, "role")), "developer");
	assert_true(json_is_null(json_object_get(r.json, "org")));
	pw = json_string_value(json_object_get(r.json, "password"));
	assert_non_null(pw);
	assert_true(base64url(pw, 20));
	http_resp_free(&r);

	/* a chosen password is not echoed */
	assert_int_equal(call("POST", "/api/users", srv.admin_token,
			      "{\"name\":\"bob\",\"role\":\"viewer\",\"org\":\"acme\",\"password\":\"bob's own password\"}",
			      &r), 201);
	assert_string_equal(json_string_value(json_object_get(r.json, "org")), "acme");
	assert_null(json_object_get(r.json, "password"));
	http_resp_free(&r);

	assert_int_equal(call("POST", "/api/users", srv.admin_token, "{\"name\":\"ana\",\"role\":\"admin\"}", &r), 409);
	assert_string_equal(err_code(&r), "CONFLICT");
	http_resp_free(&r);

	assert_int_equal(call("POST", "/api/users", srv.admin_token,
			      "{\"name\":\"cy\",\"role\":\"viewer\",\"password\":\"too short\"}", &r), 422);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(r.json,
		"error"), "reasons"), 0), "field")), "password");
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/users", srv.admin_token, "{\"name\":\"No Such Name\",\"role\":\"viewer\"}",
			      &r), 422);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/users", srv.admin_token, "{\"name\":\"cy\",\"role\":\"root\"}", &r), 422);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/users", srv.admin_token, "not json", &r), 400);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/users", srv.admin_token, "{\"name\":\"cy\",\"role\":\"viewer\",\"org\":\"nope\"}",
			      &r), 404);
	http_resp_free(&r);

	/* only admins, and an org-bound admin only within its org */
	viewer = harness_token(&srv, "vic", NULL, "viewer");
	assert_non_null(viewer);
	assert_int_equal(call("POST", "/api/users", viewer, "{\"name\":\"cy\",\"role\":\"viewer\"}", &r), 403);
	assert_string_equal(err_code(&r), "FORBIDDEN");
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/users", NULL, "{\"name\":\"cy\",\"role\":\"viewer\"}", &r), 401);
	http_resp_free(&r);
	acme_admin = harness_token(&srv, "ada", "acme", "admin");
	assert_non_null(acme_admin);
	assert_int_equal(call("POST", "/api/users", acme_admin, "{\"name\":\"cy\",\"role\":\"viewer\",\"org\":\"beta\"}",
			      &r), 403);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/users", acme_admin, "{\"name\":\"cy\",\"role\":\"admin\"}", &r), 403);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/users", acme_admin, "{\"name\":\"cy\",\"role\":\"admin\",\"org\":\"acme\"}",
			      &r), 201);
	assert_string_equal(json_string_value(json_object_get(r.json, "org")), "acme");
	http_resp_free(&r);

	/* every outcome is audited; no password is */
	assert_int_equal(call("GET", "/api/audit?limit=1000", srv.admin_token, NULL, &r), 200);
	audit_text = r.body;
	assert_non_null(strstr(audit_text, "\"verb\":\"user.create\""));
	assert_non_null(strstr(audit_text, "\"result\":\"failed:CONFLICT\""));
	assert_non_null(strstr(audit_text, "\"result\":\"denied:FORBIDDEN\""));
	assert_non_null(strstr(audit_text, "User/bob (role viewer, org acme)"));
	assert_null(strstr(audit_text, "bob's own password"));
	http_resp_free(&r);
	free(viewer);
	free(acme_admin);
}

static void test_cli_user_create(void **state)
{
	char *out = NULL, *viewer, *nl;
	int rc;

	(void)state;
	/* stdout holds only the password; the note goes to stderr (both land in out) */
	rc = harness_cli(&srv, srv.admin_token, "user create carla --role developer", NULL, &out);
	assert_int_equal(rc, 0);
	nl = strchr(out, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_true(base64url(out, 20));
	assert_non_null(strstr(nl + 1, "created console user carla (role developer)"));
	free(out);

	rc = harness_cli(&srv, srv.admin_token, "user create dora --admin --password-stdin", "dora's chosen password\n",
			 &out);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "dora's chosen password"));
	assert_non_null(strstr(out, "created console user dora (role admin)"));
	free(out);

	rc = harness_cli(&srv, srv.admin_token, "user create dora", NULL, &out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "already exists"));
	free(out);

	rc = harness_cli(&srv, srv.admin_token, "user create eve --admin --role viewer", NULL, &out);
	assert_int_equal(rc, 2);
	free(out);
	rc = harness_cli(&srv, srv.admin_token, "user create eve --password-stdin", "short\n", &out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "12 characters"));
	free(out);

	viewer = harness_token(&srv, "vera", NULL, "viewer");
	rc = harness_cli(&srv, viewer, "user create eve", NULL, &out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "FORBIDDEN"));
	free(out);
	free(viewer);
}

/* GET with a Cookie header and no Authorization. */
static long cookie_call(const char *method, const char *path, const char *cookie, json_t **json)
{
	CURL *c = curl_easy_init();
	char url[512];
	long status = 0;
	FILE *body;
	char *text = NULL;
	size_t len = 0;

	assert_non_null(c);
	body = open_memstream(&text, &len);
	snprintf(url, sizeof(url), "%s%s", srv.base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (!strcmp(method, "POST"))
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"name\":\"zed\"}");
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	fclose(body);
	*json = json_loads(text ? text : "", 0, NULL);
	free(text);
	return status;
}

/* Stands in for the console's sign-in (its own tests cover POST /login): a
 * session row as the store writes it, keyed by the cookie's SHA-256. */
static void plant_session(const char *cookie_value, const char *user, const char *org, int role, long ttl)
{
	char dbpath[300], hash[65], *sql;
	sqlite3 *db = NULL;

	util_sha256_hex(hash, cookie_value, strlen(cookie_value));
	snprintf(dbpath, sizeof(dbpath), "%s/krate.db", srv.dir);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sql = sqlite3_mprintf("INSERT INTO sessions(hash, user, org, role, csrf, expires, created) "
			      "VALUES (%Q, %Q, %Q, %d, 'csrf', %lld, %lld)", hash, user, org, role,
			      (long long)time(NULL) + ttl, (long long)time(NULL));
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	sqlite3_close(db);
}

static void test_session_cookie_on_api(void **state)
{
	json_t *j = NULL;

	(void)state;
	make_org("acme");
	make_org("beta");
	plant_session("kss_integration-admin-session", "ana", NULL, 3, 3600);
	plant_session("kss_integration-acme-session", "ben", "acme", 1, 3600);
	plant_session("kss_integration-old-session", "ana", NULL, 3, -10);

	assert_int_equal(cookie_call("GET", "/api/whoami", "krate_session=kss_integration-admin-session", &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "user")), "ana");
	assert_string_equal(json_string_value(json_object_get(j, "role")), "admin");
	json_decref(j);
	assert_int_equal(cookie_call("GET", "/api/whoami", "a=b; krate_session=kss_integration-acme-session; c=d", &j),
			 200);
	assert_string_equal(json_string_value(json_object_get(j, "org")), "acme");
	json_decref(j);
	/* the session's org binding holds as for a token */
	assert_int_equal(cookie_call("GET", "/api/orgs/acme", "krate_session=kss_integration-acme-session", &j), 200);
	json_decref(j);
	assert_int_equal(cookie_call("GET", "/api/orgs/beta", "krate_session=kss_integration-acme-session", &j), 404);
	json_decref(j);

	/* mutations through /api need the bearer token, even for an admin session */
	assert_int_equal(cookie_call("POST", "/api/orgs", "krate_session=kss_integration-admin-session", &j), 401);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")), "UNAUTHENTICATED");
	json_decref(j);

	assert_int_equal(cookie_call("GET", "/api/whoami", "krate_session=kss_integration-old-session", &j), 401);
	json_decref(j);
	assert_int_equal(cookie_call("GET", "/api/whoami", "krate_session=kss_never-issued", &j), 401);
	json_decref(j);
	assert_int_equal(cookie_call("GET", "/api/whoami", "other=kss_integration-admin-session", &j), 401);
	json_decref(j);
}

static int log_count(const struct krate_server *s, const char *needle, char *line, size_t size)
{
	char path[300], buf[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/server.log", s->dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f)) {
		if (strstr(buf, needle)) {
			n++;
			if (line)
				snprintf(line, size, "%s", buf);
		}
	}
	fclose(f);
	return n;
}

/* The line follows "serving on" (after the port file the harness waits for). */
static int wait_log(const struct krate_server *s, const char *needle, int count, char *line, size_t size)
{
	struct timespec ts = { 0, 50 * 1000000L };
	int i;

	for (i = 0; i < 200; i++) {
		if (log_count(s, needle, line, size) >= count)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void test_demo_credentials(void **state)
{
	struct krate_server demo;
	char path[300], text[256], line[1024], expect[256];
	struct stat st;
	FILE *f;
	size_t n;
	const char *pw;

	(void)state;
	assert_int_equal(harness_start(&demo, "--demo"), 0);
	snprintf(path, sizeof(path), "%s/demo-credentials", demo.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_memory_equal(text, "demo ", 5);
	assert_int_equal(text[n - 1], '\n');
	text[n - 1] = '\0';
	pw = text + 5;
	assert_true(base64url(pw, 20));

	assert_int_equal(wait_log(&demo, "Sign in at http://127.0.0.1:", 1, line, sizeof(line)), 0);
	snprintf(expect, sizeof(expect), "Sign in at http://127.0.0.1:%d/ as demo with password %s\n", demo.port, pw);
	assert_string_equal(line, expect);

	/* later starts print the same sign-in and keep the file */
	harness_kill(&demo, SIGTERM);
	assert_int_equal(harness_restart(&demo, "--demo"), 0);
	assert_int_equal(wait_log(&demo, "Sign in at http://127.0.0.1:", 2, line, sizeof(line)), 0);
	snprintf(expect, sizeof(expect), "Sign in at http://127.0.0.1:%d/ as demo with password %s\n", demo.port, pw);
	assert_string_equal(line, expect);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the demo user is a real console user: its name is taken */
	{
		struct http_resp r;

		assert_int_equal(http_call(&demo, "POST", "/api/users", demo.admin_token,
					   "{\"name\":\"demo\",\"role\":\"viewer\"}", NULL, &r), 0);
		assert_int_equal(r.status, 409);
		http_resp_free(&r);
	}
	assert_int_equal(harness_stop(&demo), 0);

	/* without --demo nothing is printed */
	assert_int_equal(log_count(&srv, "Sign in at", NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_over_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_user_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_cookie_on_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_credentials, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
