/* The agent runtime against the real server: runs dispatched through
 * POST /api/agents/runs execute tests/agents/test-agent.sh (and the shipped
 * `krate example-agent`) under bubblewrap in a git worktree. An attempt runs
 * and succeeds with its transcript, diagnosis, patch and report artifacts;
 * the sandbox keeps writes inside the workspace; a leaked secret shows only
 * redacted, and never in the log or the data directory; cancel and the time
 * limit kill the agent's processes; a stack's concurrency limit keeps a
 * second attempt Queued with the reason; a flooding agent's transcript stays
 * capped; after a SIGKILL of the server the
 * running attempt is Failed (ServerRestarted) and the queued one runs. */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SECRET "zq-runtime-leak-61d2f0a9"

static struct krate_server srv;
static char work[256];
static char *dev;                   /* a developer token of org acme */
static char agent[PATH_MAX];        /* tests/agents/test-agent.sh */

/* ---- helpers ---- */

static const char *str(json_t *o, const char *part, const char *key)
{
	return json_string_value(json_object_get(part ? json_object_get(o, part) : o, key));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Dispatches stack on app with prompt; the attempt's name (static). */
static const char *dispatch(const char *stack, const char *prompt)
{
	static char attempt[128];
	char body[512];
	json_t *r;

	snprintf(body, sizeof(body),
		 "{\"repository\":\"app\",\"ref\":\"main\",\"agentStack\":\"%s\",\"taskKind\":\"manual-repair\","
		 "\"prompt\":\"%s\",\"sourceRefs\":[]}",
		 stack, prompt);
	r = harness_call_json(&srv, "POST", "/api/agents/runs", dev, body, 201);
	snprintf(attempt, sizeof(attempt), "%s", str(json_object_get(r, "attempt"), "metadata", "name"));
	json_decref(r);
	assert_true(attempt[0]);
	return attempt;
}

static json_t *get(const char *kind, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/orgs/acme/resources/%s/%s", kind, name);
	return harness_call_json(&srv, "GET", path, srv.admin_token, NULL, 200);
}

/* The run of an attempt "<run>-<n>". */
static void run_of(const char *attempt, char *run, size_t size)
{
	snprintf(run, size, "%s", attempt);
	*strrchr(run, '-') = '\0';
}

/* Waits until the attempt's status.phase is phase; returns the attempt. */
static json_t *wait_phase(const char *attempt, const char *phase, int seconds)
{
	double end = now_s() + seconds;
	json_t *a;

	for (;;) {
		const char *p;

		a = get("AgentDispatchAttempt", attempt);
		p = str(a, "status", "phase");
		if (p && !strcmp(p, phase))
			return a;
		if (now_s() > end)
			fail_msg("attempt %s: phase %s (%s: %s), expected %s", attempt, p ? p : "none",
				 str(a, "status", "reason") ? str(a, "status", "reason") : "",
				 str(a, "status", "message") ? str(a, "status", "message") : "", phase);
		json_decref(a);
		sleep_ms(50);
	}
}

/* The attempt's condition of type, once it has reason (waits). */
static void wait_condition(const char *kind, const char *name, const char *type, const char *status,
			   const char *reason, int seconds)
{
	double end = now_s() + seconds;

	for (;;) {
		json_t *o = get(kind, name), *c;
		size_t i;
		int found = 0;

		json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, c)
			found |= str(c, NULL, "type") && !strcmp(str(c, NULL, "type"), type) &&
				 !strcmp(str(c, NULL, "status"), status) && !strcmp(str(c, NULL, "reason"), reason);
		json_decref(o);
		if (found)
			return;
		if (now_s() > end)
			fail_msg("%s %s never got condition %s=%s (%s)", kind, name, type, status, reason);
		sleep_ms(50);
	}
}

/* Live processes whose environment names the attempt (the sandbox and the agent). */
static int agent_processes(const char *attempt)
{
	char want[160];
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	snprintf(want, sizeof(want), "KRATE_ATTEMPT=%s", attempt);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], env[65536];
		ssize_t len, off = 0;
		int fd;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/environ", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, env, sizeof(env) - 1);
		close(fd);
		if (len <= 0)
			continue;
		env[len] = '\0';
		while (off < len) {
			if (!strcmp(env + off, want)) {
				n++;
				break;
			}
			off += (ssize_t)strlen(env + off) + 1;
		}
	}
	closedir(d);
	return n;
}

static void wait_processes(const char *attempt, int running, int seconds)
{
	double end = now_s() + seconds;

	while ((agent_processes(attempt) > 0) != running) {
		if (now_s() > end)
			fail_msg("the processes of %s are %s", attempt, running ? "not there" : "still there");
		sleep_ms(50);
	}
}

static json_t *transcript(const char *attempt)
{
	char name[160];

	snprintf(name, sizeof(name), "transcript-%s", attempt);
	return get("AgentSessionTranscript", name);
}

/* 1 if a transcript message has type and content containing text. */
static int said(json_t *t, const char *type, const char *text)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(t, "spec"), "messages"), i, m)
		if (!strcmp(str(m, NULL, "type"), type) && str(m, NULL, "content") && strstr(str(m, NULL, "content"), text))
			return 1;
	return 0;
}

static char *artifact_content(const char *name)
{
	struct http_resp r;
	char path[256], *body;

	snprintf(path, sizeof(path), "/api/agents/artifacts/%s/content", name);
	harness_call(&srv, "GET", path, dev, NULL, 200, &r);
	body = strdup(r.body);
	http_resp_free(&r);
	return body;
}

static int exists(const char *fmt, const char *a, const char *b)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), fmt, a, b);
	return lstat(path, &st) == 0;
}

/* ---- set-up ---- */

static void apply_stack(const char *name, const char *command_json, int timeout, int limit)
{
	char body[PATH_MAX + 1024];

	snprintf(body, sizeof(body),
		 "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"%s\"},\"spec\":{\"baseAgent\":\"test\","
		 "\"adapter\":\"process\",\"runtimeIdentity\":\"agent-tester\",\"command\":%s,"
		 "\"timeoutSeconds\":%d,\"maxConcurrentRuns\":%d,\"prompt\":{\"system\":\"You test Krate.\"}}}",
		 name, command_json, timeout, limit);
	harness_apply(&srv, "acme", body);
}

static void test_setup(void **state)
{
	char url[512], cmd[PATH_MAX + 64];
	char here[PATH_MAX];

	(void)state;
	/* the test agent lives next to this file's directory */
	snprintf(here, sizeof(here), "%s", __FILE__);
	*strrchr(here, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "%s/../agents/test-agent.sh", here);
	assert_non_null(realpath(cmd, agent));
	assert_int_equal(access(agent, X_OK), 0);

	harness_make_org(&srv, "acme");
	harness_make_repo(&srv, "acme", "app", "");
	dev = harness_token(&srv, "dana", "acme", "developer");
	assert_non_null(dev);
	snprintf(url, sizeof(url), "http://admin:%s@127.0.0.1:%d/acme/app.git", srv.admin_token, srv.port);
	harness_sh_ok(work, "git -c credential.helper= clone -q '%s' w && cd w && printf '# App\\n' > README.md &&"
			    " git add . && git commit -qm base && git push -q origin HEAD:main",
		      url);

	harness_apply(&srv, "acme", "{\"kind\":\"AgentServiceAccount\",\"metadata\":{\"name\":\"agent-tester\"},"
				    "\"spec\":{\"namespace\":\"krate-org-acme\",\"serviceAccountName\":\"agent-tester\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentRoleBinding\",\"metadata\":{\"name\":\"tester-edit\"},"
				    "\"spec\":{\"subject\":\"agent-tester\",\"roleRef\":\"edit\",\"scope\":\"repository\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"leaky\"},"
				    "\"spec\":{\"data\":{\"token\":\"" SECRET "\"}}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentSecretGrant\",\"metadata\":{\"name\":\"tester-provider\"},"
				    "\"spec\":{\"subject\":\"agent-tester\",\"secretRef\":\"leaky\",\"purpose\":\"model-provider\","
				    "\"requiredApproval\":\"never\",\"mountPolicy\":\"env\",\"env\":\"LEAK_TOKEN\"}}");
	snprintf(cmd, sizeof(cmd), "[\"%s\"]", agent);
	apply_stack("tester", cmd, 30, 1);
	apply_stack("quick", cmd, 2, 2);
	snprintf(cmd, sizeof(cmd), "[\"%s\",\"example-agent\"]", harness_bin());
	apply_stack("example", cmd, 30, 2);
}

/* ---- a run, its transcript and artifacts ---- */

static void test_run(void **state)
{
	const char *att = dispatch("tester", "Please edit, report and leak.");
	char attempt[128], run[128], name[200], *text, *log;
	json_t *a, *r, *t, *art;
	size_t i;
	int seen_running = 0;

	(void)state;
	snprintf(attempt, sizeof(attempt), "%s", att);
	run_of(attempt, run, sizeof(run));
	a = wait_phase(attempt, "Succeeded", 60);
	assert_string_equal(str(a, "status", "reason"), "Completed");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "status"), "exitCode")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(a, "status"), "usage"),
							    "inputTokens")), 10);
	assert_non_null(str(a, "status", "startedAt"));
	assert_non_null(str(a, "status", "finishedAt"));
	assert_string_equal(str(json_object_get(a, "metadata"), "labels", "krate.a5c.ai/state"), "done");

	r = get("AgentDispatchRun", run);
	assert_string_equal(str(r, "status", "phase"), "Succeeded");
	json_array_foreach(json_object_get(json_object_get(r, "status"), "history"), i, art)
		seen_running |= !strcmp(str(art, NULL, "phase"), "Running");
	assert_true(seen_running);
	json_decref(r);

	/* the transcript: typed events, other lines as stdout/stderr, the secret redacted */
	t = transcript(attempt);
	assert_string_equal(str(t, "spec", "sessionRef"), attempt);
	assert_string_equal(str(t, "spec", "dispatchRun"), run);
	assert_true(said(t, "message", "test agent started"));
	assert_true(said(t, "message", "plain text, not JSON"));
	assert_true(said(t, "message", "a line on stderr"));
	assert_true(said(t, "tool_call", "EDITED.md"));
	assert_true(said(t, "report", "3 passed"));
	assert_true(said(t, "final", "the test agent is done"));
	assert_true(said(t, "message", "the token is [REDACTED"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(t, "spec"), "cost"),
							    "totalTokens")), 15);
	text = json_dumps(t, JSON_COMPACT);
	assert_null(strstr(text, SECRET));
	free(text);
	json_decref(t);

	/* the patch holds the edit */
	snprintf(name, sizeof(name), "%s-patch", attempt);
	art = get("AgentArtifact", name);
	assert_string_equal(str(art, "spec", "kind"), "patch");
	assert_string_equal(str(art, "spec", "producer"), "tester");
	assert_string_equal(str(art, "spec", "attempt"), attempt);
	assert_string_equal(str(art, "spec", "dispatchRun"), run);
	assert_string_equal(str(art, "spec", "sourceContextDigest"), str(a, "spec", "contextBundleDigest"));
	assert_string_equal(str(art, "spec", "permissionSnapshotDigest"),
			    str(json_object_get(a, "spec"), "permissionSnapshot", "digest"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(json_object_get(art,
			    "spec"), "patch"), "files"), 0)), "EDITED.md");
	r = get("AgentDispatchRun", run);
	assert_string_equal(str(json_object_get(art, "spec"), "patch", "baseSha"), str(r, "spec", "sha"));
	json_decref(r);
	assert_string_equal(str(json_object_get(art, "spec"), "patch", "diffDigest"), str(art, "spec", "digest"));
	json_decref(art);
	text = artifact_content(name);
	assert_non_null(strstr(text, "diff --git a/EDITED.md b/EDITED.md"));
	assert_non_null(strstr(text, "+edited by the test agent"));
	free(text);

	/* the diagnosis is the final message, the report its own artifact */
	snprintf(name, sizeof(name), "%s-diagnosis", attempt);
	text = artifact_content(name);
	assert_string_equal(text, "the test agent is done");
	free(text);
	snprintf(name, sizeof(name), "%s-test-report", attempt);
	text = artifact_content(name);
	assert_string_equal(text, "3 passed, 0 failed");
	free(text);

	/* the workspace, its worktree and the run directory are gone */
	assert_false(exists("%s/workspaces/%s", srv.dir, attempt));
	assert_false(exists("%s/runs/%s", srv.dir, attempt));
	assert_false(exists("%s/git/acme/app.git/worktrees/%s", srv.dir, attempt));
	/* the secret is in no log line */
	log = harness_sh_out(srv.dir, "cat server.log");
	assert_non_null(log);
	assert_null(strstr(log, SECRET));
	free(log);
	json_decref(a);
}

static void test_escape(void **state)
{
	const char *att = dispatch("tester", "Try to escape.");
	char attempt[128];
	json_t *a, *t;

	(void)state;
	snprintf(attempt, sizeof(attempt), "%s", att);
	a = wait_phase(attempt, "Succeeded", 60);
	t = transcript(attempt);
	assert_true(said(t, "message", "escape /etc/krate-escape: blocked"));
	assert_true(said(t, "message", "/krate-escape: blocked"));
	assert_false(said(t, "message", ": written"));
	/* five places tried, none written */
	assert_false(exists("%s%s", "/etc/krate-escape", ""));
	assert_false(exists("%s%s", "/krate-escape", ""));
	assert_false(exists("%s/krate-escape%s", srv.dir, ""));
	assert_false(exists("%s/workspaces/krate-escape%s", srv.dir, ""));
	json_decref(t);
	json_decref(a);
}

static void test_failure(void **state)
{
	const char *att = dispatch("tester", "This one should fail.");
	char attempt[128], name[200], *text;
	json_t *a;

	(void)state;
	snprintf(attempt, sizeof(attempt), "%s", att);
	a = wait_phase(attempt, "Failed", 60);
	assert_string_equal(str(a, "status", "reason"), "NonZeroExit");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "status"), "exitCode")), 1);
	snprintf(name, sizeof(name), "%s-diagnosis", attempt);
	text = artifact_content(name);
	assert_string_equal(text, "failing on purpose");
	free(text);
	json_decref(a);
}

/* ---- cancel, time limit, concurrency ---- */

static void test_cancel(void **state)
{
	const char *att = dispatch("tester", "Go to sleep.");
	char attempt[128], run[128], path[200];
	json_t *a;

	(void)state;
	snprintf(attempt, sizeof(attempt), "%s", att);
	run_of(attempt, run, sizeof(run));
	json_decref(wait_phase(attempt, "Running", 30));
	wait_processes(attempt, 1, 15);
	snprintf(path, sizeof(path), "/api/agents/runs/%s/cancel", run);
	json_decref(harness_call_json(&srv, "POST", path, dev, "{\"reason\":\"enough\"}", 200));
	a = wait_phase(attempt, "Cancelled", 15);
	wait_processes(attempt, 0, 5);
	assert_string_equal(str(json_object_get(a, "metadata"), "labels", "krate.a5c.ai/state"), "done");
	assert_false(exists("%s/workspaces/%s", srv.dir, attempt));
	json_decref(a);
}

static void test_timeout(void **state)
{
	const char *att = dispatch("quick", "Go to sleep.");
	char attempt[128];
	double start = now_s();
	json_t *a, *t;

	(void)state;
	snprintf(attempt, sizeof(attempt), "%s", att);
	a = wait_phase(attempt, "Failed", 30);
	assert_string_equal(str(a, "status", "reason"), "Timeout");
	assert_true(now_s() - start < 20);
	wait_processes(attempt, 0, 5);
	t = transcript(attempt);
	assert_true(said(t, "message", "sleeping"));
	assert_true(said(t, "error", "time limit"));
	json_decref(t);
	json_decref(a);
}

/* An agent that never stops talking: the transcript stays capped and the time limit still holds. */
static void test_flood(void **state)
{
	const char *att = dispatch("quick", "Please flood the transcript.");
	char attempt[128];
	json_t *a, *t;

	(void)state;
	snprintf(attempt, sizeof(attempt), "%s", att);
	a = wait_phase(attempt, "Failed", 30);
	assert_string_equal(str(a, "status", "reason"), "Timeout");
	wait_processes(attempt, 0, 5);
	t = transcript(attempt);
	assert_true(json_is_true(json_object_get(json_object_get(t, "spec"), "truncated")));
	assert_true(json_integer_value(json_object_get(json_object_get(t, "spec"), "droppedMessages")) > 0);
	assert_int_equal(json_array_size(json_object_get(json_object_get(t, "spec"), "messages")), 2000);
	json_decref(t);
	json_decref(a);
}

static void test_limit(void **state)
{
	char first[128], second[128], run[128], path[200];
	json_t *a;

	(void)state;
	snprintf(first, sizeof(first), "%s", dispatch("tester", "Go to sleep."));
	json_decref(wait_phase(first, "Running", 30));
	snprintf(second, sizeof(second), "%s", dispatch("tester", "Please edit."));
	/* the stack allows one at a time: the second waits, saying why */
	wait_condition("AgentDispatchAttempt", second, "Scheduled", "False", "StackLimit", 15);
	a = get("AgentDispatchAttempt", second);
	assert_string_equal(str(a, "status", "phase"), "Queued");
	assert_string_equal(str(json_object_get(a, "metadata"), "labels", "krate.a5c.ai/state"), "queued");
	json_decref(a);
	run_of(second, run, sizeof(run));
	wait_condition("AgentDispatchRun", run, "Scheduled", "False", "StackLimit", 5);

	run_of(first, run, sizeof(run));
	snprintf(path, sizeof(path), "/api/agents/runs/%s/cancel", run);
	json_decref(harness_call_json(&srv, "POST", path, dev, "{}", 200));
	json_decref(wait_phase(first, "Cancelled", 15));
	json_decref(wait_phase(second, "Succeeded", 60));
	wait_condition("AgentDispatchAttempt", second, "Scheduled", "True", "Started", 1);
}

/* ---- the shipped example agent ---- */

static void test_example_agent(void **state)
{
	const char *att = dispatch("example", "Summarise the repository.");
	char attempt[128], name[200], *text;
	json_t *a, *t, *art;

	(void)state;
	snprintf(attempt, sizeof(attempt), "%s", att);
	a = wait_phase(attempt, "Succeeded", 60);
	t = transcript(attempt);
	assert_true(said(t, "tool_call", "ls -1A"));
	assert_true(said(t, "tool_result", "README.md"));
	assert_true(said(t, "final", "NOTES.md"));
	snprintf(name, sizeof(name), "%s-patch", attempt);
	art = get("AgentArtifact", name);
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(json_object_get(art,
			    "spec"), "patch"), "files"), 0)), "NOTES.md");
	text = artifact_content(name);
	assert_non_null(strstr(text, "example agent:"));
	free(text);
	json_decref(art);
	json_decref(t);
	json_decref(a);
}

/* ---- restart recovery ---- */

static void test_restart(void **state)
{
	char running[128], queued[128], run[128];
	json_t *a, *r;

	(void)state;
	snprintf(running, sizeof(running), "%s", dispatch("tester", "Go to sleep."));
	json_decref(wait_phase(running, "Running", 30));
	wait_processes(running, 1, 15);
	snprintf(queued, sizeof(queued), "%s", dispatch("tester", "Please edit."));
	wait_condition("AgentDispatchAttempt", queued, "Scheduled", "False", "StackLimit", 15);

	harness_kill(&srv, SIGKILL);
	/* --die-with-parent: the sandbox goes with the server */
	wait_processes(running, 0, 10);
	assert_int_equal(harness_restart(&srv, NULL), 0);

	a = wait_phase(running, "Failed", 30);
	assert_string_equal(str(a, "status", "reason"), "ServerRestarted");
	assert_string_equal(str(json_object_get(a, "metadata"), "labels", "krate.a5c.ai/state"), "done");
	json_decref(a);
	run_of(running, run, sizeof(run));
	r = get("AgentDispatchRun", run);
	assert_string_equal(str(r, "status", "phase"), "Failed");
	assert_string_equal(str(r, "status", "reason"), "ServerRestarted");
	json_decref(r);
	assert_false(exists("%s/workspaces/%s", srv.dir, running));
	json_decref(wait_phase(queued, "Succeeded", 60));
}

/* ---- no secret anywhere ---- */

static void test_no_secret_stored(void **state)
{
	(void)state;
	/* not in the log, the database, CAS or any leftover file */
	assert_int_equal(harness_sh(srv.dir, "! grep -r -l -a '%s' . --exclude=cmd.log", SECRET), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_failure),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_example_agent),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_no_secret_stored),
	};
	int rc;

	harness_group(&srv, NULL, work, sizeof(work), "rtwork");
	rc = cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
	free(dev);
	return rc;
}
