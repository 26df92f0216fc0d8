/* Upload sinks: a route the application picks streams its body (also chunked)
 * to the sink past body_max; every other route keeps the in-memory cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/server.h"

struct counter {
	size_t bytes;
	unsigned sum;
};

static int count_write(void *arg, const char *data, size_t len)
{
	struct counter *c = arg;
	size_t i;

	for (i = 0; i < len; i++)
		c->sum += (unsigned char)data[i];
	c->bytes += len;
	return 0;
}

static int pick_sink(struct http_req *r, void *app, struct http_sink *out)
{
	struct counter *c;

	(void)app;
	if (strcmp(http_req_path(r), "/sink"))
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return 0;
	http_req_set_data(r, c, free);
	out->write = count_write;
	out->arg = c;
	out->max = 200000;
	return 1;
}

static int handle(struct http_req *r, void *app)
{
	struct counter *c = http_req_data(r);
	char text[64];
	size_t len;

	(void)app;
	http_req_body(r, &len);
	snprintf(text, sizeof(text), "%zu %zu %u", len, c ? c->bytes : 0, c ? c->sum : 0);
	http_respond_copy(r, 200, "text/plain", text, strlen(text));
	return HTTP_DONE;
}

/* Sends a POST of n bytes of 'a' (chunked or with Content-Length); returns the response. */
static char *post(int port, const char *path, size_t n, int chunked)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char head[256], chunk[16], *body = malloc(n), *resp = calloc(1, 4096);
	size_t got = 0;
	ssize_t k;

	assert_non_null(body);
	assert_non_null(resp);
	memset(body, 'a', n);
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	if (chunked)
		snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n", path);
	else
		snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			 "Content-Length: %zu\r\n\r\n", path, n);
	assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	if (chunked) {
		size_t off, step = 7000;

		for (off = 0; off < n; off += step) {
			size_t m = n - off < step ? n - off : step;

			snprintf(chunk, sizeof(chunk), "%zx\r\n", m);
			assert_true(write(fd, chunk, strlen(chunk)) > 0);
			assert_int_equal(write(fd, body + off, m), (ssize_t)m);
			assert_int_equal(write(fd, "\r\n", 2), 2);
		}
		assert_int_equal(write(fd, "0\r\n\r\n", 5), 5);
	} else if (n) {
		/* the server may answer 413 and close before reading everything */
		(void)!write(fd, body, n);
	}
	while (got < 4095 && (k = read(fd, resp + got, 4095 - got)) > 0)
		got += (size_t)k;
	close(fd);
	free(body);
	return resp;
}

static void test_sink(void **state)
{
	struct http_server_options o = { .host = "127.0.0.1", .threads = 2, .body_max = 1024,
					 .handler = handle, .upload_sink = pick_sink };
	struct http_server *s = NULL;
	struct kerr e = KERR_INIT;
	char want[64], *resp;
	int port;

	(void)state;
	assert_int_equal(http_server_start(&o, &s, &e), 0);
	port = http_server_port(s);

	/* the sink gets every byte, none stays in memory */
	snprintf(want, sizeof(want), "0 100000 %u", 100000u * 'a');
	resp = post(port, "/sink", 100000, 0);
	assert_non_null(strstr(resp, " 200 "));
	assert_non_null(strstr(resp, want));
	free(resp);
	resp = post(port, "/sink", 100000, 1);
	assert_non_null(strstr(resp, " 200 "));
	assert_non_null(strstr(resp, want));
	free(resp);

	/* over the sink's own cap, and other routes keep body_max */
	resp = post(port, "/sink", 250000, 1);
	assert_non_null(strstr(resp, " 413 "));
	free(resp);
	resp = post(port, "/other", 2000, 0);
	assert_non_null(strstr(resp, " 413 "));
	free(resp);
	resp = post(port, "/other", 500, 0);
	assert_non_null(strstr(resp, "500 0 0"));
	free(resp);
	http_server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
