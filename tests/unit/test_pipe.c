/*
 * test_pipe.c: zf_pipe_run(), zferry's relay on its own, between pipes
 * and with a command at one end: the data arrives exactly, the command's
 * exit code becomes ours, a corrupt compressed stream is ZF_E_PROTOCOL
 * with the command given the end of its input and reaped, a consumer that
 * never reads is a stall (ZF_E_TIMEOUT), and nothing is left behind.
 */
#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <cmocka.h>

#include "zferry/pipe.h"
#include "streamutil.h"
#include "testutil.h"

#define MS UINT64_C(1000000)
#define MIB (1024 * 1024)
/* zf_pipe_run()'s wait for a command to exit by itself, in pipe.c */
#define GRACE_MS 2000

static char tmpdir[] = "/tmp/zf-test-pipe.XXXXXX";
static int fds_before;
/* run_pipe(): the writer waits for the command to write this FIFO */
static const char *ready_fifo;

static void
path_in(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
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

static void
config_init(struct zf_pipe_config *c)
{
	memset(c, 0, sizeof(*c));
	c->in_fd = -1;
	c->out_fd = -1;
	c->cancel_fd = -1;
}

/*
 * Runs c with a writer thread feeding in[0..n) to its input (when c has
 * no command that writes) and a reader thread collecting its output into
 * got (when got is not NULL; else the output goes to /dev/null).
 */
static enum zf_status
run_pipe(struct zf_pipe_config *c, const unsigned char *in, size_t n,
    struct su_out *got, struct zf_error *err)
{
	bool feed = c->argv == NULL || c->decompress != ZF_COMPRESS_NONE;
	struct su_writer w;
	struct su_reader rd;
	enum zf_status r;
	int ip[2] = {-1, -1}, op[2] = {-1, -1};

	zf_error_clear(err);
	if (feed) {
		assert_int_equal(pipe2(ip, O_CLOEXEC), 0);
		c->in_fd = ip[0];
		su_writer_start_after(&w, ready_fifo, ip[1], in, n, 10007, n);
	} else {
		c->in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (got != NULL) {
		assert_int_equal(pipe2(op, O_CLOEXEC), 0);
		c->out_fd = op[1];
		su_reader_start(&rd, op[0], 65536, 0, 7);
	} else {
		c->out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	}
	r = zf_pipe_run(c, err);
	/* the descriptors stay ours */
	close(c->in_fd);
	close(c->out_fd);
	if (feed)
		su_writer_join(&w);
	if (got != NULL) {
		su_reader_join(&rd);
		*got = rd.out;
	}
	return r;
}

/* 1\n2\n...count\n, what "seq 1 count" writes */
static void
seq_text(struct su_out *o, unsigned count)
{
	unsigned i;

	for (i = 1; i <= count; i++) {
		char line[16];
		int k = snprintf(line, sizeof(line), "%u\n", i);

		su_out_add(o, line, (size_t)k);
	}
}

/* --- without a command ------------------------------------------------ */

static void
test_plain_compress_and_decompress_between_pipes(void **state)
{
	static const enum zf_compress_alg algs[] = {ZF_COMPRESS_NONE,
	    ZF_COMPRESS_ZSTD, ZF_COMPRESS_LZ4};
	size_t n = 3 * MIB + 17, a;
	unsigned char *d = su_text_data(n, 1);

	(void)state;
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct zf_pipe_config c;
		struct zf_error err;
		struct su_out z = {0}, back = {0};

		config_init(&c);
		c.compress = algs[a];
		assert_int_equal(run_pipe(&c, d, n, &z, &err), ZF_OK);
		assert_int_equal(c.bytes_in, n);
		assert_int_equal(c.bytes_out, z.len);
		config_init(&c);
		c.decompress = algs[a];
		assert_int_equal(run_pipe(&c, z.data, z.len, &back, &err),
		    ZF_OK);
		assert_int_equal(c.bytes_in, z.len);
		assert_int_equal(c.bytes_out, n);
		assert_int_equal(back.len, n);
		assert_memory_equal(back.data, d, n);
		su_out_free(&z);
		su_out_free(&back);
	}
	free(d);
}

static void
test_bad_configurations_are_refused_before_anything_runs(void **state)
{
	char *empty[] = {NULL};
	char *cat[] = {"cat", NULL};
	struct zf_pipe_config c;
	struct zf_error err;

	(void)state;
	config_init(&c);
	c.compress = ZF_COMPRESS_AUTO;
	zf_error_clear(&err);
	assert_int_equal(zf_pipe_run(&c, &err), ZF_E_INVALID);
	assert_non_null(strstr(err.msg, "auto"));
	config_init(&c);
	c.compress = ZF_COMPRESS_ZSTD;
	c.decompress = ZF_COMPRESS_LZ4;
	zf_error_clear(&err);
	assert_int_equal(zf_pipe_run(&c, &err), ZF_E_INVALID);
	config_init(&c);
	c.decompress = ZF_COMPRESS_ZSTD;
	c.argv = empty;
	zf_error_clear(&err);
	assert_int_equal(zf_pipe_run(&c, &err), ZF_E_INVALID);
	config_init(&c);
	c.argv = cat;
	zf_error_clear(&err);
	assert_int_equal(zf_pipe_run(&c, &err), ZF_E_INVALID);
	assert_int_equal(err.stage, ZF_STAGE_INPUT);
}

/* --- with a command --------------------------------------------------- */

/* The command writes, we compress: every byte, and its exit code. */
static void
test_compress_a_producer_and_propagate_its_exit_code(void **state)
{
	static const struct {
		char *script;
		enum zf_status r;
		int code;
	} cases[] = {
	    {"seq 1 200000", ZF_OK, 0},
	    {"seq 1 200000; exit 3", ZF_E_CHILD, 3},
	};
	struct su_out want = {0};
	size_t i;

	(void)state;
	seq_text(&want, 200000);
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		char *argv[] = {"/bin/sh", "-c", cases[i].script, NULL};
		struct zf_pipe_config c;
		struct zf_error err;
		struct su_out z = {0}, back = {0};

		config_init(&c);
		c.compress = ZF_COMPRESS_ZSTD;
		c.argv = argv;
		assert_int_equal(run_pipe(&c, NULL, 0, &z, &err), cases[i].r);
		if (cases[i].r == ZF_E_CHILD) {
			assert_int_equal(err.child_status, cases[i].code);
			assert_non_null(strstr(err.msg, "exit 3"));
			assert_non_null(strstr(err.msg, "/bin/sh"));
		}
		/* all it wrote arrived, as a complete stream */
		su_codec_all(ZF_COMPRESS_ZSTD, false, z.data, z.len, &back);
		assert_int_equal(back.len, want.len);
		assert_memory_equal(back.data, want.data, want.len);
		assert_int_equal(c.bytes_in, want.len);
		assert_int_equal(c.bytes_out, z.len);
		su_out_free(&z);
		su_out_free(&back);
	}
	su_out_free(&want);
}

/* We decompress into the command: every byte, and its exit code. */
static void
test_decompress_into_a_consumer_and_propagate_its_exit_code(void **state)
{
	static const enum zf_compress_alg algs[] = {ZF_COMPRESS_ZSTD,
	    ZF_COMPRESS_LZ4};
	size_t n = 2 * MIB + 5, a, k;
	unsigned char *d = su_random_data(n, 2);
	char out[PATH_MAX], script[PATH_MAX + 64];

	(void)state;
	path_in(out, sizeof(out), "received");
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct su_out z = {0};

		su_codec_all(algs[a], true, d, n, &z);
		for (k = 0; k < 2; k++) {
			char *argv[] = {"/bin/sh", "-c", script, NULL};
			struct zf_pipe_config c;
			struct zf_error err;
			struct su_out got = {0};

			snprintf(script, sizeof(script), "cat > '%s'%s", out,
			    k == 0 ? "" : "; exit 5");
			config_init(&c);
			c.decompress = algs[a];
			c.argv = argv;
			assert_int_equal(run_pipe(&c, z.data, z.len, NULL,
			                     &err),
			    k == 0 ? ZF_OK : ZF_E_CHILD);
			if (k == 1)
				assert_int_equal(err.child_status, 5);
			assert_int_equal(c.bytes_in, z.len);
			assert_int_equal(c.bytes_out, n);
			read_file(out, &got);
			assert_int_equal(got.len, n);
			assert_memory_equal(got.data, d, n);
			su_out_free(&got);
		}
		su_out_free(&z);
	}
	free(d);
}

/* A consumer that dies without reading: its failure, not ours. */
static void
test_consumer_dying_early_is_its_failure(void **state)
{
	static const struct {
		char *script;
		int code;
	} cases[] = {
	    {"exit 1", 1},
	    {"head -c 1000 >/dev/null; kill -USR1 $$", 128 + SIGUSR1},
	};
	size_t n = 8 * MIB, i;
	unsigned char *d = su_random_data(n, 3);
	struct su_out z = {0};

	(void)state;
	su_codec_all(ZF_COMPRESS_LZ4, true, d, n, &z);
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		char *argv[] = {"/bin/sh", "-c", cases[i].script, NULL};
		struct zf_pipe_config c;
		struct zf_error err;

		config_init(&c);
		c.decompress = ZF_COMPRESS_LZ4;
		c.argv = argv;
		assert_int_equal(run_pipe(&c, z.data, z.len, NULL, &err),
		    ZF_E_CHILD);
		assert_int_equal(err.child_status, cases[i].code);
		assert_true(c.bytes_out < n);
	}
	su_out_free(&z);
	free(d);
}

static void
test_command_that_cannot_start_is_a_spawn_error(void **state)
{
	char *argv[] = {"zf-no-such-program", NULL};
	struct zf_pipe_config c;
	struct zf_error err;

	(void)state;
	config_init(&c);
	c.decompress = ZF_COMPRESS_ZSTD;
	c.argv = argv;
	assert_int_equal(run_pipe(&c, (const unsigned char *)"", 0, NULL, &err),
	    ZF_E_SPAWN);
	assert_non_null(strstr(err.msg, "zf-no-such-program"));
}

/* A program deep in a directory tree is still named when it fails. */
static void
test_failing_command_with_a_long_path_is_named(void **state)
{
	char dir[PATH_MAX], prog[PATH_MAX + 16];
	char *argv[] = {prog, "-c", "exit 7", NULL};
	struct zf_pipe_config c;
	struct zf_error err;

	(void)state;
	path_in(dir, sizeof(dir),
	    "a-directory-with-a-name-long-enough-to-matter");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(prog, sizeof(prog), "%s/the-shell", dir);
	assert_int_equal(symlink("/bin/sh", prog), 0);
	config_init(&c);
	c.compress = ZF_COMPRESS_LZ4;
	c.argv = argv;
	assert_int_equal(run_pipe(&c, NULL, 0, NULL, &err), ZF_E_CHILD);
	assert_int_equal(err.child_status, 7);
	if (strstr(err.msg, "the-shell") == NULL)
		fail_msg("the program is not named: \"%s\"", err.msg);
}

/*
 * A corrupt stream: ZF_E_PROTOCOL, and the command gets the end of its
 * input.  The first consumer ignores SIGTERM, so it can only end by
 * seeing that end: it then says so and exits (the data is held back until
 * its trap is set).  The second does not ignore SIGTERM; it too is
 * reaped, and quickly.
 */
static void
test_corrupt_stream_gives_the_consumer_eof_and_reaps_it(void **state)
{
	static const enum zf_compress_alg algs[] = {ZF_COMPRESS_ZSTD,
	    ZF_COMPRESS_LZ4};
	size_t n = 3 * MIB, a, k;
	unsigned char *d = su_text_data(n, 4);
	char marker[PATH_MAX], fifo[PATH_MAX], script[2 * PATH_MAX + 128];

	(void)state;
	path_in(marker, sizeof(marker), "eof-seen");
	path_in(fifo, sizeof(fifo), "ready");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (a = 0; a < ZF_ARRAY_SIZE(algs); a++) {
		struct su_out z = {0};

		su_codec_all(algs[a], true, d, n, &z);
		z.data[z.len / 2] ^= 0x40;
		for (k = 0; k < 2; k++) {
			char *argv[] = {"/bin/sh", "-c", script, NULL};
			struct zf_pipe_config c;
			struct zf_error err;
			struct su_out got = {0};
			uint64_t t0 = zf_now_ns();

			unlink(marker);
			snprintf(script, sizeof(script),
			    "%s: > '%s'; cat >/dev/null; echo eof > '%s'",
			    k == 0 ? "trap '' TERM; " : "", fifo, marker);
			config_init(&c);
			c.decompress = algs[a];
			c.argv = argv;
			ready_fifo = fifo;
			assert_int_equal(run_pipe(&c, z.data, z.len, NULL,
			                     &err),
			    ZF_E_PROTOCOL);
			ready_fifo = NULL;
			assert_int_equal(err.stage, ZF_STAGE_RELAY);
			assert_true(tu_no_children());
			if (k == 0) {
				read_file(marker, &got);
				assert_int_equal(got.len, 4);
				su_out_free(&got);
			}
			/* no grace period spent: the end came at once */
			assert_true(zf_now_ns() - t0 < GRACE_MS * MS);
		}
		su_out_free(&z);
	}
	free(d);
}

/* Truncated: the same, with "ended inside a frame". */
static void
test_truncated_stream_is_a_protocol_error(void **state)
{
	size_t n = MIB;
	unsigned char *d = su_text_data(n, 5);
	char *argv[] = {"/bin/sh", "-c", "cat >/dev/null", NULL};
	struct su_out z = {0};
	struct zf_pipe_config c;
	struct zf_error err;

	(void)state;
	su_codec_all(ZF_COMPRESS_ZSTD, true, d, n, &z);
	config_init(&c);
	c.decompress = ZF_COMPRESS_ZSTD;
	c.argv = argv;
	assert_int_equal(run_pipe(&c, z.data, z.len - 10, NULL, &err),
	    ZF_E_PROTOCOL);
	assert_non_null(strstr(err.msg, "ended inside a frame"));
	su_out_free(&z);
	free(d);
}

/*
 * A consumer that never reads: once its pipe and our ring are full, no
 * byte moves, and after stall_timeout_ms that is ZF_E_TIMEOUT.  Then
 * zf_pipe_run() closes the consumer's input and gives it GRACE_MS to exit
 * by itself (a zfs receive -s keeps what it has) before SIGTERM: this one
 * never reads, so the whole run takes stall + GRACE_MS; 1.5 s on top
 * covers filling the buffers and valgrind.
 */
static void
test_consumer_that_never_reads_is_a_stall_timeout(void **state)
{
	size_t n = 16 * MIB;
	unsigned char *zeros = calloc(1, n);
	char *argv[] = {"/bin/sh", "-c", "exec sleep 60", NULL};
	struct su_out z = {0};
	struct zf_pipe_config c;
	struct zf_error err;
	uint64_t t0, ms;

	(void)state;
	assert_non_null(zeros);
	su_codec_all(ZF_COMPRESS_ZSTD, true, zeros, n, &z);
	free(zeros);
	config_init(&c);
	c.decompress = ZF_COMPRESS_ZSTD;
	c.argv = argv;
	c.stall_timeout_ms = 500;
	c.buffer_size = 64 * 1024;
	t0 = zf_now_ns();
	assert_int_equal(run_pipe(&c, z.data, z.len, NULL, &err), ZF_E_TIMEOUT);
	ms = (zf_now_ns() - t0) / MS;
	assert_non_null(strstr(err.msg, "stall-timeout"));
	if (ms < 500 || ms > 500 + GRACE_MS + 1500)
		fail_msg("stall reported after %" PRIu64 " ms", ms);
	assert_true(c.bytes_out < n);
	su_out_free(&z);
}

/* A producer that never writes: the stall, and it is stopped at once. */
static void
test_producer_that_never_writes_is_a_stall_timeout(void **state)
{
	char *argv[] = {"sleep", "60", NULL};
	struct zf_pipe_config c;
	struct zf_error err;
	struct su_out z = {0};
	uint64_t t0, ms;

	(void)state;
	config_init(&c);
	c.compress = ZF_COMPRESS_ZSTD;
	c.argv = argv;
	c.stall_timeout_ms = 300;
	t0 = zf_now_ns();
	assert_int_equal(run_pipe(&c, NULL, 0, &z, &err), ZF_E_TIMEOUT);
	ms = (zf_now_ns() - t0) / MS;
	/*
	 * sleep ends on SIGTERM: no 2 s grace period to wait out (the bound
	 * leaves room for a loaded machine, and still catches the grace)
	 */
	if (ms < 300 || ms > 300 + 1900)
		fail_msg("stall reported after %" PRIu64 " ms", ms);
	assert_int_equal(c.bytes_in, 0);
	su_out_free(&z);
}

static void
test_cancel_stops_the_relay_and_the_command(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "cat >/dev/null", NULL};
	size_t n = 4 * MIB;
	unsigned char *d = su_random_data(n, 6);
	struct su_out z = {0};
	struct zf_pipe_config c;
	struct zf_error err;
	uint64_t t0;
	int p[2];

	(void)state;
	su_codec_all(ZF_COMPRESS_LZ4, true, d, n, &z);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	config_init(&c);
	c.decompress = ZF_COMPRESS_LZ4;
	c.argv = argv;
	c.cancel_fd = p[0];
	t0 = zf_now_ns();
	assert_int_equal(run_pipe(&c, z.data, z.len, NULL, &err),
	    ZF_E_CANCELED);
	/* cat exits at the end of its input: no grace period spent */
	assert_true(zf_now_ns() - t0 < GRACE_MS * MS);
	close(p[0]);
	close(p[1]);
	su_out_free(&z);
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
	signal(SIGPIPE, SIG_IGN);
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
	    T(test_plain_compress_and_decompress_between_pipes),
	    T(test_bad_configurations_are_refused_before_anything_runs),
	    T(test_compress_a_producer_and_propagate_its_exit_code),
	    T(test_decompress_into_a_consumer_and_propagate_its_exit_code),
	    T(test_consumer_dying_early_is_its_failure),
	    T(test_command_that_cannot_start_is_a_spawn_error),
	    T(test_failing_command_with_a_long_path_is_named),
	    T(test_corrupt_stream_gives_the_consumer_eof_and_reaps_it),
	    T(test_truncated_stream_is_a_protocol_error),
	    T(test_consumer_that_never_reads_is_a_stall_timeout),
	    T(test_producer_that_never_writes_is_a_stall_timeout),
	    T(test_cancel_stops_the_relay_and_the_command),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
