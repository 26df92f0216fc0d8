/* HTTP server on libmicrohttpd: request lifecycle, responses, deferred
 * (asynchronous) responses and long-lived streams.
 *
 * One MHD daemon with an internal epoll thread pool. The application supplies
 * one handler; it is called once per request after the whole body arrived
 * (bodies over body_max are answered 413 without calling it). The handler
 * either responds at once (HTTP_DONE), promises a response from another
 * thread (HTTP_DEFER + http_complete), or turns the request into a stream
 * (HTTP_STREAM via http_stream_start). Deferred and streaming requests do not
 * hold a thread while they wait: the connection is suspended.
 *
 * Ownership: the server owns every struct http_req and frees it when the
 * connection is done with it; handlers must not keep a pointer past
 * http_complete() or the stream's free callback. */
#ifndef KRATE_HTTP_SERVER_H
#define KRATE_HTTP_SERVER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"

struct http_server;
struct http_req;
struct http_stream;

enum http_result { HTTP_DONE = 0, HTTP_DEFER = 1, HTTP_STREAM = 2 };

typedef int (*http_handler_fn)(struct http_req *r, void *app);
/* Called when a request finished (route id as set by the handler, final status). */
typedef void (*http_observe_fn)(int route_id, int status, uint64_t nanos, void *app);

/* Where a request body goes instead of memory: write() gets each chunk as it
 * arrives (0 or a negative KE_* code); bodies over max are answered 413. arg
 * belongs to the application (attach it with http_req_set_data). */
struct http_sink {
	int (*write)(void *arg, const char *data, size_t len);
	void *arg;
	size_t max;
};
/* Called once per request when method, path and headers are known, before any
 * body byte: fill *out and return 1 to stream the body to a sink, or return 0
 * to buffer it in memory under body_max as usual. */
typedef int (*http_sink_fn)(struct http_req *r, void *app, struct http_sink *out);

struct http_server_options {
	const char *host;        /* literal IPv4 address to bind, e.g. "127.0.0.1" */
	int port;                /* 0 = ephemeral */
	unsigned threads;        /* 0 = number of CPUs */
	size_t body_max;         /* request body cap in bytes */
	unsigned conn_limit;     /* 0 = 10000 */
	http_handler_fn handler;
	http_observe_fn observe; /* may be NULL */
	http_sink_fn upload_sink; /* may be NULL: every body is buffered */
	void *app;
};

int http_server_start(const struct http_server_options *o, struct http_server **out, struct kerr *e);
/* The bound port (useful with port 0). */
int http_server_port(const struct http_server *s);
/* Ends every stream, waits for deferred requests, stops the daemon, frees s. */
void http_server_stop(struct http_server *s);

/* ---- request ---- */
const char *http_req_method(const struct http_req *r);
/* The path without the query string, percent-decoded by MHD. */
const char *http_req_path(const struct http_req *r);
const char *http_req_query(const struct http_req *r, const char *name);
const char *http_req_header(const struct http_req *r, const char *name);
/* The value of the request's cookie name (from the Cookie header), or NULL. */
const char *http_req_cookie(const struct http_req *r, const char *name);
const char *http_req_body(const struct http_req *r, size_t *len);
const char *http_req_correlation_id(const struct http_req *r);
/* The peer's IP address as text ("127.0.0.1"); "" if unknown. */
const char *http_req_client_addr(const struct http_req *r);
/* The route id reported to observe(); set by the handler (default -1). */
void http_req_set_route(struct http_req *r, int route_id);
/* Application data attached to the request, freed by the given function (may be NULL)
 * when the request ends. */
void http_req_set_data(struct http_req *r, void *data, void (*free_fn)(void *));
void *http_req_data(const struct http_req *r);

/* ---- responses (exactly one per request) ---- */
/* Adds a response header (copied); call before responding. */
int http_add_header(struct http_req *r, const char *name, const char *value);
/* Takes ownership of body (malloc'd). */
int http_respond_owned(struct http_req *r, int status, const char *content_type, char *body, size_t len);
int http_respond_copy(struct http_req *r, int status, const char *content_type, const char *body, size_t len);
/* Serialises v (reference stolen) as JSON. */
int http_respond_json(struct http_req *r, int status, json_t *v);
/* The error envelope with the request's correlation id. */
int http_respond_error(struct http_req *r, const struct kerr *e);
int http_respond_errorf(struct http_req *r, int kcode, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int http_respond_verrorf(struct http_req *r, int kcode, const char *code, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* For HTTP_DEFER: respond with one of the http_respond_* calls, then call
 * http_complete() from any thread. The request must not be touched after. */
void http_complete(struct http_req *r);

/* ---- streams ---- */
struct http_stream_ops {
	/* Fill up to max bytes; return the count, 0 when nothing is ready now (the
	 * connection is suspended until http_stream_wake), or -1 to end the stream.
	 * Runs on a server thread under the stream's lock; must not block. */
	long (*read)(void *arg, char *out, size_t max);
	/* The client went away or the stream ended; release arg. */
	void (*release)(void *arg);
};

/* Starts a chunked response of unknown length; returns HTTP_STREAM or a
 * negative KE_* code (then nothing was sent and ops->release is not called).
 * A deferred request may start its stream from another thread instead of
 * responding, then call http_complete(). */
int http_stream_start(struct http_req *r, const char *content_type,
		      const struct http_stream_ops *ops, void *arg, struct http_stream **out);
/* The same with a status other than 200. */
int http_stream_start_status(struct http_req *r, int status, const char *content_type,
			     const struct http_stream_ops *ops, void *arg, struct http_stream **out);
/* Resumes a suspended stream so read() is called again; safe from any thread
 * until release() has been called. */
void http_stream_wake(struct http_stream *st);

#endif
