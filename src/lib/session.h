/*
 * session.h: what the transfers of one zferry run share: the validated
 * settings (a zf_spec used as a template), what each side's host can do
 * (asked once), the compression decided for the link, the cancel pipe, and
 * the event callback (calls serialised, so worker threads may share it).
 * A job is one session and one transfer; a sync is one session and many.
 */
#ifndef ZF_SESSION_H
#define ZF_SESSION_H

#include <pthread.h>
#include <stdatomic.h>

#include "zferry/event.h"
#include "cmd.h"
#include "relay.h"
#include "spawn.h"
#include "spec.h"
#include "zfs.h"

/* What a host can do, as far as zferry asked (zf_session_probe()). */
struct zf_side {
	const struct zf_location *loc; /* its host (and root dataset) */
	bool probed;
	zf_optset send_opts;
	zf_optset recv_opts;
	zf_optset list_opts;
	bool has_bookmark; /* zfs bookmark */
	bool has_hold; /* zfs hold */
	bool has_zferry; /* a zferry that speaks ZF_PIPE_PROTOCOL */
	bool has_zstd;
	bool has_lz4;
};

struct zf_session {
	const struct zf_spec *spec; /* the settings; not owned */
	struct zf_side src;
	struct zf_side dst;
	int cancel_rd; /* readable once canceled: never drained */
	int cancel_wr;
	atomic_int cancel_sig; /* the signal, -1, or 0 */
	zf_event_fn fn;
	void *arg;
	pthread_mutex_t lock; /* one event at a time */
	/* --bwlimit: one limit for all transfers of the session at once */
	struct zf_shared_bucket bucket;
	/* the link */
	enum zf_compress_alg alg;
	struct zf_wrap src_wrap;
	struct zf_wrap dst_wrap;
};

/* Counters of one transfer. */
struct zf_xfer_stats {
	uint64_t estimate;
	uint64_t bytes;
	uint64_t wire_bytes;
	uint64_t elapsed_ns;
};

/*
 * Sets s up for spec (not copied: it must outlive s) with its cancel pipe.
 * Returns ZF_OK or ZF_E_SYS; s is released on failure.
 */
enum zf_status zf_session_init(struct zf_session *s, const struct zf_spec *spec,
    struct zf_error *err);
void zf_session_release(struct zf_session *s);

/*
 * Cancels every transfer of the session: records signo (the first reason
 * wins) and makes the cancel pipe readable for good.  Async-signal safe,
 * thread safe.
 */
void zf_session_cancel(struct zf_session *s, int signo);

/* Emits ev with source and target filled in (may be NULL). */
void zf_session_emit(struct zf_session *s, struct zf_event *ev,
    const char *source, const char *target);
void zf_session_text(struct zf_session *s, enum zf_event_type type,
    const char *fmt, ...) ZF_PRINTF(3, 4);

/* "[user@]host:dataset" or "dataset", for messages. */
void zf_location_text(char *dst, size_t n, const struct zf_location *loc,
    const char *dataset);

/* Records the cancel (with its signal) in err; returns ZF_E_CANCELED. */
enum zf_status zf_session_canceled(struct zf_session *s, struct zf_error *err);
bool zf_session_is_canceled(struct zf_session *s);

/*
 * Asks side's host what it has, in one command: the usage text of "zfs"
 * (every subcommand's options) and, on a remote host, zferry, zstd and
 * lz4.  Fails as the command fails (ssh unreachable: transient).
 */
enum zf_status zf_session_probe(struct zf_session *s, struct zf_side *side,
    struct zf_error *err);

/*
 * Checks the flags of a transfer against what the sides can do
 * (ZF_E_UNSUPPORTED names the flag and the host).  Sides not probed are
 * probed first when a flag needs it.
 */
enum zf_status zf_session_check(struct zf_session *s,
    const struct zf_spec *xfer, struct zf_error *err);

/*
 * Decides the compression on the link and what runs around zfs on the
 * remote host (probing it when needed).  Explicit requests that cannot
 * be met are ZF_E_UNSUPPORTED; auto falls back to none with a note.
 */
enum zf_status zf_session_plan_link(struct zf_session *s, struct zf_error *err);

/*
 * One transfer: the size estimate (unless disabled), then zfs send
 * relayed into zfs receive, as xfer says (source snapshot, target, base,
 * flags; the rest comes from the session).  Emits START, COMMAND,
 * PROGRESS and DONE; failures are left in err for the caller, with the
 * failing stage.  token: resume with "zfs send -t TOKEN" instead.
 */
enum zf_status zf_session_transfer(struct zf_session *s,
    const struct zf_spec *xfer, const char *token, struct zf_xfer_stats *st,
    struct zf_error *err);

/*
 * Runs "zfs ARGS..." on loc (locally or through ssh) to completion, its
 * stdout into out (may be NULL) and stderr kept in c, which the caller
 * releases.  Fails only when it cannot run it (or on cancel): the exit
 * status is the caller's to read (zf_child_ok()).  even_canceled: a
 * cleanup (zfs release) that runs to completion after a cancel too.
 */
enum zf_status zf_session_zfs(struct zf_session *s,
    const struct zf_location *loc, const char *const *args, struct zf_buf *out,
    bool even_canceled, struct zf_child *c, struct zf_error *err);

/*
 * Fills err from a failed child: its stage (ssh when ssh itself failed),
 * exit status, transient or not, and its stderr on one line.
 */
enum zf_status zf_child_failure(const struct zf_child *c,
    const struct zf_location *loc, struct zf_error *err);

#endif
