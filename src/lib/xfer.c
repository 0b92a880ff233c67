#include "compat.h"

#include <poll.h>
#include <signal.h>

#include "xfer.h"

enum {
	P_CANCEL,
	P_IN,
	P_OUT,
	P_SRC_ERR,
	P_DST_ERR,
	P_SRC_PID,
	P_DST_PID,
	P_COUNT
};

static void
set_pfd(struct pollfd *p, int fd, short events)
{
	p->fd = fd;
	p->events = events;
	p->revents = 0;
}

static bool
child_done(const struct zf_child *c)
{
	return c == NULL || c->reaped;
}

static int
pid_fd(const struct zf_child *c)
{
	return c == NULL || c->reaped ? -1 : c->pidfd;
}

static int
err_fd(const struct zf_child *c)
{
	return c == NULL ? -1 : c->err_fd;
}

/* Looks for child exits by polling when there are no pidfds. */
static bool
needs_exit_polling(const struct zf_child *c)
{
	return c != NULL && !c->reaped && c->pidfd < 0;
}

/*
 * What the child wrote before it exited, which a stderr pipe holds (64
 * KiB, read 64 KiB a call).  Bounded: another process may keep the pipe
 * open (an ssh master keeps a killed mux client's stderr until its session
 * ends), and reading it until EOF would spin.
 */
static void
drain_all(struct zf_child *c)
{
	int i;

	for (i = 0; c != NULL && i < 4 && zf_child_drain_stderr(c); i++)
		;
}

/* The end of the data: close the pipes so both sides see it. */
static void
data_end(struct zf_xfer *x, enum zf_relay_state st)
{
	if (x->dst != NULL)
		zf_child_close_fd(&x->dst->in_fd);
	if (x->src != NULL)
		zf_child_close_fd(&x->src->out_fd);
	if (st == ZF_RELAY_OUT_CLOSED) {
		x->out_closed_first = true;
		/* nobody reads any more: the source must stop */
		if (x->src != NULL)
			zf_child_kill(x->src, SIGTERM);
	} else if (st == ZF_RELAY_FAILED) {
		/*
		 * The stream broke (a read error, a corrupt compressed
		 * stream): the source stops; the sink has its end of input
		 * and fails by itself, so a zfs receive -s keeps what it
		 * has.  One that does not exit is a stall.
		 */
		if (x->src != NULL)
			zf_child_kill(x->src, SIGTERM);
	}
}

/* The child still running once the data is through, for messages. */
static const char *
stuck_name(const struct zf_xfer *x)
{
	if (x->dst != NULL && !x->dst->reaped)
		return x->dst->name;
	if (x->src != NULL && !x->src->reaped)
		return x->src->name;
	return "a child";
}

static int
poll_timeout_ms(uint64_t wait_ns)
{
	if (wait_ns == UINT64_MAX)
		return -1;
	if (wait_ns > 60ull * 1000000000u)
		return 60000;
	/* round up: waking a little late is better than spinning */
	return (int)((wait_ns + 999999) / 1000000);
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

enum zf_status
zf_xfer_run(struct zf_xfer *x, const struct zf_xfer_opts *o,
    struct zf_error *err)
{
	struct pollfd p[P_COUNT];
	struct zf_error relay_err;
	bool data_done = false;
	uint64_t next_progress;
	enum zf_status r;

	zf_error_clear(&relay_err);
	if (x->src != NULL)
		x->in_fd = x->src->out_fd;
	if (x->dst != NULL)
		x->out_fd = x->dst->in_fd;
	r = zf_relay_init(&x->relay, x->in_fd, x->out_fd, &o->relay, err);
	x->relay_ready = true;
	if (r != ZF_OK)
		return r;
	x->start_ns = zf_now_ns();
	next_progress = x->start_ns + o->progress_ns;

	while (!(child_done(x->src) && child_done(x->dst) && data_done)) {
		uint64_t now = zf_now_ns(), wait = UINT64_MAX;
		short in_ev = 0, out_ev = 0;
		int n;

		if (!data_done) {
			zf_relay_events(&x->relay, now, &in_ev, &out_ev);
			wait = zf_relay_wait_ns(&x->relay, now);
		}
		/*
		 * A stall: no byte moved for stall_ns, or, once the data is
		 * through, a child that does not exit within stall_ns.
		 */
		if (o->stall_ns) {
			uint64_t at =
			    (data_done ? x->end_ns : x->relay.last_move_ns) +
			    o->stall_ns;

			if (now >= at) {
				x->stalled = true;
				if (data_done)
					return zf_fail(err, ZF_E_TIMEOUT,
					    "the stream ended, but %s did not exit for %" PRIu64
					    " s (--stall-timeout)",
					    stuck_name(x),
					    o->stall_ns / 1000000000u);
				return zf_fail(err, ZF_E_TIMEOUT,
				    "no data moved for %" PRIu64
				    " s (--stall-timeout)",
				    o->stall_ns / 1000000000u);
			}
			wait = min_u64(wait, at - now);
		}
		if (o->timeout_ns) {
			uint64_t at = x->start_ns + o->timeout_ns;

			if (now >= at) {
				x->timed_out = true;
				return zf_fail(err, ZF_E_TIMEOUT,
				    "the transfer took longer than %" PRIu64
				    " s (--timeout)",
				    o->timeout_ns / 1000000000u);
			}
			wait = min_u64(wait, at - now);
		}
		if (o->progress != NULL) {
			if (now >= next_progress) {
				o->progress(o->progress_arg, &x->relay, now);
				next_progress = now + o->progress_ns;
			}
			if (!data_done)
				wait = min_u64(wait, next_progress - now);
		}
		if (data_done &&
		    (needs_exit_polling(x->src) || needs_exit_polling(x->dst)))
			wait = min_u64(wait, 10000000u);

		set_pfd(&p[P_CANCEL], o->cancel_fd, POLLIN);
		set_pfd(&p[P_IN], in_ev ? x->in_fd : -1, in_ev);
		set_pfd(&p[P_OUT], data_done ? -1 : x->out_fd, out_ev);
		set_pfd(&p[P_SRC_ERR], err_fd(x->src), POLLIN);
		set_pfd(&p[P_DST_ERR], err_fd(x->dst), POLLIN);
		set_pfd(&p[P_SRC_PID], pid_fd(x->src), POLLIN);
		set_pfd(&p[P_DST_PID], pid_fd(x->dst), POLLIN);
		n = poll(p, P_COUNT, poll_timeout_ms(wait));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return zf_fail_errno(err, errno, "poll");
		if (p[P_CANCEL].revents != 0) {
			x->canceled = true;
			return zf_fail(err, ZF_E_CANCELED, "canceled");
		}
		if (p[P_SRC_ERR].revents != 0)
			zf_child_drain_stderr(x->src);
		if (p[P_DST_ERR].revents != 0)
			zf_child_drain_stderr(x->dst);
		if (!data_done) {
			enum zf_relay_state st;

			/* POLLERR on a pipe's write end: its reader is gone */
			if ((p[P_OUT].revents & (POLLERR | POLLHUP)) &&
			    x->relay.used == 0)
				x->relay.state = ZF_RELAY_OUT_CLOSED;
			st = zf_relay_pump(&x->relay, zf_now_ns(), &relay_err);
			if (st != ZF_RELAY_RUNNING) {
				data_done = true;
				x->end_ns = zf_now_ns();
				data_end(x, st);
			}
		}
		if (x->src != NULL &&
		    (p[P_SRC_PID].revents != 0 || needs_exit_polling(x->src)))
			zf_child_wait(x->src, false);
		if (x->dst != NULL &&
		    (p[P_DST_PID].revents != 0 || needs_exit_polling(x->dst)))
			zf_child_wait(x->dst, false);
		/*
		 * The sink failed before the stream ended: no one of ours
		 * reads its stdin any more, even if the pipe is still open
		 * (an ssh master keeps a killed mux client's pipes until
		 * its session ends).  The stream stops here.
		 */
		if (!data_done && x->dst != NULL && x->dst->reaped &&
		    !zf_child_ok(x->dst)) {
			data_done = true;
			x->end_ns = zf_now_ns();
			data_end(x, ZF_RELAY_OUT_CLOSED);
		}
	}
	/* what the children wrote just before exiting */
	drain_all(x->src);
	drain_all(x->dst);
	if (o->progress != NULL)
		o->progress(o->progress_arg, &x->relay, zf_now_ns());
	if (x->relay.state == ZF_RELAY_FAILED) {
		if (err != NULL && err->code == ZF_OK) {
			*err = relay_err;
			err->stage = ZF_STAGE_RELAY;
		}
		return relay_err.code != ZF_OK ? relay_err.code : ZF_E_SYS;
	}
	return ZF_OK;
}

void
zf_xfer_stop(struct zf_xfer *x, unsigned grace_ms)
{
	/* the sink's stdin first: a remote zfs receive sees its stream end */
	struct zf_child *const cs[] = {x->dst, x->src};

	zf_children_release(cs, 2, grace_ms);
	if (x->relay_ready)
		zf_relay_release(&x->relay);
	x->relay_ready = false;
}
