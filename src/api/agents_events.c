/* GET /api/agents/runs/{run}/events: one run as server-sent events.
 *
 *   event: phase        data: {run, phase, attempt, reason, message, generation}
 *   event: transcript   id: <attempt number>:<seq>
 *                       data: {attempt, number, seq, type, role, content, ...}
 *   event: end          data: {run, phase, reason, message}
 *
 * On connect: the run's phase, every transcript message so far (after the
 * Last-Event-ID, when given), then new ones as the runtime writes them; `end`
 * once the run and its current attempt are finished, and the stream closes.
 * The stream is a hub feed: the hub wakes it when the run, one of its
 * attempts or one of their transcripts changes, and it reads what is new
 * from the store, so nothing is lost between wakes and a reconnect with
 * Last-Event-ID resumes exactly. */
#include "api/agents_api.h"
#include "model/admission.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stop filling at this size; the rest follows on the next read. */
#define FEED_CHUNK (256u * 1024u)

struct run_feed {
	struct store *store;
	char ns[96];
	char run[AGENTS_NAME_MAX];
	char attempt_prefix[AGENTS_NAME_MAX + 2];           /* "<run>-" */
	char transcript_prefix[AGENTS_NAME_MAX + 16];       /* "transcript-<run>-" */
	long number;              /* last message sent: attempt number and seq */
	long long seq;
	char phase[32];           /* last phase sent */
};

static int has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int feed_match(void *arg, const char *kind, const char *name)
{
	struct run_feed *f = arg;

	if (!strcmp(kind, "AgentDispatchRun"))
		return !strcmp(name, f->run);
	if (!strcmp(kind, "AgentDispatchAttempt"))
		return has_prefix(name, f->attempt_prefix);
	if (!strcmp(kind, "AgentSessionTranscript"))
		return has_prefix(name, f->transcript_prefix);
	return 0;
}

/* The object kind/name of the feed's namespace (new ref), NULL when absent;
 * KE_* on a read error. */
static int feed_get(struct run_feed *f, const char *kind, const char *name, json_t **out)
{
	struct kerr e = KERR_INIT;
	char *json = NULL;
	size_t len;
	int rc = store_get(f->store, kind, f->ns, name, &json, &len, &e);

	kerr_clear(&e);
	*out = NULL;
	if (rc == KE_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	*out = json_loadb(json, len, 0, NULL);
	free(json);
	return *out ? 0 : KE_INTERNAL;
}

/* "event: <name>\n[id: <id>\n]data: <compact JSON of v>\n\n"; takes v. */
static int frame(struct buf *out, const char *event, const char *id, json_t *v)
{
	char *data = v ? json_dumps(v, JSON_COMPACT) : NULL;
	int rc;

	json_decref(v);
	if (!data)
		return KE_NOMEM;
	rc = buf_printf(out, "event: %s\n", event);
	if (!rc && id)
		rc = buf_printf(out, "id: %s\n", id);
	if (!rc)
		rc = buf_printf(out, "data: %s\n\n", data);
	free(data);
	return rc;
}

/* Sends the messages of attempt number n after the cursor; 1 when the chunk is full. */
static int send_transcript(struct run_feed *f, long n, struct buf *out, int *err)
{
	char name[AGENTS_NAME_MAX + 48], attempt[AGENTS_NAME_MAX + 24], id[48];
	json_t *t = NULL, *msgs, *m;
	size_t i;
	int rc;

	snprintf(attempt, sizeof(attempt), "%s-%ld", f->run, n);
	snprintf(name, sizeof(name), "transcript-%s", attempt);
	if ((rc = feed_get(f, "AgentSessionTranscript", name, &t))) {
		*err = rc;
		return 1;
	}
	msgs = json_object_get(json_object_get(t, "spec"), "messages");
	json_array_foreach(msgs, i, m) {
		json_t *sv = json_object_get(m, "seq"), *ev;
		long long seq = json_is_integer(sv) ? json_integer_value(sv) : (long long)i + 1;

		if (!json_is_object(m) || (n == f->number && seq <= f->seq))
			continue;
		ev = json_deep_copy(m);
		json_object_set_new(ev, "attempt", json_string(attempt));
		json_object_set_new(ev, "number", json_integer(n));
		json_object_set_new(ev, "seq", json_integer(seq));
		snprintf(id, sizeof(id), "%ld:%lld", n, seq);
		if ((rc = frame(out, "transcript", id, ev))) {
			*err = rc;
			break;
		}
		f->number = n;
		f->seq = seq;
		if (out->len >= FEED_CHUNK)
			break;
	}
	json_decref(t);
	return *err || out->len >= FEED_CHUNK;
}

static int feed_fill(void *arg, struct buf *out)
{
	struct run_feed *f = arg;
	json_t *run = NULL, *att = NULL, *st;
	const char *phase, *cur;
	long n, last;
	int err = 0, done = 0;

	if ((err = feed_get(f, "AgentDispatchRun", f->run, &run)))
		goto fail;
	if (!run) {
		frame(out, "end", NULL, json_pack("{s:s, s:n, s:s, s:s}", "run", f->run, "phase", "reason", "Deleted",
						  "message", "the run was deleted"));
		return 1;
	}
	st = json_object_get(run, "status");
	phase = json_string_value(json_object_get(st, "phase"));
	cur = json_string_value(json_object_get(st, "currentAttempt"));
	if (phase && strcmp(phase, f->phase) && strlen(phase) < sizeof(f->phase)) {
		if ((err = frame(out, "phase", NULL,
				 json_pack("{s:s, s:s, s:s?, s:O?, s:O?, s:I}", "run", f->run, "phase", phase, "attempt", cur,
					   "reason", json_object_get(st, "reason"), "message", json_object_get(st, "message"),
					   "generation", (json_int_t)agents_int(run, "metadata", "generation")))))
			goto fail;
		snprintf(f->phase, sizeof(f->phase), "%s", phase);
	}
	/* Read after the run: what the runtime wrote before the run's status is here. */
	last = agents_attempt_number(f->run, cur);
	if (json_integer_value(json_object_get(st, "attempts")) > last)
		last = (long)json_integer_value(json_object_get(st, "attempts"));
	for (n = f->number > 0 ? f->number : 1; n <= last; n++)
		if (send_transcript(f, n, out, &err))
			break;
	if (err)
		goto fail;
	if (n <= last || !agents_terminal(phase))
		goto out;
	/* A cancelled run's attempt may still be stopping and writing its last messages. */
	if ((err = feed_get(f, "AgentDispatchAttempt", cur ? cur : "", &att)))
		goto fail;
	if (!att || agents_terminal(agents_str(att, "status", "phase"))) {
		frame(out, "end", NULL,
		      json_pack("{s:s, s:s, s:O?, s:O?}", "run", f->run, "phase", phase, "reason",
				json_object_get(st, "reason"), "message", json_object_get(st, "message")));
		done = 1;
	}
out:
	json_decref(att);
	json_decref(run);
	return done;
fail:
	json_decref(att);
	json_decref(run);
	buf_printf(out, "event: error\ndata: {\"error\":{\"code\":\"%s\",\"message\":\"cannot read the run\"}}\n\n",
		   kerr_default_code(err));
	return 1;
}

static void feed_release(void *arg)
{
	free(arg);
}

static const struct hub_feed_ops feed_ops = { feed_match, feed_fill, feed_release };

/* Last-Event-ID "<number>:<seq>" into f; 0, or -1 when malformed. */
static int parse_last_id(const char *s, struct run_feed *f)
{
	char *end;
	long n;
	long long seq;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end != ':' || n < 1)
		return -1;
	s = end + 1;
	errno = 0;
	seq = strtoll(s, &end, 10);
	if (errno || end == s || *end || seq < 0)
		return -1;
	f->number = n;
	f->seq = seq;
	return 0;
}

int h_agents_run_events(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org = agents_route_org(a, r, m, p, &e);
	const char *last = http_req_header(r, "Last-Event-ID");
	char found[AGENTS_NAME_MAX];
	struct run_feed *f = NULL;
	json_t *run = NULL;
	int rc;

	if (!org && e.kcode)
		return pulls_fail(r, &e);
	if (!last)
		last = http_req_query(r, "lastEventId");
	if ((rc = agents_find(a, p, org, "AgentDispatchRun", m->seg[0], found, &run, &e)))
		goto fail;
	f = calloc(1, sizeof(*f));
	if (!f) {
		kerr_set(&e, KE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	f->store = a->store;
	admission_org_namespace(found, f->ns, sizeof(f->ns));
	snprintf(f->run, sizeof(f->run), "%s", m->seg[0]);
	snprintf(f->attempt_prefix, sizeof(f->attempt_prefix), "%s-", f->run);
	snprintf(f->transcript_prefix, sizeof(f->transcript_prefix), "transcript-%s-", f->run);
	if (last && *last && parse_last_id(last, f)) {
		kerr_set(&e, KE_INVALID, NULL, "Last-Event-ID must be <attempt number>:<seq>");
		goto fail;
	}
	http_add_header(r, "X-Accel-Buffering", "no");
	rc = hub_feed(a->hub, r, f->ns, &feed_ops, f, &e);
	if (rc == HTTP_STREAM) {
		json_decref(run);
		return rc;
	}
fail:
	free(f);
	json_decref(run);
	return pulls_fail(r, &e);
}
