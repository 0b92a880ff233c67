/*
 * relay.h: moves the stream from the sender's fd to the receiver's fd.  It
 * never blocks: the caller's poll() loop asks zf_relay_events() what to
 * wait for (and zf_relay_wait_ns() how long at most) and calls
 * zf_relay_pump() after poll() returns.  It knows nothing about zfs.
 *
 * Three copy paths, chosen by zf_relay_init():
 * - splice: in_fd and out_fd are pipes and nothing transforms the data:
 *   splice(2) moves pages from pipe to pipe; the kernel pipes are the
 *   buffer.
 * - copy: a ring buffer of opts->buffer bytes (read(2), write(2)).
 * - codec: read into an input buffer, compress or decompress into the
 *   ring (codec.h), write from the ring.
 * A rate limit (token bucket, rate.h) applies to what is written: the
 * relay's own, or one shared with relays on other threads.
 *
 * fd ownership: in_fd and out_fd stay the caller's; the relay sets them
 * non-blocking and never closes them.  The codec, if any, becomes the
 * relay's and is freed by zf_relay_release().
 */
#ifndef ZF_RELAY_H
#define ZF_RELAY_H

#include <pthread.h>

#include "codec.h"
#include "rate.h"
#include "util.h"

#define ZF_RELAY_DEFAULT_BUFFER (16u * 1024 * 1024)
#define ZF_RELAY_MIN_BUFFER (64u * 1024)

enum zf_relay_state {
	ZF_RELAY_RUNNING = 0,
	ZF_RELAY_DONE, /* input ended and every byte was written */
	ZF_RELAY_OUT_CLOSED, /* the receiver stopped reading (EPIPE) */
	ZF_RELAY_FAILED, /* a read, write or codec step failed */
};

enum zf_relay_mode {
	ZF_RELAY_SPLICE,
	ZF_RELAY_COPY,
	ZF_RELAY_CODEC,
};

/*
 * A rate limit shared by relays on several threads (a sync's jobs): the
 * limit is on their sum.  Set up with zf_shared_bucket_init().
 */
struct zf_shared_bucket {
	pthread_mutex_t mu;
	struct zf_bucket b;
};

/* rate 0: no limit.  The bucket starts empty, as a relay's own does. */
void zf_shared_bucket_init(struct zf_shared_bucket *sb, uint64_t rate,
    uint64_t now_ns);
void zf_shared_bucket_destroy(struct zf_shared_bucket *sb);

struct zf_relay_opts {
	size_t buffer; /* ring bytes; 0: ZF_RELAY_DEFAULT_BUFFER */
	uint64_t bwlimit; /* bytes per second written; 0: none */
	struct zf_shared_bucket *shared; /* instead of bwlimit; not owned */
	struct zf_codec *codec; /* NULL: none; taken by zf_relay_init() */
	bool codec_compresses; /* the output is the compressed side */
	bool no_splice; /* always copy */
};

/*
 * Compressing, a mark per codec step that made output: where in the
 * output that step's bytes end, and how many stream bytes the codec had
 * taken by then.  When the output up to out_end is written, those stream
 * bytes count as delivered.
 */
#define ZF_RELAY_MARKS 64
struct zf_relay_mark {
	uint64_t out_end;
	uint64_t in_end;
};

struct zf_relay {
	int in_fd;
	int out_fd;
	enum zf_relay_mode mode;
	enum zf_relay_state state;
	/* ring: what waits to be written */
	unsigned char *ring;
	size_t size;
	size_t head;
	size_t used;
	/* codec input */
	struct zf_codec *codec;
	bool codec_compresses;
	bool codec_done;
	bool codec_out_full; /* the last step filled all the room it had */
	unsigned char *inbuf;
	size_t in_cap;
	size_t in_head;
	size_t in_len;
	bool in_eof;
	bool splice_out_full; /* splice: wait for room, not for data */
	struct zf_bucket bucket; /* its own limit */
	struct zf_shared_bucket *shared; /* or this one's */
	uint64_t bytes_in; /* read from in_fd */
	uint64_t bytes_out; /* written to out_fd */
	/* compressing: which stream bytes have reached out_fd */
	struct zf_relay_mark marks[ZF_RELAY_MARKS];
	unsigned mark_head;
	unsigned mark_n;
	uint64_t delivered; /* stream bytes whose output was written */
	uint64_t last_move_ns; /* last time a byte moved either way */
};

/*
 * True when a relay set up with opts copies through its ring even between
 * two pipes (a buffer was asked for, or splicing is off, and no codec).
 */
bool zf_relay_opts_copy(const struct zf_relay_opts *opts);

/* Sets r up; opts may be NULL (defaults).  Takes opts->codec, even on error. */
enum zf_status zf_relay_init(struct zf_relay *r, int in_fd, int out_fd,
    const struct zf_relay_opts *opts, struct zf_error *err);
void zf_relay_release(struct zf_relay *r);

/* poll() events wanted on in_fd and out_fd (0: leave that fd out). */
void zf_relay_events(struct zf_relay *r, uint64_t now_ns, short *in_ev,
    short *out_ev);

/*
 * Nanoseconds until the rate limit lets more out; UINT64_MAX: no timer
 * (no limit, or it lets more out now and zf_relay_events() asks for the
 * fds instead).
 */
uint64_t zf_relay_wait_ns(struct zf_relay *r, uint64_t now_ns);

/*
 * Moves as much as possible without blocking.  Returns the new state; on
 * ZF_RELAY_FAILED err says why.
 */
enum zf_relay_state zf_relay_pump(struct zf_relay *r, uint64_t now_ns,
    struct zf_error *err);

/*
 * Stream bytes (uncompressed) and wire bytes (compressed) written to
 * out_fd so far.  Stream bytes waiting in the ring, as they are or
 * compressed, do not count yet, so progress does not run ahead of the
 * receiver by the buffer.  Compressing, they count once the output of
 * the codec step that took them is written; what zstd's workers still
 * hold at that point (a few MiB at most) counts a little early.  At
 * ZF_RELAY_DONE both are totals.
 */
uint64_t zf_relay_stream_bytes(const struct zf_relay *r);
uint64_t zf_relay_wire_bytes(const struct zf_relay *r);

#endif
