/*
 * streamutil.h: helpers of the stream tests (codec, relay, pipe): test
 * data, a codec driver that feeds awkward chunk and buffer sizes, and
 * threads that write or read one end of a pipe or socket in odd chunks.
 * Include after compat.h, cmocka.h and codec.h.
 */
#ifndef ZF_STREAMUTIL_H
#define ZF_STREAMUTIL_H

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>

#include "codec.h"

static inline uint64_t
su_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x2545f4914f6cdd1dull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* n bytes that do not compress. */
static inline unsigned char *
su_random_data(size_t n, uint64_t seed)
{
	unsigned char *p = malloc(n ? n : 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(su_rand(&seed) >> 32);
	return p;
}

/* n bytes of text-like data that compresses 2:1 or better. */
static inline unsigned char *
su_text_data(size_t n, uint64_t seed)
{
	static const char *const words[] = {"pool", "tank", "snapshot",
	    "receive", "send", "dataset", "zferry", "-", "@", "/", "\n",
	    "resume", "token", "1234", "stream", " "};
	unsigned char *p = malloc(n ? n : 1);
	size_t i = 0;

	assert_non_null(p);
	while (i < n) {
		const char *w = words[su_rand(&seed) % ZF_ARRAY_SIZE(words)];
		size_t k = strlen(w);

		if (k > n - i)
			k = n - i;
		memcpy(p + i, w, k);
		i += k;
	}
	return p;
}

/* A growable output buffer of the tests. */
struct su_out {
	unsigned char *data;
	size_t len;
	size_t cap;
};

static inline void
su_out_add(struct su_out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;

		while (cap < o->len + n)
			cap *= 2;
		o->data = realloc(o->data, cap);
		assert_non_null(o->data);
		o->cap = cap;
	}
	if (n > 0)
		memcpy(o->data + o->len, p, n);
	o->len += n;
}

static inline void
su_out_free(struct su_out *o)
{
	free(o->data);
	memset(o, 0, sizeof(*o));
}

/*
 * Runs in[0..len) through a new codec, fed in random chunks of 1..max_in
 * bytes (max_in 0: all at once), with an output buffer of out_cap bytes.
 * Returns the status of the first failing step (err says why) or ZF_OK
 * once the codec said done; the output so far is appended to out either
 * way.  Fails the test if the codec stops making progress.
 */
static inline enum zf_status
su_codec_run(enum zf_compress_alg alg, bool compress, const unsigned char *in,
    size_t len, size_t max_in, size_t out_cap, uint64_t seed,
    struct su_out *out, struct zf_error *err)
{
	struct zf_codec *c = NULL;
	unsigned char *buf = malloc(out_cap);
	size_t in_pos = 0, in_end = 0;
	enum zf_status r;
	bool done = false;
	unsigned idle = 0;

	assert_non_null(buf);
	r = zf_codec_new(&c, alg, compress, 3, 0, err);
	assert_int_equal(r, ZF_OK);
	while (!done) {
		size_t out_pos = 0, before = in_pos;

		if (in_pos == in_end && in_end < len) {
			size_t k = max_in ? 1 + su_rand(&seed) % max_in : len;

			in_end = k > len - in_end ? len : in_end + k;
		}
		r = zf_codec_step(c, in, in_end, &in_pos, buf, out_cap,
		    &out_pos, in_end == len, &done, err);
		su_out_add(out, buf, out_pos);
		if (r != ZF_OK)
			break;
		assert_true(in_pos <= in_end && out_pos <= out_cap);
		/* a step that moved nothing is fine once, never in a row */
		idle = in_pos == before && out_pos == 0 ? idle + 1 : 0;
		if (idle > 2)
			fail_msg("codec stuck at input %zu of %zu", in_pos,
			    len);
	}
	if (r == ZF_OK)
		assert_int_equal(in_pos, len);
	zf_codec_free(c);
	free(buf);
	return r;
}

/* Compresses or decompresses everything; the test fails on an error. */
static inline void
su_codec_all(enum zf_compress_alg alg, bool compress, const unsigned char *in,
    size_t len, struct su_out *out)
{
	struct zf_error err;

	zf_error_clear(&err);
	if (su_codec_run(alg, compress, in, len, 0, 256 * 1024, 1, out, &err) !=
	    ZF_OK)
		fail_msg("codec failed: %s", err.msg);
}

/* write(2) all of p to a blocking fd; false on an error (EPIPE...). */
static inline bool
su_write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n > 0) {
		ssize_t k = write(fd, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		c += k;
		n -= (size_t)k;
	}
	return true;
}

/*
 * Starts a thread with every signal blocked, so that timer signals meant
 * for the poll loop of the test reach the main thread only.
 */
static inline void
su_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	assert_int_equal(pthread_create(t, NULL, fn, arg), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Writes data to fd in random chunks of 1..max_chunk, then closes fd. */
struct su_writer {
	int fd;
	const char *after; /* a FIFO to read to its end before writing */
	const unsigned char *data;
	size_t len;
	size_t max_chunk;
	uint64_t seed;
	size_t written; /* out */
	bool failed; /* out: a write failed (the reader went away) */
	pthread_t t;
};

static inline void *
su_writer_main(void *arg)
{
	struct su_writer *w = arg;

	if (w->after != NULL) {
		/* blocks until the other side opens it, then until it closes */
		int fd = open(w->after, O_RDONLY | O_CLOEXEC);
		char c;

		while (fd >= 0 && (read(fd, &c, 1) > 0 || errno == EINTR))
			;
		if (fd >= 0)
			close(fd);
	}
	while (w->written < w->len) {
		size_t k = 1 + su_rand(&w->seed) % w->max_chunk;

		if (k > w->len - w->written)
			k = w->len - w->written;
		if (!su_write_all(w->fd, w->data + w->written, k)) {
			w->failed = true;
			break;
		}
		w->written += k;
	}
	close(w->fd);
	w->fd = -1;
	return NULL;
}

static inline void
su_writer_start(struct su_writer *w, int fd, const unsigned char *data,
    size_t len, size_t max_chunk, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->data = data;
	w->len = len;
	w->max_chunk = max_chunk ? max_chunk : 1;
	w->seed = seed;
	su_thread_start(&w->t, su_writer_main, w);
}

/* su_writer_start(), but the writing waits until the FIFO after says. */
static inline void
su_writer_start_after(struct su_writer *w, const char *after, int fd,
    const unsigned char *data, size_t len, size_t max_chunk, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->after = after;
	w->data = data;
	w->len = len;
	w->max_chunk = max_chunk ? max_chunk : 1;
	w->seed = seed;
	su_thread_start(&w->t, su_writer_main, w);
}

static inline void
su_writer_join(struct su_writer *w)
{
	pthread_join(w->t, NULL);
}

/*
 * Reads fd in random chunks of 1..max_chunk until EOF (or until limit
 * bytes, then closes fd early: a receiver that dies), then closes fd.
 */
struct su_reader {
	int fd;
	size_t max_chunk;
	size_t limit; /* 0: read to EOF */
	uint64_t seed;
	bool count_only; /* keep no data, only count it and look for zeros */
	uint64_t count; /* out: bytes read */
	bool nonzero; /* out: with count_only, a byte that was not 0 */
	struct su_out out; /* out, unless count_only */
	int error; /* out: errno of a failed read, 0 if none */
	pthread_t t;
};

static inline void *
su_reader_main(void *arg)
{
	struct su_reader *rd = arg;
	unsigned char buf[65536];

	for (;;) {
		size_t k = 1 + su_rand(&rd->seed) % rd->max_chunk;
		ssize_t n;

		if (k > sizeof(buf))
			k = sizeof(buf);
		if (rd->limit && k > rd->limit - rd->count)
			k = (size_t)(rd->limit - rd->count);
		n = read(rd->fd, buf, k);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rd->error = errno;
		if (n <= 0)
			break;
		rd->count += (uint64_t)n;
		if (!rd->count_only)
			su_out_add(&rd->out, buf, (size_t)n);
		else if (!rd->nonzero)
			rd->nonzero = buf[0] != 0 ||
			    memcmp(buf, buf + 1, (size_t)n - 1) != 0;
		if (rd->limit && rd->count >= rd->limit)
			break;
	}
	close(rd->fd);
	rd->fd = -1;
	return NULL;
}

static inline void
su_reader_start(struct su_reader *rd, int fd, size_t max_chunk, size_t limit,
    uint64_t seed)
{
	memset(rd, 0, sizeof(*rd));
	rd->fd = fd;
	rd->max_chunk = max_chunk ? max_chunk : 1;
	rd->limit = limit;
	rd->seed = seed;
	su_thread_start(&rd->t, su_reader_main, rd);
}

/* A reader that keeps no data: it counts bytes and looks for non-zeros. */
static inline void
su_counter_start(struct su_reader *rd, int fd, size_t max_chunk)
{
	memset(rd, 0, sizeof(*rd));
	rd->fd = fd;
	rd->max_chunk = max_chunk ? max_chunk : 1;
	rd->seed = 1;
	rd->count_only = true;
	su_thread_start(&rd->t, su_reader_main, rd);
}

static inline void
su_reader_join(struct su_reader *rd)
{
	pthread_join(rd->t, NULL);
}

#endif
