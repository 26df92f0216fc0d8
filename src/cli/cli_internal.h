/* Private interface shared by the client command files in src/cli/.
 *
 * The pure parts (argument parsing, config file, SSE parsing, URL building,
 * time and table formatting, error text) are declared here so unit tests can
 * reach them; the HTTP client wraps libcurl. Ownership is stated per struct. */
#ifndef KRATE_CLI_INTERNAL_H
#define KRATE_CLI_INTERNAL_H

#include <stdarg.h>
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
	OPT_REPO = 1u << 12,          /* -r REPO, --repo REPO (REPO or ORG/REPO) */
	OPT_TITLE = 1u << 13,         /* --title T */
	OPT_BODY = 1u << 14,          /* --body B, --body-file F (- reads stdin) */
	OPT_REFS = 1u << 15,          /* --source BRANCH, --target BRANCH */
	OPT_STATE = 1u << 16,         /* --state S */
	OPT_DECISION = 1u << 17,      /* --approve, --request-changes, --comment (flags) */
	OPT_LINE_COMMENT = 1u << 18,  /* --line-comment PATH:LINE:TEXT (repeatable) */
	OPT_CHECK = 1u << 19,         /* --name NAME, --url URL */
	OPT_STRATEGY = 1u << 20,      /* --strategy S */
	OPT_LABEL = 1u << 21,         /* --label L (repeatable) */
	OPT_ADD_LABEL = 1u << 22,     /* --add-label L (repeatable) */
	OPT_ASSIGNEE = 1u << 23,      /* --assignee U (repeatable) */
};

/* Every string points into the argv given to cli_args_parse (not owned);
 * the arrays (`files`, `pos`, `labels`, ...) are owned and released by cli_args_free. */
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
	const char *repo;
	const char *title;
	const char *body;
	const char *body_file;
	const char *source;
	const char *target;
	const char *state;
	const char *check_name;
	const char *url;
	const char *strategy;
	int approve;            /* --approve seen */
	int request_changes;    /* --request-changes seen */
	int comment;            /* --comment seen */
	const char **line_comments;
	size_t nline_comments;
	const char **labels;
	size_t nlabels;
	const char **add_labels;
	size_t nadd_labels;
	const char **assignees;
	size_t nassignees;
};

/* Parses argv[1..argc) (argv[0] is the command name). Options may appear
 * anywhere, as "--opt value", "--opt=value", "-x value" or "-xvalue"; flags
 * (--admin, --password-stdin, --approve, --request-changes, --comment) take no
 * value; "--" ends options. A later duplicate of a single-valued option wins;
 * repeatable ones (-f, --line-comment, --label, --add-label, --assignee)
 * collect every value. Returns 0, or KE_INVALID naming the offending argument
 * (a usage error). */
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

/* ---- input ---- */

/* Reads all of the file name ("-": stdin) into out, whose max caps it;
 * errors are printed. Returns the exit code, 0 or 1. */
int cli_read_input(const char *name, struct buf *out);

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

/* The text of one Warning header value: the quoted warn-text of
 * `299 agent "text"` unescaped, else the value as is; control characters
 * become '?'. Appends it to out. */
int cli_warning_text(const char *value, struct buf *out);

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

/* Owns body, json and warnings; cli_resp_free releases them. */
struct cli_resp {
	long status;
	struct buf body;
	json_t *json;      /* parsed body, NULL when it is not JSON */
	struct buf warnings; /* the values of the answer's Warning headers, each ending in '\n' */
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
	int argc;               /* as given to cli_main (borrowed): subcommands parse it again */
	char **argv;
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
/* Prints "error: <fmt with ap>" and "usage: <usage>" to stderr; returns 2. */
int cli_usage_verror(const char *usage, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Performs a request and reports failures on stderr: unreachable server or a
 * non-2xx status print the error and return 1 (nothing stored). Warning
 * headers print as "warning: <text>" on stderr, whatever the status. On success
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
int cmd_pr(struct cli_ctx *ctx);
int cmd_issue(struct cli_ctx *ctx);
/* The usage lines of `krate pr` and `krate issue`, one per subcommand. */
extern const char cmd_pr_usage[];
extern const char cmd_issue_usage[];

/* Path of one object: /api/orgs/ORG/resources/KIND/NAME when org is set,
 * else /api/controller/resources/KIND/NAME with ?namespace= for the config's
 * org (unless the kind is known to be platform-scoped). */
int cli_object_path(const struct cli_ctx *ctx, const char *org, const char *kind,
		    const char *name, struct buf *out);

/* ---- pull requests and issues (records.c) ---- */

struct cli_rec;

/* A subcommand of `krate pr` or `krate issue`. */
struct cli_sub {
	const char *name;
	unsigned opts;          /* options it takes besides -r and -n */
	int number;             /* takes the record number N as its one argument */
	int (*run)(struct cli_ctx *ctx, const struct cli_rec *rec);
	const char *usage;
};

/* What `krate pr` or `krate issue` works on; the parts its subcommands share. */
struct cli_rec_type {
	const char *coll;               /* its route under the repository: "pulls" or "issues" */
	const char *what;               /* "pull request" or "issue", in messages */
	const char *none;               /* what `list` says when nothing matches */
	const char *const *states;      /* the values of `list --state` (NULL-terminated) */
	const char *states_text;        /* the same, as text for the usage error */
	int (*table)(const json_t *items, struct cli_table *t);   /* the table of `list` */
	/* Sets the fields of `create` besides --body; 0 or the exit code of a usage error. */
	int (*create_fields)(const struct cli_rec *rec, const struct cli_args *a, json_t *body);
};

/* What a subcommand works on. */
struct cli_rec {
	const struct cli_sub *sub;
	struct buf base;        /* /api/orgs/ORG/repositories/REPO, encoded (owned by cli_run_sub) */
	long long number;       /* N, or 0 for subcommands without one */
	const struct cli_rec_type *type;
};

/* Finds the subcommand named by the first argument, parses argv again with
 * its options (one it does not take is a usage error), checks -r/-n, N, -o
 * and --body/--body-file, and runs it on type. Returns the exit code. */
int cli_run_sub(struct cli_ctx *ctx, const struct cli_rec_type *type, const struct cli_sub *subs, size_t nsubs);
/* Prints "error: <msg>" and the subcommand's usage line to stderr; returns 2. */
int cli_sub_usage_error(const struct cli_rec *rec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* 1 if s is one of the NULL-terminated allowed. */
int cli_one_of(const char *s, const char *const *allowed);
/* A record number: decimal digits only, 1 .. 10^15. 0 or KE_INVALID. */
int cli_parse_number(const char *s, long long *out);
/* "/api/orgs/ORG/repositories/REPO" into out from -r (REPO or ORG/REPO), -n
 * and the config's org, in that order. KE_INVALID (message in e) when the org
 * is missing or given twice differently, or a name is empty. */
int cli_repo_path(const char *repo, const char *org, const char *cfg_org, struct buf *out, struct kerr *e);
/* rec's base + "/" + coll + "/N" (when rec has a number) + tail (may be NULL) into out. */
int cli_rec_path(const struct cli_rec *rec, const char *coll, const char *tail, struct buf *out);
/* method on rec's route (its type's collection, "/N" when it has a number,
 * then tail, which may be NULL) with body as JSON (NULL: no body); *out gets
 * the parsed answer (new ref). Failures are printed; returns the exit code. */
int cli_rec_call(struct cli_ctx *ctx, const struct cli_rec *rec, const char *method, const char *tail,
		 const json_t *body, json_t **out);
/* --line-comment PATH:LINE:TEXT as {"path","line","body"} (new ref in *out):
 * the first ":<digits>:" ends the path, so a path may hold other colons. */
int cli_line_comment(const char *s, json_t **out, struct kerr *e);
/* Sets obj[key] to the user text v; KE_INVALID when v is not UTF-8. */
int cli_set_text(json_t *obj, const char *key, const char *v);
/* Sets obj["body"] from --body or --body-file, if either was given. Returns
 * the exit code: 0, 1 (unreadable file) or 2 (not UTF-8 text). */
int cli_set_body(const struct cli_rec *rec, const struct cli_args *a, json_t *obj);
/* "refs/heads/x" -> "x"; other refs (and NULL) as they are. */
const char *cli_short_ref(const char *ref);
/* Appends "<label>:" padded to a column, value cleaned as by cli_clean_text, a newline. */
int cli_add_field(struct buf *out, const char *label, const char *value);
/* Appends text (NULL: nothing) with each line prefixed by indent and ending
 * in a newline; control characters other than newline and tab become '?'. */
int cli_add_block(struct buf *out, const char *indent, const char *text);
/* The strings of a JSON array joined by ", " ("-" when none); malloc'd, NULL on OOM. */
char *cli_join_strings(const json_t *arr);
/* Writes out's text to stdout; returns the exit code. */
int cli_print_buf(const struct buf *out);
/* printf to stdout plus a newline, flushed; returns the exit code. Text from
 * the server must go through cli_clean_text first. */
int cli_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "error: out of memory"; returns 1. */
int cli_oom(void);
/* obj[part][key] as a string, or NULL. */
const char *cli_str_at(const json_t *obj, const char *part, const char *key);

/* Subcommands both commands have, on rec's type; each returns the exit code. */
/* POSTs a body with --title (required), the type's create_fields and --body
 * to the collection, then "<what> #N opened: <title>". */
int cli_rec_create(struct cli_ctx *ctx, const struct cli_rec *rec);
/* GET of the collection (with --state), printed as a table or JSON (-o). */
int cli_rec_list(struct cli_ctx *ctx, const struct cli_rec *rec);
/* POST N/comments from --body or --body-file, then "commented on <what> #N". */
int cli_rec_comment(struct cli_ctx *ctx, const struct cli_rec *rec);
/* PATCH N {"state": "closed" or "open"}, then "<what> #N closed" or "... reopened". */
int cli_rec_close(struct cli_ctx *ctx, const struct cli_rec *rec);
int cli_rec_reopen(struct cli_ctx *ctx, const struct cli_rec *rec);

/* Rendering of pull requests and issues (cmd_pr.c, cmd_issue.c). Tables get
 * their header row here; the texts are appended to out. */
int cli_pr_table(const json_t *items, struct cli_table *t);
int cli_pr_view_text(const json_t *pr, struct buf *out);
int cli_issue_table(const json_t *items, int64_t now, struct cli_table *t);
int cli_issue_view_text(const json_t *issue, const json_t *comments, int64_t now, struct buf *out);

#endif
