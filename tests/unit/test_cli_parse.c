/* Offline tests of the client's pure parts: argument parsing, config file,
 * server/token resolution, URL building, SSE parsing, time and table
 * formatting, error text, and the HTTP client against a canned socket peer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_internal.h"

/* ---- arguments ---- */

static int parse(unsigned allowed, struct cli_args *a, struct kerr *e, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, e);
	for (char *s = va_arg(ap, char *); s && argc < 32; s = va_arg(ap, char *))
		argv[argc++] = s;
	va_end(ap);
	return cli_args_parse(argc, argv, allowed, a, e);
}

static void test_args_anywhere(void **state)
{
	struct cli_args a;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(parse(OPT_ORG | OPT_OUTPUT | OPT_LIMIT | OPT_SELECTOR, &a, &e,
			       "get", "--server", "http://h:1", "repos", "-n", "demo", "web",
			       "--output=json", "--token=t0k", "--limit", "7", "-lapp=x", NULL), 0);
	assert_int_equal(a.npos, 2);
	assert_string_equal(a.pos[0], "repos");
	assert_string_equal(a.pos[1], "web");
	assert_string_equal(a.server, "http://h:1");
	assert_string_equal(a.token, "t0k");
	assert_string_equal(a.org, "demo");
	assert_string_equal(a.output, "json");
	assert_string_equal(a.selector, "app=x");
	assert_int_equal(a.limit, 7);
	assert_int_equal(a.help, 0);
	cli_args_free(&a);
}

static void test_args_files_and_dashes(void **state)
{
	struct cli_args a;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(parse(OPT_FILE | OPT_ORG, &a, &e, "apply", "-f", "-", "-fone.yaml",
			       "--filename", "two.json", "--org", "a", "--org", "b", "--", "-n", NULL), 0);
	assert_int_equal(a.nfiles, 3);
	assert_string_equal(a.files[0], "-");
	assert_string_equal(a.files[1], "one.yaml");
	assert_string_equal(a.files[2], "two.json");
	assert_string_equal(a.org, "b");        /* the later duplicate wins */
	assert_int_equal(a.npos, 1);            /* after "--" even "-n" is positional */
	assert_string_equal(a.pos[0], "-n");
	assert_int_equal(a.limit, -1);
	cli_args_free(&a);

	assert_int_equal(parse(0, &a, &e, "whoami", "-", "--help", NULL), 0);
	assert_int_equal(a.npos, 1);
	assert_string_equal(a.pos[0], "-");
	assert_int_equal(a.help, 1);
	cli_args_free(&a);
}

static void test_args_errors(void **state)
{
	struct cli_args a;
	struct kerr e = KERR_INIT;

	(void)state;
	/* An option the command does not take is unknown to it. */
	assert_int_equal(parse(OPT_ORG, &a, &e, "delete", "-o", "json", NULL), KE_INVALID);
	assert_non_null(strstr(e.message, "-o"));
	assert_int_equal(parse(OPT_ORG, &a, &e, "delete", "--bogus", NULL), KE_INVALID);
	assert_non_null(strstr(e.message, "--bogus"));
	assert_int_equal(parse(OPT_ORG, &a, &e, "delete", "x", "-n", NULL), KE_INVALID);
	assert_non_null(strstr(e.message, "needs a value"));
	assert_int_equal(parse(OPT_LIMIT, &a, &e, "get", "--limit", "0", NULL), KE_INVALID);
	assert_int_equal(parse(OPT_LIMIT, &a, &e, "get", "--limit=12x", NULL), KE_INVALID);
	assert_int_equal(parse(OPT_LIMIT, &a, &e, "get", "--limit", "-3", NULL), KE_INVALID);
	/* --server/--token are accepted by every command. */
	assert_int_equal(parse(0, &a, &e, "kinds", "--token", "x", NULL), 0);
	cli_args_free(&a);
	kerr_clear(&e);
}

/* Flags take no value, so what follows them stays positional. */
static void test_args_flags(void **state)
{
	struct cli_args a;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(parse(OPT_ADMIN | OPT_PASSWORD_STDIN | OPT_ORG, &a, &e, "user", "create", "--admin",
			       "ana", "--password-stdin", "--org", "acme", NULL), 0);
	assert_int_equal(a.npos, 2);
	assert_string_equal(a.pos[0], "create");
	assert_string_equal(a.pos[1], "ana");
	assert_int_equal(a.admin, 1);
	assert_int_equal(a.password_stdin, 1);
	assert_string_equal(a.org, "acme");
	cli_args_free(&a);

	assert_int_equal(parse(OPT_ADMIN, &a, &e, "user", "create", "ana", NULL), 0);
	assert_int_equal(a.admin, 0);
	assert_int_equal(a.password_stdin, 0);
	cli_args_free(&a);

	assert_int_equal(parse(OPT_ADMIN, &a, &e, "user", "--admin=yes", NULL), KE_INVALID);
	assert_non_null(strstr(e.message, "takes no value"));
	assert_int_equal(parse(OPT_ROLE, &a, &e, "token", "--admin", NULL), KE_INVALID);
	assert_non_null(strstr(e.message, "--admin"));
	kerr_clear(&e);
}

/* ---- config ---- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/krate-cli-test-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_config_round_trip(void **state)
{
	struct cli_config in = { "http://srv:9", "secret-token", "demo" }, out;
	struct kerr e = KERR_INIT;
	struct buf path = BUF_INIT(0);
	struct stat st;
	char dir[128];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/a/b", tmpdir);
	assert_int_equal(buf_printf(&path, "%s/config", dir), 0);
	setenv("KRATE_CONFIG", path.data, 1);
	buf_reset(&path);
	assert_int_equal(cli_config_path(&path, &e), 0);
	assert_string_equal(path.data + strlen(tmpdir), "/a/b/config");

	/* Missing file: empty config, no error. */
	assert_int_equal(cli_config_load(path.data, &out, &e), 0);
	assert_null(out.server);
	assert_null(out.token);

	umask(022);
	assert_int_equal(cli_config_save(path.data, &in, &e), 0);
	assert_int_equal(stat(path.data, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(cli_config_load(path.data, &out, &e), 0);
	assert_string_equal(out.server, in.server);
	assert_string_equal(out.token, in.token);
	assert_string_equal(out.org, in.org);
	cli_config_free(&out);

	/* Saving again replaces the file; a NULL org is left out. */
	in.org = NULL;
	assert_int_equal(cli_config_save(path.data, &in, &e), 0);
	assert_int_equal(cli_config_load(path.data, &out, &e), 0);
	assert_null(out.org);
	assert_string_equal(out.token, "secret-token");
	cli_config_free(&out);

	/* No temp file is left beside it. */
	snprintf(dir, sizeof(dir), "%s/a/b/config.tmp.%ld", tmpdir, (long)getpid());
	assert_int_equal(access(dir, F_OK), -1);

	unsetenv("KRATE_CONFIG");
	buf_free(&path);
	kerr_clear(&e);
}

static void test_config_home_and_bad_files(void **state)
{
	struct cli_config c;
	struct kerr e = KERR_INIT;
	struct buf path = BUF_INIT(0);
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char file[128];

	(void)state;
	unsetenv("KRATE_CONFIG");
	setenv("HOME", tmpdir, 1);
	assert_int_equal(cli_config_path(&path, &e), 0);
	snprintf(file, sizeof(file), "%s/.config/krate/config", tmpdir);
	assert_string_equal(path.data, file);
	unsetenv("HOME");
	assert_int_equal(cli_config_path(&path, &e), KE_INVALID);

	snprintf(file, sizeof(file), "%s/bad.json", tmpdir);
	write_file(file, "{\"server\": ");
	assert_int_equal(cli_config_load(file, &c, &e), KE_INVALID);
	write_file(file, "[\"x\"]");
	assert_int_equal(cli_config_load(file, &c, &e), KE_INVALID);
	write_file(file, "{\"token\": 42}");
	assert_int_equal(cli_config_load(file, &c, &e), KE_INVALID);
	assert_non_null(strstr(e.message, "token"));
	write_file(file, "{\"token\": \"t\", \"extra\": [1], \"org\": null}");
	assert_int_equal(cli_config_load(file, &c, &e), 0);
	assert_string_equal(c.token, "t");
	assert_null(c.org);
	cli_config_free(&c);

	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_home);
	buf_free(&path);
	kerr_clear(&e);
}

static void test_resolve_precedence(void **state)
{
	struct cli_args a;
	struct cli_config c = { "http://cfg:1", "cfg-token", "o" };
	struct cli_config none = { NULL, NULL, NULL };
	struct cli_target t;

	(void)state;
	memset(&a, 0, sizeof(a));
	unsetenv("KRATE_SERVER");
	unsetenv("KRATE_TOKEN");
	cli_resolve(&a, &none, &t);
	assert_string_equal(t.server, CLI_DEFAULT_SERVER);
	assert_null(t.token);

	cli_resolve(&a, &c, &t);
	assert_string_equal(t.server, "http://cfg:1");
	assert_string_equal(t.token, "cfg-token");

	setenv("KRATE_SERVER", "http://env:2", 1);
	setenv("KRATE_TOKEN", "env-token", 1);
	cli_resolve(&a, &c, &t);
	assert_string_equal(t.server, "http://env:2");
	assert_string_equal(t.token, "env-token");

	a.server = "http://flag:3";
	cli_resolve(&a, &c, &t);
	assert_string_equal(t.server, "http://flag:3");
	assert_string_equal(t.token, "env-token");
	a.token = "flag-token";
	cli_resolve(&a, &c, &t);
	assert_string_equal(t.token, "flag-token");

	unsetenv("KRATE_SERVER");
	unsetenv("KRATE_TOKEN");
}

/* ---- URLs ---- */

static void test_url_building(void **state)
{
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_int_equal(buf_addstr(&b, "/api/orgs"), 0);
	assert_int_equal(cli_path_add(&b, "a b/c?d%"), 0);
	assert_string_equal(b.data, "/api/orgs/a%20b%2Fc%3Fd%25");
	assert_int_equal(cli_query_add(&b, "kind", "repo"), 0);
	assert_int_equal(cli_query_add(&b, "labelSelector", "app=web,tier!=db"), 0);
	assert_string_equal(b.data, "/api/orgs/a%20b%2Fc%3Fd%25?kind=repo"
				    "&labelSelector=app%3Dweb%2Ctier%21%3Ddb");
	buf_reset(&b);
	assert_int_equal(cli_path_add(&b, "Safe-._~09\xc3\xa9"), 0);
	assert_string_equal(b.data, "/Safe-._~09%C3%A9");
	buf_free(&b);
}

/* ---- SSE ---- */

struct collected {
	struct buf log;   /* "event|id|data\n" per event */
	int stop_after;   /* return 7 from the callback after this many events (0: never) */
	int count;
};

static int collect(void *ud, const char *event, const char *id, const char *data)
{
	struct collected *c = ud;

	buf_printf(&c->log, "%s|%s|%s\n", event, id ? id : "(none)", data);
	c->count++;
	return c->stop_after && c->count >= c->stop_after ? 7 : 0;
}

static const char sse_stream[] =
	": ping\n"
	"event: krate\r\n"
	"id: 41\r\n"
	"data: {\"type\":\"ADDED\"}\r\n"
	"\r\n"
	"data:first\rdata: second\r"
	"\r"
	": ping\n\n"
	"event: error\n"
	"retry: 10\n"
	"unknownfield\n"
	"data\n"
	"data: tail\n"
	"\n"
	"event: ignored-without-data\n"
	"id: 9\n"
	"\n"
	"id: 42\n"
	"data:  two spaces\n"
	"\n";

static const char sse_expected[] =
	"krate|41|{\"type\":\"ADDED\"}\n"
	"message|(none)|first\nsecond\n"
	"error|(none)|\ntail\n"
	"message|42| two spaces\n";

static void feed_split(const char *text, size_t len, const size_t *cuts, size_t ncuts, struct buf *out)
{
	struct collected c = { BUF_INIT(0), 0, 0 };
	struct sse_parser p;
	size_t from = 0;

	sse_init(&p, 4096, collect, &c);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;

		assert_int_equal(sse_feed(&p, text + from, to - from), 0);
		from = to;
	}
	sse_free(&p);
	buf_reset(out);
	buf_addstr(out, c.log.data ? c.log.data : "");
	buf_free(&c.log);
}

static void test_sse_chunking(void **state)
{
	size_t len = sizeof(sse_stream) - 1, cuts[2];
	struct buf got = BUF_INIT(0);

	(void)state;
	feed_split(sse_stream, len, NULL, 0, &got);
	assert_string_equal(got.data, sse_expected);

	/* Every single and every pair of split points gives the same events,
	 * including splits between "\r" and "\n" and inside field names. */
	for (size_t i = 0; i <= len; i++) {
		cuts[0] = i;
		feed_split(sse_stream, len, cuts, 1, &got);
		assert_string_equal(got.data, sse_expected);
		for (size_t j = i; j <= len; j += 3) {
			cuts[1] = j;
			feed_split(sse_stream, len, cuts, 2, &got);
			assert_string_equal(got.data, sse_expected);
		}
	}

	/* Byte by byte. */
	{
		size_t *all = malloc(len * sizeof(*all));

		assert_non_null(all);
		for (size_t i = 0; i < len; i++)
			all[i] = i;
		feed_split(sse_stream, len, all, len, &got);
		assert_string_equal(got.data, sse_expected);
		free(all);
	}
	buf_free(&got);
}

static void test_sse_caps_and_stop(void **state)
{
	struct collected c = { BUF_INIT(0), 0, 0 };
	struct sse_parser p;
	char big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	/* A line longer than the cap, even fed in pieces, is refused. */
	sse_init(&p, 64, collect, &c);
	assert_int_equal(sse_feed(&p, "data: ", 6), 0);
	assert_int_equal(sse_feed(&p, big, 40), 0);
	assert_int_equal(sse_feed(&p, big, 40), KE_TOOBIG);
	sse_free(&p);

	/* So is an event whose data lines together exceed it. */
	sse_init(&p, 64, collect, &c);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sse_feed(&p, "data: ", 6), 0);
		assert_int_equal(sse_feed(&p, big, 25), 0);
		if (i < 2)
			assert_int_equal(sse_feed(&p, "\n", 1), 0);
		else
			assert_int_equal(sse_feed(&p, "\n", 1), KE_TOOBIG);
	}
	sse_free(&p);
	assert_int_equal(c.count, 0);

	/* A nonzero callback return stops the feed and is passed back. */
	c.stop_after = 1;
	sse_init(&p, 4096, collect, &c);
	assert_int_equal(sse_feed(&p, "data: a\n\ndata: b\n\n", 18), 7);
	assert_int_equal(c.count, 1);
	sse_free(&p);
	buf_free(&c.log);
}

/* ---- time and age ---- */

static void test_parse_time(void **state)
{
	static const char *const samples[] = {
		"1970-01-01T00:00:00Z", "2000-02-29T12:34:56Z", "2026-11-25T08:00:00Z",
		"1999-12-31T23:59:59Z", "2100-03-01T00:00:01Z", "1969-07-20T20:17:40Z",
	};
	int64_t t, u;

	(void)state;
	/* Cross-check against the C library's own conversion. */
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		assert_non_null(strptime(samples[i], "%Y-%m-%dT%H:%M:%SZ", &tm));
		assert_int_equal(cli_parse_time(samples[i], &t), 0);
		assert_int_equal(t, (int64_t)timegm(&tm));
	}
	assert_int_equal(cli_parse_time("2026-11-25T10:30:00+02:30", &t), 0);
	assert_int_equal(cli_parse_time("2026-11-25T08:00:00Z", &u), 0);
	assert_int_equal(t, u);
	assert_int_equal(cli_parse_time("2026-11-25T07:00:00.999-01:00", &t), 0);
	assert_int_equal(t, u);

	assert_int_equal(cli_parse_time("2026-02-29T00:00:00Z", &t), KE_INVALID);
	assert_int_equal(cli_parse_time("2026-13-01T00:00:00Z", &t), KE_INVALID);
	assert_int_equal(cli_parse_time("2026-11-25T08:00:00", &t), KE_INVALID);
	assert_int_equal(cli_parse_time("2026-11-25T08:00:00Zjunk", &t), KE_INVALID);
	assert_int_equal(cli_parse_time("2026-11-25T24:00:00Z", &t), KE_INVALID);
	assert_int_equal(cli_parse_time("2026-11-25T08:00:00.Z", &t), KE_INVALID);
	assert_int_equal(cli_parse_time("26-11-25T08:00:00Z", &t), KE_INVALID);
	assert_int_equal(cli_parse_time("", &t), KE_INVALID);
	assert_int_equal(cli_parse_time(NULL, &t), KE_INVALID);
}

static void test_age(void **state)
{
	static const struct { int64_t s; const char *want; } cases[] = {
		{ -5, "0s" }, { 0, "0s" }, { 5, "5s" }, { 59, "59s" }, { 60, "1m" },
		{ 3599, "59m" }, { 3600, "1h" }, { 7322, "2h" }, { 86399, "23h" },
		{ 86400, "1d" }, { 4 * 86400 + 5, "4d" }, { 400 * 86400, "400d" },
	};
	char out[24];
	int64_t t0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_format_age(cases[i].s, out);
		assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(cli_parse_time("2026-11-25T08:00:00Z", &t0), 0);
	cli_age_since("2026-11-25T08:00:00Z", t0 + 3 * 60 + 10, out);
	assert_string_equal(out, "3m");
	cli_age_since(NULL, t0, out);
	assert_string_equal(out, "-");
	cli_age_since("yesterday", t0, out);
	assert_string_equal(out, "-");
}

/* ---- text helpers ---- */

static void test_sniff_and_scalars(void **state)
{
	char *s;

	(void)state;
	assert_string_equal(cli_sniff_type("  \n{\"a\":1}", 10), "application/json");
	assert_string_equal(cli_sniff_type("\xEF\xBB\xBF[1]", 6), "application/json");
	assert_string_equal(cli_sniff_type("---\nkind: X\n", 12), "application/yaml");
	assert_string_equal(cli_sniff_type("# {\n", 4), "application/yaml");
	assert_string_equal(cli_sniff_type("", 0), "application/yaml");

	json_t *v = json_pack("{s:i, s:s, s:b, s:n, s:[]}", "i", 42, "s", "ok", "b", 1, "n", "a");
	assert_non_null(v);
	s = cli_scalar_text(json_object_get(v, "i"));
	assert_string_equal(s, "42");
	free(s);
	s = cli_scalar_text(json_object_get(v, "s"));
	assert_string_equal(s, "ok");
	free(s);
	s = cli_scalar_text(json_object_get(v, "b"));
	assert_string_equal(s, "true");
	free(s);
	s = cli_scalar_text(json_object_get(v, "n"));
	assert_string_equal(s, "-");
	free(s);
	s = cli_scalar_text(json_object_get(v, "a"));
	assert_string_equal(s, "-");
	free(s);
	s = cli_scalar_text(NULL);
	assert_string_equal(s, "-");
	free(s);
	json_decref(v);
}

static void test_table_render(void **state)
{
	static const char *const header[] = { "NAME", "PHASE", "AGE" };
	const char *r1[] = { "web", "Ready", "5s" };
	const char *r2[] = { "a-much-longer-name", NULL, "" };
	const char *r3[] = { "x\ty\n", "R\xc3\xa9" "ady", "4d" };
	struct cli_table t;
	struct buf out = BUF_INIT(0);

	(void)state;
	assert_int_equal(table_init(&t, 3, header), 0);
	assert_int_equal(table_add(&t, r1), 0);
	assert_int_equal(table_add(&t, r2), 0);
	assert_int_equal(table_add(&t, r3), 0);
	assert_int_equal(table_render(&t, &out), 0);
	/* Columns start where the widest cell above them plus 3 spaces ends; the
	 * UTF-8 "é" counts as one column; control characters become '?'. */
	assert_string_equal(out.data,
			    "NAME                 PHASE   AGE\n"
			    "web                  Ready   5s\n"
			    "a-much-longer-name   -       -\n"
			    "x?y?                 R\xc3\xa9" "ady   4d\n");
	table_free(&t);
	buf_free(&out);

	/* A header-only table renders just the header, without trailing blanks. */
	assert_int_equal(table_init(&t, 3, header), 0);
	assert_int_equal(table_render(&t, &out), 0);
	assert_string_equal(out.data, "NAME   PHASE   AGE\n");
	table_free(&t);
	buf_free(&out);
}

static void test_error_text(void **state)
{
	struct buf out = BUF_INIT(0);
	json_t *env = json_loads(
		"{\"error\":{\"code\":\"INVALID_RESOURCE\",\"message\":\"Repository web is invalid\","
		"\"reasons\":[{\"code\":\"Required\",\"field\":\"spec.visibility\",\"message\":\"is required\"},"
		"{\"code\":\"X\",\"message\":\"no field\"}]}}", 0, NULL);

	(void)state;
	assert_non_null(env);
	assert_int_equal(cli_error_text(env, 422, NULL, &out), 0);
	assert_string_equal(out.data, "error: Repository web is invalid (INVALID_RESOURCE)\n"
				      "  spec.visibility: is required\n"
				      "  no field\n");
	buf_reset(&out);
	assert_int_equal(cli_error_text(env, 422, "Repository/ns/web", &out), 0);
	assert_non_null(strstr(out.data, "error: Repository/ns/web: Repository web is invalid"));
	buf_reset(&out);
	assert_int_equal(cli_error_text(NULL, 502, NULL, &out), 0);
	assert_string_equal(out.data, "error: server answered HTTP 502\n");
	json_decref(env);
	buf_free(&out);
}

static void test_cli_dispatch_usage(void **state)
{
	char *bad_opt[] = { "get", "repos", "--nope" };
	char *no_kind[] = { "get" };
	char *bad_role[] = { "token", "create", "--user", "u", "--role", "root" };
	char *no_file[] = { "apply" };

	(void)state;
	assert_true(cli_is_command("get"));
	assert_true(cli_is_command("audit"));
	assert_false(cli_is_command("serve"));
	assert_false(cli_is_command(NULL));
	/* Usage errors are reported before any request is attempted. */
	setenv("KRATE_CONFIG", "/nonexistent/krate-test/config", 1);
	assert_int_equal(cli_main(3, bad_opt), 2);
	assert_int_equal(cli_main(1, no_kind), 2);
	assert_int_equal(cli_main(6, bad_role), 2);
	assert_int_equal(cli_main(1, no_file), 2);
	unsetenv("KRATE_CONFIG");
}

/* ---- HTTP client against a canned peer ---- */

/* Forks a one-connection server on an ephemeral port that sends `reply`
 * in pieces of `piece` bytes and writes the request head it got to *head_fd. */
static pid_t canned_server(const char *reply, size_t piece, int *port, int *head_fd)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int ls, pfd[2];
	pid_t pid;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char req[8192];
		size_t got = 0, len = strlen(reply);
		int c = accept(ls, NULL, NULL);

		close(pfd[0]);
		while (c >= 0 && got < sizeof(req) - 1) {
			ssize_t n = read(c, req + got, sizeof(req) - 1 - got);

			if (n <= 0)
				break;
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		if (write(pfd[1], req, got) < 0)
			_exit(1);
		for (size_t off = 0; c >= 0 && off < len; off += piece) {
			size_t n = len - off < piece ? len - off : piece;

			if (write(c, reply + off, n) < 0)
				_exit(1);
			usleep(2000);
		}
		_exit(0);
	}
	close(ls);
	close(pfd[1]);
	*head_fd = pfd[0];
	return pid;
}

static char *read_all_fd(int fd)
{
	struct buf b = BUF_INIT(0);
	char tmp[1024];
	ssize_t n;

	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(&b, tmp, (size_t)n);
	close(fd);
	return buf_detach(&b, NULL);
}

static void test_client_request(void **state)
{
	static const char reply[] =
		"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 57\r\n"
		"Connection: close\r\n\r\n"
		"{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"no such thing\"}}\n";
	struct cli_client c;
	struct cli_resp r;
	struct kerr e = KERR_INIT;
	char server[64], *head;
	int port, hfd, status;
	pid_t pid;

	(void)state;
	pid = canned_server(reply, 16, &port, &hfd);
	snprintf(server, sizeof(server), "http://127.0.0.1:%d/", port);
	c.server = server;
	c.token = "tok-123";
	cli_resp_init(&r);
	assert_int_equal(client_request(&c, "GET", "/api/x?y=1", NULL, NULL, 0, &r, &e), 0);
	assert_int_equal(r.status, 404);
	assert_non_null(r.json);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
			    "NOT_FOUND");
	head = read_all_fd(hfd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* The trailing slash of the server URL is not doubled. */
	assert_non_null(strstr(head, "GET /api/x?y=1 HTTP/1.1\r\n"));
	assert_non_null(strstr(head, "Authorization: Bearer tok-123\r\n"));
	assert_non_null(strstr(head, "Accept: application/json\r\n"));
	free(head);
	cli_resp_free(&r);

	/* A token with a line break is refused before anything is sent. */
	c.token = "a\r\nX-Evil: 1";
	cli_resp_init(&r);
	assert_int_equal(client_request(&c, "GET", "/", NULL, NULL, 0, &r, &e), KE_INVALID);
	cli_resp_free(&r);
	kerr_clear(&e);
}

/* Warning headers (the server's policy notices) are kept, one per line. */
static void test_client_warnings(void **state)
{
	static const char reply[] =
		"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
		"Warning: 299 krate \"PullRequest spec.title must be descriptive\"\r\n"
		"warning: 299 - \"second\"\r\nConnection: close\r\n\r\n{}";
	struct cli_client c;
	struct cli_resp r;
	struct kerr e = KERR_INIT;
	char server[64], *head;
	int port, hfd, status;
	pid_t pid;

	(void)state;
	pid = canned_server(reply, 32, &port, &hfd);
	snprintf(server, sizeof(server), "http://127.0.0.1:%d", port);
	c.server = server;
	c.token = "t";
	cli_resp_init(&r);
	assert_int_equal(client_request(&c, "POST", "/api/x", "application/json", "{}", 2, &r, &e), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.warnings.data, "299 krate \"PullRequest spec.title must be descriptive\"\n"
					     "299 - \"second\"\n");
	head = read_all_fd(hfd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(head);
	cli_resp_free(&r);
}

static void test_client_unreachable(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct cli_client c;
	struct cli_resp r;
	struct kerr e = KERR_INIT;
	char server[64];
	int s = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	/* A port that was just free and has nobody listening. */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	close(s);
	snprintf(server, sizeof(server), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	c.server = server;
	c.token = "t";
	cli_resp_init(&r);
	assert_int_equal(client_request(&c, "GET", "/api/whoami", NULL, NULL, 0, &r, &e), KE_IO);
	assert_non_null(strstr(e.message, "cannot reach http://127.0.0.1:"));
	cli_resp_free(&r);
	kerr_clear(&e);
}

static int sse_chunk(void *ud, const char *p, size_t n)
{
	return sse_feed(ud, p, n);
}

static void test_client_stream(void **state)
{
	static const char reply[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
		": ping\n\nevent: krate\nid: 5\ndata: {\"type\":\"ADDED\"}\n\n"
		"event: krate\r\nid: 6\r\ndata: {\"type\":\"DELETED\"}\r\n\r\n";
	struct collected col = { BUF_INIT(0), 0, 0 };
	struct sse_parser p;
	struct cli_client c;
	struct cli_resp r;
	struct kerr e = KERR_INIT;
	char server[64], *head;
	int port, hfd, status;
	pid_t pid;

	(void)state;
	pid = canned_server(reply, 7, &port, &hfd);
	snprintf(server, sizeof(server), "http://127.0.0.1:%d", port);
	c.server = server;
	c.token = "t";
	sse_init(&p, 4096, collect, &col);
	cli_resp_init(&r);
	assert_int_equal(client_stream(&c, "/api/watch/orgs/o/repositories", sse_chunk, &p, NULL, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(col.log.data, "krate|5|{\"type\":\"ADDED\"}\nkrate|6|{\"type\":\"DELETED\"}\n");
	head = read_all_fd(hfd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_non_null(strstr(head, "Accept: text/event-stream\r\n"));
	free(head);
	cli_resp_free(&r);
	sse_free(&p);
	buf_free(&col.log);
	kerr_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_anywhere),
		cmocka_unit_test(test_args_files_and_dashes),
		cmocka_unit_test(test_args_errors),
		cmocka_unit_test(test_args_flags),
		cmocka_unit_test(test_config_round_trip),
		cmocka_unit_test(test_config_home_and_bad_files),
		cmocka_unit_test(test_resolve_precedence),
		cmocka_unit_test(test_url_building),
		cmocka_unit_test(test_sse_chunking),
		cmocka_unit_test(test_sse_caps_and_stop),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_sniff_and_scalars),
		cmocka_unit_test(test_table_render),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_cli_dispatch_usage),
		cmocka_unit_test(test_client_request),
		cmocka_unit_test(test_client_warnings),
		cmocka_unit_test(test_client_unreachable),
		cmocka_unit_test(test_client_stream),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
