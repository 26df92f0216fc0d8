/* The example agent: one pass over the contract's event types. */
#include "agents/example_agent.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

#define PROMPT_MAX (1024u * 1024u)
#define OUTPUT_MAX (64u * 1024u)
#define TASK_MAX 120
#define LIST_COMMAND "ls -1A"

/* One event per line, flushed, so the runtime sees it as it happens. */
static int emit(json_t *ev)
{
	char *s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	int rc = s && printf("%s\n", s) > 0 && fflush(stdout) == 0 ? 0 : -1;

	free(s);
	json_decref(ev);
	return rc;
}

/* The first text line of the prompt's "## Task" section (the whole prompt
 * when it has none), cut. */
static void task_line(const char *prompt, char out[TASK_MAX + 1])
{
	const char *task = strstr(prompt, "## Task\n"), *p = task ? task + 8 : prompt;

	out[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, "\n");

		while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		if (n && p[0] != '#') {
			snprintf(out, TASK_MAX + 1, "%.*s", (int)n, p);
			return;
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
}

static int read_all(FILE *f, struct buf *b)
{
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(b, chunk, n) < 0)
			return -1;
	return ferror(f) ? -1 : 0;
}

int example_agent_main(int argc, char **argv)
{
	struct buf prompt = BUF_INIT(PROMPT_MAX), listing = BUF_INIT(OUTPUT_MAX);
	char task[TASK_MAX + 1], when[32], text[TASK_MAX + 128];
	FILE *p, *notes;
	int rc = 1;

	(void)argc;
	(void)argv;
	if (read_all(stdin, &prompt) < 0) {
		fprintf(stderr, "example-agent: cannot read the prompt (at most %u bytes)\n", PROMPT_MAX);
		goto out;
	}
	task_line(prompt.data ? prompt.data : "", task);
	snprintf(text, sizeof(text), "Read the prompt (%zu bytes). Task: %s", prompt.len, task[0] ? task : "(none)");
	if (emit(json_pack("{s:s, s:s, s:s}", "type", "message", "role", "assistant", "content", text)) ||
	    emit(json_pack("{s:s, s:s, s:{s:s}}", "type", "tool_call", "name", "shell", "input", "command",
			   LIST_COMMAND)))
		goto out;
	p = popen(LIST_COMMAND, "r");
	if (!p || read_all(p, &listing) < 0) {
		if (p)
			pclose(p);
		emit(json_pack("{s:s, s:s, s:s}", "type", "final", "content", "could not list the workspace", "status",
			       "failure"));
		goto out;
	}
	pclose(p);
	if (emit(json_pack("{s:s, s:s, s:s}", "type", "tool_result", "name", "shell", "content",
			   listing.data ? listing.data : "")))
		goto out;
	util_time_rfc3339(when, util_now_seconds());
	notes = fopen("NOTES.md", "a");
	if (notes && fprintf(notes, "- %s example agent: %s\n", when, task[0] ? task : "(no task)") < 0) {
		fclose(notes);
		notes = NULL;
	}
	if (!notes || fclose(notes)) {
		emit(json_pack("{s:s, s:s, s:s}", "type", "final", "content", "could not write NOTES.md", "status",
			       "failure"));
		goto out;
	}
	if (emit(json_pack("{s:s, s:s, s:s}", "type", "message", "role", "assistant", "content",
			   "Appended a note to NOTES.md.")) ||
	    emit(json_pack("{s:s, s:I, s:I, s:f}", "type", "usage", "inputTokens", (json_int_t)(prompt.len / 4),
			   "outputTokens", (json_int_t)32, "costUsd", 0.0)) ||
	    emit(json_pack("{s:s, s:s, s:s}", "type", "final", "content",
			   "Listed the workspace and appended a note to NOTES.md.", "status", "success")))
		goto out;
	rc = 0;
out:
	buf_free(&prompt);
	buf_free(&listing);
	return rc;
}
