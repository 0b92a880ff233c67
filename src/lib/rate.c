#include "compat.h"

#include "rate.h"

#define NS 1000000000u

void
zf_bucket_init(struct zf_bucket *b, uint64_t rate, uint64_t burst,
    uint64_t now_ns)
{
	b->rate = rate;
	if (burst == 0)
		burst = rate / 20;
	if (burst < 4096)
		burst = 4096;
	b->burst = burst;
	b->tokens = (unsigned __int128)burst * NS;
	b->last_ns = now_ns;
}

static void
refill(struct zf_bucket *b, uint64_t now_ns)
{
	unsigned __int128 cap = (unsigned __int128)b->burst * NS, add;

	/* a stale now must not credit the same interval twice */
	if (now_ns <= b->last_ns)
		return;
	/* compared before adding: tokens + add can pass 2^128 */
	add = (unsigned __int128)(now_ns - b->last_ns) * b->rate;
	b->tokens = add >= cap - b->tokens ? cap : b->tokens + add;
	b->last_ns = now_ns;
}

uint64_t
zf_bucket_avail(struct zf_bucket *b, uint64_t now_ns)
{
	if (b->rate == 0)
		return UINT64_MAX;
	refill(b, now_ns);
	return (uint64_t)(b->tokens / NS);
}

void
zf_bucket_take(struct zf_bucket *b, uint64_t n)
{
	unsigned __int128 t = (unsigned __int128)n * NS;

	if (b->rate == 0)
		return;
	b->tokens = t > b->tokens ? 0 : b->tokens - t;
}

void
zf_bucket_give(struct zf_bucket *b, uint64_t n)
{
	unsigned __int128 cap = (unsigned __int128)b->burst * NS;
	unsigned __int128 t = (unsigned __int128)n * NS;

	if (b->rate == 0)
		return;
	b->tokens = t >= cap - b->tokens ? cap : b->tokens + t;
}

uint64_t
zf_bucket_wait_ns(struct zf_bucket *b, uint64_t want, uint64_t now_ns)
{
	unsigned __int128 need;

	if (b->rate == 0)
		return 0;
	refill(b, now_ns);
	if (want > b->burst)
		want = b->burst;
	need = (unsigned __int128)want * NS;
	if (b->tokens >= need)
		return 0;
	need = (need - b->tokens + b->rate - 1) / b->rate;
	return need > UINT64_MAX ? UINT64_MAX : (uint64_t)need;
}

void
zf_meter_init(struct zf_meter *m, uint64_t window_ns, uint64_t now_ns,
    uint64_t bytes)
{
	memset(m, 0, sizeof(*m));
	m->window_ns = window_ns ? window_ns : 5ull * NS;
	m->t[0] = now_ns;
	m->v[0] = bytes;
	m->count = 1;
}

void
zf_meter_add(struct zf_meter *m, uint64_t now_ns, uint64_t bytes)
{
	/* samples closer than a window/16 apart replace the newest one */
	if (m->count > 1 &&
	    now_ns - m->t[(m->head + ZF_METER_SAMPLES - 1) % ZF_METER_SAMPLES] <
	        m->window_ns / ZF_METER_SAMPLES) {
		m->t[m->head] = now_ns;
		m->v[m->head] = bytes;
		return;
	}
	m->head = (m->head + 1) % ZF_METER_SAMPLES;
	m->t[m->head] = now_ns;
	m->v[m->head] = bytes;
	if (m->count < ZF_METER_SAMPLES)
		m->count++;
}

uint64_t
zf_meter_rate(const struct zf_meter *m)
{
	unsigned i, oldest = m->head;
	uint64_t dt, dv;
	unsigned __int128 rate;

	/* the oldest sample still inside the window (or the oldest kept) */
	for (i = 1; i < m->count; i++) {
		unsigned k =
		    (m->head + ZF_METER_SAMPLES - i) % ZF_METER_SAMPLES;

		oldest = k;
		if (m->t[m->head] - m->t[k] >= m->window_ns)
			break;
	}
	dt = m->t[m->head] - m->t[oldest];
	dv = m->v[m->head] - m->v[oldest];
	if (dt == 0)
		return 0;
	rate = (unsigned __int128)dv * NS / dt;
	return rate > UINT64_MAX ? UINT64_MAX : (uint64_t)rate;
}

uint64_t
zf_eta(uint64_t total, uint64_t done, uint64_t rate)
{
	if (total == UINT64_MAX || rate == 0 || done >= total)
		return UINT64_MAX;
	/* not (left + rate - 1) / rate: that wraps for totals near 2^64 */
	return (total - done) / rate + ((total - done) % rate != 0);
}

int
zf_percent(uint64_t total, uint64_t done)
{
	if (total == UINT64_MAX)
		return -1;
	if (total == 0 || done >= total)
		return 100;
	return (int)((unsigned __int128)done * 100 / total);
}
