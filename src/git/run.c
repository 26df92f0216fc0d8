/* Running git: posix_spawn with argv only, a clean environment, and pipes
 * drained with poll() so a chatty stderr can never block stdout. */
#include "git/git_internal.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIT_TIMEOUT_MS 120000 /* a stuck git must not hold a request thread forever */
#define CHUNK 16384

/* Nothing inherited: no GIT_DIR, config, HOME or locale of the server, so git
 * reads only the repository's own config and prints untranslated messages.
 * GIT_DIR=. (after -C) also keeps git from searching parent directories when
 * the directory is not a repository. */
static const char *const base_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"GIT_DIR=.",
	"GIT_CONFIG_NOSYSTEM=1",
	"GIT_CONFIG_GLOBAL=/dev/null",
	"GIT_ATTR_NOSYSTEM=1",
	"GIT_NO_REPLACE_OBJECTS=1",
	"GIT_TERMINAL_PROMPT=0",
	"LC_ALL=C",
};
#define BASE_ENV_N (sizeof(base_env) / sizeof(base_env[0]))

struct child {
	pid_t pid;
	int in, out, err; /* our ends; -1 once closed */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int spawn(const struct git_repo *r, const char *const args[], const struct git_io *io, struct child *c,
		 struct kerr *e)
{
	const char *argv[GIT_ARGS_MAX + 4], *envp[BASE_ENV_N + GIT_ENV_MAX + 1];
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	size_t n = 0, k;
	int rc = 0;

	argv[n++] = r->git;
	argv[n++] = "-C";
	argv[n++] = r->dir;
	for (k = 0; args[k]; k++) {
		if (k == GIT_ARGS_MAX)
			return kerr_set(e, KE_INTERNAL, NULL, "too many git arguments");
		argv[n++] = args[k];
	}
	argv[n] = NULL;
	for (n = 0; n < BASE_ENV_N; n++)
		envp[n] = base_env[n];
	for (k = 0; io->env && io->env[k]; k++) {
		if (k == GIT_ENV_MAX)
			return kerr_set(e, KE_INTERNAL, NULL, "too many git environment entries");
		envp[n++] = io->env[k];
	}
	envp[n] = NULL;

	/* A socket rather than a pipe for stdin: send(MSG_NOSIGNAL) reports a git
	 * that stopped reading as EPIPE instead of raising SIGPIPE in the server. */
	if ((io->in && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, inp)) || pipe2(outp, O_CLOEXEC) ||
	    pipe2(errp, O_CLOEXEC)) {
		rc = kerr_set(e, KE_IO, NULL, "cannot create pipes for git: %s", strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa)) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	if (posix_spawnattr_init(&attr)) {
		posix_spawn_file_actions_destroy(&fa);
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	/* The server blocks SIGINT/SIGTERM and ignores SIGPIPE: give git defaults. */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (io->in)
		posix_spawn_file_actions_adddup2(&fa, inp[1], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	rc = posix_spawn(&c->pid, r->git, &fa, &attr, (char *const *)argv, (char *const *)envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		rc = kerr_set(e, KE_IO, NULL, "cannot run git: %s", strerror(rc));
		goto out;
	}
	c->in = inp[0];
	c->out = outp[0];
	c->err = errp[0];
	inp[0] = outp[0] = errp[0] = -1;
	if (c->in >= 0)
		fcntl(c->in, F_SETFL, O_NONBLOCK);
out:
	close_fd(&inp[0]);
	close_fd(&inp[1]);
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	return rc;
}

/* Reads what is there from *fd into b (NULL: dropped) up to b's cap; closes
 * *fd at EOF. *over is set when bytes had to be dropped at the cap. */
static int drain(int *fd, struct buf *b, int *over, struct kerr *e)
{
	char chunk[CHUNK];
	ssize_t n = read(*fd, chunk, sizeof(chunk));
	size_t room, take;

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return kerr_set(e, KE_IO, NULL, "reading git output: %s", strerror(errno));
	}
	if (n == 0) {
		close_fd(fd);
		return 0;
	}
	if (!b)
		return 0;
	room = (b->max ? b->max : BUF_DEFAULT_MAX) - b->len;
	take = (size_t)n < room ? (size_t)n : room;
	if (take < (size_t)n)
		*over = 1;
	if (take && buf_add(b, chunk, take))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	return 0;
}

static void feed(struct child *c, const struct git_io *io, size_t *off)
{
	ssize_t w = send(c->in, io->in + *off, io->in_len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w > 0)
		*off += (size_t)w;
	else if (w < 0 && errno != EAGAIN && errno != EINTR)
		*off = io->in_len; /* git stopped reading; its exit status tells why */
	if (*off == io->in_len)
		close_fd(&c->in);
}

static int pump(struct child *c, struct git_io *io, struct kerr *e)
{
	uint64_t deadline = util_monotonic_ns() + (uint64_t)GIT_TIMEOUT_MS * 1000000u;
	size_t off = 0;
	int rc, dropped = 0;

	while (c->out >= 0 || c->err >= 0) {
		struct pollfd p[3];
		int ip = -1, op = -1, ep = -1, n = 0;
		uint64_t now = util_monotonic_ns();

		if (now >= deadline)
			return kerr_set(e, KE_UNAVAILABLE, NULL, "git took longer than %d s", GIT_TIMEOUT_MS / 1000);
		if (c->in >= 0) {
			p[n] = (struct pollfd){ .fd = c->in, .events = POLLOUT };
			ip = n++;
		}
		if (c->out >= 0) {
			p[n] = (struct pollfd){ .fd = c->out, .events = POLLIN };
			op = n++;
		}
		if (c->err >= 0) {
			p[n] = (struct pollfd){ .fd = c->err, .events = POLLIN };
			ep = n++;
		}
		if (poll(p, (nfds_t)n, (int)((deadline - now) / 1000000u) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return kerr_set(e, KE_IO, NULL, "poll: %s", strerror(errno));
		}
		if (ip >= 0 && p[ip].revents)
			feed(c, io, &off);
		if (op >= 0 && p[op].revents) {
			rc = drain(&c->out, io->out, &io->truncated, e);
			if (rc || io->truncated)
				return rc; /* the caller stops git: the rest is not wanted */
		}
		if (ep >= 0 && p[ep].revents && (rc = drain(&c->err, io->err, &dropped, e)))
			return rc;
	}
	return 0;
}

static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int git_run(const struct git_repo *r, const char *const args[], struct git_io *io, struct kerr *e)
{
	struct child c = { -1, -1, -1, -1 };
	int rc, st;

	io->status = -1;
	io->truncated = 0;
	if (!r || !r->git || !r->dir)
		return kerr_set(e, KE_INVALID, NULL, "no git repository given");
	rc = spawn(r, args, io, &c, e);
	if (rc)
		return rc;
	rc = pump(&c, io, e);
	if (rc || io->truncated)
		kill(c.pid, SIGKILL);
	close_fd(&c.in);
	close_fd(&c.out);
	close_fd(&c.err);
	st = reap(c.pid);
	if (!rc)
		io->status = st;
	return rc;
}

int git_fail(struct kerr *e, int kcode, const char *what, const struct git_io *io)
{
	const char *s = io->err && io->err->len ? io->err->data : NULL;

	if (!s)
		log_warn("git %s failed (exit %d)", what, io->status);
	while (s && *s) {
		size_t n = strcspn(s, "\n");

		if (n)
			log_warn("git %s failed (exit %d): %.*s", what, io->status, (int)n, s);
		s += n + (s[n] == '\n');
	}
	return kerr_set(e, kcode, NULL, "git %s failed (exit %d)", what, io->status);
}
