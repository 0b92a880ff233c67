/*
 * fuzz_codec: the stream codec (zf_codec_step), which on a pull decodes
 * what the remote zferry compressed, with libzstd or liblz4.
 *
 * Checks: decoding any bytes, fed and drained through buffers of awkward
 * sizes, ends in done or in a clean ZF_E_PROTOCOL, and every call with
 * room to work makes progress (no endless loop); what the codec compresses
 * decodes to exactly the input; a corrupt or cut frame is never "done".
 *
 * Input: byte 0: bit 0 the algorithm (zstd, lz4), bits 1-3 the input chunk
 * size, bits 4-7 the output buffer size; the rest is the data, decoded as
 * it is and also compressed then decoded.
 */
#include "fuzz.h"

#include "codec.h"

/* Output beyond this is a bomb: stop there (it is not an error). */
#define OUT_MAX (8u << 20)

static const size_t chunks[] = {1, 3, 64, 1000, 4096, 65536, 1 << 20, SIZE_MAX};
static const size_t outs[] = {1, 2, 7, 64, 512, 4096, 65536, 1 << 17, 1, 16,
    100, 8192, 1 << 15, 3, 300, 1 << 16};

/*
 * Runs the codec over in[0..n) feeding chunk bytes at a time into an
 * output buffer of outcap bytes; the output is appended to got (when not
 * NULL).  Returns the status and sets *done.
 */
static enum zf_status
run(struct zf_codec *c, const unsigned char *in, size_t n, size_t chunk,
    size_t outcap, struct zf_buf *got, bool *done, struct zf_error *err)
{
	unsigned char *out = malloc(outcap);
	size_t pos = 0, lim = n < chunk ? n : chunk, total = 0;
	enum zf_status r = ZF_OK;

	if (out == NULL)
		abort();
	*done = false;
	while (total < OUT_MAX) {
		size_t before = pos, opos = 0;
		bool end = lim == n;

		r = zf_codec_step(c, in, lim, &pos, out, outcap, &opos, end,
		    done, err);
		if (r != ZF_OK)
			break;
		FZ_CHECK(pos <= lim && opos <= outcap,
		    "positions out of range");
		if (got != NULL && opos > 0 &&
		    zf_buf_add(got, out, opos) != ZF_OK)
			abort();
		total += opos;
		if (*done)
			break;
		if (pos == lim && !end) {
			lim =
			    n - lim < chunk ? n : lim + chunk; /* more input */
			continue;
		}
		/* with room for output, a step must move something */
		FZ_CHECK(pos > before || opos > 0,
		    "no progress at %zu of %zu (out %zu, end %d)", pos, n,
		    outcap, (int)end);
	}
	free(out);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum zf_compress_alg alg;
	struct zf_codec *c;
	struct zf_error err;
	struct zf_buf comp = ZF_BUF_INIT(64u << 20),
	              back = ZF_BUF_INIT(OUT_MAX);
	size_t chunk, outcap, n;
	const unsigned char *in;
	enum zf_status r;
	bool done;

	if (size < 1)
		return 0;
	alg = data[0] & 1 ? ZF_COMPRESS_LZ4 : ZF_COMPRESS_ZSTD;
	chunk = chunks[(data[0] >> 1) & 7];
	outcap = outs[data[0] >> 4];
	in = data + 1;
	n = size - 1;

	/* decoding what a remote host sent */
	zf_error_clear(&err);
	if (zf_codec_new(&c, alg, false, 0, 0, &err) != ZF_OK)
		abort();
	r = run(c, in, n, chunk, outcap, NULL, &done, &err);
	if (r != ZF_OK) {
		FZ_CHECK(r == ZF_E_PROTOCOL, "status %d", (int)r);
		fz_check_error(&err, r);
	}
	zf_codec_free(c);

	/* what we compress decodes to itself */
	zf_error_clear(&err);
	if (zf_codec_new(&c, alg, true, 1, 0, &err) != ZF_OK)
		abort();
	r = run(c, in, n, chunk, outcap, &comp, &done, &err);
	FZ_CHECK(r == ZF_OK && done, "compressing: %s", err.msg);
	zf_codec_free(c);
	if (zf_codec_new(&c, alg, false, 0, 0, &err) != ZF_OK)
		abort();
	r = run(c, (const unsigned char *)comp.data, comp.len, chunk, outcap,
	    &back, &done, &err);
	FZ_CHECK(r == ZF_OK && done, "decoding our own frame: %s", err.msg);
	FZ_CHECK(back.len == n && (n == 0 || memcmp(back.data, in, n) == 0),
	    "round trip of %zu bytes gave %zu", n, back.len);
	zf_codec_free(c);

	/* the same frame cut short is never done */
	if (comp.len > 1) {
		if (zf_codec_new(&c, alg, false, 0, 0, &err) != ZF_OK)
			abort();
		zf_error_clear(&err);
		r = run(c, (const unsigned char *)comp.data, comp.len - 1,
		    chunk, outcap, NULL, &done, &err);
		FZ_CHECK(r != ZF_OK || !done, "a cut frame is done");
		zf_codec_free(c);
	}
	zf_buf_release(&comp);
	zf_buf_release(&back);
	return 0;
}
