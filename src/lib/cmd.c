#include "compat.h"

#include "cmd.h"

enum zf_status
zf_sh_quote(struct zf_buf *out, const char *const *argv, struct zf_error *err)
{
	size_t start = out->len;
	const char *p;

	for (; *argv != NULL; argv++) {
		enum zf_status r = ZF_OK;

		if (out->len > start)
			r = zf_buf_add(out, " ", 1);
		if (r == ZF_OK)
			r = zf_buf_add(out, "'", 1);
		for (p = *argv; r == ZF_OK && *p != '\0'; p++)
			r = *p == '\'' ? zf_buf_add(out, "'\\''", 4)
			               : zf_buf_add(out, p, 1);
		if (r == ZF_OK)
			r = zf_buf_add(out, "'", 1);
		if (r != ZF_OK) {
			out->len = start;
			if (out->data != NULL)
				out->data[start] = '\0';
			return zf_fail_input(err,
			    "remote command is longer than %zu bytes",
			    out->max);
		}
	}
	return ZF_OK;
}

static void
push_flag(struct zf_argv *a, unsigned flags, unsigned bit, const char *opt)
{
	if (flags & bit)
		zf_argv_push(a, opt);
}

void
zf_cmd_zfs_send(struct zf_argv *a, const struct zf_spec *s, const char *zfs)
{
	zf_argv_push(a, zfs);
	zf_argv_push(a, "send");
	push_flag(a, s->send_flags, ZF_SEND_REPLICATE, "-R");
	push_flag(a, s->send_flags, ZF_SEND_RAW, "-w");
	push_flag(a, s->send_flags, ZF_SEND_COMPRESSED, "-c");
	push_flag(a, s->send_flags, ZF_SEND_LARGE_BLOCK, "-L");
	push_flag(a, s->send_flags, ZF_SEND_EMBED, "-e");
	push_flag(a, s->send_flags, ZF_SEND_PROPS, "-p");
	push_flag(a, s->send_flags, ZF_SEND_HOLDS, "-h");
	push_flag(a, s->send_flags, ZF_SEND_BACKUP, "-b");
	if (s->base != NULL) {
		zf_argv_push(a, s->intermediates ? "-I" : "-i");
		zf_argv_push(a, s->base);
	}
	zf_argv_push(a, s->source.dataset);
}

void
zf_cmd_zfs_recv(struct zf_argv *a, const struct zf_spec *s, const char *zfs)
{
	char **p;

	zf_argv_push(a, zfs);
	zf_argv_push(a, "receive");
	push_flag(a, s->recv_flags, ZF_RECV_FORCE, "-F");
	push_flag(a, s->recv_flags, ZF_RECV_NOMOUNT, "-u");
	push_flag(a, s->recv_flags, ZF_RECV_RESUMABLE, "-s");
	for (p = s->props; p != NULL && *p != NULL; p++) {
		zf_argv_push(a, "-o");
		zf_argv_push(a, *p);
	}
	if (s->origin != NULL) {
		zf_argv_push(a, "-o");
		zf_argv_pushf(a, "origin=%s", s->origin);
	}
	for (p = s->excludes; p != NULL && *p != NULL; p++) {
		zf_argv_push(a, "-x");
		zf_argv_push(a, *p);
	}
	zf_argv_push(a, s->target.dataset);
}

enum zf_status
zf_cmd_ssh(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc, const char *const *remote_argv,
    struct zf_error *err)
{
	static const char *const fixed[] = {"BatchMode=yes",
	    "StrictHostKeyChecking=yes", "PermitLocalCommand=no",
	    "ClearAllForwardings=yes", "ForwardAgent=no", "ForwardX11=no",
	    "RequestTTY=no", "ControlMaster=no", "ControlPath=none",
	    "UpdateHostKeys=no", NULL};
	static const char *const defaults[] = {"ConnectTimeout=10",
	    "ServerAliveInterval=10", "ServerAliveCountMax=3", NULL};
	struct zf_buf cmd = ZF_BUF_INIT(ZF_REMOTE_CMD_MAX);
	const char *const *p;
	char **q;
	enum zf_status r;

	r = zf_sh_quote(&cmd, remote_argv, err);
	if (r != ZF_OK) {
		zf_buf_release(&cmd);
		return r;
	}
	zf_argv_push(a, ssh->program);
	for (p = fixed; *p != NULL; p++) {
		zf_argv_push(a, "-o");
		zf_argv_push(a, *p);
	}
	if (ssh->known_hosts != NULL) {
		zf_argv_push(a, "-o");
		zf_argv_pushf(a, "UserKnownHostsFile=%s", ssh->known_hosts);
	}
	for (q = ssh->options; q != NULL && *q != NULL; q++) {
		zf_argv_push(a, "-o");
		zf_argv_push(a, *q);
	}
	for (p = defaults; *p != NULL; p++) {
		zf_argv_push(a, "-o");
		zf_argv_push(a, *p);
	}
	zf_argv_push(a, "-T");
	zf_argv_push(a, "-x");
	if (ssh->port != 0) {
		zf_argv_push(a, "-p");
		zf_argv_pushf(a, "%u", ssh->port);
	}
	if (ssh->key_file != NULL) {
		zf_argv_push(a, "-i");
		zf_argv_push(a, ssh->key_file);
		zf_argv_push(a, "-o");
		zf_argv_push(a, "IdentitiesOnly=yes");
	}
	if (ssh->cipher != NULL) {
		zf_argv_push(a, "-c");
		zf_argv_push(a, ssh->cipher);
	}
	if (loc->user[0] != '\0') {
		zf_argv_push(a, "-l");
		zf_argv_push(a, loc->user);
	}
	zf_argv_push(a, "--");
	zf_argv_push(a, loc->host);
	zf_argv_push(a, cmd.data);
	zf_buf_release(&cmd);
	return ZF_OK;
}

enum zf_status
zf_cmd_on(struct zf_argv *a, const struct zf_spec *s,
    const struct zf_location *loc, const char *const *zfs_argv,
    struct zf_error *err)
{
	struct zf_argv remote = ZF_ARGV_INIT;
	enum zf_status r;

	if (!zf_location_is_remote(loc)) {
		zf_argv_pushv(a, zfs_argv);
		return ZF_OK;
	}
	zf_argv_push(&remote, "env");
	zf_argv_push(&remote, "LC_ALL=C");
	zf_argv_pushv(&remote, zfs_argv);
	if (!zf_argv_ok(&remote)) {
		zf_argv_clear(&remote);
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	}
	r = zf_cmd_ssh(a, &s->ssh, loc, (const char *const *)remote.v, err);
	zf_argv_clear(&remote);
	return r;
}

void
zf_cmd_describe(char *dst, size_t dstsz, const char *const *argv)
{
	struct zf_buf b = ZF_BUF_INIT(16 * 1024);

	if (zf_sh_quote(&b, argv, NULL) != ZF_OK || b.data == NULL) {
		zf_escape(dst, dstsz, "(command too long)", 18);
	} else {
		zf_escape(dst, dstsz, b.data, b.len);
	}
	zf_buf_release(&b);
}
