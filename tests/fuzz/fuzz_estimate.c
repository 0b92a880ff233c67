/*
 * fuzz_estimate: what zferry reads from zfs send: the size estimate of
 * "zfs send -nvP" (zf_parse_estimate) and the progress lines of "zfs send
 * -vP" (zf_parse_progress_line).  Both read text from a possibly remote
 * host, given as (pointer, length) without a NUL: the buffers here are
 * exactly that long, so a read past the end is caught.
 *
 * Checks: an estimate is unknown or at most 2^63 (the clamp of OpenZFS's
 * underflow), and unknown when no size/full/incremental line is there; a
 * progress line that is accepted has the HH:MM:SS<tab> prefix, its byte
 * count is the decimal of the second field, and its snapshot is the last
 * field, fits the buffer, and holds no tab or other control character.
 *
 * Input: byte 0 picks the size of the snapshot buffer, the rest is text.
 */
#include "fuzz.h"

#include "zfs.h"

static bool
has_word(const char *text, size_t len, const char *w)
{
	return memmem(text, len, w, strlen(w)) != NULL;
}

static void
check_progress(const char *line, size_t len, size_t snapsz)
{
	char *snap = malloc(snapsz), *copy, *end;
	const char *last;
	uint64_t bytes = 12345;
	unsigned long long want;
	size_t n, i;

	if (snap == NULL)
		abort();
	memset(snap, 'Z', snapsz);
	if (!zf_parse_progress_line(line, len, &bytes, snap, snapsz)) {
		FZ_CHECK(bytes == 12345, "bytes written on failure");
		free(snap);
		return;
	}
	n = len > 0 && line[len - 1] == '\n' ? len - 1 : len;
	FZ_CHECK(n >= 10 && line[2] == ':' && line[5] == ':' && line[8] == '\t',
	    "prefix of '%.*s'", (int)n, line);
	for (i = 0; i < 8; i++)
		FZ_CHECK(i == 2 || i == 5 || (line[i] >= '0' && line[i] <= '9'),
		    "time of '%.*s'", (int)n, line);
	FZ_CHECK(memchr(snap, '\0', snapsz) != NULL, "snapshot not terminated");
	FZ_CHECK(snap[0] != '\0' && strlen(snap) < snapsz, "snapshot '%s'",
	    snap);
	for (i = 0; snap[i] != '\0'; i++)
		FZ_CHECK((unsigned char)snap[i] >= 0x20 && snap[i] != 0x7f,
		    "snapshot '%s' holds a control character", snap);
	/* the snapshot is the last field */
	for (last = line + n; last > line && last[-1] != '\t'; last--)
		;
	FZ_CHECK((size_t)(line + n - last) == strlen(snap) &&
	        memcmp(last, snap, strlen(snap)) == 0,
	    "snapshot '%s' is not the last field", snap);
	/* the byte count is the second field, in decimal */
	copy = fz_str((const uint8_t *)line + 9, n - 9);
	FZ_CHECK(copy[0] >= '0' && copy[0] <= '9', "bytes field '%s'", copy);
	errno = 0;
	want = strtoull(copy, &end, 10);
	FZ_CHECK(errno == 0 && *end == '\t' && want == bytes,
	    "bytes %" PRIu64 " from '%s'", bytes, copy);
	free(copy);
	free(snap);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p, *end, *nl;
	char *text;
	size_t len, snapsz;
	uint64_t est;

	if (size < 1)
		return 0;
	snapsz = data[0] < 200 ? (size_t)data[0] + 1 : 256;
	len = size - 1;
	text = fz_bytes(data + 1, len);
	est = zf_parse_estimate(text, len);
	FZ_CHECK(est == UINT64_MAX || est <= (1ull << 63), "estimate %" PRIu64,
	    est);
	if (!has_word(text, len, "size\t") && !has_word(text, len, "full\t") &&
	    !has_word(text, len, "incremental\t"))
		FZ_CHECK(est == UINT64_MAX, "estimate %" PRIu64 " from nothing",
		    est);
	/* each line on its own, in a buffer of its exact size, and all */
	for (p = text, end = text + len; p < end; p = nl + 1) {
		char *line;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		line = fz_bytes((const uint8_t *)p, (size_t)(nl - p));
		check_progress(line, (size_t)(nl - p), snapsz);
		free(line);
		if (nl == end)
			break;
	}
	check_progress(text, len, snapsz);
	free(text);
	return 0;
}
