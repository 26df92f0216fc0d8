/* What the API sends of stored objects: a Secret or ConfigMap without its
 * sealed values, everything else byte for byte as stored. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api/redact.h"
#include "core/err.h"

static const char secret[] =
	"{\"apiVersion\":\"krate.a5c.ai/v1alpha1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"gh\","
	"\"namespace\":\"krate-org-acme\"},\"spec\":{\"description\":\"GitHub\",\"keys\":[\"TOKEN\"],"
	"\"sealed\":{\"TOKEN\":\"c2VhbGVkLXZhbHVl\"}}}";

static void test_text(void **state)
{
	static const char repo[] = "{\"kind\":\"Repository\",\"spec\":{\"description\":\"a \\\"sealed\\\": word\"}}";
	static const char other[] = "{\"kind\":\"View\",\"spec\":{\"sealed\":{\"a\":\"b\"}}}";
	char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(api_redact_text(secret, strlen(secret), &out, &len), 1);
	assert_null(strstr(out, "c2VhbGVkLXZhbHVl"));
	assert_null(strstr(out, "\"sealed\""));
	assert_non_null(strstr(out, "\"keys\":[\"TOKEN\"]"));
	assert_non_null(strstr(out, "\"description\":\"GitHub\""));
	assert_int_equal(len, strlen(out));
	free(out);

	/* other kinds go out untouched, parsed or not */
	assert_int_equal(api_redact_text(repo, strlen(repo), &out, &len), 0);
	assert_null(out);
	assert_int_equal(api_redact_text(other, strlen(other), &out, &len), 0);
	assert_null(out);
	/* something that looks sealed but cannot be read is not sent */
	assert_true(api_redact_text("{\"sealed\":", 10, &out, &len) < 0);
	assert_null(out);
}

static void test_objects(void **state)
{
	json_t *obj = json_loads(secret, 0, NULL), *shown, *repo = json_pack("{s:s}", "kind", "Repository");

	(void)state;
	shown = api_redacted(obj);
	assert_null(json_object_get(json_object_get(shown, "spec"), "sealed"));
	/* the original is left alone */
	assert_non_null(json_object_get(json_object_get(obj, "spec"), "sealed"));
	json_decref(shown);
	shown = api_redacted(repo);
	assert_ptr_equal(shown, repo);
	json_decref(shown);
	api_redact_object(obj);
	assert_null(json_object_get(json_object_get(obj, "spec"), "sealed"));
	json_decref(obj);
	json_decref(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_objects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
