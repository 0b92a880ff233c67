#include "compat.h"

#include <lz4frame.h>
#include <zstd.h>

#include "codec.h"

/* lz4 frames are made 64 KiB of input at a time, through a staging area */
#define LZ4_CHUNK (64 * 1024)

struct zf_codec {
	enum zf_compress_alg alg;
	bool compress;
	ZSTD_CCtx *zc;
	ZSTD_DCtx *zd;
	LZ4F_cctx *lc;
	LZ4F_dctx *ld;
	LZ4F_preferences_t prefs;
	bool lz4_begun;
	bool lz4_ended;
	unsigned char *stage; /* lz4 compressed output not yet handed out */
	size_t stage_cap;
	size_t stage_len;
	size_t stage_pos;
	bool in_frame; /* decompress: a frame has begun and not ended */
	bool any_in; /* decompress: some input has come */
};

const char *
zf_compress_name(enum zf_compress_alg alg)
{
	switch (alg) {
	case ZF_COMPRESS_ZSTD:
		return "zstd";
	case ZF_COMPRESS_LZ4:
		return "lz4";
	case ZF_COMPRESS_AUTO:
		return "auto";
	case ZF_COMPRESS_NONE:
		break;
	}
	return "none";
}

static enum zf_status
codec_fail(struct zf_error *err, const char *what, const char *why)
{
	zf_error_set_stage(err, ZF_STAGE_RELAY);
	return zf_fail(err, ZF_E_PROTOCOL, "%s: %s", what, why);
}

enum zf_status
zf_codec_new(struct zf_codec **cp, enum zf_compress_alg alg, bool compress,
    int level, int threads, struct zf_error *err)
{
	struct zf_codec *c;

	*cp = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	c->alg = alg;
	c->compress = compress;
	if (alg == ZF_COMPRESS_ZSTD && compress) {
		c->zc = ZSTD_createCCtx();
		if (c->zc == NULL)
			goto nomem;
		ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, level);
		/*
		 * A content checksum, as the zstd tool and our lz4 frames
		 * have: without it a corrupted block can decode to wrong
		 * data that nothing notices.
		 */
		ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1);
		/* 0 workers when the library was built without threads */
		if (threads > 0)
			ZSTD_CCtx_setParameter(c->zc, ZSTD_c_nbWorkers,
			    threads);
	} else if (alg == ZF_COMPRESS_ZSTD) {
		c->zd = ZSTD_createDCtx();
		if (c->zd == NULL)
			goto nomem;
		/* a window of up to 128 MiB; zstd's default refuses above 8 */
		ZSTD_DCtx_setParameter(c->zd, ZSTD_d_windowLogMax, 27);
	} else if (alg == ZF_COMPRESS_LZ4 && compress) {
		if (LZ4F_isError(
		        LZ4F_createCompressionContext(&c->lc, LZ4F_VERSION)))
			goto nomem;
		memset(&c->prefs, 0, sizeof(c->prefs));
		c->prefs.compressionLevel = level;
		c->prefs.frameInfo.blockSizeID = LZ4F_max64KB;
		/*
		 * Independent blocks, as the lz4 tool makes by default: linked
		 * blocks save a 64 KiB dictionary after every block and search
		 * it, about a third slower for no real gain in ratio here.
		 */
		c->prefs.frameInfo.blockMode = LZ4F_blockIndependent;
		c->prefs.frameInfo.contentChecksumFlag =
		    LZ4F_contentChecksumEnabled;
		c->stage_cap = LZ4F_compressBound(LZ4_CHUNK, &c->prefs) +
		    LZ4F_HEADER_SIZE_MAX;
		c->stage = malloc(c->stage_cap);
		if (c->stage == NULL)
			goto nomem;
	} else if (alg == ZF_COMPRESS_LZ4) {
		if (LZ4F_isError(
		        LZ4F_createDecompressionContext(&c->ld, LZ4F_VERSION)))
			goto nomem;
	} else {
		free(c);
		return zf_fail(err, ZF_E_INVALID, "no codec for '%s'",
		    zf_compress_name(alg));
	}
	*cp = c;
	return ZF_OK;
nomem:
	zf_codec_free(c);
	return zf_fail(err, ZF_E_NOMEM, "cannot set up %s",
	    zf_compress_name(alg));
}

void
zf_codec_free(struct zf_codec *c)
{
	if (c == NULL)
		return;
	ZSTD_freeCCtx(c->zc);
	ZSTD_freeDCtx(c->zd);
	if (c->lc != NULL)
		LZ4F_freeCompressionContext(c->lc);
	if (c->ld != NULL)
		LZ4F_freeDecompressionContext(c->ld);
	free(c->stage);
	free(c);
}

static enum zf_status
zstd_compress(struct zf_codec *c, const unsigned char *in, size_t in_len,
    size_t *in_pos, unsigned char *out, size_t out_cap, size_t *out_pos,
    bool end, bool *done, struct zf_error *err)
{
	ZSTD_inBuffer ib = {in, in_len, *in_pos};
	ZSTD_outBuffer ob = {out, out_cap, *out_pos};
	size_t r;

	r = ZSTD_compressStream2(c->zc, &ob, &ib,
	    end ? ZSTD_e_end : ZSTD_e_continue);
	*in_pos = ib.pos;
	*out_pos = ob.pos;
	if (ZSTD_isError(r))
		return codec_fail(err, "zstd", ZSTD_getErrorName(r));
	*done = end && r == 0 && ib.pos == ib.size;
	return ZF_OK;
}

static enum zf_status
zstd_decompress(struct zf_codec *c, const unsigned char *in, size_t in_len,
    size_t *in_pos, unsigned char *out, size_t out_cap, size_t *out_pos,
    bool end, bool *done, struct zf_error *err)
{
	ZSTD_inBuffer ib = {in, in_len, *in_pos};
	ZSTD_outBuffer ob = {out, out_cap, *out_pos};
	size_t r = 0;

	if (ib.pos < ib.size)
		c->any_in = true;
	while (ib.pos < ib.size || (c->in_frame && ob.pos < ob.size)) {
		size_t before_in = ib.pos, before_out = ob.pos;

		r = ZSTD_decompressStream(c->zd, &ob, &ib);
		if (ZSTD_isError(r)) {
			*in_pos = ib.pos;
			*out_pos = ob.pos;
			return codec_fail(err, "zstd", ZSTD_getErrorName(r));
		}
		c->in_frame = r != 0;
		if (ib.pos == before_in && ob.pos == before_out)
			break; /* needs more input or more room */
		if (ob.pos == ob.size)
			break;
	}
	*in_pos = ib.pos;
	*out_pos = ob.pos;
	if (end && ib.pos == ib.size) {
		if (c->in_frame && ob.pos < ob.size)
			return codec_fail(err, "zstd",
			    "the compressed stream ended inside a frame");
		if (!c->any_in)
			return codec_fail(err, "zstd",
			    "no compressed data (an empty stream has a frame)");
		*done = !c->in_frame;
	}
	return ZF_OK;
}

static enum zf_status
lz4_compress(struct zf_codec *c, const unsigned char *in, size_t in_len,
    size_t *in_pos, unsigned char *out, size_t out_cap, size_t *out_pos,
    bool end, bool *done, struct zf_error *err)
{
	for (;;) {
		size_t n, r;

		/* hand out what is staged first */
		if (c->stage_pos < c->stage_len) {
			n = c->stage_len - c->stage_pos;
			if (n > out_cap - *out_pos)
				n = out_cap - *out_pos;
			memcpy(out + *out_pos, c->stage + c->stage_pos, n);
			*out_pos += n;
			c->stage_pos += n;
			if (c->stage_pos < c->stage_len)
				return ZF_OK; /* out is full */
		}
		c->stage_len = c->stage_pos = 0;
		if (!c->lz4_begun) {
			r = LZ4F_compressBegin(c->lc, c->stage, c->stage_cap,
			    &c->prefs);
			if (LZ4F_isError(r))
				return codec_fail(err, "lz4",
				    LZ4F_getErrorName(r));
			c->stage_len = r;
			c->lz4_begun = true;
			continue;
		}
		if (*in_pos < in_len) {
			/* straight into out when the worst case fits there */
			bool direct = out_cap - *out_pos >= c->stage_cap;

			n = in_len - *in_pos;
			if (n > LZ4_CHUNK)
				n = LZ4_CHUNK;
			r = LZ4F_compressUpdate(c->lc,
			    direct ? out + *out_pos : c->stage,
			    direct ? out_cap - *out_pos : c->stage_cap,
			    in + *in_pos, n, NULL);
			if (LZ4F_isError(r))
				return codec_fail(err, "lz4",
				    LZ4F_getErrorName(r));
			*in_pos += n;
			if (direct)
				*out_pos += r;
			else
				c->stage_len = r;
			continue;
		}
		if (!end)
			return ZF_OK;
		if (c->lz4_ended) {
			*done = true;
			return ZF_OK;
		}
		r = LZ4F_compressEnd(c->lc, c->stage, c->stage_cap, NULL);
		if (LZ4F_isError(r))
			return codec_fail(err, "lz4", LZ4F_getErrorName(r));
		c->stage_len = r;
		c->lz4_ended = true;
	}
}

static enum zf_status
lz4_decompress(struct zf_codec *c, const unsigned char *in, size_t in_len,
    size_t *in_pos, unsigned char *out, size_t out_cap, size_t *out_pos,
    bool end, bool *done, struct zf_error *err)
{
	if (*in_pos < in_len)
		c->any_in = true;
	while (*in_pos < in_len || (c->in_frame && *out_pos < out_cap)) {
		size_t src = in_len - *in_pos, dst = out_cap - *out_pos;
		size_t r;

		r = LZ4F_decompress(c->ld, out + *out_pos, &dst, in + *in_pos,
		    &src, NULL);
		if (LZ4F_isError(r))
			return codec_fail(err, "lz4", LZ4F_getErrorName(r));
		*in_pos += src;
		*out_pos += dst;
		c->in_frame = r != 0;
		if (src == 0 && dst == 0)
			break;
		if (*out_pos == out_cap)
			break;
	}
	if (end && *in_pos == in_len) {
		if (c->in_frame && *out_pos < out_cap)
			return codec_fail(err, "lz4",
			    "the compressed stream ended inside a frame");
		if (!c->any_in)
			return codec_fail(err, "lz4",
			    "no compressed data (an empty stream has a frame)");
		*done = !c->in_frame;
	}
	return ZF_OK;
}

enum zf_status
zf_codec_step(struct zf_codec *c, const unsigned char *in, size_t in_len,
    size_t *in_pos, unsigned char *out, size_t out_cap, size_t *out_pos,
    bool end, bool *done, struct zf_error *err)
{
	*done = false;
	if (c->alg == ZF_COMPRESS_ZSTD)
		return c->compress ? zstd_compress(c, in, in_len, in_pos, out,
		                         out_cap, out_pos, end, done, err)
		                   : zstd_decompress(c, in, in_len, in_pos, out,
		                         out_cap, out_pos, end, done, err);
	return c->compress ? lz4_compress(c, in, in_len, in_pos, out, out_cap,
	                         out_pos, end, done, err)
	                   : lz4_decompress(c, in, in_len, in_pos, out, out_cap,
	                         out_pos, end, done, err);
}
