/* Client input: the whole of a file named on the command line, or of stdin for "-". */
#include "cli/cli_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MIB (1u << 20)

int cli_read_input(const char *name, struct buf *out)
{
	FILE *f = strcmp(name, "-") ? fopen(name, "rb") : stdin;
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "error: cannot open %s: %s\n", name, strerror(errno));
		return 1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_add(out, chunk, n)) {
			if (out->max % MIB)
				fprintf(stderr, "error: %s is larger than %zu KiB\n", name, out->max >> 10);
			else
				fprintf(stderr, "error: %s is larger than %zu MiB\n", name, out->max >> 20);
			rc = 1;
			goto out;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "error: cannot read %s\n", name);
		rc = 1;
	}
out:
	if (f != stdin)
		fclose(f);
	return rc;
}
