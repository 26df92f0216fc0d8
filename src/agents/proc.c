/* The process adapter's sandbox: the agent's command under bubblewrap, in
 * its own session and process group, its output fed to the transcript.
 *
 * The sandbox's root is a read-only view of the host's (each top-level
 * entry bound read-only onto a tmpfs, so /krate can be added: a read-only
 * bind of / itself leaves no place to mount it), with a fresh /dev, /proc
 * and /tmp. The data directory is hidden behind an empty read-only tmpfs,
 * since it holds the seal key, the database and every repository; only the
 * attempt's repository (read-only, so git works in the workspace), the
 * workspace (writable) and the run directory (read-only at /krate) are
 * bound back. Every namespace is unshared; the network too unless the tool
 * profile allows it. */
#include "agents/runtime_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define ARGV_MAX 512
#define TICK_MS 100
#define CHUNK 65536
#define DRAIN_CHUNKS 16

/* argv under construction: pointers into strings it owns (copies) or borrows. */
struct argv {
	char *v[ARGV_MAX + 1];
	int owned[ARGV_MAX];
	size_t n;
	int over;
};

static void argv_add(struct argv *a, const char *s)
{
	if (a->n >= ARGV_MAX || !s) {
		a->over = 1;
		return;
	}
	a->owned[a->n] = 0;
	a->v[a->n++] = (char *)s;
}

static void argv_own(struct argv *a, char *s)
{
	if (a->n >= ARGV_MAX || !s) {
		free(s);
		a->over = 1;
		return;
	}
	a->owned[a->n] = 1;
	a->v[a->n++] = s;
}

static void argv_free(struct argv *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->owned[i])
			free(a->v[i]);
	a->n = 0;
}

/* Every top-level entry of the host's root but /proc, /dev and /tmp
 * (replaced by fresh ones), bound read-only (symlinks recreated). */
static int add_root(struct argv *a, struct kerr *e)
{
	DIR *d = opendir("/");
	struct dirent *de;

	if (!d)
		return kerr_set(e, KE_IO, NULL, "cannot list /: %s", strerror(errno));
	while ((de = readdir(d))) {
		char path[512], target[RT_PATH_MAX];
		struct stat st;
		ssize_t n;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, "proc") ||
		    !strcmp(de->d_name, "dev") || !strcmp(de->d_name, "tmp"))
			continue;
		if (snprintf(path, sizeof(path), "/%s", de->d_name) >= (int)sizeof(path) || lstat(path, &st))
			continue;
		if (S_ISLNK(st.st_mode)) {
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			argv_add(a, "--symlink");
			argv_own(a, strdup(target));
		} else if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
			argv_add(a, "--ro-bind");
			argv_own(a, strdup(path));
		} else {
			continue;
		}
		argv_own(a, strdup(path));
	}
	closedir(d);
	return 0;
}

static int build_argv(struct agents_runtime *rt, const struct proc_spec *s, struct argv *a, struct kerr *e)
{
	const char *cmd0;
	char *real;
	size_t i;
	json_t *v;
	int rc;

	argv_add(a, rt->bwrap_path);
	argv_add(a, "--tmpfs");
	argv_add(a, "/");
	if ((rc = add_root(a, e)))
		return rc;
	argv_add(a, "--dev");
	argv_add(a, "/dev");
	argv_add(a, "--proc");
	argv_add(a, "/proc");
	argv_add(a, "--tmpfs");
	argv_add(a, "/tmp");
	argv_add(a, "--tmpfs");
	argv_add(a, rt->data_dir);
	argv_add(a, "--ro-bind");
	argv_add(a, s->repo_dir);
	argv_add(a, s->repo_dir);
	argv_add(a, "--bind");
	argv_add(a, s->workspace);
	argv_add(a, s->workspace);
	argv_add(a, "--ro-bind");
	argv_add(a, s->run_dir);
	argv_add(a, "/krate");
	/* The agent's program itself may live under /tmp or the data directory,
	 * which the sandbox replaces: bind it back, read-only, where it was. */
	cmd0 = json_string_value(json_array_get(s->command, 0));
	if (cmd0 && cmd0[0] == '/' && (real = realpath(cmd0, NULL))) {
		argv_add(a, "--ro-bind");
		argv_own(a, real);
		argv_add(a, cmd0);
	}
	argv_add(a, "--remount-ro");
	argv_add(a, rt->data_dir);
	argv_add(a, "--remount-ro");
	argv_add(a, "/");
	argv_add(a, "--chdir");
	argv_add(a, s->workspace);
	argv_add(a, "--unshare-all");
	if (s->share_net)
		argv_add(a, "--share-net");
	argv_add(a, "--die-with-parent");
	argv_add(a, "--");
	json_array_foreach(s->command, i, v)
		argv_add(a, json_string_value(v));
	a->v[a->n < ARGV_MAX ? a->n : ARGV_MAX] = NULL;
	if (a->over)
		return kerr_set(e, KE_INVALID, NULL, "the sandbox's command line is too long");
	return 0;
}

struct pipes {
	int in[2], out[2], err[2];
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Starts bwrap in a new session (so the group can be killed as one) with
 * default signal handling and an empty mask: the server's threads block
 * SIGTERM and SIGINT, which the agent must not inherit. */
static int spawn(struct argv *a, char *const *env, struct pipes *p, pid_t *pid, struct kerr *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int rc;

	/* A socket for stdin: send(MSG_NOSIGNAL) reports an agent that stopped
	 * reading its prompt as EPIPE instead of raising SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->in) || pipe2(p->out, O_CLOEXEC) ||
	    pipe2(p->err, O_CLOEXEC))
		return kerr_set(e, KE_IO, NULL, "cannot create the agent's pipes: %s", strerror(errno));
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, p->in[1], 0);
	posix_spawn_file_actions_adddup2(&fa, p->out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p->err[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	rc = posix_spawn(pid, a->v[0], &fa, &attr, a->v, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close_fd(&p->in[1]);
	close_fd(&p->out[1]);
	close_fd(&p->err[1]);
	if (rc)
		return kerr_set(e, KE_UNAVAILABLE, NULL, "cannot start the sandbox (%s): %s", a->v[0], strerror(rc));
	fcntl(p->in[0], F_SETFL, O_NONBLOCK);
	fcntl(p->out[0], F_SETFL, O_NONBLOCK);
	fcntl(p->err[0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* Reads what is there, at most DRAIN_CHUNKS chunks so a flood of output
 * cannot keep the loop from the time limit; closes fd at EOF or on an error. */
static void drain(int *fd, struct transcript *t, enum transcript_stream s, int *record_failed)
{
	char buf[CHUNK];
	struct kerr e = KERR_INIT;
	int chunks;

	for (chunks = 0; chunks < DRAIN_CHUNKS; chunks++) {
		ssize_t n = read(*fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			close_fd(fd);
			return;
		}
		if (transcript_feed(t, s, buf, (size_t)n, &e) && !*record_failed) {
			log_warn("agents: cannot record the agent's output: %s", e.message ? e.message : "");
			*record_failed = 1;
		}
		kerr_clear(&e);
	}
}

static void feed(int *fd, const struct proc_spec *s, size_t *off)
{
	while (*fd >= 0 && *off < s->input_len) {
		ssize_t n = send(*fd, s->input + *off, s->input_len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			close_fd(fd);
			return;
		}
		*off += (size_t)n;
	}
	close_fd(fd);
}

/* Signals the agent's process group while it is registered (never after the
 * leader was reaped, when the id could name another group). */
static void signal_group(struct rt_job *j, int sig)
{
	pthread_mutex_lock(&j->rt->lock);
	if (j->pgid > 0)
		kill(-j->pgid, sig);
	pthread_mutex_unlock(&j->rt->lock);
}

/* 1 once pid has exited: it is reaped, the rest of its group killed first. */
static int reaped(struct rt_job *j, pid_t pid, int *status)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) || si.si_pid != pid)
		return 0;
	/* The zombie leader still holds the id: whatever it left behind goes now. */
	pthread_mutex_lock(&j->rt->lock);
	kill(-pid, SIGKILL);
	j->pgid = 0;
	pthread_mutex_unlock(&j->rt->lock);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	rt_agent_ended(j);
	return 1;
}

int proc_run(struct rt_job *j, const struct proc_spec *s, struct transcript *t, struct proc_result *r,
	     struct kerr *e)
{
	struct argv a = { 0 };
	struct pipes p = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	uint64_t now, deadline, term_at = 0, exit_at = 0;
	pid_t pid = -1;
	size_t off = 0;
	int rc, status = 0, exited = 0, killed = 0, record_failed = 0;
	struct kerr fe = KERR_INIT;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	/* Cancelled while the workspace was being prepared: nothing to start. */
	if (atomic_load(&j->cancel)) {
		r->cancelled = 1;
		rt_agent_ended(j);
		return 0;
	}
	rc = build_argv(j->rt, s, &a, e);
	if (rc == 0)
		rc = spawn(&a, s->env, &p, &pid, e);
	if (rc)
		goto cleanup;
	pthread_mutex_lock(&j->rt->lock);
	j->pgid = pid;
	pthread_mutex_unlock(&j->rt->lock);
	deadline = util_monotonic_ns() + (uint64_t)s->timeout_s * 1000000000ull;
	while (p.out[0] >= 0 || p.err[0] >= 0 || !exited) {
		struct pollfd fds[3];
		nfds_t n = 0;

		now = util_monotonic_ns();
		if (!exited && !term_at && (atomic_load(&j->cancel) || now >= deadline)) {
			if (atomic_load(&j->cancel))
				r->cancelled = 1;
			else
				r->timed_out = 1;
			signal_group(j, SIGTERM);
			term_at = now;
		}
		if (!exited && term_at && !killed && now - term_at >= RT_KILL_GRACE_MS * 1000000ull) {
			signal_group(j, SIGKILL);
			killed = 1;
		}
		/* Something outside the group holds the pipes open: stop waiting for it. */
		if (exited && now - exit_at >= RT_KILL_GRACE_MS * 1000000ull)
			break;
		if (p.out[0] >= 0)
			fds[n++] = (struct pollfd){ p.out[0], POLLIN, 0 };
		if (p.err[0] >= 0)
			fds[n++] = (struct pollfd){ p.err[0], POLLIN, 0 };
		if (p.in[0] >= 0)
			fds[n++] = (struct pollfd){ p.in[0], POLLOUT, 0 };
		poll(fds, n, TICK_MS);
		if (p.out[0] >= 0)
			drain(&p.out[0], t, TRANSCRIPT_STDOUT, &record_failed);
		if (p.err[0] >= 0)
			drain(&p.err[0], t, TRANSCRIPT_STDERR, &record_failed);
		if (p.in[0] >= 0)
			feed(&p.in[0], s, &off);
		if (!exited && reaped(j, pid, &status)) {
			exited = 1;
			exit_at = util_monotonic_ns();
		}
		if (transcript_flush(t, 0, &fe) && !record_failed) {
			log_warn("agents: cannot write the transcript of %s: %s", j->name, fe.message ? fe.message : "");
			record_failed = 1;
		}
		kerr_clear(&fe);
	}
	r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	/* A cancel whose SIGTERM (sent by agents_runtime_cancel) ended the agent before this loop saw the flag. */
	if (!r->timed_out && atomic_load(&j->cancel))
		r->cancelled = 1;
cleanup:
	close_fd(&p.in[0]);
	close_fd(&p.in[1]);
	close_fd(&p.out[0]);
	close_fd(&p.out[1]);
	close_fd(&p.err[0]);
	close_fd(&p.err[1]);
	argv_free(&a);
	return rc;
}
