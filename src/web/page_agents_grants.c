/* /orgs/{org}/agents/grants: the org's Secrets and ConfigMaps (names, key
 * names and descriptions; their values are sealed and never read here) and
 * the AgentSecretGrant and AgentConfigGrant objects that hand them to
 * agents. */
#include "page_agents.h"

#include <string.h>

static void chips(struct html *h, json_t *arr)
{
	json_t *v;
	size_t i;

	if (!json_array_size(arr)) {
		html_raw(h, "<span class=\"muted\">any</span>");
		return;
	}
	html_raw(h, "<ul class=\"chips\">");
	json_array_foreach(arr, i, v) {
		html_raw(h, "<li>");
		ag_ref(h, v);
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul>");
}

/* The object's resource page (its YAML and audit history). */
static void resource_link(struct page *pg, struct html *h, const char *kind, const char *name)
{
	const struct kind_def *kd = kinds_lookup(kind);

	if (!kd) {
		html_text(h, name);
		return;
	}
	html_raw(h, "<a href=\"/orgs/");
	html_url(h, pg->org);
	html_raw(h, "/resources/");
	html_raw(h, kd->plural);
	html_raw(h, "/");
	html_url(h, name);
	html_raw(h, "\">");
	html_text(h, name);
	html_raw(h, "</a>");
}

/* Opens the panel panel-panel headed title, with a New link for kind, and
 * lists kind into *items; with none it says "No <none> yet.", closes the
 * panel again and answers 0. */
static int list_panel(struct page *pg, struct html *h, const char *panel, const char *title, const char *kind,
		      const char *none, json_t **items)
{
	html_fmt(h, "<section class=\"panel\" id=\"%s-panel\"><div class=\"panel-head\"><h2>%s</h2>"
		    "<a class=\"button small\" href=\"/orgs/", panel, title);
	html_url(h, pg->org);
	html_fmt(h, "/new?kind=%s\">New</a></div>", kind);
	if (!ag_list(pg, kind, items) && json_array_size(*items))
		return 1;
	html_fmt(h, "<p class=\"empty-state\">No %s yet.</p></section>\n", none);
	json_decref(*items);
	*items = NULL;
	return 0;
}

/* The start of a row named name: its data-name and its name cell. */
static void name_cell(struct page *pg, struct html *h, const char *kind, const char *name)
{
	html_raw(h, "<tr data-name=\"");
	html_text(h, name);
	html_raw(h, "\"><td class=\"name\">");
	resource_link(pg, h, kind, name);
}

/* Secrets or ConfigMaps: name, key names, description. Only spec.keys is
 * read; spec.sealed stays untouched. */
static void value_holders(struct page *pg, struct html *h, const char *kind, const char *id, const char *title)
{
	json_t *items = NULL, *o, *k;
	size_t i, j;

	if (!list_panel(pg, h, id, title, kind, title, &items))
		return;
	html_fmt(h, "<div class=\"table-wrap\"><table id=\"%s\" class=\"data\"><thead><tr><th scope=\"col\">Name</th>"
		    "<th scope=\"col\">Keys</th><th scope=\"col\">Description</th></tr></thead><tbody>\n", id);
	json_array_foreach(items, i, o) {
		const char *name = rec_str(o, "metadata", "name");
		const char *desc = rec_str(o, "spec", "description");

		if (!name)
			continue;
		name_cell(pg, h, kind, name);
		html_raw(h, "</td><td class=\"keys\"><ul class=\"chips\">");
		json_array_foreach(json_object_get(json_object_get(o, "spec"), "keys"), j, k) {
			html_raw(h, "<li><code>");
			html_text(h, json_string_value(k));
			html_raw(h, "</code></li>");
		}
		html_raw(h, "</ul></td><td class=\"description\">");
		html_text(h, desc ? desc : "");
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
	json_decref(items);
}

static void grants(struct page *pg, struct html *h, int secret)
{
	const char *kind = secret ? "AgentSecretGrant" : "AgentConfigGrant";
	json_t *items = NULL, *g;
	size_t i;

	if (!list_panel(pg, h, secret ? "secret-grants" : "config-grants", secret ? "Secret grants" : "Config grants",
			kind, secret ? "AgentSecretGrant objects" : "AgentConfigGrant objects", &items))
		return;
	html_fmt(h, "<div class=\"table-wrap\"><table id=\"%s\" class=\"data\"><thead><tr><th scope=\"col\">Name</th>"
		    "<th scope=\"col\">Subject</th><th scope=\"col\">%s</th><th scope=\"col\">Purpose</th>"
		    "<th scope=\"col\">Repositories</th>%s<th scope=\"col\">Phase</th></tr></thead><tbody>\n",
		 secret ? "secret-grant-list" : "config-grant-list", secret ? "Secret" : "Config map",
		 secret ? "<th scope=\"col\">Refs</th><th scope=\"col\">Approval</th>" : "");
	json_array_foreach(items, i, g) {
		json_t *spec = json_object_get(g, "spec");
		const char *name = rec_str(g, "metadata", "name");

		if (!name)
			continue;
		name_cell(pg, h, kind, name);
		html_raw(h, "</td><td>");
		ag_ref(h, json_object_get(spec, "subject"));
		html_raw(h, "</td><td><code>");
		ag_ref(h, json_object_get(spec, secret ? "secretRef" : "configMapRef"));
		html_raw(h, "</code></td><td>");
		html_text(h, json_string_value(json_object_get(spec, "purpose")));
		html_raw(h, "</td><td>");
		chips(h, json_object_get(spec, "allowedRepositories"));
		if (secret) {
			html_raw(h, "</td><td>");
			chips(h, json_object_get(spec, "allowedRefs"));
			html_raw(h, "</td><td>");
			html_text(h, json_string_value(json_object_get(spec, "requiredApproval")) ?: "never");
		}
		html_raw(h, "</td><td class=\"phase\">");
		ag_phase(h, rec_str(g, "status", "phase"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
	json_decref(items);
}

int page_agent_grants(struct page *pg)
{
	struct html h;

	html_init(&h);
	ag_begin(pg, &h, "Secrets and grants", "grants", "Grants", "grants", NULL);
	html_raw(&h, "<div class=\"page-head\"><h1>Secrets and grants</h1><p class=\"lead\">The org's secrets and "
		     "config maps, and which agents may use them for what. Values are sealed on write and never "
		     "shown.</p></div>\n<div class=\"grid-2\"><div class=\"stack\">");
	value_holders(pg, &h, "Secret", "secret-list", "Secrets");
	html_raw(&h, "</div><div class=\"stack\">");
	value_holders(pg, &h, "ConfigMap", "configmap-list", "Config maps");
	html_raw(&h, "</div></div>\n");
	grants(pg, &h, 1);
	grants(pg, &h, 0);
	layout_end(&h);
	return page_send(pg, &h, 200);
}
