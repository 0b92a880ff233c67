/*
 * rate.h: time arithmetic of the relay, all on CLOCK_MONOTONIC
 * nanoseconds passed in by the caller (so tests inject the clock):
 *
 * - struct zf_bucket: a token bucket (curl's RATELIMITS): tokens accrue at
 *   rate bytes per second up to burst; a writer takes what it may write.
 * - struct zf_meter: bytes per second over a sliding window of samples.
 * - zf_eta(): seconds left, from a total, bytes done and a rate.
 */
#ifndef ZF_RATE_H
#define ZF_RATE_H

#include "util.h"

struct zf_bucket {
	uint64_t rate; /* bytes per second; 0: unlimited */
	uint64_t burst; /* most tokens held, bytes */
	unsigned __int128 tokens; /* bytes x 1e9 (fractions kept exactly) */
	uint64_t last_ns;
};

/*
 * A bucket of rate bytes/s that holds at most burst bytes (0: a twentieth
 * of a second of traffic, at least 4 KiB).  It starts full.
 */
void zf_bucket_init(struct zf_bucket *b, uint64_t rate, uint64_t burst,
    uint64_t now_ns);
/* Bytes that may be written now (UINT64_MAX when unlimited). */
uint64_t zf_bucket_avail(struct zf_bucket *b, uint64_t now_ns);
/* Records n bytes written (n <= zf_bucket_avail()). */
void zf_bucket_take(struct zf_bucket *b, uint64_t n);
/* Gives back n bytes taken but not written (never above burst). */
void zf_bucket_give(struct zf_bucket *b, uint64_t n);
/* Nanoseconds until want bytes may be written (0 if now). */
uint64_t zf_bucket_wait_ns(struct zf_bucket *b, uint64_t want, uint64_t now_ns);

#define ZF_METER_SAMPLES 16

struct zf_meter {
	uint64_t window_ns; /* how far back the rate looks */
	uint64_t t[ZF_METER_SAMPLES];
	uint64_t v[ZF_METER_SAMPLES];
	unsigned head; /* index of the newest sample */
	unsigned count;
};

/* A meter over the last window_ns (0: 5 s). */
void zf_meter_init(struct zf_meter *m, uint64_t window_ns, uint64_t now_ns,
    uint64_t bytes);
/* Adds a sample: the byte count (monotonic) at time now_ns. */
void zf_meter_add(struct zf_meter *m, uint64_t now_ns, uint64_t bytes);
/* Bytes per second over the window; 0 until two samples differ in time. */
uint64_t zf_meter_rate(const struct zf_meter *m);

/*
 * Seconds until done at rate, rounded up; ZF_UNKNOWN-like UINT64_MAX when
 * the total is unknown (UINT64_MAX), the rate is 0, or done >= total.
 */
uint64_t zf_eta(uint64_t total, uint64_t done, uint64_t rate);

/*
 * Percent done, 0..100, never above 100; -1 when total is unknown.
 */
int zf_percent(uint64_t total, uint64_t done);

#endif
