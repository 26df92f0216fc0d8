#include "http/server.h"
#include "core/log.h"
#include "core/util.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct header {
	char *name;
	char *value;
	struct header *next;
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_server_options opt;
	int port;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned pending;          /* deferred requests and open streams */
	int stopping;
};

enum req_state { REQ_READING, REQ_HANDLED, REQ_DEFERRED, REQ_STREAMING };

struct http_req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	struct buf body;
	int too_big;
	int sink_failed;
	int has_sink;
	struct http_sink sink;
	size_t sink_len;
	enum req_state state;
	char correlation_id[24];
	char client_addr[INET6_ADDRSTRLEN];
	int route_id;
	uint64_t started_ns;
	int status;
	/* the prepared response, queued on the next handler call */
	struct MHD_Response *response;
	struct header *headers;
	/* deferred completion */
	pthread_mutex_t lock;
	int completed;
	int suspended;
	void *data;
	void (*data_free)(void *);
	struct http_stream *stream;
};

struct http_stream {
	struct http_req *req;
	struct MHD_Connection *conn;
	struct http_server *srv;
	struct http_stream_ops ops;
	void *arg;
	pthread_mutex_t lock;
	int suspended;
	int wake_pending;
};

static __thread uint64_t corr_state;

static void make_correlation_id(char out[24])
{
	uint64_t x;

	if (!corr_state) {
		if (util_random_bytes(&corr_state, sizeof(corr_state)) || !corr_state)
			corr_state = util_monotonic_ns() | 1;
	}
	/* xorshift64*: ids only need to be unique, not secret */
	x = corr_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	corr_state = x;
	x *= 0x2545F4914F6CDD1DULL;
	snprintf(out, 24, "krate-%016llx", (unsigned long long)x);
}

const char *http_req_method(const struct http_req *r) { return r->method; }
const char *http_req_path(const struct http_req *r) { return r->path; }
const char *http_req_correlation_id(const struct http_req *r) { return r->correlation_id; }
const char *http_req_client_addr(const struct http_req *r) { return r->client_addr; }

static void read_client_addr(struct MHD_Connection *conn, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size);
}
void http_req_set_route(struct http_req *r, int route_id) { r->route_id = route_id; }
void *http_req_data(const struct http_req *r) { return r->data; }

const char *http_req_query(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_header(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_cookie(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *http_req_body(const struct http_req *r, size_t *len)
{
	if (len)
		*len = r->body.len;
	return r->body.data ? r->body.data : "";
}

void http_req_set_data(struct http_req *r, void *data, void (*free_fn)(void *))
{
	if (r->data && r->data_free)
		r->data_free(r->data);
	r->data = data;
	r->data_free = free_fn;
}

int http_add_header(struct http_req *r, const char *name, const char *value)
{
	struct header *h = calloc(1, sizeof(*h));

	if (!h)
		return KE_NOMEM;
	h->name = strdup(name);
	h->value = strdup(value);
	if (!h->name || !h->value) {
		free(h->name);
		free(h->value);
		free(h);
		return KE_NOMEM;
	}
	h->next = r->headers;
	r->headers = h;
	return 0;
}

static void apply_headers(struct http_req *r, struct MHD_Response *resp)
{
	struct header *h;

	for (h = r->headers; h; h = h->next)
		MHD_add_response_header(resp, h->name, h->value);
	MHD_add_response_header(resp, "X-Correlation-Id", r->correlation_id);
	/* Everything this server answers is live state: never cache it. */
	MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static int set_response(struct http_req *r, int status, const char *ctype, struct MHD_Response *resp)
{
	if (!resp)
		return KE_NOMEM;
	if (r->response)
		MHD_destroy_response(r->response);
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	apply_headers(r, resp);
	r->response = resp;
	r->status = status;
	return 0;
}

int http_respond_owned(struct http_req *r, int status, const char *ctype, char *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

	if (!resp) {
		free(body);
		return KE_NOMEM;
	}
	return set_response(r, status, ctype, resp);
}

int http_respond_copy(struct http_req *r, int status, const char *ctype, const char *body, size_t len)
{
	return set_response(r, status, ctype,
			    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY));
}

int http_respond_json(struct http_req *r, int status, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (!text)
		return http_respond_copy(r, 500, "application/json",
					 "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"out of memory\"}}", 55);
	return http_respond_owned(r, status, "application/json", text, strlen(text));
}

int http_respond_error(struct http_req *r, const struct kerr *e)
{
	int status = kerr_http_status(e->kcode ? e->kcode : KE_INTERNAL);

	return http_respond_json(r, status, kerr_envelope(e, r->correlation_id));
}

int http_respond_errorf(struct http_req *r, int kcode, const char *code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = http_respond_verrorf(r, kcode, code, fmt, ap);
	va_end(ap);
	return rc;
}

int http_respond_verrorf(struct http_req *r, int kcode, const char *code, const char *fmt, va_list ap)
{
	struct kerr e = KERR_INIT;
	struct buf msg = BUF_INIT(4096);
	int rc;

	buf_vprintf(&msg, fmt, ap);
	kerr_set(&e, kcode, code, "%s", msg.data ? msg.data : "error");
	buf_free(&msg);
	rc = http_respond_error(r, &e);
	kerr_clear(&e);
	return rc;
}

static void server_hold(struct http_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->pending++;
	pthread_mutex_unlock(&s->lock);
}

static void server_release(struct http_server *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->pending)
		s->pending--;
	if (!s->pending)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

void http_complete(struct http_req *r)
{
	struct MHD_Connection *conn;
	int resume;

	pthread_mutex_lock(&r->lock);
	r->completed = 1;
	resume = r->suspended;
	r->suspended = 0;
	conn = r->conn;
	pthread_mutex_unlock(&r->lock);
	/* Once resumed (or, when never suspended, once unlocked) the server may
	 * finish and free r at any moment: r is not touched past this point. */
	if (resume)
		MHD_resume_connection(conn);
}

/* ---- streams ---- */

static ssize_t stream_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_stream *st = cls;
	long n;

	(void)pos;
	for (;;) {
		n = st->ops.read(st->arg, out, max);
		if (n < 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (n > 0)
			return (ssize_t)n;
		pthread_mutex_lock(&st->lock);
		if (st->wake_pending) {
			st->wake_pending = 0;
			pthread_mutex_unlock(&st->lock);
			continue;
		}
		st->suspended = 1;
		MHD_suspend_connection(st->conn);
		pthread_mutex_unlock(&st->lock);
		return 0;
	}
}

static void stream_free(void *cls)
{
	struct http_stream *st = cls;
	struct http_server *srv = st->srv;

	st->ops.release(st->arg);
	pthread_mutex_destroy(&st->lock);
	free(st);
	server_release(srv);
}

void http_stream_wake(struct http_stream *st)
{
	pthread_mutex_lock(&st->lock);
	if (st->suspended) {
		st->suspended = 0;
		MHD_resume_connection(st->conn);
	} else {
		st->wake_pending = 1;
	}
	pthread_mutex_unlock(&st->lock);
}

int http_stream_start(struct http_req *r, const char *ctype, const struct http_stream_ops *ops,
		      void *arg, struct http_stream **out)
{
	return http_stream_start_status(r, 200, ctype, ops, arg, out);
}

int http_stream_start_status(struct http_req *r, int status, const char *ctype,
			     const struct http_stream_ops *ops, void *arg, struct http_stream **out)
{
	struct http_stream *st = calloc(1, sizeof(*st));
	struct MHD_Response *resp;

	if (!st)
		return KE_NOMEM;
	st->req = r;
	st->conn = r->conn;
	st->srv = r->srv;
	st->ops = *ops;
	st->arg = arg;
	pthread_mutex_init(&st->lock, NULL);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_reader, st, stream_free);
	if (!resp) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		return KE_NOMEM;
	}
	server_hold(r->srv);
	set_response(r, status, ctype, resp);
	r->stream = st;
	/* A deferred request keeps its state: its response is queued on resume. */
	pthread_mutex_lock(&r->lock);
	if (r->state != REQ_DEFERRED)
		r->state = REQ_STREAMING;
	pthread_mutex_unlock(&r->lock);
	if (out)
		*out = st;
	return HTTP_STREAM;
}

/* ---- MHD callbacks ---- */

static enum MHD_Result queue_prepared(struct http_req *r)
{
	enum MHD_Result ret;

	if (!r->response)
		http_respond_errorf(r, KE_INTERNAL, NULL, "handler produced no response");
	ret = MHD_queue_response(r->conn, (unsigned)r->status, r->response);
	MHD_destroy_response(r->response);
	r->response = NULL;
	return ret;
}

/* Returns 1 when the connection was suspended to wait for http_complete():
 * the response is then queued on the call that follows the resume. */
static int dispatch(struct http_server *s, struct http_req *r)
{
	int rc, suspended = 0;

	if (r->too_big) {
		http_respond_errorf(r, KE_TOOBIG, NULL, "request body exceeds the limit of %zu bytes",
				    r->has_sink ? r->sink.max : s->opt.body_max);
		r->state = REQ_HANDLED;
		return 0;
	}
	if (r->sink_failed) {
		http_respond_errorf(r, KE_IO, NULL, "cannot store the request body");
		r->state = REQ_HANDLED;
		return 0;
	}
	rc = s->opt.handler(r, s->opt.app);
	if (rc == HTTP_DEFER) {
		server_hold(s);
		pthread_mutex_lock(&r->lock);
		r->state = REQ_DEFERRED;
		if (!r->completed) {
			r->suspended = 1;
			suspended = 1;
			MHD_suspend_connection(r->conn);
		}
		pthread_mutex_unlock(&r->lock);
		return suspended;
	}
	if (rc != HTTP_STREAM)
		r->state = REQ_HANDLED;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_req *r = *con_cls;

	(void)version;
	if (!r) {
		/* Queue nothing on the first call: MHD 0.9.75 would drop keep-alive. */
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->srv = s;
		r->conn = conn;
		r->method = method;
		r->path = url;
		r->route_id = -1;
		r->started_ns = util_monotonic_ns();
		buf_init(&r->body, s->opt.body_max + 1);
		pthread_mutex_init(&r->lock, NULL);
		make_correlation_id(r->correlation_id);
		read_client_addr(conn, r->client_addr, sizeof(r->client_addr));
		*con_cls = r;
		if (s->opt.upload_sink && s->opt.upload_sink(r, s->opt.app, &r->sink) == 1)
			r->has_sink = 1;
		return MHD_YES;
	}
	switch (r->state) {
	case REQ_READING:
		if (*upload_size && r->has_sink) {
			if (!r->too_big && !r->sink_failed) {
				if (*upload_size > r->sink.max - r->sink_len)
					r->too_big = 1;
				else if (r->sink.write(r->sink.arg, upload, *upload_size))
					r->sink_failed = 1;
				else
					r->sink_len += *upload_size;
			}
			*upload_size = 0;
			return MHD_YES;
		}
		if (*upload_size) {
			if (!r->too_big && buf_add(&r->body, upload, *upload_size))
				r->too_big = 1;
			*upload_size = 0;
			return MHD_YES;
		}
		if (dispatch(s, r))
			return MHD_YES;
		return queue_prepared(r);
	case REQ_DEFERRED:
		/* resumed after http_complete() */
		return queue_prepared(r);
	default:
		return MHD_YES;
	}
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_req *r = *con_cls;
	struct header *h, *next;

	(void)conn;
	(void)toe;
	if (!r)
		return;
	if (s->opt.observe && r->state != REQ_READING)
		s->opt.observe(r->route_id, r->status, util_monotonic_ns() - r->started_ns, s->opt.app);
	if (r->state == REQ_DEFERRED)
		server_release(s);
	if (r->response)
		MHD_destroy_response(r->response);
	for (h = r->headers; h; h = next) {
		next = h->next;
		free(h->name);
		free(h->value);
		free(h);
	}
	if (r->data && r->data_free)
		r->data_free(r->data);
	buf_free(&r->body);
	pthread_mutex_destroy(&r->lock);
	free(r);
	*con_cls = NULL;
}

static void on_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
	(void)cls;
	log_error("libmicrohttpd panic at %s:%u: %s", file ? file : "?", line, reason ? reason : "");
	_exit(70);
}

int http_server_start(const struct http_server_options *o, struct http_server **out, struct kerr *e)
{
	struct http_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *info;
	unsigned threads = o->threads;

	if (!s)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	s->opt = *o;
	if (!s->opt.conn_limit)
		s->opt.conn_limit = 10000;
	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1) {
		free(s);
		return kerr_set(e, KE_INVALID, NULL, "listen address '%s' is not an IPv4 address", o->host);
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	MHD_set_panic_func(on_panic, NULL);
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO,
				     0, NULL, NULL, on_request, s,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				     MHD_OPTION_THREAD_POOL_SIZE, threads,
				     MHD_OPTION_CONNECTION_LIMIT, s->opt.conn_limit,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
				     /* MHD clears the pool per request: 16 KiB holds any sane
				      * header set at half the cost of the 32 KiB default */
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
				     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				     MHD_OPTION_END);
	if (!s->daemon) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->idle);
		free(s);
		return kerr_set(e, KE_IO, NULL, "cannot listen on %s:%d", o->host, o->port);
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : o->port;
	*out = s;
	return 0;
}

int http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s)
{
	struct timespec ts;

	if (!s)
		return;
	MHD_quiesce_daemon(s->daemon);
	/* Suspended connections make MHD_stop_daemon panic: wait until the
	 * application has completed deferred requests and ended its streams. */
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	while (s->pending)
		if (pthread_cond_timedwait(&s->idle, &s->lock, &ts))
			break;
	pthread_mutex_unlock(&s->lock);
	if (s->pending) {
		log_warn("%u requests still pending at shutdown", s->pending);
		return;
	}
	MHD_stop_daemon(s->daemon);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idle);
	free(s);
}
