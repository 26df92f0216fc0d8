/* Shared between the repository pages (page_repo*.c): one repository of the
 * page's org, read through api_browse with the session's principal, so the
 * console sees exactly what GET /api/orgs/{org}/repositories/{repo}/... does.
 * Everything from git (names, paths, messages, content) is untrusted text. */
#ifndef KRATE_WEB_PAGE_REPO_H
#define KRATE_WEB_PAGE_REPO_H

#include "web_internal.h"

/* The repository a page shows. Owns obj and the buffers (repo_view_free). */
struct repo_view {
	struct page *pg;
	const char *name;        /* the {repo} of the URL, a DNS label (borrowed) */
	json_t *obj;             /* the Repository object */
	struct buf base;         /* "/orgs/{org}/repos/{repo}" */
	struct buf api;          /* "/api/orgs/{org}/repositories/{repo}" */
};

/* KE_NOTFOUND when the Repository does not exist in pg's org. */
int repo_view_load(struct page *pg, const char *name, struct repo_view *v);
void repo_view_free(struct repo_view *v);
/* spec.<key> of the Repository, or dflt. */
const char *repo_spec(const struct repo_view *v, const char *key, const char *dflt);

/* api_browse as the session's principal (page: the commits page, else 0);
 * *out is a new reference. Refused refs and paths (KE_INVALID) come back as
 * KE_NOTFOUND: a bad link. */
int repo_browse(struct repo_view *v, enum api_browse_op op, const char *ref, const char *path, long page,
		json_t **out);
/* Tree or blob at segs[0..n): a ref then a path. A ref may contain '/', so
 * the first k segments are tried as the ref for k = 1, 2, ... (GitHub's
 * rule); ref and path (empty at a tree's root) get the split that answered. */
int repo_browse_at(struct repo_view *v, enum api_browse_op op, const char *const *segs, int n, struct buf *ref,
		   struct buf *path, json_t **out);

/* The layout, the repository's header and tabs (tab: "code", "commits",
 * "branches", "tags", "pulls", "issues"); crumb is the last breadcrumb after the repository, or
 * NULL on its home page. */
void repo_begin(struct repo_view *v, struct html *h, const char *title, const char *tab, const char *crumb);

/* base + "/" + what (a fixed word) [+ "/" + ref] [+ "/" + path], URL-encoded
 * ('/' kept in ref and path). */
void repo_href(struct html *h, const struct repo_view *v, const char *what, const char *ref, const char *path);
/* <time> with a relative age ("3d ago") for Unix seconds t. */
void repo_time(struct html *h, json_int_t t);
/* A link to the commit page showing the first 7 hex digits of sha. */
void repo_sha_link(struct html *h, const struct repo_view *v, const char *sha);
/* "512 B", "1.5 KiB", "2.0 MiB". */
void repo_size(struct html *h, json_int_t bytes);

/* page_repo_tree.c: a tree's entries as table#tree (dirs link to tree
 * pages, files to blob pages); parent is 1 to lead with a ".." row. */
void repo_render_entries(struct repo_view *v, struct html *h, const char *ref, const char *path, json_t *entries,
			 int parent);
/* The directory's README (README.md, readme.md, README, ...) if entries
 * have one, rendered into section#readme; Markdown through markdown_to_html. */
void repo_render_readme(struct repo_view *v, struct html *h, const char *ref, json_t *entries);
/* Markdown text of a file at dir (NULL: the root) rendered with relative links
 * pointing into the repository at ref; 0 or KE_*. */
int repo_markdown(struct repo_view *v, struct html *h, const char *ref, const char *dir, const char *text,
		  size_t len);
/* The branch picker (details#ref-picker) linking each branch to what
 * (tree/commits) at path. */
void repo_ref_picker(struct repo_view *v, struct html *h, const char *what, const char *ref, const char *path);
/* Path breadcrumbs (nav.path-crumbs) for path at ref; the last is plain text. */
void repo_path_crumbs(struct repo_view *v, struct html *h, const char *ref, const char *path);

/* ---- pages: 0 after responding, or a KE_* code (the router answers it) ---- */
int page_repos(struct page *pg);
int page_repo_home(struct repo_view *v);
int page_repo_tree(struct repo_view *v, const char *const *segs, int n);
int page_repo_blob(struct repo_view *v, const char *const *segs, int n);
int page_repo_commits(struct repo_view *v, const char *const *segs, int n);
int page_repo_commit(struct repo_view *v, const char *sha);
/* Branches (tags 0) or tags (tags 1). */
int page_repo_refs(struct repo_view *v, int tags);

#endif
