/*
 * test_codec.c: zstd and lz4 through zf_codec_step() in both directions:
 * round trips with output buffers of awkward sizes and input in random
 * chunks, the end of the input, truncated, corrupt and concatenated
 * streams, and the zstd and lz4 command-line tools decoding what we make
 * and the other way round.
 */
#include "compat.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#include "codec.h"
#include "streamutil.h"
#include "testutil.h"

static char tmpdir[] = "/tmp/zf-test-codec.XXXXXX";
static int fds_before;

static const enum zf_compress_alg algs[] = {ZF_COMPRESS_ZSTD, ZF_COMPRESS_LZ4};

/* Compresses with one output size and chunking, decompresses with another. */
static void
round_trip(enum zf_compress_alg alg, const unsigned char *data, size_t n,
    size_t max_in, size_t out_cap, uint64_t seed)
{
	struct su_out z = {0}, back = {0};
	struct zf_error err;

	zf_error_clear(&err);
	if (su_codec_run(alg, true, data, n, max_in, out_cap, seed, &z, &err) !=
	    ZF_OK)
		fail_msg("%s compress (out %zu): %s", zf_compress_name(alg),
		    out_cap, err.msg);
	if (su_codec_run(alg, false, z.data, z.len, max_in, out_cap, seed + 1,
	        &back, &err) != ZF_OK)
		fail_msg("%s decompress (out %zu): %s", zf_compress_name(alg),
		    out_cap, err.msg);
	assert_int_equal(back.len, n);
	if (n > 0)
		assert_memory_equal(back.data, data, n);
	su_out_free(&z);
	su_out_free(&back);
}

static void
round_trips(unsigned char *(*make)(size_t, uint64_t))
{
	/* output room, largest input chunk, and how much data */
	static const struct {
		size_t out_cap, max_in, n;
	} cases[] = {
	    {1, 13, 20000},
	    {7, 1000, 150000},
	    {4093, 1, 40000},
	    {4093, 70000, 800000},
	    {65536, 300000, 1500000},
	    {65536, 0, 600000},
	    {1024 * 1024, 1024 * 1024, 1500000},
	};
	size_t a, i;

	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
			unsigned char *d = make(cases[i].n, i + 1);

			round_trip(algs[a], d, cases[i].n, cases[i].max_in,
			    cases[i].out_cap, 100 + i);
			free(d);
		}
	}
}

static unsigned char *
make_text(size_t n, uint64_t seed)
{
	return su_text_data(n, seed);
}

static unsigned char *
make_random(size_t n, uint64_t seed)
{
	return su_random_data(n, seed);
}

static void
test_round_trip_compressible_data_through_awkward_buffers(void **state)
{
	(void)state;
	round_trips(make_text);
}

static void
test_round_trip_incompressible_data_through_awkward_buffers(void **state)
{
	(void)state;
	round_trips(make_random);
}

static void
test_compressible_data_shrinks_random_data_barely_grows(void **state)
{
	size_t n = 1024 * 1024, a;
	unsigned char *text = su_text_data(n, 5), *rnd = su_random_data(n, 6);

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct su_out z = {0};

		su_codec_all(algs[a], true, text, n, &z);
		assert_true(z.len < n / 2);
		su_out_free(&z);
		su_codec_all(algs[a], true, rnd, n, &z);
		assert_true(z.len <= n + n / 100 + 64);
		su_out_free(&z);
	}
	free(text);
	free(rnd);
}

/*
 * An empty input compresses to a frame (the other side can tell "nothing"
 * from "cut off"), and that frame decompresses to nothing.
 */
static void
test_empty_input_makes_a_frame_that_decodes_to_nothing(void **state)
{
	size_t a;

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct su_out z = {0}, back = {0};

		su_codec_all(algs[a], true, (const unsigned char *)"", 0, &z);
		assert_true(z.len > 0);
		su_codec_all(algs[a], false, z.data, z.len, &back);
		assert_int_equal(back.len, 0);
		su_out_free(&z);
		su_out_free(&back);
	}
}

/*
 * With no input at all the decompressor has seen no frame begin, so it
 * ends cleanly: an empty stream is not a truncated one.  (The receiving
 * program, seeing an empty stream, reports that itself.)
 */
/*
 * No bytes at all is not a compressed stream (even an empty one has a
 * frame): refused, as the zstd tool refuses it, so a sender that died
 * before its first byte is never mistaken for an empty stream.
 */
static void
test_decompressing_no_bytes_is_refused(void **state)
{
	size_t a;

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct zf_codec *c;
		struct zf_error err;
		unsigned char out[64];
		size_t in_pos = 0, out_pos = 0;
		bool done = false;

		zf_error_clear(&err);
		assert_int_equal(zf_codec_new(&c, algs[a], false, 0, 0, NULL),
		    ZF_OK);
		assert_int_equal(zf_codec_step(c, (const unsigned char *)"", 0,
		                     &in_pos, out, sizeof(out), &out_pos, true,
		                     &done, &err),
		    ZF_E_PROTOCOL);
		assert_false(done);
		assert_int_equal(out_pos, 0);
		assert_non_null(strstr(err.msg, "no compressed data"));
		zf_codec_free(c);
	}
}

/* Done is only ever reported once the caller says the input ended. */
static void
test_done_only_after_end_of_input(void **state)
{
	size_t n = 100000, a;
	unsigned char *d = su_text_data(n, 9);

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct zf_codec *c;
		struct su_out z = {0}, back = {0};
		unsigned char out[256 * 1024];
		size_t in_pos = 0, out_pos = 0;
		bool done = true;

		/* compress: everything in, no end: no frame end yet */
		assert_int_equal(zf_codec_new(&c, algs[a], true, 1, 0, NULL),
		    ZF_OK);
		assert_int_equal(zf_codec_step(c, d, n, &in_pos, out,
		                     sizeof(out), &out_pos, false, &done, NULL),
		    ZF_OK);
		assert_false(done);
		assert_int_equal(in_pos, n);
		su_out_add(&z, out, out_pos);
		while (!done) {
			out_pos = 0;
			assert_int_equal(zf_codec_step(c, d, n, &in_pos, out,
			                     sizeof(out), &out_pos, true, &done,
			                     NULL),
			    ZF_OK);
			su_out_add(&z, out, out_pos);
		}
		zf_codec_free(c);

		/* decompress: a whole frame, but no end: not done */
		assert_int_equal(zf_codec_new(&c, algs[a], false, 0, 0, NULL),
		    ZF_OK);
		in_pos = 0;
		out_pos = 0;
		done = true;
		assert_int_equal(zf_codec_step(c, z.data, z.len, &in_pos, out,
		                     sizeof(out), &out_pos, false, &done, NULL),
		    ZF_OK);
		assert_false(done);
		assert_int_equal(in_pos, z.len);
		su_out_add(&back, out, out_pos);
		/* the end, with nothing more: done, nothing more out */
		out_pos = 0;
		assert_int_equal(zf_codec_step(c, z.data, z.len, &in_pos, out,
		                     sizeof(out), &out_pos, true, &done, NULL),
		    ZF_OK);
		assert_true(done);
		assert_int_equal(out_pos, 0);
		assert_int_equal(back.len, n);
		assert_memory_equal(back.data, d, n);
		zf_codec_free(c);
		su_out_free(&z);
		su_out_free(&back);
	}
	free(d);
}

/* Every way of cutting a stream short is refused, with any output room. */
static void
test_truncated_stream_is_refused(void **state)
{
	size_t n = 300000, a, i, o;
	unsigned char *d = su_text_data(n, 11);
	static const size_t outs[] = {1, 4096, 1024 * 1024};

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct su_out z = {0};
		size_t cuts[8];

		su_codec_all(algs[a], true, d, n, &z);
		cuts[0] = 1;
		cuts[1] = 4;
		cuts[2] = 9;
		cuts[3] = z.len / 3;
		cuts[4] = z.len / 2;
		cuts[5] = z.len - 5;
		cuts[6] = z.len - 4;
		cuts[7] = z.len - 1;
		for (i = 0; i < ZF_ARRAY_SIZE(cuts); i++) {
			for (o = 0; o < ZF_ARRAY_SIZE(outs); o++) {
				struct su_out back = {0};
				struct zf_error err;
				enum zf_status r;

				/* 1-byte output is slow: the short cuts only */
				if (outs[o] == 1 && cuts[i] > 1000)
					continue;
				zf_error_clear(&err);
				r = su_codec_run(algs[a], false, z.data,
				    cuts[i], 777, outs[o], i, &back, &err);
				if (r != ZF_E_PROTOCOL)
					fail_msg("%s cut at %zu of %zu (out "
					         "%zu): %d %s",
					    zf_compress_name(algs[a]), cuts[i],
					    z.len, outs[o], r, err.msg);
				assert_non_null(
				    strstr(err.msg, "ended inside a frame"));
				assert_non_null(
				    strstr(err.msg, zf_compress_name(algs[a])));
				assert_int_equal(err.stage, ZF_STAGE_RELAY);
				/* what came out is a prefix of the data */
				assert_true(back.len <= n);
				if (back.len > 0)
					assert_memory_equal(back.data, d,
					    back.len);
				su_out_free(&back);
			}
		}
		su_out_free(&z);
	}
	free(d);
}

/*
 * A flipped byte anywhere in the payload is never passed on as good
 * data: either the decoder fails or (a flip with no effect on the data)
 * the output is exactly right.
 */
static void
test_corrupt_stream_never_yields_wrong_data(void **state)
{
	size_t n = 200000, a, i;
	unsigned char *d = su_text_data(n, 13);

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct su_out z = {0};
		unsigned refused = 0, tries = 0;

		su_codec_all(algs[a], true, d, n, &z);
		for (i = 20; i < z.len - 8; i += z.len / 61) {
			struct su_out back = {0};
			struct zf_error err;
			enum zf_status r;

			z.data[i] ^= 0x20;
			zf_error_clear(&err);
			r = su_codec_run(algs[a], false, z.data, z.len, 5000,
			    65536, i, &back, &err);
			z.data[i] ^= 0x20;
			tries++;
			if (r != ZF_OK) {
				assert_int_equal(r, ZF_E_PROTOCOL);
				assert_int_equal(err.stage, ZF_STAGE_RELAY);
				refused++;
			} else if (back.len != n ||
			    memcmp(back.data, d, n) != 0) {
				fail_msg("%s: byte %zu of %zu flipped: wrong "
				         "data passed as good",
				    zf_compress_name(algs[a]), i, z.len);
			}
			su_out_free(&back);
		}
		assert_true(refused * 10 >= tries * 9);
		su_out_free(&z);
	}
	free(d);
}

static void
test_garbage_and_trailing_garbage_are_refused(void **state)
{
	size_t n = 5000, a;
	unsigned char *d = su_text_data(n, 17);
	unsigned char *junk = su_random_data(4096, 18);

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct su_out z = {0}, back = {0};
		struct zf_error err;

		/* not a frame at all */
		zf_error_clear(&err);
		assert_int_equal(su_codec_run(algs[a], false, junk, 4096, 100,
		                     4096, 1, &back, &err),
		    ZF_E_PROTOCOL);
		assert_int_equal(back.len, 0);
		su_out_free(&back);
		/* a good frame followed by bytes that are not */
		su_codec_all(algs[a], true, d, n, &z);
		su_out_add(&z, "garbage!", 8);
		zf_error_clear(&err);
		assert_int_equal(su_codec_run(algs[a], false, z.data, z.len,
		                     100, 4096, 1, &back, &err),
		    ZF_E_PROTOCOL);
		su_out_free(&back);
		su_out_free(&z);
	}
	free(d);
	free(junk);
}

static void
test_concatenated_frames_decode_as_one_stream(void **state)
{
	size_t n1 = 70000, n2 = 123457, a;
	unsigned char *d1 = su_text_data(n1, 21), *d2 = su_random_data(n2, 22);

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct su_out z = {0}, back = {0}, e = {0};
		struct zf_error err;

		su_codec_all(algs[a], true, d1, n1, &z);
		/* an empty frame in the middle too */
		su_codec_all(algs[a], true, (const unsigned char *)"", 0, &e);
		su_out_add(&z, e.data, e.len);
		su_codec_all(algs[a], true, d2, n2, &z);
		zf_error_clear(&err);
		assert_int_equal(su_codec_run(algs[a], false, z.data, z.len,
		                     997, 3000, 3, &back, &err),
		    ZF_OK);
		assert_int_equal(back.len, n1 + n2);
		assert_memory_equal(back.data, d1, n1);
		assert_memory_equal(back.data + n1, d2, n2);
		su_out_free(&z);
		su_out_free(&e);
		su_out_free(&back);
	}
	free(d1);
	free(d2);
}

static void
test_zstd_with_worker_threads_round_trips(void **state)
{
	size_t n = 4 * 1024 * 1024;
	unsigned char *d = su_text_data(n, 23);
	struct zf_codec *c;
	struct su_out z = {0}, back = {0};
	unsigned char out[65536];
	size_t in_pos = 0;
	bool done = false;
	int steps = 0;

	(void)state;
	assert_int_equal(zf_codec_new(&c, ZF_COMPRESS_ZSTD, true, 3, 2, NULL),
	    ZF_OK);
	while (!done) {
		size_t out_pos = 0,
		       end = in_pos + 100000 < n ? in_pos + 100000 : n;

		assert_int_equal(zf_codec_step(c, d, end, &in_pos, out,
		                     sizeof(out), &out_pos, end == n, &done,
		                     NULL),
		    ZF_OK);
		su_out_add(&z, out, out_pos);
		assert_true(++steps < 100000);
	}
	zf_codec_free(c);
	su_codec_all(ZF_COMPRESS_ZSTD, false, z.data, z.len, &back);
	assert_int_equal(back.len, n);
	assert_memory_equal(back.data, d, n);
	su_out_free(&z);
	su_out_free(&back);
	free(d);
}

static void
test_codec_new_refuses_none_and_auto(void **state)
{
	static char dummy;
	struct zf_codec *c = (struct zf_codec *)(void *)&dummy;
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	assert_int_equal(zf_codec_new(&c, ZF_COMPRESS_NONE, true, 1, 0, &err),
	    ZF_E_INVALID);
	assert_null(c);
	assert_non_null(strstr(err.msg, "none"));
	c = (struct zf_codec *)(void *)&dummy;
	zf_error_clear(&err);
	assert_int_equal(zf_codec_new(&c, ZF_COMPRESS_AUTO, false, 1, 0, &err),
	    ZF_E_INVALID);
	assert_null(c);
	zf_codec_free(NULL);
	assert_string_equal(zf_compress_name(ZF_COMPRESS_ZSTD), "zstd");
	assert_string_equal(zf_compress_name(ZF_COMPRESS_LZ4), "lz4");
	assert_string_equal(zf_compress_name(ZF_COMPRESS_NONE), "none");
}

/* --- the command-line tools ------------------------------------------ */

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_true(su_write_all(fd, p, n));
	assert_int_equal(close(fd), 0);
}

static void
read_file(const char *path, struct su_out *o)
{
	unsigned char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k;

	assert_true(fd >= 0);
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		su_out_add(o, buf, (size_t)k);
	assert_int_equal(k, 0);
	close(fd);
}

/* Runs argv with stdin from in_path and stdout to out_path; its exit code. */
static int
run_tool(char *const *argv, const char *in_path, const char *out_path)
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open(in_path, O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null = open("/dev/null", O_WRONLY);

		if (in < 0 || out < 0 || null < 0 || dup2(in, 0) < 0 ||
		    dup2(out, 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 127);
	return WEXITSTATUS(st);
}

static void
path_in(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

/* The tools decode what we make, from every output size we use. */
static void
test_cli_tools_decode_our_streams(void **state)
{
	static char *zstd_d[] = {"zstd", "-q", "-dc", NULL};
	static char *lz4_d[] = {"lz4", "-q", "-dc", NULL};
	char zpath[PATH_MAX], opath[PATH_MAX];
	size_t n = 1500000, a, k;
	unsigned char *d = su_text_data(n, 31);

	(void)state;
	path_in(zpath, sizeof(zpath), "ours.z");
	path_in(opath, sizeof(opath), "ours.out");
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		for (k = 0; k < 3; k++) {
			struct su_out z = {0}, back = {0};
			struct zf_error err;
			size_t len = k == 2 ? 0 : n;

			zf_error_clear(&err);
			assert_int_equal(su_codec_run(algs[a], true, d, len,
			                     k == 0 ? 9999 : 0,
			                     k == 0 ? 7 : 65536, k, &z, &err),
			    ZF_OK);
			write_file(zpath, z.data, z.len);
			assert_int_equal(run_tool(algs[a] == ZF_COMPRESS_ZSTD
			                         ? zstd_d
			                         : lz4_d,
			                     zpath, opath),
			    0);
			read_file(opath, &back);
			assert_int_equal(back.len, len);
			if (len > 0)
				assert_memory_equal(back.data, d, len);
			su_out_free(&z);
			su_out_free(&back);
		}
	}
	free(d);
}

/* We decode what the tools make, with their usual and unusual options. */
static void
test_we_decode_cli_tool_streams(void **state)
{
	static char *const tools[][6] = {
	    {"zstd", "-q", "-c", NULL},
	    {"zstd", "-q", "-c", "-12", NULL},
	    {"zstd", "-q", "-c", "--no-check", NULL},
	    {"zstd", "-q", "-c", "-T2", "--long=24", NULL},
	    {"lz4", "-q", "-c", NULL},
	    {"lz4", "-q", "-c", "-BD", "-B4", NULL},
	    {"lz4", "-q", "-c", "--no-frame-crc", "-9", NULL},
	    {"lz4", "-q", "-c", "--content-size", "-BX", NULL},
	};
	char ipath[PATH_MAX], zpath[PATH_MAX];
	size_t n = 1500000, t;
	unsigned char *d = su_text_data(n, 41);

	(void)state;
	path_in(ipath, sizeof(ipath), "plain");
	path_in(zpath, sizeof(zpath), "theirs.z");
	write_file(ipath, d, n);
	for (t = 0; t < ZF_ARRAY_SIZE(tools); t++) {
		enum zf_compress_alg alg = strcmp(tools[t][0], "zstd") == 0
		    ? ZF_COMPRESS_ZSTD
		    : ZF_COMPRESS_LZ4;
		struct su_out z = {0}, back = {0};
		struct zf_error err;

		assert_int_equal(run_tool(tools[t], ipath, zpath), 0);
		read_file(zpath, &z);
		zf_error_clear(&err);
		if (su_codec_run(alg, false, z.data, z.len, 4321, 5000, t,
		        &back, &err) != ZF_OK)
			fail_msg("%s (tool case %zu): %s", tools[t][0], t,
			    err.msg);
		assert_int_equal(back.len, n);
		assert_memory_equal(back.data, d, n);
		su_out_free(&z);
		su_out_free(&back);
	}
	free(d);
}

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
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return tu_rmrf(tmpdir);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_round_trip_compressible_data_through_awkward_buffers),
	    T(test_round_trip_incompressible_data_through_awkward_buffers),
	    T(test_compressible_data_shrinks_random_data_barely_grows),
	    T(test_empty_input_makes_a_frame_that_decodes_to_nothing),
	    T(test_decompressing_no_bytes_is_refused),
	    T(test_done_only_after_end_of_input),
	    T(test_truncated_stream_is_refused),
	    T(test_corrupt_stream_never_yields_wrong_data),
	    T(test_garbage_and_trailing_garbage_are_refused),
	    T(test_concatenated_frames_decode_as_one_stream),
	    T(test_zstd_with_worker_threads_round_trips),
	    T(test_codec_new_refuses_none_and_auto),
	    T(test_cli_tools_decode_our_streams),
	    T(test_we_decode_cli_tool_streams),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
