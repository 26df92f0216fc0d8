/* The forge with the real git client: a Repository gets a bare repository that
 * clones, pushes and clones again over smart HTTP; anonymous access follows
 * visibility; a viewer cannot push; a 3 MB (chunked) push works; deleting the
 * Repository removes it. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct krate_server srv;
static char work[256];

/* Shell command lines run in the work directory (harness_sh); sh_out keeps
 * the first line of stdout (malloc'd). */
#define sh(...) harness_sh(work, __VA_ARGS__)
#define sh_out(...) first_line(harness_sh_out(work, __VA_ARGS__))

static char *first_line(char *out)
{
	assert_non_null(out);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static void url(char *out, size_t size, const char *user, const char *token, const char *repo)
{
	if (token)
		snprintf(out, size, "http://%s:%s@127.0.0.1:%d/forge/%s.git", user, token, srv.port, repo);
	else
		snprintf(out, size, "http://127.0.0.1:%d/forge/%s.git", srv.port, repo);
}

/* Creates a Repository and waits for the forge's status; returns the phase. */
static const char *make_repo_branch(const char *name, const char *visibility, const char *branch)
{
	static char got[32];
	struct http_resp r;
	char body[320], path[128];
	const char *phase = NULL;
	int i;

	snprintf(body, sizeof(body),
		 "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"%s\"},"
		 "\"spec\":{\"visibility\":\"%s\",\"defaultBranch\":\"%s\"}}", name, visibility, branch);
	harness_apply(&srv, "forge", body);
	snprintf(path, sizeof(path), "/api/orgs/forge/resources/Repository/%s", name);
	for (i = 0; i < 200; i++) {
		json_t *status;

		assert_int_equal(http_call(&srv, "GET", path, srv.admin_token, NULL, NULL, &r), 0);
		status = json_object_get(r.json, "status");
		phase = json_string_value(json_object_get(status, "phase"));
		if (phase && !strcmp(phase, "Failed")) {
			assert_non_null(json_string_value(json_object_get(status, "message")));
			assert_null(json_object_get(status, "cloneUrl"));
			http_resp_free(&r);
			return "Failed";
		}
		if (phase && !strcmp(phase, "Ready")) {
			char want[128];

			snprintf(want, sizeof(want), "/forge/%s.git", name);
			assert_string_equal(json_string_value(json_object_get(status, "cloneUrl")), want);
			/* Filesystem paths are never exposed. */
			assert_null(json_object_get(status, "gitPath"));
			assert_null(strstr(r.body, srv.dir));
			http_resp_free(&r);
			return "Ready";
		}
		snprintf(got, sizeof(got), "%s", phase ? phase : "none");
		http_resp_free(&r);
		usleep(25000);
	}
	fail_msg("repository %s never became Ready (phase %s)", name, got);
	return NULL;
}

static void make_repo(const char *name, const char *visibility)
{
	assert_string_equal(make_repo_branch(name, visibility, "main"), "Ready");
}

static void test_forge(void **state)
{
	char u[512], path[512];
	char *head, *head2, *remote;
	struct http_resp r;
	struct stat st;
	char *viewer;
	int i;

	(void)state;
	harness_make_org(&srv, "forge");
	make_repo("code", "private");
	make_repo("pub", "public");
	snprintf(path, sizeof(path), "%s/git/forge/code.git/HEAD", srv.dir);
	assert_int_equal(stat(path, &st), 0);
	/* spec.defaultBranch is the initial branch; a name git refuses fails the Repository */
	assert_string_equal(make_repo_branch("trunk", "private", "trunk"), "Ready");
	snprintf(path, sizeof(path), "cat '%s/git/forge/trunk.git/HEAD'", srv.dir);
	head = sh_out("%s", path);
	assert_string_equal(head, "ref: refs/heads/trunk");
	free(head);
	assert_string_equal(make_repo_branch("bad", "private", "no..dots"), "Failed");
	snprintf(path, sizeof(path), "%s/git/forge/bad.git", srv.dir);
	assert_int_not_equal(stat(path, &st), 0);

	/* clone the empty repository, commit two files, push */
	url(u, sizeof(u), "admin", srv.admin_token, "code");
	assert_int_equal(sh("git -c credential.helper= clone -q '%s' one", u), 0);
	assert_int_equal(sh("cd one && printf 'hello\\n' > README.md && mkdir src && printf 'int x;\\n' > src/x.c"
			    " && git add . && git commit -qm first && git push -q origin HEAD:main"), 0);

	/* clone again: the same head and contents */
	assert_int_equal(sh("git -c credential.helper= clone -q '%s' two", u), 0);
	head = sh_out("git -C one rev-parse HEAD");
	head2 = sh_out("git -C two rev-parse HEAD");
	assert_int_equal(strlen(head), 40);
	assert_string_equal(head, head2);
	assert_int_equal(sh("cmp one/README.md two/README.md && cmp one/src/x.c two/src/x.c"), 0);
	free(head2);

	/* anonymous: the public repository clones, the private one asks for credentials */
	url(u, sizeof(u), NULL, NULL, "pub");
	assert_int_equal(sh("git -c credential.helper= clone -q '%s' anon-pub", u), 0);
	url(u, sizeof(u), NULL, NULL, "code");
	assert_int_not_equal(sh("git -c credential.helper= clone -q '%s' anon-code", u), 0);
	assert_int_equal(http_call(&srv, "GET", "/forge/code.git/info/refs?service=git-upload-pack", NULL, NULL,
				   NULL, &r), 0);
	assert_int_equal(r.status, 401);
	{
		char *wa = http_header(&r, "WWW-Authenticate");

		assert_non_null(wa);
		assert_string_equal(wa, "Basic realm=\"Krate\"");
		free(wa);
	}
	http_resp_free(&r);
	/* an unknown repository is 404 to someone signed in */
	url(u, sizeof(u), "admin", srv.admin_token, "nope");
	assert_int_not_equal(sh("git -c credential.helper= ls-remote '%s'", u), 0);

	/* a token bound to another org sees neither the org nor its repositories */
	harness_make_org(&srv, "elsewhere");
	{
		char *other = harness_token(&srv, "oscar", "elsewhere", "admin"), *b64, auth[600];
		const char *hdrs[] = { auth, NULL };

		assert_non_null(other);
		b64 = sh_out("printf 'oscar:%s' | base64 -w0", other);
		snprintf(auth, sizeof(auth), "Authorization: Basic %s", b64);
		assert_int_equal(http_call_hdr(&srv, "GET", "/forge/pub.git/info/refs?service=git-upload-pack", NULL,
					       hdrs, NULL, NULL, &r), 0);
		assert_int_equal(r.status, 404);
		http_resp_free(&r);
		/* a wrong token is refused outright, even for a public repository */
		snprintf(auth, sizeof(auth), "Authorization: Basic %s", "b3NjYXI6a3J0X25vcGU=");
		assert_int_equal(http_call_hdr(&srv, "GET", "/forge/pub.git/info/refs?service=git-upload-pack", NULL,
					       hdrs, NULL, NULL, &r), 0);
		assert_int_equal(r.status, 401);
		http_resp_free(&r);
		free(b64);
		free(other);
	}

	/* a viewer can read but not push; the server keeps the old head */
	viewer = harness_token(&srv, "vic", "forge", "viewer");
	assert_non_null(viewer);
	url(u, sizeof(u), "vic", viewer, "code");
	assert_int_equal(sh("git -c credential.helper= clone -q '%s' vic", u), 0);
	assert_int_equal(sh("cd vic && echo more >> README.md && git commit -qam second"), 0);
	assert_int_not_equal(sh("cd vic && git -c credential.helper= push -q origin HEAD:main"), 0);
	url(u, sizeof(u), "admin", srv.admin_token, "code");
	remote = sh_out("git -c credential.helper= ls-remote '%s' refs/heads/main | cut -f1", u);
	assert_string_equal(remote, head);
	free(remote);
	free(viewer);
	assert_int_equal(http_call(&srv, "GET", "/api/audit?org=forge&limit=1000", srv.admin_token, NULL, NULL, &r),
			 0);
	assert_non_null(strstr(r.body, "git.push"));
	assert_non_null(strstr(r.body, "denied:FORBIDDEN"));
	http_resp_free(&r);

	/* about 3 MB of random data: git sends it chunked */
	assert_int_equal(sh("cd one && head -c 3000000 /dev/urandom > blob.bin && git add blob.bin"
			    " && git commit -qm big && git -c credential.helper= push -q origin HEAD:main"), 0);
	free(head);
	head = sh_out("git -C one rev-parse HEAD");
	remote = sh_out("git -c credential.helper= ls-remote '%s' refs/heads/main | cut -f1", u);
	assert_string_equal(remote, head);
	free(remote);
	free(head);
	assert_int_equal(sh("git -c credential.helper= clone -q '%s' three && cmp one/blob.bin three/blob.bin", u), 0);

	/* deleting the Repository removes the bare repository */
	assert_int_equal(http_call(&srv, "DELETE", "/api/orgs/forge/resources/Repository/code", srv.admin_token,
				   NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "%s/git/forge/code.git", srv.dir);
	for (i = 0; i < 200 && stat(path, &st) == 0; i++)
		usleep(25000);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_not_equal(sh("git -c credential.helper= ls-remote '%s'", u), 0);

	/* a Repository deleted and created again at once starts empty */
	url(u, sizeof(u), "admin", srv.admin_token, "pub");
	assert_int_equal(sh("cd one && git -c credential.helper= push -q '%s' HEAD:main", u), 0);
	assert_int_equal(http_call(&srv, "DELETE", "/api/orgs/forge/resources/Repository/pub", srv.admin_token,
				   NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	make_repo("pub", "public");
	remote = sh_out("git -c credential.helper= ls-remote '%s' | wc -l", u);
	assert_string_equal(remote, "0");
	free(remote);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forge),
	};

	harness_group(&srv, NULL, work, sizeof(work), "gitwork");
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
