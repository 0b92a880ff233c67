/*
 * zferry/pipe.h: zferry's relay on its own, between two descriptors or
 * between a descriptor and a command.  This is what runs on the far side
 * of an ssh connection ("zferry pipe --decompress zstd -- zfs receive
 * ..."), and what the benchmarks measure against cat, pv and mbuffer.
 *
 * - No command: in_fd is relayed to out_fd (compressed or decompressed on
 *   the way when asked).
 * - decompress with a command: in_fd is decompressed into the command's
 *   stdin; the command's stdout and stderr are ours.
 * - compress with a command: the command's stdout is compressed to out_fd;
 *   its stdin is /dev/null, its stderr ours.
 */
#ifndef ZFERRY_PIPE_H
#define ZFERRY_PIPE_H

#include "zferry/config.h"
#include "zferry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What "zferry pipe --probe" prints: the pipe protocol, so a zferry on the
 * other side of ssh can tell that this one speaks it.
 */
#define ZF_PIPE_PROTOCOL "zferry-pipe 1"

struct zf_pipe_config {
	enum zf_compress_alg compress; /* ZF_COMPRESS_NONE: do not */
	enum zf_compress_alg decompress; /* ZF_COMPRESS_NONE: do not */
	int level; /* 0: the default */
	int threads; /* zstd workers; 0: none */
	uint64_t bwlimit; /* bytes/s written; 0: none */
	uint64_t buffer_size; /* 0: default (splice when possible) */
	uint64_t stall_timeout_ms; /* 0: none */
	char *const *argv; /* the command, or NULL */
	int in_fd;
	int out_fd;
	int cancel_fd; /* readable: stop; -1: none */
	/* out: bytes read from in_fd / the command, and written */
	uint64_t bytes_in;
	uint64_t bytes_out;
};

/*
 * Runs the relay until the input ends and every byte is out, and the
 * command (if any) has exited.  Returns ZF_OK, or ZF_E_CHILD when the
 * command failed (err->child_status holds its exit code, its stderr went
 * to ours), or the relay's own failure (a corrupt compressed stream is
 * ZF_E_PROTOCOL), ZF_E_CANCELED, ZF_E_TIMEOUT.
 */
enum zf_status zf_pipe_run(struct zf_pipe_config *cfg, struct zf_error *err);

#ifdef __cplusplus
}
#endif
#endif
