#include "compat.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>

#include "zferry/sync.h"
#include "zferry/token.h"
#include "plan.h"
#include "run.h"
#include "session.h"
#include "transport.h"
#include "tree.h"
#include "validate.h"

#define GRACE_MS 2000
#define LIST_LINE_MAX (64 * 1024)
#define LIST_BYTES_MAX (1024ull << 20)
#define MAX_ROUNDS 3
#define BACKOFF_MAX_MS (60u * 1000)
#define HOLDS_BATCH 64

/* What happened to one source dataset over the run. */
struct result {
	char dataset[ZF_LOC_FIELD_MAX]; /* source dataset */
	char target[ZF_LOC_FIELD_MAX];
	enum zf_step_kind kind; /* of its last step that did something */
	enum { RES_NONE, RES_OK, RES_SKIP, RES_FAIL } state;
	bool transient;
	unsigned retries; /* over all its steps */
	uint64_t bytes;
	uint64_t ns;
	char reason[512]; /* of the plan */
	struct zf_error err;
};

struct zf_sync {
	struct zf_spec spec;
	struct zf_session sess;
	bool ran;
	/* settings */
	bool recursive, skip_parent, no_stream, force, delete_target_snapshots;
	bool dry_run, hold, bookmark, resumable_wanted;
	unsigned jobs, retries;
	uint64_t retry_base_ms;
	regex_t *excludes;
	size_t nexcludes;
	char snapname[ZF_NAME_MAX]; /* "" when not taking one */
	char *metrics_file;
	char hold_tag[64];
	/* the run */
	struct zf_master master;
	bool use_resumable;
	bool use_nomount;
	bool holds_cleaned;
	struct result *res;
	size_t nres;
	struct zf_sync_counts counts;
	unsigned seed;
};

/* One round: the two trees, the plan, and the state of each step. */
enum step_state { S_PENDING, S_RUNNING, S_OK, S_FAILED };

struct round {
	struct zf_sync *sy;
	struct zf_tree *src;
	struct zf_tree *dst;
	struct zf_plan plan;
	enum step_state *state;
	bool replan; /* a resume ran or a token was aborted: plan again */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

void
zf_sync_config_init(struct zf_sync_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	zf_send_config_init(&cfg->xfer);
	cfg->jobs = ZF_SYNC_JOBS_DEFAULT;
	cfg->retries = 3;
	cfg->retry_base_ms = 1000;
}

/* FNV-1a: a short stable tag for holds, from the target's identity */
static uint64_t
fnv1a(const char *s, uint64_t h)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static enum zf_status
sync_fill(struct zf_sync *sy, const struct zf_sync_config *c,
    struct zf_error *err)
{
	const char *const *p;
	size_t n = 0, i;
	uint64_t h;

	if (zf_spec_init_as(&sy->spec, &c->xfer, true, err) != ZF_OK)
		return ZF_E_INVALID;
	if (sy->spec.send_flags & ZF_SEND_REPLICATE)
		return zf_fail_input(err,
		    "-R/--replicate: sync walks the tree itself (use -r)");
	if (c->skip_parent && !c->recursive)
		return zf_fail_input(err, "--skip-parent needs -r");
	if (c->jobs > 64)
		return zf_fail_input(err, "-j: %u is more than 64", c->jobs);
	if (c->retries > 100)
		return zf_fail_input(err, "--retries: %u is more than 100",
		    c->retries);
	if (c->retry_base_ms > 600000)
		return zf_fail_input(err, "the retry backoff is over 10 min");
	sy->recursive = c->recursive;
	sy->skip_parent = c->skip_parent;
	sy->no_stream = c->no_stream;
	sy->force = c->force;
	sy->delete_target_snapshots = c->delete_target_snapshots;
	sy->dry_run = c->dry_run;
	sy->hold = c->hold;
	sy->bookmark = c->bookmark;
	sy->resumable_wanted = !c->no_resumable;
	sy->jobs = c->jobs ? c->jobs : 1;
	sy->retries = c->retries;
	sy->retry_base_ms = c->retry_base_ms;
	for (p = c->excludes; p != NULL && *p != NULL; p++)
		n++;
	if (n > 0) {
		sy->excludes = calloc(n, sizeof(*sy->excludes));
		if (sy->excludes == NULL)
			return zf_fail(err, ZF_E_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		int rc;

		if (strlen(c->excludes[i]) > 1024)
			return zf_fail_input(err,
			    "--exclude: pattern too long");
		rc = regcomp(&sy->excludes[i], c->excludes[i],
		    REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char why[128];

			regerror(rc, &sy->excludes[i], why, sizeof(why));
			return zf_fail_input(err,
			    "--exclude: invalid regular expression '%s': %s",
			    c->excludes[i], why);
		}
		sy->nexcludes++;
	}
	if (c->snapshot_name != NULL && !c->take_snapshot)
		return zf_fail_input(err, "a snapshot name needs --snapshot");
	if (c->take_snapshot) {
		if (c->snapshot_name != NULL) {
			if (zf_check_short_name("--snapshot-name",
			        c->snapshot_name, err) != ZF_OK)
				return ZF_E_INVALID;
			zf_strlcpy_ok(sy->snapname, c->snapshot_name,
			    sizeof(sy->snapname));
		} else {
			time_t t = time(NULL);
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(sy->snapname, sizeof(sy->snapname),
			    ZF_SYNC_SNAPSHOT_PREFIX "%Y-%m-%d_%H.%M.%S", &tm);
		}
		if (strlen(sy->spec.source.dataset) + 1 +
		        strlen(sy->snapname) >=
		    ZF_NAME_MAX)
			return zf_fail_input(err,
			    "--snapshot: '%s@%s' would be longer than 255 bytes",
			    sy->spec.source.dataset, sy->snapname);
	}
	if (c->metrics_file != NULL) {
		if (c->metrics_file[0] == '\0')
			return zf_fail_input(err, "--metrics-file: empty name");
		sy->metrics_file = strdup(c->metrics_file);
		if (sy->metrics_file == NULL)
			return zf_fail(err, ZF_E_NOMEM, "out of memory");
	}
	h = fnv1a(sy->spec.target.host, 14695981039346656037ull);
	h = fnv1a(":", h);
	h = fnv1a(sy->spec.target.dataset, h);
	snprintf(sy->hold_tag, sizeof(sy->hold_tag), "zferry_%016" PRIx64, h);
	sy->seed = (unsigned)(zf_now_ns() ^ (uint64_t)getpid());
	return ZF_OK;
}

void
zf_sync_free(struct zf_sync *sy)
{
	size_t i;

	if (sy == NULL)
		return;
	zf_session_release(&sy->sess);
	for (i = 0; i < sy->nexcludes; i++)
		regfree(&sy->excludes[i]);
	free(sy->excludes);
	free(sy->metrics_file);
	free(sy->res);
	zf_spec_release(&sy->spec);
	free(sy);
}

enum zf_status
zf_sync_new(struct zf_sync **sp, const struct zf_sync_config *c,
    struct zf_error *err)
{
	struct zf_sync *sy;

	*sp = NULL;
	sy = calloc(1, sizeof(*sy));
	if (sy == NULL)
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	sy->sess.cancel_rd = sy->sess.cancel_wr = -1; /* nothing to release */
	if (sync_fill(sy, c, err) != ZF_OK) {
		zf_sync_free(sy);
		return err != NULL && err->code ? err->code : ZF_E_INVALID;
	}
	if (zf_session_init(&sy->sess, &sy->spec, err) != ZF_OK) {
		zf_sync_free(sy);
		return ZF_E_SYS;
	}
	*sp = sy;
	return ZF_OK;
}

void
zf_sync_set_events(struct zf_sync *sy, zf_event_fn fn, void *arg)
{
	sy->sess.fn = fn;
	sy->sess.arg = arg;
}

void
zf_sync_cancel(struct zf_sync *sy, int signo)
{
	zf_session_cancel(&sy->sess, signo);
}

void
zf_sync_counts(const struct zf_sync *sy, struct zf_sync_counts *c)
{
	*c = sy->counts;
}

/* --- running zfs on a side ------------------------------------------ */

/*
 * Runs "zfs ARGS" on loc; a failure is described in err.  even_canceled:
 * a cleanup that must run after a cancel too.
 */
static enum zf_status
zfs_on_ex(struct zf_sync *sy, const struct zf_location *loc,
    const char *const *args, struct zf_buf *out, bool even_canceled,
    struct zf_error *err)
{
	struct zf_child c;
	enum zf_status r;

	zf_child_init(&c, "zfs", ZF_STAGE_LIST);
	r = zf_session_zfs(&sy->sess, loc, args, out, even_canceled, &c, err);
	if (r == ZF_OK && !zf_child_ok(&c)) {
		char name[64];

		snprintf(name, sizeof(name), "zfs %s", args[0]);
		c.name = name;
		r = zf_child_failure(&c, loc, err);
	}
	zf_child_release(&c, GRACE_MS);
	return r;
}

static enum zf_status
zfs_on(struct zf_sync *sy, const struct zf_location *loc,
    const char *const *args, struct zf_buf *out, struct zf_error *err)
{
	return zfs_on_ex(sy, loc, args, out, false, err);
}

struct list_ctx {
	struct zf_tree *tree;
	size_t lines;
	uint64_t bytes;
};

static enum zf_status
list_line(void *arg, const char *line, size_t len, struct zf_error *err)
{
	struct list_ctx *lc = arg;

	lc->lines++;
	lc->bytes += len + 1;
	/*
	 * A host can send as much as it likes: a listing this large (some
	 * ten million snapshots) is not one zferry plans, and memory grows
	 * with it.
	 */
	if (lc->bytes > LIST_BYTES_MAX)
		return zf_fail(err, ZF_E_PROTOCOL,
		    "the listing is larger than %u MiB",
		    (unsigned)(LIST_BYTES_MAX >> 20));
	return zf_tree_add_line(lc->tree, line, len, err);
}

/*
 * Lists root on side into a tree: one zfs command for the whole tree.
 * A root that does not exist gives an empty tree.
 */
static enum zf_status
list_side(struct zf_sync *sy, struct zf_side *side, const char *root,
    struct zf_tree **tp, struct zf_error *err)
{
	bool modern = zf_opt_has(side->list_opts, 'p');
	enum zf_list_format fmt =
	    modern ? ZF_LIST_FORMAT_LIST : ZF_LIST_FORMAT_GET;
	const char *types = side->has_bookmark
	    ? "filesystem,volume,snapshot,bookmark"
	    : "filesystem,volume,snapshot";
	struct zf_argv za = ZF_ARGV_INIT, a = ZF_ARGV_INIT;
	struct list_ctx lc;
	struct zf_child c;
	char **argv;
	enum zf_status r;

	r = zf_tree_new(tp, root, fmt, err);
	if (r != ZF_OK)
		return r;
	zf_argv_push(&za,
	    zf_location_is_remote(side->loc) ? sy->spec.remote_zfs
	                                     : sy->spec.zfs_program);
	if (modern) {
		zf_argv_push(&za, "list");
		zf_argv_push(&za, "-Hp");
		zf_argv_push(&za, "-o");
		zf_argv_push(&za,
		    "name,type,guid,createtxg,origin,written,"
		    "receive_resume_token");
		zf_argv_push(&za, "-t");
		zf_argv_push(&za, types);
		zf_argv_push(&za, "-s");
		zf_argv_push(&za, "createtxg");
	} else {
		zf_argv_push(&za, "get");
		zf_argv_push(&za, "-Hp");
	}
	/* without -r, depth 1: the snapshots of root (and its children) */
	if (sy->recursive) {
		zf_argv_push(&za, "-r");
	} else {
		zf_argv_push(&za, "-d");
		zf_argv_push(&za, "1");
	}
	if (!modern) {
		zf_argv_push(&za, "-o");
		zf_argv_push(&za, "name,property,value");
		zf_argv_push(&za, "type,guid,createtxg,origin");
	}
	zf_argv_push(&za, root);
	if (!zf_argv_ok(&za) ||
	    zf_cmd_on(&a, &sy->spec, side->loc, NULL, (const char *const *)za.v,
	        err) != ZF_OK ||
	    (argv = zf_argv_finish(&a)) == NULL) {
		zf_argv_clear(&za);
		zf_argv_clear(&a);
		return err != NULL && err->code
		    ? err->code
		    : zf_fail(err, ZF_E_NOMEM, "out of memory");
	}
	zf_argv_clear(&za);
	{
		struct zf_event ev;
		char text[2048];

		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_COMMAND;
		ev.stage = ZF_STAGE_LIST;
		zf_cmd_describe(text, sizeof(text), (const char *const *)argv);
		ev.text = text;
		zf_session_emit(&sy->sess, &ev, NULL, NULL);
	}
	memset(&lc, 0, sizeof(lc));
	lc.tree = *tp;
	zf_child_init(&c, "zfs list", ZF_STAGE_LIST);
	r = zf_run_lines(&c, argv, list_line, &lc, LIST_LINE_MAX,
	    sy->sess.cancel_rd, err);
	zf_argv_free_v(argv);
	if (r == ZF_E_CANCELED)
		r = zf_session_canceled(&sy->sess, err);
	if (r == ZF_OK && !zf_child_ok(&c)) {
		const char *text = c.errbuf.data ? c.errbuf.data : "";

		if (strstr(text, "does not exist") != NULL && lc.lines == 0) {
			zf_tree_free(*tp);
			r = zf_tree_new(tp, root, fmt, err);
		} else {
			r = zf_child_failure(&c, side->loc, err);
		}
	}
	zf_child_release(&c, GRACE_MS);
	if (r == ZF_OK)
		r = zf_tree_finish(*tp, err);
	if (r != ZF_OK) {
		zf_error_prefix(err, "listing '%s'", root);
		zf_tree_free(*tp);
		*tp = NULL;
	}
	return r;
}

/* --- results ------------------------------------------------------------ */

static struct result *
result_for(struct zf_sync *sy, const char *dataset, const char *target)
{
	size_t i;
	struct result *r;

	for (i = 0; i < sy->nres; i++)
		if (strcmp(sy->res[i].dataset, dataset) == 0)
			return &sy->res[i];
	r = realloc(sy->res, (sy->nres + 1) * sizeof(*r));
	if (r == NULL)
		return NULL;
	sy->res = r;
	r = &sy->res[sy->nres++];
	memset(r, 0, sizeof(*r));
	zf_strlcpy_ok(r->dataset, dataset, sizeof(r->dataset));
	zf_strlcpy_ok(r->target, target, sizeof(r->target));
	zf_error_clear(&r->err);
	return r;
}

static void
emit_result(struct zf_sync *sy, const struct result *r)
{
	struct zf_event ev;
	char src[2 * ZF_LOC_FIELD_MAX + 8], dst[2 * ZF_LOC_FIELD_MAX + 8];
	static const char *const names[] = {"none", "ok", "skipped", "failed"};

	zf_location_text(src, sizeof(src), &sy->spec.source, r->dataset);
	zf_location_text(dst, sizeof(dst), &sy->spec.target, r->target);
	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_RESULT;
	ev.dataset = r->dataset;
	ev.kind = zf_step_kind_str(r->kind);
	ev.result = names[r->state];
	ev.bytes = r->bytes;
	ev.elapsed_ns = r->ns;
	ev.attempts = r->retries + 1;
	ev.transient = r->transient;
	ev.error = r->state == RES_FAIL ? &r->err : NULL;
	ev.reason = r->reason;
	ev.stage = r->err.stage;
	zf_session_emit(&sy->sess, &ev, src, dst);
}

/* --- one step ----------------------------------------------------------- */

/* The transfer settings of a step: the sync's, for these datasets. */
static void
step_spec(const struct zf_sync *sy, const struct zf_step *st, struct zf_spec *x)
{
	*x = sy->spec; /* a shallow copy: never released */
	zf_strlcpy_ok(x->source.dataset, st->to, sizeof(x->source.dataset));
	zf_strlcpy_ok(x->target.dataset, st->target, sizeof(x->target.dataset));
	x->base = st->from[0] != '\0' ? (char *)(uintptr_t)st->from : NULL;
	x->intermediates = st->intermediates;
	if (st->force)
		x->recv_flags |= ZF_RECV_FORCE;
	if (sy->use_resumable)
		x->recv_flags |= ZF_RECV_RESUMABLE;
	/*
	 * Received unmounted: mounting a child makes a mountpoint directory
	 * in its parent, which then counts as modified and would refuse the
	 * next incremental.
	 */
	if (sy->use_nomount)
		x->recv_flags |= ZF_RECV_NOMOUNT;
}

/* Whether the plan puts datasets below st's target. */
static bool
has_children(const struct round *rd, const struct zf_step *st)
{
	size_t n = strlen(st->target), i;

	for (i = 0; i < rd->plan.nsteps; i++) {
		const char *t = rd->plan.steps[i].target;

		if (strncmp(t, st->target, n) == 0 && t[n] == '/')
			return true;
	}
	return false;
}

/* zfs hold/release TAG on the snapshots a step reads (not bookmarks). */
static void
hold_step(struct zf_sync *sy, const struct zf_step *st, bool hold)
{
	const char *snaps[2] = {st->to, st->from};
	size_t i;

	for (i = 0; i < 2; i++) {
		const char *args[] = {hold ? "hold" : "release", sy->hold_tag,
		    snaps[i], NULL};
		struct zf_error e;

		if (snaps[i][0] == '\0' || strchr(snaps[i], '#') != NULL)
			continue;
		zf_error_clear(&e);
		/* a release runs after a cancel too: no hold is left */
		if (zfs_on_ex(sy, &sy->spec.source, args, NULL, !hold, &e) !=
		        ZF_OK &&
		    hold)
			zf_session_text(&sy->sess, ZF_EV_WARNING,
			    "cannot hold '%s': %s", snaps[i], e.msg);
	}
}

/* zfs bookmark SNAP, as pool/fs#snap, on the source. */
static void
bookmark_one(struct zf_sync *sy, const char *snap)
{
	char bm[ZF_NAME_MAX];
	const char *args[] = {"bookmark", snap, bm, NULL};
	struct zf_error e;

	snprintf(bm, sizeof(bm), "%.*s#%s", (int)strcspn(snap, "@"), snap,
	    strchr(snap, '@') + 1);
	zf_error_clear(&e);
	if (zfs_on(sy, &sy->spec.source, args, NULL, &e) != ZF_OK &&
	    strstr(e.msg, "already exists") == NULL)
		zf_session_text(&sy->sess, ZF_EV_WARNING,
		    "cannot bookmark '%s': %s", snap, e.msg);
}

/*
 * --bookmark: each snapshot the step sent, its "to" and, with -I, every
 * snapshot between its base and "to".
 */
static void
bookmark_step(struct zf_sync *sy, const struct round *rd,
    const struct zf_step *st)
{
	const struct zf_ds *d = zf_tree_at(rd->src, st->src);
	size_t k, lo = ZF_NONE, hi = ZF_NONE;

	for (k = 0; k < d->nsnaps; k++) {
		if (st->from_guid != 0 && d->snaps[k].guid == st->from_guid)
			lo = k;
		if (!d->snaps[k].bookmark && d->snaps[k].guid == st->to_guid)
			hi = k;
	}
	if (!st->intermediates || lo == ZF_NONE || hi == ZF_NONE || lo >= hi) {
		bookmark_one(sy, st->to);
		return;
	}
	for (k = lo + 1; k <= hi; k++) {
		char snap[2 * ZF_NAME_MAX + 2];

		if (d->snaps[k].bookmark || d->snaps[k].guid == st->from_guid)
			continue;
		snprintf(snap, sizeof(snap), "%s@%s", d->name,
		    d->snaps[k].name);
		bookmark_one(sy, snap);
	}
}

/* After a transfer: the bookmark and the target snapshots asked for. */
static void
after_step(struct zf_sync *sy, const struct round *rd, const struct zf_step *st)
{
	struct zf_error e;
	const char **d;

	/*
	 * A zfs without receive -u (zfs-fuse) mounts what it receives; the
	 * children's mountpoints would then modify this new parent.  Not
	 * mounting it (mountpoint=none, inherited) keeps it as received.
	 */
	if (st->kind == ZF_STEP_FULL && !sy->use_nomount &&
	    has_children(rd, st)) {
		const char *args[] = {"set", "mountpoint=none", st->target,
		    NULL};

		zf_session_text(&sy->sess, ZF_EV_NOTE,
		    "the zfs on the target has no receive -u: setting mountpoint=none on '%s' so that its children do not modify it",
		    st->target);
		zf_error_clear(&e);
		if (zfs_on(sy, &sy->spec.target, args, NULL, &e) != ZF_OK)
			zf_session_text(&sy->sess, ZF_EV_WARNING,
			    "cannot set mountpoint=none on '%s': %s",
			    st->target, e.msg);
	}

	if (sy->bookmark && sy->sess.src.has_bookmark && st->to[0] != '\0')
		bookmark_step(sy, rd, st);
	for (d = st->destroy_snaps; d != NULL && *d != NULL; d++) {
		const char *args[] = {"destroy", *d, NULL};

		zf_error_clear(&e);
		if (zfs_on(sy, &sy->spec.target, args, NULL, &e) != ZF_OK)
			zf_session_text(&sy->sess, ZF_EV_WARNING,
			    "cannot destroy '%s': %s", *d, e.msg);
	}
}

/* Waits ms (or until canceled); false when canceled. */
static bool
backoff(struct zf_sync *sy, unsigned attempt)
{
	uint64_t ms = sy->retry_base_ms;
	struct pollfd p;
	unsigned i;

	for (i = 0; i < attempt && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	/* jitter: up to half as much again, so parallel retries spread */
	ms += sy->retry_base_ms
	    ? (uint64_t)rand_r(&sy->seed) % (sy->retry_base_ms / 2 + 1)
	    : 0;
	zf_session_text(&sy->sess, ZF_EV_NOTE, "retrying in %" PRIu64 " ms",
	    ms);
	p.fd = sy->sess.cancel_rd;
	p.events = POLLIN;
	return poll(&p, 1, (int)ms) == 0;
}

/* The target's resume token now, or false (none, or no way to ask). */
static bool
fetch_token(struct zf_sync *sy, const char *target, char *tok, size_t n)
{
	const char *args[] = {"get", "-Hp", "-o", "value",
	    "receive_resume_token", target, NULL};
	struct zf_buf out = ZF_BUF_INIT(64 * 1024);
	struct zf_error e;
	size_t len;
	bool ok = false;

	if (!sy->use_resumable)
		return false;
	zf_error_clear(&e);
	if (zfs_on(sy, &sy->spec.target, args, &out, &e) == ZF_OK &&
	    out.data != NULL) {
		len = strcspn(out.data, "\n");
		if (len > 0 && len < n && strncmp(out.data, "-", len) != 0) {
			memcpy(tok, out.data, len);
			tok[len] = '\0';
			ok = true;
		}
	}
	zf_buf_release(&out);
	return ok;
}

/* The guid of snapshot "ds@snap" in tree, or 0 when it is not there. */
static uint64_t
origin_guid(const struct zf_tree *tree, const char *origin)
{
	char ds[ZF_NAME_MAX];
	const char *at = strchr(origin, '@');
	const struct zf_ds *d;
	size_t i, k;

	if (at == NULL || (size_t)(at - origin) >= sizeof(ds))
		return 0;
	memcpy(ds, origin, (size_t)(at - origin));
	ds[at - origin] = '\0';
	i = zf_tree_find(tree, ds);
	if (i == ZF_NONE)
		return 0;
	d = zf_tree_at(tree, i);
	for (k = 0; k < d->nsnaps; k++)
		if (!d->snaps[k].bookmark &&
		    strcmp(d->snaps[k].name, at + 1) == 0)
			return d->snaps[k].guid;
	return 0;
}

/*
 * Decodes and verifies a resume token against the source dataset it must
 * belong to: its name, a toguid among its snapshots, a fromguid among its
 * snapshots and bookmarks (or its origin), and the raw flag.
 */
static enum zf_status
verify_token(struct zf_sync *sy, const struct zf_tree *tree,
    const struct zf_ds *src, const char *token, struct zf_resume_token *tok,
    struct zf_error *err)
{
	struct zf_token_expect exp;
	uint64_t *guids;
	size_t i, n = 0;
	bool from_known = false;
	enum zf_status r;

	r = zf_token_decode(token, tok, err);
	if (r != ZF_OK)
		return r;
	guids = calloc(src->nsnaps + 1, sizeof(*guids));
	if (guids == NULL)
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	for (i = 0; i < src->nsnaps; i++) {
		if (!src->snaps[i].bookmark)
			guids[n++] = src->snaps[i].guid;
		if (src->snaps[i].guid == tok->fromguid)
			from_known = true;
	}
	memset(&exp, 0, sizeof(exp));
	exp.dataset = src->name;
	exp.guids = guids;
	exp.nguids = n;
	/*
	 * Any base is checked below (an origin of a clone is a valid base
	 * too), with a message that says what is wrong with it.
	 */
	exp.fromguid = tok->fromguid;
	exp.raw = (sy->spec.send_flags & ZF_SEND_RAW) != 0;
	r = zf_token_verify(tok, &exp, err);
	free(guids);
	/* a clone's base may be its origin snapshot, when the tree has it */
	if (r == ZF_OK && tok->fromguid != 0 && !from_known &&
	    src->origin != NULL &&
	    tok->fromguid == origin_guid(tree, src->origin))
		from_known = true;
	if (r == ZF_OK && tok->fromguid != 0 && !from_known)
		r = zf_fail(err, ZF_E_PROTOCOL,
		    "resume token refused: its base guid %" PRIu64
		    " is no snapshot or bookmark of '%s'",
		    tok->fromguid, src->name);
	if (r != ZF_OK && err != NULL) {
		err->stage = ZF_STAGE_TOKEN;
		err->transient = false;
	}
	return r;
}

/*
 * A token of src itself whose snapshot, or base, src no longer has: the
 * partial receive can never be completed.
 */
static bool
token_snapshot_gone(const struct zf_ds *src, const struct zf_resume_token *tok)
{
	size_t n = strlen(src->name), i;
	bool to_there = false,
	     from_there = tok->fromguid == 0 || src->origin != NULL;

	if (strncmp(tok->toname, src->name, n) != 0 || tok->toname[n] != '@')
		return false;
	for (i = 0; i < src->nsnaps; i++) {
		if (!src->snaps[i].bookmark &&
		    src->snaps[i].guid == tok->toguid)
			to_there = true;
		if (src->snaps[i].guid == tok->fromguid)
			from_there = true;
	}
	return !to_there || !from_there;
}

static bool
err_says(const struct zf_error *e, const char *what)
{
	return strstr(e->msg, what) != NULL;
}

/*
 * The receiver's partial state is useless: zfs receive -A, plan again.
 * False when it could not be aborted.
 */
static bool
abort_token(struct zf_sync *sy, struct round *rd, const char *target)
{
	const char *args[] = {"receive", "-A", target, NULL};
	struct zf_error e;

	zf_error_clear(&e);
	zf_session_text(&sy->sess, ZF_EV_NOTE,
	    "aborting the partial receive of '%s' (zfs receive -A)", target);
	if (zfs_on(sy, &sy->spec.target, args, NULL, &e) != ZF_OK) {
		zf_session_text(&sy->sess, ZF_EV_WARNING,
		    "cannot abort the partial receive of '%s': %s", target,
		    e.msg);
		return false;
	}
	pthread_mutex_lock(&rd->mu);
	rd->replan = true;
	pthread_mutex_unlock(&rd->mu);
	return true;
}

static enum zf_status
run_resume(struct zf_sync *sy, struct round *rd, const struct zf_step *st,
    const char *token, struct zf_xfer_stats *xs, struct zf_error *err)
{
	const struct zf_ds *src = zf_tree_at(rd->src, st->src);
	const struct zf_ds *dst =
	    st->dst != ZF_NONE ? zf_tree_at(rd->dst, st->dst) : NULL;
	struct zf_resume_token tok;
	struct zf_spec x;
	enum zf_status r;

	if (verify_token(sy, rd->src, src, token, &tok, err) != ZF_OK) {
		/*
		 * Its snapshot or base was destroyed on the source: nothing
		 * is sent, the target's partial state is aborted (all that a
		 * forged token can get) and the dataset planned again.
		 */
		if (!token_snapshot_gone(src, &tok))
			return ZF_E_PROTOCOL;
		zf_session_text(&sy->sess, ZF_EV_NOTE,
		    "the resume token of '%s' asks for '%s' (or its base), which '%s' no longer has",
		    st->target, tok.toname, src->name);
		if (!abort_token(sy, rd, st->target))
			return ZF_E_PROTOCOL;
		zf_error_clear(err);
		return ZF_OK;
	}
	x = sy->spec;
	zf_strlcpy_ok(x.source.dataset, tok.toname, sizeof(x.source.dataset));
	zf_strlcpy_ok(x.target.dataset, st->target, sizeof(x.target.dataset));
	x.base = NULL;
	x.intermediates = false;
	x.recv_flags |= ZF_RECV_RESUMABLE;
	if (sy->use_nomount)
		x.recv_flags |= ZF_RECV_NOMOUNT;
	/* a full receive into a dataset that existed needed -F, again now */
	if (tok.fromguid == 0 && dst != NULL && dst->nsnaps > 0)
		x.recv_flags |= ZF_RECV_FORCE;
	zf_session_text(&sy->sess, ZF_EV_NOTE,
	    "resuming '%s' into '%s' at %" PRIu64 " bytes", tok.toname,
	    st->target, tok.bytes);
	r = zf_session_transfer(&sy->sess, &x, token, xs, err);
	if (r == ZF_OK) {
		pthread_mutex_lock(&rd->mu);
		rd->replan = true;
		pthread_mutex_unlock(&rd->mu);
		return ZF_OK;
	}
	if (err != NULL &&
	    (err_says(err, "no longer exists") ||
	        err_says(err, "no longer the same snapshot") ||
	        err_says(err, "resume token is corrupt")) &&
	    abort_token(sy, rd, st->target)) {
		zf_error_clear(err);
		return ZF_OK;
	}
	return r;
}

/*
 * --force on a diverged target: roll it back to the common snapshot,
 * destroying what came after (zfs rollback -r), so the incremental lands
 * on exactly that snapshot whatever a zfs's receive -F would do.
 */
static enum zf_status
rollback_target(struct zf_sync *sy, struct round *rd, const struct zf_step *st,
    struct zf_error *err)
{
	const struct zf_ds *td;
	char name[2 * ZF_NAME_MAX + 2];
	size_t k;

	if (st->dst == ZF_NONE || st->from_guid == 0)
		return ZF_OK;
	td = zf_tree_at(rd->dst, st->dst);
	for (k = 0; k < td->nsnaps; k++) {
		const char *args[] = {"rollback", "-r", name, NULL};

		if (td->snaps[k].bookmark || td->snaps[k].guid != st->from_guid)
			continue;
		snprintf(name, sizeof(name), "%s@%s", td->name,
		    td->snaps[k].name);
		zf_session_text(&sy->sess, ZF_EV_NOTE,
		    "--force: rolling '%s' back to '%s'", td->name, name);
		return zfs_on(sy, &sy->spec.target, args, NULL, err);
	}
	return ZF_OK;
}

/* Runs one FULL or INCREMENTAL step, or a RESUME, with retries. */
static void
run_step(struct zf_sync *sy, struct round *rd, size_t i)
{
	const struct zf_step *st = &rd->plan.steps[i];
	const struct zf_ds *src = zf_tree_at(rd->src, st->src);
	struct zf_xfer_stats xs;
	struct zf_error e;
	struct result *res;
	char token[ZF_TOKEN_TEXT_MAX + 1];
	const char *tk = st->kind == ZF_STEP_RESUME ? st->token : NULL;
	unsigned attempt;
	enum zf_status r = ZF_OK;
	bool ok;

	pthread_mutex_lock(&rd->mu);
	res = result_for(sy, src->name, st->target);
	pthread_mutex_unlock(&rd->mu);
	zf_error_clear(&e);
	if (tk != NULL && strlen(tk) <= ZF_TOKEN_TEXT_MAX) {
		zf_strlcpy_ok(token, tk, sizeof(token));
		tk = token;
	}
	if (st->destroy_target) {
		const char *args[] = {"destroy", "-r", st->target, NULL};

		zf_session_text(&sy->sess, ZF_EV_NOTE,
		    "--force: destroying '%s', which shares no snapshot with '%s'",
		    st->target, src->name);
		r = zfs_on(sy, &sy->spec.target, args, NULL, &e);
	}
	if (st->force && r == ZF_OK && tk == NULL)
		r = rollback_target(sy, rd, st, &e);
	if (sy->hold && r == ZF_OK && tk == NULL)
		hold_step(sy, st, true);
	for (attempt = 0; r == ZF_OK; attempt++) {
		struct zf_spec x;

		zf_error_clear(&e);
		/* an aborted token sends nothing: no bytes of a last try */
		memset(&xs, 0, sizeof(xs));
		if (tk != NULL) {
			r = run_resume(sy, rd, st, tk, &xs, &e);
		} else {
			step_spec(sy, st, &x);
			r = zf_session_transfer(&sy->sess, &x, NULL, &xs, &e);
		}
		if (r == ZF_OK || !e.transient || attempt >= sy->retries ||
		    zf_session_is_canceled(&sy->sess))
			break;
		zf_session_text(&sy->sess, ZF_EV_NOTE,
		    "'%s' failed, a retry may help: %s", st->target, e.msg);
		if (!backoff(sy, attempt)) {
			r = zf_session_canceled(&sy->sess, &e);
			break;
		}
		/* the target may hold a resume token now: go on from there */
		if (fetch_token(sy, st->target, token, sizeof(token)))
			tk = token;
		r = ZF_OK;
	}
	if (sy->hold && st->kind != ZF_STEP_RESUME)
		hold_step(sy, st, false);
	ok = r == ZF_OK;
	if (ok)
		after_step(sy, rd, st);
	pthread_mutex_lock(&rd->mu);
	res->kind = st->kind;
	res->retries += attempt;
	if (ok) {
		res->bytes += xs.bytes;
		res->ns += xs.elapsed_ns;
		if (res->state != RES_FAIL)
			res->state = RES_OK;
	} else {
		res->state = RES_FAIL;
		res->transient = e.transient;
		res->err = e;
	}
	rd->state[i] = ok ? S_OK : S_FAILED;
	pthread_cond_broadcast(&rd->cv);
	pthread_mutex_unlock(&rd->mu);
}

/* --- the scheduler ------------------------------------------------------ */

static bool
dep_state(const struct round *rd, size_t d, bool *failed)
{
	if (d == ZF_NONE)
		return true;
	if (rd->state[d] == S_FAILED)
		*failed = true;
	return rd->state[d] == S_OK || rd->state[d] == S_FAILED;
}

/* Marks steps that can no longer run (a dependency failed). */
static void
settle(struct zf_sync *sy, struct round *rd, size_t i)
{
	const struct zf_step *st = &rd->plan.steps[i];
	const struct zf_ds *src = zf_tree_at(rd->src, st->src);
	struct result *res = result_for(sy, src->name, st->target);

	rd->state[i] = S_FAILED;
	if (res != NULL && res->state != RES_FAIL) {
		res->state = RES_FAIL;
		res->kind = st->kind;
		zf_error_clear(&res->err);
		zf_fail(&res->err, ZF_E_CHILD,
		    "not sent: a step it depends on (its parent, its origin or an earlier snapshot) failed");
		res->transient = true;
		res->err.transient = true;
	}
}

/* Next step that can run now, ZF_NONE when none; *left: more to come. */
static size_t
next_step(struct zf_sync *sy, struct round *rd, bool *left)
{
	size_t i;

	*left = false;
	for (i = 0; i < rd->plan.nsteps; i++) {
		const struct zf_step *st = &rd->plan.steps[i];
		bool failed = false, ready;

		if (rd->state[i] != S_PENDING)
			continue;
		ready = dep_state(rd, st->after, &failed) &&
		    dep_state(rd, st->after2, &failed);
		if (failed) {
			settle(sy, rd, i);
			pthread_cond_broadcast(&rd->cv);
			continue;
		}
		*left = true;
		if (ready)
			return i;
	}
	for (i = 0; i < rd->plan.nsteps; i++)
		if (rd->state[i] == S_RUNNING)
			*left = true;
	return ZF_NONE;
}

static void *
worker(void *arg)
{
	struct round *rd = arg;
	struct zf_sync *sy = rd->sy;

	pthread_mutex_lock(&rd->mu);
	for (;;) {
		bool left;
		size_t i = next_step(sy, rd, &left);

		if (i == ZF_NONE) {
			if (!left)
				break;
			pthread_cond_wait(&rd->cv, &rd->mu);
			continue;
		}
		rd->state[i] = S_RUNNING;
		pthread_mutex_unlock(&rd->mu);
		if (zf_session_is_canceled(&sy->sess)) {
			pthread_mutex_lock(&rd->mu);
			settle(sy, rd, i);
			pthread_cond_broadcast(&rd->cv);
			continue;
		}
		run_step(sy, rd, i);
		pthread_mutex_lock(&rd->mu);
	}
	pthread_mutex_unlock(&rd->mu);
	return NULL;
}

/* Records the steps that need no transfer: skips and refusals. */
static void
record_static(struct zf_sync *sy, struct round *rd)
{
	size_t i;

	for (i = 0; i < rd->plan.nsteps; i++) {
		const struct zf_step *st = &rd->plan.steps[i];
		const struct zf_ds *src = zf_tree_at(rd->src, st->src);
		struct result *res;

		/*
		 * Every dataset gets its record now, before any worker runs:
		 * result_for() may grow the array, which must not happen
		 * under a worker holding a pointer into it.
		 */
		res = result_for(sy, src->name, st->target);
		if (res != NULL && st->kind != ZF_STEP_SKIP)
			zf_strlcpy_ok(res->reason, st->reason,
			    sizeof(res->reason));
		if (st->kind != ZF_STEP_SKIP && st->kind != ZF_STEP_REFUSE)
			continue;
		rd->state[i] = st->kind == ZF_STEP_SKIP ? S_OK : S_FAILED;
		if (res == NULL || res->state == RES_OK ||
		    res->state == RES_FAIL)
			continue;
		res->kind = st->kind;
		zf_strlcpy_ok(res->reason, st->reason, sizeof(res->reason));
		if (st->kind == ZF_STEP_SKIP) {
			res->state = RES_SKIP;
		} else {
			res->state = RES_FAIL;
			zf_error_clear(&res->err);
			zf_fail(&res->err, ZF_E_INVALID, "%s", st->reason);
			res->err.stage = ZF_STAGE_INPUT;
		}
	}
}

static void
emit_plan(struct zf_sync *sy, const struct round *rd)
{
	size_t i;

	for (i = 0; i < rd->plan.nsteps; i++) {
		const struct zf_step *st = &rd->plan.steps[i];
		const struct zf_ds *src = zf_tree_at(rd->src, st->src);
		char s[2 * ZF_LOC_FIELD_MAX + 8], t[2 * ZF_LOC_FIELD_MAX + 8];
		struct zf_event ev;

		zf_location_text(s, sizeof(s), &sy->spec.source, src->name);
		zf_location_text(t, sizeof(t), &sy->spec.target, st->target);
		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_PLAN;
		ev.dataset = src->name;
		ev.kind = zf_step_kind_str(st->kind);
		ev.from = st->from;
		ev.to = st->to;
		ev.reason = st->reason;
		ev.estimated_bytes = ZF_UNKNOWN;
		zf_session_emit(&sy->sess, &ev, s, t);
	}
}

static void
round_release(struct round *rd)
{
	zf_plan_release(&rd->plan);
	zf_tree_free(rd->src);
	zf_tree_free(rd->dst);
	free(rd->state);
	pthread_mutex_destroy(&rd->mu);
	pthread_cond_destroy(&rd->cv);
}

/* Releases what one batch of "zfs holds -H" shows with our tag. */
static void
release_batch(struct zf_sync *sy, struct zf_argv *names)
{
	struct zf_buf out = ZF_BUF_INIT(4 * 1024 * 1024);
	struct zf_argv rel = ZF_ARGV_INIT;
	struct zf_error e;
	const char *p, *eol;
	size_t tl = strlen(sy->hold_tag);

	zf_error_clear(&e);
	if (zfs_on(sy, &sy->spec.source, (const char *const *)names->v, &out,
	        &e) != ZF_OK ||
	    out.data == NULL) {
		zf_buf_release(&out);
		return;
	}
	zf_argv_push(&rel, "release");
	zf_argv_push(&rel, sy->hold_tag);
	/* "name\ttag\ttimestamp" lines: ours are released */
	for (p = out.data; *p != '\0'; p = *eol ? eol + 1 : eol) {
		const char *tab = NULL, *q;

		eol = strchrnul(p, '\n');
		for (q = p; q < eol; q++)
			if (*q == '\t') {
				tab = q;
				break;
			}
		if (tab == NULL || (size_t)(eol - tab - 1) < tl + 1 ||
		    memcmp(tab + 1, sy->hold_tag, tl) != 0 ||
		    tab[1 + tl] != '\t')
			continue;
		{
			char name[ZF_NAME_MAX];
			size_t n = (size_t)(tab - p);

			if (n >= sizeof(name))
				continue;
			memcpy(name, p, n);
			name[n] = '\0';
			if (zf_check_name("", name, ZF_NAME_SNAPSHOT, NULL,
			        NULL) == ZF_OK)
				zf_argv_push(&rel, name);
		}
	}
	if (zf_argv_ok(&rel) && rel.n > 2) {
		zf_session_text(&sy->sess, ZF_EV_NOTE,
		    "releasing %zu hold%s left by an earlier run", rel.n - 2,
		    rel.n == 3 ? "" : "s");
		zf_error_clear(&e);
		if (zfs_on(sy, &sy->spec.source, (const char *const *)rel.v,
		        NULL, &e) != ZF_OK)
			zf_session_text(&sy->sess, ZF_EV_WARNING,
			    "cannot release old holds: %s", e.msg);
	}
	zf_argv_clear(&rel);
	zf_buf_release(&out);
}

/*
 * --hold: a run that died left its holds (tag zferry_<hash of the
 * target>); find them on the source's snapshots and release them, a
 * batch of snapshots per "zfs holds".
 */
static void
release_stale_holds(struct zf_sync *sy, const struct zf_tree *src)
{
	struct zf_argv names = ZF_ARGV_INIT;
	size_t i, k;

	for (i = 0; i < zf_tree_count(src); i++) {
		const struct zf_ds *d = zf_tree_at(src, i);

		for (k = 0; k < d->nsnaps; k++) {
			if (d->snaps[k].bookmark)
				continue;
			if (names.n == 0) {
				zf_argv_push(&names, "holds");
				zf_argv_push(&names, "-H");
			}
			zf_argv_pushf(&names, "%s@%s", d->name,
			    d->snaps[k].name);
			if (names.n >= HOLDS_BATCH + 2) {
				release_batch(sy, &names);
				zf_argv_clear(&names);
			}
		}
	}
	if (names.n > 2)
		release_batch(sy, &names);
	zf_argv_clear(&names);
}

/* --- both sides at once ------------------------------------------------- */

/*
 * What one side needs before planning: its ssh connection (if remote), its
 * zfs probed, its tree listed.  The two sides are independent, so they run
 * at once: the local listing is done while the ssh handshake to the other
 * side is still under way.
 */
struct side_task {
	struct zf_sync *sy;
	struct zf_side *side;
	const char *root;
	bool connect; /* start the ssh master first (the remote side) */
	bool list;
	struct zf_tree *tree;
	enum zf_status r;
	struct zf_error err;
};

static void *
side_task_run(void *arg)
{
	struct side_task *t = arg;
	struct zf_sync *sy = t->sy;

	t->r = ZF_OK;
	if (t->connect)
		t->r = zf_master_start(&sy->master, &sy->sess, &sy->spec.ssh,
		    t->side->loc, &t->err);
	if (t->r == ZF_OK)
		t->r = zf_session_probe(&sy->sess, t->side, &t->err);
	if (t->r == ZF_OK && t->list)
		t->r = list_side(sy, t->side, t->root, &t->tree, &t->err);
	return NULL;
}

/*
 * Runs the two sides' tasks, one of them on a thread of its own.  On
 * success *src and *dst hold the trees (NULL when list is false); on
 * failure nothing is kept and err says why (the source's reason first).
 */
static enum zf_status
run_sides(struct zf_sync *sy, bool list, struct zf_tree **src,
    struct zf_tree **dst, struct zf_error *err)
{
	struct side_task t[2];
	pthread_t th;
	bool threaded;
	int k, here;

	memset(t, 0, sizeof(t));
	for (k = 0; k < 2; k++) {
		t[k].sy = sy;
		t[k].side = k == 0 ? &sy->sess.src : &sy->sess.dst;
		t[k].root =
		    k == 0 ? sy->spec.source.dataset : sy->spec.target.dataset;
		t[k].connect = !sy->master.running &&
		    zf_location_is_remote(t[k].side->loc);
		t[k].list = list;
		zf_error_clear(&t[k].err);
	}
	/*
	 * The side that connects runs on this thread: children die with the
	 * thread that started them (PR_SET_PDEATHSIG, spawn.c), and the ssh
	 * master must outlive the helper.  Without a thread, one after the
	 * other.
	 */
	here = t[1].connect ? 1 : 0;
	threaded = pthread_create(&th, NULL, side_task_run, &t[1 - here]) == 0;
	side_task_run(&t[here]);
	if (threaded)
		pthread_join(th, NULL);
	else
		side_task_run(&t[1 - here]);
	for (k = 0; k < 2; k++) {
		if (t[k].r == ZF_OK)
			continue;
		if (err != NULL)
			*err = t[k].err;
		zf_tree_free(t[0].tree);
		zf_tree_free(t[1].tree);
		return t[k].r;
	}
	*src = t[0].tree;
	*dst = t[1].tree;
	return ZF_OK;
}

/*
 * Lists, plans, and (unless a dry run) runs the plan; *again: replan.
 * *src and *dst, when not NULL, are listings made already: they become
 * the round's.
 */
static enum zf_status
run_round(struct zf_sync *sy, struct zf_tree **src, struct zf_tree **dst,
    bool *again, struct zf_error *err)
{
	struct round rd;
	struct zf_plan_opts po;
	enum zf_status r = ZF_OK;
	pthread_t th[64];
	unsigned nth = 0, k;

	memset(&rd, 0, sizeof(rd));
	rd.sy = sy;
	pthread_mutex_init(&rd.mu, NULL);
	pthread_cond_init(&rd.cv, NULL);
	*again = false;
	rd.src = *src;
	rd.dst = *dst;
	*src = *dst = NULL;
	if (rd.src == NULL || rd.dst == NULL) {
		zf_tree_free(rd.src);
		zf_tree_free(rd.dst);
		rd.src = rd.dst = NULL;
		r = run_sides(sy, true, &rd.src, &rd.dst, err);
	}
	if (r == ZF_OK &&
	    zf_tree_find(rd.src, sy->spec.source.dataset) == ZF_NONE)
		r = zf_fail(err, ZF_E_CHILD, "source '%s' does not exist",
		    sy->spec.source.dataset);
	if (r != ZF_OK)
		goto out;
	memset(&po, 0, sizeof(po));
	po.src_root = sy->spec.source.dataset;
	po.dst_root = sy->spec.target.dataset;
	po.recursive = sy->recursive;
	po.skip_parent = sy->skip_parent;
	po.no_stream = sy->no_stream;
	po.force = sy->force;
	po.delete_target_snapshots = sy->delete_target_snapshots;
	po.excludes = sy->excludes;
	po.nexcludes = sy->nexcludes;
	r = zf_plan_make(&rd.plan, rd.src, rd.dst, &po, err);
	if (r != ZF_OK)
		goto out;
	rd.state = calloc(rd.plan.nsteps + 1, sizeof(*rd.state));
	if (rd.state == NULL) {
		r = zf_fail(err, ZF_E_NOMEM, "out of memory");
		goto out;
	}
	emit_plan(sy, &rd);
	record_static(sy, &rd);
	if (sy->dry_run)
		goto out;
	if (sy->hold && !sy->holds_cleaned) {
		zf_session_text(&sy->sess, ZF_EV_NOTE,
		    "holding what is sent with the tag '%s'", sy->hold_tag);
		release_stale_holds(sy, rd.src);
		sy->holds_cleaned = true;
	}
	/* the calling thread works too; jobs - 1 more */
	for (k = 1; k < sy->jobs && k < rd.plan.nsteps; k++)
		if (pthread_create(&th[nth], NULL, worker, &rd) == 0)
			nth++;
	worker(&rd);
	for (k = 0; k < nth; k++)
		pthread_join(th[k], NULL);
	*again = rd.replan && !zf_session_is_canceled(&sy->sess);
out:
	round_release(&rd);
	return r;
}

/* --- before and after ----------------------------------------------- */

static enum zf_status
take_snapshot(struct zf_sync *sy, struct zf_error *err)
{
	char name[2 * ZF_NAME_MAX + 2]; /* its length was checked at setup */
	const char *args[] = {"snapshot", sy->recursive ? "-r" : name,
	    sy->recursive ? name : NULL, NULL};

	snprintf(name, sizeof(name), "%s@%s", sy->spec.source.dataset,
	    sy->snapname);
	zf_session_text(&sy->sess, ZF_EV_NOTE, "taking snapshot '%s'%s", name,
	    sy->recursive ? " (recursive, atomic)" : "");
	return zfs_on(sy, &sy->spec.source, args, NULL, err);
}

/* Labels are escaped as Prometheus wants: backslash, quote, newline. */
static void
prom_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

struct prev_metric {
	char key[2 * ZF_LOC_FIELD_MAX + 32];
	double last_success;
	unsigned failures;
};

/* Reads what the last run wrote: success times and failure counts. */
static struct prev_metric *
read_prev_metrics(const char *path, size_t *n)
{
	FILE *f = fopen(path, "re");
	struct prev_metric *v = NULL;
	char line[2048];
	size_t cap = 0;

	*n = 0;
	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL && *n < 100000) {
		const char *names[] =
		    {"zferry_sync_last_success_timestamp_seconds{",
		        "zferry_sync_consecutive_failures{"};
		char *lab, *end;
		size_t k, j;
		double val;

		for (k = 0; k < 2; k++)
			if (strncmp(line, names[k], strlen(names[k])) == 0)
				break;
		if (k == 2)
			continue;
		lab = line + strlen(names[k]);
		end = strstr(lab, "} ");
		if (end == NULL || (size_t)(end - lab) >= sizeof(v->key))
			continue;
		*end = '\0';
		val = strtod(end + 2, NULL);
		for (j = 0; j < *n; j++)
			if (strcmp(v[j].key, lab) == 0)
				break;
		if (j == *n) {
			if (*n == cap) {
				struct prev_metric *nv;

				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (nv == NULL)
					break;
				v = nv;
			}
			memset(&v[j], 0, sizeof(v[j]));
			zf_strlcpy_ok(v[j].key, lab, sizeof(v[j].key));
			(*n)++;
		}
		if (k == 0)
			v[j].last_success = val;
		else
			v[j].failures =
			    val > 0 && val < 1e9 ? (unsigned)val : 0;
	}
	fclose(f);
	return v;
}

static void
write_metrics(struct zf_sync *sy)
{
	char tmp[PATH_MAX];
	struct prev_metric *prev;
	size_t nprev, i, j;
	struct timespec now;
	FILE *f;
	int fd;

	if (sy->metrics_file == NULL)
		return;
	prev = read_prev_metrics(sy->metrics_file, &nprev);
	clock_gettime(CLOCK_REALTIME, &now);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", sy->metrics_file) >=
	    (int)sizeof(tmp))
		goto out;
	/*
	 * A new file of a random name (O_EXCL): never one that someone who
	 * can write the directory planted, link or not.  Then renamed over
	 * the old one, so readers see the old file or the whole new one.
	 */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd >= 0)
		fchmod(fd, 0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		zf_session_text(&sy->sess, ZF_EV_WARNING,
		    "--metrics-file: cannot write '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	fputs(
	    "# HELP zferry_sync_last_success_timestamp_seconds When the dataset was last in sync.\n"
	    "# TYPE zferry_sync_last_success_timestamp_seconds gauge\n"
	    "# HELP zferry_sync_bytes Stream bytes sent in the last run.\n"
	    "# TYPE zferry_sync_bytes gauge\n"
	    "# HELP zferry_sync_duration_seconds Time the last run spent on the dataset.\n"
	    "# TYPE zferry_sync_duration_seconds gauge\n"
	    "# HELP zferry_sync_consecutive_failures Runs in a row that failed for the dataset.\n"
	    "# TYPE zferry_sync_consecutive_failures gauge\n",
	    f);
	for (i = 0; i < sy->nres; i++) {
		const struct result *r = &sy->res[i];
		char key[2 * ZF_LOC_FIELD_MAX + 32];
		double last = 0;
		unsigned fails = 0;
		char src[2 * ZF_LOC_FIELD_MAX + 8],
		    dst[2 * ZF_LOC_FIELD_MAX + 8];
		FILE *kf;

		zf_location_text(src, sizeof(src), &sy->spec.source,
		    r->dataset);
		zf_location_text(dst, sizeof(dst), &sy->spec.target, r->target);
		/* the label text as written below, to find last run's values */
		kf = fmemopen(key, sizeof(key), "w");
		if (kf == NULL)
			continue;
		fputs("source=\"", kf);
		prom_label(kf, src);
		fputs("\",target=\"", kf);
		prom_label(kf, dst);
		fputs("\"", kf);
		fclose(kf);
		key[sizeof(key) - 1] = '\0';
		for (j = 0; j < nprev; j++) {
			if (strcmp(prev[j].key, key) == 0) {
				last = prev[j].last_success;
				fails = prev[j].failures;
			}
		}
		if (r->state == RES_OK || r->state == RES_SKIP) {
			last = (double)now.tv_sec;
			fails = 0;
		} else {
			fails++;
		}
		fprintf(f,
		    "zferry_sync_last_success_timestamp_seconds{%s} %.0f\n",
		    key, last);
		fprintf(f, "zferry_sync_bytes{%s} %" PRIu64 "\n", key,
		    r->bytes);
		fprintf(f, "zferry_sync_duration_seconds{%s} %.3f\n", key,
		    (double)r->ns / 1e9);
		fprintf(f, "zferry_sync_consecutive_failures{%s} %u\n", key,
		    fails);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
	    rename(tmp, sy->metrics_file) != 0) {
		zf_session_text(&sy->sess, ZF_EV_WARNING,
		    "--metrics-file: cannot write '%s': %s", sy->metrics_file,
		    strerror(errno));
		unlink(tmp);
	}
out:
	free(prev);
}

static void
summarize(struct zf_sync *sy, uint64_t start_ns)
{
	struct zf_event ev;
	size_t i;

	memset(&sy->counts, 0, sizeof(sy->counts));
	for (i = 0; i < sy->nres; i++) {
		const struct result *r = &sy->res[i];

		if (!sy->dry_run)
			emit_result(sy, r);
		sy->counts.bytes += r->bytes;
		if (r->state == RES_OK)
			sy->counts.ok++;
		else if (r->state == RES_FAIL && r->transient)
			sy->counts.transient++;
		else if (r->state == RES_FAIL)
			sy->counts.failed++;
		else
			sy->counts.skipped++;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = ZF_EV_SUMMARY;
	ev.n_ok = sy->counts.ok;
	ev.n_skipped = sy->counts.skipped;
	ev.n_failed = sy->counts.failed;
	ev.n_transient = sy->counts.transient;
	ev.bytes = sy->counts.bytes;
	ev.elapsed_ns = zf_now_ns() - start_ns;
	zf_session_emit(&sy->sess, &ev, NULL, NULL);
}

/* The first fatal failure, else the first transient one, into err. */
static enum zf_status
overall(struct zf_sync *sy, struct zf_error *err)
{
	const struct result *pick = NULL;
	size_t i;

	for (i = 0; i < sy->nres; i++) {
		const struct result *r = &sy->res[i];

		if (r->state != RES_FAIL)
			continue;
		if (pick == NULL || (pick->transient && !r->transient))
			pick = r;
	}
	if (pick == NULL)
		return ZF_OK;
	if (err != NULL && err->code == ZF_OK) {
		*err = pick->err;
		if (err->code == ZF_OK)
			err->code = ZF_E_CHILD;
		err->transient = pick->transient;
		zf_error_prefix(err, "'%s'", pick->dataset);
	}
	return err != NULL ? err->code : ZF_E_CHILD;
}

enum zf_status
zf_sync_run(struct zf_sync *sy, struct zf_error *err)
{
	struct zf_session *s = &sy->sess;
	uint64_t start = zf_now_ns();
	enum zf_status r = ZF_OK;
	const struct zf_location *remote = NULL;
	struct zf_tree *pre_src = NULL, *pre_dst = NULL;
	unsigned round;
	bool again = true;

	if (sy->ran)
		return zf_fail(err, ZF_E_INVALID, "a sync runs only once");
	sy->ran = true;
	if (zf_location_is_remote(&sy->spec.source))
		remote = &sy->spec.source;
	else if (zf_location_is_remote(&sy->spec.target))
		remote = &sy->spec.target;
	if (sy->spec.ssh.key_too_open)
		zf_session_text(s, ZF_EV_WARNING,
		    "--ssh-key '%s' is readable by others; ssh will refuse to use it (chmod 600)",
		    sy->spec.ssh.key_file);
	if (zf_session_is_canceled(s))
		return zf_session_canceled(s, err);
	/*
	 * Connect, probe and list both sides at once; with --snapshot the
	 * source changes first, so the listing waits for it.
	 */
	r = run_sides(sy, sy->snapname[0] == '\0', &pre_src, &pre_dst, err);
	if (r == ZF_OK)
		r = zf_session_check(s, &sy->spec, err);
	if (r == ZF_OK)
		r = zf_session_plan_link(s, err);
	if (r == ZF_OK) {
		sy->use_resumable =
		    sy->resumable_wanted && zf_opt_has(s->dst.recv_opts, 's');
		/* targets are received unmounted where the zfs can (-u) */
		sy->use_nomount = zf_opt_has(s->dst.recv_opts, 'u');
		if (sy->resumable_wanted && !sy->use_resumable)
			zf_session_text(s, ZF_EV_NOTE,
			    "no resumable receive: the zfs on the target has no receive -s");
		if (sy->hold && !s->src.has_hold)
			r = zf_fail(err, ZF_E_UNSUPPORTED,
			    "--hold: the zfs on the source has no holds");
		else if (sy->bookmark && !s->src.has_bookmark)
			r = zf_fail(err, ZF_E_UNSUPPORTED,
			    "--bookmark: the zfs on the source has no bookmarks");
	}
	if (r == ZF_OK && sy->snapname[0] != '\0' && !sy->dry_run)
		r = take_snapshot(sy, err);
	for (round = 0; r == ZF_OK && again && round < MAX_ROUNDS; round++)
		r = run_round(sy, &pre_src, &pre_dst, &again, err);
	zf_tree_free(pre_src);
	zf_tree_free(pre_dst);
	if (remote != NULL)
		zf_master_stop(&sy->master, s, &sy->spec.ssh);
	if (r == ZF_E_CANCELED || zf_session_is_canceled(s)) {
		summarize(sy, start);
		return zf_session_canceled(s, err);
	}
	if (r != ZF_OK)
		return r;
	summarize(sy, start);
	if (!sy->dry_run)
		write_metrics(sy);
	return overall(sy, err);
}
