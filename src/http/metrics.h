/* Prometheus metrics: request counts by route and status, a latency histogram
 * per route, and gauges supplied at scrape time. Counters are lock-free
 * atomics so the hot path costs a few increments. Route names are registered
 * once at start-up; ids index a fixed table. */
#ifndef KRATE_METRICS_H
#define KRATE_METRICS_H

#include <stdint.h>
#include "core/buf.h"

#define METRICS_MAX_ROUTES 256
/* Route id for every web console page (one series: route="console"). */
#define METRICS_ROUTE_CONSOLE (-2)

/* names are "METHOD /route" and must outlive the process (string literals).
 * Returns 0 or KE_INVALID. */
int metrics_init(const char *const *route_names, int n);
void metrics_observe(int route_id, int status, uint64_t nanos);
/* Appends the request counters and histograms in text exposition format. */
int metrics_render(struct buf *out);

#endif
