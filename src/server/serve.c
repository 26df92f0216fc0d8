#include "server/serve.h"
#include "agents/controller.h"
#include "agents/runtime.h"
#include "api/api.h"
#include "api/api_internal.h"
#include "forge/forge.h"
#include "webhook/webhook.h"
#include "web/web.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/seal.h"
#include "http/server.h"
#include "model/kinds.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

struct serve_opts {
	char host[64];
	int port;
	const char *data;
	int demo;
	unsigned threads;
	int sync_full;
	size_t body_max;
	int heartbeat;
	int64_t retention;
	size_t max_watches;
	const char *git;
	int webhook_attempts;
	int64_t webhook_backoff_ms;
	const char *bwrap;
	int agents_parallel;
};

void serve_usage(void)
{
	printf("usage: krate serve [--listen HOST:PORT] [--data DIR] [--demo] [--threads N]\n"
	       "                   [--sync normal|full] [--body-max BYTES] [--heartbeat SECONDS]\n"
	       "                   [--event-retention N] [--max-watches N] [--git PATH]\n"
	       "                   [--webhook-attempts N] [--webhook-backoff-ms MS]\n"
	       "                   [--bwrap PATH] [--agents-parallel N]\n"
	       "  defaults: --listen 127.0.0.1:8080 --data ./krate-data --sync normal --body-max 1048576\n"
	       "            --git /usr/bin/git --webhook-attempts 8 --webhook-backoff-ms 1000\n"
	       "            --bwrap /usr/bin/bwrap --agents-parallel 4\n");
}

/* Console pages and API routes share one listener. */
struct app {
	struct api *api;
	struct web *web;
	struct forge *forge;
	struct webhook *webhook;
	struct agents_controller *controller;
	/* The runtime leaves before the store closes while the writer thread may
	 * still fire events: the hook reads it under agents_mu. */
	pthread_mutex_t agents_mu;
	struct agents_runtime *runtime;
};

/* The store has one event hook: the watch hub first, then the forge, the
 * webhook worker and the stack controller. */
static void app_on_event(const struct store_event *ev, void *arg)
{
	struct app *app = arg;

	hub_publish(ev, app->api->hub);
	forge_on_event(ev, app->forge);
	webhook_on_event(ev, app->webhook);
	agents_controller_on_event(ev, app->controller);
	pthread_mutex_lock(&app->agents_mu);
	if (app->runtime)
		agents_runtime_on_event(ev, app->runtime);
	pthread_mutex_unlock(&app->agents_mu);
}

static int app_upload_sink(struct http_req *r, void *arg, struct http_sink *out)
{
	struct app *app = arg;

	return forge_upload_sink(r, app->forge, out);
}

static int app_handle(struct http_req *r, void *arg)
{
	struct app *app = arg;

	/* /<org>/<repo>.git/... before the console, which owns every other page. */
	if (forge_owns_path(http_req_path(r)))
		return forge_handle(r, app->forge);
	if (web_owns_path(http_req_path(r)))
		return web_handle(r, app->web);
	return api_handle(r, app->api);
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_listen(const char *s, struct serve_opts *o)
{
	const char *colon = strrchr(s, ':');
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(o->host) || colon == s)
		return -1;
	if (parse_long(colon + 1, 0, 65535, &port))
		return -1;
	memcpy(o->host, s, (size_t)(colon - s));
	o->host[colon - s] = '\0';
	o->port = (int)port;
	return 0;
}

static int parse_args(int argc, char **argv, struct serve_opts *o)
{
	int i;
	long v;

	strcpy(o->host, "127.0.0.1");
	o->port = 8080;
	o->data = "./krate-data";
	o->body_max = 1024 * 1024;
	o->heartbeat = 15;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--demo")) {
			o->demo = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			serve_usage();
			exit(0);
		}
		if (!val) {
			fprintf(stderr, "krate serve: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--listen")) {
			if (parse_listen(val, o))
				goto bad;
		} else if (!strcmp(a, "--data")) {
			o->data = val;
		} else if (!strcmp(a, "--threads")) {
			if (parse_long(val, 1, 256, &v))
				goto bad;
			o->threads = (unsigned)v;
		} else if (!strcmp(a, "--sync")) {
			if (strcmp(val, "full") && strcmp(val, "normal"))
				goto bad;
			o->sync_full = !strcmp(val, "full");
		} else if (!strcmp(a, "--body-max")) {
			if (parse_long(val, 1024, 256L * 1024 * 1024, &v))
				goto bad;
			o->body_max = (size_t)v;
		} else if (!strcmp(a, "--heartbeat")) {
			if (parse_long(val, 1, 3600, &v))
				goto bad;
			o->heartbeat = (int)v;
		} else if (!strcmp(a, "--git")) {
			o->git = val;
		} else if (!strcmp(a, "--max-watches")) {
			if (parse_long(val, 1, 1000000, &v))
				goto bad;
			o->max_watches = (size_t)v;
		} else if (!strcmp(a, "--webhook-attempts")) {
			if (parse_long(val, 1, 100, &v))
				goto bad;
			o->webhook_attempts = (int)v;
		} else if (!strcmp(a, "--webhook-backoff-ms")) {
			if (parse_long(val, 1, 24L * 3600 * 1000, &v))
				goto bad;
			o->webhook_backoff_ms = v;
		} else if (!strcmp(a, "--bwrap")) {
			o->bwrap = val;
		} else if (!strcmp(a, "--agents-parallel")) {
			if (parse_long(val, 1, 256, &v))
				goto bad;
			o->agents_parallel = (int)v;
		} else if (!strcmp(a, "--event-retention")) {
			if (parse_long(val, 100, 100000000, &v))
				goto bad;
			o->retention = v;
		} else {
			fprintf(stderr, "krate serve: unknown option %s\n", a);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "krate serve: invalid value for %s: %s\n", a, val);
		return -1;
	}
	return 0;
}

static int write_file_0600(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		rc = -1;
	if (fsync(fd))
		rc = -1;
	close(fd);
	return rc;
}

/* First start: an admin token, written to DIR/admin.token. Later starts keep it. */
static int ensure_admin_token(struct store *s, const char *dir)
{
	char path[PATH_MAX];
	char *secret = NULL;
	struct kerr e = KERR_INIT;
	int rc;

	if (snprintf(path, sizeof(path), "%s/admin.token", dir) >= (int)sizeof(path))
		return -1;
	if (access(path, R_OK) == 0)
		return 0;
	rc = api_token_create(s, "admin", NULL, ROLE_ADMIN, "system", &secret, NULL, &e);
	if (rc) {
		log_error("cannot create the admin token: %s", e.message ? e.message : "");
		kerr_clear(&e);
		return -1;
	}
	rc = write_file_0600(path, secret);
	memset(secret, 0, strlen(secret));
	free(secret);
	if (rc)
		log_error("cannot write %s: %s", path, strerror(errno));
	else
		log_info("created an admin token in %s", path);
	return rc;
}

/* The demo user's password, when the seed just made it: DIR/demo-credentials
 * holds "demo <password>" (0600) so every later start can print it again. */
static int save_demo_credentials(const char *dir, char *password)
{
	char path[PATH_MAX];
	struct buf text = BUF_INIT(1024);
	int rc = -1;

	if (snprintf(path, sizeof(path), "%s/demo-credentials", dir) < (int)sizeof(path) &&
	    !buf_printf(&text, "demo %s", password))
		rc = write_file_0600(path, text.data);
	if (rc)
		log_error("cannot write %s: %s", path, strerror(errno));
	if (text.data)
		memset(text.data, 0, text.len);
	buf_free(&text);
	memset(password, 0, strlen(password));
	free(password);
	return rc;
}

static void print_demo_sign_in(const struct serve_opts *o, int port)
{
	char path[PATH_MAX], text[256];
	FILE *f;
	size_t n = 0;

	if (snprintf(path, sizeof(path), "%s/demo-credentials", o->data) >= (int)sizeof(path))
		return;
	f = fopen(path, "r");
	if (f) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	n = strcspn(text, "\r\n");
	text[n] = '\0';
	if (strncmp(text, "demo ", 5) || n <= 5) {
		log_warn("no demo sign-in in %s; create a console user with `krate user create`", path);
		return;
	}
	printf("Sign in at http://%s:%d/ as demo with password %s\n", o->host, port, text + 5);
	memset(text, 0, sizeof(text));
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int serve_main(int argc, char **argv)
{
	struct serve_opts o = { 0 };
	struct store_options so = { 0 };
	struct http_server_options ho = { 0 };
	struct store *store = NULL;
	struct api *api = NULL;
	struct web *web = NULL;
	struct forge *forge = NULL;
	struct webhook *webhook = NULL;
	struct seal *seal = NULL;
	struct agents_controller *controller = NULL;
	struct agents_runtime *runtime = NULL;
	struct app app = { .agents_mu = PTHREAD_MUTEX_INITIALIZER };
	struct http_server *http = NULL;
	struct kerr e = KERR_INIT;
	char dbpath[PATH_MAX], portpath[PATH_MAX], portbuf[16];
	sigset_t sigs;
	int sig = 0, rc = 1;

	if (parse_args(argc, argv, &o)) {
		serve_usage();
		return 2;
	}
	if (mkdir(o.data, 0700) && errno != EEXIST) {
		fprintf(stderr, "krate serve: cannot create %s: %s\n", o.data, strerror(errno));
		return 1;
	}
	if (snprintf(dbpath, sizeof(dbpath), "%s/krate.db", o.data) >= (int)sizeof(dbpath) ||
	    snprintf(portpath, sizeof(portpath), "%s/krate.port", o.data) >= (int)sizeof(portpath)) {
		fprintf(stderr, "krate serve: data path too long\n");
		return 1;
	}
	/* Signals go to the main thread only, which waits for them below. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	so.path = dbpath;
	so.sync_full = o.sync_full;
	so.event_retention = o.retention;
	if (store_open(&so, &store, &e)) {
		fprintf(stderr, "krate serve: cannot open the store: %s\n", e.message ? e.message : "");
		goto out;
	}
	if (ensure_admin_token(store, o.data))
		goto out;
	if (o.demo) {
		char *demo_password = NULL;

		if (api_demo_seed(store, &demo_password, &e)) {
			fprintf(stderr, "krate serve: cannot seed demo data: %s\n", e.message ? e.message : "");
			goto out;
		}
		if (demo_password && save_demo_credentials(o.data, demo_password))
			goto out;
	}
	/* One key for every sealed value (webhook secrets, Secret and ConfigMap data). */
	if (seal_load(o.data, &seal, &e)) {
		fprintf(stderr, "krate serve: %s\n", e.message ? e.message : "cannot load the seal key");
		goto out;
	}
	{
		struct webhook_options wo = { store, seal, o.webhook_attempts, o.webhook_backoff_ms, 0 };

		if (webhook_create(&wo, &webhook, &e)) {
			fprintf(stderr, "krate serve: %s\n", e.message ? e.message : "cannot start webhooks");
			goto out;
		}
	}
	{
		/* The in-memory ring never reaches further back than the event log,
		 * so a version the log has pruned is too old everywhere. */
		struct api_options ao = { store, o.heartbeat, o.max_watches, o.body_max,
					  o.retention > 0 && o.retention < 4096 ? (size_t)o.retention : 4096,
					  o.git };

		ao.data_dir = o.data;
		ao.webhook = webhook;
		ao.seal = seal;

		if (api_create(&ao, &api, &e)) {
			fprintf(stderr, "krate serve: %s\n", e.message ? e.message : "cannot start the API");
			goto out;
		}
	}
	ho.host = o.host;
	ho.port = o.port;
	ho.threads = o.threads;
	ho.body_max = o.body_max;
	if (web_create(api, &web, &e)) {
		fprintf(stderr, "krate serve: %s\n", e.message ? e.message : "cannot start the console");
		goto out;
	}
	{
		struct forge_options fo = { api, store, o.data };

		if (forge_create(&fo, &forge, &e)) {
			fprintf(stderr, "krate serve: %s\n", e.message ? e.message : "cannot start the forge");
			goto out;
		}
	}
	/* It evaluates every stack at start, then the orgs the event hook names. */
	if (agents_controller_start(store, &controller, &e)) {
		fprintf(stderr, "krate serve: %s\n", e.message ? e.message : "cannot start the agents controller");
		goto out;
	}
	{
		/* After the forge, which keeps the bare repositories its workspaces check out. */
		struct agents_runtime_options ro = { store, seal, o.data, o.git, o.bwrap, o.agents_parallel };

		if (agents_runtime_start(&ro, &runtime, &e)) {
			fprintf(stderr, "krate serve: %s\n", e.message ? e.message : "cannot start the agent runtime");
			goto out;
		}
		api_set_runtime(api, runtime);
	}
	app.api = api;
	app.web = web;
	app.forge = forge;
	app.webhook = webhook;
	app.controller = controller;
	app.runtime = runtime;
	store_set_event_hook(store, app_on_event, &app);
	if (webhook_start(webhook, &e)) {
		fprintf(stderr, "krate serve: %s\n", e.message ? e.message : "cannot start webhooks");
		goto out;
	}
	/* After the forge (which creates the bare repositories) and the event hook. */
	if (o.demo && api_demo_forge(api, &e)) {
		log_warn("demo repositories left empty: %s", e.message ? e.message : "unknown error");
		kerr_clear(&e);
	}
	if (o.demo) {
		char *self = realpath("/proc/self/exe", NULL);

		if (!self || api_demo_agents(api, self, &e)) {
			log_warn("demo agent stack not seeded: %s", self ? (e.message ? e.message : "unknown error")
									: "cannot find this executable");
			kerr_clear(&e);
		}
		free(self);
	}
	ho.handler = app_handle;
	ho.upload_sink = app_upload_sink;
	ho.observe = api_observe;
	ho.app = &app;
	if (http_server_start(&ho, &http, &e)) {
		fprintf(stderr, "krate serve: %s\n", e.message ? e.message : "cannot listen");
		goto out;
	}
	snprintf(portbuf, sizeof(portbuf), "%d", http_server_port(http));
	if (write_file_0600(portpath, portbuf))
		log_warn("cannot write %s", portpath);
	printf("krate: serving on http://%s:%d (data %s)%s\n", o.host, http_server_port(http), o.data,
	       o.demo ? " with demo data" : "");
	if (o.demo)
		print_demo_sign_in(&o, http_server_port(http));
	fflush(stdout);
	log_info("admin token: %s/admin.token", o.data);
	sigwait(&sigs, &sig);
	log_info("signal %d: shutting down", sig);
	rc = 0;
out:
	if (api)
		api_shutdown(api);
	http_server_stop(http);
	if (runtime) {
		/* Its running attempts end as Failed (ServerStopped) while the store still takes writes. */
		api_set_runtime(api, NULL);
		pthread_mutex_lock(&app.agents_mu);
		app.runtime = NULL;
		pthread_mutex_unlock(&app.agents_mu);
		agents_runtime_stop(runtime);
	}
	if (forge) {
		/* Hand the hook back to the hub alone before the forge goes. */
		store_set_event_hook(store, hub_publish, api->hub);
		forge_destroy(forge);
	}
	/* The hook no longer reaches it; its last status writes still commit. */
	agents_controller_stop(controller);
	web_destroy(web);
	/* After the forge: its last git requests may still record pushes and their events. */
	webhook_destroy(webhook);
	api_destroy(api);
	seal_free(seal);
	store_close(store);
	kerr_clear(&e);
	return rc;
}
