#include "compat.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "relay.h"

#define INBUF_SIZE (1024 * 1024)
/*
 * The codec writes at most this much into the ring before it is written
 * out: zstd hands over a whole finished job (megabytes) at once, and
 * output that large leaves the CPU caches before write(2) reads it.
 */
#define CODEC_STEP (256 * 1024)
#define SPLICE_CHUNK (1024 * 1024)
#define PIPE_SIZE (1024 * 1024)
/* with a rate limit, wait for at least this much before writing */
#define MIN_WRITE 4096

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * A pipe of 64 KiB (the default) holds 16 pages: the writer, the relay and
 * the reader then wake each other for every 64 KiB.  Pipes handed to us
 * grow to PIPE_SIZE as spawn.c sizes the ones it makes; never shrink one,
 * and a failure (not a pipe, over the user's pipe quota) costs only speed.
 * The copy path leaves its input pipe as it is: it reads a default-size
 * pipe faster (bench/README.md, "Buffered relay").
 */
static void
grow_pipe(int fd)
{
	int sz = fcntl(fd, F_GETPIPE_SZ);

	if (sz > 0 && sz < PIPE_SIZE)
		fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE);
}

static bool
is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/*
 * Start with an empty bucket: a full one lets a twentieth of a second out
 * at once, 5 % over the rate in the first second.
 */
static void
start_empty(struct zf_bucket *b, uint64_t rate, uint64_t now_ns)
{
	zf_bucket_init(b, rate, 0, now_ns);
	zf_bucket_take(b, b->burst);
}

void
zf_shared_bucket_init(struct zf_shared_bucket *sb, uint64_t rate,
    uint64_t now_ns)
{
	pthread_mutex_init(&sb->mu, NULL);
	start_empty(&sb->b, rate, now_ns);
}

void
zf_shared_bucket_destroy(struct zf_shared_bucket *sb)
{
	pthread_mutex_destroy(&sb->mu);
}

/*
 * The bucket operations, on the relay's own bucket or under the shared
 * one's lock.  A write first reserves its tokens, then gives back what it
 * did not write: relays that share a bucket never spend the same tokens.
 */
static struct zf_bucket *
rl_lock(struct zf_relay *r)
{
	if (r->shared == NULL)
		return &r->bucket;
	pthread_mutex_lock(&r->shared->mu);
	return &r->shared->b;
}

static void
rl_unlock(struct zf_relay *r)
{
	if (r->shared != NULL)
		pthread_mutex_unlock(&r->shared->mu);
}

static uint64_t
rl_reserve(struct zf_relay *r, uint64_t now_ns, uint64_t want)
{
	struct zf_bucket *b = rl_lock(r);
	uint64_t v = zf_bucket_avail(b, now_ns);

	if (v > want)
		v = want;
	zf_bucket_take(b, v);
	rl_unlock(r);
	return v;
}

static void
rl_refund(struct zf_relay *r, uint64_t reserved, ssize_t written)
{
	uint64_t n = written > 0 ? (uint64_t)written : 0;

	if (n >= reserved)
		return;
	zf_bucket_give(rl_lock(r), reserved - n);
	rl_unlock(r);
}

static uint64_t
rl_wait_ns(struct zf_relay *r, uint64_t want, uint64_t now_ns)
{
	uint64_t v = zf_bucket_wait_ns(rl_lock(r), want, now_ns);

	rl_unlock(r);
	return v;
}

static bool
rl_limited(const struct zf_relay *r)
{
	return (r->shared ? r->shared->b.rate : r->bucket.rate) != 0;
}

bool
zf_relay_opts_copy(const struct zf_relay_opts *opts)
{
	return opts->codec == NULL && (opts->no_splice || opts->buffer != 0);
}

enum zf_status
zf_relay_init(struct zf_relay *r, int in_fd, int out_fd,
    const struct zf_relay_opts *opts, struct zf_error *err)
{
	struct zf_relay_opts none;

	if (opts == NULL) {
		memset(&none, 0, sizeof(none));
		opts = &none;
	}
	memset(r, 0, sizeof(*r));
	r->in_fd = in_fd;
	r->out_fd = out_fd;
	r->codec = opts->codec;
	r->codec_compresses = opts->codec_compresses;
	r->last_move_ns = zf_now_ns();
	r->shared = opts->shared;
	start_empty(&r->bucket, r->shared ? 0 : opts->bwlimit, r->last_move_ns);
	nonblock(in_fd);
	nonblock(out_fd);
	if (r->codec != NULL)
		r->mode = ZF_RELAY_CODEC;
	else if (!zf_relay_opts_copy(opts) && is_pipe(in_fd) && is_pipe(out_fd))
		r->mode = ZF_RELAY_SPLICE;
	else
		r->mode = ZF_RELAY_COPY;
	if (r->mode != ZF_RELAY_COPY)
		grow_pipe(in_fd);
	grow_pipe(out_fd);
	if (r->mode == ZF_RELAY_SPLICE)
		return ZF_OK;
	r->size = opts->buffer ? opts->buffer : ZF_RELAY_DEFAULT_BUFFER;
	if (r->size < ZF_RELAY_MIN_BUFFER)
		r->size = ZF_RELAY_MIN_BUFFER;
	r->ring = malloc(r->size);
	if (r->mode == ZF_RELAY_CODEC) {
		r->in_cap = INBUF_SIZE;
		r->inbuf = malloc(r->in_cap);
	}
	if (r->ring == NULL || (r->mode == ZF_RELAY_CODEC && r->inbuf == NULL))
		return zf_fail(err, ZF_E_NOMEM,
		    "cannot allocate a relay buffer of %zu bytes", r->size);
	return ZF_OK;
}

void
zf_relay_release(struct zf_relay *r)
{
	free(r->ring);
	free(r->inbuf);
	zf_codec_free(r->codec);
	r->ring = NULL;
	r->inbuf = NULL;
	r->codec = NULL;
}

uint64_t
zf_relay_stream_bytes(const struct zf_relay *r)
{
	if (r->mode != ZF_RELAY_CODEC || !r->codec_compresses)
		return r->bytes_out;
	return r->state == ZF_RELAY_DONE ? r->bytes_in : r->delivered;
}

/*
 * A codec step put output into the ring up to out_end, having taken
 * in_end stream bytes by then.  When the marks are all taken, the newest
 * one moves forward instead: those stream bytes count a little later,
 * never early.
 */
static void
mark_push(struct zf_relay *r, uint64_t out_end, uint64_t in_end)
{
	struct zf_relay_mark *m;

	if (r->mark_n < ZF_RELAY_MARKS)
		r->mark_n++;
	m = &r->marks[(r->mark_head + r->mark_n - 1) % ZF_RELAY_MARKS];
	m->out_end = out_end;
	m->in_end = in_end;
}

/* The stream bytes whose output is now all written are delivered. */
static void
marks_pass(struct zf_relay *r)
{
	while (
	    r->mark_n > 0 && r->marks[r->mark_head].out_end <= r->bytes_out) {
		r->delivered = r->marks[r->mark_head].in_end;
		r->mark_head = (r->mark_head + 1) % ZF_RELAY_MARKS;
		r->mark_n--;
	}
}

uint64_t
zf_relay_wire_bytes(const struct zf_relay *r)
{
	if (r->mode == ZF_RELAY_CODEC && !r->codec_compresses)
		return r->bytes_in;
	return r->bytes_out;
}

/* true when the rate limit lets a worthwhile write out now */
static bool
tokens_ready(struct zf_relay *r, uint64_t now_ns)
{
	uint64_t want = MIN_WRITE;

	if (r->mode != ZF_RELAY_SPLICE && r->used > 0 && r->used < want)
		want = r->used;
	return rl_wait_ns(r, want, now_ns) == 0;
}

void
zf_relay_events(struct zf_relay *r, uint64_t now_ns, short *in_ev,
    short *out_ev)
{
	bool ready;

	*in_ev = 0;
	*out_ev = 0;
	if (r->state != ZF_RELAY_RUNNING)
		return;
	ready = tokens_ready(r, now_ns);
	switch (r->mode) {
	case ZF_RELAY_SPLICE:
		if (!ready)
			return;
		if (r->splice_out_full)
			*out_ev = POLLOUT;
		else if (!r->in_eof)
			*in_ev = POLLIN;
		return;
	case ZF_RELAY_COPY:
		if (!r->in_eof && r->used < r->size)
			*in_ev = POLLIN;
		break;
	case ZF_RELAY_CODEC:
		if (!r->in_eof && r->in_len - r->in_head < r->in_cap)
			*in_ev = POLLIN;
		break;
	}
	if (r->used > 0 && ready)
		*out_ev = POLLOUT;
}

uint64_t
zf_relay_wait_ns(struct zf_relay *r, uint64_t now_ns)
{
	uint64_t want = MIN_WRITE, w;

	if (r->state != ZF_RELAY_RUNNING || !rl_limited(r))
		return UINT64_MAX;
	if (r->mode != ZF_RELAY_SPLICE) {
		if (r->used == 0)
			return UINT64_MAX;
		if (r->used < want)
			want = r->used;
	}
	/*
	 * Tokens there now: zf_relay_events() asks for the fds, and poll()
	 * waits on them.  A timer of 0 would make it return at once, again
	 * and again, while the peer is not ready.
	 */
	w = rl_wait_ns(r, want, now_ns);
	return w == 0 ? UINT64_MAX : w;
}

static bool
write_failed(struct zf_relay *r, int e, struct zf_error *err)
{
	if (e == EPIPE) {
		r->state = ZF_RELAY_OUT_CLOSED;
		return true;
	}
	zf_fail_errno(err, e, "cannot write the stream");
	r->state = ZF_RELAY_FAILED;
	return true;
}

/* splice(2) from pipe to pipe; false when the relay stopped */
static bool
pump_splice(struct zf_relay *r, uint64_t now_ns, struct zf_error *err)
{
	for (;;) {
		size_t len = (size_t)rl_reserve(r, now_ns, SPLICE_CHUNK);
		ssize_t n;

		if (len == 0)
			return true;
		n = splice(r->in_fd, NULL, r->out_fd, NULL, len,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		rl_refund(r, len, n);
		if (n > 0) {
			r->bytes_in += (uint64_t)n;
			r->bytes_out += (uint64_t)n;
			r->splice_out_full = false;
			continue;
		}
		if (n == 0) {
			r->in_eof = true;
			r->state = ZF_RELAY_DONE;
			return false;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			int avail_in = 0;

			/* empty input or full output: wait for the right one */
			r->splice_out_full =
			    ioctl(r->in_fd, FIONREAD, &avail_in) == 0 &&
			    avail_in > 0;
			return true;
		}
		return !write_failed(r, errno, err);
	}
}

/* Reads into buf[0..room); returns bytes read, 0 on EOF/EAGAIN/error. */
static size_t
read_some(struct zf_relay *r, unsigned char *buf, size_t room, bool *stop,
    struct zf_error *err)
{
	ssize_t n;

	*stop = false;
	for (;;) {
		n = read(r->in_fd, buf, room);
		if (n > 0) {
			r->bytes_in += (uint64_t)n;
			return (size_t)n;
		}
		if (n == 0) {
			r->in_eof = true;
			*stop = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		*stop = true;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			zf_fail_errno(err, errno, "cannot read the stream");
			r->state = ZF_RELAY_FAILED;
		}
		return 0;
	}
}

/* the free contiguous region of the ring after its data */
static unsigned char *
ring_tail(const struct zf_relay *r, size_t *room)
{
	size_t tail = (r->head + r->used) % r->size;

	if (r->used == r->size)
		*room = 0;
	else if (tail >= r->head)
		*room = r->size - tail;
	else
		*room = r->head - tail;
	return r->ring + tail;
}

static void
fill_ring(struct zf_relay *r, struct zf_error *err)
{
	bool stop = false;

	while (!stop && !r->in_eof && r->used < r->size) {
		size_t room;
		unsigned char *p = ring_tail(r, &room);

		r->used += read_some(r, p, room, &stop, err);
	}
}

static void
fill_inbuf(struct zf_relay *r, struct zf_error *err)
{
	bool stop = false;

	if (r->in_head > 0 && r->in_head == r->in_len) {
		r->in_head = 0;
		r->in_len = 0;
	} else if (r->in_head > 0 &&
	    (r->in_len == r->in_cap || r->in_head > r->in_cap / 2)) {
		/* room at the end, as zf_relay_events() promised */
		memmove(r->inbuf, r->inbuf + r->in_head,
		    r->in_len - r->in_head);
		r->in_len -= r->in_head;
		r->in_head = 0;
	}
	while (!stop && !r->in_eof && r->in_len < r->in_cap)
		r->in_len += read_some(r, r->inbuf + r->in_len,
		    r->in_cap - r->in_len, &stop, err);
}

static void flush_ring(struct zf_relay *r, uint64_t now_ns,
    struct zf_error *err);

/*
 * Runs the codec while it has something to do: input to take, the end of
 * the stream to finish, or output it could not hand over for lack of room.
 * It is never called idle: zstd counts calls without progress and fails
 * after a few.  What each step makes (CODEC_STEP at most) is written out
 * before the next.
 */
static void
run_codec(struct zf_relay *r, uint64_t now_ns, struct zf_error *err)
{
	while (!r->codec_done && r->state == ZF_RELAY_RUNNING) {
		size_t room, in_pos = r->in_head, out_pos = 0;
		unsigned char *p = ring_tail(r, &room);
		bool end = r->in_eof;

		if (room == 0)
			return;
		if (room > CODEC_STEP)
			room = CODEC_STEP;
		if (in_pos == r->in_len && !end && !r->codec_out_full)
			return;
		if (zf_codec_step(r->codec, r->inbuf, r->in_len, &in_pos, p,
		        room, &out_pos, end, &r->codec_done, err) != ZF_OK) {
			r->state = ZF_RELAY_FAILED;
			return;
		}
		r->used += out_pos;
		r->codec_out_full = out_pos == room;
		if (in_pos == r->in_head && out_pos == 0)
			return; /* needs more input (or room) */
		r->in_head = in_pos;
		/* the codec has taken all that was read but what inbuf holds */
		if (r->codec_compresses && out_pos > 0)
			mark_push(r, r->bytes_out + r->used,
			    r->bytes_in - (r->in_len - r->in_head));
		flush_ring(r, now_ns, err);
	}
}

static void
flush_ring(struct zf_relay *r, uint64_t now_ns, struct zf_error *err)
{
	while (r->used > 0 && r->state == ZF_RELAY_RUNNING) {
		size_t chunk = r->size - r->head;
		ssize_t n;

		if (chunk > r->used)
			chunk = r->used;
		chunk = (size_t)rl_reserve(r, now_ns, chunk);
		if (chunk == 0)
			return;
		n = write(r->out_fd, r->ring + r->head, chunk);
		rl_refund(r, chunk, n);
		if (n > 0) {
			r->head = (r->head + (size_t)n) % r->size;
			r->used -= (size_t)n;
			r->bytes_out += (uint64_t)n;
			if (r->codec_compresses)
				marks_pass(r);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		write_failed(r, n < 0 ? errno : EIO, err);
		return;
	}
	if (r->used == 0)
		r->head = 0;
}

enum zf_relay_state
zf_relay_pump(struct zf_relay *r, uint64_t now_ns, struct zf_error *err)
{
	uint64_t before = r->bytes_in + r->bytes_out;
	int round;

	if (r->state != ZF_RELAY_RUNNING)
		return r->state;
	if (r->mode == ZF_RELAY_SPLICE) {
		pump_splice(r, now_ns, err);
	} else {
		/* twice: what was read while the ring was full fits now */
		for (round = 0; round < 2 && r->state == ZF_RELAY_RUNNING;
		     round++) {
			if (r->mode == ZF_RELAY_COPY) {
				fill_ring(r, err);
			} else {
				fill_inbuf(r, err);
				if (r->state == ZF_RELAY_RUNNING)
					run_codec(r, now_ns, err);
			}
			if (r->state == ZF_RELAY_RUNNING)
				flush_ring(r, now_ns, err);
		}
		/*
		 * The codec may still hold output for a ring that the last
		 * write emptied: nothing would ask for POLLOUT, and after
		 * the end of the input (or with inbuf full) nothing for
		 * POLLIN either.  Refill the ring now, so there is.
		 */
		if (r->mode == ZF_RELAY_CODEC && r->state == ZF_RELAY_RUNNING &&
		    r->used == 0)
			run_codec(r, now_ns, err);
		if (r->state == ZF_RELAY_RUNNING && r->used == 0 && r->in_eof &&
		    (r->mode == ZF_RELAY_COPY || r->codec_done))
			r->state = ZF_RELAY_DONE;
	}
	if (r->bytes_in + r->bytes_out != before)
		r->last_move_ns = now_ns;
	return r->state;
}
