/* Markdown (GitHub dialect: tables, strikethrough, task lists, autolinks) to
 * HTML that is safe to embed in a page, on md4c's parser.
 *
 * The input is untrusted. Raw HTML in it is shown as text, every text and
 * attribute is escaped, and link and image URLs survive only when they are
 * http:, https:, mailto:, a relative path or a #fragment (others, such as
 * javascript: or data:, lose the link and keep their text). Links get
 * rel="nofollow noopener". The caller owns out; on failure out may hold a
 * partial rendering, which the caller discards. */
#ifndef KRATE_MARKDOWN_H
#define KRATE_MARKDOWN_H

#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

/* Inputs longer than this are refused (KE_TOOBIG). */
#define MARKDOWN_INPUT_MAX (4u * 1024u * 1024u)

/* Where relative URLs point. Each prefix (URL-safe, e.g.
 * "/orgs/o/repos/r/blob/main/") is put in front of relative link or image
 * URLs that do not start with '/' or '#', and image_suffix (e.g. "?raw=1")
 * after relative image URLs; NULL leaves them as written. */
struct markdown_links {
	const char *link_prefix;
	const char *image_prefix;
	const char *image_suffix;
};

/* Appends the HTML for md[0..len) to out. 0, or KE_TOOBIG (input over
 * MARKDOWN_INPUT_MAX or out's cap reached), KE_NOMEM, KE_INTERNAL. */
int markdown_to_html(const char *md, size_t len, struct buf *out, struct kerr *e);
/* The same, with relative URLs resolved against links (may be NULL). */
int markdown_to_html_links(const char *md, size_t len, const struct markdown_links *links, struct buf *out,
			   struct kerr *e);

#endif
