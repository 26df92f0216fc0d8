/* Helpers shared by the pull request and issue route files. Internal to the API. */
#ifndef KRATE_API_PULLS_H
#define KRATE_API_PULLS_H

#include "api/records.h"

/* Responds with e (cleared) and returns HTTP_DONE. */
int pulls_fail(struct http_req *r, struct kerr *e);
/* Answers a route: obj (stolen) with status when rc is 0, else e (cleared). */
int pulls_answer(struct http_req *r, int rc, int status, json_t *obj, struct kerr *e);
/* 0 when p may write forge records, else KE_FORBIDDEN naming what. */
int pulls_need_writer(const struct principal *p, const char *what, struct kerr *e);
/* obj[part][key] as a string, or NULL. */
const char *pulls_str(json_t *obj, const char *part, const char *key);
/* The request body as a JSON object (new ref), or NULL when it is not one. */
json_t *pulls_body(struct http_req *r);
/* 0 when req is a JSON object, else 400 INVALID_JSON: the routes' bodies. */
int pulls_need_body(json_t *req, struct kerr *e);
/* A branch name or full ref from v into out as a full ref; 422 when invalid. */
int pulls_full_ref(json_t *v, const char *field, char *out, size_t size, struct kerr *e);
/* The webhook payload describing pr (new ref). */
json_t *pulls_payload(const struct repo_ctx *c, json_t *pr, const char *sender);
/* Recomputes an open pull request's mergeability and stores it when it
 * changed; *pr is replaced by the stored object. */
int pulls_refresh(struct api *a, const struct repo_ctx *c, json_t **pr, struct kerr *e);

/* The objects of all that keep accepts (given arg), sorted by cmp, as a new
 * array in *items; all is released either way. 0 or KE_NOMEM. */
int pulls_select(json_t *all, int (*keep)(json_t *o, const char *arg), const char *arg,
		 int (*cmp)(const void *, const void *), json_t **items, struct kerr *e);

#endif
