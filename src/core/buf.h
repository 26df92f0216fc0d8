/* Growable byte buffer with a hard size cap.
 *
 * The buffer owns `data`; buf_free() releases it, buf_detach() hands it to the
 * caller. `data` is always NUL-terminated once anything was added, so it can be
 * used as a C string. Every append checks the cap and returns KE_TOOBIG instead
 * of growing past it, so untrusted input can be appended safely. */
#ifndef KRATE_BUF_H
#define KRATE_BUF_H

#include <stddef.h>
#include <stdarg.h>

#define BUF_DEFAULT_MAX (64u * 1024u * 1024u)

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT(maxsize) { NULL, 0, 0, (maxsize) }

void buf_init(struct buf *b, size_t max);
/* Returns 0, KE_NOMEM or KE_TOOBIG. On error the buffer is unchanged. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (with quotes), escaping as needed. */
int buf_add_json_string(struct buf *b, const char *s);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Returns the data (never NULL: an empty buffer yields ""), caller frees it. */
char *buf_detach(struct buf *b, size_t *len);

#endif
