#include "http/metrics.h"
#include "core/err.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

static const int status_codes[] = { 200, 201, 202, 204, 207, 304, 400, 401, 403, 404, 405, 409,
				    410, 413, 422, 429, 500, 503 };
#define N_STATUS (sizeof(status_codes) / sizeof(status_codes[0]))
/* upper bounds in seconds; the last bucket is +Inf */
static const double bucket_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define N_BUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

struct route_metrics {
	_Atomic uint64_t by_status[N_STATUS + 1]; /* last slot: any other status */
	_Atomic uint64_t buckets[N_BUCKETS + 1];
	_Atomic uint64_t sum_ns;
	_Atomic uint64_t count;
};

static const char *const *names;
static int n_routes;
/* slot n_routes collects requests that matched no route, n_routes + 1 the console */
static struct route_metrics routes[METRICS_MAX_ROUTES + 2];

int metrics_init(const char *const *route_names, int n)
{
	if (n < 0 || n > METRICS_MAX_ROUTES)
		return KE_INVALID;
	names = route_names;
	n_routes = n;
	return 0;
}

void metrics_observe(int route_id, int status, uint64_t nanos)
{
	struct route_metrics *m = &routes[route_id >= 0 && route_id < n_routes ? route_id
					  : route_id == METRICS_ROUTE_CONSOLE ? n_routes + 1 : n_routes];
	size_t i;

	for (i = 0; i < N_STATUS && status_codes[i] != status; i++)
		;
	atomic_fetch_add_explicit(&m->by_status[i], 1, memory_order_relaxed);
	for (i = 0; i < N_BUCKETS && (double)nanos / 1e9 > bucket_le[i]; i++)
		;
	atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_ns, nanos, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

/* Appends method="...",route="..." for route i. */
static int route_labels(struct buf *out, int i)
{
	const char *name = i < n_routes ? names[i] : NULL;
	const char *sp = name ? strchr(name, ' ') : NULL;

	if (i == n_routes + 1)
		return buf_addstr(out, "method=\"\",route=\"console\"");
	if (!sp)
		return buf_addstr(out, "method=\"\",route=\"unmatched\"");
	return buf_printf(out, "method=\"%.*s\",route=\"%s\"", (int)(sp - name), name, sp + 1);
}

int metrics_render(struct buf *out)
{
	int rc = 0, r;
	size_t i;

	rc |= buf_addstr(out, "# HELP krate_http_requests_total HTTP requests by route and status code.\n"
			      "# TYPE krate_http_requests_total counter\n");
	for (r = 0; r <= n_routes + 1; r++) {
		for (i = 0; i <= N_STATUS; i++) {
			uint64_t v = atomic_load_explicit(&routes[r].by_status[i], memory_order_relaxed);

			if (!v)
				continue;
			rc |= buf_addstr(out, "krate_http_requests_total{");
			rc |= route_labels(out, r);
			if (i < N_STATUS)
				rc |= buf_printf(out, ",code=\"%d\"} %llu\n", status_codes[i], (unsigned long long)v);
			else
				rc |= buf_printf(out, ",code=\"other\"} %llu\n", (unsigned long long)v);
		}
	}
	rc |= buf_addstr(out, "# HELP krate_http_request_duration_seconds Request latency by route.\n"
			      "# TYPE krate_http_request_duration_seconds histogram\n");
	for (r = 0; r <= n_routes + 1; r++) {
		uint64_t cum = 0, count = atomic_load_explicit(&routes[r].count, memory_order_relaxed);

		if (!count)
			continue;
		for (i = 0; i <= N_BUCKETS; i++) {
			cum += atomic_load_explicit(&routes[r].buckets[i], memory_order_relaxed);
			rc |= buf_addstr(out, "krate_http_request_duration_seconds_bucket{");
			rc |= route_labels(out, r);
			if (i < N_BUCKETS)
				rc |= buf_printf(out, ",le=\"%g\"} %llu\n", bucket_le[i], (unsigned long long)cum);
			else
				rc |= buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		rc |= buf_addstr(out, "krate_http_request_duration_seconds_sum{");
		rc |= route_labels(out, r);
		rc |= buf_printf(out, "} %.6f\n", (double)atomic_load_explicit(&routes[r].sum_ns, memory_order_relaxed) / 1e9);
		rc |= buf_addstr(out, "krate_http_request_duration_seconds_count{");
		rc |= route_labels(out, r);
		rc |= buf_printf(out, "} %llu\n", (unsigned long long)count);
	}
	return rc ? KE_NOMEM : 0;
}
