/*
 * test_util.c: zf_buf (hard maximum, truncating adds), zf_argv (copies,
 * failure flag, finish/detach), zf_escape (every byte, truncation never
 * splits an escape), the zf_fail family (first failure wins, escaping,
 * prefixes) and the small helpers of util.h.
 */
#include "compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

/* Every byte of s is printable ASCII: nothing can reach a terminal raw. */
static void
assert_printable(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			fail_msg("raw byte 0x%02x at offset %zu of \"%s\"", *p,
			    (size_t)(p - (const unsigned char *)s), s);
}

/* The escape of one byte as util.h documents it. */
static void
expected_escape(unsigned char c, char out[8])
{
	switch (c) {
	case '\n':
		snprintf(out, 8, "\\n");
		return;
	case '\t':
		snprintf(out, 8, "\\t");
		return;
	case '\r':
		snprintf(out, 8, "\\r");
		return;
	case '\\':
		snprintf(out, 8, "\\\\");
		return;
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f)
		snprintf(out, 8, "\\x%02x", c);
	else
		snprintf(out, 8, "%c", c);
}

/* --- zf_buf ---------------------------------------------------------- */

static void
test_buf_add_up_to_max_succeeds(void **state)
{
	struct zf_buf b = ZF_BUF_INIT(8);

	(void)state;
	assert_int_equal(zf_buf_add(&b, "abcd", 4), ZF_OK);
	assert_int_equal(zf_buf_adds(&b, "efgh"), ZF_OK);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "abcdefgh");
	assert_true(b.cap >= b.len + 1);
	zf_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.max, 8);
}

static void
test_buf_add_beyond_max_fails_and_leaves_buffer_unchanged(void **state)
{
	struct zf_buf b = ZF_BUF_INIT(8);
	char *before;

	(void)state;
	assert_int_equal(zf_buf_adds(&b, "abcdef"), ZF_OK);
	before = b.data;
	assert_int_equal(zf_buf_add(&b, "xyz", 3), ZF_E_NOMEM);
	assert_int_equal(b.len, 6);
	assert_ptr_equal(b.data, before);
	assert_string_equal(b.data, "abcdef");
	assert_int_equal(zf_buf_addf(&b, "%s", "xyz"), ZF_E_NOMEM);
	assert_string_equal(b.data, "abcdef");
	/* an add that alone exceeds max, and one whose size would wrap */
	assert_int_equal(zf_buf_add(&b, "x", 9), ZF_E_NOMEM);
	assert_int_equal(zf_buf_add(&b, "x", SIZE_MAX), ZF_E_NOMEM);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "abcdef");
	assert_int_equal(b.dropped, 0);
	zf_buf_release(&b);
}

static void
test_buf_max_zero_holds_only_the_empty_string(void **state)
{
	struct zf_buf b;

	(void)state;
	zf_buf_init(&b, 0);
	assert_int_equal(zf_buf_add(&b, "", 0), ZF_OK);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(zf_buf_add(&b, "a", 1), ZF_E_NOMEM);
	assert_int_equal(b.len, 0);
	zf_buf_release(&b);
}

static void
test_buf_unlimited_max_still_allocates_enough(void **state)
{
	struct zf_buf b;
	char big[300];

	(void)state;
	/* max == SIZE_MAX must not wrap max + 1 to a zero capacity */
	memset(big, 'q', sizeof(big));
	zf_buf_init(&b, SIZE_MAX);
	assert_int_equal(zf_buf_add(&b, big, sizeof(big)), ZF_OK);
	assert_true(b.cap >= sizeof(big) + 1);
	assert_int_equal(b.len, sizeof(big));
	assert_memory_equal(b.data, big, sizeof(big));
	assert_int_equal(b.data[b.len], '\0');
	zf_buf_release(&b);
}

static void
test_buf_addf_formats_long_text(void **state)
{
	struct zf_buf b = ZF_BUF_INIT(4096);
	char arg[1000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(arg) - 1; i++)
		arg[i] = (char)('a' + i % 26);
	arg[sizeof(arg) - 1] = '\0';
	/* longer than addf's on-stack first attempt */
	assert_int_equal(zf_buf_addf(&b, "<%s|%d>", arg, 42), ZF_OK);
	assert_int_equal(b.len, strlen(arg) + 5);
	assert_memory_equal(b.data + 1, arg, strlen(arg));
	assert_string_equal(b.data + 1 + strlen(arg), "|42>");
	zf_buf_release(&b);
}

static void
test_buf_add_trunc_keeps_what_fits_and_counts_the_rest(void **state)
{
	struct zf_buf b = ZF_BUF_INIT(10);

	(void)state;
	zf_buf_add_trunc(&b, "0123456", 7);
	assert_int_equal(b.dropped, 0);
	zf_buf_add_trunc(&b, "789abc", 6);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	assert_int_equal(b.dropped, 3);
	zf_buf_add_trunc(&b, "zzzz", 4);
	assert_string_equal(b.data, "0123456789");
	assert_int_equal(b.dropped, 7);
	zf_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.dropped, 0);
	assert_string_equal(b.data, "");
	zf_buf_add_trunc(&b, "ab", 2);
	assert_string_equal(b.data, "ab");
	zf_buf_release(&b);
}

static void
test_buf_detach_hands_over_a_string(void **state)
{
	struct zf_buf b = ZF_BUF_INIT(64);
	char *s;

	(void)state;
	s = zf_buf_detach(&b); /* never used: still a real "" */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(zf_buf_adds(&b, "hello"), ZF_OK);
	s = zf_buf_detach(&b);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 64);
	free(s);
}

/* --- zf_argv --------------------------------------------------------- */

static void
test_argv_push_copies_its_argument(void **state)
{
	struct zf_argv a = ZF_ARGV_INIT;
	char word[8] = "first";
	char **v;
	size_t i;

	(void)state;
	zf_argv_push(&a, word);
	memcpy(word, "XXXXX", 5);
	for (i = 0; i < 40; i++) /* past the first growth */
		zf_argv_pushf(&a, "n%zu", i);
	assert_true(zf_argv_ok(&a));
	assert_int_equal(a.n, 41);
	assert_string_equal(a.v[0], "first");
	assert_string_equal(a.v[40], "n39");
	assert_null(a.v[41]);
	v = zf_argv_finish(&a);
	assert_non_null(v);
	assert_null(a.v);
	assert_int_equal(a.n, 0);
	assert_int_equal(zf_strv_len((const char *const *)v), 41);
	zf_argv_free_v(v);
}

static void
test_argv_pushf_formats_beyond_its_stack_buffer(void **state)
{
	struct zf_argv a = ZF_ARGV_INIT;
	char arg[2000];

	(void)state;
	memset(arg, 'k', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = '\0';
	zf_argv_pushf(&a, "-o%s=%u", arg, 7u);
	assert_true(zf_argv_ok(&a));
	assert_int_equal(strlen(a.v[0]), 2 + strlen(arg) + 2);
	assert_memory_equal(a.v[0], "-ok", 3);
	assert_string_equal(a.v[0] + 2 + strlen(arg), "=7");
	zf_argv_clear(&a);
}

static void
test_argv_pushf_of_huge_text_is_exact_or_fails_cleanly(void **state)
{
	struct zf_argv a = ZF_ARGV_INIT;
	size_t n = (2u << 20) + 17; /* beyond pushf's internal 1 MiB buffer */
	char *big = malloc(n + 1);

	(void)state;
	assert_non_null(big);
	memset(big, 'h', n);
	big[n] = '\0';
	zf_argv_pushf(&a, "%s", big);
	if (zf_argv_ok(&a)) {
		assert_int_equal(a.n, 1);
		assert_string_equal(a.v[0], big);
	} else {
		assert_true(a.failed);
		assert_int_equal(a.n, 0);
	}
	zf_argv_clear(&a);
	/* zf_argv_push copies any length */
	zf_argv_push(&a, big);
	assert_true(zf_argv_ok(&a));
	assert_string_equal(a.v[0], big);
	zf_argv_clear(&a);
	free(big);
}

static void
test_argv_failure_flag_stops_pushes_and_finish_returns_null(void **state)
{
	struct zf_argv a = ZF_ARGV_INIT;
	const char *const more[] = {"x", "y", NULL};

	(void)state;
	zf_argv_push(&a, "zfs");
	zf_argv_push(&a, "send");
	a.failed = true; /* what a failed allocation leaves behind */
	zf_argv_push(&a, "lost");
	zf_argv_pushf(&a, "%s", "lost");
	zf_argv_pushv(&a, more);
	assert_int_equal(a.n, 2);
	assert_false(zf_argv_ok(&a));
	assert_null(zf_argv_finish(&a)); /* and frees what was pushed */
	assert_null(a.v);
	assert_int_equal(a.n, 0);
	assert_false(a.failed); /* cleared: the vector can be reused */
	zf_argv_push(&a, "again");
	assert_true(zf_argv_ok(&a));
	zf_argv_clear(&a);
}

static void
test_argv_finish_of_empty_vector_is_terminated_array(void **state)
{
	struct zf_argv a = ZF_ARGV_INIT;
	char **v;

	(void)state;
	assert_null(zf_argv_detach(&a)); /* detach: NULL when empty */
	v = zf_argv_finish(&a); /* finish: {NULL} */
	assert_non_null(v);
	assert_null(v[0]);
	zf_argv_free_v(v);
	zf_argv_free_v(NULL);
}

static void
test_argv_detach_hands_over_the_vector(void **state)
{
	struct zf_argv a = ZF_ARGV_INIT;
	char **v;

	(void)state;
	zf_argv_push(&a, "a");
	zf_argv_push(&a, "b");
	v = zf_argv_detach(&a);
	assert_null(a.v);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.cap, 0);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	assert_null(v[2]);
	zf_argv_free_v(v);
}

static void
test_strv_dup_is_a_deep_copy(void **state)
{
	char w0[] = "zfs", w1[] = "receive";
	const char *src[] = {w0, w1, NULL};
	char **d;

	(void)state;
	d = zf_strv_dup(src);
	assert_non_null(d);
	w0[0] = 'X';
	assert_string_equal(d[0], "zfs");
	assert_string_equal(d[1], "receive");
	assert_null(d[2]);
	assert_true(d[0] != w0 && d[1] != w1);
	zf_argv_free_v(d);
	d = zf_strv_dup(NULL);
	assert_non_null(d);
	assert_null(d[0]);
	zf_argv_free_v(d);
	assert_int_equal(zf_strv_len(NULL), 0);
}

/* --- zf_escape ------------------------------------------------------- */

static void
test_escape_every_byte_matches_the_documented_form(void **state)
{
	unsigned c;

	(void)state;
	for (c = 0; c < 256; c++) {
		char src[1] = {(char)c};
		char out[16], want[8];
		size_t n;

		expected_escape((unsigned char)c, want);
		n = zf_escape(out, sizeof(out), src, 1);
		assert_string_equal(out, want);
		assert_int_equal(n, strlen(want));
		assert_printable(out);
	}
}

static void
test_escape_all_bytes_in_one_string_round_trip_in_order(void **state)
{
	char src[256], out[256 * 4 + 1], want[256 * 4 + 1];
	size_t o = 0;
	unsigned c;

	(void)state;
	for (c = 0; c < 256; c++) {
		char one[8];

		src[c] = (char)c;
		expected_escape((unsigned char)c, one);
		memcpy(want + o, one, strlen(one));
		o += strlen(one);
	}
	want[o] = '\0';
	/* exactly big enough: no "..." */
	assert_int_equal(zf_escape(out, o + 1, src, sizeof(src)), o);
	assert_string_equal(out, want);
	assert_printable(out);
}

/*
 * For every destination size, the output is NUL-terminated, no longer than
 * dstsz - 1, never written past dstsz, and made of whole escapes of a
 * prefix of the input (plus "..." when cut).
 */
static void
test_escape_truncation_never_splits_an_escape(void **state)
{
	static const char src[] = "a\x1b[31mb\\c\nd\xff\xfe"
	                          "e\tf\x01g\x7fh";
	size_t srclen = sizeof(src) - 1;
	size_t bound[sizeof(src)];
	char full[sizeof(src) * 4 + 1];
	size_t i, o = 0, dstsz;

	(void)state;
	bound[0] = 0;
	for (i = 0; i < srclen; i++) {
		char one[8];

		expected_escape((unsigned char)src[i], one);
		memcpy(full + o, one, strlen(one));
		o += strlen(one);
		bound[i + 1] = o;
	}
	full[o] = '\0';
	for (dstsz = 1; dstsz <= o + 2; dstsz++) {
		char dst[sizeof(full) + 16];
		size_t n, keep;
		bool at_boundary = false;

		memset(dst, 0x5a, sizeof(dst));
		n = zf_escape(dst, dstsz, src, srclen);
		assert_int_equal(dst[n], '\0');
		assert_int_equal(strlen(dst), n);
		assert_true(n <= dstsz - 1);
		for (i = dstsz; i < sizeof(dst); i++)
			assert_int_equal((unsigned char)dst[i], 0x5a);
		assert_printable(dst);
		if (dstsz > o) {
			assert_string_equal(dst, full);
			continue;
		}
		/* cut: "..." when there is room for it */
		keep = n;
		if (dstsz > 4) {
			assert_true(n >= 3);
			assert_string_equal(dst + n - 3, "...");
			keep = n - 3;
		}
		assert_memory_equal(dst, full, keep);
		for (i = 0; i <= srclen; i++)
			if (bound[i] == keep)
				at_boundary = true;
		if (!at_boundary)
			fail_msg("dstsz %zu: cut inside an escape: \"%s\"",
			    dstsz, dst);
	}
}

static void
test_escape_zero_size_writes_nothing(void **state)
{
	char dst[4] = {'z', 'z', 'z', 'z'};

	(void)state;
	assert_int_equal(zf_escape(dst, 0, "abc", 3), 0);
	assert_memory_equal(dst, "zzzz", 4);
	assert_int_equal(zf_escape(dst, 1, "abc", 3), 0);
	assert_string_equal(dst, "");
}

static void
test_escape_stops_at_len_not_at_nul(void **state)
{
	char dst[32];

	(void)state;
	assert_int_equal(zf_escape(dst, sizeof(dst), "a\0b", 3), 6);
	assert_string_equal(dst, "a\\x00b");
	assert_int_equal(zf_escape(dst, sizeof(dst), "abcdef", 2), 2);
	assert_string_equal(dst, "ab");
}

/* --- errors ---------------------------------------------------------- */

static void
test_fail_first_failure_wins(void **state)
{
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	assert_int_equal(err.code, ZF_OK);
	assert_int_equal(err.child_status, -1);
	assert_int_equal(zf_fail(&err, ZF_E_SPAWN, "cannot start '%s'", "zfs"),
	    ZF_E_SPAWN);
	assert_int_equal(zf_fail(&err, ZF_E_TIMEOUT, "later %d", 2),
	    ZF_E_TIMEOUT); /* still returns its own code */
	assert_int_equal(zf_fail_errno(&err, EIO, "later"), ZF_E_SYS);
	assert_int_equal(zf_fail_input(&err, "later"), ZF_E_INVALID);
	assert_int_equal(err.code, ZF_E_SPAWN);
	assert_string_equal(err.msg, "cannot start 'zfs'");
	assert_int_equal(err.sys_errno, 0);
	assert_int_equal(err.stage, ZF_STAGE_NONE);
}

static void
test_fail_with_null_error_returns_the_code(void **state)
{
	(void)state;
	assert_int_equal(zf_fail(NULL, ZF_E_CHILD, "x"), ZF_E_CHILD);
	assert_int_equal(zf_fail_errno(NULL, ENOMEM, "x"), ZF_E_NOMEM);
	assert_int_equal(zf_fail_input(NULL, "x"), ZF_E_INVALID);
	zf_error_prefix(NULL, "ctx");
	zf_error_set_stage(NULL, ZF_STAGE_SSH);
	zf_error_clear(NULL);
}

static void
test_fail_escapes_control_characters_in_the_message(void **state)
{
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	zf_fail(&err, ZF_E_CHILD, "zfs said '%s'",
	    "line1\nline2\x1b[2J\r\tend\\\xc3\xa9");
	assert_string_equal(err.msg,
	    "zfs said 'line1\\nline2\\x1b[2J\\r\\tend\\\\\\xc3\\xa9'");
	assert_printable(err.msg);
}

static void
test_fail_cuts_long_messages_with_an_ellipsis(void **state)
{
	struct zf_error err;
	char *big = malloc(5000);

	(void)state;
	assert_non_null(big);
	memset(big, '\n', 4999); /* each becomes two bytes */
	big[4999] = '\0';
	zf_error_clear(&err);
	zf_fail(&err, ZF_E_CHILD, "%s", big);
	assert_true(strlen(err.msg) <= sizeof(err.msg) - 1);
	assert_true(strlen(err.msg) >= sizeof(err.msg) - 4);
	assert_string_equal(err.msg + strlen(err.msg) - 3, "...");
	/* whole "\n" escapes only, before the "..." */
	assert_int_equal((strlen(err.msg) - 3) % 2, 0);
	assert_printable(err.msg);
	free(big);
}

static void
test_fail_errno_appends_strerror_and_records_errno(void **state)
{
	struct zf_error err;
	char want[128];

	(void)state;
	zf_error_clear(&err);
	assert_int_equal(zf_fail_errno(&err, ENOENT, "cannot open '%s'", "k"),
	    ZF_E_SYS);
	snprintf(want, sizeof(want), "cannot open 'k': %s", strerror(ENOENT));
	assert_string_equal(err.msg, want);
	assert_int_equal(err.sys_errno, ENOENT);
	zf_error_clear(&err);
	assert_int_equal(zf_fail_errno(&err, ENOMEM, "malloc"), ZF_E_NOMEM);
	assert_int_equal(err.code, ZF_E_NOMEM);
}

static void
test_fail_input_sets_the_input_stage(void **state)
{
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	zf_fail_input(&err, "bad %s", "thing");
	assert_int_equal(err.code, ZF_E_INVALID);
	assert_int_equal(err.stage, ZF_STAGE_INPUT);
	assert_string_equal(err.msg, "bad thing");
}

static void
test_error_prefix_prepends_escaped_context(void **state)
{
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	zf_error_prefix(&err, "ignored"); /* no error yet: no-op */
	assert_string_equal(err.msg, "");
	zf_fail(&err, ZF_E_CHILD, "zfs receive exited 1");
	zf_error_prefix(&err, "sending '%s'", "pool/a\n@s");
	assert_string_equal(err.msg,
	    "sending 'pool/a\\n@s': zfs receive exited 1");
	zf_error_prefix(&err, "job %d", 3);
	assert_string_equal(err.msg,
	    "job 3: sending 'pool/a\\n@s': zfs receive exited 1");
	assert_int_equal(err.code, ZF_E_CHILD);
}

static void
test_error_prefix_cut_keeps_subject_and_whole_escapes(void **state)
{
	struct zf_error err;
	char raw[800];
	size_t i, n;

	(void)state;
	/* 800 ESC bytes escape to 3200 bytes: the message is already cut */
	memset(raw, 0x1b, sizeof(raw) - 1);
	raw[sizeof(raw) - 1] = '\0';
	for (i = 0; i < 4; i++) {
		zf_error_clear(&err);
		zf_fail(&err, ZF_E_CHILD, "%.*s%s", (int)i, "xxx", raw);
		zf_error_prefix(&err, "subject");
		n = strlen(err.msg);
		assert_true(n <= sizeof(err.msg) - 1);
		assert_memory_equal(err.msg, "subject: ", 9);
		assert_string_equal(err.msg + n - 3, "...");
		assert_printable(err.msg);
		/* what stays before "..." ends on a whole "\x1b" */
		if (n - 3 > 9 + i)
			assert_int_equal((n - 3 - 9 - i) % 4, 0);
	}
}

static void
test_error_set_stage_keeps_the_first(void **state)
{
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	zf_error_set_stage(&err, ZF_STAGE_SSH);
	zf_error_set_stage(&err, ZF_STAGE_RECV);
	assert_int_equal(err.stage, ZF_STAGE_SSH);
}

static void
test_status_and_stage_names(void **state)
{
	int i;

	(void)state;
	assert_string_equal(zf_status_str(ZF_OK), "success");
	assert_string_equal(zf_status_str(ZF_E_INVALID), "invalid input");
	assert_string_equal(zf_stage_str(ZF_STAGE_SEND), "zfs send");
	assert_string_equal(zf_stage_str(ZF_STAGE_SSH), "ssh");
	assert_string_equal(zf_stage_str(ZF_STAGE_RECV), "zfs receive");
	for (i = ZF_OK; i <= ZF_E_UNSUPPORTED; i++) {
		assert_string_not_equal(zf_status_str((enum zf_status)i),
		    "unknown error");
		assert_printable(zf_status_str((enum zf_status)i));
	}
	for (i = ZF_STAGE_NONE; i <= ZF_STAGE_TOKEN; i++)
		assert_string_not_equal(zf_stage_str((enum zf_stage)i),
		    "unknown");
	assert_string_equal(zf_status_str((enum zf_status)999),
	    "unknown error");
}

/* --- small helpers --------------------------------------------------- */

static void
test_sat_add_saturates_at_the_maximum(void **state)
{
	(void)state;
	assert_true(zf_sat_add(1, 2) == 3);
	assert_true(zf_sat_add(0, UINT64_MAX) == UINT64_MAX);
	assert_true(zf_sat_add(UINT64_MAX - 1, 1) == UINT64_MAX);
	assert_true(zf_sat_add(UINT64_MAX - 1, 2) == UINT64_MAX);
	assert_true(zf_sat_add(UINT64_MAX, UINT64_MAX) == UINT64_MAX);
	assert_true(
	    zf_sat_add((uint64_t)1 << 63, (uint64_t)1 << 63) == UINT64_MAX);
	assert_true(zf_sat_add(((uint64_t)1 << 63) - 1, (uint64_t)1 << 63) ==
	    UINT64_MAX);
}

static void
test_strlcpy_ok_refuses_to_truncate(void **state)
{
	char d[6];

	(void)state;
	assert_true(zf_strlcpy_ok(d, "hello", sizeof(d)));
	assert_string_equal(d, "hello");
	assert_false(zf_strlcpy_ok(d, "hello!", sizeof(d)));
	assert_string_equal(d, "");
	assert_true(zf_strlcpy_ok(d, "", sizeof(d)));
	assert_false(zf_strlcpy_ok(d, "a", 1));
	assert_null(zf_strdup0(NULL));
}

static void
test_now_ns_is_monotonic(void **state)
{
	uint64_t a, b;
	int i;

	(void)state;
	a = zf_now_ns();
	assert_true(a > 0);
	for (i = 0; i < 1000; i++) {
		b = zf_now_ns();
		assert_true(b >= a);
		a = b;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_add_up_to_max_succeeds),
	    cmocka_unit_test(
	        test_buf_add_beyond_max_fails_and_leaves_buffer_unchanged),
	    cmocka_unit_test(test_buf_max_zero_holds_only_the_empty_string),
	    cmocka_unit_test(test_buf_unlimited_max_still_allocates_enough),
	    cmocka_unit_test(test_buf_addf_formats_long_text),
	    cmocka_unit_test(
	        test_buf_add_trunc_keeps_what_fits_and_counts_the_rest),
	    cmocka_unit_test(test_buf_detach_hands_over_a_string),
	    cmocka_unit_test(test_argv_push_copies_its_argument),
	    cmocka_unit_test(test_argv_pushf_formats_beyond_its_stack_buffer),
	    cmocka_unit_test(
	        test_argv_pushf_of_huge_text_is_exact_or_fails_cleanly),
	    cmocka_unit_test(
	        test_argv_failure_flag_stops_pushes_and_finish_returns_null),
	    cmocka_unit_test(
	        test_argv_finish_of_empty_vector_is_terminated_array),
	    cmocka_unit_test(test_argv_detach_hands_over_the_vector),
	    cmocka_unit_test(test_strv_dup_is_a_deep_copy),
	    cmocka_unit_test(
	        test_escape_every_byte_matches_the_documented_form),
	    cmocka_unit_test(
	        test_escape_all_bytes_in_one_string_round_trip_in_order),
	    cmocka_unit_test(test_escape_truncation_never_splits_an_escape),
	    cmocka_unit_test(test_escape_zero_size_writes_nothing),
	    cmocka_unit_test(test_escape_stops_at_len_not_at_nul),
	    cmocka_unit_test(test_fail_first_failure_wins),
	    cmocka_unit_test(test_fail_with_null_error_returns_the_code),
	    cmocka_unit_test(
	        test_fail_escapes_control_characters_in_the_message),
	    cmocka_unit_test(test_fail_cuts_long_messages_with_an_ellipsis),
	    cmocka_unit_test(
	        test_fail_errno_appends_strerror_and_records_errno),
	    cmocka_unit_test(test_fail_input_sets_the_input_stage),
	    cmocka_unit_test(test_error_prefix_prepends_escaped_context),
	    cmocka_unit_test(
	        test_error_prefix_cut_keeps_subject_and_whole_escapes),
	    cmocka_unit_test(test_error_set_stage_keeps_the_first),
	    cmocka_unit_test(test_status_and_stage_names),
	    cmocka_unit_test(test_sat_add_saturates_at_the_maximum),
	    cmocka_unit_test(test_strlcpy_ok_refuses_to_truncate),
	    cmocka_unit_test(test_now_ns_is_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
