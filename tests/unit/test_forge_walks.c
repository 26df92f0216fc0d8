#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge/browse_walks.h"

/* An order of n ids, id i having its first byte i+1. */
static git_oid *order(size_t n)
{
	git_oid *v = calloc(n ? n : 1, sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++)
		v[i].id[0] = (unsigned char)(i + 1);
	return v;
}

static git_oid tip_of(unsigned char b)
{
	git_oid t;

	memset(&t, 0, sizeof(t));
	t.id[19] = b;
	return t;
}

static void test_slices(void **state)
{
	git_oid tip = tip_of(1), out[10];
	int more = -1;

	(void)state;
	assert_int_equal(browse_walks_get("/r.git", &tip, 0, 3, out, &more), -1);
	browse_walks_put("/r.git", &tip, order(7), 7, 1);
	assert_int_equal(browse_walks_get("/r.git", &tip, 0, 3, out, &more), 3);
	assert_int_equal(out[0].id[0], 1);
	assert_int_equal(out[2].id[0], 3);
	assert_true(more);
	/* the last page of a complete order, then one past it */
	assert_int_equal(browse_walks_get("/r.git", &tip, 6, 3, out, &more), 1);
	assert_int_equal(out[0].id[0], 7);
	assert_false(more);
	assert_int_equal(browse_walks_get("/r.git", &tip, 3, 4, out, &more), 4);
	assert_false(more);
	assert_int_equal(browse_walks_get("/r.git", &tip, 9, 3, out, &more), 0);
	assert_false(more);
	/* another repository or tip is another entry */
	assert_int_equal(browse_walks_get("/other.git", &tip, 0, 3, out, &more), -1);
	tip = tip_of(2);
	assert_int_equal(browse_walks_get("/r.git", &tip, 0, 3, out, &more), -1);
	browse_walks_clear();
}

static void test_incomplete_orders(void **state)
{
	git_oid tip = tip_of(3), out[10];
	int more = 0;

	(void)state;
	browse_walks_put("/r.git", &tip, order(5), 5, 0);
	assert_int_equal(browse_walks_get("/r.git", &tip, 0, 4, out, &more), 4);
	assert_true(more);
	/* the memo cannot say what comes after its end */
	assert_int_equal(browse_walks_get("/r.git", &tip, 2, 3, out, &more), -1);
	assert_int_equal(browse_walks_get("/r.git", &tip, 8, 3, out, &more), -1);
	browse_walks_clear();
	assert_int_equal(browse_walks_get("/r.git", &tip, 0, 1, out, &more), -1);
}

static void test_least_recently_used_goes(void **state)
{
	git_oid out[2], tip;
	char repo[32];
	int more, i;

	(void)state;
	for (i = 0; i < BROWSE_WALK_ENTRIES; i++) {
		snprintf(repo, sizeof(repo), "/r%d.git", i);
		tip = tip_of(9);
		browse_walks_put(repo, &tip, order(2), 2, 1);
	}
	/* r0 is used again, so r1 is now the oldest */
	assert_int_equal(browse_walks_get("/r0.git", &tip, 0, 1, out, &more), 1);
	browse_walks_put("/new.git", &tip, order(2), 2, 1);
	assert_int_equal(browse_walks_get("/r1.git", &tip, 0, 1, out, &more), -1);
	assert_int_equal(browse_walks_get("/r0.git", &tip, 0, 1, out, &more), 1);
	assert_int_equal(browse_walks_get("/new.git", &tip, 0, 2, out, &more), 2);
	/* the same key again replaces its entry */
	browse_walks_put("/new.git", &tip, order(1), 1, 1);
	assert_int_equal(browse_walks_get("/new.git", &tip, 0, 2, out, &more), 1);
	assert_int_equal(browse_walks_get("/r2.git", &tip, 0, 1, out, &more), 1);
	browse_walks_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_incomplete_orders),
		cmocka_unit_test(test_least_recently_used_goes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
