#include "core/log.h"
#include "core/buf.h"
#include "core/util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest message body kept; the rest is cut so one request cannot flood the log. */
#define LOG_MAX_MESSAGE 16384

static atomic_int log_level = LOG_INFO;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

static void log_init_from_env(void)
{
	const char *v = getenv("KRATE_LOG_LEVEL");
	int i;

	if (!v)
		return;
	for (i = LOG_DEBUG; i <= LOG_ERROR; i++) {
		if (strcasecmp(v, level_names[i]) == 0) {
			atomic_store(&log_level, i);
			return;
		}
	}
}

void log_set_level(enum log_level lvl)
{
	/* Run the env lookup first so it cannot later override this call. */
	pthread_once(&log_once, log_init_from_env);
	if ((int)lvl < LOG_DEBUG || lvl > LOG_ERROR)
		lvl = LOG_INFO;
	atomic_store(&log_level, (int)lvl);
}

/* Escapes control bytes so a message can never start a forged log line. */
static int add_escaped(struct buf *line, const char *msg, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c == '\n')
			rc = buf_add(line, "\\n", 2);
		else if (c == '\r')
			rc = buf_add(line, "\\r", 2);
		else if (c == '\t')
			rc = buf_addch(line, '\t');
		else if (c < 0x20 || c == 0x7f) {
			char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

			rc = buf_add(line, esc, 4);
		} else
			rc = buf_addch(line, (char)c);
	}
	return rc;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	struct buf msg = BUF_INIT(BUF_DEFAULT_MAX);
	struct buf line = BUF_INIT(4 * LOG_MAX_MESSAGE + 128);
	char ts[32];
	va_list ap;
	int rc;

	pthread_once(&log_once, log_init_from_env);
	if ((int)lvl < LOG_DEBUG || lvl > LOG_ERROR)
		lvl = LOG_ERROR;
	if ((int)lvl < atomic_load(&log_level))
		return;

	util_time_rfc3339(ts, util_now_seconds());
	va_start(ap, fmt);
	rc = buf_vprintf(&msg, fmt, ap);
	va_end(ap);

	rc = rc ? rc : buf_printf(&line, "%s %s ", ts, level_names[lvl]);
	if (!rc && msg.len > LOG_MAX_MESSAGE) {
		rc = add_escaped(&line, msg.data, LOG_MAX_MESSAGE);
		rc = rc ? rc : buf_addstr(&line, "...(truncated)");
	} else if (!rc) {
		rc = add_escaped(&line, msg.data ? msg.data : "", msg.len);
	}
	rc = rc ? rc : buf_addch(&line, '\n');
	/* A single stdio call per line: stdio locks the stream, so concurrent
	 * lines never interleave. */
	if (!rc)
		fputs(line.data, stderr);
	else
		fprintf(stderr, "%s %s (log message dropped: out of memory)\n", ts, level_names[lvl]);
	buf_free(&msg);
	buf_free(&line);
}
