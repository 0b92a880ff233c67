/*
 * test_rate.c: the time arithmetic of the relay with an injected clock (no
 * test sleeps): the token bucket never lets out more than rate x T + burst,
 * keeps fractions of a byte exactly, caps what an idle period earns and
 * tells exactly how long to wait; the meter forgets what is older than its
 * window; zf_eta() rounds up and zf_percent() never says more than 100,
 * for totals up to 2^64.
 */
#include "compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rate.h"

#define NS UINT64_C(1000000000)
#define MS UINT64_C(1000000)

typedef unsigned __int128 u128;

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Takes every whole byte the bucket holds; returns how many. */
static uint64_t
drain(struct zf_bucket *b, uint64_t now)
{
	uint64_t n = zf_bucket_avail(b, now);

	zf_bucket_take(b, n);
	return n;
}

/* --- the token bucket ------------------------------------------------ */

static void
test_bucket_starts_full_with_a_twentieth_of_a_second(void **state)
{
	struct zf_bucket b;

	(void)state;
	zf_bucket_init(&b, 10 * 1000 * 1000, 0, 5 * NS);
	assert_int_equal(b.burst, 500 * 1000);
	assert_int_equal(zf_bucket_avail(&b, 5 * NS), 500 * 1000);
	/* an explicit burst is kept as given */
	zf_bucket_init(&b, 10 * 1000 * 1000, 123456, 0);
	assert_int_equal(zf_bucket_avail(&b, 0), 123456);
}

static void
test_bucket_burst_is_at_least_4k(void **state)
{
	struct zf_bucket b;

	(void)state;
	/* 1000 B/s: a twentieth is 50 bytes, too small to write anything */
	zf_bucket_init(&b, 1000, 0, 0);
	assert_int_equal(b.burst, 4096);
	assert_int_equal(zf_bucket_avail(&b, 0), 4096);
	zf_bucket_init(&b, 1000, 10, 0);
	assert_int_equal(b.burst, 4096);
}

static void
test_bucket_unlimited_never_holds_back(void **state)
{
	struct zf_bucket b;

	(void)state;
	zf_bucket_init(&b, 0, 0, 0);
	assert_true(zf_bucket_avail(&b, 0) == UINT64_MAX);
	zf_bucket_take(&b, UINT64_MAX);
	assert_true(zf_bucket_avail(&b, 1) == UINT64_MAX);
	assert_int_equal(zf_bucket_wait_ns(&b, UINT64_MAX, 1), 0);
}

/*
 * A writer that takes everything it may, at irregular times, over an hour:
 * at every moment the total is at most burst + rate x elapsed, and since
 * fractions are carried over, exactly the floor of it at the end.
 */
static void
test_bucket_long_greedy_transfer_is_exactly_rate_times_time_plus_burst(
    void **state)
{
	static const uint64_t rates[] = {1, 1000, 4194304, 123456789,
	    10ull * 1000 * 1000 * 1000};
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(rates); i++) {
		struct zf_bucket b;
		uint64_t seed = 0x9e3779b97f4a7c15ull + i, t0 = 7 * NS, now;
		u128 total = 0;

		zf_bucket_init(&b, rates[i], 0, t0);
		for (now = t0; now < t0 + 3600 * NS;) {
			total += drain(&b, now);
			assert_true(total * NS <=
			    (u128)b.burst * NS + (u128)rates[i] * (now - t0));
			/* steps from 1 ns to half the time that fills the
			 * bucket: it never overflows, nothing is capped */
			now += 1 +
			    xorshift(&seed) % (b.burst * NS / rates[i] / 2 + 1);
			if (xorshift(&seed) % 4 == 0)
				now += xorshift(&seed) % 1000;
		}
		total += drain(&b, now);
		assert_true(total ==
		    ((u128)b.burst * NS + (u128)rates[i] * (now - t0)) / NS);
	}
}

/* A writer that takes random amounts never exceeds the bound either. */
static void
test_bucket_partial_takes_never_exceed_the_bound(void **state)
{
	struct zf_bucket b;
	uint64_t seed = 42, rate = 3333333, now = 0;
	u128 total = 0;
	int i;

	(void)state;
	zf_bucket_init(&b, rate, 0, 0);
	for (i = 0; i < 200000; i++) {
		uint64_t avail = zf_bucket_avail(&b, now);
		uint64_t n = avail ? xorshift(&seed) % (avail + 1) : 0;

		zf_bucket_take(&b, n);
		total += n;
		assert_true(
		    total * NS <= (u128)b.burst * NS + (u128)rate * now);
		now += xorshift(&seed) % (5 * MS);
	}
}

static void
test_bucket_idle_time_earns_no_more_than_the_burst(void **state)
{
	struct zf_bucket b;

	(void)state;
	zf_bucket_init(&b, 1000000, 0, 0);
	assert_int_equal(drain(&b, 0), 50000);
	/* an hour idle: still only one burst */
	assert_int_equal(drain(&b, 3600 * NS), 50000);
	/* and then the plain rate again */
	assert_int_equal(drain(&b, 3600 * NS + 10 * MS), 10000);
	assert_int_equal(drain(&b, 3600 * NS + 10 * MS), 0);
}

/*
 * Refills of a fraction of a byte each, ten million of them: the sum is
 * exact (an implementation rounding each step down would give nothing).
 */
static void
test_bucket_many_tiny_refills_do_not_drift(void **state)
{
	struct zf_bucket b;
	uint64_t now = 1000, step, i;

	(void)state;
	/* 7 B/s refilled every microsecond: 7e-6 bytes a step */
	zf_bucket_init(&b, 7, 0, now);
	drain(&b, now);
	step = 1000;
	for (i = 1; i <= 10 * 1000 * 1000; i++) {
		uint64_t a = zf_bucket_avail(&b, now + i * step);

		assert_true(a == i * step * 7 / NS);
	}
	/* 999999937 B/s every nanosecond: 0.999999937 bytes a step */
	zf_bucket_init(&b, 999999937, 0, 0);
	drain(&b, 0);
	for (i = 1; i <= 1000 * 1000; i++) {
		uint64_t a = zf_bucket_avail(&b, i);

		assert_true(a == (u128)i * 999999937 / NS);
	}
}

/*
 * wait_ns() is exact: after that long, want bytes are there; one
 * nanosecond earlier they are not.
 */
static void
test_bucket_wait_ns_is_the_exact_time_until_want_bytes(void **state)
{
	uint64_t seed = 7;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		struct zf_bucket b, probe;
		uint64_t rate = 1 + xorshift(&seed) % (1ull << (i % 40));
		uint64_t now = xorshift(&seed) % (1000 * NS), w, want, need;

		zf_bucket_init(&b, rate, 0, now);
		/* leave a random, fractional amount in the bucket */
		zf_bucket_take(&b, xorshift(&seed) % (b.burst + 1));
		now += xorshift(&seed) % 1000;
		want = xorshift(&seed) % (b.burst + 100);
		need = want < b.burst ? want : b.burst;
		w = zf_bucket_wait_ns(&b, want, now);
		probe = b;
		assert_true(zf_bucket_avail(&probe, now + w) >= need);
		if (w > 0) {
			probe = b;
			assert_true(
			    zf_bucket_avail(&probe, now + w - 1) < need);
		}
	}
}

static void
test_bucket_wait_for_more_than_the_burst_waits_for_a_full_bucket(void **state)
{
	struct zf_bucket b;

	(void)state;
	zf_bucket_init(&b, 1000000, 0, 0);
	drain(&b, 0);
	/* 10 MB can never be in the bucket at once: wait for 50000 */
	assert_int_equal(zf_bucket_wait_ns(&b, 10000000, 0), 50 * MS);
	assert_int_equal(zf_bucket_wait_ns(&b, 1000, 0), 1 * MS);
	assert_int_equal(zf_bucket_wait_ns(&b, 0, 0), 0);
}

static void
test_bucket_huge_rate_and_time_do_not_overflow(void **state)
{
	struct zf_bucket b;

	(void)state;
	/* the largest rate, and the largest stretch of time */
	zf_bucket_init(&b, UINT64_MAX, 0, 0);
	assert_true(b.burst == UINT64_MAX / 20);
	/* full, then the longest refill: still exactly full */
	assert_true(zf_bucket_avail(&b, UINT64_MAX) == UINT64_MAX / 20);
	zf_bucket_init(&b, UINT64_MAX, 0, 0);
	drain(&b, 0);
	assert_true(zf_bucket_avail(&b, UINT64_MAX) == UINT64_MAX / 20);
	drain(&b, UINT64_MAX);
	assert_int_equal(zf_bucket_avail(&b, UINT64_MAX), 0);
	/* 1 ns at UINT64_MAX B/s is 18446744073 bytes */
	zf_bucket_init(&b, UINT64_MAX, 0, 100);
	drain(&b, 100);
	assert_true(zf_bucket_avail(&b, 101) == UINT64_MAX / NS);
	/* a terabyte a second for a century: one burst */
	zf_bucket_init(&b, 1000ull * 1000 * 1000 * 1000, 0, 0);
	drain(&b, 0);
	assert_true(zf_bucket_avail(&b, 100ull * 365 * 86400 * NS) ==
	    50ull * 1000 * 1000 * 1000);
}

static void
test_bucket_wait_saturates_instead_of_wrapping(void **state)
{
	struct zf_bucket b;

	(void)state;
	/* a burst of 2^64 - 1 bytes at 1 B/s is ~5.8e11 years away */
	zf_bucket_init(&b, 1, UINT64_MAX, 0);
	drain(&b, 0);
	assert_true(zf_bucket_wait_ns(&b, UINT64_MAX, 0) == UINT64_MAX);
	assert_int_equal(zf_bucket_wait_ns(&b, 1, 0), NS);
}

/*
 * A clock read that is older than the last one (two callers, or a caller
 * passing a stale now) must not credit the same interval twice.
 */
static void
test_bucket_stale_clock_does_not_mint_tokens(void **state)
{
	struct zf_bucket b;

	(void)state;
	zf_bucket_init(&b, 1000000, 0, 0);
	drain(&b, 0);
	assert_int_equal(drain(&b, 10 * MS), 10000);
	assert_int_equal(drain(&b, 5 * MS), 0);
	/* 10..12 ms: 2000 bytes, not 7000 */
	assert_int_equal(drain(&b, 12 * MS), 2000);
}

/* --- the meter ------------------------------------------------------- */

static void
test_meter_is_zero_until_time_passes(void **state)
{
	struct zf_meter m;

	(void)state;
	zf_meter_init(&m, 0, 1000, 0);
	assert_int_equal(m.window_ns, 5 * NS);
	assert_int_equal(zf_meter_rate(&m), 0);
	zf_meter_add(&m, 1000, 12345);
	assert_int_equal(zf_meter_rate(&m), 0);
}

static void
test_meter_steady_rate_is_exact(void **state)
{
	struct zf_meter m;
	uint64_t t;

	(void)state;
	zf_meter_init(&m, 0, 0, 0);
	/* 1 MB/s, sampled every 10 ms for 20 s (the ring wraps many times) */
	for (t = 10 * MS; t <= 20 * NS; t += 10 * MS) {
		zf_meter_add(&m, t, t / 1000);
		assert_int_equal(zf_meter_rate(&m), 1000000);
	}
}

static void
test_meter_forgets_samples_older_than_its_window(void **state)
{
	struct zf_meter m;
	uint64_t t, bytes = 0, r;

	(void)state;
	zf_meter_init(&m, 5 * NS, 0, 0);
	/* 10 MB/s for 10 s, then 1 MB/s */
	for (t = 100 * MS; t <= 10 * NS; t += 100 * MS) {
		bytes += 1000000;
		zf_meter_add(&m, t, bytes);
	}
	assert_int_equal(zf_meter_rate(&m), 10000000);
	for (; t <= 13 * NS; t += 100 * MS) {
		bytes += 100000;
		zf_meter_add(&m, t, bytes);
	}
	/* 3 s into the slow part: a mix of both */
	r = zf_meter_rate(&m);
	assert_true(r > 1000000 && r < 10000000);
	for (; t <= 20 * NS; t += 100 * MS) {
		bytes += 100000;
		zf_meter_add(&m, t, bytes);
	}
	/* more than a window later: only the slow part counts */
	assert_int_equal(zf_meter_rate(&m), 1000000);
}

static void
test_meter_rate_after_a_pause(void **state)
{
	struct zf_meter m;
	uint64_t t, r;

	(void)state;
	zf_meter_init(&m, 5 * NS, 0, 0);
	for (t = 100 * MS; t <= 10 * NS; t += 100 * MS)
		zf_meter_add(&m, t, t / 1000);
	/* progress keeps sampling while nothing moves: the rate drops to 0 */
	for (t = 10 * NS + 100 * MS; t <= 16 * NS; t += 100 * MS)
		zf_meter_add(&m, t, 10000000);
	assert_int_equal(zf_meter_rate(&m), 0);
	/* no samples for a minute, then one: the rate is over that minute */
	zf_meter_init(&m, 5 * NS, 0, 0);
	for (t = 100 * MS; t <= 10 * NS; t += 100 * MS)
		zf_meter_add(&m, t, t / 1000);
	zf_meter_add(&m, 70 * NS, 10000000 + 600000);
	r = zf_meter_rate(&m);
	assert_int_equal(r, 10000);
}

static void
test_meter_merges_samples_closer_than_a_sixteenth_window(void **state)
{
	struct zf_meter m;
	uint64_t t;

	(void)state;
	/* window 1.6 s: samples within 100 ms of the previous one merge */
	zf_meter_init(&m, 1600 * MS, 0, 0);
	for (t = 1 * MS; t <= 250 * MS; t += 1 * MS)
		zf_meter_add(&m, t, t * 1000);
	/* 0, then the newest replaced until 100 ms past the second... */
	assert_true(m.count <= 4);
	assert_int_equal(m.t[m.head], 250 * MS);
	assert_int_equal(m.v[m.head], 250 * MS * 1000);
	/* ...and the merged samples still give the exact rate */
	assert_int_equal(zf_meter_rate(&m), 1000 * NS);
	/* a thousand samples a millisecond apart fill the ring slowly */
	for (; t <= 1250 * MS; t += 1 * MS)
		zf_meter_add(&m, t, t * 1000);
	assert_true(m.count < ZF_METER_SAMPLES);
	assert_int_equal(zf_meter_rate(&m), 1000 * NS);
}

static void
test_meter_huge_counts_do_not_overflow(void **state)
{
	struct zf_meter m;
	uint64_t t, base = (1ull << 63) + 12345;

	(void)state;
	/* byte counts above 2^63 at 1 GB/s */
	zf_meter_init(&m, 0, 0, base);
	for (t = 100 * MS; t <= 10 * NS; t += 100 * MS)
		zf_meter_add(&m, t, base + t);
	assert_int_equal(zf_meter_rate(&m), NS);
	/* 2^64 - 1 bytes in a nanosecond saturates, it does not wrap */
	zf_meter_init(&m, 0, 0, 0);
	zf_meter_add(&m, 1, UINT64_MAX);
	assert_true(zf_meter_rate(&m) == UINT64_MAX);
}

/* --- zf_eta and zf_percent ------------------------------------------- */

static void
test_eta_rounds_up(void **state)
{
	(void)state;
	assert_int_equal(zf_eta(1000, 0, 300), 4);
	assert_int_equal(zf_eta(900, 0, 300), 3);
	assert_int_equal(zf_eta(901, 1, 300), 3);
	assert_int_equal(zf_eta(1000, 999, 1000000), 1);
	assert_int_equal(zf_eta(1, 0, 1), 1);
}

static void
test_eta_unknown_total_or_rate_or_overrun_is_unknown(void **state)
{
	(void)state;
	assert_true(zf_eta(UINT64_MAX, 0, 100) == UINT64_MAX);
	assert_true(zf_eta(1000, 0, 0) == UINT64_MAX);
	assert_true(zf_eta(1000, 1000, 10) == UINT64_MAX);
	/* the estimate was low: the send goes on past it */
	assert_true(zf_eta(1000, 1940, 10) == UINT64_MAX);
}

static void
test_eta_with_totals_above_2_63(void **state)
{
	(void)state;
	assert_int_equal(zf_eta((1ull << 63) + 10, 10, 1ull << 62), 2);
	/* total - done + rate - 1 would wrap past 2^64 */
	assert_int_equal(zf_eta(UINT64_MAX - 1, 0, 1ull << 63), 2);
	assert_int_equal(zf_eta(UINT64_MAX - 1, 0, UINT64_MAX), 1);
	assert_int_equal(zf_eta(UINT64_MAX - 1, UINT64_MAX - 2, UINT64_MAX), 1);
	assert_true(zf_eta(UINT64_MAX - 1, 0, 1) == UINT64_MAX - 1);
}

static void
test_percent_never_exceeds_100(void **state)
{
	uint64_t d;

	(void)state;
	assert_int_equal(zf_percent(UINT64_MAX, 5), -1);
	assert_int_equal(zf_percent(1000, 0), 0);
	assert_int_equal(zf_percent(1000, 500), 50);
	/* the "194 %" of an estimate that was too low */
	assert_int_equal(zf_percent(1000, 1940), 100);
	assert_int_equal(zf_percent(1000, UINT64_MAX - 1), 100);
	assert_int_equal(zf_percent(0, 0), 100);
	assert_int_equal(zf_percent(0, 7), 100);
	/* rounded down: 100 only when done */
	assert_int_equal(zf_percent(1000, 999), 99);
	for (d = 0; d <= 3000; d += 7) {
		int p = zf_percent(1000, d);

		assert_true(p >= 0 && p <= 100);
		assert_int_equal(p, d >= 1000 ? 100 : (int)(d / 10));
	}
}

static void
test_percent_with_totals_above_2_63(void **state)
{
	(void)state;
	assert_int_equal(zf_percent(UINT64_MAX - 1, (UINT64_MAX - 1) / 2), 50);
	assert_int_equal(zf_percent(UINT64_MAX - 1, (UINT64_MAX - 1) / 2 - 1),
	    49);
	assert_int_equal(zf_percent(UINT64_MAX - 1, UINT64_MAX / 2 + 1), 50);
	assert_int_equal(zf_percent(UINT64_MAX - 1, UINT64_MAX - 2), 99);
	assert_int_equal(zf_percent((1ull << 63) + 1, 1ull << 63), 99);
	assert_int_equal(zf_percent(1ull << 63, 1ull << 61), 25);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_bucket_starts_full_with_a_twentieth_of_a_second),
	    cmocka_unit_test(test_bucket_burst_is_at_least_4k),
	    cmocka_unit_test(test_bucket_unlimited_never_holds_back),
	    cmocka_unit_test(
	        test_bucket_long_greedy_transfer_is_exactly_rate_times_time_plus_burst),
	    cmocka_unit_test(test_bucket_partial_takes_never_exceed_the_bound),
	    cmocka_unit_test(
	        test_bucket_idle_time_earns_no_more_than_the_burst),
	    cmocka_unit_test(test_bucket_many_tiny_refills_do_not_drift),
	    cmocka_unit_test(
	        test_bucket_wait_ns_is_the_exact_time_until_want_bytes),
	    cmocka_unit_test(
	        test_bucket_wait_for_more_than_the_burst_waits_for_a_full_bucket),
	    cmocka_unit_test(test_bucket_huge_rate_and_time_do_not_overflow),
	    cmocka_unit_test(test_bucket_wait_saturates_instead_of_wrapping),
	    cmocka_unit_test(test_bucket_stale_clock_does_not_mint_tokens),
	    cmocka_unit_test(test_meter_is_zero_until_time_passes),
	    cmocka_unit_test(test_meter_steady_rate_is_exact),
	    cmocka_unit_test(test_meter_forgets_samples_older_than_its_window),
	    cmocka_unit_test(test_meter_rate_after_a_pause),
	    cmocka_unit_test(
	        test_meter_merges_samples_closer_than_a_sixteenth_window),
	    cmocka_unit_test(test_meter_huge_counts_do_not_overflow),
	    cmocka_unit_test(test_eta_rounds_up),
	    cmocka_unit_test(
	        test_eta_unknown_total_or_rate_or_overrun_is_unknown),
	    cmocka_unit_test(test_eta_with_totals_above_2_63),
	    cmocka_unit_test(test_percent_never_exceeds_100),
	    cmocka_unit_test(test_percent_with_totals_above_2_63),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
