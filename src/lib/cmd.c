#include "compat.h"

#include "cmd.h"
#include "codec.h"

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
		/*
		 * A quote or a backslash is written outside the quotes,
		 * escaped: '\'' and '\\'.  POSIX shells need it for the
		 * quote; fish would read a backslash inside quotes as an
		 * escape, so none ever stands inside them.
		 */
		for (p = *argv; r == ZF_OK && *p != '\0'; p++) {
			if (*p == '\'')
				r = zf_buf_add(out, "'\\''", 4);
			else if (*p == '\\')
				r = zf_buf_add(out, "'\\\\'", 4);
			else
				r = zf_buf_add(out, p, 1);
		}
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

static void
zfs_send(struct zf_argv *a, const struct zf_spec *s, const char *zfs,
    bool estimate)
{
	zf_argv_push(a, zfs);
	zf_argv_push(a, "send");
	if (estimate) {
		zf_argv_push(a, "-n");
		zf_argv_push(a, "-v");
		zf_argv_push(a, "-P");
	}
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
zf_cmd_zfs_send(struct zf_argv *a, const struct zf_spec *s, const char *zfs)
{
	zfs_send(a, s, zfs, false);
}

void
zf_cmd_zfs_send_token(struct zf_argv *a, const char *zfs, const char *token,
    bool estimate)
{
	zf_argv_push(a, zfs);
	zf_argv_push(a, "send");
	if (estimate) {
		zf_argv_push(a, "-n");
		zf_argv_push(a, "-v");
		zf_argv_push(a, "-P");
	}
	zf_argv_push(a, "-t");
	zf_argv_push(a, token);
}

void
zf_cmd_zfs_send_estimate(struct zf_argv *a, const struct zf_spec *s,
    const char *zfs)
{
	zfs_send(a, s, zfs, true);
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

/*
 * The ssh argv up to and including the host.  master: the argv of the
 * connection master (-M -N) that the other commands share through
 * ssh->control_path.
 */
static void
ssh_argv(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc, bool master)
{
	static const char *const fixed[] = {"BatchMode=yes",
	    "StrictHostKeyChecking=yes", "PermitLocalCommand=no",
	    "ClearAllForwardings=yes", "ForwardAgent=no", "ForwardX11=no",
	    "RequestTTY=no", NULL};
	static const char *const defaults[] = {"ConnectTimeout=10",
	    "ServerAliveInterval=10", "ServerAliveCountMax=3", NULL};
	const char *const *p;
	char **q;

	zf_argv_push(a, ssh->program);
	for (p = fixed; *p != NULL; p++) {
		zf_argv_push(a, "-o");
		zf_argv_push(a, *p);
	}
	zf_argv_push(a, "-o");
	zf_argv_push(a, master ? "ControlMaster=yes" : "ControlMaster=no");
	zf_argv_push(a, "-o");
	if (ssh->control_path != NULL)
		zf_argv_pushf(a, "ControlPath=%s", ssh->control_path);
	else
		zf_argv_push(a, "ControlPath=none");
	if (master) {
		zf_argv_push(a, "-o");
		zf_argv_push(a, "ControlPersist=no");
	}
	zf_argv_push(a, "-o");
	zf_argv_push(a, "UpdateHostKeys=no");
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
	if (master)
		zf_argv_push(a, "-N");
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
}

void
zf_cmd_ssh_quoted(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc, const char *remote_cmd)
{
	ssh_argv(a, ssh, loc, false);
	zf_argv_push(a, remote_cmd);
}

void
zf_cmd_ssh_master(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc)
{
	ssh_argv(a, ssh, loc, true);
}

void
zf_cmd_ssh_exit(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc)
{
	zf_argv_push(a, ssh->program);
	zf_argv_push(a, "-o");
	zf_argv_pushf(a, "ControlPath=%s", ssh->control_path);
	if (ssh->port != 0) {
		zf_argv_push(a, "-p");
		zf_argv_pushf(a, "%u", ssh->port);
	}
	if (loc->user[0] != '\0') {
		zf_argv_push(a, "-l");
		zf_argv_push(a, loc->user);
	}
	zf_argv_push(a, "-O");
	zf_argv_push(a, "exit");
	zf_argv_push(a, "--");
	zf_argv_push(a, loc->host);
}

enum zf_status
zf_cmd_ssh(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc, const char *const *remote_argv,
    struct zf_error *err)
{
	struct zf_buf cmd = ZF_BUF_INIT(ZF_REMOTE_CMD_MAX);
	enum zf_status r;

	r = zf_sh_quote(&cmd, remote_argv, err);
	if (r == ZF_OK)
		zf_cmd_ssh_quoted(a, ssh, loc, cmd.data);
	zf_buf_release(&cmd);
	return r;
}

/* Appends the quoted words, then a fixed separator (may be ""). */
static enum zf_status
quote_then(struct zf_buf *b, const char *const *words, const char *sep,
    struct zf_error *err)
{
	if (zf_sh_quote(b, words, err) != ZF_OK)
		return ZF_E_INVALID;
	if (zf_buf_adds(b, sep) != ZF_OK)
		return zf_fail_input(err,
		    "remote command is longer than %zu bytes", b->max);
	return ZF_OK;
}

static enum zf_status
remote_cmd(struct zf_buf *b, const struct zf_spec *s, const struct zf_wrap *w,
    const char *const *zfs_argv, struct zf_error *err)
{
	const char *env[] = {"env", "LC_ALL=C", NULL};
	const char *alg = zf_compress_name(w != NULL ? w->alg : 0);
	char level[32];

	snprintf(level, sizeof(level), "%s:%d", alg, w != NULL ? w->level : 0);
	switch (w != NULL ? w->kind : ZF_WRAP_NONE) {
	case ZF_WRAP_NONE:
		break;
	case ZF_WRAP_ZFERRY_DECOMPRESS:
	case ZF_WRAP_ZFERRY_COMPRESS: {
		bool dec = w->kind == ZF_WRAP_ZFERRY_DECOMPRESS;
		const char *pipe[] = {s->remote_zferry, "pipe",
		    dec ? "--decompress" : "--compress", dec ? alg : level,
		    "--", NULL};

		/* zferry gives its children LC_ALL=C itself */
		if (quote_then(b, pipe, " ", err) != ZF_OK)
			return ZF_E_INVALID;
		return quote_then(b, zfs_argv, "", err);
	}
	case ZF_WRAP_TOOL_DECOMPRESS: {
		const char *tool[] = {alg, "-dc", NULL};

		if (quote_then(b, tool, " | ", err) != ZF_OK)
			return ZF_E_INVALID;
		break;
	}
	}
	if (quote_then(b, env, " ", err) != ZF_OK)
		return ZF_E_INVALID;
	return quote_then(b, zfs_argv, "", err);
}

enum zf_status
zf_cmd_on(struct zf_argv *a, const struct zf_spec *s,
    const struct zf_location *loc, const struct zf_wrap *wrap,
    const char *const *zfs_argv, struct zf_error *err)
{
	struct zf_buf b = ZF_BUF_INIT(ZF_REMOTE_CMD_MAX);
	enum zf_status r;

	if (!zf_location_is_remote(loc)) {
		zf_argv_pushv(a, zfs_argv);
		return ZF_OK;
	}
	r = remote_cmd(&b, s, wrap, zfs_argv, err);
	if (r == ZF_OK)
		zf_cmd_ssh_quoted(a, &s->ssh, loc, b.data);
	zf_buf_release(&b);
	return r;
}

enum zf_status
zf_cmd_probe(struct zf_argv *a, const struct zf_spec *s,
    const struct zf_location *loc, const char *cmd, struct zf_error *err)
{
	const char *zferry[] = {s->remote_zferry, "pipe", "--probe", NULL};
	const char *cv[] = {"command", "-v", NULL, NULL};
	/* cmd NULL: "zfs" alone, whose usage lists every subcommand */
	const char *zfs[] = {"env", "LC_ALL=C", s->remote_zfs, cmd, NULL};
	static const char *const tools[] = {"zstd", "lz4"};
	struct zf_buf b = ZF_BUF_INIT(ZF_REMOTE_CMD_MAX);
	enum zf_status r;
	size_t i;

	r = quote_then(&b, zferry, " 2>/dev/null; ", err);
	for (i = 0; r == ZF_OK && i < ZF_ARRAY_SIZE(tools); i++) {
		cv[2] = tools[i];
		r = quote_then(&b, cv, " 2>/dev/null; ", err);
	}
	if (r == ZF_OK)
		r = quote_then(&b, zfs, "", err);
	if (r == ZF_OK)
		zf_cmd_ssh_quoted(a, &s->ssh, loc, b.data);
	zf_buf_release(&b);
	return r;
}

static bool
plain_word(const char *w)
{
	const char *p;

	if (*w == '\0')
		return false;
	for (p = w; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || strchr("@%+=:,./_-", *p)))
			return false;
	return true;
}

/* For people: words quoted only when they need it, one line, escaped. */
static enum zf_status
describe_words(struct zf_buf *b, const char *const *argv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *one[] = {argv[i], NULL};
		enum zf_status r = ZF_OK;

		if (i > 0)
			r = zf_buf_add(b, " ", 1);
		if (r == ZF_OK)
			r = plain_word(argv[i]) ? zf_buf_adds(b, argv[i])
			                        : zf_sh_quote(b, one, NULL);
		if (r != ZF_OK)
			return r;
	}
	return ZF_OK;
}

void
zf_cmd_describe(char *dst, size_t dstsz, const char *const *argv)
{
	struct zf_buf b = ZF_BUF_INIT(16 * 1024);
	size_t n = zf_strv_len(argv);
	enum zf_status r;
	bool ssh = n >= 3 && strcmp(argv[n - 3], "--") == 0 &&
	    strstr(argv[0], "ssh") != NULL;

	/*
	 * An ssh command ends with the remote command line, already quoted
	 * for the remote shell: show it as it is, after "remote:".
	 */
	r = describe_words(&b, argv, ssh ? n - 1 : n);
	if (r == ZF_OK && ssh && zf_buf_adds(&b, " remote: ") == ZF_OK)
		r = zf_buf_adds(&b, argv[n - 1]);
	if (r != ZF_OK || b.data == NULL)
		zf_escape(dst, dstsz, "(command too long)", 18);
	else
		zf_escape(dst, dstsz, b.data, b.len);
	zf_buf_release(&b);
}
