#include "compat.h"

#include <fcntl.h>
#include <poll.h>

#include "relay.h"

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

enum zf_status
zf_relay_init(struct zf_relay *r, int in_fd, int out_fd, size_t bufsize,
    struct zf_error *err)
{
	memset(r, 0, sizeof(*r));
	r->in_fd = in_fd;
	r->out_fd = out_fd;
	r->size = bufsize ? bufsize : ZF_RELAY_DEFAULT_BUFFER;
	r->buf = malloc(r->size);
	if (r->buf == NULL)
		return zf_fail(err, ZF_E_NOMEM,
		    "cannot allocate a relay buffer of %zu bytes", r->size);
	nonblock(in_fd);
	nonblock(out_fd);
	r->last_progress_ns = zf_now_ns();
	return ZF_OK;
}

void
zf_relay_release(struct zf_relay *r)
{
	free(r->buf);
	r->buf = NULL;
}

void
zf_relay_events(const struct zf_relay *r, short *in_ev, short *out_ev)
{
	*in_ev = 0;
	*out_ev = 0;
	if (r->state != ZF_RELAY_RUNNING)
		return;
	if (!r->in_eof && r->used < r->size)
		*in_ev = POLLIN;
	/* POLLERR on the write end reports a reader that went away */
	*out_ev = r->used > 0 ? POLLOUT : 0;
}

static bool
fill(struct zf_relay *r, struct zf_error *err)
{
	while (!r->in_eof && r->used < r->size) {
		size_t tail = (r->head + r->used) % r->size;
		size_t room = tail >= r->head || r->used == 0 ? r->size - tail
		                                              : r->head - tail;
		ssize_t n;

		if (room > r->size - r->used)
			room = r->size - r->used;
		n = read(r->in_fd, r->buf + tail, room);
		if (n > 0) {
			r->used += (size_t)n;
			r->bytes_in += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			r->in_eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		zf_fail_errno(err, errno, "cannot read the stream");
		return false;
	}
	return true;
}

static bool
flush(struct zf_relay *r, struct zf_error *err)
{
	while (r->used > 0) {
		size_t chunk = r->size - r->head;
		ssize_t n;

		if (chunk > r->used)
			chunk = r->used;
		n = write(r->out_fd, r->buf + r->head, chunk);
		if (n > 0) {
			r->head = (r->head + (size_t)n) % r->size;
			r->used -= (size_t)n;
			r->bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EPIPE) {
			r->state = ZF_RELAY_OUT_CLOSED;
			return false;
		}
		zf_fail_errno(err, n < 0 ? errno : EIO,
		    "cannot write the stream");
		return false;
	}
	if (r->used == 0)
		r->head = 0;
	return true;
}

enum zf_relay_state
zf_relay_pump(struct zf_relay *r, struct zf_error *err)
{
	uint64_t before = r->bytes_in + r->bytes_out;

	if (r->state != ZF_RELAY_RUNNING)
		return r->state;
	if (!fill(r, err) || !flush(r, err)) {
		if (r->state == ZF_RELAY_RUNNING)
			r->state = ZF_RELAY_FAILED;
		return r->state;
	}
	/* what was read while the ring was full may fit now */
	if (!r->in_eof && r->used < r->size && !fill(r, err)) {
		r->state = ZF_RELAY_FAILED;
		return r->state;
	}
	if (r->bytes_in + r->bytes_out != before)
		r->last_progress_ns = zf_now_ns();
	if (r->in_eof && r->used == 0)
		r->state = ZF_RELAY_DONE;
	return r->state;
}
