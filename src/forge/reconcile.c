/* The reconciler: one thread that makes DATA/git match the Repository objects. */
#include "forge/forge_internal.h"
#include "forge/hooks.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int branch_ok(const char *b)
{
	size_t n = strlen(b), i;

	if (!n || n > 200 || b[0] == '-' || b[0] == '/' || b[n - 1] == '/' || b[n - 1] == '.' ||
	    strstr(b, "..") || strstr(b, "//") || strstr(b, "@{") || (n >= 5 && !strcmp(b + n - 5, ".lock")))
		return 0;
	for (i = 0; i < n; i++) {
		char c = b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == '/'))
			return 0;
	}
	return 1;
}

static void set_status(struct forge *f, const char *org, const char *name, const char *phase,
		       const char *message)
{
	char ns[FORGE_NAME_MAX + 16], url[2 * FORGE_NAME_MAX + 8], res[3 * FORGE_NAME_MAX + 32];
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	json_t *status;

	snprintf(ns, sizeof(ns), "krate-org-%s", org);
	snprintf(url, sizeof(url), "/%s/%s.git", org, name);
	snprintf(res, sizeof(res), "Repository/%s/%s", ns, name);
	status = json_pack("{s:s}", "phase", phase);
	if (!status)
		return;
	/* Merged, not replaced: the status also holds the pull request and issue
	 * number sequence, which must survive a reconcile. */
	json_object_set_new(status, "message", message ? json_string(message) : json_null());
	if (!message)
		json_object_set_new(status, "cloneUrl", json_string(url));
	op.type = STORE_OP_STATUS_MERGE;
	op.kind = "Repository";
	op.ns = ns;
	op.name = name;
	op.obj = status;
	b.ops = &op;
	b.n = 1;
	b.audit.actor = "system:forge";
	b.audit.org = org;
	b.audit.verb = "status";
	b.audit.resource = res;
	b.audit.result = "allowed";
	b.audit.correlation_id = "";
	/* KE_NOTFOUND: deleted meanwhile; its DELETED event follows. */
	if (store_write(f->store, &b) && b.rc != KE_NOTFOUND)
		log_warn("forge: cannot set the status of %s: %s", res, b.err.message ? b.err.message : "");
	json_decref(op.result);
	json_decref(status);
	kerr_clear(&b.err);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* Renames the tree out of the way first, so a half-removed repository is never served. */
static int remove_tree(struct forge *f, const char *path)
{
	char trash[PATH_MAX];
	unsigned char rnd[8];
	char hex[17];

	if (util_random_bytes(rnd, sizeof(rnd)))
		return -1;
	util_hex(hex, rnd, sizeof(rnd));
	if (snprintf(trash, sizeof(trash), "%s/trash-%s", f->tmp_dir, hex) >= (int)sizeof(trash))
		return -1;
	if (rename(path, trash))
		return errno == ENOENT ? 0 : -1;
	/* FTW_PHYS: symlinks are removed, never followed. */
	return nftw(trash, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Each repository records the uid of its Repository object, so a repository
 * deleted and created again under the same name never inherits old content. */
static int read_uid(const char *path, char *out, size_t size)
{
	char file[PATH_MAX];
	FILE *fp;
	size_t n = 0;

	out[0] = '\0';
	if (snprintf(file, sizeof(file), "%s/krate-uid", path) >= (int)sizeof(file) || !(fp = fopen(file, "re")))
		return -1;
	n = fread(out, 1, size - 1, fp);
	fclose(fp);
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

static int write_uid(const char *path, const char *uid)
{
	char file[PATH_MAX];
	FILE *fp;
	int rc;

	if (snprintf(file, sizeof(file), "%s/krate-uid", path) >= (int)sizeof(file) || !(fp = fopen(file, "we")))
		return -1;
	rc = fprintf(fp, "%s\n", uid) < 0;
	return fclose(fp) || rc ? -1 : 0;
}

static void create_repo(struct forge *f, const char *org, const char *name, const char *json)
{
	char path[PATH_MAX], orgdir[PATH_MAX], branch_arg[256];
	json_t *obj = json_loads(json, 0, NULL);
	const char *branch = json_string_value(json_object_get(json_object_get(obj, "spec"), "defaultBranch"));
	const char *phase = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
	const char *url = json_string_value(json_object_get(json_object_get(obj, "status"), "cloneUrl"));
	const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
	char have[FORGE_UID_MAX];
	struct stat st;
	pid_t pid;

	if (!branch || !*branch)
		branch = "main";
	if (forge_repo_path(f->data_dir, org, name, path, sizeof(path)) ||
	    snprintf(orgdir, sizeof(orgdir), "%s/%s", f->git_root, org) >= (int)sizeof(orgdir)) {
		set_status(f, org, name, "Failed", "the organization or repository name cannot be a path");
		goto out;
	}
	if (stat(path, &st) == 0 && uid && !read_uid(path, have, sizeof(have)) && strcmp(have, uid)) {
		/* Left over from an earlier object of the same name. */
		log_info("forge: replacing the repository of an earlier %s/%s", org, name);
		if (remove_tree(f, path)) {
			set_status(f, org, name, "Failed", "cannot remove an earlier repository of the same name");
			goto out;
		}
	}
	if (stat(path, &st) == 0) {
		if (uid && read_uid(path, have, sizeof(have)) && write_uid(path, uid))
			log_warn("forge: cannot record the owner of %s/%s", org, name);
		/* Refreshed at every start: the hook names the binary now running. */
		if (forge_hook_install(f->self_exe, path)) {
			log_warn("forge: cannot install the push hook of %s/%s", org, name);
			set_status(f, org, name, "Failed", "cannot install the push hook");
			goto out;
		}
		if (!phase || strcmp(phase, "Ready") || !url)
			set_status(f, org, name, "Ready", NULL);
		goto out;
	}
	if (!branch_ok(branch)) {
		set_status(f, org, name, "Failed", "spec.defaultBranch is not a valid branch name");
		goto out;
	}
	if (mkdir(orgdir, 0700) && errno != EEXIST) {
		log_warn("forge: cannot create %s: %s", orgdir, strerror(errno));
		set_status(f, org, name, "Failed", "cannot create the repository directory");
		goto out;
	}
	snprintf(branch_arg, sizeof(branch_arg), "--initial-branch=%s", branch);
	{
		char *argv[] = { f->git_path, "init", "--bare", "--quiet", branch_arg, path, NULL };

		pid = forge_spawn(argv, NULL, -1, -1);
	}
	if (pid < 0 || forge_wait(pid) != 0 || (uid && write_uid(path, uid)) || forge_hook_install(f->self_exe, path)) {
		log_warn("forge: git init failed for %s/%s", org, name);
		remove_tree(f, path);
		set_status(f, org, name, "Failed", "git init failed");
		goto out;
	}
	log_info("forge: created repository %s/%s", org, name);
	set_status(f, org, name, "Ready", NULL);
out:
	json_decref(obj);
}

static void reconcile_one(struct forge *f, const struct forge_item *it)
{
	char ns[FORGE_NAME_MAX + 16], path[PATH_MAX];
	char *json = NULL;
	size_t len;
	struct kerr e = KERR_INIT;

	if (forge_repo_path(f->data_dir, it->org, it->name, path, sizeof(path)))
		return;
	snprintf(ns, sizeof(ns), "krate-org-%s", it->org);
	if (store_get(f->store, "Repository", ns, it->name, &json, &len, &e) == 0) {
		/* Present now (even for a DELETED event followed by a re-create). */
		if (!it->deleted)
			create_repo(f, it->org, it->name, json);
	} else if (e.kcode == KE_NOTFOUND && it->deleted) {
		char have[FORGE_UID_MAX];

		/* A repository made for a newer object of the same name stays. */
		if (*it->uid && !read_uid(path, have, sizeof(have)) && strcmp(have, it->uid))
			goto out;
		if (remove_tree(f, path))
			log_warn("forge: cannot remove %s: %s", path, strerror(errno));
		else
			log_info("forge: removed repository %s/%s", it->org, it->name);
	}
out:
	free(json);
	kerr_clear(&e);
}

static void resync(struct forge *f)
{
	struct store_list_query q = { .kind = "Repository" };
	struct store_list_result res = { 0 };
	struct kerr e = KERR_INIT;
	size_t i;

	if (store_list(f->store, &q, &res, &e)) {
		log_warn("forge: cannot list repositories: %s", e.message ? e.message : "");
		kerr_clear(&e);
		return;
	}
	for (i = 0; i < res.n; i++) {
		json_t *obj = json_loads(res.items[i], 0, NULL);
		json_t *md = json_object_get(obj, "metadata");
		const char *org = forge_ns_org(json_string_value(json_object_get(md, "namespace")));
		const char *name = json_string_value(json_object_get(md, "name"));

		if (org && name)
			create_repo(f, org, name, res.items[i]);
		json_decref(obj);
	}
	store_list_result_free(&res);
}

void *forge_reconciler(void *arg)
{
	struct forge *f = arg;
	struct forge_item it;
	int scan;

	pthread_mutex_lock(&f->lock);
	while (!f->stopping) {
		if (!f->count && !f->resync) {
			pthread_cond_wait(&f->cond, &f->lock);
			continue;
		}
		scan = f->resync;
		f->resync = 0;
		if (!scan) {
			it = f->queue[f->head];
			f->head = (f->head + 1) % FORGE_QUEUE;
			f->count--;
		}
		pthread_mutex_unlock(&f->lock);
		if (scan)
			resync(f);
		else
			reconcile_one(f, &it);
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}
