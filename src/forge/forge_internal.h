/* Shared by the forge's files; not part of its public API. */
#ifndef KRATE_FORGE_INTERNAL_H
#define KRATE_FORGE_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>
#include "forge/forge.h"

#define FORGE_QUEUE 256
#define FORGE_JOBS_MAX 128       /* git requests running at once; more get 503 */
#define FORGE_NAME_MAX 64

#define FORGE_UID_MAX 64

struct forge_item {
	int deleted;
	char org[FORGE_NAME_MAX];
	char name[FORGE_NAME_MAX];
	char uid[FORGE_UID_MAX];  /* metadata.uid of the object the event is about */
};

struct forge {
	struct api *api;
	struct store *store;
	char *data_dir;
	char *git_root;          /* DATA/git */
	char *tmp_dir;           /* DATA/tmp */
	char *git_path;
	char *self_exe;           /* this binary, which the pre-receive hooks exec */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct forge_item queue[FORGE_QUEUE];
	size_t head, count;
	int resync;              /* the queue overflowed (or start-up): scan every Repository */
	int stopping;
	unsigned jobs;           /* git http-backend workers running (under lock) */
	pthread_cond_t jobs_idle;
};

/* The org slug of a "krate-org-<slug>" namespace, or NULL. */
const char *forge_ns_org(const char *ns);
/* Runs argv (argv[0] a path) with stdin from in_fd (-1: /dev/null), stdout to
 * out_fd (-1: /dev/null), stderr inherited, and env (NULL: inherited). Returns
 * the child's pid or -1. */
pid_t forge_spawn(char *const argv[], char *const env[], int in_fd, int out_fd);
/* Waits for pid; its exit status, or -1. */
int forge_wait(pid_t pid);

/* hooks.c: writes the policy file for a push to org/repo under DATA/tmp
 * (0600) into path; the caller unlinks it. 0 or -1. */
int forge_policy_file(struct forge *f, const char *org, const char *repo, char *path, size_t size);

/* reconcile.c */
void *forge_reconciler(void *arg);

#endif
