/* Private interface shared by the client command files in src/cli/.
 *
 * The pure parts (argument parsing, config file, SSE parsing, URL building,
 * time and table formatting, error text) are declared here so unit tests can
 * reach them; the HTTP client wraps libcurl. Ownership is stated per struct. */
#ifndef KRATE_CLI_INTERNAL_H
#define KRATE_CLI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"
/* Cap for one response body and for a file given to `apply -f`. */
#define CLI_BODY_MAX (64u * 1024u * 1024u)
/* Cap for one SSE line and for the data of one SSE event. */
#define CLI_SSE_MAX (16u * 1024u * 1024u)

/* ---- arguments ---- */

/* Options a command accepts besides --server/--token (always accepted). */
enum cli_opt {
	OPT_ORG = 1u << 0,      /* -n ORG, --org ORG, --namespace ORG */
	OPT_OUTPUT = 1u << 1,   /* -o FORMAT, --output FORMAT */
	OPT_SELECTOR = 1u << 2, /* -l SEL, --selector SEL */
	OPT_LIMIT = 1u << 3,    /* --limit N (positive integer) */
	OPT_FILE = 1u << 4,     /* -f FILE, --filename FILE (repeatable) */
	OPT_USER = 1u << 5,     /* --user U */
	OPT_ROLE = 1u << 6,     /* --role R */
	OPT_RV = 1u << 7,       /* --resource-version RV */
	OPT_ADMIN = 1u << 8,    /* --admin (a flag: takes no value) */
	OPT_PASSWORD_STDIN = 1u << 9, /* --password-stdin (a flag) */
	OPT_VISIBILITY = 1u << 10,    /* --visibility V */
	OPT_DEFAULT_BRANCH = 1u << 11, /* --default-branch B */
};

/* Every string points into the argv given to cli_args_parse (not owned);
 * the `files` and `pos` arrays are owned and released by cli_args_free. */
struct cli_args {
	const char *server;
	const char *token;
	const char *org;
	const char *output;
	const char *selector;
	const char *user;
	const char *role;
	const char *resource_version;
	const char *visibility;
	const char *default_branch;
	long limit;             /* -1 when --limit was not given */
	int help;               /* -h or --help seen */
	int admin;              /* --admin seen */
	int password_stdin;     /* --password-stdin seen */
	const char **files;
	size_t nfiles;
	const char **pos;       /* positional arguments, command name excluded */
	size_t npos;
};

/* Parses argv[1..argc) (argv[0] is the command name). Options may appear
 * anywhere, as "--opt value", "--opt=value", "-x value" or "-xvalue"; flags
 * (--admin, --password-stdin) take no value; "--" ends options. A later duplicate of a single-valued option wins. Returns 0,
 * or KE_INVALID naming the offending argument (a usage error). */
int cli_args_parse(int argc, char **argv, unsigned allowed, struct cli_args *a, struct kerr *e);
void cli_args_free(struct cli_args *a);

/* ---- config file ---- */

/* All strings owned (may be NULL); cli_config_free releases them. */
struct cli_config {
	char *server;
	char *token;
	char *org;
};

/* $KRATE_CONFIG, else $HOME/.config/krate/config, written into out.
 * KE_INVALID when neither variable is set. */
int cli_config_path(struct buf *out, struct kerr *e);
/* Loads the JSON config; a missing file leaves c empty and returns 0. A file
 * that is not a JSON object of optional strings is KE_INVALID. */
int cli_config_load(const char *path, struct cli_config *c, struct kerr *e);
/* Writes c atomically (temp file + rename) with mode 0600, creating missing
 * parent directories with mode 0700. NULL fields are left out. */
int cli_config_save(const char *path, const struct cli_config *c, struct kerr *e);
void cli_config_free(struct cli_config *c);

/* Server and token in precedence order: flag, environment (KRATE_SERVER,
 * KRATE_TOKEN), config file, built-in default (server only). The results
 * point into a, the environment, c or a static string; token may be NULL. */
struct cli_target {
	const char *server;
	const char *token;
};
void cli_resolve(const struct cli_args *a, const struct cli_config *c, struct cli_target *t);

/* ---- URLs ---- */

/* Appends "/" and s percent-encoded (everything but A-Z a-z 0-9 - . _ ~). */
int cli_path_add(struct buf *b, const char *s);
/* Appends "?key=value" or "&key=value" (value percent-encoded). */
int cli_query_add(struct buf *b, const char *key, const char *value);

/* ---- SSE ---- */

/* Called per complete event; event is "message" when the stream named none,
 * id is NULL when the event carried none. A nonzero return stops the feed. */
typedef int (*sse_event_fn)(void *ud, const char *event, const char *id, const char *data);

/* Owns its buffers; sse_free releases them. */
struct sse_parser {
	struct buf line;   /* the line being received */
	struct buf data;   /* data lines of the event being assembled, joined by '\n' */
	struct buf event;
	struct buf id;
	int has_data;
	int has_id;
	int after_cr;      /* last chunk ended in '\r': a leading '\n' completes that line ending */
	sse_event_fn fn;
	void *ud;
};

void sse_init(struct sse_parser *p, size_t max, sse_event_fn fn, void *ud);
/* Feeds a chunk of the stream, split anywhere. Lines end in "\n", "\r\n" or
 * "\r"; comment lines (":...") are skipped. Returns 0, KE_TOOBIG when a line
 * or an event exceeds max, KE_NOMEM, or the callback's nonzero return. */
int sse_feed(struct sse_parser *p, const char *chunk, size_t n);
void sse_free(struct sse_parser *p);

/* ---- formatting ---- */

/* Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" into Unix
 * seconds. Returns 0 or KE_INVALID. */
int cli_parse_time(const char *s, int64_t *out);
/* kubectl-style age of a duration: "5s", "3m", "2h", "4d" (negative -> "0s"). */
void cli_format_age(int64_t seconds, char out[24]);
/* Age of timestamp ts at time now, or "-" when ts is NULL or unparseable. */
void cli_age_since(const char *ts, int64_t now, char out[24]);

/* "application/json" when the first non-blank byte (after an optional UTF-8
 * BOM) is '{' or '[', else "application/yaml". */
const char *cli_sniff_type(const char *body, size_t len);

/* Scalar as display text: strings as-is, numbers and booleans printed,
 * NULL / null / containers -> "-". Returns a malloc'd string (caller frees) or NULL. */
char *cli_scalar_text(const json_t *v);

/* Copy of s (NULL or "" -> "-") with control characters replaced by '?', so
 * server data cannot move the cursor or split a line. Caller frees; NULL on OOM. */
char *cli_clean_text(const char *s);

/* A text table; row 0 is the header. Owns every cell. */
struct cli_table {
	size_t ncols;
	size_t nrows;
	size_t cap;        /* rows allocated */
	char **cells;      /* nrows * ncols strings */
};

int table_init(struct cli_table *t, size_t ncols, const char *const *header);
/* Adds a row of ncols cells; NULL or empty cells print as "-". Control
 * characters in cells print as '?', so server data cannot break the layout. */
int table_add(struct cli_table *t, const char *const *row);
/* Left-aligned columns, each padded to its widest cell (in code points) plus
 * three spaces; the last column is not padded. */
int table_render(const struct cli_table *t, struct buf *out);
void table_free(struct cli_table *t);

/* The error lines for a failed response: "error: <message> (<code>)" from the
 * envelope {"error":{...}} (or "error: server answered HTTP <status>" without
 * one) followed by "  <field>: <message>" per reason. prefix, if not NULL, is
 * put before the message ("error: <prefix>: <message> (<code>)"). */
int cli_error_text(const json_t *envelope, long status, const char *prefix, struct buf *out);

/* ---- HTTP client ---- */

/* Borrowed strings, valid for the client's use. */
struct cli_client {
	const char *server;
	const char *token;
};

/* Owns body and json; cli_resp_free releases them. */
struct cli_resp {
	long status;
	struct buf body;
	json_t *json;      /* parsed body, NULL when it is not JSON */
};

void cli_resp_init(struct cli_resp *r);
void cli_resp_free(struct cli_resp *r);

/* One request; path starts with "/". body may be NULL (then ctype is ignored).
 * Returns 0 once any HTTP status was received (check r->status), or KE_IO
 * with "cannot reach <server>: <reason>" / KE_TOOBIG for an oversized body. */
int client_request(const struct cli_client *c, const char *method, const char *path,
		   const char *ctype, const char *body, size_t len,
		   struct cli_resp *r, struct kerr *e);

/* Streamed GET without a total timeout. On a 2xx status every received chunk
 * goes to fn; otherwise the body is collected into r for the error. A nonzero
 * return from fn or from stop (polled about once a second; may be NULL) ends
 * the transfer and is returned as is. Returns 0 when the server closed the
 * stream, or KE_IO as client_request. */
typedef int (*client_chunk_fn)(void *ud, const char *p, size_t n);
int client_stream(const struct cli_client *c, const char *path, client_chunk_fn fn, void *ud,
		  int (*stop)(void), struct cli_resp *r, struct kerr *e);

/* ---- commands ---- */

struct cli_command;

/* State of one cli_main call; owns args, cfg and config_path. */
struct cli_ctx {
	const struct cli_command *cmd;
	struct cli_args args;
	struct cli_config cfg;
	char *config_path;
	struct cli_client http;
};

/* Prints cli_error_text(envelope, status, prefix) to stderr. */
void cli_report_error(const json_t *envelope, long status, const char *prefix);
/* Prints "error: <msg>" and the command's usage line to stderr; returns 2. */
int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Performs a request and reports failures on stderr: unreachable server or a
 * non-2xx status print the error and return 1 (nothing stored). On success
 * returns 0 with *out the parsed body (caller owns; may be NULL when the body
 * is not JSON) and *status the HTTP status (status may be NULL). */
int cli_call(const struct cli_ctx *ctx, const char *method, const char *path,
	     const char *ctype, const char *body, size_t len, json_t **out, long *status);
/* Like cli_call with a JSON body (serialised compactly). */
int cli_call_json(const struct cli_ctx *ctx, const char *method, const char *path,
		  const json_t *body, json_t **out, long *status);
/* Prints v to stdout as pretty JSON (2-space indent) or YAML; returns the exit code. */
int cli_print_json(const json_t *v);
int cli_print_yaml(const json_t *v);
/* Renders the table to stdout; returns the exit code. */
int cli_print_table(const struct cli_table *t);
/* Checks -o against "table", "json" and "yaml" (allow_yaml 0 rejects yaml). */
int cli_output_ok(const char *output, int allow_yaml);

int cmd_apply(struct cli_ctx *ctx);
int cmd_get(struct cli_ctx *ctx);
int cmd_delete(struct cli_ctx *ctx);
int cmd_watch(struct cli_ctx *ctx);
int cmd_token(struct cli_ctx *ctx);
int cmd_audit(struct cli_ctx *ctx);
int cmd_login(struct cli_ctx *ctx);
int cmd_whoami(struct cli_ctx *ctx);
int cmd_kinds(struct cli_ctx *ctx);
int cmd_user(struct cli_ctx *ctx);
int cmd_repo(struct cli_ctx *ctx);

/* Path of one object: /api/orgs/ORG/resources/KIND/NAME when org is set,
 * else /api/controller/resources/KIND/NAME with ?namespace= for the config's
 * org (unless the kind is known to be platform-scoped). */
int cli_object_path(const struct cli_ctx *ctx, const char *org, const char *kind,
		    const char *name, struct buf *out);

#endif
