/* Console sign-in: password and token logins, sessions, sign-in rate limits
 * and console users. See session.h. */
#include "api/session.h"
#include "api/api_internal.h"
#include "core/password.h"
#include "core/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Session cookies are "kss_" + base64url(32 random bytes); only their SHA-256
 * is stored, so a copy of the database cannot be replayed as a session. */
#define COOKIE_PREFIX "kss_"
#define COOKIE_MAX 128
#define TOKEN_INPUT_MAX 512
#define PASSWORD_MIN_CHARS 12

#define MSG_BAD_PASSWORD "invalid username or password"
#define MSG_BAD_TOKEN "invalid token"
#define MSG_LIMITED "too many failed sign-ins; try again in a few minutes"

/* ---- failure counters ----
 * Per process, keyed "u:<username>" and "a:<client address>". A window opens
 * at the first failure and lasts SESSION_FAILURE_WINDOW seconds. An attempt
 * counts as a failure from the moment it starts, so parallel guesses cannot
 * slip past the limit while the hash is computed; a success takes its count
 * back. At most GUARD_MAX keys are tracked; the least recently failed go
 * first. */
#define GUARD_MAX 10000
#define GUARD_BUCKETS 4096
#define GUARD_KEY_MAX 256

struct failure {
	char *key;
	int64_t start;
	int count;
	struct failure *next;          /* bucket chain */
	struct failure *older, *newer; /* recency list */
};

struct session_guard {
	pthread_mutex_t mu;
	struct failure *bucket[GUARD_BUCKETS];
	struct failure *oldest, *newest;
	size_t n;
	pthread_mutex_t dummy_mu;
	char *dummy_hash;              /* verified against for unknown users */
};

struct session_guard *session_guard_create(void)
{
	struct session_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	pthread_mutex_init(&g->mu, NULL);
	pthread_mutex_init(&g->dummy_mu, NULL);
	return g;
}

void session_guard_destroy(struct session_guard *g)
{
	struct failure *f, *next;

	if (!g)
		return;
	for (f = g->oldest; f; f = next) {
		next = f->newer;
		free(f->key);
		free(f);
	}
	free(g->dummy_hash);
	pthread_mutex_destroy(&g->mu);
	pthread_mutex_destroy(&g->dummy_mu);
	free(g);
}

static size_t key_bucket(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % GUARD_BUCKETS;
}

static struct failure *guard_find(struct session_guard *g, const char *key)
{
	struct failure *f;

	for (f = g->bucket[key_bucket(key)]; f; f = f->next)
		if (!strcmp(f->key, key))
			return f;
	return NULL;
}

static void recency_unlink(struct session_guard *g, struct failure *f)
{
	if (f->older)
		f->older->newer = f->newer;
	else
		g->oldest = f->newer;
	if (f->newer)
		f->newer->older = f->older;
	else
		g->newest = f->older;
	f->older = f->newer = NULL;
}

static void recency_push(struct session_guard *g, struct failure *f)
{
	f->older = g->newest;
	f->newer = NULL;
	if (g->newest)
		g->newest->newer = f;
	else
		g->oldest = f;
	g->newest = f;
}

static void guard_remove(struct session_guard *g, struct failure *f)
{
	struct failure **pp = &g->bucket[key_bucket(f->key)];

	while (*pp != f)
		pp = &(*pp)->next;
	*pp = f->next;
	recency_unlink(g, f);
	free(f->key);
	free(f);
	g->n--;
}

static int guard_limited(struct session_guard *g, const char *key, int64_t now)
{
	struct failure *f = guard_find(g, key);

	return f && now - f->start < SESSION_FAILURE_WINDOW && f->count >= SESSION_MAX_FAILURES;
}

/* Counts one failure; silently does nothing when memory is short. */
static void guard_count(struct session_guard *g, const char *key, int64_t now)
{
	struct failure *f = guard_find(g, key);
	size_t b;

	if (f) {
		if (now - f->start >= SESSION_FAILURE_WINDOW) {
			f->start = now;
			f->count = 0;
		}
		f->count++;
		recency_unlink(g, f);
		recency_push(g, f);
		return;
	}
	if (g->n >= GUARD_MAX)
		guard_remove(g, g->oldest);
	f = calloc(1, sizeof(*f));
	if (!f || !(f->key = strdup(key))) {
		free(f);
		return;
	}
	f->start = now;
	f->count = 1;
	b = key_bucket(key);
	f->next = g->bucket[b];
	g->bucket[b] = f;
	recency_push(g, f);
	g->n++;
}

static void guard_uncount(struct session_guard *g, const char *key)
{
	struct failure *f = guard_find(g, key);

	if (f && --f->count <= 0)
		guard_remove(g, f);
}

/* Starts an attempt for the keys (ukey may be NULL): KE_RATELIMIT when one of
 * them is over the limit, else counts the attempt as a failure. */
static int guard_begin(struct session_guard *g, const char *ukey, const char *akey)
{
	int64_t now = util_now_seconds();
	int limited;

	pthread_mutex_lock(&g->mu);
	limited = (ukey && guard_limited(g, ukey, now)) || guard_limited(g, akey, now);
	if (!limited) {
		if (ukey)
			guard_count(g, ukey, now);
		guard_count(g, akey, now);
	}
	pthread_mutex_unlock(&g->mu);
	return limited ? KE_RATELIMIT : 0;
}

/* The attempt was not a failed sign-in after all. */
static void guard_end_ok(struct session_guard *g, const char *ukey, const char *akey)
{
	pthread_mutex_lock(&g->mu);
	if (ukey)
		guard_uncount(g, ukey);
	guard_uncount(g, akey);
	pthread_mutex_unlock(&g->mu);
}

/* "u:" or "a:" + s, cut to GUARD_KEY_MAX bytes; NULL when out of memory. */
static char *guard_key(const char *prefix, const char *s)
{
	struct buf b = BUF_INIT(0);

	if (buf_printf(&b, "%s%.*s", prefix, GUARD_KEY_MAX, s ? s : "")) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* A hash of a random password, so an unknown user costs one verify like a known one. */
static const char *dummy_hash(struct session_guard *g)
{
	char *pw = NULL;

	pthread_mutex_lock(&g->dummy_mu);
	if (!g->dummy_hash && !password_generate(&pw))
		password_hash(pw, &g->dummy_hash);
	pthread_mutex_unlock(&g->dummy_mu);
	free(pw);
	return g->dummy_hash;
}

/* ---- audit ---- */

/* "Session (user U, how, from ADDR)"; user NULL leaves the name out, and an
 * address that is not made of address characters is left out too. */
static void describe(struct buf *b, const char *user, const char *how, const char *addr)
{
	size_t n = addr ? strlen(addr) : 0;

	buf_addstr(b, "Session (");
	if (user && util_dns_label(user))
		buf_printf(b, "user %s, ", user);
	buf_printf(b, "%s", how);
	if (n && n <= 45 && strspn(addr, "0123456789abcdefABCDEF.:") == n)
		buf_printf(b, ", from %s", addr);
	buf_addch(b, ')');
}

/* Audit-only entry for a refused sign-in. */
static void audit_denied(struct api *a, const char *verb, const char *resource, int kcode)
{
	struct store_batch b = { 0 };
	struct buf result = BUF_INIT(0);

	if (buf_printf(&result, "denied:%s", kerr_default_code(kcode)))
		goto out;
	b.audit.actor = "anonymous";
	b.audit.verb = verb;
	b.audit.resource = resource;
	b.audit.result = result.data;
	store_write(a->store, &b);
out:
	kerr_clear(&b.err);
	buf_free(&result);
}

/* ---- sessions ---- */

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static char *random_b64(void)
{
	unsigned char raw[32];
	char *s = NULL;

	if (!util_random_bytes(raw, sizeof(raw)))
		s = util_b64url_encode(raw, sizeof(raw));
	memset(raw, 0, sizeof(raw));
	return s;
}

/* Creates and stores a session for the identity; audited as resource. */
static int session_start(struct api *a, const char *user, const char *org, int role, const char *resource,
			 char **cookie_value, struct web_session *s, struct kerr *e)
{
	struct buf cookie = BUF_INIT(COOKIE_MAX);
	struct session_info si = { 0 };
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	char *secret = random_b64(), *csrf = random_b64(), hash[65];
	int rc;

	if (!secret || !csrf || buf_printf(&cookie, "%s%s", COOKIE_PREFIX, secret)) {
		rc = kerr_set(e, KE_INTERNAL, NULL, "cannot create a session");
		goto out;
	}
	util_sha256_hex(hash, cookie.data, cookie.len);
	si.user = (char *)user;
	si.org = (char *)org;
	si.role = role;
	si.csrf = csrf;
	si.expires = util_now_seconds() + SESSION_TTL_SECONDS;
	op.type = STORE_OP_SESSION;
	op.session_hash = hash;
	op.session = &si;
	b.ops = &op;
	b.n = 1;
	b.audit.actor = user;
	b.audit.org = org;
	b.audit.verb = "session.create";
	b.audit.resource = resource;
	b.audit.result = "allowed";
	rc = store_write(a->store, &b);
	if (rc) {
		kerr_set(e, rc, b.err.code, "%s", b.err.message ? b.err.message : "cannot store the session");
		goto out;
	}
	s->user = strdup(user);
	s->org = org ? strdup(org) : NULL;
	if (!s->user || (org && !s->org)) {
		web_session_free(s);
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	s->role = role;
	s->csrf = csrf;
	s->expires = si.expires;
	csrf = NULL;
	*cookie_value = buf_detach(&cookie, NULL);
out:
	kerr_clear(&b.err);
	if (cookie.data)
		memset(cookie.data, 0, cookie.len);
	buf_free(&cookie);
	wipe_free(secret);
	free(csrf);
	return rc;
}

int session_login_password(struct api *a, const char *user, const char *password, const char *client_addr,
			   char **cookie_value, struct web_session *s, struct kerr *e)
{
	struct user_info u = { 0 };
	struct kerr le = KERR_INIT;
	struct buf res = BUF_INIT(0);
	char *ukey = guard_key("u:", user), *akey = guard_key("a:", client_addr);
	int rc, ok = 0;

	*cookie_value = NULL;
	memset(s, 0, sizeof(*s));
	if (!user)
		user = "";
	if (!password)
		password = "";
	rc = util_dns_label(user) ? store_user_get(a->store, user, &u, &le) : KE_NOTFOUND;
	if (rc && rc != KE_NOTFOUND) {
		kerr_set(e, rc, NULL, "cannot check the sign-in: %s", le.message ? le.message : "store error");
		goto out;
	}
	/* only a name that exists is recorded: a password typed into the name
	 * field would otherwise end up in the audit log */
	describe(&res, u.name, "password", client_addr);
	if (!ukey || !akey || !res.data) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	if (guard_begin(a->sessions, ukey, akey)) {
		audit_denied(a, "session.create", res.data, KE_RATELIMIT);
		rc = kerr_set(e, KE_RATELIMIT, NULL, MSG_LIMITED);
		goto out;
	}
	if (u.name)
		ok = password_verify(u.password_hash, password);
	else
		(void)password_verify(dummy_hash(a->sessions), password);
	if (!ok) {
		audit_denied(a, "session.create", res.data, KE_UNAUTHORIZED);
		rc = kerr_set(e, KE_UNAUTHORIZED, NULL, MSG_BAD_PASSWORD);
		goto out;
	}
	guard_end_ok(a->sessions, ukey, akey);
	rc = session_start(a, u.name, u.org, u.role, res.data, cookie_value, s, e);
out:
	user_info_free(&u);
	kerr_clear(&le);
	buf_free(&res);
	free(ukey);
	free(akey);
	return rc;
}

/* Copy of s without surrounding white space (a pasted token often has some). */
static char *trimmed(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strnlen(s, TOKEN_INPUT_MAX + 1);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return strndup(s, n);
}

int session_login_token(struct api *a, const char *token, const char *client_addr, char **cookie_value,
			struct web_session *s, struct kerr *e)
{
	struct principal p = { 0 };
	struct kerr le = KERR_INIT;
	struct buf res = BUF_INIT(0);
	char *akey = guard_key("a:", client_addr), *secret = trimmed(token ? token : "");
	int rc;

	*cookie_value = NULL;
	memset(s, 0, sizeof(*s));
	describe(&res, NULL, "token", client_addr);
	if (!akey || !secret || !res.data) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	if (guard_begin(a->sessions, NULL, akey)) {
		audit_denied(a, "session.create", res.data, KE_RATELIMIT);
		rc = kerr_set(e, KE_RATELIMIT, NULL, MSG_LIMITED);
		goto out;
	}
	if (api_token_principal(a, secret, &p, &le)) {
		audit_denied(a, "session.create", res.data, KE_UNAUTHORIZED);
		rc = kerr_set(e, KE_UNAUTHORIZED, NULL, MSG_BAD_TOKEN);
		goto out;
	}
	guard_end_ok(a->sessions, NULL, akey);
	buf_reset(&res);
	describe(&res, p.user, "token", client_addr);
	rc = session_start(a, p.user, p.org, p.role, res.data ? res.data : "Session (token)", cookie_value, s, e);
out:
	api_principal_free(&p);
	kerr_clear(&le);
	buf_free(&res);
	free(akey);
	wipe_free(secret);
	return rc;
}

/* hash of a well-formed cookie value into out; KE_UNAUTHORIZED otherwise. */
static int cookie_hash(const char *cookie_value, char out[65], struct kerr *e)
{
	size_t n = cookie_value ? strnlen(cookie_value, COOKIE_MAX + 1) : 0;

	if (n <= strlen(COOKIE_PREFIX) || n > COOKIE_MAX || strncmp(cookie_value, COOKIE_PREFIX, strlen(COOKIE_PREFIX)))
		return kerr_set(e, KE_UNAUTHORIZED, NULL, "not signed in");
	util_sha256_hex(out, cookie_value, n);
	return 0;
}

int session_lookup(struct api *a, const char *cookie_value, struct web_session *s, struct kerr *e)
{
	struct session_info si = { 0 };
	struct kerr le = KERR_INIT;
	char hash[65];
	int rc;

	memset(s, 0, sizeof(*s));
	rc = cookie_hash(cookie_value, hash, e);
	if (rc)
		return rc;
	rc = store_session_get(a->store, hash, util_now_seconds(), &si, &le);
	if (rc == KE_NOTFOUND)
		rc = kerr_set(e, KE_UNAUTHORIZED, NULL, "the session has expired or ended; sign in again");
	else if (rc)
		kerr_set(e, rc, NULL, "cannot read the session: %s", le.message ? le.message : "store error");
	kerr_clear(&le);
	if (rc)
		return rc;
	s->user = si.user;
	s->org = si.org;
	s->csrf = si.csrf;
	s->role = si.role;
	s->expires = si.expires;
	return 0;
}

int session_logout(struct api *a, const char *cookie_value, struct kerr *e)
{
	struct session_info si = { 0 };
	struct kerr le = KERR_INIT;
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	struct buf res = BUF_INIT(0);
	char hash[65];
	int rc;

	rc = cookie_hash(cookie_value, hash, e);
	if (rc)
		return rc;
	/* who it was, for the audit entry; an expired session is still deleted */
	(void)store_session_get(a->store, hash, util_now_seconds(), &si, &le);
	kerr_clear(&le);
	describe(&res, si.user, "signed out", NULL);
	op.type = STORE_OP_SESSION_DELETE;
	op.session_hash = hash;
	b.ops = &op;
	b.n = 1;
	b.audit.actor = si.user ? si.user : "anonymous";
	b.audit.org = si.org;
	b.audit.verb = "session.delete";
	b.audit.resource = res.data ? res.data : "Session";
	b.audit.result = "allowed";
	rc = store_write(a->store, &b);
	if (rc)
		kerr_set(e, rc, b.err.code, "%s", b.err.message ? b.err.message : "cannot end the session");
	kerr_clear(&b.err);
	buf_free(&res);
	session_info_free(&si);
	return rc;
}

void web_session_free(struct web_session *s)
{
	if (!s)
		return;
	free(s->user);
	free(s->org);
	wipe_free(s->csrf);
	memset(s, 0, sizeof(*s));
}

int session_csrf_ok(const struct web_session *s, const char *token)
{
	size_t n;

	if (!s || !s->csrf || !token)
		return 0;
	n = strlen(s->csrf);
	return strnlen(token, n + 1) == n && util_ct_equal(s->csrf, token, n);
}

int session_principal(const struct web_session *s, struct principal *p)
{
	memset(p, 0, sizeof(*p));
	p->user = strdup(s->user ? s->user : "");
	p->org = s->org ? strdup(s->org) : NULL;
	p->role = s->role;
	if (!p->user || (s->org && !p->org)) {
		api_principal_free(p);
		return KE_NOMEM;
	}
	p->authenticated = 1;
	return 0;
}

/* ---- users ---- */

const char *session_password_problem(const char *pw)
{
	size_t len, chars = 0, i;

	if (!pw)
		return "a password is required";
	len = strlen(pw);
	if (len > PASSWORD_MAX_BYTES)
		return "the password is longer than 1024 bytes";
	if (!util_utf8_valid(pw, len))
		return "the password must be UTF-8 text";
	for (i = 0; i < len; i++)
		chars += ((unsigned char)pw[i] & 0xc0) != 0x80;
	if (chars < PASSWORD_MIN_CHARS)
		return "the password needs at least 12 characters";
	return NULL;
}

int session_user_create(struct store *st, const char *name, const char *password, int role, const char *org,
			const char *actor, struct kerr *e)
{
	struct user_info u = { 0 };
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	struct buf res = BUF_INIT(0);
	const char *problem = session_password_problem(password);
	char *hash = NULL;
	int rc;

	if (!name || !util_dns_label(name))
		return kerr_set(e, KE_UNPROCESSABLE, NULL, "a user name must be a DNS-1123 label");
	if (role < ROLE_VIEWER || role > ROLE_ADMIN)
		return kerr_set(e, KE_UNPROCESSABLE, NULL, "role must be viewer, developer or admin");
	if (org && !util_dns_label(org))
		return kerr_set(e, KE_UNPROCESSABLE, NULL, "org must be an organization slug");
	if (problem)
		return kerr_set(e, KE_UNPROCESSABLE, NULL, "%s", problem);
	rc = password_hash(password, &hash);
	if (rc)
		return kerr_set(e, rc, NULL, "cannot hash the password");
	u.name = (char *)name;
	u.password_hash = hash;
	u.org = (char *)org;
	u.role = role;
	u.created = util_now_seconds();
	op.type = STORE_OP_USER;
	op.user = &u;
	buf_printf(&res, "User/%s (role %s%s%s)", name, kinds_role_name(role), org ? ", org " : "", org ? org : "");
	b.ops = &op;
	b.n = 1;
	b.audit.actor = actor ? actor : "system";
	b.audit.org = org;
	b.audit.verb = "user.create";
	b.audit.resource = res.data ? res.data : "User";
	b.audit.result = "allowed";
	rc = store_write(st, &b);
	if (rc) {
		kerr_set(e, rc, b.err.code, "%s", b.err.message ? b.err.message : "cannot store the user");
		kerr_set_resource(e, "User", NULL, name);
	}
	kerr_clear(&b.err);
	buf_free(&res);
	free(hash);
	return rc;
}
