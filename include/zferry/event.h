/*
 * zferry/event.h: what a running job or sync reports, through a callback
 * the caller registers (zf_job_set_events(), zf_sync_set_events()).
 *
 * The callback runs on a thread of the run (one at a time: calls are
 * serialised), never in a signal handler.  The event and its strings are
 * valid only during the call.  Every string is one line with control
 * characters escaped.
 */
#ifndef ZFERRY_EVENT_H
#define ZFERRY_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "zferry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Unknown sizes and times are reported as this value. */
#define ZF_UNKNOWN UINT64_MAX

enum zf_event_type {
	ZF_EV_START, /* source, target, estimated_bytes: a transfer starts */
	ZF_EV_COMMAND, /* stage, text: a command about to run */
	ZF_EV_PROGRESS, /* bytes, wire_bytes, bytes_per_second, eta_seconds */
	ZF_EV_WARNING, /* text: something the user should know */
	ZF_EV_NOTE, /* text: a decision zferry made (for --verbose) */
	ZF_EV_DONE, /* bytes, wire_bytes, elapsed_ns: a transfer ended */
	ZF_EV_ERROR, /* error: a transfer (or the run) failed */
	ZF_EV_PLAN, /* sync: dataset, target, kind, from, to, reason */
	ZF_EV_RESULT, /* sync: dataset, target, kind, result, bytes, ... */
	ZF_EV_SUMMARY, /* sync: the counts, bytes, elapsed_ns */
};

struct zf_event {
	enum zf_event_type type;
	const char *source; /* "[user@host:]pool/fs@snap" */
	const char *target;
	enum zf_stage stage;
	const char *text;
	uint64_t estimated_bytes; /* ZF_UNKNOWN when unknown */
	uint64_t bytes; /* stream bytes handed on towards the receiver */
	uint64_t wire_bytes; /* bytes sent towards the receiver */
	uint64_t bytes_per_second; /* over a sliding window */
	uint64_t eta_seconds; /* ZF_UNKNOWN when unknown */
	uint64_t elapsed_ns;
	const struct zf_error *error; /* ZF_EV_ERROR, failed ZF_EV_RESULT */

	/* zferry sync */
	const char *dataset; /* the source dataset */
	const char *kind; /* full, incremental, resume, skip, refuse */
	const char *from; /* base snapshot or bookmark, "" for none */
	const char *to; /* snapshot sent, "" for none */
	const char *reason; /* why this step, or why not */
	const char *result; /* ok, skipped, failed */
	bool transient; /* a failed result a retry may fix */
	unsigned attempts; /* tries: 1 plus the retries it took */
	unsigned n_ok; /* ZF_EV_SUMMARY: datasets synced */
	unsigned n_skipped; /* ... with nothing to do */
	unsigned n_failed; /* ... failed fatally */
	unsigned n_transient; /* ... failed transiently */
};

typedef void (*zf_event_fn)(const struct zf_event *ev, void *arg);

#ifdef __cplusplus
}
#endif
#endif
