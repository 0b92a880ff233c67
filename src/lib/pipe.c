#include "compat.h"

#include <fcntl.h>

#include "zferry/pipe.h"
#include "codec.h"
#include "xfer.h"

#define GRACE_MS 2000

static enum zf_status
pipe_check(const struct zf_pipe_config *c, struct zf_error *err)
{
	if (c->compress == ZF_COMPRESS_AUTO ||
	    c->decompress == ZF_COMPRESS_AUTO)
		return zf_fail_input(err, "pipe: name the algorithm, not auto");
	if (c->compress != ZF_COMPRESS_NONE &&
	    c->decompress != ZF_COMPRESS_NONE)
		return zf_fail_input(err,
		    "pipe: compress or decompress, not both");
	if (c->argv != NULL && c->argv[0] == NULL)
		return zf_fail_input(err, "pipe: empty command");
	if (c->argv != NULL && c->compress == ZF_COMPRESS_NONE &&
	    c->decompress == ZF_COMPRESS_NONE)
		return zf_fail_input(err,
		    "pipe: a command needs --compress (it writes) or --decompress (it reads)");
	return ZF_OK;
}

enum zf_status
zf_pipe_run(struct zf_pipe_config *c, struct zf_error *err)
{
	struct zf_child child;
	struct zf_xfer x;
	struct zf_xfer_opts o;
	enum zf_status r;
	bool comp = c->compress != ZF_COMPRESS_NONE;

	if (pipe_check(c, err) != ZF_OK)
		return ZF_E_INVALID;
	memset(&x, 0, sizeof(x));
	memset(&o, 0, sizeof(o));
	zf_child_init(&child, "command", ZF_STAGE_NONE);
	x.in_fd = c->in_fd;
	x.out_fd = c->out_fd;
	o.cancel_fd = c->cancel_fd;
	o.stall_ns = c->stall_timeout_ms * 1000000u;
	o.relay.bwlimit = c->bwlimit;
	o.relay.buffer = c->buffer_size;
	if (comp || c->decompress != ZF_COMPRESS_NONE) {
		r = zf_codec_new(&o.relay.codec,
		    comp ? c->compress : c->decompress, comp,
		    c->level > 0 ? c->level : 1, comp ? c->threads : 0, err);
		if (r != ZF_OK)
			return r;
		o.relay.codec_compresses = comp;
	}
	if (c->argv != NULL) {
		child.stderr_inherit = true;
		if (comp) {
			/* the command writes the stream; we compress it */
			child.stdout_mode = ZF_IO_PIPE;
			x.src = &child;
		} else {
			/* we decompress into the command */
			child.stdin_mode = ZF_IO_PIPE;
			child.stdout_mode = ZF_IO_FD;
			child.stdout_fd = fcntl(c->out_fd, F_DUPFD_CLOEXEC, 3);
			x.dst = &child;
		}
		r = zf_child_start(&child, c->argv, err);
		if (r != ZF_OK) {
			zf_codec_free(o.relay.codec);
			return r;
		}
	}
	r = zf_xfer_run(&x, &o, err);
	c->bytes_in = x.relay.bytes_in;
	c->bytes_out = x.relay.bytes_out;
	if (r != ZF_OK && x.dst != NULL) {
		/*
		 * The stream broke (a truncated or corrupt compressed
		 * stream): the command gets the end of its input, so a zfs
		 * receive -s keeps what it has, and is stopped only if it
		 * does not exit by itself.
		 */
		zf_child_close_fd(&child.in_fd);
		zf_child_wait_ms(&child, GRACE_MS);
	}
	zf_xfer_stop(&x, GRACE_MS);
	if (r == ZF_OK && child.started && !zf_child_ok(&child)) {
		zf_fail(err, ZF_E_CHILD, "'%s' failed (exit %d)", c->argv[0],
		    zf_child_code(&child));
		if (err != NULL)
			err->child_status = zf_child_code(&child);
		r = ZF_E_CHILD;
	}
	zf_child_release(&child, GRACE_MS);
	return r;
}
