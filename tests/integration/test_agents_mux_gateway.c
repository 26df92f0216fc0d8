/* The Agent Mux adapter against the test gateway (tests/agents/mux_gateway.c):
 * first the adapter on its own (a stream cut mid-way resumes from the last
 * event with Last-Event-ID, follow-up messages, cancel, the time limit, an
 * agent the gateway lacks, a gateway that is down), then the real server: a
 * dispatched run of an agent-mux stack reaches Succeeded with the gateway's
 * events in its transcript despite a dropped stream, and without an
 * AgentGatewayConfig the attempt waits Queued (AgentMuxBound=False,
 * Unavailable) while /readyz reports the gateway degraded, not down. */
#include "harness.h"
#include "agents/mux.h"
#include "core/buf.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the test gateway process ---- */

static pid_t gateway_pid;    /* the one running, for the teardown after a failed test */

struct gateway {
	pid_t pid;
	struct krate_server http;    /* only base is used: http_call against the gateway */
	char url[64];
};

static void gateway_start(struct gateway *g, const char *arg)
{
	struct pollfd pfd;
	char line[32] = "";
	ssize_t n = 0, r;
	int fds[2];

	memset(g, 0, sizeof(*g));
	assert_int_equal(pipe(fds), 0);
	g->pid = fork();
	assert_true(g->pid >= 0);
	if (g->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(MUX_GATEWAY_BIN, "mux_gateway", arg, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	gateway_pid = g->pid;
	pfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	while (!memchr(line, '\n', (size_t)n) && (size_t)n < sizeof(line) - 1 && poll(&pfd, 1, 5000) == 1) {
		r = read(fds[0], line + n, sizeof(line) - 1 - (size_t)n);
		if (r <= 0)
			break;
		n += r;
	}
	close(fds[0]);
	line[n] = '\0';
	g->http.port = atoi(line);
	assert_true(g->http.port > 0);
	snprintf(g->url, sizeof(g->url), "http://127.0.0.1:%d", g->http.port);
	snprintf(g->http.base, sizeof(g->http.base), "%s", g->url);
}

static void gateway_stop(struct gateway *g)
{
	kill(g->pid, SIGTERM);
	waitpid(g->pid, NULL, 0);
	gateway_pid = 0;
}

static int gateway_teardown(void **state)
{
	(void)state;
	if (gateway_pid > 0) {
		kill(gateway_pid, SIGTERM);
		waitpid(gateway_pid, NULL, 0);
		gateway_pid = 0;
	}
	return 0;
}

/* The requests the gateway saw (new ref). */
static json_t *gateway_requests(struct gateway *g)
{
	struct http_resp r;
	json_t *j;

	assert_int_equal(http_call(&g->http, "GET", "/debug/requests", NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = json_incref(r.json);
	http_resp_free(&r);
	assert_true(json_is_array(j));
	return j;
}

/* The requests with this method whose path ends with suffix (new ref). */
static json_t *requests_to(json_t *all, const char *method, const char *suffix)
{
	json_t *out = json_array(), *x;
	size_t i;

	json_array_foreach(all, i, x) {
		const char *m = json_string_value(json_object_get(x, "method"));
		const char *p = json_string_value(json_object_get(x, "path"));

		if (m && p && !strcmp(m, method) && strlen(p) >= strlen(suffix) &&
		    !strcmp(p + strlen(p) - strlen(suffix), suffix))
			json_array_append(out, x);
	}
	return out;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- the adapter on its own ---- */

struct job {
	struct mux_options o;
	struct mux_request q;
	struct mux_sink sink;
	atomic_int cancel;
	struct mux_outcome out;
	struct kerr e;
	int rc;
	pthread_t thread;
	pthread_mutex_t mu;
	json_t *entries;             /* the transcript entries, in order */
	char session[MUX_ID_MAX], run[MUX_ID_MAX];
	int bound;
	int ticks;                   /* the sink's tick calls */
	json_t *attempt, *runobj, *stack;
};

static int on_bound(void *ctx, const struct mux_session *s)
{
	struct job *j = ctx;

	pthread_mutex_lock(&j->mu);
	snprintf(j->session, sizeof(j->session), "%s", s->session_id);
	snprintf(j->run, sizeof(j->run), "%s", s->run_id);
	j->bound = json_is_true(json_object_get(s->capabilities, "streaming"));
	pthread_mutex_unlock(&j->mu);
	return 0;
}

static int on_entry(void *ctx, json_t *entry)
{
	struct job *j = ctx;

	pthread_mutex_lock(&j->mu);
	json_array_append(j->entries, entry);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

static int on_tick(void *ctx)
{
	struct job *j = ctx;

	pthread_mutex_lock(&j->mu);
	j->ticks++;
	pthread_mutex_unlock(&j->mu);
	return 0;
}

static void job_init(struct job *j, const char *url, const char *agent, const char *prompt, int timeout_s)
{
	memset(j, 0, sizeof(*j));
	pthread_mutex_init(&j->mu, NULL);
	j->entries = json_array();
	j->o = (struct mux_options){ .gateway_url = url, .backoff_base_ms = 50, .backoff_max_ms = 400 };
	j->attempt = json_pack("{s:{s:s, s:s, s:s}, s:{s:s}}", "metadata", "name", "run-0a1b2c3d4e5f-1", "namespace",
			       "krate-org-acme", "uid", "uid-1", "spec", "contextBundleDigest", "sha256:0123abcd");
	j->runobj = json_pack("{s:{s:s}, s:{s:s, s:s, s:s}}", "metadata", "name", "run-0a1b2c3d4e5f", "spec",
			      "repository", "web", "ref", "refs/heads/main", "sha", "89abcdef");
	j->stack = json_pack("{s:s, s:s, s:s, s:i}", "baseAgent", agent, "model", "model-1", "approvalMode", "auto",
			     "timeoutSeconds", timeout_s);
	j->q = (struct mux_request){ j->attempt, j->runobj, j->stack, prompt, "You are careful." };
	j->sink = (struct mux_sink){ j, on_bound, on_entry, on_tick };
}

static void job_free(struct job *j)
{
	json_decref(j->entries);
	json_decref(j->attempt);
	json_decref(j->runobj);
	json_decref(j->stack);
	kerr_clear(&j->e);
	pthread_mutex_destroy(&j->mu);
}

static void *job_main(void *arg)
{
	struct job *j = arg;

	j->rc = mux_run_attempt(&j->o, &j->q, &j->sink, &j->cancel, &j->out, &j->e);
	return NULL;
}

/* Waits until the job's transcript has n entries. */
static void wait_entries(struct job *j, size_t n)
{
	size_t have = 0;
	int i;

	for (i = 0; i < 500; i++) {
		pthread_mutex_lock(&j->mu);
		have = json_array_size(j->entries);
		pthread_mutex_unlock(&j->mu);
		if (have >= n)
			return;
		sleep_ms(10);
	}
	fail_msg("only %zu transcript entries, expected %zu", have, n);
}

static char *entry_types(json_t *entries)
{
	char out[512] = "";
	json_t *x;
	size_t i;

	json_array_foreach(entries, i, x)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "",
			 json_string_value(json_object_get(x, "type")));
	return strdup(out);
}

static void test_dropped_stream_resumes(void **state)
{
	struct gateway g;
	struct job j;
	json_t *all, *streams, *create, *body;
	char *types;

	(void)state;
	gateway_start(&g, "--drop-first");
	job_init(&j, g.url, "claude-code", "Find why the build fails", 30);
	j.rc = mux_run_attempt(&j.o, &j.q, &j.sink, &j.cancel, &j.out, &j.e);
	assert_int_equal(j.rc, 0);
	assert_string_equal(j.out.phase, "Succeeded");
	assert_string_equal(j.session, "sess-1");
	assert_string_equal(j.run, "run-1");
	assert_true(j.bound);
	/* every event once, in order; the malformed one skipped */
	types = entry_types(j.entries);
	assert_string_equal(types, "message,tool_call,tool_result,usage,final");
	free(types);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j.entries, 0), "content")),
			    "Looking at web");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j.entries, 3), "totalTokens")), 165);

	all = gateway_requests(&g);
	streams = requests_to(all, "GET", "/api/v1/runs/run-1/events");
	assert_int_equal(json_array_size(streams), 2);
	assert_true(json_is_null(json_object_get(json_array_get(streams, 0), "lastEventId")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(streams, 1), "lastEventId")), "2");
	create = requests_to(all, "GET", "/api/v1/agents/claude-code/capabilities");
	assert_int_equal(json_array_size(create), 1);
	json_decref(create);
	create = requests_to(all, "POST", "/api/v1/sessions");
	assert_int_equal(json_array_size(create), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(create, 0), "idempotencyKey")),
			    "krate-org-acme/uid-1");
	body = json_object_get(json_array_get(create, 0), "body");
	assert_string_equal(json_string_value(json_object_get(body, "agent")), "claude-code");
	assert_string_equal(json_string_value(json_object_get(body, "model")), "model-1");
	assert_string_equal(json_string_value(json_object_get(body, "prompt")), "Find why the build fails");
	assert_string_equal(json_string_value(json_object_get(body, "systemPrompt")), "You are careful.");
	assert_string_equal(json_string_value(json_object_get(body, "approvalMode")), "auto");
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "workspace"), "sha")), "89abcdef");
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "contextBundle"), "digest")),
			    "sha256:0123abcd");
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "metadata"), "krateDispatchRun")),
			    "run-0a1b2c3d4e5f");
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "metadata"), "krateAttempt")),
			    "run-0a1b2c3d4e5f-1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "metadata"), "sourceRef")),
			    "refs/heads/main");
	json_decref(create);
	json_decref(streams);
	json_decref(all);
	job_free(&j);
	gateway_stop(&g);
}

static void test_continue_then_finish(void **state)
{
	struct gateway g;
	struct job j;
	struct kerr e = KERR_INIT;
	json_t *last;
	char *types;

	(void)state;
	gateway_start(&g, NULL);
	job_init(&j, g.url, "claude-code", "Investigate [hold]", 30);
	assert_int_equal(pthread_create(&j.thread, NULL, job_main, &j), 0);
	wait_entries(&j, 4);
	assert_int_equal(mux_send_message(&j.o, j.session, "Also check the tests", &e), 0);
	assert_int_equal(mux_send_message(&j.o, "sess-404", "hello", &e), KE_NOTFOUND);
	kerr_clear(&e);
	pthread_join(j.thread, NULL);
	assert_int_equal(j.rc, 0);
	assert_string_equal(j.out.phase, "Succeeded");
	types = entry_types(j.entries);
	assert_string_equal(types, "message,tool_call,tool_result,usage,message,usage,final");
	free(types);
	/* the session sat quiet waiting for the message: the sink was ticked meanwhile */
	assert_true(j.ticks > 0);
	last = json_array_get(j.entries, 4);
	assert_string_equal(json_string_value(json_object_get(last, "content")), "Reply to: Also check the tests");
	/* a finished session takes no more messages */
	assert_int_equal(mux_send_message(&j.o, j.session, "more", &e), KE_CONFLICT);
	kerr_clear(&e);
	job_free(&j);
	gateway_stop(&g);
}

static void test_cancel_ends_session(void **state)
{
	struct gateway g;
	struct job j;
	json_t *all, *deletes;

	(void)state;
	gateway_start(&g, NULL);
	job_init(&j, g.url, "claude-code", "Investigate [hold]", 30);
	assert_int_equal(pthread_create(&j.thread, NULL, job_main, &j), 0);
	wait_entries(&j, 2);
	atomic_store(&j.cancel, 1);
	pthread_join(j.thread, NULL);
	assert_int_equal(j.rc, 0);
	assert_string_equal(j.out.phase, "Cancelled");
	assert_string_equal(j.out.reason, "Cancelled");
	all = gateway_requests(&g);
	deletes = requests_to(all, "DELETE", "/api/v1/sessions/sess-1");
	assert_int_equal(json_array_size(deletes), 1);
	json_decref(deletes);
	json_decref(all);
	job_free(&j);
	gateway_stop(&g);
}

static void test_time_limit_and_failure(void **state)
{
	struct gateway g;
	struct job j;

	(void)state;
	gateway_start(&g, NULL);
	job_init(&j, g.url, "claude-code", "Investigate [hold]", 1);
	j.rc = mux_run_attempt(&j.o, &j.q, &j.sink, &j.cancel, &j.out, &j.e);
	assert_int_equal(j.rc, 0);
	assert_string_equal(j.out.phase, "Failed");
	assert_string_equal(j.out.reason, "TimedOut");
	job_free(&j);

	job_init(&j, g.url, "claude-code", "Investigate [fail]", 30);
	/* another attempt: the gateway would take the same idempotency key for the same session */
	json_object_set_new(json_object_get(j.attempt, "metadata"), "uid", json_string("uid-2"));
	j.rc = mux_run_attempt(&j.o, &j.q, &j.sink, &j.cancel, &j.out, &j.e);
	assert_int_equal(j.rc, 0);
	assert_string_equal(j.out.phase, "Failed");
	assert_string_equal(j.out.reason, "AgentFailed");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j.entries, 4), "status")), "failure");
	job_free(&j);
	gateway_stop(&g);
}

static void test_launch_failures(void **state)
{
	struct gateway g;
	struct job j;
	char down[64];

	(void)state;
	gateway_start(&g, NULL);
	assert_int_equal(mux_probe(g.url, 2000), 0);
	job_init(&j, g.url, "missing-agent", "x", 30);
	assert_int_equal(mux_run_attempt(&j.o, &j.q, &j.sink, &j.cancel, &j.out, &j.e), KE_UNPROCESSABLE);
	assert_string_equal(j.e.code, "LaunchFailed");
	assert_int_equal(j.session[0], '\0');
	job_free(&j);
	gateway_stop(&g);

	/* the port is free again: nothing answers there */
	snprintf(down, sizeof(down), "%s", g.url);
	assert_int_equal(mux_probe(down, 500), KE_UNAVAILABLE);
	job_init(&j, down, "claude-code", "x", 30);
	assert_int_equal(mux_run_attempt(&j.o, &j.q, &j.sink, &j.cancel, &j.out, &j.e), KE_UNAVAILABLE);
	assert_int_equal(j.session[0], '\0');
	job_free(&j);
	job_init(&j, "ftp://127.0.0.1:1", "claude-code", "x", 30);
	assert_int_equal(mux_run_attempt(&j.o, &j.q, &j.sink, &j.cancel, &j.out, &j.e), KE_UNAVAILABLE);
	job_free(&j);
}

/* ---- the real server ---- */

#define SECRET_VALUE "sk-mux-test-9f8e7d6c5b4a39281706"

static struct krate_server srv;
static char work[256];
static struct gateway server_gw;

static const char *str(json_t *o, const char *part, const char *key)
{
	return json_string_value(json_object_get(part ? json_object_get(o, part) : o, key));
}

/* An org with a repository "app" holding one commit, an identity and an
 * agent-mux stack "mux"; a gateway config when url is given. */
static void make_org(const char *org, const char *url)
{
	char body[1024];

	harness_make_org(&srv, org);
	harness_make_repo(&srv, org, "app", "");
	harness_sh_ok(work, "rm -rf %s && git -c credential.helper= clone -q 'http://admin:%s@127.0.0.1:%d/%s/app.git' %s"
		      " && cd %s && echo 'make all' > build.sh && git add . && git commit -qm base &&"
		      " git push -q origin HEAD:main", org, srv.admin_token, srv.port, org, org, org);
	harness_apply(&srv, org, "{\"kind\":\"AgentServiceAccount\",\"metadata\":{\"name\":\"agent-sa\"},"
			       "\"spec\":{\"namespace\":\"agents\",\"serviceAccountName\":\"agent-sa\"}}");
	harness_apply(&srv, org, "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"mux\"},"
			       "\"spec\":{\"baseAgent\":\"claude-code\",\"adapter\":\"agent-mux\","
			       "\"runtimeIdentity\":\"agent-sa\",\"model\":\"model-1\",\"approvalMode\":\"policy\","
			       "\"prompt\":{\"system\":\"You are a careful build doctor.\"}}}");
	harness_apply(&srv, org, "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"deploy\"},"
			       "\"spec\":{\"data\":{\"token\":\"" SECRET_VALUE "\"}}}");
	/* the review wants the model provider's credentials granted; agent-mux never sends them */
	harness_apply(&srv, org, "{\"kind\":\"AgentSecretGrant\",\"metadata\":{\"name\":\"provider\"},"
			       "\"spec\":{\"subject\":\"agent-sa\",\"secretRef\":\"deploy\",\"purpose\":\"model-provider\"}}");
	if (url) {
		snprintf(body, sizeof(body), "{\"kind\":\"AgentGatewayConfig\",\"metadata\":{\"name\":\"mux\"},"
					     "\"spec\":{\"gatewayUrl\":\"%s\"}}", url);
		harness_apply(&srv, org, body);
	}
}

/* Dispatches the stack with prompt in org; the run's name into run (size 64). */
static void dispatch(const char *org, const char *prompt, char *run)
{
	char path[128], body[512];
	json_t *j;

	snprintf(path, sizeof(path), "/api/agents/runs?org=%s", org);
	snprintf(body, sizeof(body), "{\"repository\":\"app\",\"agentStack\":\"mux\",\"prompt\":\"%s\"}", prompt);
	j = harness_call_json(&srv, "POST", path, srv.admin_token, body, 201);
	assert_non_null(str(json_object_get(j, "run"), "metadata", "name"));
	snprintf(run, 64, "%s", str(json_object_get(j, "run"), "metadata", "name"));
	json_decref(j);
}

/* GET of an object through the generic API (new ref). */
static json_t *get_object(const char *org, const char *kind, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/orgs/%s/resources/%s/%s", org, kind, name);
	return harness_call_json(&srv, "GET", path, srv.admin_token, NULL, 200);
}

/* Waits up to ms until the run's phase is phase; the run (new ref). */
static json_t *wait_run(const char *org, const char *run, const char *phase, int ms)
{
	json_t *j = NULL;
	int waited;

	for (waited = 0; waited <= ms; waited += 50) {
		json_decref(j);
		j = get_object(org, "AgentDispatchRun", run);
		if (str(j, "status", "phase") && !strcmp(str(j, "status", "phase"), phase))
			return j;
		sleep_ms(50);
	}
	fail_msg("run %s stayed %s, expected %s", run, str(j, "status", "phase"), phase);
	return NULL;
}

static json_t *condition(json_t *obj, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "status"), "conditions"), i, c)
		if (str(c, NULL, "type") && !strcmp(str(c, NULL, "type"), type))
			return c;
	return NULL;
}

static int server_setup(void **state)
{
	if (harness_group_setup(state))
		return -1;
	gateway_start(&server_gw, "--drop-first");
	return 0;
}

static int server_teardown(void **state)
{
	gateway_stop(&server_gw);
	return harness_group_teardown(state);
}

/* No gateway configured: the attempt waits Queued with AgentMuxBound=False
 * (Unavailable), and /readyz says the agent gateway is degraded while the
 * server still answers 200. */
static void test_server_without_gateway(void **state)
{
	char run[64], attempt[80];
	json_t *a = NULL, *c = NULL, *ready;
	struct http_resp r;
	int waited;

	(void)state;
	make_org("solo", NULL);
	dispatch("solo", "Diagnose the build", run);
	snprintf(attempt, sizeof(attempt), "%s-1", run);
	for (waited = 0; waited < 10000 && !c; waited += 50) {
		json_decref(a);
		a = get_object("solo", "AgentDispatchAttempt", attempt);
		c = condition(a, "AgentMuxBound");
		if (!c)
			sleep_ms(50);
	}
	assert_non_null(c);
	assert_string_equal(str(c, NULL, "status"), "False");
	assert_string_equal(str(c, NULL, "reason"), "Unavailable");
	assert_string_equal(str(a, "status", "phase"), "Queued");
	assert_string_equal(str(json_object_get(a, "metadata"), "labels", "krate.a5c.ai/state"), "queued");
	json_decref(a);
	/* still waiting a while later: nothing runs it without a gateway */
	sleep_ms(1500);
	a = get_object("solo", "AgentDispatchAttempt", attempt);
	assert_string_equal(str(a, "status", "phase"), "Queued");
	json_decref(a);

	harness_call(&srv, "GET", "/readyz", NULL, NULL, 200, &r);
	ready = json_object_get(json_object_get(r.json, "components"), "agentGateway");
	assert_string_equal(str(ready, NULL, "status"), "degraded");
	assert_true(json_is_true(json_object_get(ready, "configured")));
	assert_string_equal(str(r.json, NULL, "status"), "degraded");
	assert_string_equal(str(json_object_get(r.json, "components"), "store", "status"), "ready");
	http_resp_free(&r);
}

/* A run through the gateway: bound, its events in the transcript once each
 * although the first stream was cut, Succeeded; the gateway got names,
 * digests and the redacted prompt, never the org's secret value. */
static void test_server_run_succeeds(void **state)
{
	char run[64], attempt[80], name[96], *text;
	json_t *j, *a, *t, *msgs, *all, *streams, *create, *m, *bound;
	struct buf types = BUF_INIT(4096);
	size_t i;

	(void)state;
	make_org("acme", server_gw.url);
	dispatch("acme", "Diagnose the build; the deploy token is " SECRET_VALUE, run);
	snprintf(attempt, sizeof(attempt), "%s-1", run);
	j = wait_run("acme", run, "Succeeded", 20000);
	json_decref(j);

	a = get_object("acme", "AgentDispatchAttempt", attempt);
	assert_string_equal(str(a, "status", "phase"), "Succeeded");
	assert_string_equal(str(a, "status", "agentMuxSessionId"), "sess-1");
	assert_string_equal(str(a, "status", "agentMuxRunId"), "run-1");
	bound = condition(a, "AgentMuxBound");
	assert_non_null(bound);
	assert_string_equal(str(bound, NULL, "status"), "True");
	json_decref(a);

	snprintf(name, sizeof(name), "transcript-%s", attempt);
	t = get_object("acme", "AgentSessionTranscript", name);
	msgs = json_object_get(json_object_get(t, "spec"), "messages");
	json_array_foreach(msgs, i, m)
		assert_int_equal(buf_printf(&types, "%s%s", i ? "," : "", str(m, NULL, "type")), 0);
	harness_expect_in(types.data, "message,tool_call,tool_result,usage,final");
	/* the events before the cut were not recorded twice */
	assert_null(strstr(strstr(types.data, "tool_call") + 1, "tool_call"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(t, "spec"), "cost"),
							    "inputTokens")), 120);
	buf_free(&types);
	json_decref(t);

	all = gateway_requests(&server_gw);
	text = json_dumps(all, 0);
	harness_expect_not_in(text, SECRET_VALUE);
	free(text);
	streams = requests_to(all, "GET", "/api/v1/runs/run-1/events");
	assert_true(json_array_size(streams) >= 2);
	assert_string_equal(str(json_array_get(streams, 1), NULL, "lastEventId"), "2");
	create = requests_to(all, "POST", "/api/v1/sessions");
	assert_int_equal(json_array_size(create), 1);
	m = json_object_get(json_array_get(create, 0), "body");
	assert_string_equal(str(m, NULL, "agent"), "claude-code");
	assert_string_equal(str(m, "metadata", "krateDispatchRun"), run);
	assert_string_equal(str(m, "metadata", "krateAttempt"), attempt);
	assert_string_equal(str(m, "metadata", "repository"), "app");
	assert_string_equal(str(m, "workspace", "repository"), "app");
	harness_expect_in(str(m, NULL, "prompt"), "Diagnose the build");
	harness_expect_in(str(m, NULL, "systemPrompt"), "careful build doctor");
	assert_non_null(str(m, "contextBundle", "digest"));
	json_decref(create);
	json_decref(streams);
	json_decref(all);
}

/* Waits until the attempt's transcript holds n messages: the session is bound and talking. */
static void wait_transcript(const char *org, const char *attempt, size_t n)
{
	char path[256];
	size_t have = 0;
	int waited;

	snprintf(path, sizeof(path), "/api/orgs/%s/resources/AgentSessionTranscript/transcript-%s", org, attempt);
	for (waited = 0; waited < 10000; waited += 50) {
		struct http_resp r;

		assert_int_equal(http_call(&srv, "GET", path, srv.admin_token, NULL, NULL, &r), 0);
		have = r.status == 200 ? json_array_size(json_object_get(json_object_get(r.json, "spec"), "messages")) : 0;
		http_resp_free(&r);
		if (have >= n)
			return;
		sleep_ms(50);
	}
	fail_msg("transcript-%s has %zu messages, expected %zu", attempt, have, n);
}

/* A follow-up message reaches the running session through the run's
 * continue action; cancel ends a session at the gateway. */
static void test_server_continue_and_cancel(void **state)
{
	char run[64], attempt[80], path[160], name[96], *text;
	json_t *all, *deletes;
	size_t n;
	int waited;

	(void)state;
	dispatch("acme", "Investigate [hold]", run);
	snprintf(attempt, sizeof(attempt), "%s-1", run);
	wait_transcript("acme", attempt, 4);
	snprintf(path, sizeof(path), "/api/agents/runs/%s/continue?org=acme", run);
	json_decref(harness_call_json(&srv, "POST", path, srv.admin_token, "{\"message\":\"Check the tests too\"}",
				      200));
	json_decref(wait_run("acme", run, "Succeeded", 10000));
	snprintf(name, sizeof(name), "transcript-%s", attempt);
	all = get_object("acme", "AgentSessionTranscript", name);
	text = json_dumps(all, 0);
	harness_expect_in(text, "Reply to: Check the tests too");
	free(text);
	json_decref(all);

	dispatch("acme", "Wait for me [hold]", run);
	snprintf(attempt, sizeof(attempt), "%s-1", run);
	wait_transcript("acme", attempt, 2);
	snprintf(path, sizeof(path), "/api/agents/runs/%s/cancel?org=acme", run);
	json_decref(harness_call_json(&srv, "POST", path, srv.admin_token, "{\"reason\":\"not needed\"}", 200));
	json_decref(wait_run("acme", run, "Cancelled", 10000));
	all = get_object("acme", "AgentDispatchAttempt", attempt);
	snprintf(path, sizeof(path), "/api/v1/sessions/%s", str(all, "status", "agentMuxSessionId"));
	json_decref(all);
	/* the run is Cancelled at once; the attempt's thread ends the session right after */
	for (waited = 0, n = 0; waited < 10000 && !n; waited += 50) {
		all = gateway_requests(&server_gw);
		deletes = requests_to(all, "DELETE", path);
		n = json_array_size(deletes);
		json_decref(deletes);
		json_decref(all);
		if (!n)
			sleep_ms(50);
	}
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest adapter[] = {
		cmocka_unit_test_teardown(test_dropped_stream_resumes, gateway_teardown),
		cmocka_unit_test_teardown(test_continue_then_finish, gateway_teardown),
		cmocka_unit_test_teardown(test_cancel_ends_session, gateway_teardown),
		cmocka_unit_test_teardown(test_time_limit_and_failure, gateway_teardown),
		cmocka_unit_test_teardown(test_launch_failures, gateway_teardown),
	};

	const struct CMUnitTest server[] = {
		cmocka_unit_test(test_server_without_gateway),
		cmocka_unit_test(test_server_run_succeeds),
		cmocka_unit_test(test_server_continue_and_cancel),
	};
	int failed = cmocka_run_group_tests(adapter, NULL, NULL);

	harness_group(&srv, NULL, work, sizeof(work), "muxwork");
	return failed + cmocka_run_group_tests(server, server_setup, server_teardown);
}
