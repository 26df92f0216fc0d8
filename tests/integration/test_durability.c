/* Durability and tamper evidence: writes acknowledged before a SIGKILL are
 * all there after a restart, and an altered audit row is detected. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITERS 8
#define MAX_ACKED 100000

static struct krate_server srv;
static atomic_int stop_writers;
static char *acked[WRITERS][MAX_ACKED / WRITERS];
static int nacked[WRITERS];

static void *writer_main(void *arg)
{
	int id = (int)(long)arg, i;
	char body[256], name[64];

	for (i = 0; !atomic_load(&stop_writers) && i < MAX_ACKED / WRITERS; i++) {
		struct http_resp r;

		snprintf(name, sizeof(name), "w%d-%d", id, i);
		snprintf(body, sizeof(body),
			 "{\"kind\":\"Issue\",\"metadata\":{\"name\":\"%s\"},\"spec\":{\"title\":\"Durability check\"}}", name);
		if (http_call(&srv, "POST", "/api/orgs/dur/resources", srv.admin_token, body, NULL, &r) == 0 &&
		    r.status == 201)
			acked[id][nacked[id]++] = strdup(name);
		http_resp_free(&r);
	}
	return NULL;
}

static void test_sigkill_loses_no_acknowledged_write(void **state)
{
	pthread_t th[WRITERS];
	struct http_resp r;
	long i, total = 0, missing = 0;
	int j;

	(void)state;
	assert_int_equal(harness_start(&srv, NULL), 0);
	assert_int_equal(http_call(&srv, "POST", "/api/orgs", srv.admin_token, "{\"name\":\"dur\"}", NULL, &r), 0);
	assert_int_equal(r.status, 201);
	http_resp_free(&r);
	for (i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer_main, (void *)i);
	usleep(1500 * 1000);
	harness_kill(&srv, SIGKILL);
	atomic_store(&stop_writers, 1);
	for (i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);

	assert_int_equal(harness_restart(&srv, NULL), 0);
	for (i = 0; i < WRITERS; i++) {
		for (j = 0; j < nacked[i]; j++) {
			char path[128];

			snprintf(path, sizeof(path), "/api/orgs/dur/resources/Issue/%s", acked[i][j]);
			assert_int_equal(http_call(&srv, "GET", path, srv.admin_token, NULL, NULL, &r), 0);
			if (r.status != 200)
				missing++;
			http_resp_free(&r);
			free(acked[i][j]);
			total++;
		}
	}
	print_message("acknowledged before SIGKILL: %ld, missing after restart: %ld\n", total, missing);
	assert_true(total > 50);
	assert_int_equal(missing, 0);

	/* the audit chain survived the crash intact */
	assert_int_equal(http_call(&srv, "GET", "/api/audit/verify", srv.admin_token, NULL, NULL, &r), 0);
	assert_true(json_is_true(json_object_get(r.json, "ok")));
	http_resp_free(&r);
	assert_int_equal(harness_stop(&srv), 0);
}

static void test_audit_tamper_detected(void **state)
{
	struct http_resp r;
	char dbpath[300], *out = NULL;
	sqlite3 *db;
	int code;

	(void)state;
	assert_int_equal(harness_start(&srv, "--demo"), 0);
	/* the CLI passes on an intact chain */
	code = harness_cli(&srv, srv.admin_token, "audit verify", NULL, &out);
	assert_int_equal(code, 0);
	assert_non_null(strstr(out, "ok"));
	free(out);

	snprintf(dbpath, sizeof(dbpath), "%s/krate.db", srv.dir);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "UPDATE audit SET actor='mallory' WHERE seq=(SELECT min(seq) FROM audit)",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(http_call(&srv, "GET", "/api/audit/verify", srv.admin_token, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(json_is_false(json_object_get(r.json, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r.json, "firstBadSeq")), 1);
	http_resp_free(&r);

	code = harness_cli(&srv, srv.admin_token, "audit verify", NULL, &out);
	assert_int_equal(code, 1);
	assert_non_null(strstr(out, "BROKEN"));
	free(out);
	assert_int_equal(harness_stop(&srv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_loses_no_acknowledged_write),
		cmocka_unit_test(test_audit_tamper_detected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
