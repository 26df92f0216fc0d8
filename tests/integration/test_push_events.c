/* Push bookkeeping with the real git client: every accepted push records one
 * GitPush per updated ref (before, after, pusher), a watch sees them added,
 * the push is audited, and a push refused by the push rules records none. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZERO "0000000000000000000000000000000000000000"

static struct krate_server srv;
static char work[256];

/* Command lines run in the work directory, their output in harness_output(). */
#define run(...) harness_run(work, __VA_ARGS__)

static const char *head(const char *dir)
{
	static char sha[64];

	assert_int_equal(run("git -C %s rev-parse HEAD", dir), 0);
	snprintf(sha, sizeof(sha), "%.40s", harness_output());
	return sha;
}

/* The GitPush objects once there are at least n (new ref), within 10 s. */
static json_t *pushes(size_t n)
{
	json_t *list, *items;
	int i;

	for (i = 0; i < 400; i++) {
		list = harness_call_json(&srv, "GET", "/api/orgs/pe/resources?kind=GitPush", srv.admin_token, NULL,
					 200);
		items = json_object_get(list, "items");
		if (json_array_size(items) >= n) {
			json_incref(items);
			json_decref(list);
			return items;
		}
		json_decref(list);
		usleep(25000);
	}
	fail_msg("fewer than %zu GitPush objects", n);
	return NULL;
}

/* The spec of the GitPush for ref whose after is after, or NULL. */
static json_t *find(json_t *items, const char *ref, const char *after)
{
	json_t *it;
	size_t i;

	json_array_foreach(items, i, it) {
		json_t *spec = json_object_get(it, "spec");

		if (!strcmp(json_string_value(json_object_get(spec, "ref")), ref) &&
		    !strcmp(json_string_value(json_object_get(spec, "after")), after))
			return spec;
	}
	return NULL;
}

static void expect_push(json_t *items, const char *ref, const char *before, const char *after, const char *pusher)
{
	json_t *spec = find(items, ref, after);

	if (!spec)
		fail_msg("no GitPush for %s at %s", ref, after);
	assert_string_equal(json_string_value(json_object_get(spec, "before")), before);
	assert_string_equal(json_string_value(json_object_get(spec, "pusher")), pusher);
	assert_string_equal(json_string_value(json_object_get(spec, "repository")), "code");
	assert_string_equal(json_string_value(json_object_get(spec, "organizationRef")), "pe");
}

/* A raw SSE watch (curl would block on the open stream). */
static int watch_open(const char *path)
{
	struct sockaddr_in a = { 0 };
	char req[1024];
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;

	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)srv.port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
		     path, srv.admin_token);
	assert_int_equal(write(fd, req, (size_t)n), n);
	return fd;
}

/* Reads the stream until all needles have appeared, for up to 10 s. */
static int watch_saw(int fd, const char *const *needles, size_t nn)
{
	static char data[256 * 1024];
	static size_t len;
	struct timespec t0, t;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		for (i = 0; i < nn && strstr(data, needles[i]); i++)
			;
		if (i == nn)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10 || len + 1 >= sizeof(data))
			return 0;
		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(fd, data + len, sizeof(data) - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		data[len] = '\0';
	}
}

static void test_push_events(void **state)
{
	char ua[512], ud[512], first[64], second[64], feat[64];
	const char *saw[3];
	struct http_resp r;
	json_t *items;
	char *dev;
	int fd;

	(void)state;
	harness_make_org(&srv, "pe");
	harness_make_repo(&srv, "pe", "code", "");
	/* the post-receive hook is installed next to pre-receive and only execs krate */
	{
		char path[512];
		struct stat st;

		snprintf(path, sizeof(path), "%s/git/pe/code.git/hooks/post-receive", srv.dir);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0755);
		assert_int_equal(run("grep -c \"git-hook post-receive\" '%s'", path), 0);
	}
	fd = watch_open("/api/watch/orgs/pe/gitpushes");
	snprintf(ua, sizeof(ua), "http://admin:%s@127.0.0.1:%d/pe/code.git", srv.admin_token, srv.port);

	/* one push creating two refs: two records, both created from zero */
	assert_int_equal(run("git -c credential.helper= clone -q '%s' one", ua), 0);
	assert_int_equal(run("cd one && echo a > a.txt && git add . && git commit -qm first"
			     " && git -c credential.helper= push -q origin HEAD:main HEAD:refs/heads/dev"), 0);
	snprintf(first, sizeof(first), "%s", head("one"));
	items = pushes(2);
	assert_int_equal(json_array_size(items), 2);
	expect_push(items, "refs/heads/main", ZERO, first, "admin");
	expect_push(items, "refs/heads/dev", ZERO, first, "admin");
	json_decref(items);
	saw[0] = "\"type\":\"ADDED\"";
	saw[1] = "\"kind\":\"GitPush\"";
	saw[2] = "refs/heads/dev";
	assert_true(watch_saw(fd, saw, 3));
	close(fd);

	/* an update records the old value as before */
	assert_int_equal(run("cd one && echo b >> a.txt && git commit -qam second"
			     " && git -c credential.helper= push -q origin HEAD:dev"), 0);
	snprintf(second, sizeof(second), "%s", head("one"));
	items = pushes(3);
	assert_int_equal(json_array_size(items), 3);
	expect_push(items, "refs/heads/dev", first, second, "admin");
	json_decref(items);

	/* the push is audited as the pusher */
	assert_int_equal(http_call(&srv, "GET", "/api/audit?org=pe&limit=1000", srv.admin_token, NULL, NULL, &r), 0);
	assert_non_null(strstr(r.body, "\"verb\":\"push\""));
	http_resp_free(&r);

	/* a push refused by branch protection records nothing ... */
	harness_apply(&srv, "pe", "{\"kind\":\"BranchProtection\",\"metadata\":{\"name\":\"main\"},"
		      "\"spec\":{\"refs\":[\"refs/heads/main\"]}}");
	dev = harness_token(&srv, "dana", "pe", "developer");
	assert_non_null(dev);
	snprintf(ud, sizeof(ud), "http://dana:%s@127.0.0.1:%d/pe/code.git", dev, srv.port);
	assert_int_equal(run("git -c credential.helper= clone -q '%s' dev", ud), 0);
	assert_int_equal(run("cd dev && echo c >> a.txt && git commit -qam third"), 0);
	assert_int_not_equal(run("cd dev && git -c credential.helper= push origin HEAD:main"), 0);
	/* ... while the developer's next, allowed push is recorded with them as pusher */
	assert_int_equal(run("cd dev && git -c credential.helper= push -q origin HEAD:refs/heads/feature"), 0);
	snprintf(feat, sizeof(feat), "%s", head("dev"));
	items = pushes(4);
	assert_int_equal(json_array_size(items), 4);
	expect_push(items, "refs/heads/feature", ZERO, feat, "dana");
	assert_null(find(items, "refs/heads/main", feat));
	json_decref(items);
	free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_events),
	};

	harness_group(&srv, NULL, work, sizeof(work), "pushev");
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
