/* The web console: server-rendered HTML pages under /, /login, /orgs/...,
 * and /static/. It reads through the store and writes through the API's
 * write path, so pages see and change exactly what the API does. */
#ifndef KRATE_WEB_H
#define KRATE_WEB_H

#include "api/api.h"
#include "core/err.h"
#include "http/server.h"

struct web;

int web_create(struct api *api, struct web **out, struct kerr *e);
void web_destroy(struct web *w);
/* 1 for the console's paths: everything except /api..., /healthz, /readyz, /metrics. */
int web_owns_path(const char *path);
/* http_handler_fn for console paths (arg = struct web). */
int web_handle(struct http_req *r, void *web);

#endif
