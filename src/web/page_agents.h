/* Shared between the agent pages (page_agents*.c): stacks with their
 * readiness and permission review, grants, dispatch, runs with their live
 * transcript, and approvals, all under /orgs/{org}/agents/. They read runs,
 * approvals and artifact content through the API's read calls and the other
 * objects from the store, and write through the API's synchronous calls
 * (api_internal.h), so the console is checked, refused and audited exactly as
 * the HTTP routes are. Every text of an agent object is untrusted; Secret and
 * ConfigMap values are never read. */
#ifndef KRATE_WEB_PAGE_AGENTS_H
#define KRATE_WEB_PAGE_AGENTS_H

#include "page_records.h"

/* Objects of one kind a page reads at most (lists are cut there). */
#define AG_LIST_MAX 2000
/* Longest prompt a dispatch form takes, and other posted fields. */
#define AG_PROMPT_MAX (64u * 1024u)
#define AG_FIELD_MAX 1024u
#define AG_YAML_MAX (64u * 1024u)

/* Loads kind/name of the page's org (new ref in *out); KE_NOTFOUND if absent. */
int ag_load(struct page *pg, const char *kind, const char *name, json_t **out);
/* Every object of kind in the page's org, at most AG_LIST_MAX, as an array
 * (new ref in *out). */
int ag_list(struct page *pg, const char *kind, json_t **out);

/* The layout with breadcrumbs Organizations / org / Agents / section [/ leaf]:
 * section is the sidebar slug (stacks, grants, dispatch-runs, approvals), its
 * label and list URL tail ("stacks", "runs"...); leaf the current object or
 * NULL. */
void ag_begin(struct page *pg, struct html *h, const char *title, const char *nav, const char *label,
	      const char *tail, const char *leaf);
/* "/orgs/{org}/agents/" + tail [+ "/" + name] into the page (URL-encoded). */
void ag_href(struct html *h, struct page *pg, const char *tail, const char *name);
/* The same into b (for Location headers). */
int ag_href_buf(struct buf *b, struct page *pg, const char *tail, const char *name);

/* A reference that is a string or an object ({name, key, kind...}) as text. */
void ag_ref(struct html *h, json_t *v);
/* The conditions of status as table#id: type, status, reason, message,
 * last transition (rows tr[data-type][data-status]). */
void ag_conditions(struct html *h, json_t *status, const char *id);
/* span.badge[data-phase] with the phase, or "Unknown". */
void ag_phase(struct html *h, const char *phase);
/* A digest ("sha256:<hex>") as code with the first 12 hex shown, the whole in the title. */
void ag_digest(struct html *h, const char *digest);
/* 1 if s is a run action: cancel, retry, resume, fork or continue. */
int ag_run_action(const char *s);
/* The hidden csrf input of the session. */
void ag_csrf(struct page *pg, struct html *h);

/* ---- pages: 0 after responding, or a KE_* code (the router answers it) ---- */
int page_agent_stacks(struct page *pg);
int page_agent_stack(struct page *pg, const char *name);
/* POST .../stacks/{name}/grant: applies one YAML preview of the review. */
int page_agent_stack_grant(struct page *pg, const char *name);
int page_agent_grants(struct page *pg);
int page_agent_runs(struct page *pg);
int page_agent_run(struct page *pg, const char *name);
/* POST .../runs/{run}/{cancel|retry|resume|fork|continue}. */
int page_agent_run_action(struct page *pg, const char *name, const char *action);
/* GET .../runs/{run}/artifacts/{artifact}: the artifact's content. */
int page_agent_artifact(struct page *pg, const char *run, const char *name);
/* GET (post 0) and POST of /orgs/{org}/agents/runs/new. */
int page_agent_dispatch(struct page *pg, int post);
int page_agent_approvals(struct page *pg);
/* POST .../approvals/{name}/decision. */
int page_agent_approval_decide(struct page *pg, const char *name);

#endif
