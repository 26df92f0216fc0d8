/* Hostile pushes: malformed pack data, bad ref names and garbage pkt-lines
 * sent straight to git-receive-pack are refused; the repository keeps its
 * refs, passes `git fsck`, and the server keeps serving clones and pushes. */
#include "harness.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct krate_server srv;
static char work[256];
static char url[512];

/* A pkt-line of text into f. */
static void pkt(FILE *f, const char *text, size_t n)
{
	fprintf(f, "%04zx", n + 4);
	fwrite(text, 1, n, f);
}

/* An empty pack: header with zero objects and its SHA-1 trailer. */
static void empty_pack(FILE *f)
{
	unsigned char hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0 }, sum[SHA_DIGEST_LENGTH];

	SHA1(hdr, sizeof(hdr), sum);
	fwrite(hdr, 1, sizeof(hdr), f);
	fwrite(sum, 1, sizeof(sum), f);
}

/* POSTs the file to git-receive-pack; the HTTP status and body (malloc'd) in *out. */
static long post_receive_pack(const char *file, char **out)
{
	char *o = harness_sh_out(work,
				 "curl -s -o resp.bin -w '%%{http_code}' -u admin:%s -H 'Content-Type: "
				 "application/x-git-receive-pack-request' --data-binary @%s "
				 "http://127.0.0.1:%d/robust/code.git/git-receive-pack",
				 srv.admin_token, file, srv.port);
	long code;

	assert_non_null(o);
	code = strtol(o, NULL, 10);
	free(o);
	*out = harness_sh_out(work, "cat resp.bin | tr -d '\\000' ; echo");
	return code;
}

static char *refs_now(void)
{
	char *o = harness_sh_out(work, "git -c credential.helper= ls-remote '%s' | sort", url);

	assert_non_null(o);
	return o;
}

static void assert_intact(const char *refs_before)
{
	char *refs = refs_now(), *fsck;
	struct http_resp r;

	assert_string_equal(refs, refs_before);
	free(refs);
	fsck = harness_sh_out(work, "git --git-dir='%s/git/robust/code.git' fsck --no-dangling 2>&1 && echo FSCK-OK",
			      srv.dir);
	assert_non_null(fsck);
	if (!strstr(fsck, "FSCK-OK"))
		fail_msg("git fsck failed:\n%s", fsck);
	free(fsck);
	assert_int_equal(http_call(&srv, "GET", "/healthz", NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
}

static void test_hostile_pushes(void **state)
{
	char path[512], line[256], *main_sha, *before, *resp;
	FILE *f;
	long code;

	(void)state;
	harness_make_org(&srv, "robust");
	harness_make_repo(&srv, "robust", "code", "");
	snprintf(url, sizeof(url), "http://admin:%s@127.0.0.1:%d/robust/code.git", srv.admin_token, srv.port);
	assert_int_equal(harness_sh(work,
				    "git -c credential.helper= clone -q '%s' c && cd c && echo hi > a && git add a &&"
				    " git commit -qm one && git push -q origin HEAD:main",
				    url),
			 0);
	main_sha = harness_sh_out(work, "git -C c rev-parse HEAD");
	assert_non_null(main_sha);
	before = refs_now();

	/* 1. a ref update followed by a corrupt pack */
	snprintf(path, sizeof(path), "%s/bad-pack.bin", work);
	f = fopen(path, "wb");
	assert_non_null(f);
	snprintf(line, sizeof(line), "%s %s refs/heads/evil%creport-status\n", "0000000000000000000000000000000000000000",
		 "1111111111111111111111111111111111111111", 0);
	pkt(f, line, strlen(line) + strlen(line + strlen(line) + 1) + 1);
	fputs("0000", f);
	fputs("PACK\0\0\0\2\0\0\0\1garbage that is not zlib data at all", f);
	fclose(f);
	code = post_receive_pack("bad-pack.bin", &resp);
	assert_true(code == 200 || code >= 400);
	if (code == 200 && !strstr(resp, "unpack") && !strstr(resp, "ng "))
		fail_msg("a corrupt pack was not reported as failed: %s", resp);
	free(resp);
	assert_intact(before);

	/* 2. bad ref names, with a valid (empty) pack and an existing commit */
	{
		static const char *const bad[] = { "refs/heads/bad..name", "refs/heads/x.lock", "refs/heads/a b",
						   "refs/heads/../../config", "HEAD" };
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			int n;

			f = fopen(path, "wb");
			assert_non_null(f);
			n = snprintf(line, sizeof(line), "%s %s %s%creport-status\n",
				     "0000000000000000000000000000000000000000", main_sha, bad[k], 0);
			pkt(f, line, (size_t)n);
			fputs("0000", f);
			empty_pack(f);
			fclose(f);
			code = post_receive_pack("bad-pack.bin", &resp);
			assert_true(code == 200 || code >= 400);
			if (code == 200 && strstr(resp, "ok ") && !strstr(resp, "ng "))
				fail_msg("bad ref %s was accepted: %s", bad[k], resp);
			free(resp);
			assert_intact(before);
		}
	}

	/* 3. pkt-line garbage and an empty body */
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("zzzz this is not a pkt-line", f);
	fclose(f);
	code = post_receive_pack("bad-pack.bin", &resp);
	free(resp);
	assert_true(code == 200 || code >= 400);
	assert_intact(before);

	/* the repository still takes a normal push and clone */
	assert_int_equal(harness_sh(work, "cd c && echo more >> a && git commit -qam two && git push -q origin HEAD:main"),
			 0);
	assert_int_equal(harness_sh(work, "git -c credential.helper= clone -q '%s' again && test -f again/a", url), 0);
	free(main_sha);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_pushes),
	};

	harness_group(&srv, NULL, work, sizeof(work), "robustwork");
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
