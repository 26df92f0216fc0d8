/* The `krate` client commands against a real server: apply from stdin, get in
 * every output format, delete, tokens and roles, audit, login and watch. */
#include "harness.h"
#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct krate_server srv;

static const char manifest[] =
	"apiVersion: krate.a5c.ai/v1alpha1\n"
	"kind: Organization\n"
	"metadata:\n"
	"  name: clidemo\n"
	"spec:\n"
	"  displayName: CLI Demo\n"
	"---\n"
	"apiVersion: krate.a5c.ai/v1alpha1\n"
	"kind: Repository\n"
	"metadata:\n"
	"  name: web\n"
	"spec:\n"
	"  organizationRef: clidemo\n"
	"  visibility: private\n"
	"---\n"
	"apiVersion: krate.a5c.ai/v1alpha1\n"
	"kind: Repository\n"
	"metadata:\n"
	"  name: api\n"
	"spec:\n"
	"  organizationRef: clidemo\n"
	"  visibility: internal\n"
	"---\n"
	"kind: Team\n"
	"metadata:\n"
	"  name: core\n"
	"spec:\n"
	"  organizationRef: clidemo\n"
	"  displayName: Core\n"
	"---\n"
	"kind: User\n"
	"metadata:\n"
	"  name: ana\n"
	"spec:\n"
	"  organizationRef: clidemo\n"
	"  displayName: Ana\n"
	"  email: ana@example.com\n";

static int setup(void **state)
{
	(void)state;
	return harness_start(&srv, NULL);
}

static int teardown(void **state)
{
	(void)state;
	harness_stop(&srv);
	return 0;
}

/* Runs the CLI as admin and returns its exit code; *out is stdout+stderr. */
static int cli(const char *args, const char *in, char **out)
{
	return harness_cli(&srv, srv.admin_token, args, in, out);
}

static void expect(const char *out, const char *needle)
{
	if (!strstr(out, needle))
		fail_msg("expected \"%s\" in output:\n%s", needle, out);
}

static void test_apply_stdin(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(cli("apply -f -", manifest, &out), 0);
	expect(out, "Organization/clidemo created\n");
	expect(out, "Repository/web created\n");
	expect(out, "Repository/api created\n");
	expect(out, "Team/core created\n");
	expect(out, "User/ana created\n");
	free(out);

	/* The same manifest again updates instead of creating. */
	assert_int_equal(cli("apply -f -", manifest, &out), 0);
	expect(out, "Repository/web configured\n");
	assert_null(strstr(out, "created"));
	free(out);

	/* A single JSON object through the org route. */
	assert_int_equal(cli("apply -n clidemo -f -",
			     "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"docs\"},"
			     "\"spec\":{\"visibility\":\"public\"}}", &out), 0);
	assert_string_equal(out, "Repository/docs created\n");
	free(out);

	/* Admission failures name the field. */
	assert_int_equal(cli("apply -n clidemo -f -",
			     "kind: Repository\nmetadata:\n  name: broken\nspec: {}\n", &out), 1);
	expect(out, "error: ");
	expect(out, "  spec.visibility: ");
	free(out);
}

static void test_get_formats(void **state)
{
	json_t *j;
	char *out;
	size_t i;

	(void)state;
	/* Table in the org: no NAMESPACE column. */
	assert_int_equal(cli("get repositories -n clidemo", NULL, &out), 0);
	assert_int_equal(strncmp(out, "NAME ", 5), 0);
	expect(out, "PHASE");
	expect(out, "AGE\n");
	expect(out, "\nweb ");
	expect(out, "\napi ");
	expect(out, "\ndocs ");
	free(out);

	/* Across namespaces: the NAMESPACE column appears. */
	assert_int_equal(cli("get team", NULL, &out), 0);
	assert_int_equal(strncmp(out, "NAMESPACE ", 10), 0);
	expect(out, "krate-org-clidemo");
	expect(out, " core ");
	free(out);
	assert_int_equal(cli("get Organization", NULL, &out), 0);
	expect(out, " clidemo ");
	free(out);

	/* JSON: the server's list, parsed back. */
	assert_int_equal(cli("get repo -n clidemo -o json", NULL, &out), 0);
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
	for (i = 0; i < 3; i++) {
		const char *n = json_string_value(json_object_get(
			json_object_get(json_array_get(json_object_get(j, "items"), i), "metadata"), "name"));

		assert_true(!strcmp(n, "web") || !strcmp(n, "api") || !strcmp(n, "docs"));
	}
	json_decref(j);
	assert_non_null(strstr(out, "\n  \"items\": ["));   /* 2-space pretty print */
	free(out);

	/* --limit returns one page; without it every page is followed. */
	assert_int_equal(cli("get repositories -n clidemo -o json --limit 1", NULL, &out), 0);
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	free(out);

	/* One object as JSON and YAML; a list as a YAML List. */
	assert_int_equal(cli("get user ana -n clidemo -o json", NULL, &out), 0);
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "spec"), "email")),
			    "ana@example.com");
	json_decref(j);
	free(out);
	assert_int_equal(cli("get team core -n clidemo -o yaml", NULL, &out), 0);
	expect(out, "kind: Team\n");
	expect(out, "name: core\n");
	free(out);
	assert_int_equal(cli("get repositories -n clidemo -o yaml", NULL, &out), 0);
	expect(out, "kind: List\n");
	expect(out, "items:\n");
	expect(out, "name: web\n");
	expect(out, "name: api\n");
	free(out);

	/* A kind with no objects. */
	assert_int_equal(cli("get invites -n clidemo", NULL, &out), 0);
	expect(out, "No resources found");
	free(out);

	/* Unknown kinds are the server's call. */
	assert_int_equal(cli("get gizmos", NULL, &out), 1);
	expect(out, "error: ");
	free(out);
}

static void test_delete(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(cli("delete repository api -n clidemo", NULL, &out), 0);
	assert_string_equal(out, "Repository/api deleted\n");
	free(out);
	assert_int_equal(cli("get repository api -n clidemo", NULL, &out), 1);
	expect(out, "error: ");
	expect(out, "not found");
	expect(out, "(NOT_FOUND)");
	free(out);
	assert_int_equal(cli("delete repository api -n clidemo", NULL, &out), 1);
	expect(out, "not found");
	free(out);
	assert_int_equal(cli("get repositories -n clidemo", NULL, &out), 0);
	assert_null(strstr(out, "\napi "));
	expect(out, "\nweb ");
	free(out);
}

static void test_tokens_and_roles(void **state)
{
	char *out, *viewer, *nl;

	(void)state;
	assert_int_equal(cli("token create --user bob --org clidemo --role viewer", NULL, &out), 0);
	/* stdout (first) holds only the secret; the id goes to stderr. */
	nl = strchr(out, '\n');
	assert_non_null(nl);
	viewer = strndup(out, (size_t)(nl - out));
	assert_non_null(viewer);
	assert_true(strlen(viewer) > 16);
	assert_null(strchr(viewer, ' '));
	expect(nl + 1, "role viewer");
	free(out);

	assert_int_equal(harness_cli(&srv, viewer, "whoami", NULL, &out), 0);
	expect(out, "bob");
	expect(out, "viewer");
	free(out);

	/* A viewer may read but not write. */
	assert_int_equal(harness_cli(&srv, viewer, "get repositories -n clidemo", NULL, &out), 0);
	expect(out, "web");
	free(out);
	assert_int_equal(harness_cli(&srv, viewer, "apply -f -",
				     "kind: Repository\nmetadata:\n  name: nope\n"
				     "spec:\n  organizationRef: clidemo\n  visibility: public\n", &out), 1);
	expect(out, "error: ");
	expect(out, "FORBIDDEN");
	free(out);
	assert_int_equal(harness_cli(&srv, viewer, "token create --user eve --role admin", NULL, &out), 1);
	expect(out, "error: ");
	free(out);
	free(viewer);

	assert_int_equal(harness_cli(&srv, "krt_not_a_real_token", "whoami", NULL, &out), 1);
	expect(out, "UNAUTHENTICATED");
	free(out);
	assert_int_equal(harness_cli(&srv, NULL, "whoami", NULL, &out), 1);
	expect(out, "no token");
	free(out);
}

static void test_audit_and_kinds(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(cli("audit verify", NULL, &out), 0);
	expect(out, "audit chain ok: ");
	free(out);
	assert_int_equal(cli("audit list", NULL, &out), 0);
	assert_int_equal(strncmp(out, "SEQ ", 4), 0);
	expect(out, "RESULT\n");
	expect(out, " apply ");
	free(out);
	assert_int_equal(cli("kinds", NULL, &out), 0);
	assert_int_equal(strncmp(out, "KIND ", 5), 0);
	expect(out, "\nRepository ");
	expect(out, " repositories ");
	free(out);
}

static void test_usage_and_unreachable(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(cli("get", NULL, &out), 2);
	expect(out, "usage: krate get KIND");
	free(out);
	assert_int_equal(cli("delete repository", NULL, &out), 2);
	free(out);
	assert_int_equal(cli("get repositories --frobnicate", NULL, &out), 2);
	free(out);
	assert_int_equal(cli("whoami --server http://127.0.0.1:1", NULL, &out), 1);
	expect(out, "error: cannot reach http://127.0.0.1:1");
	free(out);
}

/* Runs the binary with its own config file and no KRATE_SERVER/KRATE_TOKEN,
 * so only flags and the config decide. */
static int cli_with_config(const char *config, char *const args[], char **out)
{
	struct buf b = BUF_INIT(0);
	int pfd[2], status;
	char tmp[4096];
	ssize_t n;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[32];
		int argc = 0;

		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		unsetenv("KRATE_SERVER");
		unsetenv("KRATE_TOKEN");
		setenv("KRATE_CONFIG", config, 1);
		argv[argc++] = (char *)harness_bin();
		for (int i = 0; args[i] && argc < 31; i++)
			argv[argc++] = args[i];
		argv[argc] = NULL;
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], tmp, sizeof(tmp))) > 0)
		buf_add(&b, tmp, (size_t)n);
	close(pfd[0]);
	waitpid(pid, &status, 0);
	*out = buf_detach(&b, NULL);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_login_config(void **state)
{
	char config[300], want[128], *out;
	struct stat st;
	json_t *j;

	(void)state;
	snprintf(config, sizeof(config), "%s/cli-home/.config/krate/config", srv.dir);
	{
		char *args[] = { "login", "--server", srv.base, "--token", srv.admin_token,
				 "--org", "clidemo", NULL };

		assert_int_equal(cli_with_config(config, args, &out), 0);
		snprintf(want, sizeof(want), "Logged in to %s as ", srv.base);
		expect(out, want);
		expect(out, "(role admin)");
		free(out);
	}
	assert_int_equal(stat(config, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	j = json_load_file(config, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "server")), srv.base);
	assert_string_equal(json_string_value(json_object_get(j, "token")), srv.admin_token);
	assert_string_equal(json_string_value(json_object_get(j, "org")), "clidemo");
	json_decref(j);

	/* Later commands need neither flags nor environment; the config's org
	 * picks the namespace for a single object. */
	{
		char *args[] = { "get", "repository", "web", "-o", "json", NULL };

		assert_int_equal(cli_with_config(config, args, &out), 0);
		j = json_loads(out, 0, NULL);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(json_object_get(j, "metadata"), "namespace")),
				    "krate-org-clidemo");
		json_decref(j);
		free(out);
	}
	/* A bad token at login fails and leaves the saved config alone. */
	{
		char *args[] = { "login", "--server", srv.base, "--token", "krt_bogus", NULL };

		assert_int_equal(cli_with_config(config, args, &out), 1);
		free(out);
		j = json_load_file(config, 0, NULL);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "token")), srv.admin_token);
		json_decref(j);
	}
}

/* Reads from fd into b until needle shows up or timeout_ms passes. */
static int wait_for(int fd, struct buf *b, const char *needle, int timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!b->data || !strstr(b->data, needle)) {
		struct pollfd p = { fd, POLLIN, 0 };
		long left;
		char tmp[4096];
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = read(fd, tmp, sizeof(tmp));
		if (n <= 0)
			return -1;
		buf_add(b, tmp, (size_t)n);
	}
	return 0;
}

static void test_watch(void **state)
{
	struct buf got = BUF_INIT(0);
	struct http_resp r;
	int pfd[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		setenv("KRATE_SERVER", srv.base, 1);
		setenv("KRATE_TOKEN", srv.admin_token, 1);
		setenv("KRATE_CONFIG", "/nonexistent/krate-test-config", 1);
		execl(harness_bin(), harness_bin(), "watch", "repositories", "-n", "clidemo", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	/* Existing objects arrive first, then changes as they happen. */
	assert_int_equal(wait_for(pfd[0], &got, "ADDED Repository/web rv=", 10000), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(http_call(&srv, "POST", "/api/orgs/clidemo/resources", srv.admin_token,
				   "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"late\"},"
				   "\"spec\":{\"visibility\":\"public\"}}", "application/json", &r), 0);
	assert_int_equal(r.status, 201);
	http_resp_free(&r);
	assert_int_equal(wait_for(pfd[0], &got, "ADDED Repository/late rv=", 10000), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(http_call(&srv, "DELETE", "/api/orgs/clidemo/resources/repositories/late",
				   srv.admin_token, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	assert_int_equal(wait_for(pfd[0], &got, "DELETED Repository/late rv=", 10000), 0);

	/* Ctrl-C ends the watch cleanly. */
	kill(pid, SIGINT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(pfd[0]);
	buf_free(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_stdin),
		cmocka_unit_test(test_get_formats),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_tokens_and_roles),
		cmocka_unit_test(test_audit_and_kinds),
		cmocka_unit_test(test_usage_and_unreachable),
		cmocka_unit_test(test_login_config),
		cmocka_unit_test(test_watch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
