/*
 * zferry/job.h: running a transfer.
 *
 *   struct zf_job *job;
 *   if (zf_job_new(&job, &cfg, &err) != ZF_OK) ...  // checks cfg
 *   zf_job_set_events(job, on_event, ctx);          // optional
 *   r = zf_job_run(job, &err);                      // blocks until done
 *   zf_job_free(job);
 *
 * zf_job_run() starts "zfs send" and "zfs receive" (each either local or
 * through ssh) from argv vectors, relays the stream between them through
 * zferry's own buffer, collects every child's exit status, and stops and
 * reaps every child on every path: success, failure and cancel.
 *
 * Threads: a job is used by one thread at a time, except zf_job_cancel(),
 * which any thread or a signal handler may call at any time.
 */
#ifndef ZFERRY_JOB_H
#define ZFERRY_JOB_H

#include <stdint.h>

#include "zferry/config.h"
#include "zferry/error.h"
#include "zferry/event.h"

#ifdef __cplusplus
extern "C" {
#endif

struct zf_job;

/*
 * Checks cfg (every field, as untrusted input) and makes a job that owns
 * copies of what it needs.  Returns ZF_OK, ZF_E_INVALID (nothing was
 * started; err names the input), ZF_E_NOMEM or ZF_E_SYS.
 */
enum zf_status zf_job_new(struct zf_job **jobp,
    const struct zf_send_config *cfg, struct zf_error *err);

void zf_job_set_events(struct zf_job *job, zf_event_fn fn, void *arg);

/*
 * Runs the transfer.  Returns ZF_OK, or the first failure: ZF_E_CHILD (a
 * zfs or ssh stage failed: err->stage names it, err->transient says
 * whether a retry may help), ZF_E_UNSUPPORTED (a side's zfs lacks a
 * requested option), ZF_E_SPAWN, ZF_E_SYS, ZF_E_CANCELED (err->signo),
 * ZF_E_TIMEOUT.  A job runs once.
 */
enum zf_status zf_job_run(struct zf_job *job, struct zf_error *err);

/*
 * Asks a running job to stop: every child is stopped (SIGTERM to its
 * process group, then SIGKILL after a grace period) and reaped, and
 * zf_job_run() returns ZF_E_CANCELED with err->signo = signo.  Async-signal
 * safe and thread safe.  Calling it before zf_job_run() makes the run stop
 * at once.
 */
void zf_job_cancel(struct zf_job *job, int signo);

/* Frees the job.  NULL is a no-op.  The job must not be running. */
void zf_job_free(struct zf_job *job);

#ifdef __cplusplus
}
#endif
#endif
