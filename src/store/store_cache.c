/* The read cache behind store_get: (kind, namespace, name) -> the stored JSON
 * text, so a hit touches no SQLite lock or statement.
 *
 * Correctness rests on two facts: only this process writes the objects table,
 * and only the writer thread changes it, applying each committed group here
 * before anyone is told about the commit. Readers fill misses from SQLite; a
 * fill is refused if a commit may have happened since the reader took the
 * epoch, so an entry never holds an older version than the database.
 *
 * Epoch protocol (a sequence counter): the writer makes it odd right before
 * COMMIT, drops the keys the group changes, and makes it even again after
 * applying the group. A fill is accepted only when
 * the epoch, re-read under the stripe lock, still equals the even value the
 * reader took before its SQLite read. Bumping before COMMIT (not only at the
 * apply) matters: otherwise a fill from a pre-commit snapshot could land after
 * another reader already got the new version from SQLite, and that reader's
 * next get would go back in time.
 *
 * Locking: the table is split into stripes, each a rwlock over its own chained
 * hash table, so hits only share a read lock. The byte total is one atomic,
 * reserved with compare-and-swap so the cap holds across stripes. */
#include "store/sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#define STRIPES 64                        /* power of two */
#define STRIPE_BUCKETS0 16                /* initial buckets per stripe, power of two */
#define EVICT_MAX 8                       /* victims one insert may push out */
#define DEFAULT_CAP ((size_t)64 << 20)

struct centry {
	struct centry *next;
	uint64_t hash;
	size_t kl, nl, ml;                /* lengths of kind, ns, name */
	size_t len;                       /* JSON bytes without the NUL */
	size_t charge;                    /* what the entry counts against the cap */
	char data[];                      /* kind\0ns\0name\0json\0 */
};

/* Its own cache line, so readers of one stripe do not slow down another's. */
struct stripe {
	_Alignas(64) pthread_rwlock_t lock;
	struct centry **b;
	size_t nb, n;
	size_t hand;                      /* next bucket to evict from */
};

struct sq_cache {
	size_t cap;
	_Atomic size_t bytes;
	_Atomic uint64_t epoch;
	struct stripe *st;
};

struct ckey {
	const char *kind, *ns, *name;
	size_t kl, nl, ml;
	uint64_t hash;
};

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The NUL after each part keeps ("ab","c") and ("a","bc") apart. */
static void key_init(struct ckey *k, const char *kind, const char *ns, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	k->kind = kind;
	k->ns = ns;
	k->name = name;
	k->kl = strlen(kind);
	k->nl = strlen(ns);
	k->ml = strlen(name);
	h = fnv(h, kind, k->kl + 1);
	h = fnv(h, ns, k->nl + 1);
	h = fnv(h, name, k->ml + 1);
	/* FNV's low bits are weak and both stripe and bucket come from them */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	k->hash = h;
}

static struct stripe *stripe_of(struct sq_cache *c, uint64_t hash)
{
	return &c->st[hash & (STRIPES - 1)];
}

static size_t bucket_of(const struct stripe *s, uint64_t hash)
{
	return (size_t)(hash >> 6) & (s->nb - 1);
}

static int key_eq(const struct centry *x, const struct ckey *k)
{
	return x->hash == k->hash && x->kl == k->kl && x->nl == k->nl && x->ml == k->ml &&
	       !memcmp(x->data, k->kind, k->kl) &&
	       !memcmp(x->data + k->kl + 1, k->ns, k->nl) &&
	       !memcmp(x->data + k->kl + k->nl + 2, k->name, k->ml);
}

static const char *entry_json(const struct centry *x)
{
	return x->data + x->kl + x->nl + x->ml + 3;
}

/* The link pointing at the key's entry (or the chain's terminating NULL). */
static struct centry **find(struct stripe *s, const struct ckey *k)
{
	struct centry **pp = &s->b[bucket_of(s, k->hash)];

	while (*pp && !key_eq(*pp, k))
		pp = &(*pp)->next;
	return pp;
}

static struct centry *entry_new(const struct ckey *k, const char *json, size_t len)
{
	size_t klen = k->kl + k->nl + k->ml + 3;
	struct centry *x;
	char *p;

	if (len > SIZE_MAX - sizeof(*x) - klen - 1)
		return NULL;
	x = malloc(sizeof(*x) + klen + len + 1);
	if (!x)
		return NULL;
	x->next = NULL;
	x->hash = k->hash;
	x->kl = k->kl;
	x->nl = k->nl;
	x->ml = k->ml;
	x->len = len;
	x->charge = sizeof(*x) + klen + len + 1;
	p = x->data;
	memcpy(p, k->kind, k->kl + 1);
	p += k->kl + 1;
	memcpy(p, k->ns, k->nl + 1);
	p += k->nl + 1;
	memcpy(p, k->name, k->ml + 1);
	p += k->ml + 1;
	memcpy(p, json, len);
	p[len] = '\0';
	return x;
}

static int reserve(struct sq_cache *c, size_t n)
{
	size_t cur = atomic_load(&c->bytes);

	do {
		if (n > c->cap || cur > c->cap - n)
			return -1;
	} while (!atomic_compare_exchange_weak(&c->bytes, &cur, cur + n));
	return 0;
}

/* Unlinks *pp and frees it; stripe write lock held. */
static void unlink_free(struct sq_cache *c, struct stripe *s, struct centry **pp)
{
	struct centry *x = *pp;

	*pp = x->next;
	s->n--;
	atomic_fetch_sub(&c->bytes, x->charge);
	free(x);
}

/* Reserves room for n bytes, pushing out at most EVICT_MAX entries of this
 * stripe (whatever the clock hand finds first; no recency tracking, so hits
 * write nothing). The other stripes' bytes are not ours to free: give up. */
static int make_room(struct sq_cache *c, struct stripe *s, size_t n)
{
	int victims = 0;

	if (n > c->cap)
		return -1;
	while (reserve(c, n)) {
		if (victims++ == EVICT_MAX || !s->n)
			return -1;
		/* s->n > 0, so some bucket is non-empty */
		while (!s->b[s->hand])
			s->hand = (s->hand + 1) & (s->nb - 1);
		unlink_free(c, s, &s->b[s->hand]);
		s->hand = (s->hand + 1) & (s->nb - 1);
	}
	return 0;
}

/* Doubles the buckets when chains get long; a failed allocation keeps the old table. */
static void maybe_grow(struct stripe *s)
{
	size_t nb = s->nb * 2, i;
	struct centry **b, *x;

	if (s->n <= s->nb || nb > SIZE_MAX / sizeof(*b))
		return;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (i = 0; i < s->nb; i++) {
		while ((x = s->b[i])) {
			size_t j = (size_t)(x->hash >> 6) & (nb - 1);

			s->b[i] = x->next;
			x->next = b[j];
			b[j] = x;
		}
	}
	free(s->b);
	s->b = b;
	s->nb = nb;
	s->hand &= nb - 1;
}

/* Links x (the key is absent); stripe write lock held. Frees x when there is no room. */
static void link_new(struct sq_cache *c, struct stripe *s, struct centry *x)
{
	size_t i;

	if (make_room(c, s, x->charge)) {
		free(x);
		return;
	}
	maybe_grow(s);
	i = bucket_of(s, x->hash);
	x->next = s->b[i];
	s->b[i] = x;
	s->n++;
}

int sq_cache_new(size_t cap, struct sq_cache **out)
{
	struct sq_cache *c;
	size_t i;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return KE_NOMEM;
	c->cap = cap ? cap : DEFAULT_CAP;
	atomic_init(&c->bytes, 0);
	atomic_init(&c->epoch, 0);
	c->st = aligned_alloc(_Alignof(struct stripe), STRIPES * sizeof(*c->st));
	if (!c->st) {
		free(c);
		return KE_NOMEM;
	}
	memset(c->st, 0, STRIPES * sizeof(*c->st));
	for (i = 0; i < STRIPES; i++) {
		struct stripe *s = &c->st[i];

		s->b = calloc(STRIPE_BUCKETS0, sizeof(*s->b));
		s->nb = STRIPE_BUCKETS0;
		if (!s->b || pthread_rwlock_init(&s->lock, NULL)) {
			free(s->b);
			s->b = NULL;
			break;
		}
	}
	if (i < STRIPES) {
		while (i-- > 0) {
			pthread_rwlock_destroy(&c->st[i].lock);
			free(c->st[i].b);
		}
		free(c->st);
		free(c);
		return KE_NOMEM;
	}
	*out = c;
	return 0;
}

void sq_cache_free(struct sq_cache *c)
{
	struct centry *x;
	size_t i, j;

	if (!c)
		return;
	for (i = 0; i < STRIPES; i++) {
		struct stripe *s = &c->st[i];

		for (j = 0; j < s->nb; j++) {
			while ((x = s->b[j])) {
				s->b[j] = x->next;
				free(x);
			}
		}
		free(s->b);
		pthread_rwlock_destroy(&s->lock);
	}
	free(c->st);
	free(c);
}

int sq_cache_get(struct sq_cache *c, const char *kind, const char *ns, const char *name,
		 char **json, size_t *len)
{
	struct ckey k;
	struct stripe *s;
	struct centry *x;
	char *copy = NULL;
	size_t n = 0;

	key_init(&k, kind, ns, name);
	s = stripe_of(c, k.hash);
	pthread_rwlock_rdlock(&s->lock);
	x = *find(s, &k);
	if (x) {
		n = x->len;
		copy = malloc(n + 1);
		if (copy)
			memcpy(copy, entry_json(x), n + 1);
	}
	pthread_rwlock_unlock(&s->lock);
	if (!x)
		return KE_NOTFOUND;
	if (!copy)
		return KE_NOMEM;
	*json = copy;
	*len = n;
	return 0;
}

uint64_t sq_cache_epoch(struct sq_cache *c)
{
	return atomic_load(&c->epoch);
}

void sq_cache_fill(struct sq_cache *c, uint64_t epoch, const char *kind, const char *ns,
		   const char *name, const char *json, size_t len)
{
	struct ckey k;
	struct stripe *s;
	struct centry *x, **pp;

	if (epoch & 1)
		return;
	key_init(&k, kind, ns, name);
	x = entry_new(&k, json, len);
	if (!x)
		return;
	s = stripe_of(c, k.hash);
	pthread_rwlock_wrlock(&s->lock);
	pp = find(s, &k);
	/* an existing entry is at least as new as this read: keep it */
	if (atomic_load(&c->epoch) != epoch || *pp)
		free(x);
	else
		link_new(c, s, x);
	pthread_rwlock_unlock(&s->lock);
}

static void remove_key(struct sq_cache *c, const struct sq_event *ev)
{
	struct stripe *s;
	struct centry **pp;
	struct ckey k;

	key_init(&k, ev->kind, ev->ns, ev->name);
	s = stripe_of(c, k.hash);
	pthread_rwlock_wrlock(&s->lock);
	pp = find(s, &k);
	if (*pp)
		unlink_free(c, s, pp);
	pthread_rwlock_unlock(&s->lock);
}

void sq_cache_commit_begin(struct sq_cache *c, const struct sq_events *ev)
{
	size_t i;

	/* Odd first, so no fill can bring a removed key back before the commit
	 * is applied; between COMMIT and the apply a reader may read the new
	 * row from SQLite, and must not then be handed the old one from here. */
	atomic_fetch_add(&c->epoch, 1);
	for (i = 0; ev && i < ev->n; i++)
		remove_key(c, &ev->v[i]);
}

/* Replaces or removes the key's entry. The old one goes first, so a new text
 * that does not fit (or cannot be allocated) leaves no stale entry behind. */
static void apply_one(struct sq_cache *c, const struct sq_event *ev)
{
	struct centry *x = NULL, **pp;
	struct stripe *s;
	struct ckey k;

	key_init(&k, ev->kind, ev->ns, ev->name);
	if (strcmp(ev->type, "DELETED"))
		x = entry_new(&k, ev->json, ev->len);
	s = stripe_of(c, k.hash);
	pthread_rwlock_wrlock(&s->lock);
	pp = find(s, &k);
	if (*pp)
		unlink_free(c, s, pp);
	if (x)
		link_new(c, s, x);
	pthread_rwlock_unlock(&s->lock);
}

void sq_cache_commit_end(struct sq_cache *c, const struct sq_events *ev)
{
	size_t i;

	for (i = 0; ev && i < ev->n; i++)
		apply_one(c, &ev->v[i]);
	atomic_fetch_add(&c->epoch, 1);
}

void sq_cache_stats(struct sq_cache *c, struct sq_cache_stats *out)
{
	size_t i;

	out->entries = 0;
	for (i = 0; i < STRIPES; i++) {
		pthread_rwlock_rdlock(&c->st[i].lock);
		out->entries += c->st[i].n;
		pthread_rwlock_unlock(&c->st[i].lock);
	}
	out->bytes = atomic_load(&c->bytes);
	out->cap = c->cap;
}
