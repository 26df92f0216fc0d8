/* Webhook deliveries in the console: the Redeliver button and its POST. */
#include "web_internal.h"

#include <stdlib.h>
#include <string.h>

void render_redeliver_button(struct page *pg, struct html *h, const char *href)
{
	if (!href)
		return;
	html_raw(h, "<form id=\"redeliver-form\" method=\"post\" action=\"");
	html_raw(h, href);
	html_raw(h, "/redeliver\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(h, pg->s.csrf);
	html_raw(h, "\"><button id=\"redeliver\" type=\"submit\">Redeliver</button></form>");
}

int page_redeliver(struct page *pg, const char *kind, const char *name)
{
	const struct kind_def *kd = kinds_lookup(kind);
	struct form_field f[] = { { "csrf", 128, NULL, 0 } };
	struct kerr e = KERR_INIT;
	struct buf loc = BUF_INIT(2048);
	json_t *created = NULL;
	const char *body;
	size_t len;
	int rc;

	if (!kd || strcmp(kd->kind, "WebhookDelivery"))
		return KE_NOTFOUND;
	body = http_req_body(pg->r, &len);
	if (form_parse(body, len, f, 1, &e) || web_check_csrf(pg, f, 1)) {
		/* An unreadable form has no valid token either. */
		if (e.kcode)
			web_error_page(pg->r, 403, "CSRF token missing or invalid");
		rc = 0;
		goto out;
	}
	rc = api_redeliver_sync(pg->w->api, &pg->p, pg->org, name, http_req_correlation_id(pg->r), &created, &e);
	if (rc) {
		rc = web_error_page(pg->r, kerr_http_status(e.kcode), e.message ? e.message : "The delivery was not repeated.");
		goto out;
	}
	web_object_href(&loc, pg->org, kd,
			json_string_value(json_object_get(json_object_get(created, "metadata"), "name")));
	rc = web_redirect(pg->r, loc.data ? loc.data : "/orgs");
out:
	json_decref(created);
	kerr_clear(&e);
	buf_free(&loc);
	form_free(f, 1);
	return rc;
}
