/*
 * watchbench: watch fan-out latency of a Krate server.
 *
 * Opens N server-sent-event watches on /api/watch/orgs/ORG/issues (one
 * thread, non-blocking sockets, epoll), waits until every stream has sent its
 * ": watching" comment, then applies M Repositories one after another, INTERVAL
 * ms apart, over one keep-alive connection of the same loop. Each name carries
 * its index, so a frame is matched to its apply by name. Latency of a delivery
 * = time the watcher read the frame - time just before the POST was written.
 *
 * usage: watchbench -p PORT -t TOKEN_FILE -r RESOURCE_VERSION
 *                   [-H 127.0.0.1] [-o bench] [-n 1000] [-m 200] [-i 10] [-T 60]
 * The last stdout line is "RESULT key=value ...", for bench/run.sh.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX 8192
#define FRAME_MAX (4 * 1024 * 1024)
#define POSTER_TAG (-1)

enum wstate { W_CONNECTING, W_HEADERS, W_BODY, W_DONE };
enum cstate { C_SIZE, C_DATA, C_DATA_END };

struct watcher {
	int fd;
	enum wstate st;
	size_t req_off;
	char hdr[HDR_MAX];
	size_t hdr_len;
	int chunked;
	enum cstate cs;
	size_t chunk_left;
	char sizebuf[32];
	size_t size_len;
	char *frame; /* decoded SSE bytes not yet split into frames; owned */
	size_t flen, fcap;
	int watching;
	int counted; /* was watching when the applies started */
};

struct poster {
	int fd;
	int busy;
	char in[HDR_MAX + 65536];
	size_t in_len;
	int idx; /* apply in flight */
};

struct opts {
	const char *host;
	int port;
	const char *token_file;
	const char *org;
	long rv;
	int n, m, interval_ms, timeout_s;
};

static struct opts O = { "127.0.0.1", 0, NULL, "bench", -1, 1000, 200, 10, 60 };
static char token[512];
static char prefix[64];
static char needle[128];
static char watch_req[1024];
static struct watcher *W;
static double *arrival; /* [watcher * m + apply], -1 = not seen; owned */
static double *t_send;  /* per apply; owned */
static double *t_resp;  /* per apply: when its response was complete; owned */
static int *apply_ok;
static int epfd;
static int n_watching, n_closed, n_bad_status, n_err_events, n_conn_fail;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("watchbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: watchbench -p PORT -t TOKEN_FILE -r RV [-H host] [-o org] [-n watchers]\n"
			"                  [-m applies] [-i interval_ms] [-T timeout_s]\n");
	exit(2);
}

static long num_arg(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		usage();
	return v;
}

static void parse_opts(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "H:p:t:o:r:n:m:i:T:")) != -1) {
		switch (c) {
		case 'H': O.host = optarg; break;
		case 'p': O.port = (int)num_arg(optarg, 1, 65535); break;
		case 't': O.token_file = optarg; break;
		case 'o': O.org = optarg; break;
		case 'r': O.rv = num_arg(optarg, 0, 0x7fffffffL); break;
		case 'n': O.n = (int)num_arg(optarg, 1, 100000); break;
		case 'm': O.m = (int)num_arg(optarg, 1, 100000); break;
		case 'i': O.interval_ms = (int)num_arg(optarg, 0, 10000); break;
		case 'T': O.timeout_s = (int)num_arg(optarg, 1, 3600); break;
		default: usage();
		}
	}
	if (!O.port || !O.token_file || O.rv < 0 || strlen(O.org) > 64)
		usage();
}

static void read_token(void)
{
	FILE *f = fopen(O.token_file, "r");
	size_t len;

	if (!f)
		die("cannot open %s: %s", O.token_file, strerror(errno));
	if (!fgets(token, sizeof(token), f))
		die("cannot read the token file");
	fclose(f);
	len = strcspn(token, "\r\n");
	token[len] = '\0';
	if (!len)
		die("empty token file");
}

/* Every watch is one socket; the default soft limit (1024) is too low for 1,000 of them. */
static void raise_nofile(void)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)O.n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max >= need ? rl.rlim_max : need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("cannot raise RLIMIT_NOFILE to %lu: %s", (unsigned long)need, strerror(errno));
}

static int open_socket(int nonblock)
{
	struct sockaddr_in a;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)O.port);
	if (inet_pton(AF_INET, O.host, &a.sin_addr) != 1)
		die("bad host %s (IPv4 address expected)", O.host);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static void ep_ctl(int op, int fd, uint32_t events, int tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = (uint64_t)(int64_t)tag;
	if (epoll_ctl(epfd, op, fd, op == EPOLL_CTL_DEL ? NULL : &ev))
		die("epoll_ctl: %s", strerror(errno));
}

static void watcher_close(int i)
{
	struct watcher *w = &W[i];

	if (w->fd < 0)
		return;
	ep_ctl(EPOLL_CTL_DEL, w->fd, 0, i);
	close(w->fd);
	w->fd = -1;
	if (w->watching)
		n_watching--;
	w->watching = 0;
	w->st = W_DONE;
	n_closed++;
}

static void watcher_open(int i)
{
	struct watcher *w = &W[i];

	w->fd = open_socket(1);
	if (w->fd < 0) {
		n_conn_fail++;
		w->st = W_DONE;
		return;
	}
	w->st = W_CONNECTING;
	ep_ctl(EPOLL_CTL_ADD, w->fd, EPOLLOUT, i);
}

/* One complete SSE frame (text before a blank line). */
static void on_frame(int i, const char *f, size_t len, double t)
{
	const char *p = f, *end = f + len;
	size_t nl = strlen(needle);

	if (!f)
		return;
	if (len >= 10 && memmem(f, len, ": watching", 10) && !W[i].watching) {
		W[i].watching = 1;
		n_watching++;
	}
	if (memmem(f, len, "event: error", 12))
		n_err_events++;
	/* An object can be named in the path and again in metadata; the first hit is enough. */
	p = memmem(p, (size_t)(end - p), needle, nl);
	if (p) {
		long idx = 0;
		int digits = 0;

		for (p += nl; p < end && *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
			idx = idx * 10 + (*p - '0');
		if (digits && idx < O.m && arrival[(size_t)i * O.m + idx] < 0)
			arrival[(size_t)i * O.m + idx] = t;
	}
}

static void sse_feed(int i, const char *d, size_t n, double t)
{
	struct watcher *w = &W[i];
	size_t start = 0, k;
	char *fr;

	if (!n)
		return;
	if (w->flen + n > FRAME_MAX) {
		fprintf(stderr, "watchbench: watcher %d: frame over %d bytes, closing\n", i, FRAME_MAX);
		watcher_close(i);
		return;
	}
	if (w->flen + n > w->fcap) {
		size_t cap = w->fcap ? w->fcap : 4096;
		char *nb;

		while (cap < w->flen + n)
			cap *= 2;
		nb = realloc(w->frame, cap);
		if (!nb)
			die("out of memory");
		w->frame = nb;
		w->fcap = cap;
	}
	fr = w->frame;
	memcpy(fr + w->flen, d, n);
	w->flen += n;
	for (k = 0; k + 1 < w->flen; k++) {
		if (fr[k] == '\n' && fr[k + 1] == '\n') {
			on_frame(i, fr + start, k - start, t);
			start = k + 2;
			k++;
		}
	}
	if (start) {
		memmove(fr, fr + start, w->flen - start);
		w->flen -= start;
	}
}

/* Undoes HTTP/1.1 chunked transfer coding; returns -1 at the terminating chunk. */
static int chunk_feed(int i, const char *d, size_t n, double t)
{
	struct watcher *w = &W[i];
	size_t k = 0;

	while (k < n && w->fd >= 0) {
		if (w->cs == C_SIZE) {
			char c = d[k++];

			if (c == '\n') {
				char *end;
				unsigned long sz;

				w->sizebuf[w->size_len] = '\0';
				sz = strtoul(w->sizebuf, &end, 16);
				w->size_len = 0;
				if (end == w->sizebuf)
					return -1;
				if (sz == 0)
					return -1;
				w->chunk_left = sz;
				w->cs = C_DATA;
			} else if (c != '\r' && w->size_len + 1 < sizeof(w->sizebuf)) {
				w->sizebuf[w->size_len++] = c;
			}
		} else if (w->cs == C_DATA) {
			size_t take = n - k < w->chunk_left ? n - k : w->chunk_left;

			sse_feed(i, d + k, take, t);
			k += take;
			w->chunk_left -= take;
			if (!w->chunk_left)
				w->cs = C_DATA_END;
		} else {
			if (d[k++] == '\n')
				w->cs = C_SIZE;
		}
	}
	return 0;
}

static void body_feed(int i, const char *d, size_t n, double t)
{
	if (W[i].chunked) {
		if (chunk_feed(i, d, n, t))
			watcher_close(i);
	} else {
		sse_feed(i, d, n, t);
	}
}

static void headers_feed(int i, const char *d, size_t n, double t)
{
	struct watcher *w = &W[i];
	size_t room = sizeof(w->hdr) - 1 - w->hdr_len, take = n < room ? n : room;
	char *eoh;
	size_t hlen;
	int status = 0;

	memcpy(w->hdr + w->hdr_len, d, take);
	w->hdr_len += take;
	w->hdr[w->hdr_len] = '\0';
	eoh = strstr(w->hdr, "\r\n\r\n");
	if (!eoh) {
		if (w->hdr_len == sizeof(w->hdr) - 1) {
			fprintf(stderr, "watchbench: watcher %d: response headers too long\n", i);
			watcher_close(i);
		}
		return;
	}
	hlen = (size_t)(eoh + 4 - w->hdr);
	if (sscanf(w->hdr, "HTTP/1.%*d %d", &status) != 1 || status != 200) {
		if (n_bad_status++ < 5)
			fprintf(stderr, "watchbench: watcher %d: HTTP status %d\n", i, status);
		watcher_close(i);
		return;
	}
	*eoh = '\0';
	w->chunked = strcasestr(w->hdr, "transfer-encoding: chunked") != NULL;
	w->st = W_BODY;
	w->cs = C_SIZE;
	/* Bytes past the header that came in this read belong to the body. */
	{
		size_t consumed_before = w->hdr_len - take, body_off = hlen - consumed_before;

		if (body_off < n)
			body_feed(i, d + body_off, n - body_off, t);
	}
}

static void watcher_event(int i, uint32_t ev)
{
	struct watcher *w = &W[i];
	char buf[65536];

	if (w->st == W_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);
		size_t len = strlen(watch_req);

		if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
			n_conn_fail++;
			watcher_close(i);
			return;
		}
		while (w->req_off < len) {
			ssize_t k = send(w->fd, watch_req + w->req_off, len - w->req_off, MSG_NOSIGNAL);

			if (k < 0) {
				if (errno == EAGAIN)
					return;
				n_conn_fail++;
				watcher_close(i);
				return;
			}
			w->req_off += (size_t)k;
		}
		w->st = W_HEADERS;
		ep_ctl(EPOLL_CTL_MOD, w->fd, EPOLLIN | EPOLLRDHUP, i);
		return;
	}
	(void)ev;
	for (;;) {
		ssize_t k = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
		double t = now_ms();

		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
			watcher_close(i);
			return;
		}
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (w->st == W_HEADERS)
			headers_feed(i, buf, (size_t)k, t);
		else if (w->st == W_BODY)
			body_feed(i, buf, (size_t)k, t);
		if (w->fd < 0)
			return;
	}
}

static void poster_connect(struct poster *p)
{
	p->fd = open_socket(0);
	if (p->fd < 0)
		die("cannot connect the apply connection: %s", strerror(errno));
	ep_ctl(EPOLL_CTL_ADD, p->fd, EPOLLIN | EPOLLRDHUP, POSTER_TAG);
}

static void poster_send(struct poster *p, int idx)
{
	char body[256], req[1024];
	int blen, rlen;

	blen = snprintf(body, sizeof(body),
			"{\"kind\":\"Issue\",\"metadata\":{\"name\":\"%s%d\"},\"spec\":{\"title\":\"watch benchmark\"}}",
			prefix, idx);
	rlen = snprintf(req, sizeof(req),
			"POST /api/orgs/%s/resources HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			O.org, O.host, O.port, token, blen, body);
	if (rlen < 0 || (size_t)rlen >= sizeof(req))
		die("apply request too long");
	p->in_len = 0;
	p->idx = idx;
	p->busy = 1;
	t_send[idx] = now_ms();
	/* A few hundred bytes on a fresh loopback request: a blocking send returns at once. */
	if (send(p->fd, req, (size_t)rlen, MSG_NOSIGNAL) != rlen)
		die("apply %d: send failed: %s", idx, strerror(errno));
}

/* Returns 1 once the whole response to the apply in flight is in. */
static int poster_event(struct poster *p)
{
	for (;;) {
		ssize_t k;
		char *eoh, *cl;
		int status = 0;
		size_t hlen, blen = 0;

		if (p->in_len + 1 >= sizeof(p->in))
			die("apply %d: response too long", p->idx);
		k = recv(p->fd, p->in + p->in_len, sizeof(p->in) - 1 - p->in_len, MSG_DONTWAIT);
		if (k == 0)
			die("apply %d: server closed the connection", p->idx);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			die("apply %d: recv: %s", p->idx, strerror(errno));
		}
		p->in_len += (size_t)k;
		p->in[p->in_len] = '\0';
		eoh = strstr(p->in, "\r\n\r\n");
		if (!eoh)
			continue;
		hlen = (size_t)(eoh + 4 - p->in);
		cl = strcasestr(p->in, "\r\ncontent-length:");
		if (cl && cl < eoh)
			blen = strtoul(cl + 17, NULL, 10);
		if (p->in_len < hlen + blen)
			continue;
		sscanf(p->in, "HTTP/1.%*d %d", &status);
		if (status == 200 || status == 201) {
			apply_ok[p->idx] = 1;
		} else {
			fprintf(stderr, "watchbench: apply %d: HTTP %d: %.*s\n", p->idx, status, (int)blen,
				p->in + hlen);
		}
		t_resp[p->idx] = now_ms();
		p->busy = 0;
		return 1;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const double *v, size_t n, double q)
{
	size_t r;

	if (!n)
		return NAN;
	r = (size_t)ceil(q * (double)n);
	return v[r ? r - 1 : 0];
}

int main(int argc, char **argv)
{
	struct poster P = { .fd = -1 };
	struct epoll_event evs[256];
	double t0, deadline, connect_deadline, next_send = 0, last_send = 0;
	int opened = 0, next_apply = 0, phase = 0, counted = 0, ok = 0, i, j;
	size_t seen = 0, expected, nl = 0;
	double *lat, *fan, *post;
	size_t nfan = 0, fan_incomplete = 0, npost = 0;

	parse_opts(argc, argv);
	read_token();
	raise_nofile();
	snprintf(prefix, sizeof(prefix), "wb%ld-", (long)getpid());
	snprintf(needle, sizeof(needle), "/issues/%s", prefix);
	if (snprintf(watch_req, sizeof(watch_req),
		     "GET /api/watch/orgs/%s/issues?resourceVersion=%ld HTTP/1.1\r\nHost: %s:%d\r\n"
		     "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
		     O.org, O.rv, O.host, O.port, token) >= (int)sizeof(watch_req))
		die("watch request too long");

	W = calloc((size_t)O.n, sizeof(*W));
	arrival = malloc((size_t)O.n * O.m * sizeof(*arrival));
	t_send = calloc((size_t)O.m, sizeof(*t_send));
	t_resp = calloc((size_t)O.m, sizeof(*t_resp));
	apply_ok = calloc((size_t)O.m, sizeof(*apply_ok));
	if (!W || !arrival || !t_send || !t_resp || !apply_ok)
		die("out of memory");
	for (i = 0; i < O.n; i++)
		W[i].fd = -1;
	for (size_t k = 0; k < (size_t)O.n * O.m; k++)
		arrival[k] = -1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));

	t0 = now_ms();
	deadline = t0 + O.timeout_s * 1e3;
	connect_deadline = t0 + O.timeout_s * 1e3 / 3;
	/* phase 0: connect the watches; 1: applies; 2: wait for the last deliveries */
	while (now_ms() < deadline) {
		double t = now_ms();
		int timeout = 10, n;

		if (phase == 0) {
			/* Keep at most 256 handshakes in flight so the listen backlog never overflows. */
			while (opened < O.n && opened - n_watching - n_closed - n_conn_fail < 256)
				watcher_open(opened++);
			if ((opened == O.n && n_watching + n_closed + n_conn_fail >= O.n) || t >= connect_deadline) {
				for (i = 0; i < O.n; i++) {
					W[i].counted = W[i].watching;
					counted += W[i].watching;
				}
				printf("watchbench: %d of %d watches open after %.0f ms (%d refused, %d bad status)\n",
				       counted, O.n, t - t0, n_conn_fail, n_bad_status);
				fflush(stdout);
				if (!counted)
					break;
				poster_connect(&P);
				phase = 1;
				next_send = t;
			}
		}
		if (phase == 1 && !P.busy) {
			if (next_apply == O.m) {
				phase = 2;
			} else if (t >= next_send) {
				last_send = t;
				poster_send(&P, next_apply++);
				next_send = last_send + O.interval_ms;
			} else {
				timeout = (int)(next_send - t) + 1;
			}
		}
		if (phase == 2) {
			size_t got = 0, want = 0;

			for (j = 0; j < O.m; j++)
				if (apply_ok[j])
					want++;
			want *= (size_t)counted;
			for (i = 0; i < O.n; i++)
				if (W[i].counted)
					for (j = 0; j < O.m; j++)
						got += apply_ok[j] && arrival[(size_t)i * O.m + j] >= 0;
			if (got >= want || t > last_send + 5000)
				break;
			timeout = 20;
		}
		n = epoll_wait(epfd, evs, 256, timeout);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int k = 0; k < n; k++) {
			int tag = (int)(int64_t)evs[k].data.u64;

			if (tag == POSTER_TAG)
				poster_event(&P);
			else
				watcher_event(tag, evs[k].events);
		}
	}

	for (j = 0; j < O.m; j++)
		ok += apply_ok[j];
	expected = (size_t)counted * (size_t)ok;
	lat = malloc((expected ? expected : 1) * sizeof(*lat));
	fan = malloc((size_t)O.m * sizeof(*fan));
	post = malloc((size_t)O.m * sizeof(*post));
	if (!lat || !fan || !post)
		die("out of memory");
	for (j = 0; j < O.m; j++) {
		double worst = 0;
		int all = 1;

		if (!apply_ok[j])
			continue;
		post[npost++] = t_resp[j] - t_send[j];
		for (i = 0; i < O.n; i++) {
			double a;

			if (!W[i].counted)
				continue;
			a = arrival[(size_t)i * O.m + j];
			if (a < 0) {
				all = 0;
				continue;
			}
			lat[nl++] = a - t_send[j];
			if (a - t_send[j] > worst)
				worst = a - t_send[j];
		}
		if (all)
			fan[nfan++] = worst;
		else
			fan_incomplete++;
	}
	seen = nl;
	qsort(lat, nl, sizeof(*lat), cmp_double);
	qsort(fan, nfan, sizeof(*fan), cmp_double);
	qsort(post, npost, sizeof(*post), cmp_double);
	printf("watchbench: %d applies ok of %d; deliveries %zu of %zu; %d watches closed early; "
	       "%d error events\n", ok, O.m, seen, expected, n_closed, n_err_events);
	printf("watchbench: delivery latency ms p50 %.2f p95 %.2f p99 %.2f max %.2f\n", pct(lat, nl, 0.50),
	       pct(lat, nl, 0.95), pct(lat, nl, 0.99), nl ? lat[nl - 1] : NAN);
	printf("watchbench: apply seen by all watches, ms p50 %.2f p99 %.2f max %.2f (%zu applies not seen by all)\n",
	       pct(fan, nfan, 0.50), pct(fan, nfan, 0.99), nfan ? fan[nfan - 1] : NAN, fan_incomplete);
	printf("watchbench: apply (POST) response time while watched, ms p50 %.2f p99 %.2f max %.2f\n",
	       pct(post, npost, 0.50), pct(post, npost, 0.99), npost ? post[npost - 1] : NAN);
	printf("RESULT watchers=%d connected=%d applies=%d applies_ok=%d seen=%zu expected=%zu "
	       "p50=%.2f p95=%.2f p99=%.2f max=%.2f all_p50=%.2f all_p99=%.2f all_max=%.2f "
	       "post_p50=%.2f post_p99=%.2f closed=%d refused=%d bad_status=%d elapsed_ms=%.0f\n",
	       O.n, counted, O.m, ok, seen, expected, pct(lat, nl, 0.50), pct(lat, nl, 0.95),
	       pct(lat, nl, 0.99), nl ? lat[nl - 1] : NAN, pct(fan, nfan, 0.50), pct(fan, nfan, 0.99),
	       nfan ? fan[nfan - 1] : NAN, pct(post, npost, 0.50), pct(post, npost, 0.99), n_closed,
	       n_conn_fail, n_bad_status, now_ms() - t0);
	for (i = 0; i < O.n; i++) {
		if (W[i].fd >= 0)
			close(W[i].fd);
		free(W[i].frame);
	}
	if (P.fd >= 0)
		close(P.fd);
	close(epfd);
	free(W);
	free(arrival);
	free(t_send);
	free(t_resp);
	free(apply_ok);
	free(lat);
	free(fan);
	free(post);
	return seen == expected && counted == O.n && ok == O.m ? 0 : 3;
}
