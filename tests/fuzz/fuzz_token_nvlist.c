/*
 * fuzz_token_nvlist: the packed nvlist inside a resume token.  The input
 * is the nvlist itself; the harness compresses it, checksums it and
 * writes it out as a well-formed token, so that every input reaches the
 * nvlist reader (src/lib/nvlist.c) and the field checks of
 * zf_token_decode() (a forged token of openzfs/zfs#14153 is built just
 * so).  The checks of the decoded token are those of token_check.h.
 *
 * The reader is also driven directly, over a buffer of exactly the input's
 * size: every pair it hands out points inside the buffer, its accessors
 * accept exactly the types they document, and a list the reader refuses
 * is never a token that decodes.
 *
 * Input: a packed nvlist (NV_ENCODE_NATIVE or NV_ENCODE_XDR).
 */
#include <zlib.h>

#include "token_check.h"

#include "nvlist.h"

/* fletcher_4 word 0 of zfs: the sum of the 32-bit words, host order. */
static uint64_t
fletcher4_a(const unsigned char *p, size_t n)
{
	uint64_t a = 0;
	uint32_t w;
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		memcpy(&w, p + i, sizeof(w));
		a += w;
	}
	return a;
}

static bool
inside(const void *p, size_t n, const char *buf, size_t len)
{
	const char *c = p;

	return c >= buf && c <= buf + len && n <= (size_t)(buf + len - c);
}

/* Reads the list directly; true when the reader takes all of it. */
static bool
read_list(const char *buf, size_t len)
{
	struct zf_nvl nvl;
	struct zf_nvpair p;
	struct zf_error err;
	enum zf_status r;
	bool more;
	size_t count = 0;
	uint64_t v;
	char *str;

	zf_error_clear(&err);
	r = zf_nvl_open(&nvl, buf, len, &err);
	while (r == ZF_OK &&
	    (r = zf_nvl_next(&nvl, &p, &more, &err)) == ZF_OK && more) {
		FZ_CHECK(++count <= len, "more pairs than bytes");
		/* libnvpair takes an empty name ("", nvp_name_sz 1) too */
		FZ_CHECK(inside(p.name, p.name_len, buf, len),
		    "pair name outside the buffer");
		FZ_CHECK(p.offset < len, "offset %zu of %zu", p.offset, len);
		FZ_CHECK((zf_nvpair_uint64(&p, &v, NULL) == ZF_OK) ==
		        (p.type == ZF_NVT_UINT64),
		    "uint64 accessor on type %d", (int)p.type);
		FZ_CHECK(zf_nvpair_uint64_at(&p, p.nelem, &v, NULL) != ZF_OK,
		    "element %u of %u", p.nelem, p.nelem);
		if (p.type == ZF_NVT_UINT64_ARRAY && p.nelem > 0) {
			FZ_CHECK(inside(p.arr, (size_t)p.nelem * 8, buf, len),
			    "array outside the buffer");
			FZ_CHECK(zf_nvpair_uint64_at(&p, p.nelem - 1, &v,
			             NULL) == ZF_OK,
			    "last element of %u", p.nelem);
		}
		if (p.type == ZF_NVT_STRING) {
			FZ_CHECK(inside(p.str, p.str_len, buf, len),
			    "string outside the buffer");
			str = malloc(p.str_len + 1);
			if (str == NULL)
				abort();
			FZ_CHECK(zf_nvpair_string(&p, str, p.str_len + 1,
			             NULL) == ZF_OK &&
			        memcmp(str, p.str, p.str_len) == 0 &&
			        str[p.str_len] == '\0',
			    "string of %zu bytes", p.str_len);
			FZ_CHECK(zf_nvpair_string(&p, str, p.str_len, NULL) !=
			            ZF_OK &&
			        (p.str_len == 0 || str[0] == '\0'),
			    "a string that does not fit");
			free(str);
		} else {
			char one[4] = "abc";

			FZ_CHECK(zf_nvpair_string(&p, one, sizeof(one), NULL) !=
			            ZF_OK &&
			        one[0] == '\0',
			    "string accessor on type %d", (int)p.type);
		}
	}
	if (r != ZF_OK) {
		fz_check_error(&err, r);
		FZ_CHECK(r == ZF_E_PROTOCOL, "status %d", (int)r);
	}
	return r == ZF_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	struct zf_resume_token tok;
	unsigned char *comp;
	uLongf clen;
	char *buf, *text, *t;
	bool list_ok;
	size_t i;

	if (size == 0 || size > ZF_TOKEN_PACKED_MAX)
		return 0;
	buf = fz_bytes(data, size);
	list_ok = read_list(buf, size);

	clen = compressBound(size);
	comp = malloc(clen);
	text = malloc(64 + 2 * (size_t)clen);
	if (comp == NULL || text == NULL ||
	    compress2(comp, &clen, data, size, Z_BEST_SPEED) != Z_OK)
		abort();
	t = text +
	    snprintf(text, 64, "1-%" PRIx64 "-%zx-", fletcher4_a(comp, clen),
	        size);
	for (i = 0; i < clen; i++) {
		*t++ = hex[comp[i] >> 4];
		*t++ = hex[comp[i] & 15];
	}
	*t = '\0';
	fz_check_token(text);
	if (!list_ok)
		FZ_CHECK(zf_token_decode(text, &tok, NULL) != ZF_OK,
		    "a token decodes from a list the reader refuses");
	free(text);
	free(comp);
	free(buf);
	return 0;
}
