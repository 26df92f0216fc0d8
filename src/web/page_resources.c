#include "web_internal.h"
#include "core/util.h"
#include "core/yaml.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIST_PAGE 500
/* The detail page's audit history reads this many of the newest audit
 * entries (all orgs' sequence numbers) and keeps the object's. */
#define AUDIT_WINDOW 5000
#define AUDIT_SHOWN 100
#define TREE_MAX_DEPTH 8
#define YAML_FIELD_MAX (1024u * 1024u)

/* ---- shared pieces ---- */

void web_object_href(struct buf *b, const char *org, const struct kind_def *kd, const char *name)
{
	buf_addstr(b, "/orgs/");
	url_encode(b, org, strlen(org));
	buf_addstr(b, "/resources/");
	buf_addstr(b, kd->plural);
	if (name) {
		buf_addch(b, '/');
		url_encode(b, name, strlen(name));
	}
}

void render_phase(struct html *h, const char *phase)
{
	if (!phase)
		return;
	html_raw(h, "<span class=\"badge\" data-phase=\"");
	html_text(h, phase);
	html_raw(h, "\">");
	html_text(h, phase);
	html_raw(h, "</span>");
}

void render_age(struct html *h, const char *ts)
{
	int64_t t = web_parse_time(ts);
	char age[16];

	if (t < 0) {
		html_text(h, ts);
		return;
	}
	web_age(age, util_now_seconds() - t);
	html_raw(h, "<time datetime=\"");
	html_text(h, ts);
	html_raw(h, "\" title=\"");
	html_text(h, ts);
	html_raw(h, "\">");
	html_text(h, age);
	html_raw(h, "</time>");
}

/* "Repository" -> "Repositories", "SSHKey" -> "SSHKeys". */
static void kind_title(const struct kind_def *kd, char out[96])
{
	size_t n = strlen(kd->kind);
	char prev = n > 1 ? kd->kind[n - 2] : 0;

	if (n && kd->kind[n - 1] == 'y' && !strchr("aeiou", prev))
		snprintf(out, 96, "%.*sies", (int)(n - 1), kd->kind);
	else if (n && (kd->kind[n - 1] == 's' || kd->kind[n - 1] == 'x'))
		snprintf(out, 96, "%ses", kd->kind);
	else
		snprintf(out, 96, "%ss", kd->kind);
}

static const char *obj_str(json_t *obj, const char *sect, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, sect), key));
}

/* The row markup krate.js reproduces for live updates. */
static void render_row(struct page *pg, struct html *h, const struct kind_def *kd, json_t *obj)
{
	const char *name = obj_str(obj, "metadata", "name");
	struct buf href = BUF_INIT(1024);

	if (!name)
		return;
	web_object_href(&href, pg->org, kd, name);
	html_raw(h, "<tr data-name=\"");
	html_text(h, name);
	html_raw(h, "\"><td class=\"name\"><a href=\"");
	html_raw(h, href.data ? href.data : "#");
	html_raw(h, "\">");
	html_text(h, name);
	html_raw(h, "</a></td><td class=\"phase\">");
	render_phase(h, obj_str(obj, "status", "phase"));
	html_raw(h, "</td><td class=\"age\">");
	render_age(h, obj_str(obj, "metadata", "creationTimestamp"));
	html_raw(h, "</td></tr>\n");
	buf_free(&href);
}

void render_object_rows(struct page *pg, struct html *h, const struct kind_def *kd, char **items,
			const size_t *lens, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *obj = json_loadb(items[i], lens[i], 0, NULL);

		if (obj)
			render_row(pg, h, kd, obj);
		json_decref(obj);
	}
}

void render_list_block(struct page *pg, struct html *h, const struct kind_def *kd, const char *id,
		       char **items, const size_t *lens, size_t n, int64_t rv, int watch)
{
	struct buf base = BUF_INIT(512);
	char title[96];

	kind_title(kd, title);
	web_object_href(&base, pg->org, kd, NULL);
	html_raw(h, "<div class=\"list-block\">\n<table");
	if (id) {
		html_raw(h, " id=\"");
		html_text(h, id);
		html_raw(h, "\"");
	}
	html_raw(h, n ? " class=\"data resource-list\"" : " class=\"data resource-list is-empty\"");
	html_raw(h, " data-kind=\"");
	html_text(h, kd->kind);
	html_raw(h, "\" data-base=\"");
	html_raw(h, base.data ? base.data : "");
	html_raw(h, "/\" data-empty=\"No ");
	html_text(h, title);
	html_raw(h, " yet.\"");
	if (watch) {
		html_raw(h, " data-watch=\"/api/watch/orgs/");
		html_url(h, pg->org);
		html_raw(h, "/");
		html_raw(h, kd->plural);
		html_fmt(h, "\" data-rv=\"%lld\"", (long long)rv);
	}
	html_raw(h, ">\n<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Phase</th>"
		    "<th scope=\"col\">Age</th></tr></thead>\n<tbody>\n");
	render_object_rows(pg, h, kd, items, lens, n);
	html_raw(h, "</tbody>\n</table>\n");
	if (!n) {
		html_raw(h, "<p class=\"empty-state\">No ");
		html_text(h, title);
		html_raw(h, " yet.</p>\n");
	}
	html_raw(h, "</div>\n");
	buf_free(&base);
}

/* The kind in a URL (kind, plural or short name) if it is org-scoped. */
static const struct kind_def *url_kind(const char *kind)
{
	const struct kind_def *kd = kinds_lookup(kind);

	return kd && kd->scope == SCOPE_ORG ? kd : NULL;
}

/* Fills crumbs: Organizations / org / Resources / plural / name ... (hrefs in bufs[]). */
struct trail {
	struct crumb c[7];
	struct buf b[3];
	size_t n;
};

static void trail_init(struct trail *t, struct page *pg, const struct kind_def *kd, const char *name)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < 3; i++)
		buf_init(&t->b[i], 2048);
	buf_printf(&t->b[0], "/orgs/%s", pg->org);
	buf_printf(&t->b[1], "/orgs/%s/resources", pg->org);
	t->c[t->n++] = (struct crumb){ "Organizations", "/orgs" };
	t->c[t->n++] = (struct crumb){ pg->org, t->b[0].data };
	t->c[t->n++] = (struct crumb){ "Resources", t->b[1].data };
	if (kd) {
		web_object_href(&t->b[2], pg->org, kd, NULL);
		t->c[t->n++] = (struct crumb){ kd->plural, t->b[2].data };
	}
	if (name)
		t->c[t->n++] = (struct crumb){ name, NULL };
}

/* Turns the last crumb into a link to href and appends label. */
static void trail_push(struct trail *t, const char *href, const char *label)
{
	t->c[t->n - 1].href = href;
	t->c[t->n++] = (struct crumb){ label, NULL };
}

static void trail_free(struct trail *t)
{
	size_t i;

	for (i = 0; i < 3; i++)
		buf_free(&t->b[i]);
}

/* ---- /orgs/{org}/resources: every kind with its count ---- */

int page_kinds(struct page *pg)
{
	struct kerr e = KERR_INIT;
	json_t *counts = NULL;
	const struct kind_def *kinds;
	const char *category = NULL;
	struct trail t;
	struct html h;
	size_t nk, i;
	int rc = store_counts(pg->w->api->store, pg->ns, &counts, &e);

	kerr_clear(&e);
	if (rc)
		return rc;
	kinds = kinds_all(&nk);
	trail_init(&t, pg, NULL, NULL);
	t.c[t.n - 1].href = NULL;
	html_init(&h);
	layout_begin(pg, &h, "Resources", NULL, t.c, t.n);
	html_raw(&h, "<div class=\"page-head\"><h1>Resources</h1><p class=\"lead\">Every kind this org can hold, "
		     "with how many objects of it exist.</p></div>\n<div class=\"table-wrap\"><table id=\"kind-browser\" "
		     "class=\"data\">\n"
		     "<thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Short names</th>"
		     "<th scope=\"col\">Storage</th><th scope=\"col\">Writers</th>"
		     "<th scope=\"col\" class=\"num\">Count</th></tr></thead>\n");
	for (i = 0; i < nk; i++) {
		const struct kind_def *k = &kinds[i];
		const char *const *sn;
		struct buf href = BUF_INIT(512);

		if (k->scope == SCOPE_PLATFORM)
			continue;
		if (!category || strcmp(category, k->category)) {
			html_raw(&h, category ? "</tbody>\n<tbody>" : "<tbody>");
			category = k->category;
			html_raw(&h, "<tr class=\"group\"><th colspan=\"5\" scope=\"rowgroup\">");
			html_text(&h, category);
			html_raw(&h, "</th></tr>\n");
		}
		web_object_href(&href, pg->org, k, NULL);
		html_raw(&h, "<tr data-kind=\"");
		html_text(&h, k->kind);
		html_raw(&h, "\"><td><a href=\"");
		html_raw(&h, href.data ? href.data : "#");
		html_raw(&h, "\">");
		html_text(&h, k->kind);
		html_raw(&h, "</a></td><td class=\"muted\">");
		for (sn = k->short_names; sn && *sn; sn++) {
			html_raw(&h, sn == k->short_names ? "<code>" : ", <code>");
			html_text(&h, *sn);
			html_raw(&h, "</code>");
		}
		html_fmt(&h, "</td><td>%s</td><td>%s</td><td class=\"count num\">%lld</td></tr>\n",
			 kinds_storage_name(k->storage), kinds_role_name(k->write_role),
			 (long long)json_integer_value(json_object_get(json_object_get(counts, k->kind), "count")));
		buf_free(&href);
	}
	html_raw(&h, "</tbody>\n</table></div>\n");
	layout_end(&h);
	trail_free(&t);
	json_decref(counts);
	return page_send(pg, &h, 200);
}

/* ---- list ---- */

int page_list(struct page *pg, const char *kind)
{
	const struct kind_def *kd = url_kind(kind);
	const char *deleted = http_req_query(pg->r, "deleted");
	struct store_list_query q = { 0 };
	struct store_list_result res = { 0 };
	struct kerr e = KERR_INIT;
	struct trail t;
	struct html h;
	char title[96];
	int rc;

	if (!kd)
		return KE_NOTFOUND;
	q.kind = kd->kind;
	q.ns = pg->ns;
	q.limit = LIST_PAGE;
	q.cont = http_req_query(pg->r, "continue");
	rc = store_list(pg->w->api->store, &q, &res, &e);
	kerr_clear(&e);
	/* A stale or forged continue token is a bad link, not a failure. */
	if (rc == KE_INVALID)
		rc = KE_NOTFOUND;
	if (rc)
		return rc;
	kind_title(kd, title);
	trail_init(&t, pg, kd, NULL);
	t.c[t.n - 1].href = NULL;
	html_init(&h);
	layout_begin(pg, &h, title, web_section_of(kd->kind), t.c, t.n);
	html_raw(&h, "<div class=\"page-head\"><h1>");
	html_text(&h, title);
	html_raw(&h, "</h1><p class=\"lead\"><code>");
	html_text(&h, kd->kind);
	html_raw(&h, "</code> objects in ");
	html_text(&h, pg->org);
	html_raw(&h, ". The list updates as they change.</p><div class=\"actions\">"
		     "<a class=\"button primary\" href=\"/orgs/");
	html_url(&h, pg->org);
	html_raw(&h, "/new?kind=");
	html_url(&h, kd->kind);
	html_raw(&h, "\">New ");
	html_text(&h, kd->kind);
	html_raw(&h, "</a>");
	if (!strcmp(kd->kind, "Repository")) {
		html_raw(&h, "<a id=\"browse-repos\" class=\"button\" href=\"/orgs/");
		html_url(&h, pg->org);
		html_raw(&h, "/repos\">Browse code</a>");
	}
	html_raw(&h, "</div></div>\n");
	if (deleted && *deleted) {
		html_raw(&h, "<p class=\"flash success\" role=\"status\">Deleted ");
		html_text(&h, kd->plural);
		html_raw(&h, "/");
		html_text(&h, deleted);
		html_raw(&h, ".</p>\n");
	}
	render_list_block(pg, &h, kd, "resource-list", res.items, res.lens, res.n, res.rv, 1);
	if (res.cont) {
		html_raw(&h, "<p class=\"pager\"><a class=\"button\" href=\"?continue=");
		html_url(&h, res.cont);
		html_fmt(&h, "\">Next %d</a></p>\n", LIST_PAGE);
	}
	layout_end(&h);
	trail_free(&t);
	store_list_result_free(&res);
	return page_send(pg, &h, 200);
}

/* ---- detail ---- */

static void render_tree(struct html *h, json_t *v, int depth);

static void render_scalar(struct html *h, json_t *v)
{
	char *text;

	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (strchr(s, '\n')) {
			html_raw(h, "<pre class=\"value\">");
			html_text(h, s);
			html_raw(h, "</pre>");
		} else if (!*s) {
			html_raw(h, "<span class=\"muted\">(empty)</span>");
		} else {
			html_text(h, s);
		}
		return;
	}
	if (json_is_null(v)) {
		html_raw(h, "<span class=\"muted\">null</span>");
		return;
	}
	text = json_dumps(v, JSON_ENCODE_ANY);
	html_raw(h, "<span class=\"literal\">");
	html_text(h, text);
	html_raw(h, "</span>");
	free(text);
}

/* Objects as definition lists, arrays of scalars as chips, other arrays as
 * numbered items; deeper than TREE_MAX_DEPTH falls back to JSON text. */
static void render_tree(struct html *h, json_t *v, int depth)
{
	const char *key;
	json_t *item;
	size_t i;
	int scalars = 1;

	if (depth > TREE_MAX_DEPTH && (json_is_object(v) || json_is_array(v))) {
		char *text = json_dumps(v, JSON_COMPACT);

		html_raw(h, "<code>");
		html_text(h, text);
		html_raw(h, "</code>");
		free(text);
		return;
	}
	if (json_is_object(v)) {
		if (!json_object_size(v)) {
			html_raw(h, "<span class=\"muted\">(none)</span>");
			return;
		}
		html_raw(h, "<dl class=\"tree\">");
		json_object_foreach(v, key, item) {
			html_raw(h, "<dt>");
			html_text(h, key);
			html_raw(h, "</dt><dd>");
			render_tree(h, item, depth + 1);
			html_raw(h, "</dd>");
		}
		html_raw(h, "</dl>");
		return;
	}
	if (!json_is_array(v)) {
		render_scalar(h, v);
		return;
	}
	if (!json_array_size(v)) {
		html_raw(h, "<span class=\"muted\">(none)</span>");
		return;
	}
	json_array_foreach(v, i, item)
		if (json_is_object(item) || json_is_array(item))
			scalars = 0;
	html_raw(h, scalars ? "<ul class=\"chips\">" : "<ol class=\"tree-list\">");
	json_array_foreach(v, i, item) {
		html_raw(h, "<li>");
		render_tree(h, item, depth + 1);
		html_raw(h, "</li>");
	}
	html_raw(h, scalars ? "</ul>" : "</ol>");
}

static void meta_row(struct html *h, const char *label, const char *value)
{
	html_raw(h, "<dt>");
	html_text(h, label);
	html_raw(h, "</dt><dd>");
	if (value)
		html_text(h, value);
	else
		html_raw(h, "<span class=\"muted\">\xE2\x80\x94</span>");
	html_raw(h, "</dd>");
}

static void render_metadata(struct html *h, json_t *md)
{
	json_t *gen = json_object_get(md, "generation"), *labels = json_object_get(md, "labels"), *v;
	const char *created = json_string_value(json_object_get(md, "creationTimestamp")), *key;

	html_raw(h, "<section id=\"metadata\" class=\"panel\">\n<h2>Metadata</h2>\n<dl class=\"meta\">");
	meta_row(h, "Name", json_string_value(json_object_get(md, "name")));
	meta_row(h, "Namespace", json_string_value(json_object_get(md, "namespace")));
	meta_row(h, "UID", json_string_value(json_object_get(md, "uid")));
	meta_row(h, "Resource version", json_string_value(json_object_get(md, "resourceVersion")));
	html_raw(h, "<dt>Generation</dt><dd>");
	if (json_is_integer(gen))
		html_fmt(h, "%lld", (long long)json_integer_value(gen));
	else
		html_raw(h, "<span class=\"muted\">\xE2\x80\x94</span>");
	html_raw(h, "</dd><dt>Created</dt><dd>");
	if (created) {
		html_text(h, created);
		html_raw(h, " <span class=\"muted\">(");
		render_age(h, created);
		html_raw(h, " ago)</span>");
	}
	html_raw(h, "</dd><dt>Labels</dt><dd>");
	if (json_object_size(labels)) {
		html_raw(h, "<ul class=\"chips\">");
		json_object_foreach(labels, key, v) {
			html_raw(h, "<li><span class=\"label-key\">");
			html_text(h, key);
			html_raw(h, "</span>=");
			html_text(h, json_string_value(v));
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul>");
	} else {
		html_raw(h, "<span class=\"muted\">(none)</span>");
	}
	html_raw(h, "</dd><dt>Annotations</dt><dd>");
	if (json_object_get(md, "annotations"))
		render_tree(h, json_object_get(md, "annotations"), 1);
	else
		html_raw(h, "<span class=\"muted\">(none)</span>");
	html_raw(h, "</dd></dl>\n</section>\n");
}

static void render_conditions(struct html *h, json_t *status)
{
	json_t *conds = json_object_get(status, "conditions"), *c;
	size_t i;

	html_raw(h, "<section class=\"panel\">\n<h2>Conditions</h2>\n<div id=\"conditions\" class=\"table-wrap\">");
	if (!json_is_array(conds) || !json_array_size(conds)) {
		html_raw(h, "<p class=\"empty-state\">No conditions reported.</p></div>\n</section>\n");
		return;
	}
	html_raw(h, "<table class=\"data\"><thead><tr><th scope=\"col\">Type</th><th scope=\"col\">Status</th>"
		    "<th scope=\"col\">Reason</th><th scope=\"col\">Message</th><th scope=\"col\">Last transition</th>"
		    "</tr></thead><tbody>\n");
	json_array_foreach(conds, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));

		html_raw(h, "<tr><td>");
		html_text(h, json_string_value(json_object_get(c, "type")));
		html_raw(h, "</td><td><span class=\"badge\" data-condition=\"");
		html_text(h, st);
		html_raw(h, "\">");
		html_text(h, st);
		html_raw(h, "</span></td><td>");
		html_text(h, json_string_value(json_object_get(c, "reason")));
		html_raw(h, "</td><td>");
		html_text(h, json_string_value(json_object_get(c, "message")));
		html_raw(h, "</td><td>");
		render_age(h, json_string_value(json_object_get(c, "lastTransitionTime")));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n</section>\n");
}

/* Audit entries naming the object, newest first. */
static void render_audit(struct page *pg, struct html *h, const struct kind_def *kd, const char *name)
{
	struct kerr e = KERR_INIT;
	json_t *stats = NULL, *entries = NULL;
	struct buf id = BUF_INIT(1024);
	json_int_t total = 0;
	size_t i, shown = 0;

	if (!store_stats(pg->w->api->store, &stats, &e))
		total = json_integer_value(json_object_get(stats, "auditEntries"));
	kerr_clear(&e);
	store_audit_list(pg->w->api->store, pg->org, total > AUDIT_WINDOW ? total - AUDIT_WINDOW : 0, 0, &entries,
			 &e);
	kerr_clear(&e);
	api_resource_id(&id, kd->kind, pg->ns, name);
	html_raw(h, "<section class=\"panel\">\n<h2>Audit history</h2>\n<div class=\"table-wrap\"><table id=\"audit-history\" class=\"data\">"
		    "<thead><tr><th scope=\"col\">When</th><th scope=\"col\">Actor</th><th scope=\"col\">Verb</th>"
		    "<th scope=\"col\">Result</th><th scope=\"col\">Correlation id</th></tr></thead><tbody>\n");
	for (i = json_array_size(entries); id.data && i-- > 0 && shown < AUDIT_SHOWN;) {
		json_t *a = json_array_get(entries, i);
		const char *res = json_string_value(json_object_get(a, "resource"));
		const char *result = json_string_value(json_object_get(a, "result"));

		if (!res || !web_resource_listed(res, id.data))
			continue;
		shown++;
		html_raw(h, "<tr><td>");
		render_age(h, json_string_value(json_object_get(a, "time")));
		html_raw(h, "</td><td>");
		html_text(h, json_string_value(json_object_get(a, "actor")));
		html_raw(h, "</td><td>");
		html_text(h, json_string_value(json_object_get(a, "verb")));
		html_raw(h, "</td><td><span class=\"badge\" data-result=\"");
		html_raw(h, result && !strcmp(result, "allowed") ? "allowed" : "refused");
		html_raw(h, "\">");
		html_text(h, result);
		html_raw(h, "</span></td><td><code>");
		html_text(h, json_string_value(json_object_get(a, "correlationId")));
		html_raw(h, "</code></td></tr>\n");
	}
	if (!shown)
		html_raw(h, "<tr class=\"empty\"><td colspan=\"5\">No audit entries for this object in the recent "
			    "log.</td></tr>\n");
	html_raw(h, "</tbody></table></div>\n</section>\n");
	buf_free(&id);
	json_decref(stats);
	json_decref(entries);
}

static int load_object(struct page *pg, const struct kind_def *kd, const char *name, json_t **out)
{
	struct kerr e = KERR_INIT;
	char *json = NULL;
	size_t len;
	int rc = store_get(pg->w->api->store, kd->kind, pg->ns, name, &json, &len, &e);

	kerr_clear(&e);
	if (rc)
		return rc;
	*out = json_loadb(json, len, 0, NULL);
	free(json);
	/* Detail, YAML and edit pages show a Secret's keys, never its sealed values. */
	api_redact_object(*out);
	return *out ? 0 : KE_INTERNAL;
}

int page_detail(struct page *pg, const char *kind, const char *name)
{
	const struct kind_def *kd = url_kind(kind);
	struct buf yaml = BUF_INIT(4u * 1024u * 1024u), href = BUF_INIT(2048);
	json_t *obj = NULL, *status, *shown;
	struct trail t;
	struct html h;
	int rc;

	if (!kd)
		return KE_NOTFOUND;
	rc = load_object(pg, kd, name, &obj);
	if (rc)
		return rc;
	web_object_href(&href, pg->org, kd, name);
	trail_init(&t, pg, kd, name);
	html_init(&h);
	layout_begin(pg, &h, name, web_section_of(kd->kind), t.c, t.n);
	html_raw(&h, "<div class=\"page-head\"><p class=\"eyebrow\">");
	html_text(&h, kd->kind);
	html_raw(&h, "</p><h1>");
	html_text(&h, name);
	html_raw(&h, " ");
	render_phase(&h, obj_str(obj, "status", "phase"));
	html_raw(&h, "</h1><div class=\"actions\">");
	if (!strcmp(kd->kind, "WebhookDelivery"))
		render_redeliver_button(pg, &h, href.data);
	if (!strcmp(kd->kind, "Repository")) {
		html_raw(&h, "<a id=\"browse-code\" class=\"button primary\" href=\"/orgs/");
		html_url(&h, pg->org);
		html_raw(&h, "/repos/");
		html_url(&h, name);
		html_raw(&h, "\">Browse code</a>");
	}
	html_raw(&h, "<a id=\"edit\" class=\"button\" href=\"");
	html_raw(&h, href.data ? href.data : "#");
	html_raw(&h, "/edit\">Edit</a><a id=\"delete\" class=\"button danger\" href=\"");
	html_raw(&h, href.data ? href.data : "#");
	html_raw(&h, "/delete\">Delete</a></div></div>\n<div class=\"grid-2\">\n<div class=\"stack\">\n");
	render_metadata(&h, json_object_get(obj, "metadata"));
	html_raw(&h, "<section id=\"spec\" class=\"panel\">\n<h2>Spec</h2>\n");
	if (json_object_get(obj, "spec"))
		render_tree(&h, json_object_get(obj, "spec"), 1);
	else
		html_raw(&h, "<p class=\"empty-state\">No spec.</p>");
	html_raw(&h, "\n</section>\n</div>\n<div class=\"stack\">\n<section id=\"status\" class=\"panel\">\n"
		     "<h2>Status</h2>\n");
	/* Conditions get their own table below. */
	status = json_object_get(obj, "status");
	shown = json_is_object(status) ? json_copy(status) : json_object();
	json_object_del(shown, "conditions");
	if (json_object_size(shown))
		render_tree(&h, shown, 1);
	else
		html_raw(&h, "<p class=\"empty-state\">No status reported.</p>");
	json_decref(shown);
	html_raw(&h, "\n</section>\n</div>\n</div>\n");
	render_conditions(&h, status);
	html_raw(&h, "<section class=\"panel\">\n<h2>YAML</h2>\n<pre id=\"yaml\" class=\"code\">");
	if (yaml_emit(obj, &yaml) == 0)
		html_textn(&h, yaml.data ? yaml.data : "", yaml.len);
	html_raw(&h, "</pre>\n</section>\n");
	render_audit(pg, &h, kd, name);
	layout_end(&h);
	buf_free(&yaml);
	buf_free(&href);
	trail_free(&t);
	json_decref(obj);
	return page_send(pg, &h, 200);
}

/* ---- create and edit from YAML ---- */

struct yaml_page {
	const char *title;
	const char *action;          /* form action (URL-safe) */
	const char *text;            /* textarea content */
	const struct kind_def *kd;   /* the kind being created or edited, or NULL */
	const char *name;            /* the object being edited, or NULL */
	const struct kerr *err;      /* the refusal to show, or NULL */
};

static void render_field_errors(struct html *h, const struct kerr *e)
{
	json_t *r;
	size_t i;

	if (!json_array_size(e->reasons))
		return;
	html_raw(h, "<ul class=\"field-errors\">\n");
	json_array_foreach(e->reasons, i, r) {
		const char *field = json_string_value(json_object_get(r, "field"));
		const char *code = json_string_value(json_object_get(r, "code"));

		html_raw(h, "<li data-field=\"");
		html_text(h, field ? field : "");
		html_raw(h, "\"><code>");
		html_text(h, field ? field : "(object)");
		html_raw(h, "</code> ");
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

/* The kind picker of the new page: a GET form, so it works without JS. */
static void render_kind_picker(struct page *pg, struct html *h, const struct kind_def *cur)
{
	const struct kind_def *kinds;
	const char *category = NULL;
	size_t nk, i;

	kinds = kinds_all(&nk);
	html_raw(h, "<form id=\"kind-picker\" class=\"inline-form\" method=\"get\" action=\"/orgs/");
	html_url(h, pg->org);
	html_raw(h, "/new\"><label for=\"kind-select\">Start from a template</label><select id=\"kind-select\" "
		    "name=\"kind\"><option value=\"\">Choose a kind</option>");
	for (i = 0; i < nk; i++) {
		if (kinds[i].scope == SCOPE_PLATFORM)
			continue;
		if (!category || strcmp(category, kinds[i].category)) {
			html_raw(h, category ? "</optgroup><optgroup label=\"" : "<optgroup label=\"");
			category = kinds[i].category;
			html_text(h, category);
			html_raw(h, "\">");
		}
		html_raw(h, "<option");
		html_raw(h, cur == &kinds[i] ? " selected>" : ">");
		html_text(h, kinds[i].kind);
		html_raw(h, "</option>");
	}
	html_raw(h, "</optgroup></select><button type=\"submit\">Use template</button></form>\n");
}

static int render_yaml_form(struct page *pg, const struct yaml_page *y, int status, int show_picker)
{
	struct trail t;
	struct html h;
	struct buf detail = BUF_INIT(2048);

	if (y->name) {
		web_object_href(&detail, pg->org, y->kd, y->name);
		trail_init(&t, pg, y->kd, y->name);
		trail_push(&t, detail.data, "Edit");
	} else {
		trail_init(&t, pg, NULL, NULL);
		trail_push(&t, t.b[1].data, "New");
	}
	html_init(&h);
	layout_begin(pg, &h, y->title, y->name ? web_section_of(y->kd->kind) : NULL, t.c, t.n);
	html_raw(&h, "<div class=\"page-head\"><h1>");
	html_text(&h, y->title);
	html_raw(&h, "</h1><p class=\"lead\">");
	html_raw(&h, y->name ? "Change the YAML and save; the same checks as the API apply."
			     : "Write one object, or several separated by <code>---</code>; they are created together "
			       "or not at all.");
	html_raw(&h, "</p></div>\n");
	if (show_picker)
		render_kind_picker(pg, &h, y->kd);
	if (y->err) {
		html_raw(&h, "<div class=\"flash error\" role=\"alert\">");
		html_text(&h, y->err->message ? y->err->message : "The object was not saved.");
		html_raw(&h, "</div>\n");
		render_field_errors(&h, y->err);
	}
	html_raw(&h, "<form id=\"yaml-form\" method=\"post\" action=\"");
	html_raw(&h, y->action);
	html_raw(&h, "\">\n<input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(&h, pg->s.csrf);
	html_raw(&h, "\">\n<label for=\"yaml-text\" class=\"visually-hidden\">YAML</label>\n"
		     "<textarea id=\"yaml-text\" name=\"yaml\" rows=\"24\" spellcheck=\"false\" autocapitalize=\"none\" "
		     "class=\"code\">");
	html_text(&h, y->text);
	html_raw(&h, "</textarea>\n<div class=\"form-actions\"><button type=\"submit\" class=\"primary\">");
	html_raw(&h, y->name ? "Save" : "Create");
	html_raw(&h, "</button><a class=\"button\" href=\"");
	html_raw(&h, y->name && detail.data ? detail.data : t.b[0].data ? t.b[0].data : "/orgs");
	html_raw(&h, "\">Cancel</a></div>\n</form>\n");
	layout_end(&h);
	trail_free(&t);
	buf_free(&detail);
	return page_send(pg, &h, status);
}

/* Sets a dotted path ("transport.type") under obj to v (stolen). */
static void set_path(json_t *obj, const char *path, json_t *v)
{
	const char *dot = strchr(path, '.');
	char head[128];
	json_t *child;

	if (!dot) {
		json_object_set_new(obj, path, v);
		return;
	}
	snprintf(head, sizeof(head), "%.*s", (int)(dot - path), path);
	child = json_object_get(obj, head);
	if (!json_is_object(child)) {
		child = json_object();
		json_object_set_new(obj, head, child);
	}
	set_path(child, dot + 1, v);
}

static json_t *empty_value(const struct field_def *f)
{
	switch (f->type) {
	case FT_INT:
	case FT_NUMBER: return json_integer(0);
	case FT_BOOL: return json_false();
	case FT_OBJECT: return json_object();
	case FT_ARRAY: return json_array();
	default: return json_string("");
	}
}

/* apiVersion, kind, a placeholder name and the kind's required spec fields
 * as empty values, after comments that list the allowed values of enums. */
static int kind_template(const struct kind_def *kd, struct buf *out)
{
	json_t *obj, *spec = json_object();
	const struct field_def *f;
	const char *const *v;
	char name[80];
	size_t i;
	int rc;

	for (f = kd->fields; f && f->path; f++) {
		if (!f->required || !f->enums)
			continue;
		buf_printf(out, "# spec.%s:", f->path);
		for (v = f->enums; *v; v++)
			buf_printf(out, " %s%s", *v, v[1] ? " |" : "\n");
	}
	snprintf(name, sizeof(name), "new-%s", kd->kind);
	for (i = 0; name[i]; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	for (f = kd->fields; f && f->path; f++)
		if (f->required && strcmp(f->path, "organizationRef"))
			set_path(spec, f->path, empty_value(f));
	obj = json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", KRATE_API_VERSION, "kind", kd->kind, "metadata",
			"name", name, "spec", spec);
	if (!obj)
		return KE_NOMEM;
	rc = yaml_emit(obj, out);
	json_decref(obj);
	return rc;
}

/* The object's YAML for editing: server-managed fields and status left out,
 * resourceVersion kept so a concurrent change is a conflict, not lost. */
static int edit_text(json_t *obj, struct buf *out)
{
	json_t *copy = json_deep_copy(obj), *md;
	int rc;

	if (!copy)
		return KE_NOMEM;
	md = json_object_get(copy, "metadata");
	json_object_del(md, "uid");
	json_object_del(md, "creationTimestamp");
	json_object_del(md, "generation");
	json_object_del(copy, "status");
	rc = yaml_emit(copy, out);
	json_decref(copy);
	return rc;
}

/* Parses and applies the posted YAML. On success *first is the first stored
 * object (new ref); otherwise e says why. expect_kd/expect_name (edit) pin
 * the one object the YAML may describe. */
static int apply_yaml(struct page *pg, const char *text, size_t len, const struct kind_def *expect_kd,
		      const char *expect_name, json_t **first, struct kerr *e)
{
	json_t *docs = NULL, *results = NULL;
	int rc = yaml_or_json_parse(text, len, &docs, e);

	if (rc)
		goto out;
	if (expect_kd) {
		json_t *d = json_array_get(docs, 0);

		if (json_array_size(docs) != 1 ||
		    kinds_lookup(json_string_value(json_object_get(d, "kind"))) != expect_kd ||
		    !obj_str(d, "metadata", "name") || strcmp(obj_str(d, "metadata", "name"), expect_name)) {
			rc = kerr_set(e, KE_UNPROCESSABLE, NULL,
				      "this page edits %s '%s'; the YAML must describe that one object "
				      "(create others with New)", expect_kd->kind, expect_name);
			goto out;
		}
	}
	rc = api_apply_sync(pg->w->api, &pg->p, pg->org, docs, http_req_correlation_id(pg->r), &results, e);
	if (!rc) {
		*first = json_incref(json_object_get(json_array_get(results, 0), "object"));
		if (!*first)
			rc = kerr_set(e, KE_INTERNAL, NULL, "the write returned no object");
	}
out:
	json_decref(docs);
	json_decref(results);
	return rc;
}

/* After a save: the first object's page (or the org home for other kinds). */
static int redirect_to_object(struct page *pg, json_t *obj)
{
	const struct kind_def *kd = kinds_lookup(json_string_value(json_object_get(obj, "kind")));
	const char *name = obj_str(obj, "metadata", "name");
	struct buf loc = BUF_INIT(2048);

	if (kd && kd->scope == SCOPE_ORG && name)
		web_object_href(&loc, pg->org, kd, name);
	else
		buf_printf(&loc, "/orgs/%s", pg->org);
	web_redirect(pg->r, loc.data ? loc.data : "/orgs");
	buf_free(&loc);
	return 0;
}

/* POST of the YAML form: csrf, parse, apply; errors re-render the form. */
static int post_yaml(struct page *pg, struct yaml_page *y, int show_picker)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 }, { "yaml", YAML_FIELD_MAX, NULL, 0 } };
	struct kerr e = KERR_INIT;
	json_t *obj = NULL;
	const char *body;
	size_t len;
	int rc;

	body = http_req_body(pg->r, &len);
	if (form_parse(body, len, f, 2, &e)) {
		y->text = "";
		y->err = &e;
		rc = render_yaml_form(pg, y, kerr_http_status(e.kcode), show_picker);
		goto out;
	}
	if (web_check_csrf(pg, f, 2)) {
		rc = 0;
		goto out;
	}
	y->text = form_value(f, 2, "yaml");
	rc = apply_yaml(pg, y->text, f[1].len, y->name ? y->kd : NULL, y->name, &obj, &e);
	if (!rc) {
		rc = redirect_to_object(pg, obj);
	} else {
		y->err = &e;
		rc = render_yaml_form(pg, y, kerr_http_status(e.kcode), show_picker);
	}
out:
	json_decref(obj);
	kerr_clear(&e);
	form_free(f, 2);
	return rc;
}

int page_new(struct page *pg, int post)
{
	const struct kind_def *kd = url_kind(http_req_query(pg->r, "kind"));
	struct buf action = BUF_INIT(2048), text = BUF_INIT(YAML_FIELD_MAX);
	struct yaml_page y = { 0 };
	char title[128];
	int rc;

	buf_printf(&action, "/orgs/%s/new", pg->org);
	if (kd) {
		buf_addstr(&action, "?kind=");
		buf_addstr(&action, kd->kind);
	}
	snprintf(title, sizeof(title), "New %s", kd ? kd->kind : "resource");
	y.title = title;
	y.action = action.data ? action.data : "";
	y.kd = kd;
	if (post) {
		rc = post_yaml(pg, &y, 1);
	} else {
		if (kd ? kind_template(kd, &text)
		       : buf_printf(&text, "apiVersion: %s\nkind: \nmetadata:\n  name: \nspec: {}\n", KRATE_API_VERSION))
			buf_reset(&text);
		y.text = text.data ? text.data : "";
		rc = render_yaml_form(pg, &y, 200, 1);
	}
	buf_free(&action);
	buf_free(&text);
	return rc;
}

int page_edit(struct page *pg, const char *kind, const char *name, int post)
{
	const struct kind_def *kd = url_kind(kind);
	struct buf action = BUF_INIT(2048), text = BUF_INIT(YAML_FIELD_MAX);
	struct yaml_page y = { 0 };
	json_t *obj = NULL;
	char title[384];
	int rc;

	if (!kd)
		return KE_NOTFOUND;
	web_object_href(&action, pg->org, kd, name);
	buf_addstr(&action, "/edit");
	snprintf(title, sizeof(title), "Edit %s", name);
	y.title = title;
	y.action = action.data ? action.data : "";
	y.kd = kd;
	y.name = name;
	if (post) {
		rc = post_yaml(pg, &y, 0);
		goto out;
	}
	rc = load_object(pg, kd, name, &obj);
	if (rc)
		goto out;
	rc = edit_text(obj, &text);
	if (rc)
		goto out;
	y.text = text.data ? text.data : "";
	rc = render_yaml_form(pg, &y, 200, 0);
out:
	json_decref(obj);
	buf_free(&action);
	buf_free(&text);
	return rc;
}

/* ---- delete ---- */

static int render_delete(struct page *pg, const struct kind_def *kd, const char *name, const struct kerr *err,
			 int status)
{
	struct buf href = BUF_INIT(2048);
	struct trail t;
	struct html h;
	char title[384];

	web_object_href(&href, pg->org, kd, name);
	trail_init(&t, pg, kd, name);
	trail_push(&t, href.data, "Delete");
	snprintf(title, sizeof(title), "Delete %s", name);
	html_init(&h);
	layout_begin(pg, &h, title, web_section_of(kd->kind), t.c, t.n);
	html_raw(&h, "<div class=\"page-head\"><h1>");
	html_text(&h, title);
	html_raw(&h, "</h1></div>\n");
	if (err) {
		html_raw(&h, "<div class=\"flash error\" role=\"alert\">");
		html_text(&h, err->message ? err->message : "The object was not deleted.");
		html_raw(&h, "</div>\n");
	}
	html_raw(&h, "<section class=\"panel danger-zone\"><p>Delete <code>");
	html_text(&h, kd->kind);
	html_raw(&h, "/");
	html_text(&h, name);
	html_raw(&h, "</code> from ");
	html_text(&h, pg->org);
	html_raw(&h, "? This cannot be undone; the audit log keeps a record.</p>\n"
		     "<form id=\"delete-form\" method=\"post\" action=\"");
	html_raw(&h, href.data ? href.data : "");
	html_raw(&h, "/delete\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(&h, pg->s.csrf);
	html_raw(&h, "\"><div class=\"form-actions\"><button type=\"submit\" class=\"danger\">Delete</button>"
		     "<a class=\"button\" href=\"");
	html_raw(&h, href.data ? href.data : "");
	html_raw(&h, "\">Cancel</a></div></form>\n</section>\n");
	layout_end(&h);
	trail_free(&t);
	buf_free(&href);
	return page_send(pg, &h, status);
}

int page_delete(struct page *pg, const char *kind, const char *name, int post)
{
	const struct kind_def *kd = url_kind(kind);
	struct form_field f[] = { { "csrf", 128, NULL, 0 } };
	struct kerr e = KERR_INIT;
	struct buf loc = BUF_INIT(2048);
	json_t *obj = NULL;
	const char *body;
	size_t len;
	int rc;

	if (!kd)
		return KE_NOTFOUND;
	if (!post) {
		rc = load_object(pg, kd, name, &obj);
		json_decref(obj);
		return rc ? rc : render_delete(pg, kd, name, NULL, 200);
	}
	body = http_req_body(pg->r, &len);
	if (form_parse(body, len, f, 1, &e) || web_check_csrf(pg, f, 1)) {
		/* An unreadable form has no valid token either. */
		if (e.kcode)
			web_error_page(pg->r, 403, "CSRF token missing or invalid");
		rc = 0;
		goto out;
	}
	rc = api_delete_sync(pg->w->api, &pg->p, pg->org, kd->kind, name, http_req_correlation_id(pg->r), &e);
	if (rc) {
		rc = render_delete(pg, kd, name, &e, kerr_http_status(e.kcode));
		goto out;
	}
	web_object_href(&loc, pg->org, kd, NULL);
	buf_addstr(&loc, "?deleted=");
	url_encode(&loc, name, strlen(name));
	rc = web_redirect(pg->r, loc.data ? loc.data : "/orgs");
out:
	kerr_clear(&e);
	buf_free(&loc);
	form_free(f, 1);
	return rc;
}
