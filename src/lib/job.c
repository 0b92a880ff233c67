#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>

#include "zferry/zferry.h"
#include "cmd.h"
#include "codec.h"
#include "rate.h"
#include "run.h"
#include "spawn.h"
#include "spec.h"
#include "xfer.h"
#include "zfs.h"

#define GRACE_MS 2000
#define ESTIMATE_OUT_MAX (1024 * 1024)
#define PROBE_OUT_MAX (16 * 1024)

/* What a side (source or target host) has, as far as zferry asked. */
struct side {
	const struct zf_location *loc;
	const char *cmd; /* its zfs role: "send" or "receive" */
	bool probed;
	zf_optset opts;
	bool has_zferry; /* a remote zferry that speaks the pipe protocol */
	bool has_zstd;
	bool has_lz4;
};

struct zf_job {
	struct zf_spec spec;
	zf_event_fn fn;
	void *arg;
	int cancel_rd;
	int cancel_wr;
	atomic_int cancel_sig;
	bool ran;
	char source_text[2 * ZF_LOC_FIELD_MAX + 8];
	char target_text[2 * ZF_LOC_FIELD_MAX + 8];
	struct side src;
	struct side dst;
	/* decisions */
	enum zf_compress_alg alg; /* compression on the wire, or NONE */
	struct zf_wrap src_wrap;
	struct zf_wrap dst_wrap;
	uint64_t estimate; /* ZF_UNKNOWN when unknown */
	/* progress */
	struct zf_meter meter;
	uint64_t start_ns;
};

const char *
zf_version(void)
{
	return ZF_VERSION;
}

static void
location_text(char *dst, size_t n, const struct zf_location *loc)
{
	const char *fmt;

	if (!zf_location_is_remote(loc)) {
		snprintf(dst, n, "%s", loc->dataset);
		return;
	}
	fmt = strchr(loc->host, ':') ? "%s%s[%s]:%s" : "%s%s%s:%s";
	snprintf(dst, n, fmt, loc->user, loc->user[0] ? "@" : "", loc->host,
	    loc->dataset);
}

enum zf_status
zf_job_new(struct zf_job **jobp, const struct zf_send_config *cfg,
    struct zf_error *err)
{
	struct zf_job *job;
	int fds[2];
	enum zf_status r;

	*jobp = NULL;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	r = zf_spec_init(&job->spec, cfg, err);
	if (r != ZF_OK) {
		free(job);
		return r;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		r = zf_fail_errno(err, errno, "cannot make a pipe");
		zf_spec_release(&job->spec);
		free(job);
		return r;
	}
	job->cancel_rd = fds[0];
	job->cancel_wr = fds[1];
	atomic_init(&job->cancel_sig, 0);
	location_text(job->source_text, sizeof(job->source_text),
	    &job->spec.source);
	location_text(job->target_text, sizeof(job->target_text),
	    &job->spec.target);
	job->src.loc = &job->spec.source;
	job->src.cmd = "send";
	job->dst.loc = &job->spec.target;
	job->dst.cmd = "receive";
	job->estimate = ZF_UNKNOWN;
	*jobp = job;
	return ZF_OK;
}

void
zf_job_set_events(struct zf_job *job, zf_event_fn fn, void *arg)
{
	job->fn = fn;
	job->arg = arg;
}

void
zf_job_cancel(struct zf_job *job, int signo)
{
	int saved = errno;
	int expected = 0;
	ssize_t n;

	/* the first reason wins; the byte wakes the poll loop */
	atomic_compare_exchange_strong(&job->cancel_sig, &expected,
	    signo != 0 ? signo : -1);
	n = write(job->cancel_wr, "x", 1);
	(void)n;
	errno = saved;
}

void
zf_job_free(struct zf_job *job)
{
	if (job == NULL)
		return;
	close(job->cancel_rd);
	close(job->cancel_wr);
	zf_spec_release(&job->spec);
	free(job);
}

static void
emit(struct zf_job *job, struct zf_event *ev)
{
	if (job->fn == NULL)
		return;
	ev->source = job->source_text;
	ev->target = job->target_text;
	job->fn(ev, job->arg);
}

static void emit_text(struct zf_job *job, enum zf_event_type type,
    const char *fmt, ...) ZF_PRINTF(3, 4);

static void
emit_text(struct zf_job *job, enum zf_event_type type, const char *fmt, ...)
{
	struct zf_event ev;
	char raw[1024], text[2048];
	va_list ap;

	if (job->fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	zf_escape(text, sizeof(text), raw, strlen(raw));
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.text = text;
	emit(job, &ev);
}

static void
emit_command(struct zf_job *job, enum zf_stage stage, char **argv)
{
	struct zf_event ev;
	char text[2048];

	if (job->fn == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_COMMAND;
	ev.stage = stage;
	zf_cmd_describe(text, sizeof(text), (const char *const *)argv);
	ev.text = text;
	emit(job, &ev);
}

static enum zf_status
canceled(struct zf_job *job, struct zf_error *err)
{
	int sig = atomic_load(&job->cancel_sig);

	if (err != NULL && err->code == ZF_E_CANCELED)
		err->code = ZF_OK; /* replace the inner "canceled" */
	zf_fail(err, ZF_E_CANCELED, "canceled%s%s", sig > 0 ? " by " : "",
	    sig > 0 ? strsignal(sig) : "");
	if (err != NULL && err->code == ZF_E_CANCELED)
		err->signo = sig > 0 ? sig : 0;
	return ZF_E_CANCELED;
}

static const char *
zfs_for(const struct zf_job *job, const struct zf_location *loc)
{
	return zf_location_is_remote(loc) ? job->spec.remote_zfs
	                                  : job->spec.zfs_program;
}

/* Turns a zfs argv into the argv that runs it on loc; frees zfs_argv. */
static char **
side_argv(struct zf_job *job, const struct zf_location *loc,
    const struct zf_wrap *wrap, struct zf_argv *zfs_argv, struct zf_error *err)
{
	struct zf_argv a = ZF_ARGV_INIT;
	char **v = NULL;

	if (!zf_argv_ok(zfs_argv))
		zf_fail(err, ZF_E_NOMEM, "out of memory");
	else if (zf_cmd_on(&a, &job->spec, loc, wrap,
	             (const char *const *)zfs_argv->v, err) == ZF_OK &&
	    (v = zf_argv_finish(&a)) == NULL)
		zf_fail(err, ZF_E_NOMEM, "out of memory");
	zf_argv_clear(zfs_argv);
	zf_argv_clear(&a);
	return v;
}

/* Fills err with a failed child's story: stage, exit code, its stderr. */
static enum zf_status
child_failure(const struct zf_child *c, const struct zf_location *loc,
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
		    zf_stage_str(c->stage), where, status, line[0] ? ": " : "",
		    line);
	if (err != NULL && err->code == ZF_E_CHILD) {
		err->stage = v.stage;
		err->transient = v.transient;
		err->child_status = code;
	}
	return ZF_E_CHILD;
}

/* Runs argv to completion, output captured; maps cancel to the signal. */
static enum zf_status
run_short(struct zf_job *job, struct zf_child *c, char **argv,
    struct zf_buf *out, struct zf_error *err)
{
	enum zf_status r;

	r = zf_run_capture(c, argv, out, job->cancel_rd, err);
	if (r == ZF_E_CANCELED)
		r = canceled(job, err);
	return r;
}

/*
 * Asks a side what it has: the options of its zfs command and, on a remote
 * host, zferry, zstd and lz4 (one ssh connection).
 */
static enum zf_status
probe(struct zf_job *job, struct side *sd, struct zf_error *err)
{
	struct zf_argv a = ZF_ARGV_INIT;
	struct zf_buf out = ZF_BUF_INIT(PROBE_OUT_MAX);
	struct zf_child c;
	char **argv = NULL;
	enum zf_status r;
	const char *text, *p, *eol;

	if (zf_location_is_remote(sd->loc)) {
		if (zf_cmd_probe(&a, &job->spec, sd->loc, sd->cmd, err))
			return ZF_E_INVALID;
	} else {
		zf_argv_push(&a, job->spec.zfs_program);
		zf_argv_push(&a, sd->cmd);
	}
	argv = zf_argv_finish(&a);
	if (argv == NULL)
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	emit_command(job, ZF_STAGE_PROBE, argv);
	zf_child_init(&c, "zfs probe", ZF_STAGE_PROBE);
	r = run_short(job, &c, argv, &out, err);
	zf_argv_free_v(argv);
	if (r == ZF_OK) {
		text = c.errbuf.data != NULL ? c.errbuf.data : "";
		if (strstr(text, "usage:") == NULL) {
			r = child_failure(&c, sd->loc, err);
			if (err != NULL && err->stage == ZF_STAGE_PROBE &&
			    !zf_location_is_remote(sd->loc))
				err->stage = ZF_STAGE_PROBE;
		} else {
			sd->opts =
			    zf_parse_usage_opts(text, c.errbuf.len, sd->cmd);
			sd->probed = true;
		}
	}
	for (p = out.data; r == ZF_OK && p != NULL && *p != '\0';
	     p = *eol ? eol + 1 : eol) {
		size_t n;

		eol = strchrnul(p, '\n');
		n = (size_t)(eol - p);
		if (n == strlen(ZF_PIPE_PROBE_REPLY) &&
		    memcmp(p, ZF_PIPE_PROBE_REPLY, n) == 0)
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
check_side(struct side *sd, const struct need *needs, size_t n,
    struct zf_error *err)
{
	size_t k;
	char where[ZF_LOC_FIELD_MAX + 16] = "this host";

	if (zf_location_is_remote(sd->loc))
		snprintf(where, sizeof(where), "'%s'", sd->loc->host);
	for (k = 0; k < n; k++) {
		if (!needs[k].wanted || zf_opt_has(sd->opts, needs[k].opt))
			continue;
		zf_fail(err, ZF_E_UNSUPPORTED,
		    "%s is not supported by the zfs on %s (its 'zfs %s' has no -%c)",
		    needs[k].what, where, sd->cmd, needs[k].opt);
		if (err != NULL)
			err->stage = strcmp(sd->cmd, "send") == 0
			    ? ZF_STAGE_SEND
			    : ZF_STAGE_RECV;
		return ZF_E_UNSUPPORTED;
	}
	return ZF_OK;
}

static bool
any_wanted(const struct need *needs, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (needs[k].wanted)
			return true;
	return false;
}

/* The side whose host would run the remote end of the compression. */
static struct side *
wire_side(struct zf_job *job)
{
	if (zf_location_is_remote(&job->spec.target))
		return &job->dst;
	if (zf_location_is_remote(&job->spec.source))
		return &job->src;
	return NULL;
}

/* Whether compression may apply at all (before asking the remote host). */
static bool
compression_wanted(const struct zf_job *job)
{
	const struct zf_spec *s = &job->spec;

	if (s->compress == ZF_COMPRESS_NONE)
		return false;
	if (!zf_location_is_remote(&s->source) &&
	    !zf_location_is_remote(&s->target))
		return false;
	/* raw and -c streams are compressed already: they do not shrink */
	if (s->compress == ZF_COMPRESS_AUTO &&
	    (s->send_flags & (ZF_SEND_RAW | ZF_SEND_COMPRESSED)))
		return false;
	return true;
}

static enum zf_status
probe_and_check(struct zf_job *job, struct zf_error *err)
{
	const struct zf_spec *s = &job->spec;
	const struct need send_needs[] = {
	    {'w', (s->send_flags & ZF_SEND_RAW) != 0, "-w (--raw)"},
	    {'c', (s->send_flags & ZF_SEND_COMPRESSED) != 0,
	        "-c (--compressed)"},
	    {'L', (s->send_flags & ZF_SEND_LARGE_BLOCK) != 0,
	        "-L (--large-block)"},
	    {'e', (s->send_flags & ZF_SEND_EMBED) != 0, "-e (--embed)"},
	    {'h', (s->send_flags & ZF_SEND_HOLDS) != 0, "-h (--holds)"},
	    {'b', (s->send_flags & ZF_SEND_BACKUP) != 0, "-b (--backup)"},
	};
	const struct need recv_needs[] = {
	    {'u', (s->recv_flags & ZF_RECV_NOMOUNT) != 0, "-u (--no-mount)"},
	    {'s', (s->recv_flags & ZF_RECV_RESUMABLE) != 0, "-s (--resumable)"},
	    {'o', s->props[0] != NULL, "-o PROPERTY=VALUE"},
	    {'o', s->origin != NULL, "-o origin= (--origin)"},
	    {'x', s->excludes[0] != NULL, "-x PROPERTY"},
	};
	struct side *wire = compression_wanted(job) ? wire_side(job) : NULL;

	if ((any_wanted(send_needs, ZF_ARRAY_SIZE(send_needs)) ||
	        wire == &job->src) &&
	    probe(job, &job->src, err) != ZF_OK)
		return err != NULL ? err->code : ZF_E_CHILD;
	if ((any_wanted(recv_needs, ZF_ARRAY_SIZE(recv_needs)) ||
	        wire == &job->dst) &&
	    probe(job, &job->dst, err) != ZF_OK)
		return err != NULL ? err->code : ZF_E_CHILD;
	if (check_side(&job->src, send_needs, ZF_ARRAY_SIZE(send_needs), err))
		return ZF_E_UNSUPPORTED;
	return check_side(&job->dst, recv_needs, ZF_ARRAY_SIZE(recv_needs),
	    err);
}

/*
 * Decides the compression on the wire and what runs around zfs on the
 * remote host: zferry pipe when it is there, else zstd -dc / lz4 -dc for a
 * push.  Explicit requests that cannot be met are errors; auto falls back
 * to none and says why (a note).
 */
static enum zf_status
plan_compression(struct zf_job *job, struct zf_error *err)
{
	const struct zf_spec *s = &job->spec;
	enum zf_compress_alg alg = s->compress;
	bool explicit = alg == ZF_COMPRESS_ZSTD || alg == ZF_COMPRESS_LZ4;
	struct side *sd;
	bool has_tool;

	job->alg = ZF_COMPRESS_NONE;
	if (!compression_wanted(job)) {
		if (explicit)
			emit_text(job, ZF_EV_WARNING,
			    "--compress %s ignored: source and target are on this host, no link to compress",
			    zf_compress_name(alg));
		return ZF_OK;
	}
	if (alg == ZF_COMPRESS_AUTO)
		alg = ZF_COMPRESS_ZSTD;
	sd = wire_side(job);
	has_tool = alg == ZF_COMPRESS_ZSTD ? sd->has_zstd : sd->has_lz4;
	if (sd->has_zferry) {
		struct zf_wrap *w =
		    sd == &job->dst ? &job->dst_wrap : &job->src_wrap;

		w->kind = sd == &job->dst ? ZF_WRAP_ZFERRY_DECOMPRESS
		                          : ZF_WRAP_ZFERRY_COMPRESS;
		w->alg = alg;
		w->level = s->compress_level;
	} else if (sd == &job->dst && has_tool) {
		job->dst_wrap.kind = ZF_WRAP_TOOL_DECOMPRESS;
		job->dst_wrap.alg = alg;
	} else if (explicit) {
		zf_fail(err, ZF_E_UNSUPPORTED,
		    "--compress %s: '%s' has %s (%s)", zf_compress_name(alg),
		    sd->loc->host,
		    sd == &job->dst ? "neither zferry nor that decompressor"
		                    : "no zferry to compress there",
		    s->remote_zferry_given
		        ? "--remote-zferry did not answer"
		        : "install zferry there or name it with --remote-zferry");
		if (err != NULL)
			err->stage = ZF_STAGE_RELAY;
		return ZF_E_UNSUPPORTED;
	} else {
		emit_text(job, ZF_EV_NOTE, "not compressing: '%s' has %s",
		    sd->loc->host,
		    sd == &job->dst ? "neither zferry nor zstd"
		                    : "no zferry to compress there");
		return ZF_OK;
	}
	job->alg = alg;
	emit_text(job, ZF_EV_NOTE, "compressing with %s level %d (%s on '%s')",
	    zf_compress_name(alg), s->compress_level,
	    sd->has_zferry ? "zferry" : zf_compress_name(alg), sd->loc->host);
	return ZF_OK;
}

/*
 * Asks the sending side for the stream size (zfs send -nvP).  A zfs that
 * cannot estimate leaves it unknown; a zfs that refuses the send itself
 * (a missing snapshot, say) fails the job here, before the receiver runs.
 */
static enum zf_status
estimate(struct zf_job *job, struct zf_error *err)
{
	struct zf_argv za = ZF_ARGV_INIT;
	struct zf_buf out = ZF_BUF_INIT(ESTIMATE_OUT_MAX);
	struct zf_child c;
	char **argv;
	enum zf_status r;
	const char *text;

	zf_cmd_zfs_send_estimate(&za, &job->spec,
	    zfs_for(job, &job->spec.source));
	argv = side_argv(job, &job->spec.source, NULL, &za, err);
	if (argv == NULL)
		return err != NULL ? err->code : ZF_E_NOMEM;
	emit_command(job, ZF_STAGE_SEND, argv);
	zf_child_init(&c, "zfs send", ZF_STAGE_SEND);
	r = run_short(job, &c, argv, &out, err);
	zf_argv_free_v(argv);
	text = c.errbuf.data != NULL ? c.errbuf.data : "";
	if (r == ZF_OK && zf_child_ok(&c)) {
		/* OpenZFS prints the dry run on stdout, older ones on stderr */
		job->estimate =
		    zf_parse_estimate(out.data ? out.data : "", out.len);
		if (job->estimate == ZF_UNKNOWN)
			job->estimate = zf_parse_estimate(text, c.errbuf.len);
	} else if (r == ZF_OK &&
	    (strstr(text, "invalid option") != NULL ||
	        strstr(text, "usage:") != NULL)) {
		emit_text(job, ZF_EV_NOTE,
		    "no size estimate: the zfs on the source has no send -nvP");
	} else if (r == ZF_OK) {
		r = child_failure(&c, &job->spec.source, err);
	}
	zf_buf_release(&out);
	zf_child_release(&c, GRACE_MS);
	return r;
}

static void
on_progress(void *arg, const struct zf_relay *rl, uint64_t now_ns)
{
	struct zf_job *job = arg;
	struct zf_event ev;
	uint64_t bytes = zf_relay_stream_bytes(rl);

	zf_meter_add(&job->meter, now_ns, bytes);
	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_PROGRESS;
	ev.estimated_bytes = job->estimate;
	ev.bytes = bytes;
	ev.wire_bytes = zf_relay_wire_bytes(rl);
	ev.bytes_per_second = zf_meter_rate(&job->meter);
	ev.eta_seconds = zf_eta(job->estimate, bytes, ev.bytes_per_second);
	ev.elapsed_ns = now_ns - job->start_ns;
	emit(job, &ev);
}

/* Decides which stage failed first and why. */
static enum zf_status
verdict(struct zf_job *job, struct zf_xfer *x, struct zf_child *snd,
    struct zf_child *rcv, struct zf_error *err)
{
	bool send_ok = zf_child_ok(snd);
	bool recv_ok = zf_child_ok(rcv);

	if (send_ok && recv_ok)
		return ZF_OK;
	/*
	 * When the receiver stopped reading first, the sender's failure
	 * (SIGPIPE, SIGTERM from us, "Broken pipe") follows from it.
	 */
	if (!recv_ok && (x->out_closed_first || send_ok))
		return child_failure(rcv, &job->spec.target, err);
	if (!send_ok)
		return child_failure(snd, &job->spec.source, err);
	return child_failure(rcv, &job->spec.target, err);
}

static enum zf_status
transfer(struct zf_job *job, struct zf_error *err)
{
	const struct zf_spec *s = &job->spec;
	struct zf_argv za = ZF_ARGV_INIT;
	char **send_argv = NULL, **recv_argv = NULL;
	struct zf_child snd, rcv;
	struct zf_xfer x;
	struct zf_xfer_opts o;
	struct zf_event ev;
	enum zf_status r = ZF_OK;

	memset(&x, 0, sizeof(x));
	memset(&o, 0, sizeof(o));
	zf_child_init(&snd, "zfs send", ZF_STAGE_SEND);
	zf_child_init(&rcv, "zfs receive", ZF_STAGE_RECV);
	snd.stdout_mode = ZF_IO_PIPE;
	rcv.stdin_mode = ZF_IO_PIPE;

	zf_cmd_zfs_send(&za, s, zfs_for(job, &s->source));
	send_argv = side_argv(job, &s->source, &job->src_wrap, &za, err);
	zf_cmd_zfs_recv(&za, s, zfs_for(job, &s->target));
	if (send_argv != NULL)
		recv_argv =
		    side_argv(job, &s->target, &job->dst_wrap, &za, err);
	zf_argv_clear(&za);
	if (send_argv == NULL || recv_argv == NULL) {
		r = err != NULL && err->code != ZF_OK ? err->code : ZF_E_NOMEM;
		goto out;
	}
	if (job->alg != ZF_COMPRESS_NONE) {
		/* we compress for a push; we decompress what a pull sends */
		bool push = zf_location_is_remote(&s->target);

		r = zf_codec_new(&o.relay.codec, job->alg, push,
		    s->compress_level, push ? 2 : 0, err);
		if (r != ZF_OK)
			goto out;
		o.relay.codec_compresses = push;
	}
	o.relay.buffer = s->buffer_size;
	o.relay.bwlimit = s->bwlimit;
	o.cancel_fd = job->cancel_rd;
	o.timeout_ns = s->timeout_ms * 1000000u;
	o.stall_ns = s->stall_timeout_ms * 1000000u;
	o.progress_ns = s->progress_interval_ms * 1000000u;
	o.progress = on_progress;
	o.progress_arg = job;

	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_START;
	ev.estimated_bytes = job->estimate;
	emit(job, &ev);
	emit_command(job, ZF_STAGE_RECV, recv_argv);
	emit_command(job, ZF_STAGE_SEND, send_argv);

	job->start_ns = zf_now_ns();
	zf_meter_init(&job->meter, 0, job->start_ns, 0);
	r = zf_child_start(&rcv, recv_argv, err);
	if (r == ZF_OK)
		r = zf_child_start(&snd, send_argv, err);
	if (r != ZF_OK) {
		zf_codec_free(o.relay.codec);
		goto out;
	}
	x.src = &snd;
	x.dst = &rcv;
	r = zf_xfer_run(&x, &o, err);
	if (r == ZF_E_CANCELED) {
		r = canceled(job, err);
	} else if (r == ZF_E_TIMEOUT) {
		if (err != NULL) {
			err->stage = ZF_STAGE_RELAY;
			err->transient = x.stalled;
		}
	} else if (r == ZF_OK) {
		r = verdict(job, &x, &snd, &rcv, err);
	} else if (zf_location_is_remote(&s->source) && !zf_child_ok(&snd) &&
	    snd.reaped) {
		/* a broken compressed stream: what the sending side said */
		zf_error_clear(err);
		r = child_failure(&snd, &s->source, err);
	}
	if (r == ZF_OK) {
		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_DONE;
		ev.estimated_bytes = job->estimate;
		ev.bytes = zf_relay_stream_bytes(&x.relay);
		ev.wire_bytes = zf_relay_wire_bytes(&x.relay);
		ev.elapsed_ns = zf_now_ns() - job->start_ns;
		emit(job, &ev);
	}
out:
	zf_xfer_stop(&x, GRACE_MS);
	zf_child_release(&snd, GRACE_MS);
	zf_child_release(&rcv, GRACE_MS);
	zf_argv_free_v(send_argv);
	zf_argv_free_v(recv_argv);
	return r;
}

enum zf_status
zf_job_run(struct zf_job *job, struct zf_error *err)
{
	enum zf_status r;

	if (job->ran)
		return zf_fail(err, ZF_E_INVALID, "a job runs only once");
	job->ran = true;
	if (job->spec.ssh.key_too_open)
		emit_text(job, ZF_EV_WARNING,
		    "--ssh-key '%s' is readable by others; ssh will refuse to use it (chmod 600)",
		    job->spec.ssh.key_file);
	if (atomic_load(&job->cancel_sig) != 0)
		r = canceled(job, err);
	else if ((r = probe_and_check(job, err)) != ZF_OK)
		;
	else if ((r = plan_compression(job, err)) != ZF_OK)
		;
	else if (job->spec.estimate && (r = estimate(job, err)) != ZF_OK)
		;
	else
		r = transfer(job, err);
	if (r != ZF_OK) {
		struct zf_event ev;

		zf_error_prefix(err, "'%s' to '%s'", job->source_text,
		    job->target_text);
		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_ERROR;
		ev.error = err;
		ev.stage = err != NULL ? err->stage : ZF_STAGE_NONE;
		emit(job, &ev);
	}
	return r;
}
