#include "forge/forge_internal.h"
#include "forge/browse.h"
#include "api/api_internal.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int forge_repo_path(const char *data_dir, const char *org, const char *repo, char *out, size_t size)
{
	int n;

	if (!org || !repo || !util_dns_label(org) || !util_dns_label(repo))
		return KE_INVALID;
	n = snprintf(out, size, "%s/git/%s/%s.git", data_dir, org, repo);
	if (n < 0 || (size_t)n >= size)
		return KE_INVALID;
	return 0;
}

const char *forge_ns_org(const char *ns)
{
	static const char prefix[] = "krate-org-";

	if (!ns || strncmp(ns, prefix, sizeof(prefix) - 1))
		return NULL;
	return ns + sizeof(prefix) - 1;
}

pid_t forge_spawn(char *const argv[], char *const env[], int in_fd, int out_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid = -1;
	int rc;

	if (posix_spawn_file_actions_init(&fa))
		return -1;
	if (posix_spawnattr_init(&attr)) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	/* The server blocks SIGINT/SIGTERM and ignores SIGPIPE: give git defaults. */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, env ? env : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		log_error("cannot run %s: %s", argv[0], strerror(rc));
		return -1;
	}
	return pid;
}

int forge_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

int forge_create(const struct forge_options *o, struct forge **out, struct kerr *e)
{
	struct forge *f = calloc(1, sizeof(*f));

	if (!f)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	f->api = o->api;
	f->store = o->store;
	f->data_dir = strdup(o->data_dir);
	f->git_root = join(o->data_dir, "/git");
	f->tmp_dir = join(o->data_dir, "/tmp");
	f->git_path = strdup(o->api->git_path);
	f->self_exe = realpath("/proc/self/exe", NULL);
	if (!f->self_exe) {
		kerr_set(e, KE_IO, NULL, "cannot find the krate executable for the git hooks: %s", strerror(errno));
		goto fail;
	}
	if (!f->data_dir || !f->git_root || !f->tmp_dir || !f->git_path) {
		kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	if ((mkdir(f->git_root, 0700) && errno != EEXIST) || (mkdir(f->tmp_dir, 0700) && errno != EEXIST)) {
		kerr_set(e, KE_IO, NULL, "cannot create the forge directories in %s: %s", o->data_dir,
			 strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	pthread_cond_init(&f->jobs_idle, NULL);
	f->resync = 1;
	if (browse_init()) {
		pthread_mutex_destroy(&f->lock);
		pthread_cond_destroy(&f->cond);
		pthread_cond_destroy(&f->jobs_idle);
		kerr_set(e, KE_INTERNAL, NULL, "cannot initialise libgit2");
		goto fail;
	}
	if (pthread_create(&f->thread, NULL, forge_reconciler, f)) {
		browse_shutdown();
		pthread_mutex_destroy(&f->lock);
		pthread_cond_destroy(&f->cond);
		pthread_cond_destroy(&f->jobs_idle);
		kerr_set(e, KE_INTERNAL, NULL, "cannot start the forge reconciler");
		goto fail;
	}
	api_set_browse(o->api, browse_json, browse_raw, f);
	*out = f;
	return 0;
fail:
	free(f->data_dir);
	free(f->git_root);
	free(f->tmp_dir);
	free(f->git_path);
	free(f->self_exe);
	free(f);
	return e->kcode;
}

void forge_on_event(const struct store_event *ev, void *arg)
{
	struct forge *f = arg;
	const char *org, *uid;
	struct forge_item *it;
	json_t *obj;
	int deleted;

	if (!f || strcmp(ev->kind, "Repository"))
		return;
	if (!strcmp(ev->type, "ADDED"))
		deleted = 0;
	else if (!strcmp(ev->type, "DELETED"))
		deleted = 1;
	else
		return;
	org = forge_ns_org(ev->ns);
	if (!org || strlen(org) >= FORGE_NAME_MAX || strlen(ev->name) >= FORGE_NAME_MAX)
		return;
	obj = json_loadb(ev->json, ev->len, 0, NULL);
	uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
	pthread_mutex_lock(&f->lock);
	if (f->count == FORGE_QUEUE) {
		/* Never block the store's writer: a full scan catches up instead. */
		f->resync = 1;
	} else {
		it = &f->queue[(f->head + f->count) % FORGE_QUEUE];
		it->deleted = deleted;
		strcpy(it->org, org);
		strcpy(it->name, ev->name);
		snprintf(it->uid, sizeof(it->uid), "%s", uid ? uid : "");
		f->count++;
	}
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
	json_decref(obj);
}

void forge_destroy(struct forge *f)
{
	struct timespec ts;
	unsigned left;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = 1;
	pthread_cond_signal(&f->cond);
	/* Workers end with their git process; the server has ended their streams. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	while (f->jobs)
		if (pthread_cond_timedwait(&f->jobs_idle, &f->lock, &ts))
			break;
	left = f->jobs;
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	api_set_browse(f->api, NULL, NULL, NULL);
	browse_shutdown();
	if (left) {
		/* A worker still holds f: leave it rather than free it under the worker. */
		log_warn("forge: %u git requests still running at shutdown", left);
		return;
	}
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	pthread_cond_destroy(&f->jobs_idle);
	free(f->data_dir);
	free(f->git_root);
	free(f->tmp_dir);
	free(f->git_path);
	free(f->self_exe);
	free(f);
}
