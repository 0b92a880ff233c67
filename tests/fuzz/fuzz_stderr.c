/*
 * fuzz_stderr: what zferry does with the stderr of a failed zfs or ssh,
 * local or remote, before anyone sees it: zf_classify (which stage failed,
 * transient or not), zf_stderr_line (one line), zf_escape (no control
 * character survives), and the error record they end up in (zf_fail,
 * zf_error_prefix).
 *
 * Checks: the verdict names the stage that ran, or ssh (remote only); the
 * line fits, holds no CR or LF and no blank at either end; escaped text is
 * printable ASCII that fits, and decodes back to the input (or, cut short,
 * to a prefix of it, marked by "..."); every error message is printable
 * and undoes into escapes that zf_escape() writes.
 *
 * Input: byte 0: stage (bits 0-1) and remote (bit 2); byte 1: exit code;
 * byte 2: the size of the output buffers; the rest is the stderr text.
 */
#include "fuzz.h"

#include "zfs.h"

static void
check_escape(const char *text, size_t len, size_t outsz)
{
	char *out = malloc(outsz > 0 ? outsz : 1), *back;
	size_t n, blen, full = 0, i;

	if (out == NULL)
		abort();
	out[0] = 'Z';
	n = zf_escape(out, outsz, text, len);
	if (outsz == 0) {
		FZ_CHECK(n == 0 && out[0] == 'Z',
		    "zf_escape wrote into 0 bytes");
		free(out);
		return;
	}
	FZ_CHECK(n < outsz && strlen(out) == n, "length %zu of %zu", n, outsz);
	FZ_CHECK(fz_printable(out), "unprintable escape '%s'", out);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		full += c == '\n' || c == '\t' || c == '\r' || c == '\\' ? 2
		    : c < 0x20 || c >= 0x7f                              ? 4
		                                                         : 1;
	}
	back = malloc(len + 1);
	if (back == NULL)
		abort();
	if (full < outsz) {
		FZ_CHECK(n == full, "escaped %zu bytes, want %zu", n, full);
		FZ_CHECK(fz_unescape(out, n, back, len + 1, &blen) &&
		        blen == len && memcmp(back, text, len) == 0,
		    "'%s' does not decode to the input", out);
	} else if (outsz > 4) {
		FZ_CHECK(n >= 3 && memcmp(out + n - 3, "...", 3) == 0,
		    "a cut without '...': '%s'", out);
		FZ_CHECK(fz_unescape(out, n - 3, back, len + 1, &blen) &&
		        blen <= len && memcmp(back, text, blen) == 0,
		    "cut '%s' is not a prefix of the input", out);
	} else {
		FZ_CHECK(n == 0, "%zu bytes in %zu", n, outsz);
	}
	free(back);
	free(out);
}

/* An error message: escapes as zf_escape() writes them, maybe cut. */
static void
check_msg(const struct zf_error *err)
{
	size_t n = strlen(err->msg), blen;
	char back[ZF_ERRMSG_MAX];

	fz_check_error(err, err->code);
	if (n >= 3 && memcmp(err->msg + n - 3, "...", 3) == 0)
		n -= 3;
	FZ_CHECK(fz_unescape(err->msg, n, back, sizeof(back), &blen),
	    "message '%s' holds a broken escape", err->msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum zf_stage stages[] = {ZF_STAGE_SEND, ZF_STAGE_RECV,
	    ZF_STAGE_PROBE, ZF_STAGE_LIST};
	enum zf_stage stage;
	struct zf_verdict v;
	struct zf_error err;
	bool remote;
	size_t len, sz, i;
	char *text, *line;
	int code;

	if (size < 3)
		return 0;
	stage = stages[data[0] & 3];
	remote = (data[0] & 4) != 0;
	code = data[1];
	sz = data[2] < 250 ? data[2] : (size_t)ZF_ERRMSG_MAX;
	len = size - 3;
	text = fz_bytes(data + 3, len);

	v = zf_classify(stage, remote, code, text, len);
	FZ_CHECK(v.stage == stage || (remote && v.stage == ZF_STAGE_SSH),
	    "stage %d for %d (remote %d)", (int)v.stage, (int)stage,
	    (int)remote);

	line = malloc(sz > 0 ? sz : 1);
	if (line == NULL)
		abort();
	if (sz > 0) {
		zf_stderr_line(line, sz, text, len);
		FZ_CHECK(memchr(line, '\0', sz) != NULL, "line not terminated");
		for (i = 0; line[i] != '\0'; i++)
			FZ_CHECK(line[i] != '\n' && line[i] != '\r',
			    "a line break in the line");
		FZ_CHECK(i == 0 ||
		        (line[0] != ' ' && line[0] != '\t' &&
		            line[i - 1] != ' ' && line[i - 1] != '\t'),
		    "blank at an end of '%s'", line);
		check_escape(line, strlen(line), sz);
	}
	check_escape(text, len, sz);

	/* the record the text ends up in, as zf_child_failure() fills it */
	zf_error_clear(&err);
	zf_fail(&err, ZF_E_CHILD, "zfs receive on '%s' failed (exit %d): %s",
	    "h", code, sz > 0 ? line : "");
	check_msg(&err);
	zf_error_prefix(&err, "'%.*s' to 'b'", (int)(len < 300 ? len : 300),
	    text);
	check_msg(&err);
	free(line);
	free(text);
	return 0;
}
