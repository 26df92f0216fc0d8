/* Turning git's output into C strings and JSON. */
#include "git/git_internal.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

int git_parse_sha(const char *s, size_t n, char sha[GIT_SHA_HEX + 1])
{
	size_t i;

	if (!s || n < GIT_SHA_HEX || (n > GIT_SHA_HEX && s[GIT_SHA_HEX] != '\n' && s[GIT_SHA_HEX] != '\0'))
		return 0;
	for (i = 0; i < GIT_SHA_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	memcpy(sha, s, GIT_SHA_HEX);
	sha[GIT_SHA_HEX] = '\0';
	return 1;
}

/* The length of the UTF-8 sequence a lead byte starts, 0 if it starts none. */
static size_t seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

json_t *git_json_text(const char *s, size_t n)
{
	json_t *v;
	char *c;
	size_t i = 0, len;

	if (util_utf8_valid(s, n))
		return json_stringn(s, n);
	c = malloc(n);
	if (!c)
		return NULL;
	while (i < n) {
		len = seq_len((unsigned char)s[i]);
		if (len && i + len <= n && util_utf8_valid(s + i, len)) {
			memcpy(c + i, s + i, len);
			i += len;
		} else {
			c[i++] = '?';
		}
	}
	v = json_stringn(c, n);
	free(c);
	return v;
}
