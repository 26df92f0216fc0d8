/* Minimal HTTP client over libcurl easy handles: one request at a time, the
 * body collected into a capped buffer or streamed to a callback. */
#include "cli/cli_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_S 10L
/* Whole-request limit for ordinary calls; watches have none. */
#define REQUEST_TIMEOUT_S 300L
/* Warning headers are short notices; more than this is not worth showing. */
#define WARNINGS_MAX (64u * 1024u)

void cli_resp_init(struct cli_resp *r)
{
	r->status = 0;
	buf_init(&r->body, CLI_BODY_MAX);
	r->json = NULL;
	buf_init(&r->warnings, WARNINGS_MAX);
}

void cli_resp_free(struct cli_resp *r)
{
	buf_free(&r->body);
	buf_free(&r->warnings);
	json_decref(r->json);
	r->json = NULL;
	r->status = 0;
}

struct xfer {
	CURL *curl;
	struct cli_resp *resp;
	client_chunk_fn fn;     /* NULL: collect everything into resp->body */
	void *ud;
	int (*stop)(void);
	int cb_rc;              /* why a callback ended the transfer early */
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	long status = 0;
	int rc;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	if (x->fn && status >= 200 && status < 300)
		rc = x->fn(x->ud, p, n);
	else
		rc = buf_add(&x->resp->body, p, n);
	if (rc) {
		x->cb_rc = rc;
		return 0;
	}
	return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = ud;
	int rc;

	(void)dt, (void)dn, (void)ut, (void)un;
	rc = x->stop ? x->stop() : 0;
	if (rc)
		x->cb_rc = rc;
	return rc != 0;
}

static int add_header(struct curl_slist **h, const char *line)
{
	struct curl_slist *n = curl_slist_append(*h, line);

	if (!n)
		return KE_NOMEM;
	*h = n;
	return 0;
}

/* Refuses values that would let a token or content type inject header lines. */
static int header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int build_headers(const struct cli_client *c, const char *accept, const char *ctype,
			 struct curl_slist **h, struct kerr *e)
{
	struct buf line = BUF_INIT(0);
	int rc = 0;

	if (c->token && !header_safe(c->token)) {
		rc = kerr_set(e, KE_INVALID, NULL, "the token contains control characters");
		goto out;
	}
	if (c->token && (buf_printf(&line, "Authorization: Bearer %s", c->token) ||
			 add_header(h, line.data)))
		rc = KE_NOMEM;
	buf_reset(&line);
	if (!rc && (buf_printf(&line, "Accept: %s", accept) || add_header(h, line.data)))
		rc = KE_NOMEM;
	buf_reset(&line);
	if (!rc && ctype && (buf_printf(&line, "Content-Type: %s", ctype) || add_header(h, line.data)))
		rc = KE_NOMEM;
	/* A large body would otherwise wait a second for "100 Continue". */
	if (!rc && ctype && add_header(h, "Expect:"))
		rc = KE_NOMEM;
	if (rc == KE_NOMEM)
		kerr_set(e, rc, NULL, "out of memory");
out:
	buf_free(&line);
	return rc;
}

/* Keeps the Warning headers of the answer: the server's policy notices,
 * which the user should see even when the request succeeded. */
static void keep_warnings(CURL *curl, struct cli_resp *r)
{
	struct curl_header *h;
	size_t i, n = 1;

	for (i = 0; i < n; i++) {
		if (curl_easy_header(curl, "Warning", i, CURLH_HEADER, -1, &h) != CURLHE_OK)
			return;
		n = h->amount;
		if (buf_addstr(&r->warnings, h->value) || buf_addch(&r->warnings, '\n'))
			return;
	}
}

static int url_of(const struct cli_client *c, const char *path, struct buf *url)
{
	size_t n = strlen(c->server);

	while (n > 0 && c->server[n - 1] == '/')
		n--;
	if (buf_add(url, c->server, n) || buf_addstr(url, path))
		return KE_NOMEM;
	return 0;
}

/* Runs one transfer; method NULL means GET. */
static int perform(const struct cli_client *c, const char *method, const char *path,
		   const char *ctype, const char *body, size_t len, struct xfer *x, struct kerr *e)
{
	struct curl_slist *h = NULL;
	struct buf url = BUF_INIT(0);
	CURLcode cc;
	int rc;

	x->curl = curl_easy_init();
	if (!x->curl || url_of(c, path, &url)) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	rc = build_headers(c, x->fn ? "text/event-stream" : "application/json",
			   body ? ctype : NULL, &h, e);
	if (rc)
		goto out;
	curl_easy_setopt(x->curl, CURLOPT_URL, url.data);
	curl_easy_setopt(x->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(x->curl, CURLOPT_TIMEOUT, x->fn ? 0L : REQUEST_TIMEOUT_S);
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, x);
	if (x->stop) {
		curl_easy_setopt(x->curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(x->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(x->curl, CURLOPT_XFERINFODATA, x);
	}
	if (method)
		curl_easy_setopt(x->curl, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	cc = curl_easy_perform(x->curl);
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->resp->status);
	if (x->resp->status)
		keep_warnings(x->curl, x->resp);
	if (x->cb_rc) {
		rc = x->cb_rc;
		if (rc == KE_TOOBIG || rc == KE_NOMEM)
			kerr_set(e, rc, NULL, "response from %s is too large", c->server);
	} else if (cc != CURLE_OK) {
		rc = kerr_set(e, KE_IO, NULL, "cannot reach %s: %s", c->server, curl_easy_strerror(cc));
	}
out:
	curl_slist_free_all(h);
	if (x->curl)
		curl_easy_cleanup(x->curl);
	x->curl = NULL;
	buf_free(&url);
	return rc;
}

static void parse_body(struct cli_resp *r)
{
	if (r->body.len)
		r->json = json_loadb(r->body.data, r->body.len, JSON_DECODE_ANY, NULL);
}

int client_request(const struct cli_client *c, const char *method, const char *path,
		   const char *ctype, const char *body, size_t len,
		   struct cli_resp *r, struct kerr *e)
{
	struct xfer x = { NULL, r, NULL, NULL, NULL, 0 };
	int rc;

	rc = perform(c, method, path, ctype, body, len, &x, e);
	if (!rc)
		parse_body(r);
	return rc;
}

int client_stream(const struct cli_client *c, const char *path, client_chunk_fn fn, void *ud,
		  int (*stop)(void), struct cli_resp *r, struct kerr *e)
{
	struct xfer x = { NULL, r, fn, ud, stop, 0 };
	int rc = perform(c, NULL, path, NULL, NULL, 0, &x, e);

	if (r->status && (r->status < 200 || r->status >= 300))
		parse_body(r);
	return rc;
}
