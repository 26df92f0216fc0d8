/* One delivery attempt: a POST with libcurl, bounded in time and in what it reads. */
#include "webhook/webhook_internal.h"
#include "core/buf.h"
#include "core/util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

struct sink {
	struct webhook *w;
	char data[WH_SNIPPET_MAX];
	size_t len;
	int cut;                 /* stopped reading once the snippet was full */
};

/* Keeps the start of the response, then ends the transfer: nothing past
 * the snippet is used, and a receiver cannot hold the worker with a long body. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n, take = WH_SNIPPET_MAX - s->len;

	if (take > len)
		take = len;
	memcpy(s->data + s->len, p, take);
	s->len += take;
	if (s->len == WH_SNIPPET_MAX) {
		s->cut = 1;
		return 0;
	}
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct sink *s = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&s->w->stopping) ? 1 : 0;
}

int wh_header_safe(const char *s)
{
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; s[i]; i++)
		if (i == 256 || s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

/* The longest prefix that is valid UTF-8 without NUL bytes (the store keeps
 * JSON that must load again); a cut character at the end is dropped. */
static void snippet(const struct sink *s, char *out)
{
	size_t n = strnlen(s->data, s->len), keep = 0, back;

	for (back = 0; back < 4 && back <= n; back++) {
		if (util_utf8_valid(s->data, n - back)) {
			keep = n - back;
			break;
		}
	}
	memcpy(out, s->data, keep);
	out[keep] = '\0';
}

/* libcurl's message, kept to printable ASCII for the stored status. */
static void set_error(struct wh_result *out, const char *msg)
{
	size_t i;

	snprintf(out->error, sizeof(out->error), "%s", msg);
	for (i = 0; out->error[i]; i++)
		if (out->error[i] < 0x20 || out->error[i] >= 0x7f)
			out->error[i] = '?';
}

static int add_header(struct curl_slist **h, const char *name, const char *value)
{
	struct buf b = BUF_INIT(1024);
	struct curl_slist *next;

	if (buf_printf(&b, "%s: %s", name, value)) {
		buf_free(&b);
		return -1;
	}
	next = curl_slist_append(*h, b.data);
	buf_free(&b);
	if (!next)
		return -1;
	*h = next;
	return 0;
}

void wh_post(struct webhook *w, const struct wh_request *q, struct wh_result *out)
{
	struct sink s = { .w = w };
	struct curl_slist *h = NULL;
	char err[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	/* "Expect:" off: no 100-continue round trip before the body. */
	if (!c || add_header(&h, "Content-Type", "application/json") || add_header(&h, "User-Agent", "Krate-Hookshot") ||
	    add_header(&h, "X-Krate-Event", q->event) || add_header(&h, "X-Krate-Delivery", q->delivery_id) ||
	    (q->signature && add_header(&h, "X-Krate-Signature-256", q->signature)) || add_header(&h, "Expect", "")) {
		snprintf(out->error, sizeof(out->error), "out of memory");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	rc = curl_easy_perform(c);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		out->interrupted = 1;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	snippet(&s, out->snippet);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && s.cut)) {
		out->status = 0;
		set_error(out, *err ? err : curl_easy_strerror(rc));
	} else if (out->status < 200 || out->status > 299) {
		snprintf(out->error, sizeof(out->error), "the receiver answered %ld", out->status);
	}
out:
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
}
