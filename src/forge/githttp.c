/* Git smart HTTP: /<org>/<repo>.git/{info/refs,git-upload-pack,git-receive-pack}
 * served by `git http-backend` as a CGI, one worker thread per request. */
#include "forge/forge_internal.h"
#include "api/api_internal.h"
#include "core/log.h"
#include "core/util.h"
#include "model/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define GIT_BODY_MAX ((size_t)2 << 30)   /* pushes up to 2 GiB */
#define JOB_BUF (64 * 1024)              /* response bytes between git and the client */
#define CGI_HEADER_MAX (16 * 1024)
#define PUSH_UPDATES_MAX (16u * 1024u * 1024u) /* post-receive's list: ~10000 refs */

/* ---- paths ---- */

struct git_target {
	char org[FORGE_NAME_MAX];
	char repo[FORGE_NAME_MAX];
	const char *rest;        /* what follows "/<org>/<repo>.git" */
};

/* Splits "/<org>/<repo>.git[/rest]"; 0 or -1. Names are checked later. */
static int split_path(const char *path, struct git_target *t)
{
	const char *org, *repo, *end;
	size_t lo, lr;

	if (!path || path[0] != '/')
		return -1;
	org = path + 1;
	repo = strchr(org, '/');
	if (!repo)
		return -1;
	lo = (size_t)(repo - org);
	repo++;
	end = strchr(repo, '/');
	lr = end ? (size_t)(end - repo) : strlen(repo);
	if (!lo || lo >= FORGE_NAME_MAX || lr <= 4 || lr - 4 >= FORGE_NAME_MAX || strncmp(repo + lr - 4, ".git", 4))
		return -1;
	memcpy(t->org, org, lo);
	t->org[lo] = '\0';
	memcpy(t->repo, repo, lr - 4);
	t->repo[lr - 4] = '\0';
	t->rest = repo + lr;
	return 0;
}

int forge_owns_path(const char *path)
{
	struct git_target t;

	return split_path(path, &t) == 0;
}

/* ---- request body spool ---- */

struct spool {
	int fd;
};

static void spool_free(void *arg)
{
	struct spool *s = arg;

	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static int spool_write(void *arg, const char *data, size_t len)
{
	struct spool *s = arg;

	while (len) {
		ssize_t n = write(s->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return KE_IO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int open_spool(const char *dir)
{
	char path[PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || snprintf(path, sizeof(path), "%s/spool-XXXXXX", dir) >= (int)sizeof(path))
		return fd;
	/* Filesystems without O_TMPFILE: create, then unlink at once. */
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

int forge_upload_sink(struct http_req *r, struct forge *f, struct http_sink *out)
{
	struct spool *s;

	if (strcmp(http_req_method(r), "POST") || !forge_owns_path(http_req_path(r)))
		return 0;
	s = malloc(sizeof(*s));
	if (!s)
		return 0;
	s->fd = open_spool(f->tmp_dir);
	if (s->fd < 0) {
		log_warn("forge: cannot create a spool file in %s: %s", f->tmp_dir, strerror(errno));
		free(s);
		return 0;
	}
	http_req_set_data(r, s, spool_free);
	out->write = spool_write;
	out->arg = s;
	out->max = GIT_BODY_MAX;
	return 1;
}

/* ---- authentication ---- */

/* Fills p from "Authorization: Basic" (the password is an API token).
 * 0: authenticated or no credentials (p anonymous); -1: bad credentials. */
static int basic_principal(struct forge *f, struct http_req *r, struct principal *p)
{
	const char *h = http_req_header(r, "Authorization");
	unsigned char dec[512];
	size_t n;
	char *colon;
	struct kerr e = KERR_INIT;
	int rc;

	p->user = strdup("anonymous");
	if (!p->user)
		return -1;
	if (!h)
		return 0;
	if (strncasecmp(h, "Basic ", 6) || strlen(h) > 700)
		return -1;
	h += 6;
	while (*h == ' ')
		h++;
	rc = -1;
	if (!sodium_base642bin(dec, sizeof(dec) - 1, h, strlen(h), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL)) {
		dec[n] = '\0';
		colon = strchr((char *)dec, ':');
		/* The token names its user; the username git sends is not trusted. */
		if (colon) {
			api_principal_free(p);
			rc = api_token_principal(f->api, colon + 1, p, &e);
			kerr_clear(&e);
		}
	}
	sodium_memzero(dec, sizeof(dec));
	return rc ? -1 : 0;
}

static int respond_text(struct http_req *r, int status, const char *msg)
{
	if (status == 401)
		http_add_header(r, "WWW-Authenticate", "Basic realm=\"Krate\"");
	http_respond_copy(r, status, "text/plain; charset=utf-8", msg, strlen(msg));
	return HTTP_DONE;
}

struct audit_job {
	struct store_batch b;
	char *actor, *resource, *result, *corr;
	char org[FORGE_NAME_MAX];
};

static void audit_free(struct audit_job *j)
{
	free(j->actor);
	free(j->resource);
	free(j->result);
	free(j->corr);
	kerr_clear(&j->b.err);
	free(j);
}

static void audit_done(struct store_batch *b, void *arg)
{
	(void)b;
	audit_free(arg);
}

/* Audits a push attempt without waiting for the commit. */
static void audit_push_as(struct forge *f, const char *actor, const char *corr, const char *org, const char *repo,
			  const char *result)
{
	struct audit_job *j = calloc(1, sizeof(*j));

	if (!j)
		return;
	if (asprintf(&j->resource, "Repository/krate-org-%s/%s", org, repo) < 0)
		j->resource = NULL;
	j->actor = strdup(actor);
	j->result = strdup(result);
	j->corr = strdup(corr);
	snprintf(j->org, sizeof(j->org), "%s", org);
	if (!j->resource || !j->actor || !j->result || !j->corr) {
		audit_free(j);
		return;
	}
	j->b.audit.actor = j->actor;
	j->b.audit.org = j->org;
	j->b.audit.verb = "git.push";
	j->b.audit.resource = j->resource;
	j->b.audit.result = j->result;
	j->b.audit.correlation_id = j->corr;
	j->b.done = audit_done;
	j->b.arg = j;
	if (store_submit(f->store, &j->b)) {
		log_warn("forge: cannot audit a push to %s/%s", org, repo);
		audit_free(j);
	}
}

static void audit_push(struct forge *f, struct http_req *r, const struct principal *p,
		       const struct git_target *t, const char *result)
{
	audit_push_as(f, p->user ? p->user : "anonymous", http_req_correlation_id(r), t->org, t->repo, result);
}

/* ---- the CGI worker ---- */

struct job {
	struct forge *f;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;                /* the worker, and the stream once started */
	char *git_path;
	char **env;
	char *policy_path;       /* the push rules for the hook (unlinked at the end) or NULL */
	char *verdict_path;      /* where the hook records a rejection (unlinked at the end) */
	char *updates_path;      /* where post-receive lists the updated refs (unlinked at the end) */
	char *actor, *corr;      /* for auditing the hook's rejection */
	struct git_target t;
	int in_fd;               /* the spooled body or -1 */
	struct http_req *r;      /* until http_complete */
	struct http_stream *st;
	char buf[JOB_BUF];
	size_t head, len;
	int eof, released;
};

static void job_unref(struct job *j)
{
	size_t i;
	int last;

	pthread_mutex_lock(&j->lock);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (!last)
		return;
	for (i = 0; j->env && j->env[i]; i++)
		free(j->env[i]);
	free(j->env);
	free(j->git_path);
	if (j->policy_path) {
		unlink(j->policy_path);
		free(j->policy_path);
	}
	if (j->verdict_path) {
		unlink(j->verdict_path);
		free(j->verdict_path);
	}
	if (j->updates_path) {
		unlink(j->updates_path);
		free(j->updates_path);
	}
	free(j->actor);
	free(j->corr);
	if (j->in_fd >= 0)
		close(j->in_fd);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->cond);
	free(j);
}

static long job_read(void *arg, char *out, size_t max)
{
	struct job *j = arg;
	size_t n;

	pthread_mutex_lock(&j->lock);
	if (!j->len) {
		long rc = j->eof ? -1 : 0;

		pthread_mutex_unlock(&j->lock);
		return rc;
	}
	n = j->len;
	if (n > JOB_BUF - j->head)
		n = JOB_BUF - j->head;
	if (n > max)
		n = max;
	memcpy(out, j->buf + j->head, n);
	j->head = (j->head + n) % JOB_BUF;
	j->len -= n;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	return (long)n;
}

static void job_release(void *arg)
{
	struct job *j = arg;

	pthread_mutex_lock(&j->lock);
	j->released = 1;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	job_unref(j);
}

static const struct http_stream_ops job_ops = { job_read, job_release };

static ssize_t read_full(int fd, char *out, size_t max)
{
	ssize_t n;

	do
		n = read(fd, out, max);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Reads the CGI header block; applies it to j->r and starts the stream.
 * Body bytes read past the headers go to j->buf. 0 or -1 (nothing sent). */
static int start_response(struct job *j, int fd)
{
	char hdr[CGI_HEADER_MAX + 1];
	size_t have = 0, body_at = 0;
	char *line, *next, *end;
	const char *ctype = "application/octet-stream";
	int status = 200;
	ssize_t n;

	for (;;) {
		if (have == CGI_HEADER_MAX)
			return -1;
		n = read_full(fd, hdr + have, CGI_HEADER_MAX - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		hdr[have] = '\0';
		if ((end = strstr(hdr, "\r\n\r\n"))) {
			body_at = (size_t)(end - hdr) + 4;
			break;
		}
		if ((end = strstr(hdr, "\n\n"))) {
			body_at = (size_t)(end - hdr) + 2;
			break;
		}
	}
	*end = '\0';
	for (line = hdr; line && *line; line = next) {
		char *colon, *val;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		val = colon + 1;
		while (*val == ' ')
			val++;
		if (!strcasecmp(line, "Status")) {
			status = atoi(val);
			if (status < 100 || status > 599)
				status = 500;
		} else if (!strcasecmp(line, "Content-Type")) {
			ctype = val;
		} else if (strcasecmp(line, "Content-Length") && strcasecmp(line, "Transfer-Encoding") &&
			   strcasecmp(line, "Cache-Control")) {
			/* Framing is ours (chunked) and nothing here is cacheable. */
			http_add_header(j->r, line, val);
		}
	}
	memcpy(j->buf, hdr + body_at, have - body_at);
	j->len = have - body_at;
	pthread_mutex_lock(&j->lock);
	j->refs++;
	pthread_mutex_unlock(&j->lock);
	if (http_stream_start_status(j->r, status, ctype, &job_ops, j, &j->st) != HTTP_STREAM) {
		pthread_mutex_lock(&j->lock);
		j->refs--;
		pthread_mutex_unlock(&j->lock);
		return -1;
	}
	return 0;
}

/* Copies the child's stdout into the bounded buffer until EOF or the client leaves. */
static void pump(struct job *j, int fd, pid_t pid)
{
	size_t tail, room;
	ssize_t n;

	pthread_mutex_lock(&j->lock);
	if (!j->released)
		http_stream_wake(j->st);
	for (;;) {
		while (j->len == JOB_BUF && !j->released)
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->released)
			break;
		tail = (j->head + j->len) % JOB_BUF;
		room = tail >= j->head ? JOB_BUF - tail : j->head - tail;
		if (room > JOB_BUF - j->len)
			room = JOB_BUF - j->len;
		pthread_mutex_unlock(&j->lock);
		/* Only the worker writes [tail, tail+room): the reader never gets there. */
		n = read_full(fd, j->buf + tail, room);
		pthread_mutex_lock(&j->lock);
		if (n > 0)
			j->len += (size_t)n;
		else
			j->eof = 1;
		/* The stream is alive until released is set, which needs this lock. */
		if (!j->released)
			http_stream_wake(j->st);
		if (j->eof)
			break;
	}
	if (j->released)
		kill(pid, SIGTERM);
	pthread_mutex_unlock(&j->lock);
}

/* A new empty 0600 file for the post-receive hook to append to. */
static int create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	return close(fd);
}

/* The post-receive hook's lines "<old> <new> <ref>" as [{ref, before, after}]
 * (new ref); NULL when the file cannot be read. */
static json_t *read_updates(const char *path)
{
	struct buf text = BUF_INIT(PUSH_UPDATES_MAX);
	char chunk[8192], *line, *next;
	json_t *updates = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	while ((n = read_full(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_add(&text, chunk, (size_t)n)) {
			log_warn("forge: a push updated too many refs to record them all");
			break;
		}
	}
	close(fd);
	updates = json_array();
	for (line = text.data; updates && line && *line; line = next) {
		char *new_sha, *ref;

		next = strchr(line, '\n');
		if (!next)
			break;           /* cut at the cap: not a whole line */
		*next++ = '\0';
		new_sha = strchr(line, ' ');
		ref = new_sha ? strchr(new_sha + 1, ' ') : NULL;
		if (!ref)
			continue;
		*new_sha++ = '\0';
		*ref++ = '\0';
		if (json_array_append_new(updates, json_pack("{s:s, s:s, s:s}", "ref", ref, "before", line, "after",
							     new_sha))) {
			json_decref(updates);
			updates = NULL;
		}
	}
	buf_free(&text);
	return updates;
}

/* An accepted push: the refs the post-receive hook saw updated become records. */
static void record_push(struct job *j)
{
	struct kerr e = KERR_INIT;
	json_t *updates;

	if (!j->updates_path)
		return;
	updates = read_updates(j->updates_path);
	if (!updates)
		log_warn("forge: cannot read the updated refs of a push to %s/%s", j->t.org, j->t.repo);
	else if (json_array_size(updates) &&
		 api_record_push(j->f->api, j->t.org, j->t.repo, j->actor, updates, j->corr, &e))
		log_warn("forge: cannot record a push to %s/%s: %s", j->t.org, j->t.repo, e.message ? e.message : "");
	json_decref(updates);
	kerr_clear(&e);
}

static void job_done(struct forge *f)
{
	pthread_mutex_lock(&f->lock);
	if (!--f->jobs)
		pthread_cond_broadcast(&f->jobs_idle);
	pthread_mutex_unlock(&f->lock);
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct forge *f = j->f;
	char *argv[] = { j->git_path, "http-backend", NULL };
	int p[2] = { -1, -1 };
	pid_t pid = -1;

	if (pipe2(p, O_CLOEXEC) || (pid = forge_spawn(argv, j->env, j->in_fd, p[1])) < 0) {
		log_error("forge: cannot run git http-backend");
		goto fail;
	}
	close(p[1]);
	p[1] = -1;
	if (start_response(j, p[0])) {
		log_warn("forge: git http-backend sent no valid CGI response");
		goto fail;
	}
	http_complete(j->r);
	j->r = NULL;
	pump(j, p[0], pid);
	close(p[0]);
	forge_wait(pid);
	/* The push itself was allowed at the HTTP level; the hook may have refused its refs. */
	if (j->verdict_path && !access(j->verdict_path, F_OK))
		audit_push_as(f, j->actor, j->corr, j->t.org, j->t.repo, "denied:POLICY");
	record_push(j);
	job_unref(j);
	job_done(f);
	return NULL;
fail:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	if (pid > 0) {
		kill(pid, SIGTERM);
		forge_wait(pid);
	}
	respond_text(j->r, 500, "git http-backend failed\n");
	http_complete(j->r);
	/* git may have updated refs before it failed. */
	record_push(j);
	job_unref(j);
	job_done(f);
	return NULL;
}

static int env_add(char **env, size_t *n, const char *name, const char *value)
{
	if (!value)
		return 0;
	if (asprintf(&env[*n], "%s=%s", name, value) < 0) {
		env[*n] = NULL;
		return -1;
	}
	(*n)++;
	return 0;
}

/* A header value that may go into the CGI environment. */
static const char *clean_header(struct http_req *r, const char *name)
{
	const char *v = http_req_header(r, name);
	size_t i;

	if (!v || strlen(v) > 256)
		return NULL;
	for (i = 0; v[i]; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return NULL;
	return v;
}

static int run_backend(struct forge *f, struct http_req *r, const struct principal *p,
		       const struct git_target *t, const char *service, int post)
{
	struct job *j = calloc(1, sizeof(*j));
	struct spool *sp = http_req_data(r);
	char path_info[3 * FORGE_NAME_MAX], query[64], length[32], policy[PATH_MAX];
	struct stat st;
	pthread_t tid;
	pthread_attr_t attr;
	size_t n = 0;
	int ok = 1, busy;

	if (!j)
		return respond_text(r, 500, "out of memory\n");
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->refs = 1;
	j->in_fd = -1;
	j->r = r;
	j->git_path = strdup(f->git_path);
	j->env = calloc(26, sizeof(char *));
	snprintf(path_info, sizeof(path_info), "/%s/%s.git%s", t->org, t->repo,
		 post ? (strcmp(service, "git-receive-pack") ? "/git-upload-pack" : "/git-receive-pack")
		      : "/info/refs");
	query[0] = '\0';
	if (!post)
		snprintf(query, sizeof(query), "service=%s", service);
	if (post) {
		if (!sp || fstat(sp->fd, &st) || lseek(sp->fd, 0, SEEK_SET) || (j->in_fd = fcntl(sp->fd, F_DUPFD_CLOEXEC, 3)) < 0)
			ok = 0;
		else
			snprintf(length, sizeof(length), "%lld", (long long)st.st_size);
	}
	/* What the pre-receive hook decides on; git passes the environment down to it. */
	if (ok && post && !strcmp(service, "git-receive-pack")) {
		if (forge_policy_file(f, t->org, t->repo, policy, sizeof(policy))) {
			log_warn("forge: cannot write the push rules for %s/%s", t->org, t->repo);
			ok = 0;
		} else if (!(j->policy_path = strdup(policy))) {
			unlink(policy);
			ok = 0;
		}
	}
	if (ok && j->policy_path) {
		if (asprintf(&j->verdict_path, "%s.verdict", j->policy_path) < 0)
			j->verdict_path = NULL;
		if (asprintf(&j->updates_path, "%s.updates", j->policy_path) < 0)
			j->updates_path = NULL;
		else if (create_private(j->updates_path)) {
			free(j->updates_path);
			j->updates_path = NULL;
		}
		j->actor = strdup(p->user ? p->user : "anonymous");
		j->corr = strdup(http_req_correlation_id(r));
		if (!j->verdict_path || !j->updates_path || !j->actor || !j->corr)
			ok = 0;
	}
	j->t = *t;
	j->t.rest = NULL;        /* points into the request, which ends first */
	if (!ok || !j->git_path || !j->env ||
	    env_add(j->env, &n, "GIT_PROJECT_ROOT", f->git_root) ||
	    env_add(j->env, &n, "GIT_HTTP_EXPORT_ALL", "1") ||
	    env_add(j->env, &n, "PATH", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin") ||
	    env_add(j->env, &n, "PATH_INFO", path_info) ||
	    env_add(j->env, &n, "QUERY_STRING", query) ||
	    env_add(j->env, &n, "REQUEST_METHOD", post ? "POST" : "GET") ||
	    env_add(j->env, &n, "CONTENT_TYPE", clean_header(r, "Content-Type")) ||
	    env_add(j->env, &n, "CONTENT_LENGTH", post ? length : NULL) ||
	    env_add(j->env, &n, "HTTP_CONTENT_ENCODING", clean_header(r, "Content-Encoding")) ||
	    env_add(j->env, &n, "GIT_PROTOCOL", clean_header(r, "Git-Protocol")) ||
	    env_add(j->env, &n, "REMOTE_USER", p->authenticated && p->user && *p->user ? p->user : "anonymous") ||
	    env_add(j->env, &n, "REMOTE_ADDR", http_req_client_addr(r)) ||
	    env_add(j->env, &n, "KRATE_PUSH_POLICY", j->policy_path) ||
	    env_add(j->env, &n, "KRATE_PUSH_VERDICT", j->verdict_path) ||
	    env_add(j->env, &n, "KRATE_PUSH_UPDATES", j->updates_path) ||
	    env_add(j->env, &n, "KRATE_PUSH_ORG", j->policy_path ? t->org : NULL) ||
	    env_add(j->env, &n, "KRATE_PUSH_REPO", j->policy_path ? t->repo : NULL) ||
	    env_add(j->env, &n, "KRATE_PUSH_USER", j->policy_path ? p->user : NULL) ||
	    env_add(j->env, &n, "KRATE_PUSH_ROLE", j->policy_path ? kinds_role_name(p->role) : NULL) ||
	    env_add(j->env, &n, "KRATE_PUSH_GIT", j->policy_path ? f->git_path : NULL) ||
	    env_add(j->env, &n, "ASAN_OPTIONS", getenv("ASAN_OPTIONS")) ||
	    env_add(j->env, &n, "UBSAN_OPTIONS", getenv("UBSAN_OPTIONS")) ||
	    env_add(j->env, &n, "LSAN_OPTIONS", getenv("LSAN_OPTIONS"))) {
		job_unref(j);
		return respond_text(r, 500, "cannot prepare git http-backend\n");
	}
	pthread_mutex_lock(&f->lock);
	busy = f->jobs >= FORGE_JOBS_MAX;
	if (!busy)
		f->jobs++;
	pthread_mutex_unlock(&f->lock);
	if (busy) {
		job_unref(j);
		return respond_text(r, 503, "too many git requests; try again\n");
	}
	j->f = f;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, job_main, j)) {
		pthread_attr_destroy(&attr);
		job_unref(j);
		job_done(f);
		return respond_text(r, 503, "too busy\n");
	}
	pthread_attr_destroy(&attr);
	return HTTP_DEFER;
}

/* ---- the handler ---- */

int forge_handle(struct http_req *r, struct forge *f)
{
	struct git_target t;
	struct principal p = { 0 };
	const char *method = http_req_method(r), *service = NULL, *vis, *phase;
	char ns[FORGE_NAME_MAX + 16], path[PATH_MAX];
	char *json = NULL;
	size_t len;
	json_t *obj = NULL;
	struct kerr e = KERR_INIT;
	struct stat st;
	struct spool *sp = http_req_data(r);
	int post = 0, push, rc;

	if (split_path(http_req_path(r), &t) || !util_dns_label(t.org) || !util_dns_label(t.repo))
		return respond_text(r, 404, "repository not found\n");
	if (!strcmp(t.rest, "/info/refs") && !strcmp(method, "GET")) {
		service = http_req_query(r, "service");
	} else if ((!strcmp(t.rest, "/git-upload-pack") || !strcmp(t.rest, "/git-receive-pack")) &&
		   !strcmp(method, "POST")) {
		service = t.rest + 1;
		post = 1;
	} else {
		return respond_text(r, 404, "not found (only git smart HTTP is served here)\n");
	}
	if (!service || (strcmp(service, "git-upload-pack") && strcmp(service, "git-receive-pack")))
		return respond_text(r, 403, "only git smart HTTP is supported\n");
	push = !strcmp(service, "git-receive-pack");

	if (basic_principal(f, r, &p)) {
		if (push)
			audit_push(f, r, &p, &t, "denied:UNAUTHENTICATED");
		rc = respond_text(r, 401, "invalid username or token\n");
		goto out;
	}
	snprintf(ns, sizeof(ns), "krate-org-%s", t.org);
	if (!api_org_allowed(&p, t.org) ||
	    store_get(f->store, "Repository", ns, t.repo, &json, &len, &e) ||
	    !(obj = json_loads(json, 0, NULL))) {
		/* Anonymous callers learn nothing: they are asked to sign in. */
		rc = p.authenticated ? respond_text(r, 404, "repository not found\n")
				     : respond_text(r, 401, "authentication required\n");
		goto out;
	}
	vis = json_string_value(json_object_get(json_object_get(obj, "spec"), "visibility"));
	phase = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
	if ((push || !vis || strcmp(vis, "public")) && !p.authenticated) {
		/* No credentials yet: the challenge that makes git send them, not a refusal. */
		rc = respond_text(r, 401, "authentication required\n");
		goto out;
	}
	if (push && p.role < ROLE_DEVELOPER) {
		audit_push(f, r, &p, &t, "denied:FORBIDDEN");
		rc = respond_text(r, 403, "pushing needs the developer role\n");
		goto out;
	}
	if (forge_repo_path(f->data_dir, t.org, t.repo, path, sizeof(path)) || stat(path, &st) ||
	    !phase || strcmp(phase, "Ready")) {
		rc = respond_text(r, 503, "the repository is not ready yet\n");
		goto out;
	}
	/* git probes with a 4-byte "0000" POST before a large (chunked) push. */
	if (push && post && !(sp && !fstat(sp->fd, &st) && st.st_size <= 4))
		audit_push(f, r, &p, &t, "allowed");
	rc = run_backend(f, r, &p, &t, service, post);
out:
	json_decref(obj);
	free(json);
	kerr_clear(&e);
	api_principal_free(&p);
	return rc;
}
