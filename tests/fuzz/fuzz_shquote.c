/*
 * fuzz_shquote: zf_sh_quote, the only place zferry writes a shell command
 * (the one ssh hands to the remote shell), and zf_cmd_describe, which
 * shows commands to people.
 *
 * Checks: the quoted text is read back by a POSIX shell's rules for
 * single quotes (fz_sh_words in fuzz.h) as exactly the words given,
 * each one word, with nothing outside quotes but spaces, \' and \\; a result
 * over the limit fails and leaves the buffer as it was; a description is
 * printable and fits.
 *
 * Input: byte 0 picks the buffer limit and the description size; the rest
 * is the words, separated by NUL bytes.
 */
#include "fuzz.h"

#include "cmd.h"

#define MAX_WORDS 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = {ZF_REMOTE_CMD_MAX, 64, 16, 3, 0};
	const char *argv[MAX_WORDS + 1];
	struct zf_buf b;
	struct zf_error err;
	enum zf_status r;
	char *words, *back, *desc;
	size_t nw = 0, i, dsz, blen, off[MAX_WORDS];
	bool op[MAX_WORDS];
	int got;

	if (size < 1)
		return 0;
	/* the words: NUL-separated, the last one ended by the copy's NUL */
	words = fz_str(data + 1, size - 1);
	for (i = 0; i < size - 1 && nw < MAX_WORDS; i++) {
		argv[nw++] = words + i;
		i += strlen(words + i);
	}
	argv[nw] = NULL;

	zf_buf_init(&b, limits[data[0] % ZF_ARRAY_SIZE(limits)]);
	if (b.max >= 2 && zf_buf_add(&b, "A ", 2) != ZF_OK)
		abort();
	blen = b.len;
	zf_error_clear(&err);
	r = zf_sh_quote(&b, argv, &err);
	if (r != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		FZ_CHECK(b.len == blen &&
		        (b.data == NULL ||
		            (b.data[blen] == '\0' &&
		                memcmp(b.data, "A ", blen) == 0)),
		    "a failed quote changed the buffer");
	} else {
		FZ_CHECK(b.len <= b.max, "%zu bytes over %zu", b.len, b.max);
		back = malloc(size + 1);
		if (back == NULL)
			abort();
		got = fz_sh_words(b.data != NULL ? b.data + blen : "",
		    b.len - blen, back, size + 1, off, op, MAX_WORDS);
		FZ_CHECK(got == (int)nw, "%zu words read back as %d: %s", nw,
		    got, b.data);
		for (i = 0; i < nw; i++)
			FZ_CHECK(!op[i] && strcmp(back + off[i], argv[i]) == 0,
			    "word %zu '%s' read back as '%s'", i, argv[i],
			    back + off[i]);
		free(back);
	}
	zf_buf_release(&b);

	dsz = (size_t)(data[0] >> 3) * 8 + 1;
	desc = malloc(dsz);
	if (desc == NULL)
		abort();
	zf_cmd_describe(desc, dsz, argv);
	FZ_CHECK(memchr(desc, '\0', dsz) != NULL && fz_printable(desc),
	    "description '%s'", desc);
	free(desc);
	free(words);
	return 0;
}
