#include "compat.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>

#include "zferry/zferry.h"
#include "cmd.h"
#include "relay.h"
#include "run.h"
#include "spawn.h"
#include "spec.h"
#include "zfs.h"

#define GRACE_MS 2000
#define USAGE_MAX (64 * 1024)

struct zf_job {
	struct zf_spec spec;
	zf_event_fn fn;
	void *arg;
	int cancel_rd;
	int cancel_wr;
	atomic_int cancel_sig;
	bool ran;
	char source_text[2 * ZF_LOC_FIELD_MAX + 8];
	char target_text[2 * ZF_LOC_FIELD_MAX + 8];
};

const char *
zf_version(void)
{
	return ZF_VERSION;
}

static void
location_text(char *dst, size_t n, const struct zf_location *loc)
{
	if (!zf_location_is_remote(loc))
		snprintf(dst, n, "%s", loc->dataset);
	else if (loc->user[0] != '\0')
		snprintf(dst, n,
		    strchr(loc->host, ':') ? "%s@[%s]:%s" : "%s@%s:%s",
		    loc->user, loc->host, loc->dataset);
	else
		snprintf(dst, n, strchr(loc->host, ':') ? "[%s]:%s" : "%s:%s",
		    loc->host, loc->dataset);
}

enum zf_status
zf_job_new(struct zf_job **jobp, const struct zf_send_config *cfg,
    struct zf_error *err)
{
	struct zf_job *job;
	int fds[2];
	enum zf_status r;

	*jobp = NULL;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	r = zf_spec_init(&job->spec, cfg, err);
	if (r != ZF_OK) {
		free(job);
		return r;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		r = zf_fail_errno(err, errno, "cannot make a pipe");
		zf_spec_release(&job->spec);
		free(job);
		return r;
	}
	job->cancel_rd = fds[0];
	job->cancel_wr = fds[1];
	atomic_init(&job->cancel_sig, 0);
	location_text(job->source_text, sizeof(job->source_text),
	    &job->spec.source);
	location_text(job->target_text, sizeof(job->target_text),
	    &job->spec.target);
	*jobp = job;
	return ZF_OK;
}

void
zf_job_set_events(struct zf_job *job, zf_event_fn fn, void *arg)
{
	job->fn = fn;
	job->arg = arg;
}

void
zf_job_cancel(struct zf_job *job, int signo)
{
	int saved = errno;
	int expected = 0;
	ssize_t n;

	/* the first reason wins; the byte wakes the poll loop */
	atomic_compare_exchange_strong(&job->cancel_sig, &expected,
	    signo != 0 ? signo : -1);
	n = write(job->cancel_wr, "x", 1);
	(void)n;
	errno = saved;
}

void
zf_job_free(struct zf_job *job)
{
	if (job == NULL)
		return;
	close(job->cancel_rd);
	close(job->cancel_wr);
	zf_spec_release(&job->spec);
	free(job);
}

static void
emit(struct zf_job *job, struct zf_event *ev)
{
	if (job->fn == NULL)
		return;
	ev->source = job->source_text;
	ev->target = job->target_text;
	job->fn(ev, job->arg);
}

static void
emit_command(struct zf_job *job, enum zf_stage stage, char **argv)
{
	struct zf_event ev;
	char text[2048];

	if (job->fn == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_COMMAND;
	ev.stage = stage;
	zf_cmd_describe(text, sizeof(text), (const char *const *)argv);
	ev.text = text;
	emit(job, &ev);
}

static enum zf_status
canceled(struct zf_job *job, struct zf_error *err)
{
	int sig = atomic_load(&job->cancel_sig);
	enum zf_status r;

	r = zf_fail(err, ZF_E_CANCELED, "canceled%s%s", sig > 0 ? " by " : "",
	    sig > 0 ? strsignal(sig) : "");
	if (err != NULL && err->code == ZF_E_CANCELED)
		err->signo = sig > 0 ? sig : 0;
	return r;
}

/* Builds the argv that runs zfs_argv on loc (local or through ssh). */
static char **
side_argv(struct zf_job *job, const struct zf_location *loc,
    struct zf_argv *zfs_argv, struct zf_error *err)
{
	struct zf_argv a = ZF_ARGV_INIT;
	char **v;

	if (!zf_argv_ok(zfs_argv)) {
		zf_argv_clear(zfs_argv);
		zf_fail(err, ZF_E_NOMEM, "out of memory");
		return NULL;
	}
	if (zf_cmd_on(&a, &job->spec, loc, (const char *const *)zfs_argv->v,
	        err) != ZF_OK) {
		zf_argv_clear(zfs_argv);
		zf_argv_clear(&a);
		return NULL;
	}
	zf_argv_clear(zfs_argv);
	v = zf_argv_finish(&a);
	if (v == NULL)
		zf_fail(err, ZF_E_NOMEM, "out of memory");
	return v;
}

static const char *
zfs_for(const struct zf_job *job, const struct zf_location *loc)
{
	return zf_location_is_remote(loc) ? job->spec.remote_zfs
	                                  : job->spec.zfs_program;
}

/* Fills err with a failed child's story: stage, exit code, its stderr. */
static enum zf_status
child_failure(const struct zf_child *c, const struct zf_location *loc,
    struct zf_error *err)
{
	char line[ZF_ERRMSG_MAX];
	int code = zf_child_code(c);
	struct zf_verdict v;
	bool remote = zf_location_is_remote(loc);
	char where[ZF_LOC_FIELD_MAX + 8] = "";
	char status[32];

	v = zf_classify(c->stage, remote, code,
	    c->errbuf.data ? c->errbuf.data : "", c->errbuf.len);
	zf_stderr_line(line, sizeof(line), c->errbuf.data ? c->errbuf.data : "",
	    c->errbuf.len);
	if (remote)
		snprintf(where, sizeof(where), " on '%s'", loc->host);
	if (code > 128 && code < 128 + 65)
		snprintf(status, sizeof(status), "killed by %s",
		    strsignal(code - 128));
	else
		snprintf(status, sizeof(status), "exit %d", code);
	if (v.stage == ZF_STAGE_SSH)
		zf_fail(err, ZF_E_CHILD, "ssh to '%s' failed (%s)%s%s",
		    loc->host, status, line[0] ? ": " : "", line);
	else
		zf_fail(err, ZF_E_CHILD, "%s%s failed (%s)%s%s",
		    zf_stage_str(c->stage), where, status, line[0] ? ": " : "",
		    line);
	if (err != NULL && err->code == ZF_E_CHILD) {
		err->stage = v.stage;
		err->transient = v.transient;
		err->child_status = code;
	}
	return ZF_E_CHILD;
}

/*
 * Asks the zfs on loc which options its "zfs CMD" takes, from the usage
 * text it prints when run without arguments.
 */
static enum zf_status
probe(struct zf_job *job, const struct zf_location *loc, const char *cmd,
    zf_optset *opts, struct zf_error *err)
{
	struct zf_argv za = ZF_ARGV_INIT;
	struct zf_child c;
	char **argv;
	enum zf_status r;
	const char *text;

	zf_argv_push(&za, zfs_for(job, loc));
	zf_argv_push(&za, cmd);
	argv = side_argv(job, loc, &za, err);
	if (argv == NULL)
		return ZF_E_NOMEM;
	emit_command(job, ZF_STAGE_PROBE, argv);
	zf_child_init(&c, "zfs probe", ZF_STAGE_PROBE);
	r = zf_run_capture(&c, argv, NULL, job->cancel_rd, err);
	zf_argv_free_v(argv);
	if (r == ZF_E_CANCELED) {
		if (err != NULL)
			err->code = ZF_OK;
		r = canceled(job, err);
	}
	if (r != ZF_OK) {
		zf_child_release(&c, GRACE_MS);
		return r;
	}
	text = c.errbuf.data != NULL ? c.errbuf.data : "";
	if (strstr(text, "usage:") == NULL) {
		r = child_failure(&c, loc, err);
		if (err != NULL && err->stage == ZF_STAGE_PROBE)
			err->stage = zf_location_is_remote(loc)
			    ? ZF_STAGE_SSH
			    : ZF_STAGE_PROBE;
		zf_child_release(&c, GRACE_MS);
		return r;
	}
	*opts = zf_parse_usage_opts(text, c.errbuf.len, cmd);
	zf_child_release(&c, GRACE_MS);
	return ZF_OK;
}

struct need {
	char opt;
	bool wanted;
	const char *what;
};

static enum zf_status
check_caps(struct zf_job *job, struct zf_error *err)
{
	const struct zf_spec *s = &job->spec;
	const struct need send_needs[] = {
	    {'w', (s->send_flags & ZF_SEND_RAW) != 0, "-w (--raw)"},
	    {'c', (s->send_flags & ZF_SEND_COMPRESSED) != 0,
	        "-c (--compressed)"},
	    {'L', (s->send_flags & ZF_SEND_LARGE_BLOCK) != 0,
	        "-L (--large-block)"},
	    {'e', (s->send_flags & ZF_SEND_EMBED) != 0, "-e (--embed)"},
	    {'h', (s->send_flags & ZF_SEND_HOLDS) != 0, "-h (--holds)"},
	    {'b', (s->send_flags & ZF_SEND_BACKUP) != 0, "-b (--backup)"},
	};
	const struct need recv_needs[] = {
	    {'u', (s->recv_flags & ZF_RECV_NOMOUNT) != 0, "-u (--no-mount)"},
	    {'s', (s->recv_flags & ZF_RECV_RESUMABLE) != 0, "-s (--resumable)"},
	    {'o', s->props[0] != NULL, "-o PROPERTY=VALUE"},
	    {'o', s->origin != NULL, "-o origin= (--origin)"},
	    {'x', s->excludes[0] != NULL, "-x PROPERTY"},
	};
	const struct {
		const struct need *needs;
		size_t n;
		const struct zf_location *loc;
		const char *cmd;
	} sides[] = {
	    {send_needs, ZF_ARRAY_SIZE(send_needs), &s->source, "send"},
	    {recv_needs, ZF_ARRAY_SIZE(recv_needs), &s->target, "receive"},
	};
	size_t i, k;

	for (i = 0; i < ZF_ARRAY_SIZE(sides); i++) {
		zf_optset opts = 0;
		bool any = false;

		for (k = 0; k < sides[i].n; k++)
			any |= sides[i].needs[k].wanted;
		if (!any)
			continue;
		if (probe(job, sides[i].loc, sides[i].cmd, &opts, err) != ZF_OK)
			return err != NULL ? err->code : ZF_E_CHILD;
		for (k = 0; k < sides[i].n; k++) {
			const struct need *nd = &sides[i].needs[k];
			char where[ZF_LOC_FIELD_MAX + 16] = "this host";

			if (!nd->wanted || zf_opt_has(opts, nd->opt))
				continue;
			if (zf_location_is_remote(sides[i].loc))
				snprintf(where, sizeof(where), "'%s'",
				    sides[i].loc->host);
			zf_fail(err, ZF_E_UNSUPPORTED,
			    "%s is not supported by the zfs on %s (its 'zfs %s' has no -%c)",
			    nd->what, where, sides[i].cmd, nd->opt);
			if (err != NULL)
				err->stage =
				    i == 0 ? ZF_STAGE_SEND : ZF_STAGE_RECV;
			return ZF_E_UNSUPPORTED;
		}
	}
	return ZF_OK;
}

struct xfer {
	struct zf_child send;
	struct zf_child recv;
	struct zf_relay relay;
	bool relay_ready;
	bool out_closed_first; /* the receiver stopped reading first */
	bool canceled;
	uint64_t start_ns;
};

enum {
	P_CANCEL,
	P_IN,
	P_OUT,
	P_SEND_ERR,
	P_RECV_ERR,
	P_SEND_PID,
	P_RECV_PID,
	P_COUNT
};

static void
set_pfd(struct pollfd *p, int fd, short events)
{
	p->fd = fd;
	p->events = events;
	p->revents = 0;
}

static void
drain_cancel(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * The poll loop: relays the stream while it flows, then waits for both
 * children to exit, draining their stderr all along.
 */
static enum zf_status
xfer_loop(struct zf_job *job, struct xfer *x, struct zf_error *err)
{
	struct pollfd p[P_COUNT];
	struct zf_error relay_err;
	bool data_done = false;

	zf_error_clear(&relay_err);
	while (!(x->send.reaped && x->recv.reaped)) {
		short in_ev = 0, out_ev = 0;
		bool waiting_exit;
		int n;

		if (!data_done)
			zf_relay_events(&x->relay, &in_ev, &out_ev);
		set_pfd(&p[P_CANCEL], job->cancel_rd, POLLIN);
		set_pfd(&p[P_IN], in_ev ? x->send.out_fd : -1, in_ev);
		set_pfd(&p[P_OUT], !data_done ? x->recv.in_fd : -1, out_ev);
		set_pfd(&p[P_SEND_ERR], x->send.err_fd, POLLIN);
		set_pfd(&p[P_RECV_ERR], x->recv.err_fd, POLLIN);
		set_pfd(&p[P_SEND_PID], x->send.reaped ? -1 : x->send.pidfd,
		    POLLIN);
		set_pfd(&p[P_RECV_PID], x->recv.reaped ? -1 : x->recv.pidfd,
		    POLLIN);
		/* without pidfds, look for exits every 10 ms once data ends */
		waiting_exit = data_done &&
		    ((!x->send.reaped && x->send.pidfd < 0) ||
		        (!x->recv.reaped && x->recv.pidfd < 0));
		n = poll(p, P_COUNT, waiting_exit ? 10 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return zf_fail_errno(err, errno, "poll");
		if (p[P_CANCEL].revents != 0) {
			drain_cancel(job->cancel_rd);
			x->canceled = true;
			return canceled(job, err);
		}
		if (p[P_SEND_ERR].revents != 0)
			zf_child_drain_stderr(&x->send);
		if (p[P_RECV_ERR].revents != 0)
			zf_child_drain_stderr(&x->recv);
		if (!data_done) {
			enum zf_relay_state st;

			if ((p[P_OUT].revents & (POLLERR | POLLHUP)) &&
			    x->relay.used == 0)
				x->relay.state = ZF_RELAY_OUT_CLOSED;
			st = zf_relay_pump(&x->relay, &relay_err);
			if (st != ZF_RELAY_RUNNING) {
				data_done = true;
				/* EOF for the receiver: it finishes or fails */
				zf_child_close_fd(&x->recv.in_fd);
				zf_child_close_fd(&x->send.out_fd);
				if (st == ZF_RELAY_OUT_CLOSED) {
					x->out_closed_first = true;
					/* nobody reads: the sender must stop */
					if (!x->send.reaped)
						zf_child_kill(&x->send,
						    SIGTERM);
				}
				if (st == ZF_RELAY_FAILED) {
					zf_child_kill(&x->send, SIGTERM);
					zf_child_kill(&x->recv, SIGTERM);
				}
			}
		}
		if (p[P_SEND_PID].revents != 0 || waiting_exit)
			zf_child_wait(&x->send, false);
		if (p[P_RECV_PID].revents != 0 || waiting_exit)
			zf_child_wait(&x->recv, false);
	}
	/* what the children wrote just before exiting */
	while (zf_child_drain_stderr(&x->send))
		;
	while (zf_child_drain_stderr(&x->recv))
		;
	if (x->relay.state == ZF_RELAY_FAILED) {
		if (err != NULL && err->code == ZF_OK) {
			*err = relay_err;
			err->stage = ZF_STAGE_RELAY;
		}
		return ZF_E_SYS;
	}
	return ZF_OK;
}

/* Decides which stage failed first and why. */
static enum zf_status
xfer_verdict(struct zf_job *job, struct xfer *x, struct zf_error *err)
{
	const struct zf_location *src = &job->spec.source;
	const struct zf_location *dst = &job->spec.target;
	bool send_ok = zf_child_ok(&x->send);
	bool recv_ok = zf_child_ok(&x->recv);

	if (send_ok && recv_ok)
		return ZF_OK;
	/*
	 * When the receiver stopped reading first, the sender's failure
	 * (SIGPIPE, SIGTERM from us, "Broken pipe") follows from it.
	 */
	if (!recv_ok && (x->out_closed_first || send_ok))
		return child_failure(&x->recv, dst, err);
	if (!send_ok)
		return child_failure(&x->send, src, err);
	return child_failure(&x->recv, dst, err);
}

static void
xfer_release(struct xfer *x)
{
	/* stdin of the receiver first: a remote zfs receive sees EOF */
	zf_child_close_fd(&x->recv.in_fd);
	zf_child_release(&x->send, GRACE_MS);
	zf_child_release(&x->recv, GRACE_MS);
	if (x->relay_ready)
		zf_relay_release(&x->relay);
}

static enum zf_status
xfer_run(struct zf_job *job, struct zf_error *err)
{
	struct zf_argv za = ZF_ARGV_INIT;
	char **send_argv = NULL, **recv_argv = NULL;
	struct xfer x;
	struct zf_event ev;
	enum zf_status r;

	memset(&x, 0, sizeof(x));
	zf_child_init(&x.send, "zfs send", ZF_STAGE_SEND);
	zf_child_init(&x.recv, "zfs receive", ZF_STAGE_RECV);
	x.send.stdout_mode = ZF_IO_PIPE;
	x.recv.stdin_mode = ZF_IO_PIPE;

	zf_cmd_zfs_send(&za, &job->spec, zfs_for(job, &job->spec.source));
	send_argv = side_argv(job, &job->spec.source, &za, err);
	zf_cmd_zfs_recv(&za, &job->spec, zfs_for(job, &job->spec.target));
	recv_argv =
	    send_argv ? side_argv(job, &job->spec.target, &za, err) : NULL;
	zf_argv_clear(&za);
	if (send_argv == NULL || recv_argv == NULL) {
		r = err != NULL && err->code != ZF_OK ? err->code : ZF_E_NOMEM;
		goto out;
	}

	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_START;
	ev.estimated_bytes = ZF_UNKNOWN;
	emit(job, &ev);
	emit_command(job, ZF_STAGE_RECV, recv_argv);
	emit_command(job, ZF_STAGE_SEND, send_argv);

	x.start_ns = zf_now_ns();
	r = zf_child_start(&x.recv, recv_argv, err);
	if (r == ZF_OK)
		r = zf_child_start(&x.send, send_argv, err);
	if (r == ZF_OK)
		r = zf_relay_init(&x.relay, x.send.out_fd, x.recv.in_fd, 0,
		    err);
	if (r != ZF_OK)
		goto out;
	x.relay_ready = true;
	r = xfer_loop(job, &x, err);
	if (r == ZF_OK)
		r = xfer_verdict(job, &x, err);
	if (r == ZF_OK) {
		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_DONE;
		ev.bytes = x.relay.bytes_out;
		ev.wire_bytes = x.relay.bytes_out;
		ev.elapsed_ns = zf_now_ns() - x.start_ns;
		emit(job, &ev);
	}
out:
	xfer_release(&x);
	zf_argv_free_v(send_argv);
	zf_argv_free_v(recv_argv);
	return r;
}

enum zf_status
zf_job_run(struct zf_job *job, struct zf_error *err)
{
	enum zf_status r;

	if (job->ran)
		return zf_fail(err, ZF_E_INVALID, "a job runs only once");
	job->ran = true;
	if (job->spec.ssh.key_too_open) {
		struct zf_event ev;
		char text[ZF_LOC_FIELD_MAX + 160];

		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_WARNING;
		snprintf(text, sizeof(text),
		    "--ssh-key '%s' is readable by others; ssh will refuse to use it (chmod 600)",
		    job->spec.ssh.key_file);
		ev.text = text;
		emit(job, &ev);
	}
	if (atomic_load(&job->cancel_sig) != 0)
		r = canceled(job, err);
	else if ((r = check_caps(job, err)) == ZF_OK)
		r = xfer_run(job, err);
	if (r != ZF_OK) {
		struct zf_event ev;

		zf_error_prefix(err, "'%s' to '%s'", job->source_text,
		    job->target_text);
		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_ERROR;
		ev.error = err;
		ev.stage = err != NULL ? err->stage : ZF_STAGE_NONE;
		emit(job, &ev);
	}
	return r;
}
