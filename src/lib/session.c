#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "codec.h"
#include "rate.h"
#include "run.h"
#include "session.h"
#include "xfer.h"

#define GRACE_MS 2000
#define ESTIMATE_OUT_MAX (1024 * 1024)
#define PROBE_OUT_MAX (16 * 1024)

enum zf_status
zf_session_init(struct zf_session *s, const struct zf_spec *spec,
    struct zf_error *err)
{
	int fds[2];

	memset(s, 0, sizeof(*s));
	s->spec = spec;
	s->src.loc = &spec->source;
	s->dst.loc = &spec->target;
	atomic_init(&s->cancel_sig, 0);
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		s->cancel_rd = s->cancel_wr = -1;
		return zf_fail_errno(err, errno, "cannot make a pipe");
	}
	s->cancel_rd = fds[0];
	s->cancel_wr = fds[1];
	pthread_mutex_init(&s->lock, NULL);
	zf_shared_bucket_init(&s->bucket, spec->bwlimit, zf_now_ns());
	return ZF_OK;
}

void
zf_session_release(struct zf_session *s)
{
	if (s->cancel_rd < 0)
		return;
	close(s->cancel_rd);
	close(s->cancel_wr);
	s->cancel_rd = s->cancel_wr = -1;
	pthread_mutex_destroy(&s->lock);
	zf_shared_bucket_destroy(&s->bucket);
}

void
zf_session_cancel(struct zf_session *s, int signo)
{
	int saved = errno;
	int expected = 0;
	ssize_t n;

	/* the first reason wins; the byte wakes every poll loop for good */
	atomic_compare_exchange_strong(&s->cancel_sig, &expected,
	    signo != 0 ? signo : -1);
	n = write(s->cancel_wr, "x", 1);
	(void)n;
	errno = saved;
}

void
zf_location_text(char *dst, size_t n, const struct zf_location *loc,
    const char *dataset)
{
	const char *fmt;

	if (dataset == NULL)
		dataset = loc->dataset;
	if (!zf_location_is_remote(loc)) {
		snprintf(dst, n, "%s", dataset);
		return;
	}
	fmt = strchr(loc->host, ':') ? "%s%s[%s]:%s" : "%s%s%s:%s";
	snprintf(dst, n, fmt, loc->user, loc->user[0] ? "@" : "", loc->host,
	    dataset);
}

void
zf_session_emit(struct zf_session *s, struct zf_event *ev, const char *source,
    const char *target)
{
	if (s->fn == NULL)
		return;
	if (source != NULL)
		ev->source = source;
	if (target != NULL)
		ev->target = target;
	pthread_mutex_lock(&s->lock);
	s->fn(ev, s->arg);
	pthread_mutex_unlock(&s->lock);
}

void
zf_session_text(struct zf_session *s, enum zf_event_type type, const char *fmt,
    ...)
{
	struct zf_event ev;
	char raw[1024], text[2048];
	va_list ap;

	if (s->fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	zf_escape(text, sizeof(text), raw, strlen(raw));
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.text = text;
	zf_session_emit(s, &ev, NULL, NULL);
}

static void
emit_command(struct zf_session *s, enum zf_stage stage, char **argv)
{
	struct zf_event ev;
	char text[2048];

	if (s->fn == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_COMMAND;
	ev.stage = stage;
	zf_cmd_describe(text, sizeof(text), (const char *const *)argv);
	ev.text = text;
	zf_session_emit(s, &ev, NULL, NULL);
}

bool
zf_session_is_canceled(struct zf_session *s)
{
	return atomic_load(&s->cancel_sig) != 0;
}

enum zf_status
zf_session_canceled(struct zf_session *s, struct zf_error *err)
{
	int sig = atomic_load(&s->cancel_sig);

	if (err != NULL && err->code == ZF_E_CANCELED)
		err->code = ZF_OK; /* replace the inner "canceled" */
	zf_fail(err, ZF_E_CANCELED, "canceled%s%s", sig > 0 ? " by " : "",
	    sig > 0 ? strsignal(sig) : "");
	if (err != NULL && err->code == ZF_E_CANCELED)
		err->signo = sig > 0 ? sig : 0;
	return ZF_E_CANCELED;
}

static const char *
zfs_for(const struct zf_session *s, const struct zf_location *loc)
{
	return zf_location_is_remote(loc) ? s->spec->remote_zfs
	                                  : s->spec->zfs_program;
}

/* Turns a zfs argv into the argv that runs it on loc; clears zfs_argv. */
static char **
side_argv(struct zf_session *s, const struct zf_location *loc,
    const struct zf_wrap *wrap, struct zf_argv *zfs_argv, struct zf_error *err)
{
	struct zf_argv a = ZF_ARGV_INIT;
	char **v = NULL;

	if (!zf_argv_ok(zfs_argv)) {
		zf_fail(err, ZF_E_NOMEM, "out of memory");
	} else if (zf_cmd_on(&a, s->spec, loc, wrap,
	               (const char *const *)zfs_argv->v, err) == ZF_OK) {
		v = zf_argv_finish(&a);
		if (v == NULL)
			zf_fail(err, ZF_E_NOMEM, "out of memory");
	}
	zf_argv_clear(zfs_argv);
	zf_argv_clear(&a);
	return v;
}

enum zf_status
zf_child_failure(const struct zf_child *c, const struct zf_location *loc,
    struct zf_error *err)
{
	char line[ZF_ERRMSG_MAX];
	int code = zf_child_code(c);
	struct zf_verdict v;
	bool remote = zf_location_is_remote(loc);
	const char *text = c->errbuf.data ? c->errbuf.data : "";
	char where[ZF_LOC_FIELD_MAX + 8] = "";
	char status[48];

	v = zf_classify(c->stage, remote, code, text, c->errbuf.len);
	/*
	 * For a remote side the child is the local ssh client: killed by a
	 * signal that zferry did not send, it took the link down with it
	 * (what ran at the far end may have kept resumable state).  A
	 * retry may succeed.
	 */
	if (remote && !v.known && c->reaped && WIFSIGNALED(c->status) &&
	    !c->killed) {
		v.stage = ZF_STAGE_SSH;
		v.transient = true;
	}
	zf_stderr_line(line, sizeof(line), text, c->errbuf.len);
	if (remote)
		snprintf(where, sizeof(where), " on '%s'", loc->host);
	if (code > 128 && code < 128 + 65)
		snprintf(status, sizeof(status), "killed by %s",
		    strsignal(code - 128));
	else
		snprintf(status, sizeof(status), "exit %d", code);
	if (v.stage == ZF_STAGE_SSH)
		zf_fail(err, ZF_E_CHILD, "ssh to '%s' failed (%s)%s%s",
		    loc->host, status, line[0] ? ": " : "", line);
	else
		zf_fail(err, ZF_E_CHILD, "%s%s failed (%s)%s%s",
		    c->name != NULL ? c->name : zf_stage_str(c->stage), where,
		    status, line[0] ? ": " : "", line);
	if (err != NULL && err->code == ZF_E_CHILD) {
		err->stage = v.stage;
		err->transient = v.transient;
		err->child_status = code;
	}
	return ZF_E_CHILD;
}

/* Runs argv to completion, output captured; maps cancel to the signal. */
static enum zf_status
run_short(struct zf_session *s, struct zf_child *c, char **argv,
    struct zf_buf *out, struct zf_error *err)
{
	enum zf_status r;

	emit_command(s, c->stage, argv);
	r = zf_run_capture(c, argv, out, s->cancel_rd, err);
	if (r == ZF_E_CANCELED)
		r = zf_session_canceled(s, err);
	return r;
}

enum zf_status
zf_session_zfs(struct zf_session *s, const struct zf_location *loc,
    const char *const *args, struct zf_buf *out, bool even_canceled,
    struct zf_child *c, struct zf_error *err)
{
	struct zf_argv za = ZF_ARGV_INIT;
	char **argv;
	enum zf_status r;

	zf_argv_push(&za, zfs_for(s, loc));
	zf_argv_pushv(&za, args);
	argv = side_argv(s, loc, NULL, &za, err);
	if (argv == NULL)
		return err != NULL && err->code ? err->code : ZF_E_NOMEM;
	if (even_canceled) {
		/* no cancel fd: this must run even after a cancel */
		emit_command(s, c->stage, argv);
		r = zf_run_capture(c, argv, out, -1, err);
	} else {
		r = run_short(s, c, argv, out, err);
	}
	zf_argv_free_v(argv);
	return r;
}

/* "\tCMD " at the start of an indented usage line: zfs has that command */
static bool
has_command(const char *text, const char *cmd)
{
	const char *p = text;
	size_t n = strlen(cmd);

	while ((p = strstr(p, cmd)) != NULL) {
		if (p > text && (p[-1] == '\t' || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\t' || p[n] == '\n')) {
			const char *q = p;

			while (q > text && (q[-1] == ' ' || q[-1] == '\t'))
				q--;
			if (q == text || q[-1] == '\n')
				return true;
		}
		p += n;
	}
	return false;
}

enum zf_status
zf_session_probe(struct zf_session *s, struct zf_side *sd, struct zf_error *err)
{
	struct zf_argv a = ZF_ARGV_INIT;
	struct zf_buf out = ZF_BUF_INIT(PROBE_OUT_MAX);
	struct zf_child c;
	char **argv = NULL;
	enum zf_status r;
	const char *text, *p, *eol;

	if (sd->probed)
		return ZF_OK;
	if (zf_location_is_remote(sd->loc)) {
		if (zf_cmd_probe(&a, s->spec, sd->loc, NULL, err) != ZF_OK)
			return ZF_E_INVALID;
	} else {
		zf_argv_push(&a, s->spec->zfs_program);
	}
	argv = zf_argv_finish(&a);
	if (argv == NULL)
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	zf_child_init(&c, "zfs", ZF_STAGE_PROBE);
	r = run_short(s, &c, argv, &out, err);
	zf_argv_free_v(argv);
	if (r == ZF_OK) {
		text = c.errbuf.data != NULL ? c.errbuf.data : "";
		if (strstr(text, "usage:") == NULL) {
			r = zf_child_failure(&c, sd->loc, err);
		} else {
			sd->send_opts =
			    zf_parse_usage_opts(text, c.errbuf.len, "send");
			sd->recv_opts =
			    zf_parse_usage_opts(text, c.errbuf.len, "receive");
			sd->list_opts =
			    zf_parse_usage_opts(text, c.errbuf.len, "list");
			sd->has_bookmark = has_command(text, "bookmark");
			sd->has_hold = has_command(text, "hold");
			sd->probed = true;
		}
	}
	for (p = out.data; r == ZF_OK && p != NULL && *p != '\0';
	     p = *eol ? eol + 1 : eol) {
		size_t n;

		eol = strchrnul(p, '\n');
		n = (size_t)(eol - p);
		if (n == strlen(ZF_PIPE_PROTOCOL) &&
		    memcmp(p, ZF_PIPE_PROTOCOL, n) == 0)
			sd->has_zferry = true;
		else if (n >= 5 && memcmp(eol - 5, "/zstd", 5) == 0)
			sd->has_zstd = true;
		else if (n >= 4 && memcmp(eol - 4, "/lz4", 4) == 0)
			sd->has_lz4 = true;
	}
	zf_buf_release(&out);
	zf_child_release(&c, GRACE_MS);
	return r;
}

struct need {
	char opt;
	bool wanted;
	const char *what;
};

static enum zf_status
check_side(struct zf_session *s, struct zf_side *sd, bool send,
    const struct need *needs, size_t n, struct zf_error *err)
{
	char where[ZF_LOC_FIELD_MAX + 16] = "this host";
	size_t k;
	bool any = false;

	for (k = 0; k < n; k++)
		any |= needs[k].wanted;
	if (!any)
		return ZF_OK;
	if (zf_session_probe(s, sd, err) != ZF_OK)
		return err != NULL && err->code ? err->code : ZF_E_CHILD;
	if (zf_location_is_remote(sd->loc))
		snprintf(where, sizeof(where), "'%s'", sd->loc->host);
	for (k = 0; k < n; k++) {
		zf_optset opts = send ? sd->send_opts : sd->recv_opts;

		if (!needs[k].wanted || zf_opt_has(opts, needs[k].opt))
			continue;
		zf_fail(err, ZF_E_UNSUPPORTED,
		    "%s is not supported by the zfs on %s (its 'zfs %s' has no -%c)",
		    needs[k].what, where, send ? "send" : "receive",
		    needs[k].opt);
		if (err != NULL)
			err->stage = send ? ZF_STAGE_SEND : ZF_STAGE_RECV;
		return ZF_E_UNSUPPORTED;
	}
	return ZF_OK;
}

enum zf_status
zf_session_check(struct zf_session *s, const struct zf_spec *x,
    struct zf_error *err)
{
	const struct need send_needs[] = {
	    {'w', (x->send_flags & ZF_SEND_RAW) != 0, "-w (--raw)"},
	    {'c', (x->send_flags & ZF_SEND_COMPRESSED) != 0,
	        "-c (--compressed)"},
	    {'L', (x->send_flags & ZF_SEND_LARGE_BLOCK) != 0,
	        "-L (--large-block)"},
	    {'e', (x->send_flags & ZF_SEND_EMBED) != 0, "-e (--embed)"},
	    {'h', (x->send_flags & ZF_SEND_HOLDS) != 0, "-h (--holds)"},
	    {'b', (x->send_flags & ZF_SEND_BACKUP) != 0, "-b (--backup)"},
	};
	const struct need recv_needs[] = {
	    {'u', (x->recv_flags & ZF_RECV_NOMOUNT) != 0, "-u (--no-mount)"},
	    {'s', (x->recv_flags & ZF_RECV_RESUMABLE) != 0, "-s (--resumable)"},
	    {'o', x->props[0] != NULL, "-o PROPERTY=VALUE"},
	    {'o', x->origin != NULL, "-o origin= (--origin)"},
	    {'x', x->excludes[0] != NULL, "-x PROPERTY"},
	};

	if (check_side(s, &s->src, true, send_needs, ZF_ARRAY_SIZE(send_needs),
	        err) != ZF_OK)
		return err != NULL && err->code ? err->code : ZF_E_UNSUPPORTED;
	return check_side(s, &s->dst, false, recv_needs,
	    ZF_ARRAY_SIZE(recv_needs), err);
}

/* The side whose host runs the remote end of the link, or NULL. */
static struct zf_side *
wire_side(struct zf_session *s)
{
	if (zf_location_is_remote(s->dst.loc))
		return &s->dst;
	if (zf_location_is_remote(s->src.loc))
		return &s->src;
	return NULL;
}

/* Whether compression may apply at all (before asking the remote host). */
static bool
compression_wanted(const struct zf_spec *sp)
{
	if (sp->compress == ZF_COMPRESS_NONE)
		return false;
	if (!zf_location_is_remote(&sp->source) &&
	    !zf_location_is_remote(&sp->target))
		return false;
	/* raw and -c streams are compressed already: they do not shrink */
	if (sp->compress == ZF_COMPRESS_AUTO &&
	    (sp->send_flags & (ZF_SEND_RAW | ZF_SEND_COMPRESSED)))
		return false;
	return true;
}

enum zf_status
zf_session_plan_link(struct zf_session *s, struct zf_error *err)
{
	const struct zf_spec *sp = s->spec;
	enum zf_compress_alg alg = sp->compress;
	bool explicit = alg == ZF_COMPRESS_ZSTD || alg == ZF_COMPRESS_LZ4;
	struct zf_side *sd;
	bool has_tool;

	s->alg = ZF_COMPRESS_NONE;
	if (!compression_wanted(sp)) {
		if (explicit)
			zf_session_text(s, ZF_EV_WARNING,
			    "--compress %s ignored: source and target are on this host, no link to compress",
			    zf_compress_name(alg));
		return ZF_OK;
	}
	if (alg == ZF_COMPRESS_AUTO)
		alg = ZF_COMPRESS_ZSTD;
	sd = wire_side(s);
	if (zf_session_probe(s, sd, err) != ZF_OK)
		return err != NULL && err->code ? err->code : ZF_E_CHILD;
	has_tool = alg == ZF_COMPRESS_ZSTD ? sd->has_zstd : sd->has_lz4;
	if (sd->has_zferry) {
		struct zf_wrap *w = sd == &s->dst ? &s->dst_wrap : &s->src_wrap;

		w->kind = sd == &s->dst ? ZF_WRAP_ZFERRY_DECOMPRESS
		                        : ZF_WRAP_ZFERRY_COMPRESS;
		w->alg = alg;
		w->level = sp->compress_level;
	} else if (sd == &s->dst && has_tool) {
		s->dst_wrap.kind = ZF_WRAP_TOOL_DECOMPRESS;
		s->dst_wrap.alg = alg;
	} else if (explicit) {
		zf_fail(err, ZF_E_UNSUPPORTED,
		    "--compress %s: '%s' has %s (%s)", zf_compress_name(alg),
		    sd->loc->host,
		    sd == &s->dst ? "neither zferry nor that decompressor"
		                  : "no zferry to compress there",
		    sp->remote_zferry_given
		        ? "--remote-zferry did not answer"
		        : "install zferry there or name it with --remote-zferry");
		if (err != NULL)
			err->stage = ZF_STAGE_RELAY;
		return ZF_E_UNSUPPORTED;
	} else {
		zf_session_text(s, ZF_EV_NOTE, "not compressing: '%s' has %s",
		    sd->loc->host,
		    sd == &s->dst ? "neither zferry nor zstd"
		                  : "no zferry to compress there");
		return ZF_OK;
	}
	s->alg = alg;
	zf_session_text(s, ZF_EV_NOTE,
	    "compressing with %s level %d (%s on '%s')", zf_compress_name(alg),
	    sp->compress_level,
	    sd->has_zferry ? "zferry" : zf_compress_name(alg), sd->loc->host);
	return ZF_OK;
}

/* The zfs send argv of a transfer (or its estimate). */
static void
send_args(struct zf_session *s, const struct zf_spec *x, const char *token,
    bool estimate, struct zf_argv *za)
{
	const char *zfs = zfs_for(s, &x->source);

	if (token != NULL)
		zf_cmd_zfs_send_token(za, zfs, token, estimate);
	else if (estimate)
		zf_cmd_zfs_send_estimate(za, x, zfs);
	else
		zf_cmd_zfs_send(za, x, zfs);
}

/*
 * Asks the sending side for the stream size (zfs send -nvP).  A zfs that
 * cannot estimate leaves it unknown; a zfs that refuses the send itself
 * (a missing snapshot, say) fails the transfer here, before the receiver
 * runs.
 */
static enum zf_status
estimate(struct zf_session *s, const struct zf_spec *x, const char *token,
    uint64_t *est, struct zf_error *err)
{
	struct zf_argv za = ZF_ARGV_INIT;
	struct zf_buf out = ZF_BUF_INIT(ESTIMATE_OUT_MAX);
	struct zf_child c;
	char **argv;
	enum zf_status r;
	const char *text;

	*est = ZF_UNKNOWN;
	/*
	 * The send runs on the session's source side: a probed zfs there
	 * without send -n -P (zfs-fuse) need not be asked.
	 */
	if (s->src.probed &&
	    !(zf_opt_has(s->src.send_opts, 'n') &&
	        zf_opt_has(s->src.send_opts, 'P')))
		return ZF_OK;
	send_args(s, x, token, true, &za);
	argv = side_argv(s, &x->source, NULL, &za, err);
	if (argv == NULL)
		return err != NULL && err->code ? err->code : ZF_E_NOMEM;
	zf_child_init(&c, "zfs send", ZF_STAGE_SEND);
	r = run_short(s, &c, argv, &out, err);
	zf_argv_free_v(argv);
	text = c.errbuf.data != NULL ? c.errbuf.data : "";
	if (r == ZF_OK && zf_child_ok(&c)) {
		/* OpenZFS prints the dry run on stdout, older ones on stderr */
		*est = zf_parse_estimate(out.data ? out.data : "", out.len);
		if (*est == ZF_UNKNOWN)
			*est = zf_parse_estimate(text, c.errbuf.len);
	} else if (r == ZF_OK &&
	    (strstr(text, "invalid option") != NULL ||
	        strstr(text, "usage:") != NULL)) {
		zf_session_text(s, ZF_EV_NOTE,
		    "no size estimate: the zfs on the source has no send -nvP");
	} else if (r == ZF_OK) {
		r = zf_child_failure(&c, &x->source, err);
	}
	zf_buf_release(&out);
	zf_child_release(&c, GRACE_MS);
	return r;
}

struct progress_ctx {
	struct zf_session *s;
	const char *source;
	const char *target;
	uint64_t estimate;
	uint64_t start_ns;
	struct zf_meter meter;
};

static void
on_progress(void *arg, const struct zf_relay *rl, uint64_t now_ns)
{
	struct progress_ctx *p = arg;
	struct zf_event ev;
	uint64_t bytes = zf_relay_stream_bytes(rl);

	zf_meter_add(&p->meter, now_ns, bytes);
	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_PROGRESS;
	ev.estimated_bytes = p->estimate;
	ev.bytes = bytes;
	ev.wire_bytes = zf_relay_wire_bytes(rl);
	ev.bytes_per_second = zf_meter_rate(&p->meter);
	ev.eta_seconds = zf_eta(p->estimate, bytes, ev.bytes_per_second);
	ev.elapsed_ns = now_ns - p->start_ns;
	zf_session_emit(p->s, &ev, p->source, p->target);
}

/* Decides which stage failed first and why. */
static enum zf_status
verdict(const struct zf_spec *x, struct zf_xfer *xf, struct zf_child *snd,
    struct zf_child *rcv, struct zf_error *err)
{
	bool send_ok = zf_child_ok(snd);
	bool recv_ok = zf_child_ok(rcv);

	if (send_ok && recv_ok)
		return ZF_OK;
	/*
	 * The receiver took a whole stream (zfs receive exits 0 only then)
	 * and closed its input while the sender had yet to exit: the
	 * sender's SIGTERM from us, or its broken pipe, is no failure.
	 */
	if (recv_ok && xf->out_closed_first)
		return ZF_OK;
	/*
	 * When the receiver stopped reading first, the sender's failure
	 * (SIGPIPE, SIGTERM from us, "Broken pipe") follows from it.
	 */
	if (!recv_ok && (xf->out_closed_first || send_ok))
		return zf_child_failure(rcv, &x->target, err);
	if (!send_ok)
		return zf_child_failure(snd, &x->source, err);
	return zf_child_failure(rcv, &x->target, err);
}

enum zf_status
zf_session_transfer(struct zf_session *s, const struct zf_spec *x,
    const char *token, struct zf_xfer_stats *st, struct zf_error *err)
{
	struct zf_argv za = ZF_ARGV_INIT;
	char **send_argv = NULL, **recv_argv = NULL;
	char source[2 * ZF_LOC_FIELD_MAX + 8], target[2 * ZF_LOC_FIELD_MAX + 8];
	struct zf_child snd, rcv;
	struct zf_xfer xf;
	struct zf_xfer_opts o;
	struct progress_ctx pc;
	struct zf_event ev;
	enum zf_status r = ZF_OK;

	memset(st, 0, sizeof(*st));
	memset(&xf, 0, sizeof(xf));
	memset(&o, 0, sizeof(o));
	memset(&pc, 0, sizeof(pc));
	zf_child_init(&snd, "zfs send", ZF_STAGE_SEND);
	zf_child_init(&rcv, "zfs receive", ZF_STAGE_RECV);
	snd.stdout_mode = ZF_IO_PIPE;
	rcv.stdin_mode = ZF_IO_PIPE;
	zf_location_text(source, sizeof(source), &x->source, NULL);
	zf_location_text(target, sizeof(target), &x->target, NULL);
	st->estimate = ZF_UNKNOWN;

	if (x->estimate && (r = estimate(s, x, token, &st->estimate, err)))
		goto out;
	send_args(s, x, token, false, &za);
	send_argv = side_argv(s, &x->source, &s->src_wrap, &za, err);
	zf_cmd_zfs_recv(&za, x, zfs_for(s, &x->target));
	if (send_argv != NULL)
		recv_argv = side_argv(s, &x->target, &s->dst_wrap, &za, err);
	zf_argv_clear(&za);
	if (send_argv == NULL || recv_argv == NULL) {
		r = err != NULL && err->code != ZF_OK ? err->code : ZF_E_NOMEM;
		goto out;
	}
	if (s->alg != ZF_COMPRESS_NONE) {
		/* we compress for a push; we decompress what a pull sends */
		bool push = zf_location_is_remote(&x->target);

		r = zf_codec_new(&o.relay.codec, s->alg, push,
		    x->compress_level, push ? 2 : 0, err);
		if (r != ZF_OK)
			goto out;
		o.relay.codec_compresses = push;
	}
	o.relay.buffer = x->buffer_size;
	o.relay.bwlimit = x->bwlimit;
	/* a relay that copies reads a default-size pipe faster (relay.c) */
	snd.stdout_default_size = zf_relay_opts_copy(&o.relay);
	if (x->bwlimit != 0 && x->bwlimit == s->bucket.b.rate)
		o.relay.shared = &s->bucket;
	o.cancel_fd = s->cancel_rd;
	o.timeout_ns = x->timeout_ms * 1000000u;
	o.stall_ns = x->stall_timeout_ms * 1000000u;
	o.progress_ns = x->progress_interval_ms * 1000000u;
	o.progress = on_progress;
	o.progress_arg = &pc;
	pc.s = s;
	pc.source = source;
	pc.target = target;
	pc.estimate = st->estimate;

	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_START;
	ev.estimated_bytes = st->estimate;
	zf_session_emit(s, &ev, source, target);
	emit_command(s, ZF_STAGE_RECV, recv_argv);
	emit_command(s, ZF_STAGE_SEND, send_argv);

	pc.start_ns = zf_now_ns();
	zf_meter_init(&pc.meter, 0, pc.start_ns, 0);
	r = zf_child_start(&rcv, recv_argv, err);
	if (r == ZF_OK)
		r = zf_child_start(&snd, send_argv, err);
	if (r != ZF_OK) {
		zf_codec_free(o.relay.codec);
		goto out;
	}
	xf.src = &snd;
	xf.dst = &rcv;
	r = zf_xfer_run(&xf, &o, err);
	st->bytes = zf_relay_stream_bytes(&xf.relay);
	st->wire_bytes = zf_relay_wire_bytes(&xf.relay);
	st->elapsed_ns = zf_now_ns() - pc.start_ns;
	if (r == ZF_E_CANCELED) {
		r = zf_session_canceled(s, err);
	} else if (r == ZF_E_TIMEOUT) {
		if (err != NULL) {
			err->stage = ZF_STAGE_RELAY;
			err->transient = xf.stalled;
		}
	} else if (r == ZF_OK) {
		r = verdict(x, &xf, &snd, &rcv, err);
	} else if (zf_location_is_remote(&x->source) && snd.reaped &&
	    !zf_child_ok(&snd)) {
		/* a broken compressed stream: what the sending side said */
		zf_error_clear(err);
		r = zf_child_failure(&snd, &x->source, err);
	}
	if (r == ZF_OK) {
		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_DONE;
		ev.estimated_bytes = st->estimate;
		ev.bytes = st->bytes;
		ev.wire_bytes = st->wire_bytes;
		ev.elapsed_ns = st->elapsed_ns;
		zf_session_emit(s, &ev, source, target);
	}
out:
	zf_xfer_stop(&xf, GRACE_MS);
	zf_child_release(&snd, GRACE_MS);
	zf_child_release(&rcv, GRACE_MS);
	zf_argv_free_v(send_argv);
	zf_argv_free_v(recv_argv);
	return r;
}
