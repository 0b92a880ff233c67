#include "compat.h"

#include <poll.h>
#include <sys/stat.h>

#include "run.h"
#include "transport.h"

#define GRACE_MS 2000
/* ConnectTimeout (10 s) plus the login itself */
#define MASTER_WAIT_MS 30000

static bool
socket_there(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

enum zf_status
zf_master_start(struct zf_master *m, struct zf_session *s,
    struct zf_ssh_spec *ssh, const struct zf_location *loc,
    struct zf_error *err)
{
	struct zf_argv a = ZF_ARGV_INIT;
	char **argv;
	enum zf_status r;
	uint64_t deadline;

	memset(m, 0, sizeof(*m));
	zf_child_init(&m->child, "ssh", ZF_STAGE_SSH);
	m->loc = loc;
	snprintf(m->dir, sizeof(m->dir), "/tmp/zferry-ssh-%ld-XXXXXX",
	    (long)getpid());
	if (mkdtemp(m->dir) == NULL) /* mode 0700 */
		return zf_fail_errno(err, errno,
		    "cannot make a directory for the ssh socket");
	snprintf(m->path, sizeof(m->path), "%s/ssh", m->dir);
	ssh->control_path = m->path;
	zf_cmd_ssh_master(&a, ssh, loc);
	argv = zf_argv_finish(&a);
	if (argv == NULL) {
		rmdir(m->dir);
		ssh->control_path = NULL;
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	}
	{
		struct zf_event ev;
		char text[2048];

		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_COMMAND;
		ev.stage = ZF_STAGE_SSH;
		zf_cmd_describe(text, sizeof(text), (const char *const *)argv);
		ev.text = text;
		zf_session_emit(s, &ev, NULL, NULL);
	}
	r = zf_child_start(&m->child, argv, err);
	zf_argv_free_v(argv);
	if (r != ZF_OK) {
		rmdir(m->dir);
		ssh->control_path = NULL;
		return r;
	}
	m->running = true;
	deadline = zf_now_ns() + (uint64_t)MASTER_WAIT_MS * 1000000u;
	/* ready when its socket appears; failed when it exits first */
	while (!socket_there(m->path)) {
		struct pollfd p[3];

		p[0].fd = s->cancel_rd;
		p[1].fd = m->child.pidfd;
		p[2].fd = m->child.err_fd;
		p[0].events = p[1].events = p[2].events = POLLIN;
		poll(p, 3, 20);
		if (p[2].revents != 0)
			zf_child_drain_stderr(&m->child);
		if (p[0].revents != 0) {
			zf_master_stop(m, s, ssh);
			return zf_session_canceled(s, err);
		}
		if (zf_child_wait(&m->child, false)) {
			while (zf_child_drain_stderr(&m->child))
				;
			r = zf_child_failure(&m->child, loc, err);
			if (err != NULL && err->stage != ZF_STAGE_SSH)
				err->stage = ZF_STAGE_SSH;
			zf_master_stop(m, s, ssh);
			return r;
		}
		if (zf_now_ns() > deadline) {
			zf_master_stop(m, s, ssh);
			zf_fail(err, ZF_E_TIMEOUT,
			    "ssh to '%s': no connection after %d s", loc->host,
			    MASTER_WAIT_MS / 1000);
			if (err != NULL) {
				err->stage = ZF_STAGE_SSH;
				err->transient = true;
			}
			return ZF_E_TIMEOUT;
		}
	}
	return ZF_OK;
}

void
zf_master_stop(struct zf_master *m, struct zf_session *s,
    struct zf_ssh_spec *ssh)
{
	if (m->running && !m->child.reaped && socket_there(m->path)) {
		struct zf_argv a = ZF_ARGV_INIT;
		struct zf_child c;
		char **argv;

		zf_cmd_ssh_exit(&a, ssh, m->loc);
		argv = zf_argv_finish(&a);
		if (argv != NULL) {
			zf_child_init(&c, "ssh -O exit", ZF_STAGE_SSH);
			/* no cancel fd: this must run even after a cancel */
			zf_run_capture(&c, argv, NULL, -1, NULL);
			zf_child_release(&c, GRACE_MS);
			zf_argv_free_v(argv);
		}
		zf_child_wait_ms(&m->child, GRACE_MS);
	}
	(void)s;
	zf_child_release(&m->child, GRACE_MS);
	m->running = false;
	if (m->path[0] != '\0')
		unlink(m->path);
	if (m->dir[0] != '\0')
		rmdir(m->dir);
	m->dir[0] = m->path[0] = '\0';
	ssh->control_path = NULL;
}
