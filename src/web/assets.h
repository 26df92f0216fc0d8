/* Files from src/web/assets/, compiled in by embed_assets.cmake. */
#ifndef KRATE_WEB_ASSETS_H
#define KRATE_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *name;              /* file name, e.g. "krate.css" */
	const unsigned char *data;     /* NUL-terminated for convenience; len excludes it */
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

#endif
