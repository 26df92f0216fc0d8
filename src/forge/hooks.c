/* Push hooks: installing pre-receive and post-receive, the policy file
 * githttp.c hands to pre-receive, and the hook commands themselves. */
#include "forge/hooks.h"
#include "forge/forge_internal.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes hooks/<name> execing `<self_exe> git-hook <name>`. */
static int install_one(const char *self_exe, const char *dir, const char *name)
{
	char tmp[PATH_MAX], final[PATH_MAX], *text = NULL;
	int fd = -1, len, ok;

	if (snprintf(tmp, sizeof(tmp), "%s/%s.krate-new", dir, name) >= (int)sizeof(tmp) ||
	    snprintf(final, sizeof(final), "%s/%s", dir, name) >= (int)sizeof(final))
		return -1;
	len = asprintf(&text, "#!/bin/sh\nexec '%s' git-hook %s\n", self_exe, name);
	if (len < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0755);
	ok = fd >= 0 && write(fd, text, (size_t)len) == len && fchmod(fd, 0755) == 0;
	if (fd >= 0 && close(fd))
		ok = 0;
	free(text);
	/* Renamed into place, so a push never runs a half-written hook. */
	if (!ok || rename(tmp, final)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int forge_hook_install(const char *self_exe, const char *repo_path)
{
	char dir[PATH_MAX];

	/* The path is the server's own, but it goes into a script: keep it unquotable. */
	if (!self_exe || self_exe[0] != '/' || strpbrk(self_exe, "'\\\n\r"))
		return -1;
	if (snprintf(dir, sizeof(dir), "%s/hooks", repo_path) >= (int)sizeof(dir))
		return -1;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	return install_one(self_exe, dir, "pre-receive") || install_one(self_exe, dir, "post-receive") ? -1 : 0;
}

/* Appends the objects of kind in ns that apply to repo (spec.repository absent or equal). */
static int collect(struct forge *f, const char *kind, const char *ns, const char *repo, json_t *out)
{
	struct store_list_query q = { .kind = kind, .ns = ns };
	struct store_list_result res = { 0 };
	struct kerr e = KERR_INIT;
	size_t i;
	int rc = 0;

	if (store_list(f->store, &q, &res, &e)) {
		log_warn("forge: cannot list %s in %s: %s", kind, ns, e.message ? e.message : "");
		kerr_clear(&e);
		return -1;
	}
	for (i = 0; i < res.n && !rc; i++) {
		json_t *obj = json_loads(res.items[i], 0, NULL);
		const char *r = json_string_value(json_object_get(json_object_get(obj, "spec"), "repository"));

		if (!obj)
			rc = -1;
		else if (!r || !strcmp(r, repo))
			rc = json_array_append(out, obj);
		json_decref(obj);
	}
	store_list_result_free(&res);
	return rc;
}

int forge_policy_file(struct forge *f, const char *org, const char *repo, char *path, size_t size)
{
	char ns[FORGE_NAME_MAX + 16];
	json_t *doc = json_object(), *rp = json_array(), *bp = json_array();
	int fd = -1, rc = -1;

	snprintf(ns, sizeof(ns), "krate-org-%s", org);
	if (!doc || !rp || !bp || json_object_set(doc, "RefPolicy", rp) || json_object_set(doc, "BranchProtection", bp) ||
	    collect(f, "RefPolicy", ns, repo, rp) || collect(f, "BranchProtection", ns, repo, bp))
		goto out;
	if (snprintf(path, size, "%s/push-XXXXXX", f->tmp_dir) >= (int)size || (fd = mkostemp(path, O_CLOEXEC)) < 0)
		goto out;
	if (json_dumpfd(doc, fd, JSON_COMPACT) || fsync(fd)) {
		unlink(path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	json_decref(doc);
	json_decref(rp);
	json_decref(bp);
	return rc;
}

/* ---- the hook ---- */

static int is_hex(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n >= 40 && !s[n];
}

/* forge_ancestor_fn: `git merge-base --is-ancestor` in the repository (the hook's cwd). */
static int git_ancestor(const char *old_sha, const char *new_sha, void *arg)
{
	char *argv[] = { (char *)arg, "merge-base", "--is-ancestor", (char *)old_sha, (char *)new_sha, NULL };
	pid_t pid;
	int st;

	if (!is_hex(old_sha) || !is_hex(new_sha))
		return -1;
	pid = forge_spawn(argv, NULL, -1, -1);
	if (pid < 0)
		return -1;
	st = forge_wait(pid);
	return st == 0 ? 1 : st == 1 ? 0 : -1;
}

static int pre_receive(void)
{
	const char *policy_path = getenv("KRATE_PUSH_POLICY"), *role = getenv("KRATE_PUSH_ROLE");
	const char *git = getenv("KRATE_PUSH_GIT"), *verdict = getenv("KRATE_PUSH_VERDICT");
	char *line = NULL, msg[1024];
	size_t cap = 0;
	json_t *policy;
	int rc = 0;

	if (!git || git[0] != '/')
		git = "/usr/bin/git";
	policy = policy_path ? json_load_file(policy_path, 0, NULL) : NULL;
	if (!policy) {
		/* Fail closed: a push that bypassed the server's checks is refused. */
		fprintf(stderr, "krate: the push rules for this repository are unavailable; push refused\n");
		return 1;
	}
	while (getline(&line, &cap, stdin) > 0) {
		char *old_sha = line, *new_sha, *ref;

		line[strcspn(line, "\r\n")] = '\0';
		new_sha = strchr(old_sha, ' ');
		ref = new_sha ? strchr(new_sha + 1, ' ') : NULL;
		if (!ref) {
			fprintf(stderr, "krate: malformed ref update; push refused\n");
			rc = 1;
			continue;
		}
		*new_sha++ = '\0';
		*ref++ = '\0';
		if (forge_rules_check(policy, old_sha, new_sha, ref, role && !strcmp(role, "admin"), git_ancestor,
				      (void *)git, msg, sizeof(msg))) {
			fprintf(stderr, "krate: %s\n", msg);
			rc = 1;
		}
	}
	free(line);
	json_decref(policy);
	if (rc && verdict) {
		/* Tells the server to audit the refusal. */
		int fd = open(verdict, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0)
			close(fd);
	}
	return rc;
}

/* A ref name as git gives it to hooks, fit for one line of the updates file. */
static int ref_line_ok(const char *ref)
{
	size_t n = strlen(ref), i;

	if (n < 6 || n > 1024 || strncmp(ref, "refs/", 5))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)ref[i] <= 0x20 || ref[i] == 0x7f)
			return 0;
	return 1;
}

/* The refs git updated, appended to the server's updates file. The push has
 * happened by now, so this never fails it. */
static int post_receive(void)
{
	const char *path = getenv("KRATE_PUSH_UPDATES");
	int fd = path ? open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW) : -1;
	char *line = NULL, *out = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, stdin) > 0) {
		char *old_sha = line, *new_sha, *ref;
		int len;

		line[strcspn(line, "\r\n")] = '\0';
		new_sha = strchr(old_sha, ' ');
		ref = new_sha ? strchr(new_sha + 1, ' ') : NULL;
		if (fd < 0 || !ref)
			continue;
		*new_sha++ = '\0';
		*ref++ = '\0';
		if (!is_hex(old_sha) || !is_hex(new_sha) || !ref_line_ok(ref))
			continue;
		/* One write per line: O_APPEND keeps lines whole. */
		len = asprintf(&out, "%s %s %s\n", old_sha, new_sha, ref);
		if (len > 0 && write(fd, out, (size_t)len) != len)
			fprintf(stderr, "krate: this push could not be recorded\n");
		if (len > 0)
			free(out);
	}
	free(line);
	if (fd >= 0)
		close(fd);
	return 0;
}

int forge_hook_main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "pre-receive"))
		return pre_receive();
	if (argc >= 2 && !strcmp(argv[1], "post-receive"))
		return post_receive();
	fprintf(stderr, "usage: krate git-hook pre-receive|post-receive\n");
	return 2;
}
