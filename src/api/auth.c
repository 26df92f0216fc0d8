#include "api/api_internal.h"
#include "api/session.h"
#include "core/util.h"
#include "model/admission.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Token secrets are "krt_" + base64url(32 random bytes). Only their SHA-256
 * is stored; the cache maps hash -> identity so a request costs one hash and
 * one lookup instead of a database read. Tokens are never changed in place,
 * so cached entries stay valid. */
#define TOKEN_PREFIX "krt_"
#define CACHE_BUCKETS 1024
#define CACHE_MAX 100000

struct cached_token {
	char hash[65];
	char *user;
	char *org;
	int role;
	struct cached_token *next;
};

struct token_cache {
	pthread_rwlock_t lock;
	struct cached_token *bucket[CACHE_BUCKETS];
	size_t n;
};

struct token_cache *token_cache_create(void)
{
	struct token_cache *c = calloc(1, sizeof(*c));

	if (c)
		pthread_rwlock_init(&c->lock, NULL);
	return c;
}

void token_cache_destroy(struct token_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CACHE_BUCKETS; i++) {
		struct cached_token *t = c->bucket[i], *next;

		for (; t; t = next) {
			next = t->next;
			free(t->user);
			free(t->org);
			free(t);
		}
	}
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

static size_t bucket_of(const char *hash)
{
	return (size_t)strtoul((char[9]){ hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7], 0 },
			       NULL, 16) % CACHE_BUCKETS;
}

static int cache_find(struct token_cache *c, const char *hash, struct principal *p)
{
	struct cached_token *t;
	int found = 0;

	pthread_rwlock_rdlock(&c->lock);
	for (t = c->bucket[bucket_of(hash)]; t; t = t->next) {
		if (!strcmp(t->hash, hash)) {
			p->user = strdup(t->user);
			p->org = t->org ? strdup(t->org) : NULL;
			p->role = t->role;
			found = p->user && (!t->org || p->org);
			break;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	return found;
}

static void cache_add(struct token_cache *c, const char *hash, const struct token_info *ti)
{
	struct cached_token *t = calloc(1, sizeof(*t));
	size_t b = bucket_of(hash);

	if (!t)
		return;
	memcpy(t->hash, hash, 65);
	t->user = strdup(ti->user);
	t->org = ti->org ? strdup(ti->org) : NULL;
	t->role = ti->role;
	if (!t->user || (ti->org && !t->org)) {
		free(t->user);
		free(t->org);
		free(t);
		return;
	}
	pthread_rwlock_wrlock(&c->lock);
	if (c->n < CACHE_MAX) {
		t->next = c->bucket[b];
		c->bucket[b] = t;
		c->n++;
		t = NULL;
	}
	pthread_rwlock_unlock(&c->lock);
	if (t) {
		free(t->user);
		free(t->org);
		free(t);
	}
}

void api_principal_free(struct principal *p)
{
	free(p->user);
	free(p->org);
	memset(p, 0, sizeof(*p));
}

static int anonymous(struct principal *p, struct kerr *e, const char *why)
{
	api_principal_free(p);
	p->user = strdup("anonymous");
	return kerr_set(e, KE_UNAUTHORIZED, NULL, "%s", why);
}

int api_token_principal(struct api *a, const char *secret, struct principal *p, struct kerr *e)
{
	struct token_info ti = { 0 };
	char hash[65];
	struct kerr le = KERR_INIT;
	int rc;

	if (!secret || strncmp(secret, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) || strlen(secret) > 256)
		return anonymous(p, e, "invalid or unknown token");
	util_sha256_hex(hash, secret, strlen(secret));
	if (cache_find(a->tokens, hash, p)) {
		p->authenticated = 1;
		return 0;
	}
	rc = store_token_get(a->store, hash, &ti, &le);
	kerr_clear(&le);
	if (rc)
		return anonymous(p, e, "invalid or unknown token");
	cache_add(a->tokens, hash, &ti);
	p->user = ti.user;
	p->org = ti.org;
	p->role = ti.role;
	ti.user = ti.org = NULL;
	token_info_free(&ti);
	p->authenticated = 1;
	return 0;
}

/* Safe methods may also use the console's session cookie, so the console's
 * EventSource and fetches work; mutations need the bearer token, which a
 * cross-site form cannot send, so /api needs no CSRF tokens. */
static int cookie_principal(struct api *a, struct http_req *r, struct principal *p, struct kerr *e)
{
	const char *method = http_req_method(r), *cookie;
	struct web_session ws = { 0 };
	struct kerr le = KERR_INIT;
	int rc;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return anonymous(p, e, "missing Authorization: Bearer token");
	cookie = http_req_cookie(r, SESSION_COOKIE);
	if (!cookie)
		return anonymous(p, e, "missing Authorization: Bearer token");
	rc = session_lookup(a, cookie, &ws, &le);
	kerr_clear(&le);
	if (rc)
		return anonymous(p, e, "the session has expired or ended; sign in again");
	api_principal_free(p);
	rc = session_principal(&ws, p);
	web_session_free(&ws);
	if (rc)
		return anonymous(p, e, "out of memory");
	return 0;
}

int api_authenticate(struct api *a, struct http_req *r, struct principal *p, struct kerr *e)
{
	const char *h = http_req_header(r, "Authorization");
	const char *secret;

	if (!h)
		return cookie_principal(a, r, p, e);
	if (strncasecmp(h, "Bearer ", 7))
		return anonymous(p, e, "Authorization must use the Bearer scheme");
	secret = h + 7;
	while (*secret == ' ')
		secret++;
	return api_token_principal(a, secret, p, e);
}

int api_org_allowed(const struct principal *p, const char *org)
{
	return !p->org || (org && !strcmp(p->org, org));
}

int h_whoami(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	(void)a;
	(void)m;
	http_respond_json(r, 200, json_pack("{s:s, s:s?, s:s}", "user", p->user, "org", p->org,
					    "role", kinds_role_name(p->role)));
	return HTTP_DONE;
}

int api_token_create(struct store *s, const char *user, const char *org, int role, const char *actor,
		     char **secret_out, json_t **info_out, struct kerr *e)
{
	unsigned char raw[32], idraw[4];
	char *enc = NULL, hash[65], id[16];
	struct buf secret = BUF_INIT(256), res = BUF_INIT(512);
	struct token_info ti = { 0 };
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	int rc;

	if (util_random_bytes(raw, sizeof(raw)) || util_random_bytes(idraw, sizeof(idraw)))
		return kerr_set(e, KE_INTERNAL, NULL, "no randomness available");
	enc = util_b64url_encode(raw, sizeof(raw));
	if (!enc || buf_printf(&secret, "%s%s", TOKEN_PREFIX, enc)) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	util_sha256_hex(hash, secret.data, secret.len);
	memcpy(id, "tok-", 4);
	util_hex(id + 4, idraw, sizeof(idraw));
	ti.id = id;
	ti.user = (char *)user;
	ti.org = (char *)org;
	ti.role = role;
	ti.created = util_now_seconds();
	op.type = STORE_OP_TOKEN;
	op.token_hash = hash;
	op.token = &ti;
	buf_printf(&res, "Token/%s (user %s, role %s%s%s)", id, user, kinds_role_name(role), org ? ", org " : "",
		   org ? org : "");
	b.ops = &op;
	b.n = 1;
	b.audit.actor = actor;
	b.audit.org = org;
	b.audit.verb = "token.create";
	b.audit.resource = res.data;
	b.audit.result = "allowed";
	rc = store_write(s, &b);
	if (rc) {
		kerr_set(e, rc, b.err.code, "%s", b.err.message ? b.err.message : "cannot store the token");
		kerr_clear(&b.err);
		goto out;
	}
	kerr_clear(&b.err);
	json_decref(op.result);
	if (info_out)
		*info_out = json_pack("{s:s, s:s, s:s?, s:s}", "id", id, "user", user, "org", org, "role",
				      kinds_role_name(role));
	*secret_out = buf_detach(&secret, NULL);
out:
	free(enc);
	buf_free(&secret);
	buf_free(&res);
	return rc;
}

int h_token_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	json_t *req = json_loadb(body, len, 0, NULL), *info = NULL;
	const char *user, *org = NULL, *role_s;
	struct kerr e = KERR_INIT;
	char *secret = NULL;
	int role, rc;

	(void)m;
	if (!json_is_object(req)) {
		kerr_set(&e, KE_INVALID, "INVALID_JSON", "body must be a JSON object {user, org?, role}");
		goto deny;
	}
	user = json_string_value(json_object_get(req, "user"));
	org = json_string_value(json_object_get(req, "org"));
	role_s = json_string_value(json_object_get(req, "role"));
	role = kinds_role_parse(role_s ? role_s : "");
	if (!user || !util_dns_label(user))
		kerr_add_reason(&e, "InvalidValue", "user", "user must be a DNS-1123 label");
	if (role == ROLE_NONE)
		kerr_add_reason(&e, "InvalidValue", "role", "role must be viewer, developer or admin");
	if (json_object_get(req, "org") && !json_is_null(json_object_get(req, "org")) && (!org || !util_dns_label(org)))
		kerr_add_reason(&e, "InvalidValue", "org", "org must be an organization slug");
	if (e.reasons) {
		kerr_set(&e, KE_UNPROCESSABLE, "INVALID_TOKEN_REQUEST", "invalid token request");
		goto deny;
	}
	if (p->role < ROLE_ADMIN) {
		kerr_set(&e, KE_FORBIDDEN, NULL, "only admins may create tokens");
		goto deny;
	}
	if (p->org && (!org || strcmp(org, p->org))) {
		kerr_set(&e, KE_FORBIDDEN, NULL, "an org-bound admin may only create tokens for its own org");
		goto deny;
	}
	if (org && api_org_check(a, p, org, &e))
		goto deny;
	/* Token creation is rare; waiting for the commit here keeps it simple. */
	rc = api_token_create(a->store, user, org, role, p->user, &secret, &info, &e);
	if (rc) {
		api_fail(r, &e);
		goto out;
	}
	json_object_set_new(info, "token", json_string(secret));
	http_respond_json(r, 201, info);
	goto out;
deny:
	rc = write_deny(a, r, p, "token.create", org, "Token", &e);
	json_decref(req);
	kerr_clear(&e);
	return rc;
out:
	if (secret) {
		memset(secret, 0, strlen(secret));
		free(secret);
	}
	json_decref(req);
	kerr_clear(&e);
	return HTTP_DONE;
}
