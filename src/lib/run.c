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
