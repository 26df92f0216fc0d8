/* The agent pages' routing under /orgs/{org}/agents/ and what they share
 * (page_agents.h). */
#include "page_agents.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

int ag_load(struct page *pg, const char *kind, const char *name, json_t **out)
{
	struct kerr e = KERR_INIT;
	char *json = NULL;
	size_t len;
	int rc = store_get(pg->w->api->store, kind, pg->ns, name, &json, &len, &e);

	kerr_clear(&e);
	*out = NULL;
	if (rc)
		return rc;
	*out = json_loadb(json, len, 0, NULL);
	free(json);
	return *out ? 0 : KE_INTERNAL;
}

int ag_list(struct page *pg, const char *kind, json_t **out)
{
	struct store_list_query q = { kind, pg->ns, NULL, AG_LIST_MAX, NULL };
	struct store_list_result res = { 0 };
	struct kerr e = KERR_INIT;
	size_t i;
	int rc = store_list(pg->w->api->store, &q, &res, &e);

	kerr_clear(&e);
	*out = NULL;
	if (rc)
		return rc;
	*out = json_array();
	for (i = 0; *out && i < res.n; i++) {
		json_t *obj = json_loadb(res.items[i], res.lens[i], 0, NULL);

		if (obj)
			json_array_append_new(*out, obj);
	}
	store_list_result_free(&res);
	return *out ? 0 : KE_NOMEM;
}

int ag_href_buf(struct buf *b, struct page *pg, const char *tail, const char *name)
{
	int rc = buf_addstr(b, "/orgs/");

	if (!rc)
		rc = url_encode(b, pg->org, strlen(pg->org));
	if (!rc)
		rc = buf_printf(b, "/agents/%s", tail);
	if (!rc && name && !(rc = buf_addch(b, '/')))
		rc = url_encode(b, name, strlen(name));
	return rc;
}

void ag_href(struct html *h, struct page *pg, const char *tail, const char *name)
{
	struct buf b = BUF_INIT(2048);

	if (ag_href_buf(&b, pg, tail, name))
		h->err = h->err ? h->err : KE_TOOBIG;
	else
		html_raw(h, b.data);
	buf_free(&b);
}

void ag_begin(struct page *pg, struct html *h, const char *title, const char *nav, const char *label,
	      const char *tail, const char *leaf)
{
	struct buf org = BUF_INIT(256), list = BUF_INIT(512);
	struct crumb c[4];

	buf_printf(&org, "/orgs/%s", pg->org);
	ag_href_buf(&list, pg, tail, NULL);
	c[0] = (struct crumb){ "Organizations", "/orgs" };
	c[1] = (struct crumb){ pg->org, org.data };
	c[2] = (struct crumb){ label, leaf ? list.data : NULL };
	c[3] = (struct crumb){ leaf, NULL };
	layout_begin(pg, h, title, nav, c, leaf ? 4 : 3);
	buf_free(&org);
	buf_free(&list);
}

void ag_ref(struct html *h, json_t *v)
{
	const char *name, *key;
	char *text;

	if (json_is_string(v)) {
		html_text(h, json_string_value(v));
		return;
	}
	name = json_string_value(json_object_get(v, "name"));
	if (!name)
		name = json_string_value(json_object_get(v, "serviceAccountRef"));
	key = json_string_value(json_object_get(v, "key"));
	if (name) {
		html_text(h, name);
		if (key) {
			html_raw(h, ":");
			html_text(h, key);
		}
		return;
	}
	if (!v || json_is_null(v)) {
		html_raw(h, "<span class=\"muted\">\xE2\x80\x94</span>");
		return;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	html_text(h, text ? text : "");
	free(text);
}

void ag_phase(struct html *h, const char *phase)
{
	render_phase(h, phase ? phase : "Unknown");
}

void ag_digest(struct html *h, const char *digest)
{
	const char *hex;

	if (!digest || !*digest) {
		html_raw(h, "<span class=\"muted\">\xE2\x80\x94</span>");
		return;
	}
	hex = strncmp(digest, "sha256:", 7) ? digest : digest + 7;
	html_raw(h, "<code class=\"digest\" title=\"");
	html_text(h, digest);
	html_raw(h, "\">");
	html_textn(h, hex, strlen(hex) < 12 ? strlen(hex) : 12);
	html_raw(h, "</code>");
}

void ag_csrf(struct page *pg, struct html *h)
{
	html_raw(h, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(h, pg->s.csrf);
	html_raw(h, "\">");
}

void ag_conditions(struct html *h, json_t *status, const char *id)
{
	json_t *conds = json_object_get(status, "conditions"), *c;
	size_t i;

	if (!json_array_size(conds)) {
		html_fmt(h, "<p class=\"empty-state\" id=\"%s\">No conditions reported yet.</p>\n", id);
		return;
	}
	html_fmt(h, "<div class=\"table-wrap\"><table id=\"%s\" class=\"data conditions\"><thead><tr>"
		    "<th scope=\"col\">Type</th><th scope=\"col\">Status</th><th scope=\"col\">Reason</th>"
		    "<th scope=\"col\">Message</th><th scope=\"col\">Last transition</th></tr></thead><tbody>\n", id);
	json_array_foreach(conds, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));
		const char *ts = json_string_value(json_object_get(c, "lastTransitionTime"));

		html_raw(h, "<tr data-type=\"");
		html_text(h, json_string_value(json_object_get(c, "type")));
		html_raw(h, "\" data-status=\"");
		html_text(h, st);
		html_raw(h, "\"><td class=\"type\">");
		html_text(h, json_string_value(json_object_get(c, "type")));
		html_raw(h, "</td><td class=\"status\"><span class=\"badge\" data-condition=\"");
		html_text(h, st);
		html_raw(h, "\">");
		html_text(h, st);
		html_raw(h, "</span></td><td class=\"reason\">");
		html_text(h, json_string_value(json_object_get(c, "reason")));
		html_raw(h, "</td><td class=\"message\">");
		html_text(h, json_string_value(json_object_get(c, "message")));
		html_raw(h, "</td><td class=\"when\">");
		if (ts)
			render_age(h, ts);
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

/* ---- routing ---- */

static int get_only(struct page *pg, int post)
{
	return post ? rec_method_not_allowed(pg, "GET, HEAD") : 1;
}

static int post_only(struct page *pg, int post)
{
	return post ? 1 : rec_method_not_allowed(pg, "POST");
}

int ag_run_action(const char *s)
{
	static const char *const run_actions[] = { "cancel", "retry", "resume", "fork", "continue", NULL };
	const char *const *a;

	for (a = run_actions; *a; a++)
		if (!strcmp(*a, s))
			return 1;
	return 0;
}

int page_agents_route(struct page *pg, const char *const *seg, int n, int post)
{
	const char *what = seg[3], *name = n > 4 ? seg[4] : NULL;
	int i;

	/* names are DNS labels (admission), so nothing else can exist */
	for (i = 4; i < n; i++)
		if (!util_dns_label(seg[i]))
			return KE_NOTFOUND;
	if (n == 4) {
		if (post)
			return rec_method_not_allowed(pg, "GET, HEAD");
		if (!strcmp(what, "stacks"))
			return page_agent_stacks(pg);
		if (!strcmp(what, "grants"))
			return page_agent_grants(pg);
		if (!strcmp(what, "runs"))
			return page_agent_runs(pg);
		if (!strcmp(what, "approvals"))
			return page_agent_approvals(pg);
		return KE_NOTFOUND;
	}
	if (!strcmp(what, "stacks") && n == 5)
		return get_only(pg, post) == 1 ? page_agent_stack(pg, name) : 0;
	if (!strcmp(what, "stacks") && n == 6 && !strcmp(seg[5], "grant"))
		return post_only(pg, post) == 1 ? page_agent_stack_grant(pg, name) : 0;
	if (!strcmp(what, "runs") && n == 5 && !strcmp(name, "new"))
		return page_agent_dispatch(pg, post);
	if (!strcmp(what, "runs") && n == 5)
		return get_only(pg, post) == 1 ? page_agent_run(pg, name) : 0;
	if (!strcmp(what, "runs") && n == 6 && ag_run_action(seg[5]))
		return post_only(pg, post) == 1 ? page_agent_run_action(pg, name, seg[5]) : 0;
	if (!strcmp(what, "runs") && n == 7 && !strcmp(seg[5], "artifacts"))
		return get_only(pg, post) == 1 ? page_agent_artifact(pg, name, seg[6]) : 0;
	if (!strcmp(what, "approvals") && n == 6 && !strcmp(seg[5], "decision"))
		return post_only(pg, post) == 1 ? page_agent_approval_decide(pg, name) : 0;
	return KE_NOTFOUND;
}
