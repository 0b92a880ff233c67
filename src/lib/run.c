#include "compat.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>

#include "run.h"

#define GRACE_MS 2000

enum zf_status
zf_run_capture(struct zf_child *c, char *const *argv, struct zf_buf *out,
    int cancel_fd, struct zf_error *err)
{
	enum zf_status r;
	char buf[8192];

	c->stdin_mode = ZF_IO_NULL;
	c->stdout_mode = out != NULL ? ZF_IO_PIPE : ZF_IO_NULL;
	r = zf_child_start(c, argv, err);
	if (r != ZF_OK)
		return r;
	if (c->out_fd >= 0)
		fcntl(c->out_fd, F_SETFL,
		    fcntl(c->out_fd, F_GETFL) | O_NONBLOCK);
	while (c->out_fd >= 0 || c->err_fd >= 0 || !c->reaped) {
		struct pollfd p[4];
		int n;

		p[0].fd = cancel_fd;
		p[1].fd = c->out_fd;
		p[2].fd = c->err_fd;
		/* once the pipes are closed, wait for the exit itself */
		p[3].fd = c->out_fd < 0 && c->err_fd < 0 ? c->pidfd : -1;
		for (n = 0; n < 4; n++) {
			p[n].events = POLLIN;
			p[n].revents = 0;
		}
		if (c->out_fd < 0 && c->err_fd < 0 && c->pidfd < 0) {
			zf_child_wait(c, true);
			break;
		}
		n = poll(p, 4, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return zf_fail_errno(err, errno, "poll");
		if (p[0].revents != 0) {
			zf_child_release(c, GRACE_MS);
			return zf_fail(err, ZF_E_CANCELED, "canceled");
		}
		if (p[1].revents != 0) {
			ssize_t k = read(c->out_fd, buf, sizeof(buf));

			if (k > 0 && zf_buf_add(out, buf, (size_t)k) != ZF_OK) {
				zf_child_release(c, GRACE_MS);
				return zf_fail(err, ZF_E_PROTOCOL,
				    "%s: output longer than %zu bytes", c->name,
				    out->max);
			}
			if (k == 0 ||
			    (k < 0 && errno != EINTR && errno != EAGAIN))
				zf_child_close_fd(&c->out_fd);
		}
		if (p[2].revents != 0)
			zf_child_drain_stderr(c);
		if (p[3].revents != 0)
			zf_child_wait(c, false);
	}
	zf_child_wait(c, true);
	return ZF_OK;
}

struct lines {
	struct zf_buf partial;
	zf_line_fn fn;
	void *arg;
	enum zf_status r;
};

/* Splits what arrived into lines; keeps an unfinished one for later. */
static enum zf_status
feed_lines(struct lines *l, const char *p, size_t n, bool eof,
    struct zf_error *err)
{
	const char *end = p + n, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			if (zf_buf_add(&l->partial, p, (size_t)(end - p)) !=
			    ZF_OK)
				return zf_fail(err, ZF_E_PROTOCOL,
				    "output line longer than %zu bytes",
				    l->partial.max);
			break;
		}
		if (l->partial.len > 0) {
			if (zf_buf_add(&l->partial, p, (size_t)(nl - p)) !=
			    ZF_OK)
				return zf_fail(err, ZF_E_PROTOCOL,
				    "output line longer than %zu bytes",
				    l->partial.max);
			if (l->fn(l->arg, l->partial.data, l->partial.len, err))
				return err != NULL && err->code ? err->code
				                                : ZF_E_PROTOCOL;
			zf_buf_reset(&l->partial);
		} else if (l->fn(l->arg, p, (size_t)(nl - p), err) != ZF_OK) {
			return err != NULL && err->code ? err->code
			                                : ZF_E_PROTOCOL;
		}
		p = nl + 1;
	}
	if (eof && l->partial.len > 0) {
		enum zf_status r =
		    l->fn(l->arg, l->partial.data, l->partial.len, err);

		zf_buf_reset(&l->partial);
		return r;
	}
	return ZF_OK;
}

enum zf_status
zf_run_lines(struct zf_child *c, char *const *argv, zf_line_fn fn, void *arg,
    size_t max_line, int cancel_fd, struct zf_error *err)
{
	struct lines l;
	enum zf_status r;
	char buf[65536];

	memset(&l, 0, sizeof(l));
	zf_buf_init(&l.partial, max_line);
	l.fn = fn;
	l.arg = arg;
	c->stdin_mode = ZF_IO_NULL;
	c->stdout_mode = ZF_IO_PIPE;
	r = zf_child_start(c, argv, err);
	if (r != ZF_OK)
		return r;
	fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) | O_NONBLOCK);
	while (c->out_fd >= 0 || c->err_fd >= 0 || !c->reaped) {
		struct pollfd p[4];
		int n;

		if (c->out_fd < 0 && c->err_fd < 0 && c->pidfd < 0) {
			zf_child_wait(c, true);
			break;
		}
		p[0].fd = cancel_fd;
		p[1].fd = c->out_fd;
		p[2].fd = c->err_fd;
		p[3].fd = c->out_fd < 0 && c->err_fd < 0 ? c->pidfd : -1;
		for (n = 0; n < 4; n++) {
			p[n].events = POLLIN;
			p[n].revents = 0;
		}
		n = poll(p, 4, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = zf_fail_errno(err, errno, "poll");
			break;
		}
		if (p[0].revents != 0) {
			r = zf_fail(err, ZF_E_CANCELED, "canceled");
			break;
		}
		if (p[1].revents != 0) {
			ssize_t k = read(c->out_fd, buf, sizeof(buf));

			if (k > 0)
				r = feed_lines(&l, buf, (size_t)k, false, err);
			else if (k == 0 ||
			    (errno != EINTR && errno != EAGAIN)) {
				zf_child_close_fd(&c->out_fd);
				r = feed_lines(&l, buf, 0, true, err);
			}
			if (r != ZF_OK)
				break;
		}
		if (p[2].revents != 0)
			zf_child_drain_stderr(c);
		if (p[3].revents != 0)
			zf_child_wait(c, false);
	}
	zf_buf_release(&l.partial);
	if (r != ZF_OK) {
		zf_child_release(c, GRACE_MS);
		return r;
	}
	zf_child_wait(c, true);
	return ZF_OK;
}
