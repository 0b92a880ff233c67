/*
 * codec.h: the compression stage of the relay: zstd (libzstd, with worker
 * threads) and lz4 (liblz4 frame format), in either direction, behind one
 * streaming interface shaped like ZSTD_compressStream2():
 *
 * zf_codec_step() consumes input from in[*in_pos .. in_len) and produces
 * output into out[*out_pos .. out_cap), advancing both positions.  It may
 * stop before the input is used up when the output is full: the caller
 * makes room and calls again.  With end = true the caller promises no
 * more input after in_len; zf_codec_step() then sets *done once every
 * byte is out (compress: the frame is finished; decompress: the last frame
 * ended exactly at the end of the input).  Input that ends inside a frame
 * is an error (ZF_E_PROTOCOL), as is input that is not a valid frame.
 * The caller owns both buffers.
 */
#ifndef ZF_CODEC_H
#define ZF_CODEC_H

#include "zferry/config.h"
#include "util.h"

struct zf_codec;

enum zf_status zf_codec_new(struct zf_codec **cp, enum zf_compress_alg alg,
    bool compress, int level, int threads, struct zf_error *err);

enum zf_status zf_codec_step(struct zf_codec *c, const unsigned char *in,
    size_t in_len, size_t *in_pos, unsigned char *out, size_t out_cap,
    size_t *out_pos, bool end, bool *done, struct zf_error *err);

/* NULL is a no-op. */
void zf_codec_free(struct zf_codec *c);

/* "zstd", "lz4" or "none". */
const char *zf_compress_name(enum zf_compress_alg alg);

#endif
