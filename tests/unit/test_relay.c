/*
 * test_relay.c: zf_relay over real pipes and socketpairs, driven by a
 * poll() loop like the one in xfer.c, with a writer and a reader thread
 * on the far ends producing and consuming in odd chunk sizes: the three
 * copy paths deliver every byte exactly, short reads and writes and EINTR
 * change nothing, a receiver that dies is ZF_RELAY_OUT_CLOSED (never a
 * crash or SIGPIPE), the counters tell stream from wire bytes, and the
 * rate limit holds without a busy loop.
 */
#include "compat.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <setjmp.h>
#include <cmocka.h>

#include "relay.h"
#include "streamutil.h"
#include "testutil.h"

#define MS UINT64_C(1000000)
#define MIB (1024 * 1024)

static int fds_before;

/* --- the poll loop ---------------------------------------------------- */

struct loop_stats {
	unsigned iterations; /* poll() calls */
	unsigned eintr; /* poll() calls a signal interrupted */
};

/*
 * The loop of xfer.c, reduced to the relay: poll for what the relay asks,
 * at most until its timer, then pump.  Returns the final state, or
 * ZF_RELAY_RUNNING when limit_ns passed first.
 */
static enum zf_relay_state
drive(struct zf_relay *r, uint64_t limit_ns, struct loop_stats *ls,
    struct zf_error *err)
{
	uint64_t deadline = zf_now_ns() + limit_ns;

	for (;;) {
		uint64_t now = zf_now_ns(), wait;
		struct pollfd p[2];
		short in_ev, out_ev;
		enum zf_relay_state st;
		int n;

		if (now >= deadline)
			return ZF_RELAY_RUNNING;
		zf_relay_events(r, now, &in_ev, &out_ev);
		wait = zf_relay_wait_ns(r, now);
		if (wait > deadline - now)
			wait = deadline - now;
		p[0].fd = in_ev ? r->in_fd : -1;
		p[0].events = in_ev;
		p[1].fd = out_ev ? r->out_fd : -1;
		p[1].events = out_ev;
		if (ls != NULL)
			ls->iterations++;
		n = poll(p, 2, (int)((wait + 999999) / 1000000));
		if (n < 0 && errno == EINTR) {
			if (ls != NULL)
				ls->eintr++;
			continue;
		}
		assert_true(n >= 0);
		st = zf_relay_pump(r, zf_now_ns(), err);
		if (st != ZF_RELAY_RUNNING)
			return st;
	}
}

/* --- the far ends ---------------------------------------------------- */

enum ends {
	PIPES, /* pipe in, pipe out */
	SOCKETS, /* socketpair in, socketpair out */
	TINY_SOCKETS, /* socketpairs with ~4 KiB buffers: short I/O */
};

/* fd[0]: the relay's input, fd[1]: the writer's end, fd[2]: the relay's
 * output, fd[3]: the reader's end */
static void
make_ends(enum ends e, int fd[4])
{
	int a[2], b[2], i;

	if (e == PIPES) {
		assert_int_equal(pipe2(a, O_CLOEXEC), 0);
		assert_int_equal(pipe2(b, O_CLOEXEC), 0);
		fd[0] = a[0];
		fd[1] = a[1];
		fd[2] = b[1];
		fd[3] = b[0];
		return;
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a),
	    0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b),
	    0);
	fd[0] = a[0];
	fd[1] = a[1];
	fd[2] = b[0];
	fd[3] = b[1];
	for (i = 0; e == TINY_SOCKETS && i < 4; i++) {
		int sz = 4096;

		setsockopt(fd[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(fd[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
}

struct relay_case {
	enum ends ends;
	size_t buffer; /* opts.buffer */
	bool no_splice;
	enum zf_compress_alg alg; /* ZF_COMPRESS_NONE: no codec */
	bool compresses;
	uint64_t bwlimit;
	size_t wchunk; /* largest write of the writer */
	size_t rchunk; /* largest read of the reader */
	size_t read_limit; /* the reader quits after this many bytes */
};

struct outcome {
	enum zf_relay_state st;
	struct zf_error err;
	enum zf_relay_mode mode;
	uint64_t bytes_in, bytes_out, stream, wire;
	struct su_out got; /* what the reader received */
	struct loop_stats ls;
	uint64_t elapsed_ns; /* from before zf_relay_init() to the end */
	bool writer_failed;
};

/*
 * Relays in[0..n) from a writer thread to a reader thread through a relay
 * set up as c says, and reports what happened.
 */
static void
relay_through(const struct relay_case *c, const unsigned char *in, size_t n,
    struct outcome *o)
{
	struct zf_relay_opts opts;
	struct zf_relay r;
	struct su_writer w;
	struct su_reader rd;
	uint64_t t0;
	int fd[4];

	memset(o, 0, sizeof(*o));
	zf_error_clear(&o->err);
	memset(&opts, 0, sizeof(opts));
	make_ends(c->ends, fd);
	opts.buffer = c->buffer;
	opts.no_splice = c->no_splice;
	opts.bwlimit = c->bwlimit;
	if (c->alg != ZF_COMPRESS_NONE) {
		assert_int_equal(zf_codec_new(&opts.codec, c->alg,
		                     c->compresses, 1, 0, NULL),
		    ZF_OK);
		opts.codec_compresses = c->compresses;
	}
	t0 = zf_now_ns();
	assert_int_equal(zf_relay_init(&r, fd[0], fd[2], &opts, &o->err),
	    ZF_OK);
	su_writer_start(&w, fd[1], in, n, c->wchunk, n + 1);
	su_reader_start(&rd, fd[3], c->rchunk, c->read_limit, n + 2);
	o->st = drive(&r, 30000 * MS, &o->ls, &o->err);
	o->elapsed_ns = zf_now_ns() - t0;
	o->mode = r.mode;
	o->bytes_in = r.bytes_in;
	o->bytes_out = r.bytes_out;
	o->stream = zf_relay_stream_bytes(&r);
	o->wire = zf_relay_wire_bytes(&r);
	zf_relay_release(&r);
	/* the relay's ends are ours: closing them ends both threads */
	close(fd[0]);
	close(fd[2]);
	su_writer_join(&w);
	su_reader_join(&rd);
	o->writer_failed = w.failed;
	o->got = rd.out;
	if (o->st == ZF_RELAY_RUNNING)
		fail_msg("the relay did not finish within 30 s (%" PRIu64
		         " in, %" PRIu64 " out)",
		    o->bytes_in, o->bytes_out);
}

/* Runs a case that must deliver in[] exactly; returns the outcome. */
static void
deliver(const struct relay_case *c, const unsigned char *in, size_t n,
    struct outcome *o)
{
	const unsigned char *feed = in;
	struct su_out z = {0}, back = {0};
	size_t feed_len = n;

	/* to test decompression, feed what we compressed */
	if (c->alg != ZF_COMPRESS_NONE && !c->compresses) {
		su_codec_all(c->alg, true, in, n, &z);
		feed = z.data;
		feed_len = z.len;
	}
	relay_through(c, feed, feed_len, o);
	if (o->st != ZF_RELAY_DONE)
		fail_msg("relay state %d: %s", o->st, o->err.msg);
	assert_int_equal(o->err.code, ZF_OK);
	assert_false(o->writer_failed);
	if (c->alg != ZF_COMPRESS_NONE && c->compresses) {
		su_codec_all(c->alg, false, o->got.data, o->got.len, &back);
		assert_int_equal(back.len, n);
		if (n > 0)
			assert_memory_equal(back.data, in, n);
		/* stream bytes went in, wire bytes came out */
		assert_int_equal(o->stream, n);
		assert_int_equal(o->wire, o->got.len);
		assert_int_equal(o->bytes_in, n);
	} else {
		assert_int_equal(o->got.len, n);
		if (n > 0)
			assert_memory_equal(o->got.data, in, n);
		assert_int_equal(o->stream, n);
		assert_int_equal(o->bytes_out, n);
		assert_int_equal(o->wire,
		    c->alg != ZF_COMPRESS_NONE ? feed_len : n);
		assert_int_equal(o->bytes_in, feed_len);
	}
	su_out_free(&z);
	su_out_free(&back);
}

static void
outcome_free(struct outcome *o)
{
	su_out_free(&o->got);
}

/* --- the three paths -------------------------------------------------- */

static void
test_splice_between_pipes_delivers_every_byte(void **state)
{
	size_t n = 4 * MIB + 12345;
	unsigned char *d = su_random_data(n, 1);
	struct relay_case c = {PIPES, 0, false, ZF_COMPRESS_NONE, false, 0,
	    9973, 7919, 0};
	struct outcome o;

	(void)state;
	deliver(&c, d, n, &o);
	assert_int_equal(o.mode, ZF_RELAY_SPLICE);
	outcome_free(&o);
	free(d);
}

/*
 * Pipes handed to the relay grow to 1 MiB before data flows, except the
 * input of the copy path, which reads a default-size pipe faster.
 */
static void
test_pipes_grow_except_the_copy_paths_input(void **state)
{
	static const struct {
		size_t buffer;
		bool codec;
		enum zf_relay_mode mode;
		bool grows; /* the input pipe */
	} cases[] = {
	    {0, false, ZF_RELAY_SPLICE, true},
	    {MIB, false, ZF_RELAY_COPY, false},
	    {0, true, ZF_RELAY_CODEC, true},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		struct zf_relay_opts opts;
		struct zf_relay r;
		int fd[4], k, dflt;

		memset(&opts, 0, sizeof(opts));
		make_ends(PIPES, fd);
		dflt = fcntl(fd[0], F_GETPIPE_SZ);
		assert_true(dflt > 0 && dflt < MIB);
		opts.buffer = cases[i].buffer;
		if (cases[i].codec)
			assert_int_equal(zf_codec_new(&opts.codec,
			                     ZF_COMPRESS_LZ4, true, 1, 0, NULL),
			    ZF_OK);
		assert_int_equal(zf_relay_opts_copy(&opts),
		    cases[i].mode == ZF_RELAY_COPY);
		assert_int_equal(zf_relay_init(&r, fd[0], fd[2], &opts, NULL),
		    ZF_OK);
		assert_int_equal(r.mode, cases[i].mode);
		assert_int_equal(fcntl(fd[0], F_GETPIPE_SZ),
		    cases[i].grows ? MIB : dflt);
		assert_int_equal(fcntl(fd[2], F_GETPIPE_SZ), MIB);
		zf_relay_release(&r);
		for (k = 0; k < 4; k++)
			close(fd[k]);
	}
}

static void
test_copy_when_a_buffer_is_set_delivers_every_byte(void **state)
{
	size_t n = 4 * MIB + 777;
	unsigned char *d = su_random_data(n, 2);
	/* the smallest ring, so it wraps around at odd offsets */
	struct relay_case c = {PIPES, 1, false, ZF_COMPRESS_NONE, false, 0,
	    65537, 3001, 0};
	struct outcome o;

	(void)state;
	deliver(&c, d, n, &o);
	assert_int_equal(o.mode, ZF_RELAY_COPY);
	outcome_free(&o);
	c.buffer = 0;
	c.no_splice = true;
	deliver(&c, d, n, &o);
	assert_int_equal(o.mode, ZF_RELAY_COPY);
	outcome_free(&o);
	free(d);
}

static void
test_copy_over_socketpairs_delivers_every_byte(void **state)
{
	size_t n = 4 * MIB + 3;
	unsigned char *d = su_random_data(n, 3);
	struct relay_case c = {SOCKETS, 0, false, ZF_COMPRESS_NONE, false, 0,
	    100003, 100003, 0};
	struct outcome o;

	(void)state;
	/* socketpairs are not pipes: no splice even with no buffer set */
	deliver(&c, d, n, &o);
	assert_int_equal(o.mode, ZF_RELAY_COPY);
	outcome_free(&o);
	free(d);
}

static void
test_short_reads_and_writes_on_tiny_socket_buffers(void **state)
{
	size_t n = 2 * MIB + 1;
	unsigned char *d = su_random_data(n, 4);
	struct relay_case c = {TINY_SOCKETS, 1, false, ZF_COMPRESS_NONE, false,
	    0, 5003, 1237, 0};
	struct outcome o;

	(void)state;
	deliver(&c, d, n, &o);
	assert_int_equal(o.mode, ZF_RELAY_COPY);
	/* a few KiB at a time: many more wake-ups than megabytes */
	assert_true(o.ls.iterations > 100);
	outcome_free(&o);
	free(d);
}

static void
test_codec_paths_deliver_every_byte_and_count_both_sides(void **state)
{
	static const enum zf_compress_alg algs[] = {ZF_COMPRESS_ZSTD,
	    ZF_COMPRESS_LZ4};
	static const enum ends ends[] = {PIPES, TINY_SOCKETS};
	size_t n = 3 * MIB / 2 + 11, a, e, dir;
	unsigned char *text = su_text_data(n, 5), *rnd = su_random_data(n, 6);

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		for (e = 0; e < ZF_ARRAY_SIZE(ends); e++) {
			for (dir = 0; dir < 2; dir++) {
				struct relay_case c = {ends[e], 0, false,
				    algs[a], dir == 0, 0, 7001, 9001, 0};
				struct outcome o;

				if (ends[e] == TINY_SOCKETS)
					c.buffer = 1;
				deliver(&c, text, n, &o);
				assert_int_equal(o.mode, ZF_RELAY_CODEC);
				/* text shrinks on the wire */
				assert_true(o.wire < o.stream / 2);
				outcome_free(&o);
				deliver(&c, rnd, n, &o);
				outcome_free(&o);
			}
		}
	}
	free(text);
	free(rnd);
}

/*
 * A receiver that stops reading for a while: the stream bytes counted
 * must be those that reached it, not those read into the ring (which
 * would put progress ahead of the receiver by the whole buffer).  Copying,
 * that is exactly the bytes written.  Compressing, the wire bytes written
 * so far must decode to at least the stream bytes counted, less two of
 * the compressor's blocks (lz4 64 KiB, zstd 128 KiB): one it holds as
 * input, one written only in part (the old counting was megabytes ahead).
 */
static void
test_stream_bytes_count_only_what_reached_the_receiver(void **state)
{
	static const struct {
		enum zf_compress_alg alg;
	} cases[] = {{ZF_COMPRESS_NONE}, {ZF_COMPRESS_LZ4}, {ZF_COMPRESS_ZSTD}};
	const size_t n = 12 * MIB, slack = 256 * 1024;
	unsigned char *text = su_text_data(n, 12);
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		bool z = cases[i].alg != ZF_COMPRESS_NONE;
		struct zf_relay_opts opts;
		struct zf_relay r;
		struct zf_error err;
		struct su_writer w;
		struct su_reader rd;
		struct su_out back = {0};
		uint64_t stream, wire;
		unsigned tries;
		int fd[4];

		memset(&opts, 0, sizeof(opts));
		zf_error_clear(&err);
		make_ends(PIPES, fd);
		opts.buffer = 256 * 1024;
		if (z) {
			assert_int_equal(zf_codec_new(&opts.codec, cases[i].alg,
			                     true, 1, 0, NULL),
			    ZF_OK);
			opts.codec_compresses = true;
		}
		assert_int_equal(zf_relay_init(&r, fd[0], fd[2], &opts, &err),
		    ZF_OK);
		su_writer_start(&w, fd[1], text, n, 65536, 3);
		/* nobody reads: drive until the output pipe and the ring are
		 * full and nothing moves any more (slowly under valgrind) */
		for (tries = 0;; tries++) {
			uint64_t before = r.bytes_in + r.bytes_out;

			assert_true(tries < 600);
			assert_int_equal(drive(&r, 200 * MS, NULL, &err),
			    ZF_RELAY_RUNNING);
			if (r.used > 0 && r.bytes_in + r.bytes_out == before)
				break;
		}
		stream = zf_relay_stream_bytes(&r);
		wire = zf_relay_wire_bytes(&r);
		assert_true(r.used > 0);
		assert_int_equal(wire, r.bytes_out);
		if (!z)
			assert_int_equal(stream, r.bytes_out);
		/* what waits in the ring or the input buffer is not counted */
		if (r.bytes_in - stream < r.used)
			fail_msg("case %zu: %" PRIu64
			         " stream bytes counted of %" PRIu64
			         " read, with %zu bytes in the ring",
			    i, stream, r.bytes_in, r.used);
		su_reader_start(&rd, fd[3], 65536, 0, 4);
		assert_int_equal(drive(&r, 30000 * MS, NULL, &err),
		    ZF_RELAY_DONE);
		assert_int_equal(zf_relay_stream_bytes(&r), n);
		assert_int_equal(zf_relay_wire_bytes(&r), r.bytes_out);
		zf_relay_release(&r);
		close(fd[0]);
		close(fd[2]);
		su_writer_join(&w);
		su_reader_join(&rd);
		assert_int_equal(rd.out.len, r.bytes_out);
		if (z) {
			/* the wire bytes written by then decode to that */
			su_codec_run(cases[i].alg, false, rd.out.data,
			    (size_t)wire, 0, 256 * 1024, 1, &back, &err);
			if (back.len + slack < stream)
				fail_msg(
				    "case %zu: %" PRIu64 " stream bytes "
				    "counted, %zu decodable from the %" PRIu64
				    " wire bytes written",
				    i, stream, back.len, wire);
			assert_memory_equal(back.data, text, back.len);
		}
		su_out_free(&back);
		su_out_free(&rd.out);
	}
	free(text);
}

static void
test_empty_input_is_done_on_every_path(void **state)
{
	static const struct relay_case cases[] = {
	    {PIPES, 0, false, ZF_COMPRESS_NONE, false, 0, 1, 1, 0},
	    {PIPES, 1, false, ZF_COMPRESS_NONE, false, 0, 1, 1, 0},
	    {SOCKETS, 0, false, ZF_COMPRESS_NONE, false, 0, 1, 1, 0},
	    {PIPES, 0, false, ZF_COMPRESS_ZSTD, true, 0, 1, 100, 0},
	    {PIPES, 0, false, ZF_COMPRESS_ZSTD, false, 0, 1, 100, 0},
	    {SOCKETS, 0, false, ZF_COMPRESS_LZ4, true, 0, 1, 100, 0},
	    {SOCKETS, 0, false, ZF_COMPRESS_LZ4, false, 0, 1, 100, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		struct outcome o;

		deliver(&cases[i], (const unsigned char *)"", 0, &o);
		assert_int_equal(o.stream, 0);
		outcome_free(&o);
	}
}

/*
 * A small compressed input that expands to many rings' worth: after the
 * input has ended, the relay must keep draining the decompressor, even
 * when the receiver takes a whole ring at once.
 */
static void
test_decompressing_a_large_expansion_after_end_of_input_finishes(void **state)
{
	static const enum zf_compress_alg algs[] = {ZF_COMPRESS_ZSTD,
	    ZF_COMPRESS_LZ4};
	size_t n = 12 * MIB, a;
	unsigned char *zeros = calloc(1, n);

	(void)state;
	assert_non_null(zeros);
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct zf_relay_opts opts;
		struct zf_relay r;
		struct zf_error err;
		struct su_out z = {0};
		struct su_reader rd;
		enum zf_relay_state st;
		int in[2], out[2];

		su_codec_all(algs[a], true, zeros, n, &z);
		assert_true(z.len < 1024 * 1024);
		assert_int_equal(pipe2(in, O_CLOEXEC), 0);
		assert_int_equal(pipe2(out, O_CLOEXEC), 0);
		/* all of the input is there, and ended, before we start */
		fcntl(in[1], F_SETPIPE_SZ, 1024 * 1024);
		assert_true(su_write_all(in[1], z.data, z.len));
		close(in[1]);
		/* the receiver's pipe takes more than a ring at once */
		fcntl(out[1], F_SETPIPE_SZ, 1024 * 1024);
		memset(&opts, 0, sizeof(opts));
		opts.buffer = ZF_RELAY_MIN_BUFFER;
		assert_int_equal(zf_codec_new(&opts.codec, algs[a], false, 1, 0,
		                     NULL),
		    ZF_OK);
		zf_error_clear(&err);
		assert_int_equal(zf_relay_init(&r, in[0], out[1], &opts, &err),
		    ZF_OK);
		su_counter_start(&rd, out[0], 1024 * 1024);
		st = drive(&r, 20000 * MS, NULL, &err);
		if (st != ZF_RELAY_DONE)
			fail_msg("%s: state %d after %" PRIu64 " of %zu bytes",
			    zf_compress_name(algs[a]), st, r.bytes_out, n);
		zf_relay_release(&r);
		close(in[0]);
		close(out[1]);
		su_reader_join(&rd);
		assert_int_equal(rd.count, n);
		assert_false(rd.nonzero);
		su_out_free(&z);
	}
	free(zeros);
}

/* --- failures --------------------------------------------------------- */

/* The receiver reads 100 KB and goes away: OUT_CLOSED, never a crash. */
static void
test_receiver_dying_mid_stream_is_out_closed(void **state)
{
	static const struct relay_case cases[] = {
	    {PIPES, 0, false, ZF_COMPRESS_NONE, false, 0, 8191, 4093, 100000},
	    {PIPES, 1, false, ZF_COMPRESS_NONE, false, 0, 8191, 4093, 100000},
	    {SOCKETS, 0, false, ZF_COMPRESS_NONE, false, 0, 8191, 4093, 100000},
	    {TINY_SOCKETS, 1, false, ZF_COMPRESS_NONE, false, 0, 8191, 4093,
	        100000},
	    {PIPES, 0, false, ZF_COMPRESS_ZSTD, true, 0, 8191, 4093, 100000},
	    {SOCKETS, 0, false, ZF_COMPRESS_LZ4, true, 0, 8191, 4093, 100000},
	};
	size_t n = 4 * MIB, i;
	unsigned char *d = su_random_data(n, 7);

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		struct outcome o;

		relay_through(&cases[i], d, n, &o);
		if (o.st != ZF_RELAY_OUT_CLOSED)
			fail_msg("case %zu: state %d: %s", i, o.st, o.err.msg);
		/* not a failure of ours: no error recorded */
		assert_int_equal(o.err.code, ZF_OK);
		assert_int_equal(o.got.len, 100000);
		if (cases[i].alg == ZF_COMPRESS_NONE)
			assert_memory_equal(o.got.data, d, o.got.len);
		assert_true(o.bytes_out < n);
		outcome_free(&o);
	}
	free(d);
}

static void
test_read_error_fails_with_the_reason(void **state)
{
	struct zf_relay r;
	struct zf_error err;
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), p[2];

	(void)state;
	assert_true(dir >= 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	zf_error_clear(&err);
	assert_int_equal(zf_relay_init(&r, dir, p[1], NULL, &err), ZF_OK);
	assert_int_equal(r.mode, ZF_RELAY_COPY);
	assert_int_equal(drive(&r, 5000 * MS, NULL, &err), ZF_RELAY_FAILED);
	assert_int_equal(err.code, ZF_E_SYS);
	assert_int_equal(err.sys_errno, EISDIR);
	assert_non_null(strstr(err.msg, "cannot read the stream"));
	zf_relay_release(&r);
	close(dir);
	close(p[0]);
	close(p[1]);
}

static void
test_write_error_fails_with_the_reason(void **state)
{
	struct zf_relay r;
	struct zf_error err;
	int ro = open("/dev/null", O_RDONLY | O_CLOEXEC), p[2];

	(void)state;
	assert_true(ro >= 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "data", 4), 4);
	zf_error_clear(&err);
	assert_int_equal(zf_relay_init(&r, p[0], ro, NULL, &err), ZF_OK);
	assert_int_equal(drive(&r, 5000 * MS, NULL, &err), ZF_RELAY_FAILED);
	assert_int_equal(err.code, ZF_E_SYS);
	assert_int_equal(err.sys_errno, EBADF);
	assert_non_null(strstr(err.msg, "cannot write the stream"));
	zf_relay_release(&r);
	close(ro);
	close(p[0]);
	close(p[1]);
}

static void
test_corrupt_and_truncated_compressed_input_fail_as_protocol_errors(
    void **state)
{
	static const enum zf_compress_alg algs[] = {ZF_COMPRESS_ZSTD,
	    ZF_COMPRESS_LZ4};
	size_t n = MIB, a, k;
	unsigned char *d = su_text_data(n, 8);

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct su_out z = {0};

		su_codec_all(algs[a], true, d, n, &z);
		for (k = 0; k < 2; k++) {
			struct relay_case c = {PIPES, 0, false, algs[a], false,
			    0, 4099, 65536, 0};
			struct outcome o;
			size_t len = z.len;

			if (k == 0)
				z.data[z.len / 2] ^= 0x55;
			else
				len = z.len - 3;
			relay_through(&c, z.data, len, &o);
			if (k == 0)
				z.data[z.len / 2] ^= 0x55;
			assert_int_equal(o.st, ZF_RELAY_FAILED);
			assert_int_equal(o.err.code, ZF_E_PROTOCOL);
			assert_int_equal(o.err.stage, ZF_STAGE_RELAY);
			/*
			 * Cut short, what came out is a prefix of the data.
			 * (Corrupt data can come out before the checksum at
			 * the end of the frame shows it: the receiver then
			 * sees its stream fail, so it never keeps it.)
			 */
			if (k == 1) {
				assert_non_null(
				    strstr(o.err.msg, "ended inside a frame"));
				assert_true(o.got.len <= n);
				if (o.got.len > 0)
					assert_memory_equal(o.got.data, d,
					    o.got.len);
			}
			outcome_free(&o);
		}
		su_out_free(&z);
	}
	free(d);
}

/* --- signals ---------------------------------------------------------- */

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * A timer signal every 5 ms, with a handler installed without SA_RESTART,
 * so poll() and any blocking call see EINTR: every path still delivers
 * every byte.  (Every millisecond is too often for valgrind, whose signal
 * delivery alone then takes all of the main thread's time.)
 */
static void
test_eintr_from_a_timer_signal_loses_nothing(void **state)
{
	static const struct relay_case cases[] = {
	    {PIPES, 0, false, ZF_COMPRESS_NONE, false, 8 * MIB, 4099, 4001, 0},
	    {TINY_SOCKETS, 1, false, ZF_COMPRESS_NONE, false, 8 * MIB, 4099,
	        4001, 0},
	    {TINY_SOCKETS, 1, false, ZF_COMPRESS_ZSTD, true, 8 * MIB, 4099,
	        4001, 0},
	    {PIPES, 0, false, ZF_COMPRESS_LZ4, false, 8 * MIB, 4099, 4001, 0},
	};
	struct sigaction sa;
	struct itimerval it, off;
	size_t n = 2 * MIB + 5, i;
	unsigned char *d = su_random_data(n, 9);
	unsigned eintr = 0;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = 0; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	memset(&off, 0, sizeof(off));
	it.it_interval.tv_usec = 5000;
	it.it_value.tv_usec = 5000;
	alarms = 0;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		struct outcome o;

		assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
		/* a rate limit: 0.2 s of waiting in poll() per case */
		deliver(&cases[i], d, n, &o);
		setitimer(ITIMER_REAL, &off, NULL);
		eintr += o.ls.eintr;
		outcome_free(&o);
	}
	/*
	 * The handler stays: a signal still queued (valgrind delivers them
	 * late) must not meet the default action, which ends the process.
	 */
	assert_true(alarms > 0);
	assert_true(eintr > 0);
	free(d);
}

/* --- the rate limit --------------------------------------------------- */

/*
 * 2 MiB at 4 MiB/s.  The bucket starts full with a twentieth of a second
 * (209715 bytes), so the transfer takes (2 MiB - 209715) / 4 MiB/s =
 * 0.45 s.  It can never be faster: the bucket does not allow it, and the
 * clock starts before zf_relay_init(); that is checked every time.  It
 * may be slower by poll()'s rounding up to milliseconds and by thread
 * wake-ups, which the bucket makes up for (tokens keep accruing while we
 * oversleep), so 10 % (45 ms) is plenty on a quiet machine.  A peer
 * descheduled for longer than the burst (50 ms) on a loaded one loses
 * time for good, so the upper bound gets three tries; under valgrind,
 * which runs one thread at a time, it is not checked.
 */
static void
test_rate_limit_holds_the_rate_within_ten_percent(void **state)
{
	static const struct relay_case cases[] = {
	    {PIPES, 0, false, ZF_COMPRESS_NONE, false, 4 * MIB, 65536, 65536,
	        0},
	    {SOCKETS, 0, false, ZF_COMPRESS_NONE, false, 4 * MIB, 65536, 65536,
	        0},
	};
	size_t n = 2 * MIB, i;
	unsigned char *d = su_random_data(n, 10);
	/* the bucket starts empty: n bytes take n / rate, no burst first */
	const uint64_t expect = n * 1000000000ull / (4 * MIB);

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		uint64_t ms[3];
		int try;

		for (try = 0; try < 3; try++) {
			struct outcome o;

			deliver(&cases[i], d, n, &o);
			outcome_free(&o);
			ms[try] = o.elapsed_ns / MS;
			if (o.elapsed_ns < expect)
				fail_msg("case %zu: %" PRIu64
				         " ms, faster than "
				         "the limit allows (%" PRIu64 " ms)",
				    i, ms[try], expect / MS);
			if (tu_under_valgrind() ||
			    o.elapsed_ns <= expect * 11 / 10)
				break;
		}
		if (try == 3)
			fail_msg("case %zu: %" PRIu64 ", %" PRIu64 ", %" PRIu64
			         " ms, expected %" PRIu64 " ms + 10%%",
			    i, ms[0], ms[1], ms[2], expect / MS);
	}
	free(d);
}

/*
 * With the injected clock: while the bucket is short of a write's worth,
 * the relay asks for no POLLOUT and names the exact time to come back;
 * at that time it asks for POLLOUT and writes that much.
 */
static void
test_wait_ns_and_events_agree_on_when_to_write(void **state)
{
	struct zf_relay_opts opts;
	struct zf_relay r;
	struct zf_error err;
	unsigned char buf[100000];
	uint64_t t, w;
	short in_ev, out_ev;
	int in[2], out[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in),
	    0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	                     out),
	    0);
	memset(buf, 'x', sizeof(buf));
	assert_true(su_write_all(in[1], buf, sizeof(buf)));
	memset(&opts, 0, sizeof(opts));
	opts.bwlimit = 1000000; /* burst 50000 */
	zf_error_clear(&err);
	assert_int_equal(zf_relay_init(&r, in[0], out[0], &opts, &err), ZF_OK);
	t = r.bucket.last_ns;
	/* nothing buffered yet: no timer */
	assert_true(zf_relay_wait_ns(&r, t) == UINT64_MAX);
	/* one pump at t: reads it all, writes nothing (the bucket starts
	   empty, so the first second carries no burst) */
	assert_int_equal(zf_relay_pump(&r, t, &err), ZF_RELAY_RUNNING);
	assert_int_equal(r.bytes_in, 100000);
	assert_int_equal(r.bytes_out, 0);
	zf_relay_events(&r, t, &in_ev, &out_ev);
	assert_int_equal(out_ev, 0);
	/* 4096 bytes at 1 MB/s */
	w = zf_relay_wait_ns(&r, t);
	assert_int_equal(w, 4096000);
	zf_relay_events(&r, t + w - 1, &in_ev, &out_ev);
	assert_int_equal(out_ev, 0);
	zf_relay_events(&r, t + w, &in_ev, &out_ev);
	assert_int_equal(out_ev, POLLOUT);
	/*
	 * Once POLLOUT is asked for, poll() wakes when the receiver has
	 * room; a zero timer on top would make it return at once, over and
	 * over (a busy loop while the receiver is full).
	 */
	assert_true(zf_relay_wait_ns(&r, t + w) != 0);
	assert_int_equal(zf_relay_pump(&r, t + w, &err), ZF_RELAY_RUNNING);
	assert_int_equal(r.bytes_out, 4096);
	zf_relay_release(&r);
	/* unlimited: never a timer */
	assert_int_equal(zf_relay_init(&r, in[0], out[0], NULL, &err), ZF_OK);
	assert_true(zf_relay_wait_ns(&r, zf_now_ns()) == UINT64_MAX);
	zf_relay_release(&r);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

/* Writes what fits into a non-blocking fd, reads out what is there. */
static void
top_up(int fd)
{
	static unsigned char buf[65536];

	while (write(fd, buf, sizeof(buf)) > 0)
		;
}

static uint64_t
drain(int fd)
{
	static unsigned char buf[65536];
	uint64_t n = 0;
	ssize_t k;

	while ((k = read(fd, buf, sizeof(buf))) > 0)
		n += (uint64_t)k;
	return n;
}

/*
 * Two relays on one shared bucket (a sync's jobs under one --bwlimit),
 * both with more to send than the limit lets out, pumped in turn on the
 * injected clock for 500 ms: together they write the rate's worth, within
 * one burst, and each gets a share.  Apart, each would write that much.
 */
static void
test_relays_sharing_a_bucket_write_the_rate_between_them(void **state)
{
	const uint64_t rate = 1000000, burst = rate / 20;
	struct zf_shared_bucket sb;
	struct zf_relay_opts opts;
	struct zf_relay r[2];
	struct zf_error err;
	int in[2][2], out[2][2];
	uint64_t t0, t, got[2] = {0, 0}, total;
	int k, i, j;

	(void)state;
	t0 = zf_now_ns();
	zf_shared_bucket_init(&sb, rate, t0);
	memset(&opts, 0, sizeof(opts));
	opts.shared = &sb;
	zf_error_clear(&err);
	for (k = 0; k < 2; k++) {
		assert_int_equal(socketpair(AF_UNIX,
		                     SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		                     0, in[k]),
		    0);
		assert_int_equal(socketpair(AF_UNIX,
		                     SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		                     0, out[k]),
		    0);
		assert_int_equal(zf_relay_init(&r[k], in[k][0], out[k][1],
		                     &opts, &err),
		    ZF_OK);
	}
	/* whoever comes first takes what is there: they take turns first */
	for (t = t0, i = 0; t <= t0 + 500 * MS; t += 5 * MS, i++) {
		for (j = 0; j < 2; j++) {
			k = (j + i) % 2;
			top_up(in[k][1]);
			assert_int_equal(zf_relay_pump(&r[k], t, &err),
			    ZF_RELAY_RUNNING);
			got[k] += drain(out[k][0]);
		}
	}
	total = got[0] + got[1];
	/* the bucket starts empty: 500 ms is 500000 bytes, no more */
	assert_true(total <= rate / 2);
	assert_true(total + burst >= rate / 2);
	assert_true(got[0] > 0 && got[1] > 0);
	for (k = 0; k < 2; k++) {
		zf_relay_release(&r[k]);
		close(in[k][0]);
		close(in[k][1]);
		close(out[k][0]);
		close(out[k][1]);
	}
	zf_shared_bucket_destroy(&sb);
}

/*
 * A rate-limited relay with tokens to spare that waits for a receiver
 * with no room (copy) or for a sender with no data (splice) sleeps in
 * poll(): a handful of wake-ups in 300 ms, not thousands.
 */
static void
test_rate_limited_relay_waiting_on_a_peer_does_not_spin(void **state)
{
	size_t n = MIB, k;
	unsigned char *d = su_random_data(n, 11);

	(void)state;
	for (k = 0; k < 2; k++) {
		struct zf_relay_opts opts;
		struct zf_relay r;
		struct zf_error err;
		struct loop_stats ls = {0, 0};
		struct su_writer w;
		struct su_reader rd;
		int in[2], out[2], sz = 4096;

		assert_int_equal(pipe2(in, O_CLOEXEC), 0);
		if (k == 0) {
			/* copy: all the input is there, the receiver's
			 * socket is tiny and nobody reads it yet */
			fcntl(in[1], F_SETPIPE_SZ, MIB);
			assert_true(su_write_all(in[1], d, n));
			assert_int_equal(socketpair(AF_UNIX,
			                     SOCK_STREAM | SOCK_CLOEXEC, 0,
			                     out),
			    0);
			setsockopt(out[1], SOL_SOCKET, SO_SNDBUF, &sz,
			    sizeof(sz));
			setsockopt(out[0], SOL_SOCKET, SO_RCVBUF, &sz,
			    sizeof(sz));
		} else {
			/* splice: nothing to read yet */
			assert_int_equal(pipe2(out, O_CLOEXEC), 0);
		}
		memset(&opts, 0, sizeof(opts));
		opts.bwlimit = 1000ull * MIB; /* a burst of 50 MiB */
		zf_error_clear(&err);
		assert_int_equal(zf_relay_init(&r, in[0], out[1], &opts, &err),
		    ZF_OK);
		assert_int_equal(r.mode,
		    k == 0 ? ZF_RELAY_COPY : ZF_RELAY_SPLICE);
		if (drive(&r, 300 * MS, &ls, &err) != ZF_RELAY_RUNNING)
			fail_msg("stopped: %s", err.msg);
		if (ls.iterations > 20)
			fail_msg("%s: %u wake-ups in 300 ms",
			    k == 0 ? "copy" : "splice", ls.iterations);
		/* and then it finishes the job */
		if (k == 0) {
			close(in[1]);
			in[1] = -1;
		} else {
			su_writer_start(&w, in[1], d, n, 65536, 1);
		}
		su_reader_start(&rd, out[0], 65536, 0, 2);
		assert_int_equal(drive(&r, 20000 * MS, NULL, &err),
		    ZF_RELAY_DONE);
		zf_relay_release(&r);
		close(in[0]);
		close(out[1]);
		if (k == 1)
			su_writer_join(&w);
		su_reader_join(&rd);
		assert_int_equal(rd.out.len, n);
		assert_memory_equal(rd.out.data, d, n);
		su_out_free(&rd.out);
	}
	free(d);
}

/* --- per test --------------------------------------------------------- */

static int
setup(void **state)
{
	(void)state;
	fds_before = tu_count_fds();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (tu_count_fds() != fds_before) {
		print_error("descriptors leaked: %d before, %d after\n",
		    fds_before, tu_count_fds());
		return -1;
	}
	if (!tu_no_children()) {
		print_error("a child was left unreaped\n");
		return -1;
	}
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	/* as zferry does: a receiver that dies is EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_splice_between_pipes_delivers_every_byte),
	    T(test_pipes_grow_except_the_copy_paths_input),
	    T(test_copy_when_a_buffer_is_set_delivers_every_byte),
	    T(test_copy_over_socketpairs_delivers_every_byte),
	    T(test_short_reads_and_writes_on_tiny_socket_buffers),
	    T(test_codec_paths_deliver_every_byte_and_count_both_sides),
	    T(test_stream_bytes_count_only_what_reached_the_receiver),
	    T(test_empty_input_is_done_on_every_path),
	    T(test_decompressing_a_large_expansion_after_end_of_input_finishes),
	    T(test_receiver_dying_mid_stream_is_out_closed),
	    T(test_read_error_fails_with_the_reason),
	    T(test_write_error_fails_with_the_reason),
	    T(test_corrupt_and_truncated_compressed_input_fail_as_protocol_errors),
	    T(test_eintr_from_a_timer_signal_loses_nothing),
	    T(test_rate_limit_holds_the_rate_within_ten_percent),
	    T(test_wait_ns_and_events_agree_on_when_to_write),
	    T(test_rate_limited_relay_waiting_on_a_peer_does_not_spin),
	    T(test_relays_sharing_a_bucket_write_the_rate_between_them),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
