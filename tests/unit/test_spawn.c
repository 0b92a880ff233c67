/*
 * test_spawn.c: zf_child_* and zf_run_capture() with real programs: a
 * program that cannot run is ZF_E_SPAWN naming it; exit codes and 128 +
 * signal; the child's environment, process group, signal dispositions and
 * descriptors are exactly what spawn.h promises; stderr capture is
 * bounded; release kills what ignores SIGTERM after the grace period;
 * the child dies with its parent; run_capture stops on cancel and on
 * output over its limit.
 */
#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#include "run.h"
#include "spawn.h"
#include "testutil.h"

#define MS UINT64_C(1000000)

static char tmpdir[] = "/tmp/zf-test-spawn.XXXXXX";
static int fds_before;

static void
path_in(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Starts argv; the test fails if it cannot. */
static void
start(struct zf_child *c, char *const *argv)
{
	struct zf_error err;

	zf_error_clear(&err);
	if (zf_child_start(c, argv, &err) != ZF_OK)
		fail_msg("cannot start %s: %s", argv[0], err.msg);
}

/* Reads one line from fd (blocking) into buf. */
static void
read_line(int fd, char *buf, size_t n)
{
	size_t i = 0;

	while (i + 1 < n) {
		ssize_t k = read(fd, buf + i, 1);

		if (k < 0 && errno == EINTR)
			continue;
		assert_int_equal(k, 1);
		if (buf[i] == '\n')
			break;
		i++;
	}
	buf[i] = '\0';
}

/* Runs argv to completion with run_capture; returns the exit code. */
static int
capture(char *const *argv, struct zf_buf *out, struct zf_child *c)
{
	struct zf_error err;

	zf_error_clear(&err);
	zf_child_init(c, "test", ZF_STAGE_NONE);
	if (zf_run_capture(c, argv, out, -1, &err) != ZF_OK)
		fail_msg("cannot run %s: %s", argv[0], err.msg);
	assert_true(c->reaped);
	return zf_child_code(c);
}

/* --- programs that cannot run ----------------------------------------- */

static void
test_missing_program_is_a_spawn_error_naming_it(void **state)
{
	char *argv[] = {"zf-no-such-program", "--flag", NULL};
	char *argv2[] = {"/nonexistent/zf-prog", NULL};
	struct zf_child c;
	struct zf_error err;

	(void)state;
	zf_child_init(&c, "zfs send", ZF_STAGE_SEND);
	zf_error_clear(&err);
	assert_int_equal(zf_child_start(&c, argv, &err), ZF_E_SPAWN);
	assert_non_null(strstr(err.msg, "'zf-no-such-program'"));
	assert_non_null(strstr(err.msg, "not found in PATH"));
	assert_non_null(strstr(err.msg, "zfs send"));
	assert_int_equal(err.stage, ZF_STAGE_SEND);
	assert_false(c.started);
	zf_child_release(&c, 0);
	zf_child_init(&c, "zfs send", ZF_STAGE_SEND);
	zf_error_clear(&err);
	assert_int_equal(zf_child_start(&c, argv2, &err), ZF_E_SPAWN);
	assert_non_null(strstr(err.msg, "'/nonexistent/zf-prog'"));
	zf_child_release(&c, 0);
}

static void
test_non_executable_file_is_a_spawn_error(void **state)
{
	char plain[PATH_MAX], badint[PATH_MAX];
	char *argv[] = {plain, NULL};
	char *argv2[] = {badint, NULL};
	char *argv3[] = {tmpdir, NULL};
	struct zf_child c;
	struct zf_error err;

	(void)state;
	path_in(plain, sizeof(plain), "not-executable");
	write_file(plain, "#!/bin/sh\nexit 0\n", 0644);
	zf_child_init(&c, "probe", ZF_STAGE_PROBE);
	zf_error_clear(&err);
	assert_int_equal(zf_child_start(&c, argv, &err), ZF_E_SPAWN);
	assert_non_null(strstr(err.msg, plain));
	assert_non_null(strstr(err.msg, "not an executable file"));
	zf_child_release(&c, 0);
	/* a directory is not a program either */
	zf_child_init(&c, "probe", ZF_STAGE_PROBE);
	zf_error_clear(&err);
	assert_int_equal(zf_child_start(&c, argv3, &err), ZF_E_SPAWN);
	zf_child_release(&c, 0);
	/*
	 * Executable, but exec fails (no interpreter): reported, reaped.
	 * valgrind cannot survive a failed execve() in the child (it ends
	 * it with status 101), so this part runs without it only.
	 */
	if (tu_under_valgrind())
		return;
	path_in(badint, sizeof(badint), "bad-interpreter");
	write_file(badint, "#!/nonexistent/interpreter\n", 0755);
	zf_child_init(&c, "probe", ZF_STAGE_PROBE);
	zf_error_clear(&err);
	assert_int_equal(zf_child_start(&c, argv2, &err), ZF_E_SPAWN);
	assert_non_null(strstr(err.msg, badint));
	assert_non_null(strstr(err.msg, strerror(ENOENT)));
	assert_int_equal(err.stage, ZF_STAGE_PROBE);
	assert_true(c.reaped);
	zf_child_release(&c, 0);
}

/* argv0, kept for messages, holds the start of a long path, not "". */
static void
test_long_program_path_is_kept_for_messages(void **state)
{
	char dir[PATH_MAX], prog[PATH_MAX + 16];
	char *argv[] = {prog, "-c", "exit 0", NULL};
	struct zf_child c;

	(void)state;
	path_in(dir, sizeof(dir),
	    "a-directory-with-a-name-long-enough-to-matter");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(prog, sizeof(prog), "%s/the-shell", dir);
	assert_int_equal(symlink("/bin/sh", prog), 0);
	assert_true(strlen(prog) >= sizeof(c.argv0));
	zf_child_init(&c, "test", ZF_STAGE_NONE);
	start(&c, argv);
	assert_int_equal(strlen(c.argv0), sizeof(c.argv0) - 1);
	assert_memory_equal(c.argv0, prog, sizeof(c.argv0) - 1);
	assert_true(zf_child_wait_ms(&c, 10000));
	zf_child_release(&c, 0);
}

/* A descriptor handed over with ZF_IO_FD is closed, also on failure. */
static void
test_io_fd_is_taken_even_on_error(void **state)
{
	char *bad[] = {"zf-no-such-program", NULL};
	char *ok[] = {"/bin/sh", "-c", "echo hello", NULL};
	char path[PATH_MAX], buf[64];
	struct zf_child c;
	int fds = tu_count_fds(), fd, k;

	(void)state;
	path_in(path, sizeof(path), "stdout");
	zf_child_init(&c, "test", ZF_STAGE_NONE);
	c.stdout_mode = ZF_IO_FD;
	c.stdout_fd =
	    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(c.stdout_fd >= 0);
	assert_int_equal(zf_child_start(&c, bad, NULL), ZF_E_SPAWN);
	assert_int_equal(c.stdout_fd, -1);
	assert_int_equal(tu_count_fds(), fds);
	zf_child_release(&c, 0);
	zf_child_init(&c, "test", ZF_STAGE_NONE);
	c.stdout_mode = ZF_IO_FD;
	c.stdout_fd =
	    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	start(&c, ok);
	assert_int_equal(c.stdout_fd, -1);
	assert_true(zf_child_wait(&c, true));
	assert_true(zf_child_ok(&c));
	zf_child_release(&c, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	k = (int)read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(k, 6);
	assert_memory_equal(buf, "hello\n", 6);
}

/*
 * The stream pipes are ZF_PIPE_SIZE before the child writes a byte,
 * except a stdout pipe asked to stay at the kernel's default (what a
 * copying relay reads best).
 */
static void
test_stream_pipes_are_sized_unless_asked_not_to(void **state)
{
	char *cat[] = {"/bin/cat", NULL};
	struct zf_child c;
	int p[2], dflt, k;

	(void)state;
	/* the kernel's default: what a new pipe has */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	dflt = fcntl(p[0], F_GETPIPE_SZ);
	close(p[0]);
	close(p[1]);
	assert_true(dflt > 0 && dflt < ZF_PIPE_SIZE);
	for (k = 0; k < 2; k++) {
		int want_out = k == 0 ? ZF_PIPE_SIZE : dflt;

		zf_child_init(&c, "test", ZF_STAGE_NONE);
		c.stdin_mode = ZF_IO_PIPE;
		c.stdout_mode = ZF_IO_PIPE;
		c.stdout_default_size = k == 1;
		start(&c, cat);
		assert_int_equal(fcntl(c.in_fd, F_GETPIPE_SZ), ZF_PIPE_SIZE);
		assert_int_equal(fcntl(c.out_fd, F_GETPIPE_SZ), want_out);
		zf_child_close_fd(&c.in_fd);
		assert_true(zf_child_wait(&c, true));
		assert_true(zf_child_ok(&c));
		zf_child_release(&c, 0);
	}
}

/* --- exit status ------------------------------------------------------ */

static void
test_exit_codes_and_128_plus_signal(void **state)
{
	static const struct {
		char *script;
		int code;
	} cases[] = {
	    {"exit 0", 0},
	    {"exit 3", 3},
	    {"exit 255", 255},
	    {"kill -TERM $$", 128 + SIGTERM},
	    {"kill -KILL $$", 128 + SIGKILL},
	    {"kill -PIPE $$", 128 + SIGPIPE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		char *argv[] = {"/bin/sh", "-c", cases[i].script, NULL};
		struct zf_child c;

		zf_child_init(&c, "test", ZF_STAGE_NONE);
		assert_int_equal(zf_child_code(&c), -1);
		start(&c, argv);
		assert_true(zf_child_wait_ms(&c, 10000));
		assert_int_equal(zf_child_code(&c), cases[i].code);
		assert_true(zf_child_ok(&c) == (cases[i].code == 0));
		assert_false(c.killed);
		/* a second wait is harmless */
		assert_true(zf_child_wait(&c, true));
		zf_child_release(&c, 0);
	}
}

/* --- what the child gets ---------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The child's environment, one variable a line, sorted, in out. */
static void
child_env(struct zf_buf *out)
{
	char *argv[] = {"env", NULL};
	struct zf_buf raw = ZF_BUF_INIT(65536);
	struct zf_child c;
	char *lines[64], *p, *save = NULL;
	size_t n = 0, i;

	assert_int_equal(capture(argv, &raw, &c), 0);
	zf_child_release(&c, 0);
	for (p = strtok_r(raw.data, "\n", &save); p != NULL;
	     p = strtok_r(NULL, "\n", &save)) {
		assert_true(n < ZF_ARRAY_SIZE(lines));
		lines[n++] = p;
	}
	qsort(lines, n, sizeof(lines[0]), cmp_str);
	zf_buf_reset(out);
	for (i = 0; i < n; i++)
		assert_int_equal(zf_buf_addf(out, "%s\n", lines[i]), ZF_OK);
	zf_buf_release(&raw);
}

static void
expect_env(struct zf_buf *want, const char *path)
{
	static const char *const keep[] = {"HOME", "LC_ALL", "LOGNAME", "PATH",
	    "SSH_AUTH_SOCK", "TMPDIR", "USER"};
	size_t i;

	zf_buf_reset(want);
	for (i = 0; i < ZF_ARRAY_SIZE(keep); i++) {
		const char *v = getenv(keep[i]);

		if (strcmp(keep[i], "LC_ALL") == 0)
			v = "C";
		else if (strcmp(keep[i], "PATH") == 0)
			v = path;
		if (v != NULL)
			assert_int_equal(zf_buf_addf(want, "%s=%s\n", keep[i],
			                     v),
			    ZF_OK);
	}
}

/* The variables the test changes, saved and put back. */
static const char *const touched[] = {"ZFERRY_SECRET", "LC_ALL", "LANG",
    "LD_LIBRARY_PATH", "HOME", "SSH_AUTH_SOCK", "TMPDIR", "USER", "LOGNAME",
    "PATH"};

static void
env_restore(char **saved)
{
	size_t i;

	for (i = 0; i < ZF_ARRAY_SIZE(touched); i++) {
		if (saved[i] != NULL)
			setenv(touched[i], saved[i], 1);
		else
			unsetenv(touched[i]);
		free(saved[i]);
	}
}

static void
test_child_environment_is_exactly_the_kept_variables(void **state)
{
	struct zf_buf got = ZF_BUF_INIT(65536), want = ZF_BUF_INIT(65536);
	char *saved[ZF_ARRAY_SIZE(touched)];
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(touched); i++)
		saved[i] = zf_strdup0(getenv(touched[i]));
	setenv("ZFERRY_SECRET", "hunter2", 1);
	setenv("LC_ALL", "de_DE.UTF-8", 1);
	setenv("LANG", "de_DE.UTF-8", 1);
	setenv("LD_LIBRARY_PATH", "/tmp/evil", 1);
	setenv("HOME", "/home/zf test", 1);
	setenv("SSH_AUTH_SOCK", "/tmp/agent.sock", 1);
	setenv("TMPDIR", "/var/tmp", 1);
	unsetenv("USER");
	setenv("LOGNAME", "zf", 1);
	child_env(&got);
	expect_env(&want, getenv("PATH"));
	/* before the asserts: a failure must not leave the env changed */
	env_restore(saved);
	assert_string_equal(got.data, want.data);
	assert_null(strstr(got.data, "SECRET"));
	/* without PATH: a safe default, for the lookup and the child */
	for (i = 0; i < ZF_ARRAY_SIZE(touched); i++)
		saved[i] = zf_strdup0(getenv(touched[i]));
	unsetenv("PATH");
	child_env(&got);
	expect_env(&want,
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env_restore(saved);
	assert_string_equal(got.data, want.data);
	zf_buf_release(&got);
	zf_buf_release(&want);
}

static void
test_child_runs_in_its_own_process_group(void **state)
{
	char *argv[] = {"cat", NULL};
	struct zf_child c;

	(void)state;
	zf_child_init(&c, "test", ZF_STAGE_NONE);
	c.stdin_mode = ZF_IO_PIPE;
	start(&c, argv);
	assert_int_equal(getpgid(c.pid), c.pid);
	assert_int_not_equal(getpgid(c.pid), getpgrp());
	/* cat ends at the end of its input */
	zf_child_close_fd(&c.in_fd);
	assert_true(zf_child_wait_ms(&c, 10000));
	assert_true(zf_child_ok(&c));
	zf_child_release(&c, 0);
}

/* Reads a "Name:\t<hex>" field of /proc/<pid>/status text. */
static unsigned long long
status_field(const char *status, const char *name)
{
	const char *p = strstr(status, name);

	assert_non_null(p);
	return strtoull(p + strlen(name), NULL, 16);
}

/* The mask bits of the signals glibc reserves (32 .. SIGRTMIN - 1). */
static unsigned long long
glibc_own(void)
{
	unsigned long long m = 0;
	int sig;

	for (sig = 32; sig < SIGRTMIN; sig++)
		m |= 1ull << (sig - 1);
	return m;
}

static void
test_child_signals_are_reset_to_default(void **state)
{
	char *argv[] = {"cat", "/proc/self/status", NULL};
	struct zf_buf out = ZF_BUF_INIT(65536);
	struct sigaction ign, old_int, old_pipe, old_hup;
	sigset_t block, old_mask;
	struct zf_child c;

	(void)state;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGPIPE, &ign, &old_pipe);
	sigaction(SIGHUP, &ign, &old_hup);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	assert_int_equal(capture(argv, &out, &c), 0);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	/*
	 * Nothing ignored and nothing blocked in the child, but for the
	 * two signals glibc keeps for itself (32 and 33, below SIGRTMIN):
	 * its sigaction() refuses to touch them, so whatever zferry's own
	 * parent left there stays.  glibc sets them up itself when needed.
	 */
	assert_int_equal(status_field(out.data, "\nSigIgn:") & ~glibc_own(), 0);
	assert_int_equal(status_field(out.data, "\nSigBlk:") & ~glibc_own(), 0);
	zf_child_release(&c, 0);
	zf_buf_release(&out);
}

static void
test_no_descriptor_leaks_into_the_child(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "echo ready; read x; exit 0", NULL};
	char fddir[64], line[64];
	struct zf_child c;
	struct dirent *e;
	DIR *d;
	int leak, high, seen = 0;

	(void)state;
	/* descriptors without close-on-exec, as a careless library leaves */
	leak = open("/dev/null", O_RDONLY);
	assert_true(leak >= 0);
	high = dup2(leak, 200);
	assert_int_equal(high, 200);
	zf_child_init(&c, "test", ZF_STAGE_NONE);
	c.stdin_mode = ZF_IO_PIPE;
	c.stdout_mode = ZF_IO_PIPE;
	start(&c, argv);
	/* the shell is past its start: look at what it holds */
	read_line(c.out_fd, line, sizeof(line));
	assert_string_equal(line, "ready");
	snprintf(fddir, sizeof(fddir), "/proc/%d/fd", (int)c.pid);
	d = opendir(fddir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (strcmp(e->d_name, "0") != 0 &&
		    strcmp(e->d_name, "1") != 0 && strcmp(e->d_name, "2") != 0)
			fail_msg("descriptor %s leaked into the child",
			    e->d_name);
		seen++;
	}
	closedir(d);
	assert_int_equal(seen, 3);
	close(leak);
	close(high);
	zf_child_close_fd(&c.in_fd);
	assert_true(zf_child_wait_ms(&c, 10000));
	assert_true(zf_child_ok(&c));
	zf_child_release(&c, 0);
}

/* --- stderr ----------------------------------------------------------- */

static void
test_stderr_capture_is_bounded(void **state)
{
	char *argv[] = {"/bin/sh", "-c",
	    "head -c 1048576 /dev/zero | tr '\\0' e >&2; echo out", NULL};
	struct zf_buf out = ZF_BUF_INIT(100);
	struct zf_child c;
	size_t i;

	(void)state;
	assert_int_equal(capture(argv, &out, &c), 0);
	assert_string_equal(out.data, "out\n");
	assert_int_equal(c.errbuf.len, ZF_STDERR_MAX);
	assert_int_equal(c.errbuf.dropped, 1048576 - ZF_STDERR_MAX);
	for (i = 0; i < c.errbuf.len; i++)
		assert_int_equal(c.errbuf.data[i], 'e');
	zf_child_release(&c, 0);
	zf_buf_release(&out);
}

/* --- stopping children ------------------------------------------------ */

/* Starts a shell that ignores SIGTERM and waits until it said so. */
static void
start_stubborn(struct zf_child *c)
{
	char *argv[] = {"/bin/sh", "-c",
	    "trap '' TERM; echo ready; exec sleep 60", NULL};
	char line[16];

	zf_child_init(c, "stubborn", ZF_STAGE_NONE);
	c->stdout_mode = ZF_IO_PIPE;
	start(c, argv);
	read_line(c->out_fd, line, sizeof(line));
	assert_string_equal(line, "ready");
}

static void
test_release_kills_a_child_ignoring_sigterm_after_the_grace(void **state)
{
	struct zf_child c, quick;
	struct zf_child *both[] = {&c, NULL, &quick};
	char *argv[] = {"sleep", "60", NULL};
	uint64_t t0, ms;

	(void)state;
	start_stubborn(&c);
	zf_child_init(&quick, "quick", ZF_STAGE_NONE);
	start(&quick, argv);
	t0 = zf_now_ns();
	zf_children_release(both, 3, 300);
	ms = (zf_now_ns() - t0) / MS;
	/*
	 * One shared grace period of 300 ms (counted in whole milliseconds,
	 * so a fraction of one early), then SIGKILL.
	 */
	if (ms < 298 || ms > 1300)
		fail_msg("released in %" PRIu64 " ms, grace 300", ms);
	assert_true(c.reaped && quick.reaped);
	assert_true(c.killed);
	assert_int_equal(zf_child_code(&c), 128 + SIGKILL);
	assert_int_equal(zf_child_code(&quick), 128 + SIGTERM);
	assert_int_equal(c.out_fd, -1);
	assert_int_equal(c.err_fd, -1);
	assert_int_equal(c.pidfd, -1);
	/* released twice is harmless */
	zf_child_release(&c, 300);
}

static void
test_release_of_a_child_that_obeys_sigterm_is_quick(void **state)
{
	char *argv[] = {"sleep", "60", NULL};
	struct zf_child c;
	uint64_t t0, ms;

	(void)state;
	zf_child_init(&c, "test", ZF_STAGE_NONE);
	start(&c, argv);
	t0 = zf_now_ns();
	zf_child_release(&c, 5000);
	ms = (zf_now_ns() - t0) / MS;
	assert_true(ms < 2000);
	assert_int_equal(zf_child_code(&c), 128 + SIGTERM);
	/* never started: nothing to do */
	zf_child_init(&c, "test", ZF_STAGE_NONE);
	zf_child_release(&c, 5000);
}

/* A child of ours dies with us (PR_SET_PDEATHSIG): no orphaned zfs send. */
static void
test_child_dies_when_its_parent_dies(void **state)
{
	int p[2], st;
	pid_t mid, grand = 0, r;
	sigset_t chld, old;
	uint64_t deadline;

	(void)state;
	/* orphans come to us, so we can see how the grandchild ends */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	/* held, so sigtimedwait() below can wait for it */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		char *argv[] = {"sleep", "60", NULL};
		struct zf_child c;

		zf_child_init(&c, "grandchild", ZF_STAGE_NONE);
		if (zf_child_start(&c, argv, NULL) != ZF_OK)
			_exit(1);
		if (write(p[1], &c.pid, sizeof(c.pid)) != sizeof(c.pid))
			_exit(1);
		/* dies without stopping or reaping its child */
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &grand, sizeof(grand)), sizeof(grand));
	close(p[0]);
	assert_int_equal(waitpid(mid, &st, 0), mid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the grandchild, now ours, must end by itself within 10 s */
	deadline = zf_now_ns() + 10000 * MS;
	while ((r = waitpid(grand, &st, WNOHANG)) == 0) {
		uint64_t now = zf_now_ns();
		struct timespec left;

		if (now >= deadline)
			break;
		left.tv_sec = (time_t)((deadline - now) / 1000000000u);
		left.tv_nsec = (long)((deadline - now) % 1000000000u);
		sigtimedwait(&chld, NULL, &left);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	if (r != grand) {
		kill(grand, SIGKILL);
		waitpid(grand, &st, 0);
		fail_msg("the grandchild outlived its parent");
	}
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
}

/* --- zf_run_capture ---------------------------------------------------- */

static void
test_run_capture_keeps_stdout_and_stderr_apart(void **state)
{
	char *argv[] = {"/bin/sh", "-c",
	    "printf 'one\\ntwo'; echo oops >&2; exit 4", NULL};
	struct zf_buf out = ZF_BUF_INIT(1000);
	struct zf_child c;

	(void)state;
	assert_int_equal(capture(argv, &out, &c), 4);
	assert_string_equal(out.data, "one\ntwo");
	assert_string_equal(c.errbuf.data, "oops\n");
	zf_child_release(&c, 0);
	zf_buf_release(&out);
}

static void
test_run_capture_refuses_output_over_the_limit(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "exec yes zfs", NULL};
	struct zf_buf out = ZF_BUF_INIT(1000);
	struct zf_child c;
	struct zf_error err;

	(void)state;
	zf_child_init(&c, "zfs list", ZF_STAGE_LIST);
	zf_error_clear(&err);
	/* yes never ends by itself: only the limit stops it */
	assert_int_equal(zf_run_capture(&c, argv, &out, -1, &err),
	    ZF_E_PROTOCOL);
	assert_non_null(strstr(err.msg, "zfs list"));
	assert_non_null(strstr(err.msg, "longer than 1000 bytes"));
	assert_true(c.reaped);
	assert_true(out.len <= 1000);
	zf_child_release(&c, 0);
	zf_buf_release(&out);
}

static void
test_run_capture_stops_on_cancel(void **state)
{
	char fifo[PATH_MAX], script[PATH_MAX + 64];
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct zf_buf out = ZF_BUF_INIT(1000);
	struct zf_child c;
	struct zf_error err;
	uint64_t t0, ms;
	int cancel, p[2];

	(void)state;
	/* the child itself cancels, once it runs: no timing guesses */
	path_in(fifo, sizeof(fifo), "cancel");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	cancel = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(cancel >= 0);
	snprintf(script, sizeof(script), "echo x > '%s'; exec sleep 60", fifo);
	zf_child_init(&c, "probe", ZF_STAGE_PROBE);
	zf_error_clear(&err);
	t0 = zf_now_ns();
	assert_int_equal(zf_run_capture(&c, argv, &out, cancel, &err),
	    ZF_E_CANCELED);
	ms = (zf_now_ns() - t0) / MS;
	assert_true(ms < 5000);
	assert_true(c.reaped);
	assert_int_equal(zf_child_code(&c), 128 + SIGTERM);
	zf_child_release(&c, 0);
	close(cancel);
	unlink(fifo);
	/* a cancel already pending: the child is stopped at once */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	zf_child_init(&c, "probe", ZF_STAGE_PROBE);
	zf_error_clear(&err);
	snprintf(script, sizeof(script), "exec sleep 60");
	assert_int_equal(zf_run_capture(&c, argv, &out, p[0], &err),
	    ZF_E_CANCELED);
	assert_true(c.reaped);
	zf_child_release(&c, 0);
	close(p[0]);
	close(p[1]);
	zf_buf_release(&out);
}

/* --- per test --------------------------------------------------------- */

static int
setup(void **state)
{
	(void)state;
	fds_before = tu_count_fds();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (tu_count_fds() != fds_before) {
		print_error("descriptors leaked: %d before, %d after\n",
		    fds_before, tu_count_fds());
		return -1;
	}
	if (!tu_no_children()) {
		print_error("a child was left unreaped\n");
		return -1;
	}
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return tu_rmrf(tmpdir);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_missing_program_is_a_spawn_error_naming_it),
	    T(test_non_executable_file_is_a_spawn_error),
	    T(test_long_program_path_is_kept_for_messages),
	    T(test_io_fd_is_taken_even_on_error),
	    T(test_stream_pipes_are_sized_unless_asked_not_to),
	    T(test_exit_codes_and_128_plus_signal),
	    T(test_child_environment_is_exactly_the_kept_variables),
	    T(test_child_runs_in_its_own_process_group),
	    T(test_child_signals_are_reset_to_default),
	    T(test_no_descriptor_leaks_into_the_child),
	    T(test_stderr_capture_is_bounded),
	    T(test_release_kills_a_child_ignoring_sigterm_after_the_grace),
	    T(test_release_of_a_child_that_obeys_sigterm_is_quick),
	    T(test_child_dies_when_its_parent_dies),
	    T(test_run_capture_keeps_stdout_and_stderr_apart),
	    T(test_run_capture_refuses_output_over_the_limit),
	    T(test_run_capture_stops_on_cancel),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
