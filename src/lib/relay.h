/*
 * relay.h: moves the stream from the sender's fd to the receiver's fd
 * through a bounded ring buffer, counting bytes.  It never blocks: the
 * caller's poll() loop asks zf_relay_events() what to wait for and calls
 * zf_relay_pump() with what poll() returned.  It knows nothing about zfs.
 *
 * fd ownership: in_fd and out_fd stay the caller's; the relay sets them
 * non-blocking and never closes them.
 */
#ifndef ZF_RELAY_H
#define ZF_RELAY_H

#include "util.h"

#define ZF_RELAY_DEFAULT_BUFFER (4u * 1024 * 1024)

enum zf_relay_state {
	ZF_RELAY_RUNNING = 0,
	ZF_RELAY_DONE, /* input ended and every byte was written */
	ZF_RELAY_OUT_CLOSED, /* the receiver stopped reading (EPIPE) */
	ZF_RELAY_FAILED, /* a read or write failed; see err */
};

struct zf_relay {
	int in_fd;
	int out_fd;
	unsigned char *buf;
	size_t size; /* ring capacity */
	size_t head; /* next byte to write out */
	size_t used; /* bytes held */
	bool in_eof;
	enum zf_relay_state state;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t last_progress_ns; /* last time a byte moved */
};

/* Sets up r; bufsize 0 means ZF_RELAY_DEFAULT_BUFFER. */
enum zf_status zf_relay_init(struct zf_relay *r, int in_fd, int out_fd,
    size_t bufsize, struct zf_error *err);
void zf_relay_release(struct zf_relay *r);

/* poll() events wanted on in_fd and out_fd (0: do not poll that fd). */
void zf_relay_events(const struct zf_relay *r, short *in_ev, short *out_ev);

/*
 * Reads and writes as much as possible without blocking.  Returns the new
 * state; on ZF_RELAY_FAILED err says why.
 */
enum zf_relay_state zf_relay_pump(struct zf_relay *r, struct zf_error *err);

#endif
