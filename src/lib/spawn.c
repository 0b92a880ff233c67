#include "compat.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "spawn.h"

extern char **environ;

#define DEFAULT_PATH                                                           \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void
zf_child_init(struct zf_child *c, const char *name, enum zf_stage stage)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->stage = stage;
	c->stdin_fd = -1;
	c->stdout_fd = -1;
	c->pidfd = -1;
	c->in_fd = -1;
	c->out_fd = -1;
	c->err_fd = -1;
	zf_buf_init(&c->errbuf, ZF_STDERR_MAX);
}

void
zf_child_close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static const char *
env_get(const char *name)
{
	size_t n = strlen(name);
	char **e;

	for (e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/* The children's environment: a few variables from ours, and LC_ALL=C. */
static char **
child_env(void)
{
	static const char *const keep[] = {"HOME", "USER", "LOGNAME",
	    "SSH_AUTH_SOCK", "TMPDIR"};
	struct zf_argv a = ZF_ARGV_INIT;
	const char *v;
	size_t i;

	v = env_get("PATH");
	zf_argv_pushf(&a, "PATH=%s", v != NULL ? v : DEFAULT_PATH);
	for (i = 0; i < ZF_ARRAY_SIZE(keep); i++)
		if ((v = env_get(keep[i])) != NULL)
			zf_argv_pushf(&a, "%s=%s", keep[i], v);
	zf_argv_push(&a, "LC_ALL=C");
	return zf_argv_finish(&a);
}

static bool
is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/* Finds prog in PATH (git's locate_in_PATH); a malloc'd path or NULL. */
static char *
find_program(const char *prog)
{
	const char *path, *p, *end;
	struct zf_buf b = ZF_BUF_INIT(PATH_MAX);

	if (strchr(prog, '/') != NULL)
		return is_executable(prog) ? strdup(prog) : NULL;
	path = env_get("PATH");
	if (path == NULL)
		path = DEFAULT_PATH;
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		zf_buf_reset(&b);
		if (end == p)
			zf_buf_add(&b, ".", 1); /* an empty entry is "." */
		else
			zf_buf_add(&b, p, (size_t)(end - p));
		if (zf_buf_addf(&b, "/%s", prog) == ZF_OK &&
		    is_executable(b.data))
			return zf_buf_detach(&b);
		if (*end == '\0')
			break;
	}
	zf_buf_release(&b);
	return NULL;
}

/* Moves a descriptor out of the 0..2 range so dup2 in the child is safe. */
static int
above_stdio(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int
open_null(int flags)
{
	return above_stdio(open("/dev/null", flags | O_CLOEXEC));
}

static bool
make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0)
		return false;
	fds[0] = above_stdio(fds[0]);
	fds[1] = above_stdio(fds[1]);
	return fds[0] >= 0 && fds[1] >= 0;
}

static void
close_pair(int fds[2])
{
	zf_child_close_fd(&fds[0]);
	zf_child_close_fd(&fds[1]);
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * Between fork and exec: only async-signal-safe calls, no allocation.
 */
static void
child_exec(const char *path, char *const *argv, char *const *envp, int in,
    int out, int errfd, int notify, pid_t parent, long maxfd)
{
	struct sigaction sa;
	sigset_t none;
	int sig, e;
	long fd;

	setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* if zferry dies, so do its children */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		goto fail;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */) !=
	    0)
#endif
		for (fd = 3; fd < maxfd; fd++)
			if (fd != notify)
				fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	execve(path, argv, envp);
fail:
	e = errno;
	if (write(notify, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

enum zf_status
zf_child_start(struct zf_child *c, char *const *argv, struct zf_error *err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
	int notify[2] = {-1, -1};
	char *path = NULL;
	char **envp = NULL;
	long maxfd = sysconf(_SC_OPEN_MAX);
	enum zf_status r = ZF_OK;
	pid_t pid, self = getpid();
	int child_errno = 0;
	ssize_t n;

	/* for messages only: a long path is cut short, not dropped */
	snprintf(c->argv0, sizeof(c->argv0), "%s", argv[0]);
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	path = find_program(argv[0]);
	if (path == NULL) {
		r = zf_fail(err, ZF_E_SPAWN, "%s: cannot run '%s': %s", c->name,
		    argv[0],
		    strchr(argv[0], '/') ? "not an executable file"
		                         : "not found in PATH");
		goto out;
	}
	envp = child_env();
	if (envp == NULL) {
		r = zf_fail(err, ZF_E_NOMEM, "out of memory");
		goto out;
	}
	if (c->stdin_mode == ZF_IO_FD) {
		in[0] = c->stdin_fd;
		c->stdin_fd = -1;
	} else if (c->stdin_mode == ZF_IO_PIPE) {
		if (!make_pipe(in))
			goto sysfail;
	} else if ((in[0] = open_null(O_RDONLY)) < 0) {
		goto sysfail;
	}
	if (c->stdout_mode == ZF_IO_FD) {
		out[1] = c->stdout_fd;
		c->stdout_fd = -1;
	} else if (c->stdout_mode == ZF_IO_PIPE) {
		if (!make_pipe(out))
			goto sysfail;
	} else if ((out[1] = open_null(O_WRONLY)) < 0) {
		goto sysfail;
	}
	/* the stream pipes are sized before a byte flows (zfs-facts 4.7) */
	if (c->stdin_mode == ZF_IO_PIPE)
		fcntl(in[1], F_SETPIPE_SZ, ZF_PIPE_SIZE);
	if (c->stdout_mode == ZF_IO_PIPE && !c->stdout_default_size)
		fcntl(out[0], F_SETPIPE_SZ, ZF_PIPE_SIZE);
	if (c->stderr_inherit) {
		errp[1] = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		if (errp[1] < 0)
			goto sysfail;
	} else if (!make_pipe(errp)) {
		goto sysfail;
	}
	if (!make_pipe(notify))
		goto sysfail;

	pid = fork();
	if (pid < 0)
		goto sysfail;
	if (pid == 0)
		child_exec(path, argv, envp, in[0], out[1], errp[1], notify[1],
		    self, maxfd);
	setpgid(pid, pid); /* also done by the child; whoever is first */
	c->pid = pid;
	c->started = true;
	zf_child_close_fd(&in[0]);
	zf_child_close_fd(&out[1]);
	zf_child_close_fd(&errp[1]);
	zf_child_close_fd(&notify[1]);
	do {
		n = read(notify[0], &child_errno, sizeof(child_errno));
	} while (n < 0 && errno == EINTR);
	zf_child_close_fd(&notify[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		zf_child_wait(c, true);
		r = zf_fail(err, ZF_E_SPAWN, "%s: cannot run '%s': %s", c->name,
		    argv[0], strerror(child_errno));
		goto out;
	}
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (c->pidfd >= 0)
		c->pidfd = above_stdio(c->pidfd);
	c->in_fd = in[1];
	in[1] = -1;
	c->out_fd = out[0];
	out[0] = -1;
	c->err_fd = errp[0];
	errp[0] = -1;
	if (c->err_fd >= 0)
		set_nonblock(c->err_fd);
	goto out;

sysfail:
	r = zf_fail_errno(err, errno, "%s: cannot start '%s'", c->name,
	    argv[0]);
out:
	close_pair(in);
	close_pair(out);
	close_pair(errp);
	close_pair(notify);
	zf_child_close_fd(&c->stdin_fd);
	zf_child_close_fd(&c->stdout_fd);
	if (r != ZF_OK && err != NULL)
		err->stage = c->stage;
	free(path);
	zf_argv_free_v(envp);
	return r;
}

void
zf_child_kill(struct zf_child *c, int sig)
{
	if (!c->started || c->reaped || c->pid <= 0)
		return;
	c->killed = true;
	if (kill(-c->pid, sig) != 0)
		kill(c->pid, sig);
}

bool
zf_child_wait(struct zf_child *c, bool block)
{
	pid_t r;
	int st;

	if (!c->started || c->reaped)
		return true;
	do {
		r = waitpid(c->pid, &st, block ? 0 : WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	c->reaped = true;
	c->status = r == c->pid ? st : (127 << 8);
	c->pid = 0;
	zf_child_close_fd(&c->pidfd);
	return true;
}

bool
zf_child_drain_stderr(struct zf_child *c)
{
	char buf[4096];
	ssize_t n;
	int i;

	/* bounded: a child that writes stderr fast cannot hold us here */
	for (i = 0; i < 16 && c->err_fd >= 0; i++) {
		n = read(c->err_fd, buf, sizeof(buf));
		if (n > 0) {
			zf_buf_add_trunc(&c->errbuf, buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EINTR))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		zf_child_close_fd(&c->err_fd);
		return false;
	}
	return c->err_fd >= 0;
}

int
zf_child_code(const struct zf_child *c)
{
	if (!c->reaped)
		return -1;
	if (WIFEXITED(c->status))
		return WEXITSTATUS(c->status);
	if (WIFSIGNALED(c->status))
		return 128 + WTERMSIG(c->status);
	return -1;
}

bool
zf_child_ok(const struct zf_child *c)
{
	return c->reaped && WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
}

bool
zf_child_wait_ms(struct zf_child *c, unsigned ms)
{
	uint64_t deadline = zf_now_ns() + (uint64_t)ms * 1000000u;

	for (;;) {
		uint64_t now;
		struct pollfd p;

		if (zf_child_wait(c, false))
			return true;
		now = zf_now_ns();
		if (now >= deadline)
			return false;
		if (c->pidfd >= 0) {
			p.fd = c->pidfd;
			p.events = POLLIN;
			poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
		} else {
			/* no pidfd (old kernel): look again in 10 ms */
			poll(NULL, 0, 10);
		}
	}
}

void
zf_children_release(struct zf_child *const *cs, size_t n, unsigned grace_ms)
{
	uint64_t deadline = zf_now_ns() + (uint64_t)grace_ms * 1000000u;
	size_t i;

	for (i = 0; i < n; i++) {
		if (cs[i] == NULL)
			continue;
		zf_child_close_fd(&cs[i]->in_fd);
		zf_child_close_fd(&cs[i]->out_fd);
		if (cs[i]->started && !cs[i]->reaped)
			zf_child_kill(cs[i], SIGTERM);
	}
	for (i = 0; i < n; i++) {
		struct zf_child *c = cs[i];
		uint64_t now = zf_now_ns();

		if (c == NULL)
			continue;
		if (c->started && !c->reaped &&
		    !zf_child_wait_ms(c,
		        now < deadline ? (unsigned)((deadline - now) / 1000000u)
		                       : 0)) {
			zf_child_kill(c, SIGKILL);
			zf_child_wait(c, true);
		}
		zf_child_close_fd(&c->err_fd);
		zf_child_close_fd(&c->pidfd);
		zf_buf_release(&c->errbuf);
	}
}

void
zf_child_release(struct zf_child *c, unsigned grace_ms)
{
	zf_children_release(&c, 1, grace_ms);
}
