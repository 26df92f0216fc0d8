/* What the pull request and issue pages share (page_records.h). */
#include "page_records.h"
#include "core/markdown.h"
#include "core/util.h"

#include <string.h>

/* Rendered Markdown of one body is at most this large. */
#define MARKDOWN_OUT_MAX (4u * 1024u * 1024u)

const char *rec_str(json_t *obj, const char *part, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, part), key));
}

long long rec_number(json_t *obj)
{
	return (long long)json_integer_value(json_object_get(json_object_get(obj, "spec"), "number"));
}

int rec_number_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n <= 9 && s[0] != '0' && strspn(s, "0123456789") == n;
}

const char *rec_branch(const char *ref)
{
	return ref && !strncmp(ref, "refs/heads/", 11) ? ref + 11 : ref;
}

int rec_form(struct page *pg, struct form_field *f, size_t nf)
{
	struct kerr e = KERR_INIT;
	size_t len;
	const char *body = http_req_body(pg->r, &len);

	if (form_parse(body, len, f, nf, &e)) {
		web_error_page(pg->r, kerr_http_status(e.kcode), e.message);
		kerr_clear(&e);
		return 1;
	}
	if (web_check_csrf(pg, f, nf)) {
		form_free(f, nf);
		return 1;
	}
	return 0;
}

int rec_form_utf8(const struct form_field *f, size_t nf, struct kerr *e)
{
	size_t i;

	for (i = 0; i < nf; i++)
		if (f[i].value && !util_utf8_valid(f[i].value, f[i].len))
			return kerr_set(e, KE_INVALID, NULL, "the form field '%s' is not UTF-8 text", f[i].name);
	return 0;
}

json_t *rec_json_names(const char *s)
{
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	while (*s) {
		size_t n = strcspn(s, ",");
		const char *p = s, *next = s[n] ? s + n + 1 : s + n;

		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n)
			json_array_append_new(arr, json_stringn(p, n));
		s = next;
	}
	return arr;
}

int rec_method_not_allowed(struct page *pg, const char *allow)
{
	http_add_header(pg->r, "Allow", allow);
	return web_error_page(pg->r, 405, NULL);
}

void rec_href(struct html *h, const struct repo_view *v, const char *what, long long n, const char *sub)
{
	html_raw(h, v->base.data);
	html_raw(h, "/");
	html_raw(h, what);
	if (n > 0)
		html_fmt(h, "/%lld", n);
	if (sub) {
		html_raw(h, "/");
		html_raw(h, sub);
	}
}

int rec_redirect(struct repo_view *v, const char *what, const char *n, const char *anchor)
{
	struct buf loc = BUF_INIT(4096);
	int rc;

	buf_printf(&loc, "%s/%s/%s%s%s", v->base.data, what, n, anchor ? "#" : "", anchor ? anchor : "");
	rc = web_redirect(v->pg->r, loc.data ? loc.data : v->base.data);
	buf_free(&loc);
	return rc;
}

void rec_state_badge(struct html *h, const char *phase)
{
	const char *state = phase && !strcmp(phase, "Merged") ? "merged" : phase && !strcmp(phase, "Closed") ? "closed"
														 : "open";

	html_fmt(h, "<span class=\"badge state\" data-state=\"%s\">%s</span>", state,
		 state[0] == 'm' ? "Merged" : state[0] == 'c' ? "Closed" : "Open");
}

void rec_state_tabs(struct html *h, const struct repo_view *v, const char *what, const char *state, int merged)
{
	static const char *const states[] = { "open", "closed", "merged" };
	static const char *const labels[] = { "Open", "Closed", "Merged" };
	size_t i;

	html_raw(h, "<nav class=\"state-tabs\" aria-label=\"State\">");
	for (i = 0; i < (merged ? 3u : 2u); i++) {
		html_fmt(h, "<a data-state=\"%s\" href=\"", states[i]);
		rec_href(h, v, what, 0, NULL);
		html_fmt(h, "?state=%s\"%s>%s</a>", states[i], strcmp(state, states[i]) ? "" : " aria-current=\"page\"",
			 labels[i]);
	}
	html_raw(h, "</nav>\n");
}

void rec_markdown(struct html *h, const char *text)
{
	struct buf out = BUF_INIT(MARKDOWN_OUT_MAX);
	struct kerr e = KERR_INIT;

	html_raw(h, "<div class=\"markdown markdown-body\">");
	if (!text || !*text)
		html_raw(h, "<p class=\"muted\">No description.</p>");
	else if (markdown_to_html(text, strlen(text), &out, &e) == 0)
		html_raw(h, out.data ? out.data : "");
	else {
		/* A body too large to render is still readable as text. */
		html_raw(h, "<pre class=\"value\">");
		html_text(h, text);
		html_raw(h, "</pre>");
	}
	html_raw(h, "</div>");
	kerr_clear(&e);
	buf_free(&out);
}

void rec_errors(struct html *h, const struct kerr *e)
{
	json_t *r;
	size_t i;

	if (!e)
		return;
	html_raw(h, "<div class=\"flash error\" role=\"alert\">");
	html_text(h, e->message ? e->message : "The change was not made.");
	html_raw(h, "</div>\n");
	if (!json_array_size(e->reasons))
		return;
	html_raw(h, "<ul class=\"field-errors\">\n");
	json_array_foreach(e->reasons, i, r) {
		const char *field = json_string_value(json_object_get(r, "field"));
		const char *code = json_string_value(json_object_get(r, "code"));

		html_raw(h, "<li data-field=\"");
		html_text(h, field ? field : "");
		html_raw(h, "\">");
		if (field && *field) {
			html_raw(h, "<code>");
			html_text(h, field);
			html_raw(h, "</code> ");
		}
		if (code) {
			html_raw(h, "<span class=\"reason-code\">");
			html_text(h, code);
			html_raw(h, "</span> ");
		}
		html_text(h, json_string_value(json_object_get(r, "message")));
		html_raw(h, "</li>\n");
	}
	html_raw(h, "</ul>\n");
}

void rec_invalid(struct html *h, const struct kerr *e, const char *field)
{
	json_t *r;
	size_t i;

	if (!e)
		return;
	json_array_foreach(e->reasons, i, r) {
		const char *f = json_string_value(json_object_get(r, "field"));

		if (f && !strcmp(f, field)) {
			html_raw(h, " aria-invalid=\"true\"");
			return;
		}
	}
}

static void byline(struct html *h, const char *author, const char *ts, const char *verb)
{
	html_raw(h, "<header class=\"comment-head\"><strong class=\"author\">");
	html_text(h, author ? author : "unknown");
	html_raw(h, "</strong> ");
	html_raw(h, verb);
	if (ts) {
		html_raw(h, " ");
		render_age(h, ts);
		html_raw(h, " ago");
	}
	html_raw(h, "</header>");
}

void rec_post(struct html *h, json_t *obj, const char *id)
{
	html_fmt(h, "<article class=\"comment post\" id=\"%s\">", id);
	byline(h, rec_str(obj, "spec", "author"), rec_str(obj, "metadata", "creationTimestamp"), "opened this");
	rec_markdown(h, rec_str(obj, "spec", "body"));
	html_raw(h, "</article>\n");
}

void rec_comment(struct html *h, json_t *c)
{
	html_raw(h, "<article class=\"comment\" id=\"comment-");
	html_text(h, rec_str(c, "metadata", "name"));
	html_raw(h, "\">");
	byline(h, rec_str(c, "spec", "author"), rec_str(c, "metadata", "creationTimestamp"), "commented");
	rec_markdown(h, rec_str(c, "spec", "body"));
	html_raw(h, "</article>\n");
}

void rec_comment_form(struct page *pg, struct html *h, const struct repo_view *v, const char *what, long long n,
		      const char *text)
{
	html_raw(h, "<form id=\"comment-form\" class=\"record-form\" method=\"post\" action=\"");
	rec_href(h, v, what, n, "comment");
	html_raw(h, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(h, pg->s.csrf);
	html_raw(h, "\"><label for=\"comment-body\">Add a comment <span class=\"hint\">Markdown</span></label>"
		    "<textarea id=\"comment-body\" name=\"body\" rows=\"5\" required>");
	html_text(h, text);
	html_raw(h, "</textarea><div class=\"form-actions\"><button type=\"submit\" class=\"primary\">Comment</button>"
		    "</div></form>\n");
}

void rec_state_form(struct page *pg, struct html *h, const struct repo_view *v, const char *what, long long n,
		    int open, const char *label)
{
	html_raw(h, "<form id=\"state-form\" class=\"inline-form\" method=\"post\" action=\"");
	rec_href(h, v, what, n, "state");
	html_raw(h, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(h, pg->s.csrf);
	html_fmt(h, "\"><input type=\"hidden\" name=\"state\" value=\"%s\"><button type=\"submit\"%s>", open ? "open" : "closed",
		 open ? "" : " class=\"danger\"");
	html_text(h, label);
	html_raw(h, "</button></form>\n");
}
