/* Client output: aligned text tables and JSON / YAML printing. */
#include "cli/cli_internal.h"
#include "core/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct cli_table *t)
{
	size_t ncap;
	char **p;

	if (t->nrows < t->cap)
		return 0;
	ncap = t->cap ? t->cap * 2 : 16;
	p = realloc(t->cells, ncap * t->ncols * sizeof(*p));
	if (!p)
		return KE_NOMEM;
	t->cells = p;
	t->cap = ncap;
	return 0;
}

char *cli_clean_text(const char *s)
{
	char *c;

	if (!s || !*s)
		s = "-";
	c = strdup(s);
	if (!c)
		return NULL;
	for (unsigned char *p = (unsigned char *)c; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

int table_add(struct cli_table *t, const char *const *row)
{
	char **dst;
	size_t i;

	if (grow(t))
		return KE_NOMEM;
	dst = t->cells + t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		dst[i] = cli_clean_text(row[i]);
		if (!dst[i]) {
			while (i--)
				free(dst[i]);
			return KE_NOMEM;
		}
	}
	t->nrows++;
	return 0;
}

int table_init(struct cli_table *t, size_t ncols, const char *const *header)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	return table_add(t, header);
}

void table_free(struct cli_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Display width approximated as the number of UTF-8 code points. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

int table_render(const struct cli_table *t, struct buf *out)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
	size_t r, c;
	int rc = 0;

	if (!w)
		return KE_NOMEM;
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t cw = width(t->cells[r * t->ncols + c]);

			if (cw > w[c])
				w[c] = cw;
		}
	for (r = 0; !rc && r < t->nrows; r++) {
		for (c = 0; !rc && c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			rc = buf_addstr(out, cell);
			if (!rc && c + 1 < t->ncols)
				rc = buf_printf(out, "%*s", (int)(w[c] - width(cell) + 3), "");
		}
		if (!rc)
			rc = buf_addch(out, '\n');
	}
	free(w);
	return rc;
}

static int write_stdout(const char *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) {
		fprintf(stderr, "error: cannot write output\n");
		return 1;
	}
	return 0;
}

int cli_print_table(const struct cli_table *t)
{
	struct buf out = BUF_INIT(0);
	int rc;

	if (table_render(t, &out)) {
		fprintf(stderr, "error: out of memory\n");
		rc = 1;
	} else {
		rc = write_stdout(out.data ? out.data : "", out.len);
	}
	buf_free(&out);
	return rc;
}

int cli_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
	int rc;

	if (!s) {
		fprintf(stderr, "error: cannot encode JSON\n");
		return 1;
	}
	rc = write_stdout(s, strlen(s));
	if (!rc)
		rc = write_stdout("\n", 1);
	free(s);
	return rc;
}

int cli_print_yaml(const json_t *v)
{
	struct buf out = BUF_INIT(0);
	int rc;

	if (yaml_emit(v, &out)) {
		fprintf(stderr, "error: cannot encode YAML\n");
		rc = 1;
	} else {
		rc = write_stdout(out.data ? out.data : "", out.len);
	}
	buf_free(&out);
	return rc;
}

int cli_output_ok(const char *output, int allow_yaml)
{
	return !output || !strcmp(output, "table") || !strcmp(output, "json") ||
	       (allow_yaml && !strcmp(output, "yaml"));
}
