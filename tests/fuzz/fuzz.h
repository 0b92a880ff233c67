/*
 * fuzz.h: what the libFuzzer harnesses of tests/fuzz share.  Each harness
 * checks invariants, not only "does not crash": a broken one is reported
 * with FZ_CHECK(), which prints what failed and aborts (libFuzzer then
 * saves the input as a crash-* artifact).
 *
 * Inputs are copied into buffers of exactly their size (fz_bytes) or with
 * a NUL (fz_str), so that AddressSanitizer catches a read past the end.
 */
#ifndef ZF_FUZZ_H
#define ZF_FUZZ_H

#include "compat.h"

#include "zferry/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond, ...)                                                    \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
			    __LINE__, #cond);                                  \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* A copy of data[0..n) with a NUL after it (an inner NUL ends the string). */
static inline char *
fz_str(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	if (n > 0)
		memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

/* A copy of data[0..n) in a buffer of exactly n bytes (1 when n is 0). */
static inline char *
fz_bytes(const uint8_t *data, size_t n)
{
	char *s = malloc(n > 0 ? n : 1);

	if (s == NULL)
		abort();
	if (n > 0)
		memcpy(s, data, n);
	return s;
}

/* Every byte of s (NUL-terminated) is printable ASCII, 0x20 to 0x7e. */
static inline bool
fz_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static inline int
fz_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Undoes zf_escape(): \n \t \r \\ and \xNN (lowercase hex).  Writes at
 * most outsz bytes to out and their number to *outlen.  False when esc
 * is not what zf_escape() writes: a lone backslash, another escape, or
 * an escape of a byte that zf_escape() leaves as it is.
 */
static inline bool
fz_unescape(const char *esc, size_t esclen, char *out, size_t outsz,
    size_t *outlen)
{
	size_t i = 0, o = 0;

	while (i < esclen) {
		unsigned char c = (unsigned char)esc[i];

		if (o >= outsz)
			return false;
		if (c != '\\') {
			if (c < 0x20 || c > 0x7e)
				return false;
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (i + 1 >= esclen)
			return false;
		switch (esc[i + 1]) {
		case 'n':
			out[o++] = '\n';
			i += 2;
			continue;
		case 't':
			out[o++] = '\t';
			i += 2;
			continue;
		case 'r':
			out[o++] = '\r';
			i += 2;
			continue;
		case '\\':
			out[o++] = '\\';
			i += 2;
			continue;
		case 'x': {
			int h, l;

			if (i + 3 >= esclen)
				return false;
			h = fz_hexval(esc[i + 2]);
			l = fz_hexval(esc[i + 3]);
			if (h < 0 || l < 0)
				return false;
			c = (unsigned char)(h << 4 | l);
			/* printable bytes and the named escapes are not \x */
			if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ||
			    c == '\r')
				return false;
			out[o++] = (char)c;
			i += 4;
			continue;
		}
		default:
			return false;
		}
	}
	*outlen = o;
	return true;
}

/*
 * The invariants of every error record a check fills: a known code, and a
 * message that is one NUL-terminated line of printable ASCII.
 */
static inline void
fz_check_error(const struct zf_error *err, enum zf_status want)
{
	FZ_CHECK(err->code == want, "code %d, want %d (%s)", (int)err->code,
	    (int)want, err->msg);
	FZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL,
	    "message not terminated");
	FZ_CHECK(fz_printable(err->msg), "unprintable message '%s'", err->msg);
	FZ_CHECK(want == ZF_OK || err->msg[0] != '\0', "empty message");
}

/*
 * Words as a POSIX shell reads text made of single-quoted strings, \'
 * and \\, and unquoted "operators" (any other run of bytes up to a space),
 * separated by single spaces.  For zf_sh_quote() output, which writes
 * only quoted words, this is the shell's reading: inside '...' every
 * byte but ' is literal.  Word i is at words + off[i] (NUL-terminated),
 * op[i] tells an operator (those are the caller's to check).  Returns the
 * number of words, or -1 on anything else: two spaces, a space at either
 * end, an unterminated quote, a backslash not before a quote or a
 * backslash, a backslash inside quotes (fish would read it as an escape),
 * a quote right after an operator, or more than max words.
 */
static inline int
fz_sh_words(const char *text, size_t len, char *words, size_t wsz, size_t *off,
    bool *op, int max)
{
	size_t i = 0, o = 0;
	int n = 0;
	bool in_word = false;

	while (i < len) {
		if (text[i] == ' ') {
			if (!in_word || i + 1 == len || o >= wsz)
				return -1;
			words[o++] = '\0';
			in_word = false;
			i++;
			continue;
		}
		if (!in_word) {
			if (n == max)
				return -1;
			off[n] = o;
			op[n] = text[i] != '\'' && text[i] != '\\';
			n++;
			in_word = true;
		}
		if (op[n - 1]) {
			if (text[i] == '\'' || text[i] == '\\' || o >= wsz)
				return -1;
			words[o++] = text[i++];
			continue;
		}
		if (text[i] == '\\') {
			/* outside quotes only \' and \\ (what zf_sh_quote
			 * writes) */
			if (i + 1 >= len ||
			    (text[i + 1] != '\'' && text[i + 1] != '\\') ||
			    o >= wsz)
				return -1;
			words[o++] = text[i + 1];
			i += 2;
			continue;
		}
		if (text[i] != '\'')
			return -1; /* unquoted text inside a quoted word */
		for (i++; i < len && text[i] != '\''; i++) {
			/* fish would read a backslash in quotes as an escape */
			if (text[i] == '\\' || o >= wsz)
				return -1;
			words[o++] = text[i];
		}
		if (i == len)
			return -1;
		i++;
	}
	if (in_word) {
		if (o >= wsz)
			return -1;
		words[o++] = '\0';
	}
	return n;
}

#endif
