/* Shared between the pull request and issue pages (page_pulls.c,
 * page_issues.c): posted forms, Markdown bodies, comments, state badges and
 * the API's refusals. Every text of a record is untrusted. */
#ifndef KRATE_WEB_PAGE_RECORDS_H
#define KRATE_WEB_PAGE_RECORDS_H

#include "page_repo.h"

/* The longest body the API takes (RECORD_TEXT_MAX), and other fields. */
#define REC_TEXT_MAX (256u * 1024u)
#define REC_FIELD_MAX 4096u

/* obj[part][key] as a string, or NULL. */
const char *rec_str(json_t *obj, const char *part, const char *key);
/* spec.number, or 0. */
long long rec_number(json_t *obj);
/* 1 if s is a record number as the URL carries it: 1-9 digits, no leading 0. */
int rec_number_ok(const char *s);
/* "refs/heads/x" -> "x". */
const char *rec_branch(const char *ref);

/* Parses the posted form into f and checks its csrf field. 0 when both are
 * good (the caller then frees f with form_free); otherwise an error page was
 * sent, f is freed and 1 is returned. */
int rec_form(struct page *pg, struct form_field *f, size_t nf);
/* 0 when every value of f is UTF-8 text (so it can go into JSON), else
 * KE_INVALID with e set. */
int rec_form_utf8(const struct form_field *f, size_t nf, struct kerr *e);
/* "a, b ,c" -> ["a","b","c"] (new ref) of UTF-8 text s. */
json_t *rec_json_names(const char *s);
/* Answers 405 with Allow: allow. Returns 0. */
int rec_method_not_allowed(struct page *pg, const char *allow);

/* base/what[/n][/sub] of v into the page (URL-safe: n is a number, what and
 * sub fixed words). n 0 leaves it out. */
void rec_href(struct html *h, const struct repo_view *v, const char *what, long long n, const char *sub);
/* 303 to base/what/n, then "#" anchor unless NULL (a DNS label or fixed). */
int rec_redirect(struct repo_view *v, const char *what, const char *n, const char *anchor);

/* span.badge.state[data-state=open|closed|merged] for a status.phase. */
void rec_state_badge(struct html *h, const char *phase);
/* Open / closed [/ merged] links of a list (nav.state-tabs). */
void rec_state_tabs(struct html *h, const struct repo_view *v, const char *what, const char *state, int merged);
/* text as Markdown in div.markdown; as escaped text when it cannot be rendered. */
void rec_markdown(struct html *h, const char *text);
/* The refusal e: .flash.error with its message, then ul.field-errors with
 * li[data-field] per reason. Nothing when e is NULL. */
void rec_errors(struct html *h, const struct kerr *e);
/* ' aria-invalid="true"' when a reason of e names field. */
void rec_invalid(struct html *h, const struct kerr *e, const char *field);
/* The opening post of a record (article.comment#id): author, age, body. */
void rec_post(struct html *h, json_t *obj, const char *id);
/* A Comment as article.comment#comment-<name>. */
void rec_comment(struct html *h, json_t *c);
/* form#comment-form posting to base/what/n/comment, text preset. */
void rec_comment_form(struct page *pg, struct html *h, const struct repo_view *v, const char *what, long long n,
		      const char *text);
/* form#state-form posting state=closed (label close) or state=open (label reopen). */
void rec_state_form(struct page *pg, struct html *h, const struct repo_view *v, const char *what, long long n,
		    int open, const char *label);

#endif
