/*
 * spawn.h: starting, signalling and reaping child processes (git's
 * run-command, with OpenSSH's minimal environment).
 *
 * Life cycle:
 *   struct zf_child c;
 *   zf_child_init(&c, "zfs send", ZF_STAGE_SEND);
 *   c.stdin_mode = ZF_IO_NULL; c.stdout_mode = ZF_IO_PIPE;
 *   zf_child_start(&c, argv, &err);   ... read c.out_fd, c.err_fd ...
 *   zf_child_wait(&c, true);          ... zf_child_release(&c);
 *
 * Every child runs in a process group of its own (so a signal reaches what
 * it started too), with signals reset to their defaults, fds above 2
 * closed, and an environment of PATH, HOME, USER, LOGNAME, SSH_AUTH_SOCK,
 * TMPDIR plus LC_ALL=C (zfs messages are then in English and can be
 * classified).  The program is looked up in PATH before fork(); exec
 * failures come back through a close-on-exec pipe, so a missing program is
 * a ZF_E_SPAWN error, never a child that exits 127.
 *
 * fd ownership: the parent's ends (in_fd, out_fd, err_fd, pidfd) belong to
 * the struct and are closed by zf_child_release(), or earlier by the caller
 * through zf_child_close_fd() which also sets the field to -1.
 */
#ifndef ZF_SPAWN_H
#define ZF_SPAWN_H

#include <sys/types.h>

#include "util.h"

enum zf_io_mode {
	ZF_IO_NULL = 0, /* /dev/null */
	ZF_IO_PIPE, /* a pipe; the parent's end in in_fd/out_fd */
	ZF_IO_FD, /* the fd in stdin_fd/stdout_fd (taken: closed by
	             zf_child_start(), even on error) */
};

/* Size of the stream pipes (F_SETPIPE_SZ, set before any data flows). */
#define ZF_PIPE_SIZE (1024 * 1024)

/* Bound on a child's captured stderr. */
#define ZF_STDERR_MAX (16 * 1024)

struct zf_child {
	const char *name; /* "zfs send", for messages (not owned) */
	enum zf_stage stage;
	enum zf_io_mode stdin_mode;
	enum zf_io_mode stdout_mode;
	int stdin_fd; /* with ZF_IO_FD */
	int stdout_fd; /* with ZF_IO_FD */
	bool stderr_inherit; /* the child writes to our stderr (no errbuf) */
	bool stdout_default_size; /* leave the stdout pipe at the kernel's
	                             default, not ZF_PIPE_SIZE */

	pid_t pid; /* 0 before start and after reaping */
	int pidfd; /* readable when the child exits; -1 if unsupported */
	int in_fd; /* write end of the child's stdin pipe, or -1 */
	int out_fd; /* read end of the child's stdout pipe, or -1 */
	int err_fd; /* read end of the child's stderr pipe, or -1 */
	struct zf_buf errbuf; /* stderr kept, at most ZF_STDERR_MAX */

	bool started;
	bool reaped;
	bool killed; /* zferry sent it a signal */
	int status; /* wait status, valid when reaped */
	char argv0[64];
};

void zf_child_init(struct zf_child *c, const char *name, enum zf_stage stage);

/*
 * Starts argv[0] (looked up in PATH unless it holds a '/').  Returns ZF_OK,
 * ZF_E_SPAWN (program missing or not executable, with the reason) or
 * ZF_E_SYS.  ZF_IO_FD descriptors are closed even on error.
 */
enum zf_status zf_child_start(struct zf_child *c, char *const *argv,
    struct zf_error *err);

/* Sends sig to the child's process group (if it still runs). */
void zf_child_kill(struct zf_child *c, int sig);

/*
 * Reaps the child if it has exited (block: wait for it).  Returns true
 * once reaped.  Never blocks when block is false.
 */
bool zf_child_wait(struct zf_child *c, bool block);

/* zf_child_wait() for at most ms milliseconds; true once reaped. */
bool zf_child_wait_ms(struct zf_child *c, unsigned ms);

/* Reads what is available from err_fd into errbuf; false at EOF/error. */
bool zf_child_drain_stderr(struct zf_child *c);

/* Closes *fd (one of the child's fields) and sets it to -1. */
void zf_child_close_fd(int *fd);

/*
 * Exit code of a reaped child: its exit status, or 128 + signal when a
 * signal ended it (git's convention).  -1 when not reaped.
 */
int zf_child_code(const struct zf_child *c);

/* True when a reaped child exited 0. */
bool zf_child_ok(const struct zf_child *c);

/*
 * Stops a child that still runs: SIGTERM to its group, up to grace_ms for
 * it to exit, then SIGKILL; reaps it; closes its fds; frees errbuf.
 * Safe on a child that was never started or already released.
 */
void zf_child_release(struct zf_child *c, unsigned grace_ms);

/*
 * zf_child_release() for n children at once (NULL entries are skipped):
 * SIGTERM to all, one shared grace period, then SIGKILL to what is left.
 */
void zf_children_release(struct zf_child *const *cs, size_t n,
    unsigned grace_ms);

#endif
