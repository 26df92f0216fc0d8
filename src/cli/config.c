/* The client config file written by `krate login`, and server/token resolution. */
#include "cli/cli_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_config_path(struct buf *out, struct kerr *e)
{
	const char *p = getenv("KRATE_CONFIG");
	const char *home = getenv("HOME");
	int rc;

	buf_reset(out);
	if (p && *p)
		rc = buf_addstr(out, p);
	else if (home && *home)
		rc = buf_printf(out, "%s/.config/krate/config", home);
	else
		return kerr_set(e, KE_INVALID, NULL, "neither KRATE_CONFIG nor HOME is set");
	return rc ? kerr_set(e, rc, NULL, "config path too long") : 0;
}

static int take_string(json_t *root, const char *key, char **dst, const char *path, struct kerr *e)
{
	json_t *v = json_object_get(root, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return kerr_set(e, KE_INVALID, NULL, "config %s: \"%s\" must be a string", path, key);
	*dst = strdup(json_string_value(v));
	return *dst ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

int cli_config_load(const char *path, struct cli_config *c, struct kerr *e)
{
	json_error_t jerr;
	json_t *root = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return kerr_set(e, KE_INVALID, NULL, "cannot read config %s: %s", path, jerr.text);
	if (!json_is_object(root)) {
		rc = kerr_set(e, KE_INVALID, NULL, "config %s is not a JSON object", path);
		goto out;
	}
	rc = take_string(root, "server", &c->server, path, e);
	if (!rc)
		rc = take_string(root, "token", &c->token, path, e);
	if (!rc)
		rc = take_string(root, "org", &c->org, path, e);
out:
	json_decref(root);
	if (rc)
		cli_config_free(c);
	return rc;
}

/* mkdir -p for the directories above path, each new one private to the user. */
static int make_parents(const char *path, struct kerr *e)
{
	struct buf dir = BUF_INIT(0);
	char *slash;
	int rc = 0;

	if (buf_addstr(&dir, path))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	slash = strrchr(dir.data, '/');
	if (!slash || slash == dir.data)
		goto out;
	*slash = '\0';
	for (char *p = dir.data + 1; ; p++) {
		int last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir.data, 0700) != 0 && errno != EEXIST) {
			rc = kerr_set(e, KE_IO, NULL, "cannot create %s: %s", dir.data, strerror(errno));
			goto out;
		}
		if (last)
			break;
		*p = '/';
	}
out:
	buf_free(&dir);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cli_config_save(const char *path, const struct cli_config *c, struct kerr *e)
{
	struct buf tmp = BUF_INIT(0);
	json_t *root = json_object();
	char *text = NULL;
	int fd = -1, rc;

	if (!root) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	if ((c->server && json_object_set_new(root, "server", json_string(c->server))) ||
	    (c->token && json_object_set_new(root, "token", json_string(c->token))) ||
	    (c->org && json_object_set_new(root, "org", json_string(c->org)))) {
		rc = kerr_set(e, KE_INVALID, NULL, "config values must be UTF-8 text");
		goto out;
	}
	text = json_dumps(root, JSON_INDENT(2));
	if (!text || buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid())) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	rc = make_parents(path, e);
	if (rc)
		goto out;
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = kerr_set(e, KE_IO, NULL, "cannot write %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	/* The token is a secret: keep the file private even under a loose umask
	 * or when a stale temp file already existed. */
	if (fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != 0 ||
	    write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
		rc = kerr_set(e, KE_IO, NULL, "cannot write %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = kerr_set(e, KE_IO, NULL, "cannot write %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp.data, path) != 0) {
		rc = kerr_set(e, KE_IO, NULL, "cannot replace %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc && tmp.data)
		unlink(tmp.data);
	free(text);
	json_decref(root);
	buf_free(&tmp);
	return rc;
}

void cli_config_free(struct cli_config *c)
{
	free(c->server);
	free(c->token);
	free(c->org);
	memset(c, 0, sizeof(*c));
}

static const char *first_set(const char *a, const char *b, const char *c)
{
	if (a && *a)
		return a;
	if (b && *b)
		return b;
	if (c && *c)
		return c;
	return NULL;
}

void cli_resolve(const struct cli_args *a, const struct cli_config *c, struct cli_target *t)
{
	t->server = first_set(a->server, getenv("KRATE_SERVER"), c->server);
	if (!t->server)
		t->server = CLI_DEFAULT_SERVER;
	t->token = first_set(a->token, getenv("KRATE_TOKEN"), c->token);
}
