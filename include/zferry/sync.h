/*
 * zferry/sync.h: make a target hold what a source holds, for one dataset
 * or a tree, whatever happened last time.
 *
 *   struct zf_sync_config cfg;
 *   zf_sync_config_init(&cfg);
 *   ... cfg.xfer.source / cfg.xfer.target (datasets), cfg.recursive ...
 *   zf_sync_new(&sync, &cfg, &err);
 *   zf_sync_set_events(sync, on_event, ctx);
 *   r = zf_sync_run(sync, &err);
 *   zf_sync_counts(sync, &counts);
 *   zf_sync_free(sync);
 *
 * A run lists each side once (one zfs list for the whole tree), plans by
 * guid (plan rules in src/lib/plan.h, summarised in the README), then runs
 * the transfers, up to cfg.jobs at once, parents before children and clone
 * origins before clones, over one shared ssh connection.  A target that
 * holds a resume token is resumed (the token verified first); transient
 * failures are retried with exponential backoff and jitter, resuming where
 * a token exists.  Nothing is destroyed unless the caller asked (force,
 * delete_target_snapshots).
 */
#ifndef ZFERRY_SYNC_H
#define ZFERRY_SYNC_H

#include "zferry/config.h"
#include "zferry/error.h"
#include "zferry/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Snapshots made by take_snapshot: zferry_YYYY-MM-DD_HH.MM.SS (UTC). */
#define ZF_SYNC_SNAPSHOT_PREFIX "zferry_"

struct zf_sync_config {
	/*
	 * Per transfer: source and target are datasets (not snapshots); the
	 * send and receive flags, properties, ssh and engine settings apply
	 * to every transfer; base must be NULL.
	 */
	struct zf_send_config xfer;
	bool recursive; /* the children too */
	bool skip_parent; /* with recursive: not the root itself */
	bool no_stream; /* -i, not -I: skip intermediates */
	bool force; /* roll back diverged, replace unrelated */
	bool delete_target_snapshots; /* destroy target snaps not on source */
	bool dry_run; /* plan, report, change nothing */
	const char *const *excludes; /* POSIX extended regexes, NULL-ended */
	bool take_snapshot; /* snapshot the source first */
	const char *snapshot_name; /* NULL: the dated default */
	unsigned jobs; /* datasets at once; 0 or 1: one */
	unsigned retries; /* retries of a transient failure */
	uint64_t retry_base_ms; /* first backoff, doubled each time */
	bool hold; /* hold what is sent during the run */
	bool bookmark; /* bookmark each snapshot sent */
	bool no_resumable; /* no receive -s */
	const char *metrics_file; /* Prometheus textfile, or NULL */
};

/*
 * Datasets at once by default.  The transfers of a tree of small
 * incrementals spend their time waiting on zfs (a receive's commit, a
 * process start, a round trip), not on CPU or bandwidth; four at once
 * overlap that.  1 sends one at a time, as syncoid does.
 */
#define ZF_SYNC_JOBS_DEFAULT 4

/*
 * Defaults: zf_send_config_init() for xfer, ZF_SYNC_JOBS_DEFAULT jobs,
 * retries 3, 1 s.
 */
void zf_sync_config_init(struct zf_sync_config *cfg);

struct zf_sync;

struct zf_sync_counts {
	unsigned ok; /* datasets that received something */
	unsigned skipped; /* nothing to do */
	unsigned failed; /* failed and a retry will not help */
	unsigned transient; /* failed, a retry may help */
	uint64_t bytes;
};

/* Checks cfg as untrusted input; ZF_E_INVALID names what is wrong. */
enum zf_status zf_sync_new(struct zf_sync **sp,
    const struct zf_sync_config *cfg, struct zf_error *err);
void zf_sync_set_events(struct zf_sync *s, zf_event_fn fn, void *arg);

/*
 * Runs the sync.  Returns ZF_OK when every dataset is in sync (or had
 * nothing to do); otherwise the first fatal failure, or with only
 * transient ones the first of those (err->transient).  Failures of single
 * datasets do not stop the others.  ZF_E_CANCELED after zf_sync_cancel().
 */
enum zf_status zf_sync_run(struct zf_sync *s, struct zf_error *err);
void zf_sync_counts(const struct zf_sync *s, struct zf_sync_counts *c);

/* Async-signal safe, thread safe: stops the run (every child reaped). */
void zf_sync_cancel(struct zf_sync *s, int signo);
void zf_sync_free(struct zf_sync *s);

#ifdef __cplusplus
}
#endif
#endif
