/*
 * fuzz_plan: zf_plan_make, the plan a sync makes from what two hosts say
 * they hold.  Listing text rarely survives mutation whole (fuzz_tree
 * fuzzes that), so here the input drives a generator of two valid
 * listings instead: datasets, snapshots and bookmarks whose guids come
 * from a small set (so that the sides share some), createtxgs in any
 * order, clone origins, "written", resume tokens.  The listings are then
 * read by zf_tree_add_line() like any others and planned.
 *
 * Checks on every plan: dependencies point backwards; each step's source
 * is a selected dataset and its target the mapped name under the target
 * root (or a REFUSE); FULL and INCREMENTAL steps send a snapshot of their
 * own dataset by its guid, an incremental from an older snapshot or
 * bookmark of it (or, for a clone, from its origin), never -I from a
 * bookmark; only RESUME steps carry the target's token; destroy lists
 * name snapshots of the target, and only when asked for.
 *
 * Input: byte 0 holds the options (bit 0 recursive, 1 skip_parent, 2
 * no_stream, 3 force, 4 delete_target_snapshots, 5 an exclude, 6 no target
 * listing at all, 7 a target root so long that names overflow); the rest
 * drives the generator (see gen_tree()).
 */
#include "fuzz.h"

#include "plan.h"
#include "validate.h"

/* Token characters (the tree checks no more; zf_token_decode does). */
#define TOKEN "1-de013f4d4-e0-789c636064000310a501c49c50360710a715e5e7a6"

struct gen {
	const uint8_t *p, *end;
	char snaps[64][ZF_NAME_MAX]; /* source snapshots, for origins */
	size_t nsnaps;
};

static unsigned
next(struct gen *g)
{
	return g->p < g->end ? *g->p++ : 0;
}

/*
 * A listing (zfs list -Hp format) of up to 6 datasets under root, each
 * with up to 6 snapshots and bookmarks.  The source's datasets may be
 * clones of its earlier snapshots; the target's may hold a token.
 */
static void
gen_tree(struct gen *g, const char *root, bool src, struct zf_buf *out)
{
	char names[6][ZF_NAME_MAX], sn[8][4];
	size_t nds = 1 + next(g) % 6, i, j, k, n, nsn;
	unsigned b;

	snprintf(names[0], sizeof(names[0]), "%s", root);
	for (i = 0; i < nds; i++) {
		const char *origin = "-", *token = "-", *written = "0";

		if (i > 0)
			snprintf(names[i], sizeof(names[i]), "%s/%c%zu",
			    names[next(g) % i], "abc xy"[next(g) % 6], i);
		if (strlen(names[i]) > 245)
			break; /* room for "@s7" */
		b = next(g);
		if (src && i > 0 && b % 4 == 0 && g->nsnaps > 0)
			origin = g->snaps[next(g) % g->nsnaps];
		if (b / 4 % 4 == 1)
			written = "4096";
		if (!src && b / 16 % 4 == 0)
			token = TOKEN;
		zf_buf_addf(out, "%s\t%s\t%zu\t%u\t%s\t%s\t%s\n", names[i],
		    b >= 0xf0 ? "volume" : "filesystem",
		    1000 + i + (src ? 0 : 100), next(g) % 16, origin, written,
		    token);
		n = next(g) % 7;
		for (j = 0, nsn = 0; j < n; j++) {
			b = next(g);
			snprintf(sn[nsn], sizeof(sn[nsn]), "%c%u",
			    b & 0x80 ? '#' : '@', b % 8);
			for (k = 0; k < nsn; k++)
				if (strcmp(sn[k], sn[nsn]) == 0)
					break;
			if (k < nsn)
				continue; /* one name once */
			zf_buf_addf(out, "%s%s\t%s\t%u\t%u\t-\t%s\t-\n",
			    names[i], sn[nsn],
			    b & 0x80 ? "bookmark" : "snapshot", 1 + b / 8 % 8,
			    1 + next(g) % 16,
			    b & 0x80    ? "-"
			        : b & 1 ? "512"
			                : "0");
			if (src && !(b & 0x80) && g->nsnaps < 64)
				snprintf(g->snaps[g->nsnaps++], ZF_NAME_MAX,
				    "%s%s", names[i], sn[nsn]);
			nsn++;
		}
	}
}

/* Reads a listing into a tree; NULL when the parser refuses it. */
static struct zf_tree *
parse(const char *root, const struct zf_buf *b)
{
	const char *p = b->data, *end = b->data + b->len, *nl;
	struct zf_tree *t;
	enum zf_status r = ZF_OK;

	if (zf_tree_new(&t, root, ZF_LIST_FORMAT_LIST, NULL) != ZF_OK)
		return NULL;
	for (; p != NULL && p < end && r == ZF_OK; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		r = zf_tree_add_line(t, p, (size_t)(nl - p), NULL);
	}
	if (r != ZF_OK || zf_tree_finish(t, NULL) != ZF_OK) {
		zf_tree_free(t);
		return NULL;
	}
	return t;
}

/* Position of the snapshot or bookmark full (of dataset d) in d, or NONE. */
static size_t
find_snap(const struct zf_ds *d, const char *full)
{
	size_t n = strlen(d->name), i;
	bool bm;

	if (strncmp(full, d->name, n) != 0 ||
	    (full[n] != '@' && full[n] != '#'))
		return ZF_NONE;
	bm = full[n] == '#';
	for (i = 0; i < d->nsnaps; i++)
		if (d->snaps[i].bookmark == bm &&
		    strcmp(d->snaps[i].name, full + n + 1) == 0)
			return i;
	return ZF_NONE;
}

static bool
terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static void
check_step(const struct zf_plan *plan, size_t i, const struct zf_tree *src,
    const struct zf_tree *dst, const struct zf_plan_opts *o, regex_t *re)
{
	const struct zf_step *s = &plan->steps[i];
	const struct zf_ds *d, *td = NULL;
	size_t sl = strlen(o->src_root), dl = strlen(o->dst_root), k, to, from;
	char want[2 * ZF_NAME_MAX];
	const char *const *q;

	FZ_CHECK(s->after == ZF_NONE || s->after < i, "step %zu after %zu", i,
	    s->after);
	FZ_CHECK(s->after2 == ZF_NONE || s->after2 < i, "step %zu after2 %zu",
	    i, s->after2);
	FZ_CHECK(s->kind <= ZF_STEP_REFUSE, "kind %d", (int)s->kind);
	FZ_CHECK(terminated(s->target, sizeof(s->target)) &&
	        terminated(s->from, sizeof(s->from)) &&
	        terminated(s->to, sizeof(s->to)) &&
	        terminated(s->reason, sizeof(s->reason)),
	    "unterminated field in step %zu", i);
	FZ_CHECK(s->reason[0] != '\0', "step %zu has no reason", i);
	d = zf_tree_at(src, s->src);
	FZ_CHECK(d != NULL, "step %zu: source %zu", i, s->src);
	/* only selected datasets are planned */
	if (strcmp(d->name, o->src_root) == 0)
		FZ_CHECK(!o->skip_parent, "the skipped parent is planned");
	else
		FZ_CHECK(o->recursive &&
		        strncmp(d->name, o->src_root, sl) == 0 &&
		        d->name[sl] == '/' &&
		        (re == NULL || regexec(re, d->name, 0, NULL, 0) != 0),
		    "'%s' is planned", d->name);
	/* the target: the source's path under the target root */
	snprintf(want, sizeof(want), "%s%s", o->dst_root, d->name + sl);
	if (s->target[0] == '\0' || strcmp(s->target, want) != 0) {
		FZ_CHECK(s->kind == ZF_STEP_REFUSE &&
		        (s->target[0] == '\0' || strlen(want) >= ZF_NAME_MAX),
		    "target '%s' of '%s', want '%s'", s->target, d->name, want);
		return;
	}
	FZ_CHECK(zf_check_name("t", s->target, ZF_NAME_FS, NULL, NULL) ==
	            ZF_OK &&
	        strncmp(s->target, o->dst_root, dl) == 0,
	    "target '%s'", s->target);
	if (s->dst != ZF_NONE) {
		td = zf_tree_at(dst, s->dst);
		FZ_CHECK(td != NULL && strcmp(td->name, s->target) == 0,
		    "step %zu: target dataset %zu", i, s->dst);
	}
	if (s->kind == ZF_STEP_RESUME)
		FZ_CHECK(td != NULL && s->token != NULL &&
		        s->token == td->resume_token,
		    "resume step %zu without the target's token", i);
	else
		FZ_CHECK(s->token == NULL, "step %zu has a token", i);
	FZ_CHECK(!s->destroy_target || (o->force && s->kind == ZF_STEP_FULL),
	    "destroy_target in step %zu", i);
	FZ_CHECK(!s->force || o->force, "-F without --force");
	FZ_CHECK(s->destroy_snaps == NULL || o->delete_target_snapshots,
	    "destroys without being asked");
	for (q = s->destroy_snaps; q != NULL && *q != NULL; q++) {
		FZ_CHECK(td != NULL &&
		        zf_check_name("d", *q, ZF_NAME_SNAPSHOT, NULL, NULL) ==
		            ZF_OK,
		    "destroy '%s'", *q);
		FZ_CHECK(find_snap(td, *q) != ZF_NONE,
		    "destroy '%s': not a snapshot of '%s'", *q, td->name);
	}
	if (s->kind != ZF_STEP_FULL && s->kind != ZF_STEP_INCREMENTAL) {
		FZ_CHECK(s->from_guid == 0 && s->to_guid == 0,
		    "guids on step %zu", i);
		return;
	}
	/* what is sent: a snapshot of this dataset, by its guid */
	to = find_snap(d, s->to);
	FZ_CHECK(to != ZF_NONE && !d->snaps[to].bookmark,
	    "'%s' is not a snapshot of '%s'", s->to, d->name);
	FZ_CHECK(d->snaps[to].guid == s->to_guid && s->to_guid != 0,
	    "guid of '%s'", s->to);
	if (s->kind == ZF_STEP_FULL) {
		FZ_CHECK(s->from[0] == '\0' && s->from_guid == 0 && !s->clone,
		    "full step %zu has a base", i);
		return;
	}
	FZ_CHECK(s->from_guid != 0, "incremental step %zu from guid 0", i);
	if (s->clone) {
		FZ_CHECK(d->origin != NULL && strcmp(s->from, d->origin) == 0,
		    "clone '%s' sent from '%s'", d->name, s->from);
		FZ_CHECK(!s->intermediates, "-I from an origin");
		return;
	}
	from = find_snap(d, s->from);
	FZ_CHECK(from != ZF_NONE && d->snaps[from].guid == s->from_guid,
	    "'%s' is not the base in '%s'", s->from, d->name);
	FZ_CHECK(from < to, "base '%s' is not older than '%s'", s->from, s->to);
	FZ_CHECK(!(d->snaps[from].bookmark && s->intermediates),
	    "-I from the bookmark '%s'", s->from);
	for (k = 0; k < i; k++)
		FZ_CHECK(plan->steps[k].src != s->src ||
		        plan->steps[k].kind != ZF_STEP_REFUSE,
		    "'%s' has a step after a refusal", d->name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zf_buf sb = ZF_BUF_INIT(1 << 20), db = ZF_BUF_INIT(1 << 20);
	struct zf_tree *src = NULL, *dst = NULL;
	struct zf_plan_opts o;
	struct zf_plan plan;
	struct zf_error err;
	struct gen *g;
	char droot[ZF_NAME_MAX];
	regex_t re;
	bool root_planned = false;
	enum zf_status r;
	size_t i;

	if (size < 1)
		return 0;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		abort();
	g->p = data + 1;
	g->end = data + size;
	snprintf(droot, sizeof(droot), "d%s%.236s", data[0] & 128 ? "/" : "",
	    data[0] & 128 ? "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                  : "");
	gen_tree(g, "s", true, &sb);
	src = parse("s", &sb);
	FZ_CHECK(src != NULL, "the source listing is refused:\n%s", sb.data);
	if (!(data[0] & 64)) {
		gen_tree(g, droot, false, &db);
		dst = parse(droot, &db);
		FZ_CHECK(dst != NULL, "the target listing is refused:\n%s",
		    db.data);
	}
	memset(&o, 0, sizeof(o));
	o.src_root = "s";
	o.dst_root = droot;
	o.recursive = data[0] & 1;
	o.skip_parent = (data[0] & 3) == 3;
	o.no_stream = data[0] & 4;
	o.force = data[0] & 8;
	o.delete_target_snapshots = data[0] & 16;
	if (data[0] & 32) {
		if (regcomp(&re, "/[ab]|y", REG_EXTENDED | REG_NOSUB) != 0)
			abort();
		o.excludes = &re;
		o.nexcludes = 1;
	}
	zf_error_clear(&err);
	r = zf_plan_make(&plan, src, dst, &o, &err);
	FZ_CHECK(r == ZF_OK, "zf_plan_make: %s", err.msg);
	for (i = 0; i < plan.nsteps; i++) {
		check_step(&plan, i, src, dst, &o, o.nexcludes ? &re : NULL);
		if (plan.steps[i].src == 0)
			root_planned = true;
	}
	FZ_CHECK(root_planned || o.skip_parent, "the root has no step");
	zf_plan_release(&plan);
	if (o.nexcludes)
		regfree(&re);
	zf_tree_free(src);
	zf_tree_free(dst);
	zf_buf_release(&sb);
	zf_buf_release(&db);
	free(g);
	return 0;
}
