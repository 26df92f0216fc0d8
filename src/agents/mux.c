/* The Agent Mux adapter (see mux.h): the HTTP calls, the event loop with its
 * reconnects, and the mapping of gateway events to transcript entries. */
#include "agents/mux.h"
#include "agents/mux_sse.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MUX_BODY_MAX (1024u * 1024u)
#define MUX_URL_MAX 8192u
#define MUX_DEFAULT_TIMEOUT_S 600
#define MUX_MAX_TIMEOUT_S (7 * 24 * 3600)

struct cfg {
	const char *base;
	size_t base_len;             /* without trailing '/' */
	int base_ms, max_ms, timeout_ms;
	uint64_t idle_ns;
};

/* What makes a transfer give up early: the caller's cancel flag, the
 * attempt's deadline, and for the event stream a silence longer than idle_ns. */
struct watch {
	const atomic_int *cancel;
	uint64_t deadline_ns;        /* 0: none */
	uint64_t idle_ns;            /* 0: none */
	uint64_t last_data_ns;
	const struct mux_sink *sink; /* ticked while a session runs, else NULL */
	uint64_t next_tick_ns;
	int tick_rc;                 /* the sink's tick failed: stop */
};

static int settings(const struct mux_options *o, struct cfg *c, struct kerr *e)
{
	const char *u = o ? o->gateway_url : NULL;

	/* paths are appended to it, so a query or fragment would swallow them */
	if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) || strpbrk(u, "?# \t\r\n"))
		return kerr_set(e, KE_UNAVAILABLE, "Unavailable",
				"no usable Agent Mux gateway URL (http or https, without query) is configured");
	c->base = u;
	c->base_len = strlen(u);
	while (c->base_len && u[c->base_len - 1] == '/')
		c->base_len--;
	c->base_ms = o->backoff_base_ms > 0 ? o->backoff_base_ms : 1000;
	c->max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 30000;
	if (c->max_ms < c->base_ms)
		c->max_ms = c->base_ms;
	c->timeout_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : 30000;
	c->idle_ns = (uint64_t)(o->idle_timeout_s > 0 ? o->idle_timeout_s : 120) * 1000000000u;
	return 0;
}

static int stopped(const struct watch *w)
{
	return w && ((w->cancel && atomic_load(w->cancel)) ||
		     (w->deadline_ns && util_monotonic_ns() >= w->deadline_ns));
}

/* Lets the sink write what it buffered, at most every MUX_TICK_MS; 1 when it failed. */
static int tick(struct watch *w)
{
	uint64_t now = util_monotonic_ns();

	if (!w->sink || !w->sink->tick || w->tick_rc || now < w->next_tick_ns)
		return w->tick_rc != 0;
	w->next_tick_ns = now + (uint64_t)MUX_TICK_MS * 1000000u;
	w->tick_rc = w->sink->tick(w->sink->ctx);
	return w->tick_rc != 0;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct watch *w = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (stopped(w) || tick(w))
		return 1;
	return w->idle_ns && util_monotonic_ns() - w->last_data_ns > w->idle_ns;
}

/* Percent-encodes an id from the gateway or a stack for one path segment. */
static int add_segment(struct buf *u, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; !rc && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		    ch == '.' || ch == '_' || ch == '~')
			rc = buf_addch(u, (char)ch);
		else
			rc = buf_printf(u, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
	}
	return rc;
}

/* <gw>/api/v1/<path>[/<id><tail>] */
static int make_url(struct buf *u, const struct cfg *c, const char *path, const char *id, const char *tail)
{
	buf_reset(u);
	if (buf_add(u, c->base, c->base_len) || buf_printf(u, "/api/v1/%s", path))
		return KE_TOOBIG;
	if (id && (buf_addch(u, '/') || add_segment(u, id) || buf_addstr(u, tail)))
		return KE_TOOBIG;
	return 0;
}

static int add_header(struct curl_slist **h, const char *name, const char *value)
{
	struct buf b = BUF_INIT(1024);
	struct curl_slist *next = NULL;

	if (!buf_printf(&b, "%s: %s", name, value))
		next = curl_slist_append(*h, b.data);
	buf_free(&b);
	if (!next)
		return -1;
	*h = next;
	return 0;
}

static void common_options(CURL *h, const struct cfg *c, const char *url, struct curl_slist *hdr, struct watch *w)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	if (w) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	return buf_add(arg, p, size * n) ? 0 : size * n;
}

/* One request with a JSON body (or none) and a JSON answer. 0 when the
 * gateway answered (*status; *out = the answer when it is a JSON object, else
 * NULL), KE_UNAVAILABLE when it could not be asked. Neither the URL nor the
 * answer goes into e or the log: a URL may carry credentials. */
static int call(const struct cfg *c, const char *method, const char *url, json_t *body, const char *idem_key,
		struct watch *w, long *status, json_t **out, struct kerr *e)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	struct buf resp = BUF_INIT(MUX_BODY_MAX);
	char *text = NULL;
	CURLcode rc;
	int ret = 0;

	*status = 0;
	if (out)
		*out = NULL;
	if (!h || add_header(&hdr, "Accept", "application/json") || add_header(&hdr, "Expect", "") ||
	    (body && add_header(&hdr, "Content-Type", "application/json")) ||
	    (idem_key && add_header(&hdr, "Idempotency-Key", idem_key)) ||
	    (body && !(text = json_dumps(body, JSON_COMPACT)))) {
		ret = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto cleanup;
	}
	common_options(h, c, url, hdr, w);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body || !strcmp(method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text ? text : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(text ? strlen(text) : 0));
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	rc = curl_easy_perform(h);
	if (rc == CURLE_WRITE_ERROR) {
		ret = kerr_set(e, KE_UNAVAILABLE, "Unavailable", "the Agent Mux gateway's answer is over %u bytes",
			       MUX_BODY_MAX);
		goto cleanup;
	}
	if (rc != CURLE_OK) {
		ret = kerr_set(e, KE_UNAVAILABLE, "Unavailable", "the Agent Mux gateway could not be reached: %s",
			       curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (out && resp.len) {
		*out = json_loadb(resp.data, resp.len, 0, NULL);
		if (!json_is_object(*out)) {
			json_decref(*out);
			*out = NULL;
		}
	}
cleanup:
	free(text);
	buf_free(&resp);
	curl_slist_free_all(hdr);
	if (h)
		curl_easy_cleanup(h);
	return ret;
}

static const char *str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *name_of(json_t *obj)
{
	return str_of(json_object_get(obj, "metadata"), "name");
}

static void set_outcome(struct mux_outcome *o, const char *phase, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_outcome(struct mux_outcome *o, const char *phase, const char *reason, const char *fmt, ...)
{
	va_list ap;

	snprintf(o->phase, sizeof(o->phase), "%s", phase);
	snprintf(o->reason, sizeof(o->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
}

/* ---- event mapping ---- */

/* content|text|message as a string: JSON text when the gateway sent a value
 * of another type. NULL when there is none. */
static json_t *content_of(json_t *ev)
{
	static const char *const keys[] = { "content", "text", "message" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(ev, keys[i]);
		json_t *s;
		char *t;

		if (!v || json_is_null(v))
			continue;
		if (json_is_string(v))
			return json_string(json_string_value(v));
		t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		s = t ? json_string(t) : NULL;
		free(t);
		return s;
	}
	return NULL;
}

/* A count from the gateway; a negative one would take from the attempt's totals. */
static json_int_t int_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : json_is_real(v) ? (json_int_t)json_real_value(v) : 0;

	return n > 0 ? n : 0;
}

static json_t *usage_entry(json_t *ev)
{
	json_t *u = json_is_object(json_object_get(ev, "usage")) ? json_object_get(ev, "usage") : ev;
	json_int_t in = int_of(u, "inputTokens"), out = int_of(u, "outputTokens");
	json_int_t total = json_object_get(u, "totalTokens") ? int_of(u, "totalTokens") : in + out;

	double cost = json_number_value(json_object_get(u, "costUsd"));

	return json_pack("{s:s, s:I, s:I, s:I, s:f}", "type", "usage", "inputTokens", in, "outputTokens", out,
			 "totalTokens", total, "costUsd", cost > 0 ? cost : 0.0);
}

static int status_is(const char *s, const char *a, const char *b)
{
	return s && (!strcmp(s, a) || (b && !strcmp(s, b)));
}

/* A session status from the gateway to an end; 0 when it has not ended. */
static int status_end(const char *status, struct mux_outcome *end)
{
	if (status_is(status, "succeeded", "completed"))
		set_outcome(end, "Succeeded", "Succeeded", "the agent finished");
	else if (status_is(status, "failed", "error"))
		set_outcome(end, "Failed", "AgentFailed", "the Agent Mux session failed");
	else if (status_is(status, "cancelled", "canceled"))
		set_outcome(end, "Cancelled", "GatewayCancelled", "the Agent Mux gateway cancelled the session");
	else
		return 0;
	return 1;
}

int mux_event_map(json_t *ev, const char *name, json_t **entry, struct mux_outcome *end)
{
	const char *type = str_of(ev, "type"), *tool = str_of(ev, "name") ? str_of(ev, "name") : str_of(ev, "tool");
	const char *role = str_of(ev, "role");
	json_t *content, *in, *e = NULL;
	int terminal = 0, failed;

	*entry = NULL;
	if (!type)
		type = name && *name ? name : "message";
	if (!strcmp(type, "status"))
		return status_end(str_of(ev, "status"), end);
	if (!strcmp(type, "usage")) {
		e = usage_entry(ev);
		goto done;
	}
	content = content_of(ev);
	/* an event of another kind with nothing to read (a heartbeat, a
	 * bookkeeping notice) adds no entry */
	if (!content && strcmp(type, "tool_call") && strcmp(type, "tool_result") && strcmp(type, "report") &&
	    strcmp(type, "final") && strcmp(type, "error"))
		return 0;
	if (!content)
		content = json_string("");
	if (!content)
		return KE_NOMEM;
	if (!strcmp(type, "tool_call")) {
		in = json_object_get(ev, "input") ? json_object_get(ev, "input") : json_object_get(ev, "arguments");
		e = json_pack("{s:s, s:s, s:O}", "type", type, "name", tool ? tool : "", "input", in ? in : json_null());
	} else if (!strcmp(type, "tool_result") || !strcmp(type, "report")) {
		e = json_pack("{s:s, s:s, s:O}", "type", type, "name", tool ? tool : "", "content", content);
	} else if (!strcmp(type, "final")) {
		failed = status_is(str_of(ev, "status"), "failure", "failed") || status_is(str_of(ev, "status"), "error", NULL);
		e = json_pack("{s:s, s:O, s:s}", "type", type, "content", content, "status", failed ? "failure" : "success");
		if (failed)
			set_outcome(end, "Failed", "AgentFailed", "the agent reported failure");
		else
			set_outcome(end, "Succeeded", "Succeeded", "the agent finished");
		terminal = 1;
	} else if (!strcmp(type, "error")) {
		e = json_pack("{s:s, s:O}", "type", type, "content", content);
	} else {
		e = json_pack("{s:s, s:s, s:O}", "type", "message", "role",
			      role ? role : !strcmp(type, "message") ? "assistant" : type, "content", content);
	}
	json_decref(content);
done:
	if (!e)
		return KE_NOMEM;
	*entry = e;
	return terminal;
}

/* ---- calls ---- */

static int set_str(json_t *o, const char *key, const char *value)
{
	return value && *value ? json_object_set_new(o, key, json_string(value)) : 0;
}

/* The session request: names, digests and the redacted prompt, never a secret. */
static json_t *session_payload(const struct mux_request *q, const char *agent)
{
	json_t *rspec = json_object_get(q->run, "spec"), *aspec = json_object_get(q->attempt, "spec");
	json_t *p = json_object(), *ws = json_object(), *md = json_object(), *cb = json_object();
	const char *digest = str_of(aspec, "contextBundleDigest");
	int bad;

	bad = !p || !ws || !md || !cb || set_str(p, "agent", agent) ||
	      json_object_set_new(p, "prompt", json_string(q->prompt)) || set_str(p, "model", str_of(q->stack, "model")) ||
	      set_str(p, "systemPrompt", q->system_prompt) || set_str(p, "approvalMode", str_of(q->stack, "approvalMode")) ||
	      set_str(ws, "repository", str_of(rspec, "repository")) || set_str(ws, "ref", str_of(rspec, "ref")) ||
	      set_str(ws, "sha", str_of(rspec, "sha")) || set_str(cb, "digest", digest) ||
	      set_str(md, "krateDispatchRun", name_of(q->run)) || set_str(md, "krateAttempt", name_of(q->attempt)) ||
	      set_str(md, "repository", str_of(rspec, "repository")) || set_str(md, "sourceRef", str_of(rspec, "ref"));
	if (!bad) {
		bad = json_object_set(p, "workspace", ws) || json_object_set(p, "metadata", md) ||
		      (digest && json_object_set(p, "contextBundle", cb));
	}
	json_decref(ws);
	json_decref(md);
	json_decref(cb);
	if (bad) {
		json_decref(p);
		return NULL;
	}
	return p;
}

/* An id the gateway handed out, kept only when it fits and is printable. */
static int take_id(json_t *resp, const char *key, char out[MUX_ID_MAX])
{
	const char *v = str_of(resp, key);
	size_t i, n = v ? strlen(v) : 0;

	if (!n || n >= MUX_ID_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (v[i] <= 0x20 || v[i] >= 0x7f)
			return -1;
	memcpy(out, v, n + 1);
	return 0;
}

static int is_2xx(long status)
{
	return status >= 200 && status <= 299;
}

static int cancel_with(const struct cfg *c, const char *session_id, struct kerr *e)
{
	struct buf url = BUF_INIT(MUX_URL_MAX);
	long status = 0;
	int rc;

	rc = make_url(&url, c, "sessions", session_id, "");
	if (!rc)
		rc = call(c, "DELETE", url.data, NULL, NULL, NULL, &status, NULL, e);
	/* a gateway without DELETE may still take the cancel action */
	if (!rc && !is_2xx(status) && status != 404 && status != 410) {
		rc = make_url(&url, c, "sessions", session_id, "/cancel");
		if (!rc)
			rc = call(c, "POST", url.data, NULL, NULL, NULL, &status, NULL, e);
		if (!rc && !is_2xx(status) && status != 404 && status != 410)
			rc = kerr_set(e, KE_UNAVAILABLE, "Unavailable", "the Agent Mux gateway answered %ld to a cancel",
				      status);
	}
	buf_free(&url);
	return rc == KE_TOOBIG ? kerr_set(e, KE_INVALID, NULL, "session id too long") : rc;
}

/* Best effort on the way out: the attempt's outcome does not depend on it. */
static void cancel_quietly(const struct cfg *c, const char *session_id)
{
	struct kerr e = KERR_INIT;

	if (cancel_with(c, session_id, &e))
		log_warn("agent-mux: a session could not be cancelled at the gateway: %s", e.message ? e.message : "");
	kerr_clear(&e);
}

int mux_cancel_session(const struct mux_options *o, const char *session_id, struct kerr *e)
{
	struct cfg c;
	int rc = settings(o, &c, e);

	if (!rc && (!session_id || !*session_id))
		rc = kerr_set(e, KE_INVALID, NULL, "no session id");
	return rc ? rc : cancel_with(&c, session_id, e);
}

int mux_send_message(const struct mux_options *o, const char *session_id, const char *content, struct kerr *e)
{
	struct cfg c;
	struct buf url = BUF_INIT(MUX_URL_MAX);
	json_t *body = NULL;
	long status = 0;
	int rc = settings(o, &c, e);

	if (rc)
		goto cleanup;
	if (!session_id || !*session_id) {
		rc = kerr_set(e, KE_INVALID, NULL, "no session id");
		goto cleanup;
	}
	body = json_pack("{s:s}", "content", content);
	if (!body) {
		rc = kerr_set(e, KE_INVALID, NULL, "the message must be UTF-8 text");
		goto cleanup;
	}
	if (make_url(&url, &c, "sessions", session_id, "/messages")) {
		rc = kerr_set(e, KE_INVALID, NULL, "session id too long");
		goto cleanup;
	}
	rc = call(&c, "POST", url.data, body, NULL, NULL, &status, NULL, e);
	if (rc || is_2xx(status))
		goto cleanup;
	if (status == 404)
		rc = kerr_set(e, KE_NOTFOUND, NULL, "the Agent Mux gateway does not know the session");
	else if (status >= 400 && status <= 499)
		rc = kerr_set(e, KE_CONFLICT, NULL, "the Agent Mux gateway refused the message (HTTP %ld)", status);
	else
		rc = kerr_set(e, KE_UNAVAILABLE, "Unavailable", "the Agent Mux gateway answered %ld", status);
cleanup:
	json_decref(body);
	buf_free(&url);
	return rc;
}

int mux_probe(const char *gateway_url, int timeout_ms)
{
	struct mux_options o = { .gateway_url = gateway_url, .request_timeout_ms = timeout_ms };
	struct kerr e = KERR_INIT;
	struct buf url = BUF_INIT(MUX_URL_MAX);
	struct cfg c;
	long status = 0;
	int rc = settings(&o, &c, &e);

	if (!rc)
		rc = buf_add(&url, c.base, c.base_len) || buf_addstr(&url, "/healthz") ? KE_TOOBIG : 0;
	if (!rc)
		rc = call(&c, "GET", url.data, NULL, NULL, NULL, &status, NULL, &e);
	kerr_clear(&e);
	buf_free(&url);
	return !rc && status > 0 && status < 500 ? 0 : KE_UNAVAILABLE;
}

/* ---- the event stream ---- */

struct stream {
	const struct mux_sink *sink;
	struct mux_outcome *out;
	struct watch *w;
	struct mux_sse sse;
	CURL *h;
	long code;                   /* the HTTP status of this connection */
	unsigned long fresh;         /* events that arrived on this connection */
	int terminal;                /* a terminal event arrived: out says how it ended */
	int fail;                    /* the sink's or the mapping's error */
};

static int on_event(void *arg, json_t *ev, const char *name, const char *id)
{
	struct stream *s = arg;
	json_t *entry = NULL;
	int rc = mux_event_map(ev, name, &entry, s->out);

	(void)id;
	s->fresh++;
	if (rc < 0) {
		s->fail = rc;
		return 1;
	}
	if (entry) {
		s->fail = s->sink->event(s->sink->ctx, entry);
		json_decref(entry);
		if (s->fail)
			return 1;
	}
	if (rc == 1) {
		s->terminal = 1;
		return 1;
	}
	return 0;
}

static size_t on_stream(char *p, size_t size, size_t n, void *arg)
{
	struct stream *s = arg;
	size_t len = size * n;

	s->w->last_data_ns = util_monotonic_ns();
	if (!s->code)
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->code);
	/* an error page is not events */
	if (s->code != 200)
		return len;
	return mux_sse_feed(&s->sse, p, len) ? 0 : len;
}

/* One connection to the event stream, from the last event that arrived
 * whole. Ends with the connection; s says what came of it. */
static int stream_once(const struct cfg *c, const char *url, struct stream *s, struct kerr *e)
{
	struct curl_slist *hdr = NULL;
	CURL *h = curl_easy_init();
	int rc = 0;

	s->h = h;
	s->code = 0;
	s->fresh = 0;
	mux_sse_restart(&s->sse);
	if (!h || add_header(&hdr, "Accept", "text/event-stream") || add_header(&hdr, "Cache-Control", "no-cache") ||
	    (*s->sse.last_id && add_header(&hdr, "Last-Event-ID", s->sse.last_id))) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto cleanup;
	}
	s->w->idle_ns = c->idle_ns;
	s->w->last_data_ns = util_monotonic_ns();
	common_options(h, c, url, hdr, s->w);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	/* the outcome is in s: a cut connection is what the loop is for */
	curl_easy_perform(h);
	if (!s->code)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s->code);
cleanup:
	s->w->idle_ns = 0;
	curl_slist_free_all(hdr);
	if (h)
		curl_easy_cleanup(h);
	s->h = NULL;
	return rc;
}

/* 1 when the gateway says the session has ended (or lost it), with out set. */
static int session_ended(const struct cfg *c, const char *session_id, struct mux_outcome *out)
{
	struct buf url = BUF_INIT(MUX_URL_MAX);
	struct kerr e = KERR_INIT;
	json_t *resp = NULL;
	long status = 0;
	int ended = 0;

	if (!make_url(&url, c, "sessions", session_id, "") &&
	    !call(c, "GET", url.data, NULL, NULL, NULL, &status, &resp, &e)) {
		if (status == 404 || status == 410) {
			set_outcome(out, "Failed", "SessionLost", "the Agent Mux gateway no longer knows the session");
			ended = 1;
		} else if (is_2xx(status)) {
			ended = status_end(str_of(resp, "status"), out);
		}
	}
	json_decref(resp);
	kerr_clear(&e);
	buf_free(&url);
	return ended;
}

/* Waits ms unless the watch stops first; 1 when it did. */
static int pause_ms(int ms, struct watch *w)
{
	uint64_t until = util_monotonic_ns() + (uint64_t)ms * 1000000u;
	struct timespec slice = { 0, 20 * 1000000L };

	while (util_monotonic_ns() < until) {
		if (stopped(w) || tick(w))
			return 1;
		nanosleep(&slice, NULL);
	}
	return stopped(w);
}

/* Events until a terminal one, a stop, or the gateway saying the session ended. */
static int follow(const struct cfg *c, const struct mux_request *q, const struct mux_session *ss,
		  const struct mux_sink *sink, struct watch *w, struct mux_outcome *out, struct kerr *e)
{
	struct stream s = { .sink = sink, .out = out, .w = w };
	struct buf url = BUF_INIT(MUX_URL_MAX);
	int delay = c->base_ms, rc;

	mux_sse_init(&s.sse, on_event, &s);
	w->sink = sink;
	rc = make_url(&url, c, "runs", ss->run_id, "/events");
	while (!rc) {
		rc = stream_once(c, url.data, &s, e);
		if (!s.fail)
			s.fail = w->tick_rc;
		if (rc || s.fail || s.terminal || stopped(w))
			break;
		if (s.code == 200)
			delay = c->base_ms;
		/* nothing new here: the session may have ended without the stream saying so */
		if ((s.code != 200 || !s.fresh) && session_ended(c, ss->session_id, out)) {
			s.terminal = 1;
			break;
		}
		log_info("agent-mux: the event stream of %s ended early (HTTP %ld); reconnecting in %d ms",
			 name_of(q->attempt) ? name_of(q->attempt) : "an attempt", s.code, delay);
		if (pause_ms(delay, w)) {
			s.fail = w->tick_rc;
			break;
		}
		delay = delay > c->max_ms / 2 ? c->max_ms : delay * 2;
	}
	w->sink = NULL;
	if (!rc && s.fail) {
		rc = s.fail;
		set_outcome(out, "Failed", "RecordFailed", "the attempt's events could not be recorded");
	}
	if (!rc && !s.terminal) {
		if (w->cancel && atomic_load(w->cancel))
			set_outcome(out, "Cancelled", "Cancelled", "cancelled");
		else
			set_outcome(out, "Failed", "TimedOut", "the attempt ran past its time limit");
	}
	if (rc || !s.terminal)
		cancel_quietly(c, ss->session_id);
	mux_sse_free(&s.sse);
	buf_free(&url);
	return rc;
}

int mux_run_attempt(const struct mux_options *o, const struct mux_request *q, const struct mux_sink *sink,
		    const atomic_int *cancel, struct mux_outcome *out, struct kerr *e)
{
	json_t *meta = json_object_get(q->attempt, "metadata");
	const char *agent = str_of(q->stack, "baseAgent"), *ns = str_of(meta, "namespace");
	const char *uid = str_of(meta, "uid") ? str_of(meta, "uid") : str_of(meta, "name");
	json_int_t limit = json_integer_value(json_object_get(q->stack, "timeoutSeconds"));
	struct watch w = { .cancel = cancel };
	struct mux_session ss = { 0 };
	struct buf url = BUF_INIT(MUX_URL_MAX), key = BUF_INIT(512);
	json_t *payload = NULL, *resp = NULL;
	struct cfg c;
	long status = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = settings(o, &c, e);
	if (rc)
		goto cleanup;
	if (!agent || !*agent || !q->prompt) {
		rc = kerr_set(e, KE_UNPROCESSABLE, "LaunchFailed", !q->prompt ? "the attempt has no prompt" :
				     "the stack names no agent (spec.baseAgent)");
		goto cleanup;
	}
	if (limit <= 0)
		limit = MUX_DEFAULT_TIMEOUT_S;
	if (limit > MUX_MAX_TIMEOUT_S)
		limit = MUX_MAX_TIMEOUT_S;
	w.deadline_ns = util_monotonic_ns() + (uint64_t)limit * 1000000000u;

	if (make_url(&url, &c, "agents", agent, "/capabilities")) {
		rc = kerr_set(e, KE_UNPROCESSABLE, "LaunchFailed", "the agent name is too long");
		goto cleanup;
	}
	rc = call(&c, "GET", url.data, NULL, NULL, &w, &status, &ss.capabilities, e);
	if (!rc && status == 404)
		rc = kerr_set(e, KE_UNPROCESSABLE, "LaunchFailed", "the Agent Mux gateway has no agent %s", agent);
	else if (!rc && !is_2xx(status))
		rc = kerr_set(e, KE_UNAVAILABLE, "LaunchFailed", "the Agent Mux gateway answered %ld for the capabilities",
			      status);
	if (rc)
		goto stopped_or_fail;

	payload = session_payload(q, agent);
	if (!payload) {
		rc = kerr_set(e, KE_UNPROCESSABLE, "LaunchFailed", "the session request could not be built (not UTF-8?)");
		goto cleanup;
	}
	/* the same attempt asked twice (a timeout, a restart) is one session at the gateway */
	if (buf_printf(&key, "%s/%s", ns ? ns : "", uid ? uid : "") || make_url(&url, &c, "sessions", NULL, NULL)) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto cleanup;
	}
	rc = call(&c, "POST", url.data, payload, key.data, &w, &status, &resp, e);
	if (!rc && status >= 400 && status <= 499 && status != 408 && status != 429)
		rc = kerr_set(e, KE_UNPROCESSABLE, "LaunchFailed", "the Agent Mux gateway refused the session (HTTP %ld)",
			      status);
	else if (!rc && (!is_2xx(status) || take_id(resp, "runId", ss.run_id) || take_id(resp, "sessionId", ss.session_id)))
		rc = kerr_set(e, KE_UNAVAILABLE, "LaunchFailed", "Agent Mux launch returned no session (HTTP %ld)", status);
	if (rc)
		goto stopped_or_fail;

	rc = sink->bound(sink->ctx, &ss);
	if (rc) {
		set_outcome(out, "Failed", "RecordFailed", "the session could not be recorded");
		cancel_quietly(&c, ss.session_id);
		goto cleanup;
	}
	rc = follow(&c, q, &ss, sink, &w, out, e);
	goto cleanup;

stopped_or_fail:
	/* a cancel or the time limit cut the launch short: that is the outcome */
	if (stopped(&w)) {
		kerr_clear(e);
		rc = 0;
		if (cancel && atomic_load(cancel))
			set_outcome(out, "Cancelled", "Cancelled", "cancelled before the session started");
		else
			set_outcome(out, "Failed", "TimedOut", "the attempt ran past its time limit");
	}
cleanup:
	json_decref(ss.capabilities);
	json_decref(payload);
	json_decref(resp);
	buf_free(&url);
	buf_free(&key);
	return rc;
}
