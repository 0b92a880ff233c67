/*
 * xfer.h: the poll loop of one transfer.  It relays the stream from a
 * source (a child's stdout, or an fd) to a sink (a child's stdin, or an
 * fd), drains the children's stderr, notices their exits through pidfds,
 * and stops everything on cancel, timeout or stall.  It decides nothing
 * about who is to blame: the caller reads the children afterwards.
 */
#ifndef ZF_XFER_H
#define ZF_XFER_H

#include "relay.h"
#include "spawn.h"

struct zf_xfer;

/* Called at most every progress_ns with the relay's counters. */
typedef void (
    *zf_xfer_progress_fn)(void *arg, const struct zf_relay *r, uint64_t now_ns);

struct zf_xfer_opts {
	int cancel_fd; /* readable: stop (ZF_E_CANCELED); -1: none */
	uint64_t timeout_ns; /* the whole transfer; 0: none */
	uint64_t stall_ns; /* no byte moved for this long; 0: none */
	uint64_t progress_ns;
	zf_xfer_progress_fn progress;
	void *progress_arg;
	struct zf_relay_opts relay; /* its codec is taken */
};

struct zf_xfer {
	struct zf_child *src; /* its out_fd is the input; NULL: in_fd */
	struct zf_child *dst; /* its in_fd is the output; NULL: out_fd */
	int in_fd;
	int out_fd;
	struct zf_relay relay;
	bool relay_ready;
	bool out_closed_first; /* the sink stopped reading first */
	bool stalled;
	bool timed_out;
	bool canceled;
	uint64_t start_ns;
	uint64_t end_ns;
};

/*
 * Runs the transfer until the data is through and every child has been
 * reaped.  Returns ZF_OK (the children may still have failed: look at
 * them), ZF_E_CANCELED, ZF_E_TIMEOUT (x->stalled or x->timed_out says
 * which), or ZF_E_SYS / ZF_E_PROTOCOL / ZF_E_NOMEM for the relay itself.
 * On any return but ZF_OK the children are still running: the caller
 * stops them (zf_xfer_stop()).
 */
enum zf_status zf_xfer_run(struct zf_xfer *x, const struct zf_xfer_opts *o,
    struct zf_error *err);

/*
 * Stops what still runs: closes the sink's stdin first (so a remote zfs
 * receive sees the end of its stream), then SIGTERM, grace, SIGKILL to
 * each child, reaps them, and frees the relay.
 */
void zf_xfer_stop(struct zf_xfer *x, unsigned grace_ms);

#endif
