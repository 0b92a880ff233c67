/*
 * test_plan.c: the planner, table-driven.  Each case is two listings in a
 * short notation (turned into "zfs list -Hp" lines and parsed by tree.c),
 * options, and the expected steps written one per line:
 *
 *   KIND TARGET [FROM->TO] [I][C][F][D] after=A,B [destroy=X,Y]
 *
 * I: -I (intermediates); C: sent from the clone origin; F: receive -F;
 * D: destroy_target; A, B: the step's after and after2 ("-" for none).
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "plan.h"

/* -------- listings in short -------- */

/*
 * One object per line: "name|guid|createtxg|extras" where extras are
 * ';'-separated: "vol", "origin=SNAP", "written=N", "token=T".  A dataset
 * may leave guid and createtxg empty: unique values are made up.  Type
 * from the name ('@' snapshot, '#' bookmark).
 */
static struct zf_tree *
mktree(const char *root, const char *spec)
{
	static uint64_t auto_guid = 1000000;
	struct zf_tree *t = NULL;
	struct zf_error err;
	const char *p = spec;
	char line[1024], f[4][512];

	zf_error_clear(&err);
	assert_int_equal(zf_tree_new(&t, root, ZF_LIST_FORMAT_LIST, &err),
	    ZF_OK);
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n'),
		           *end = nl ? nl : p + strlen(p);
		const char *q = p, *bar;
		char origin[512] = "-", written[64] = "0", token[512] = "-";
		const char *type = "filesystem", *e;
		size_t k;
		int n;

		for (k = 0; k < 4; k++) {
			bar = memchr(q, '|', (size_t)(end - q));
			if (bar == NULL)
				bar = end;
			n = snprintf(f[k], sizeof(f[k]), "%.*s", (int)(bar - q),
			    q);
			assert_true(n >= 0 && (size_t)n < sizeof(f[k]));
			q = bar < end ? bar + 1 : end;
		}
		if (strchr(f[0], '@') != NULL)
			type = "snapshot";
		else if (strchr(f[0], '#') != NULL) {
			type = "bookmark";
			snprintf(written, sizeof(written), "-");
		}
		if (f[1][0] == '\0')
			snprintf(f[1], sizeof(f[1]), "%" PRIu64, auto_guid++);
		if (f[2][0] == '\0')
			snprintf(f[2], sizeof(f[2]), "1");
		for (e = f[3]; *e != '\0';) {
			size_t len = strcspn(e, ";");

			if (strncmp(e, "vol", len) == 0 && len == 3)
				type = "volume";
			else if (strncmp(e, "origin=", 7) == 0)
				snprintf(origin, sizeof(origin), "%.*s",
				    (int)(len - 7), e + 7);
			else if (strncmp(e, "written=", 8) == 0)
				snprintf(written, sizeof(written), "%.*s",
				    (int)(len - 8), e + 8);
			else if (strncmp(e, "token=", 6) == 0)
				snprintf(token, sizeof(token), "%.*s",
				    (int)(len - 6), e + 6);
			else
				fail_msg("bad extra '%s'", e);
			e += len;
			if (*e == ';')
				e++;
		}
		n = snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\t%s\t%s\t%s",
		    f[0], type, f[1], f[2], origin, written, token);
		assert_true(n > 0 && (size_t)n < sizeof(line));
		if (zf_tree_add_line(t, line, (size_t)n, &err) != ZF_OK)
			fail_msg("listing line '%s': %s", line, err.msg);
		p = nl ? nl + 1 : NULL;
	}
	if (zf_tree_finish(t, &err) != ZF_OK)
		fail_msg("listing: %s", err.msg);
	return t;
}

/* -------- plans in short -------- */

static void
idx(char *out, size_t n, size_t i)
{
	if (i == ZF_NONE)
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%zu", i);
}

static char *
render(const struct zf_plan *plan)
{
	struct zf_buf b = ZF_BUF_INIT(1 << 20);
	size_t i;
	const char **d;

	for (i = 0; i < plan->nsteps; i++) {
		const struct zf_step *s = &plan->steps[i];
		char a[24], a2[24];

		idx(a, sizeof(a), s->after);
		idx(a2, sizeof(a2), s->after2);
		zf_buf_addf(&b, "%s %s", zf_step_kind_str(s->kind), s->target);
		if (s->kind == ZF_STEP_FULL || s->kind == ZF_STEP_INCREMENTAL)
			zf_buf_addf(&b, " %s->%s", s->from, s->to);
		if (s->intermediates || s->clone || s->force ||
		    s->destroy_target)
			zf_buf_addf(&b, " %s%s%s%s",
			    s->intermediates ? "I" : "", s->clone ? "C" : "",
			    s->force ? "F" : "", s->destroy_target ? "D" : "");
		zf_buf_addf(&b, " after=%s,%s", a, a2);
		for (d = s->destroy_snaps; d != NULL && *d != NULL; d++)
			zf_buf_addf(&b, "%s%s",
			    d == s->destroy_snaps ? " destroy=" : ",", *d);
		zf_buf_adds(&b, "\n");
	}
	return zf_buf_detach(&b);
}

/* Checks what the plan's fields promise beyond what render() shows. */
static void
check_plan(const struct zf_plan *plan, const struct zf_tree *src,
    const struct zf_tree *dst)
{
	size_t i;

	for (i = 0; i < plan->nsteps; i++) {
		const struct zf_step *s = &plan->steps[i];

		assert_true(s->after == ZF_NONE || s->after < i);
		assert_true(s->after2 == ZF_NONE || s->after2 < i);
		assert_non_null(zf_tree_at(src, s->src));
		if (s->dst != ZF_NONE)
			assert_string_equal(zf_tree_at(dst, s->dst)->name,
			    s->target);
		assert_true(s->reason[0] != '\0');
		if (s->kind == ZF_STEP_FULL) {
			assert_string_equal(s->from, "");
			assert_int_equal(s->from_guid, 0);
		}
		if (s->kind == ZF_STEP_FULL || s->kind == ZF_STEP_INCREMENTAL) {
			assert_true(s->to_guid != 0);
			assert_non_null(strchr(s->to, '@'));
		}
		if (s->kind == ZF_STEP_INCREMENTAL)
			assert_true(s->from_guid != 0);
		if (s->kind == ZF_STEP_RESUME)
			assert_non_null(s->token);
		else
			assert_null(s->token);
	}
}

struct pcase {
	const char *name;
	const char *src_root, *src;
	const char *dst_root, *dst; /* dst NULL: an empty listing */
	unsigned flags;
	const char *excludes; /* one regex, or NULL */
	const char *want;
	const char *reason; /* in some step's reason, or NULL */
};

enum {
	REC = 1 << 0,
	SKIP_PARENT = 1 << 1,
	NO_STREAM = 1 << 2,
	FORCE = 1 << 3,
	DELETE = 1 << 4,
};

static char *
run_case(const struct pcase *c, struct zf_plan *plan, struct zf_tree **srcp,
    struct zf_tree **dstp)
{
	struct zf_plan_opts o;
	struct zf_error err;
	regex_t re;
	char root[256];

	/* the source listing's root is its first line's dataset */
	snprintf(root, sizeof(root), "%.*s", (int)strcspn(c->src, "@#|\n"),
	    c->src);
	*srcp = mktree(root, c->src);
	*dstp = mktree(c->dst_root, c->dst ? c->dst : "");
	memset(&o, 0, sizeof(o));
	o.src_root = c->src_root;
	o.dst_root = c->dst_root;
	o.recursive = c->flags & REC;
	o.skip_parent = c->flags & SKIP_PARENT;
	o.no_stream = c->flags & NO_STREAM;
	o.force = c->flags & FORCE;
	o.delete_target_snapshots = c->flags & DELETE;
	if (c->excludes != NULL) {
		assert_int_equal(regcomp(&re, c->excludes, REG_EXTENDED), 0);
		o.excludes = &re;
		o.nexcludes = 1;
	}
	zf_error_clear(&err);
	if (zf_plan_make(plan, *srcp, *dstp, &o, &err) != ZF_OK)
		fail_msg("%s: %s", c->name, err.msg);
	if (c->excludes != NULL)
		regfree(&re);
	check_plan(plan, *srcp, *dstp);
	return render(plan);
}

/* -------- the cases -------- */

/* pool/a with s1 < s2 < s3 */
#define A3 "pool/a\npool/a@s1|11|10\npool/a@s2|12|20\npool/a@s3|13|30\n"

static const struct pcase cases[] = {
    /* rule 2: no target */
    {"no target", "pool/a", A3, "back/a", NULL, 0, NULL,
        "full back/a ->pool/a@s1 after=-,-\n"
        "incremental back/a pool/a@s1->pool/a@s3 I after=0,-\n",
        "no target dataset 'back/a'"},
    {"no target, one snapshot", "pool/a", "pool/a\npool/a@s1|11|10\n", "back/a",
        NULL, 0, NULL, "full back/a ->pool/a@s1 after=-,-\n", NULL},
    {"no target, no_stream", "pool/a", A3, "back/a", NULL, NO_STREAM, NULL,
        "full back/a ->pool/a@s3 after=-,-\n", NULL},
    {"no target, no snapshot", "pool/a", "pool/a\n", "back/a", NULL, 0, NULL,
        "skip back/a after=-,-\n", "no snapshot to send"},
    {"no target, only a bookmark", "pool/a", "pool/a\npool/a#b|11|10\n",
        "back/a", NULL, 0, NULL, "skip back/a after=-,-\n",
        "no snapshot to send"},
    {"snapshots out of order", "pool/a",
        "pool/a@s3|13|30\npool/a@s1|11|10\npool/a\npool/a@s2|12|20\n", "back/a",
        NULL, NO_STREAM, NULL, "full back/a ->pool/a@s3 after=-,-\n", NULL},

    /* rules 3, 5, 6: a common snapshot */
    {"up to date", "pool/a", A3, "back/a",
        "back/a\nback/a@s1|11|5\nback/a@s2|12|6\nback/a@s3|13|7\n", 0, NULL,
        "skip back/a after=-,-\n", "up to date at 'back/a@s3'"},
    {"incremental -I", "pool/a", A3, "back/a", "back/a\nback/a@s1|11|5\n", 0,
        NULL, "incremental back/a pool/a@s1->pool/a@s3 I after=-,-\n",
        "from the common snapshot 'pool/a@s1' (the target has "
        "'back/a@s1')"},
    {"incremental -i with no_stream", "pool/a", A3, "back/a",
        "back/a\nback/a@s1|11|5\n", NO_STREAM, NULL,
        "incremental back/a pool/a@s1->pool/a@s3 after=-,-\n", NULL},
    {"the newest common snapshot is the base", "pool/a", A3, "back/a",
        "back/a\nback/a@s1|11|5\nback/a@s2|12|6\n", 0, NULL,
        "incremental back/a pool/a@s2->pool/a@s3 I after=-,-\n", NULL},
    {"renamed snapshots match by guid", "pool/a", A3, "back/a",
        "back/a\nback/a@first|11|5\nback/a@daily.1|12|6\n", 0, NULL,
        "incremental back/a pool/a@s2->pool/a@s3 I after=-,-\n",
        "the target has 'back/a@daily.1'"},
    {"a renamed source snapshot matches too", "pool/a",
        "pool/a\npool/a@x1|11|10\npool/a@x2|12|20\n", "back/a",
        "back/a\nback/a@s1|11|5\n", 0, NULL,
        "incremental back/a pool/a@x1->pool/a@x2 I after=-,-\n", NULL},
    {"the same name with another guid is no match", "pool/a", A3, "back/a",
        "back/a\nback/a@s1|91|5\nback/a@s2|92|6\n", 0, NULL,
        "refuse back/a after=-,-\n",
        "'back/a' shares no snapshot with 'pool/a'; --force replaces it"},
    {"same name, other guid, after a common one", "pool/a", A3, "back/a",
        "back/a\nback/a@s1|11|5\nback/a@s2|92|6\n", 0, NULL,
        "refuse back/a after=-,-\n",
        "target 'back/a' has snapshots newer than the common snapshot "
        "'back/a@s1' (eg. 'back/a@s2'); --force rolls them back"},
    {"a target bookmark is no base", "pool/a", A3, "back/a",
        "back/a\nback/a@s1|11|5\nback/a#s2|12|6\n", 0, NULL,
        "incremental back/a pool/a@s1->pool/a@s3 I after=-,-\n", NULL},

    /* rule 4: a diverged target */
    {"newer target snapshots", "pool/a", A3, "back/a",
        "back/a\nback/a@s1|11|5\nback/a@x1|71|6\nback/a@x2|72|7\n", 0, NULL,
        "refuse back/a after=-,-\n",
        "target 'back/a' has snapshots newer than the common snapshot "
        "'back/a@s1' (eg. 'back/a@x1'); --force rolls them back"},
    {"newer target snapshots, forced", "pool/a", A3, "back/a",
        "back/a\nback/a@s1|11|5\nback/a@x1|71|6\n", FORCE, NULL,
        "incremental back/a pool/a@s1->pool/a@s3 IF after=-,-\n",
        "rolling back the target (--force)"},
    {"written since the base", "pool/a", A3, "back/a",
        "back/a|||written=12345\nback/a@s2|12|6\n", 0, NULL,
        "refuse back/a after=-,-\n",
        "target 'back/a' was modified since 'back/a@s2' (written 12345 "
        "bytes); --force rolls it back"},
    {"written since the base, forced", "pool/a", A3, "back/a",
        "back/a|||written=12345\nback/a@s2|12|6\n", FORCE, NULL,
        "incremental back/a pool/a@s2->pool/a@s3 IF after=-,-\n", NULL},
    {"written 0 is no change", "pool/a", A3, "back/a",
        "back/a|||written=0\nback/a@s3|13|6\n", 0, NULL,
        "skip back/a after=-,-\n", NULL},
    {"diverged but up to date: refused", "pool/a", A3, "back/a",
        "back/a|||written=4096\nback/a@s3|13|6\n", 0, NULL,
        "refuse back/a after=-,-\n", "was modified since 'back/a@s3'"},
    {"diverged but up to date, forced: nothing to send", "pool/a", A3, "back/a",
        "back/a\nback/a@s3|13|6\nback/a@x|77|7\n", FORCE, NULL,
        "skip back/a after=-,-\n", "up to date at 'back/a@s3' (nothing"},

    /* rule 3: an unrelated target */
    {"unrelated target", "pool/a", A3, "back/a", "back/a\nback/a@z|99|5\n", 0,
        NULL, "refuse back/a after=-,-\n",
        "'back/a' shares no snapshot with 'pool/a'; --force replaces it"},
    {"a target without snapshots is unrelated", "pool/a", A3, "back/a",
        "back/a\n", 0, NULL, "refuse back/a after=-,-\n", "shares no"},
    {"unrelated target, forced", "pool/a", A3, "back/a",
        "back/a\nback/a@z|99|5\n", FORCE, NULL,
        "full back/a ->pool/a@s1 FD after=-,-\n"
        "incremental back/a pool/a@s1->pool/a@s3 I after=0,-\n",
        "replacing it (--force)"},
    {"unrelated target, forced, no_stream", "pool/a", A3, "back/a",
        "back/a\nback/a@z|99|5\n", FORCE | NO_STREAM, NULL,
        "full back/a ->pool/a@s3 FD after=-,-\n", NULL},
    {"an existing target, no source snapshot", "pool/a", "pool/a\n", "back/a",
        "back/a\nback/a@z|99|5\n", DELETE, NULL, "skip back/a after=-,-\n",
        "no snapshot to send"},

    /* bookmarks */
    {"bookmark base", "pool/a",
        "pool/a\npool/a#s1|11|10\npool/a@s2|12|20\npool/a@s3|13|30\n", "back/a",
        "back/a\nback/a@s1|11|5\n", 0, NULL,
        "incremental back/a pool/a#s1->pool/a@s2 after=-,-\n"
        "incremental back/a pool/a@s2->pool/a@s3 I after=0,-\n",
        "from the bookmark 'pool/a#s1' (the target has 'back/a@s1')"},
    {"bookmark base, one snapshot after it", "pool/a",
        "pool/a\npool/a#s1|11|10\npool/a@s2|12|20\n", "back/a",
        "back/a\nback/a@s1|11|5\n", 0, NULL,
        "incremental back/a pool/a#s1->pool/a@s2 after=-,-\n", NULL},
    {"bookmark base, no_stream", "pool/a",
        "pool/a\npool/a#s1|11|10\npool/a@s2|12|20\npool/a@s3|13|30\n", "back/a",
        "back/a\nback/a@s1|11|5\n", NO_STREAM, NULL,
        "incremental back/a pool/a#s1->pool/a@s3 after=-,-\n", NULL},
    {"a snapshot beats its bookmark", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a#s1|11|10\npool/a@s2|12|20\n", "back/a",
        "back/a\nback/a@s1|11|5\n", 0, NULL,
        "incremental back/a pool/a@s1->pool/a@s2 I after=-,-\n", NULL},
    {"bookmark base, forced over newer snapshots", "pool/a",
        "pool/a\npool/a#s1|11|10\npool/a@s2|12|20\npool/a@s3|13|30\n", "back/a",
        "back/a\nback/a@s1|11|5\nback/a@x|55|6\n", FORCE, NULL,
        "incremental back/a pool/a#s1->pool/a@s2 F after=-,-\n"
        "incremental back/a pool/a@s2->pool/a@s3 I after=0,-\n",
        NULL},
    {"a bookmark newer than every snapshot: up to date", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a#s2|12|20\n", "back/a",
        "back/a\nback/a@s1|11|5\nback/a@s2|12|6\n", 0, NULL,
        "skip back/a after=-,-\n", "up to date at 'back/a@s2'"},

    /* rule 1 */
    {"resume token", "pool/a", A3, "back/a",
        "back/a|||token=1-abc-def-123\nback/a@s1|11|5\n", REC, NULL,
        "resume back/a after=-,-\n", "holds an interrupted receive"},
    {"resume first, children still planned", "pool/a",
        A3 "pool/a/b\npool/a/b@s1|21|10\n", "back/a",
        "back/a|||token=1-abc-def-123\n", REC, NULL,
        "resume back/a after=-,-\n"
        "full back/a/b ->pool/a/b@s1 after=0,-\n",
        NULL},

    /* rule 7 */
    {"delete target snapshots", "pool/a", A3, "back/a",
        "back/a\nback/a@old|5|2\nback/a@s1|11|5\nback/a@mid|6|6\n"
        "back/a@s2|12|7\nback/a#bm|7|8\n",
        DELETE, NULL,
        "incremental back/a pool/a@s2->pool/a@s3 I after=-,- "
        "destroy=back/a@old,back/a@mid\n",
        NULL},
    {"delete target snapshots when up to date", "pool/a", A3, "back/a",
        "back/a\nback/a@old|5|2\nback/a@s3|13|7\n", DELETE, NULL,
        "skip back/a after=-,- destroy=back/a@old\n", NULL},
    {"nothing to delete", "pool/a", A3, "back/a", "back/a\nback/a@s2|12|7\n",
        DELETE, NULL, "incremental back/a pool/a@s2->pool/a@s3 I after=-,-\n",
        NULL},
    {"delete after a bookmark base: the base too", "pool/a",
        "pool/a\npool/a#s1|11|10\npool/a@s2|12|20\n", "back/a",
        "back/a\nback/a@s1|11|5\n", DELETE, NULL,
        "incremental back/a pool/a#s1->pool/a@s2 after=-,- "
        "destroy=back/a@s1\n",
        NULL},
    {"delete, forced rollback: the rolled back ones are not listed", "pool/a",
        A3, "back/a", "back/a\nback/a@old|5|2\nback/a@s1|11|5\nback/a@x|55|6\n",
        DELETE | FORCE, NULL,
        "incremental back/a pool/a@s1->pool/a@s3 IF after=-,- "
        "destroy=back/a@old\n",
        NULL},
    {"delete, refused: nothing listed", "pool/a", A3, "back/a",
        "back/a\nback/a@old|5|2\nback/a@s1|11|5\nback/a@x|55|6\n", DELETE, NULL,
        "refuse back/a after=-,-\n", NULL},

    /* recursion, mapping, excludes */
    {"recursive, with spaces", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/with space\n"
        "pool/a/with space@snap 1|21|10\npool/a/with space/kid\n"
        "pool/a/with space/kid@s1|31|10\npool/a/b\npool/a/b@s1|41|10\n",
        "back/x y", NULL, REC, NULL,
        "full back/x y ->pool/a@s1 after=-,-\n"
        "full back/x y/b ->pool/a/b@s1 after=0,-\n"
        "full back/x y/with space ->pool/a/with space@snap 1 after=0,-\n"
        "full back/x y/with space/kid ->pool/a/with space/kid@s1 "
        "after=2,-\n",
        NULL},
    {"not recursive: the root only", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/b\n", "back/a", NULL, 0, NULL,
        "full back/a ->pool/a@s1 after=-,-\n", NULL},
    {"recursive, a subtree of the listing", "pool/a/b",
        "pool\npool/a\npool/a@s1|11|10\npool/a/b\npool/a/b@s1|21|10\n"
        "pool/a/b/c\npool/a/b/c@s1|31|10\npool/a/bc\npool/a/bc@s1|41|10\n",
        "back", NULL, REC, NULL,
        "full back ->pool/a/b@s1 after=-,-\n"
        "full back/c ->pool/a/b/c@s1 after=0,-\n",
        NULL},
    {"skip_parent", "pool/a",
        A3 "pool/a/b\npool/a/b@s1|21|10\npool/a/b/c\npool/a/b/c@s1|31|10\n",
        "back/a", "back/a\n", REC | SKIP_PARENT, NULL,
        "full back/a/b ->pool/a/b@s1 after=-,-\n"
        "full back/a/b/c ->pool/a/b/c@s1 after=0,-\n",
        NULL},
    {"an excluded dataset's child is still synced", "pool/a",
        A3 "pool/a/x\npool/a/x@s1|21|10\npool/a/x/y\npool/a/x/y@s1|31|10\n"
           "pool/a/z\npool/a/z@s1|41|10\n",
        "back/a", NULL, REC, "^pool/a/x$",
        "full back/a ->pool/a@s1 after=-,-\n"
        "incremental back/a pool/a@s1->pool/a@s3 I after=0,-\n"
        "full back/a/x/y ->pool/a/x/y@s1 after=1,-\n"
        "full back/a/z ->pool/a/z@s1 after=1,-\n",
        NULL},
    {"an unanchored exclude matches the children too", "pool/a",
        A3 "pool/a/x\npool/a/x@s1|21|10\npool/a/x/y\npool/a/x/y@s1|31|10\n",
        "back/a", NULL, REC | NO_STREAM, "pool/a/x",
        "full back/a ->pool/a@s3 after=-,-\n", NULL},
    {"excludes do not apply to the root", "pool/a",
        A3 "pool/a/x\npool/a/x@s1|21|10\n", "back/a", NULL, REC | NO_STREAM,
        "pool/a", "full back/a ->pool/a@s3 after=-,-\n", NULL},
    {"a replaced target's children are sent anew", "pool/a",
        A3 "pool/a/b\npool/a/b@s1|21|10\npool/a/b@s2|22|20\n", "back/a",
        "back/a\nback/a@z|99|5\nback/a/b\nback/a/b@s1|21|6\n",
        REC | FORCE | NO_STREAM, NULL,
        "full back/a ->pool/a@s3 FD after=-,-\n"
        "full back/a/b ->pool/a/b@s2 after=0,-\n",
        NULL},

    /* clones */
    {"a clone of a dataset in the plan", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/b\npool/a/b@s1|21|10\n"
        "pool/a/b@s2|22|20\npool/a/c||25|origin=pool/a/b@s1\n"
        "pool/a/c@c1|31|30\npool/a/c@c2|32|40\n",
        "back/a", NULL, REC, NULL,
        "full back/a ->pool/a@s1 after=-,-\n"
        "full back/a/b ->pool/a/b@s1 after=0,-\n"
        "incremental back/a/b pool/a/b@s1->pool/a/b@s2 I after=1,-\n"
        "incremental back/a/c pool/a/b@s1->pool/a/c@c1 C after=0,2\n"
        "incremental back/a/c pool/a/c@c1->pool/a/c@c2 I after=3,-\n",
        "'pool/a/c' is a clone of 'pool/a/b@s1', sent from it"},
    {"a clone that sorts before its origin", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/b\npool/a/b@s1|21|10\n"
        "pool/a/a||25|origin=pool/a/b@s1\npool/a/a@c1|31|30\n",
        "back/a", NULL, REC, NULL,
        "full back/a ->pool/a@s1 after=-,-\n"
        "full back/a/b ->pool/a/b@s1 after=0,-\n"
        "incremental back/a/a pool/a/b@s1->pool/a/a@c1 C after=0,1\n",
        NULL},
    {"a clone of a nested dataset, in order", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/a||25|origin=pool/a/z/y@s1\n"
        "pool/a/a@c1|31|30\npool/a/z\npool/a/z/y\npool/a/z/y@s1|41|10\n",
        "back/a", NULL, REC, NULL,
        "full back/a ->pool/a@s1 after=-,-\n"
        "skip back/a/z after=0,-\n"
        "full back/a/z/y ->pool/a/z/y@s1 after=1,-\n"
        "incremental back/a/a pool/a/z/y@s1->pool/a/a@c1 C after=0,2\n",
        NULL},
    {"a clone whose origin is already on the target", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/b\npool/a/b@s1|21|10\n"
        "pool/a/c||25|origin=pool/a/b@s1\npool/a/c@c1|31|30\n",
        "back/a", "back/a\nback/a@s1|11|5\nback/a/b\nback/a/b@s1|21|6\n", REC,
        NULL,
        "skip back/a after=-,-\n"
        "skip back/a/b after=0,-\n"
        "incremental back/a/c pool/a/b@s1->pool/a/c@c1 C after=0,-\n",
        NULL},
    {"a clone of an excluded dataset on the target", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/b\npool/a/b@s1|21|10\n"
        "pool/a/c||25|origin=pool/a/b@s1\npool/a/c@c1|31|30\n",
        "back/a", "back/a\nback/a@s1|11|5\nback/a/b\nback/a/b@s1|21|6\n", REC,
        "/b$",
        "skip back/a after=-,-\n"
        "incremental back/a/c pool/a/b@s1->pool/a/c@c1 C after=0,-\n",
        NULL},
    {"a clone of an excluded dataset not on the target", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/b\npool/a/b@s1|21|10\n"
        "pool/a/c||25|origin=pool/a/b@s1\npool/a/c@c1|31|30\n",
        "back/a", "back/a\nback/a@s1|11|5\n", REC, "/b$",
        "skip back/a after=-,-\n"
        "full back/a/c ->pool/a/c@c1 after=0,-\n",
        NULL},
    {"a clone whose origin is outside the listing", "pool/a/c",
        "pool/a/c||25|origin=pool/a/b@s1\npool/a/c@c1|31|30\n"
        "pool/a/c@c2|32|40\n",
        "back/c", NULL, REC, NULL,
        "full back/c ->pool/a/c@c1 after=-,-\n"
        "incremental back/c pool/a/c@c1->pool/a/c@c2 I after=0,-\n",
        NULL},
    {"a clone whose origin is in the listing, outside the source", "pool/a/c",
        "pool/a\npool/a@s1|11|10\npool/a/c||25|origin=pool/a@s1\n"
        "pool/a/c@c1|31|30\n",
        "back/c", NULL, REC, NULL, "full back/c ->pool/a/c@c1 after=-,-\n",
        NULL},
    {"no_stream does not send the origin: the clone goes in full", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a@s2|12|20\n"
        "pool/a/c||25|origin=pool/a@s1\npool/a/c@c1|31|30\n",
        "back/a", NULL, REC | NO_STREAM, NULL,
        "full back/a ->pool/a@s2 after=-,-\n"
        "full back/a/c ->pool/a/c@c1 after=0,-\n",
        NULL},
    {"no_stream sends the origin when it is the newest", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/c||25|origin=pool/a@s1\n"
        "pool/a/c@c1|31|30\npool/a/c@c2|32|40\n",
        "back/a", NULL, REC | NO_STREAM, NULL,
        "full back/a ->pool/a@s1 after=-,-\n"
        "incremental back/a/c pool/a@s1->pool/a/c@c2 C after=0,0\n",
        NULL},
    {"the origin's target is refused but holds the origin", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a@s2|12|20\n"
        "pool/a/c||25|origin=pool/a@s1\npool/a/c@c1|31|30\n",
        "back/a", "back/a\nback/a@s1|11|5\nback/a@x|55|6\n", REC, NULL,
        "refuse back/a after=-,-\n"
        "incremental back/a/c pool/a@s1->pool/a/c@c1 C after=0,-\n",
        NULL},
    {"the origin's target is replaced: the clone goes in full", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a@s2|12|20\npool/a/b\n"
        "pool/a/b@s1|21|10\npool/a/c||25|origin=pool/a/b@s1\n"
        "pool/a/c@c1|31|30\n",
        "back/a", "back/a\nback/a@z|99|5\nback/a/b\nback/a/b@s1|21|6\n",
        REC | FORCE | NO_STREAM, NULL,
        "full back/a ->pool/a@s2 FD after=-,-\n"
        "full back/a/b ->pool/a/b@s1 after=0,-\n"
        "incremental back/a/c pool/a/b@s1->pool/a/c@c1 C after=0,1\n",
        NULL},
    {"a clone without snapshots", "pool/a",
        "pool/a\npool/a@s1|11|10\npool/a/c||25|origin=pool/a@s1\n", "back/a",
        NULL, REC, NULL,
        "full back/a ->pool/a@s1 after=-,-\n"
        "skip back/a/c after=0,-\n",
        NULL},
    {"origin cycle (hostile): no hang, one goes in full", "p/r",
        "p/r\np/r@s|1|1\np/r/a||5|origin=p/r/b@s\np/r/a@s|2|6\n"
        "p/r/b||5|origin=p/r/a@s\np/r/b@s|3|6\n",
        "q", NULL, REC, NULL,
        "full q ->p/r@s after=-,-\n"
        "full q/b ->p/r/b@s after=0,-\n"
        "incremental q/a p/r/b@s->p/r/a@s C after=0,1\n",
        NULL},
    {"a parent that is a clone of its own child", "p/r",
        "p/r\np/r@s|1|1\np/r/x||5|origin=p/r/x/y@s\np/r/x@s|2|6\n"
        "p/r/x/y\np/r/x/y@s|3|3\n",
        "q", NULL, REC, NULL,
        "full q ->p/r@s after=-,-\n"
        "full q/x ->p/r/x@s after=0,-\n"
        "full q/x/y ->p/r/x/y@s after=1,-\n",
        NULL},
};

static void
test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		const struct pcase *c = &cases[i];
		struct zf_plan plan;
		struct zf_tree *src, *dst;
		char *got = run_case(c, &plan, &src, &dst);
		size_t k;
		bool found = c->reason == NULL;

		if (c->want != NULL && strcmp(got, c->want) != 0)
			fail_msg("case '%s':\n--- want\n%s--- got\n%s", c->name,
			    c->want, got);
		for (k = 0; k < plan.nsteps && !found; k++)
			found = strstr(plan.steps[k].reason, c->reason) != NULL;
		if (!found) {
			for (k = 0; k < plan.nsteps; k++)
				print_message("reason %zu: %s\n", k,
				    plan.steps[k].reason);
			fail_msg("case '%s': no reason says \"%s\"", c->name,
			    c->reason);
		}
		free(got);
		zf_plan_release(&plan);
		zf_tree_free(src);
		zf_tree_free(dst);
	}
}

/* -------- real listings -------- */

static char *
slurp(const char *name)
{
	const char *dir = getenv("ZF_TEST_DATA");
	const char *slash = strrchr(__FILE__, '/');
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	/* ctest sets ZF_TEST_DATA; without it, the sources' own tests/data */
	if (dir != NULL && dir[0] != '\0')
		snprintf(path, sizeof(path), "%s/listings/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%.*s/../data/listings/%s",
		    slash == NULL ? 1 : (int)(slash - __FILE__),
		    slash == NULL ? "." : __FILE__, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static struct zf_tree *
load(const char *file, const char *root, enum zf_list_format fmt)
{
	char *text = slurp(file), *p, *nl;
	struct zf_tree *t = NULL;
	struct zf_error err;

	zf_error_clear(&err);
	assert_int_equal(zf_tree_new(&t, root, fmt, &err), ZF_OK);
	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (zf_tree_add_line(t, p, (size_t)(nl - p), &err) != ZF_OK)
			fail_msg("%s: %s", file, err.msg);
	}
	assert_int_equal(zf_tree_finish(t, &err), ZF_OK);
	free(text);
	return t;
}

static void
expect_plan(const struct zf_tree *src, const struct zf_tree *dst,
    const struct zf_plan_opts *o, const char *want, struct zf_plan *plan)
{
	struct zf_error err;
	char *got;

	zf_error_clear(&err);
	if (zf_plan_make(plan, src, dst, o, &err) != ZF_OK)
		fail_msg("%s", err.msg);
	check_plan(plan, src, dst);
	got = render(plan);
	if (strcmp(got, want) != 0)
		fail_msg("--- want\n%s--- got\n%s", want, got);
	free(got);
}

static void
test_zfs_fuse_capture(void **state)
{
	struct zf_tree *src =
	    load("zfs-fuse-r.get", "zfplan11838/a", ZF_LIST_FORMAT_GET);
	struct zf_tree *dst =
	    load("zfs-fuse-target.get", "zfplan11838/t", ZF_LIST_FORMAT_GET);
	struct zf_plan_opts o;
	struct zf_plan plan;

	(void)state;
	/* the target's @renamed2 is the source's @s2 */
	memset(&o, 0, sizeof(o));
	o.src_root = "zfplan11838/a/b";
	o.dst_root = "zfplan11838/t/b";
	expect_plan(src, dst, &o,
	    "incremental zfplan11838/t/b zfplan11838/a/b@s2->zfplan11838/a/"
	    "b@s3 I after=-,-\n",
	    &plan);
	assert_non_null(strstr(plan.steps[0].reason,
	    "the target has 'zfplan11838/t/b@renamed2'"));
	assert_int_equal(plan.steps[0].from_guid, 5215064718957580110ULL);
	zf_plan_release(&plan);

	/* the whole tree to a new place: the clone from its origin */
	o.src_root = "zfplan11838/a";
	o.dst_root = "zfplan11838/t/copy";
	o.recursive = true;
	expect_plan(src, dst, &o,
	    "full zfplan11838/t/copy ->zfplan11838/a@renamed after=-,-\n"
	    "incremental zfplan11838/t/copy "
	    "zfplan11838/a@renamed->zfplan11838/a@s2 I after=0,-\n"
	    "full zfplan11838/t/copy/b ->zfplan11838/a/b@s1 after=1,-\n"
	    "incremental zfplan11838/t/copy/b "
	    "zfplan11838/a/b@s1->zfplan11838/a/b@s3 I after=2,-\n"
	    "incremental zfplan11838/t/copy/clone "
	    "zfplan11838/a/b@s1->zfplan11838/a/clone@c1 C after=1,3\n"
	    "full zfplan11838/t/copy/with space ->zfplan11838/a/with "
	    "space@s1 after=1,-\n"
	    "incremental zfplan11838/t/copy/with space zfplan11838/a/with "
	    "space@s1->zfplan11838/a/with space@snap two I after=5,-\n"
	    "full zfplan11838/t/copy/with space/kid ->zfplan11838/a/with "
	    "space/kid@k1 after=6,-\n",
	    &plan);
	zf_plan_release(&plan);
	zf_tree_free(src);
	zf_tree_free(dst);
}

static void
test_openzfs_listing(void **state)
{
	struct zf_tree *src =
	    load("openzfs-src.list", "tank/src", ZF_LIST_FORMAT_LIST);
	struct zf_tree *dst =
	    load("openzfs-dst.list", "tank/dst", ZF_LIST_FORMAT_LIST);
	struct zf_plan_opts o;
	struct zf_plan plan;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.src_root = "tank/src";
	o.dst_root = "tank/dst";
	o.recursive = true;
	expect_plan(src, dst, &o,
	    "refuse tank/dst after=-,-\n"
	    "resume tank/dst/inc after=0,-\n"
	    "incremental tank/dst/clone tank/src/inc@s1->tank/src/clone@c1 C "
	    "after=0,-\n"
	    "refuse tank/dst/my data after=0,-\n"
	    "full tank/dst/vol ->tank/src/vol@s1 after=0,-\n",
	    &plan);
	assert_ptr_equal(plan.steps[1].token,
	    zf_tree_at(dst, zf_tree_find(dst, "tank/dst/inc"))->resume_token);
	assert_string_equal(plan.steps[3].reason,
	    "target 'tank/dst/my data' has snapshots newer than the common "
	    "snapshot 'tank/dst/my data@s1' (eg. 'tank/dst/my data@local'); "
	    "--force rolls them back");
	assert_string_equal(plan.steps[0].reason,
	    "'tank/dst' shares no snapshot with 'tank/src'; --force replaces "
	    "it");
	zf_plan_release(&plan);

	o.force = true;
	o.delete_target_snapshots = true;
	o.skip_parent = true;
	expect_plan(src, dst, &o,
	    "resume tank/dst/inc after=-,-\n"
	    "incremental tank/dst/clone tank/src/inc@s1->tank/src/clone@c1 C "
	    "after=-,-\n"
	    "incremental tank/dst/my data tank/src/my data@s1->tank/src/my "
	    "data@snap 1 IF after=-,-\n"
	    "full tank/dst/vol ->tank/src/vol@s1 after=-,-\n",
	    &plan);
	zf_plan_release(&plan);
	zf_tree_free(src);
	zf_tree_free(dst);
}

/* -------- options and limits -------- */

static void
test_bad_options(void **state)
{
	struct zf_tree *src = mktree("pool/a", A3);
	struct zf_plan_opts o;
	struct zf_plan plan;
	struct zf_error err;
	static const struct {
		const char *src_root, *dst_root;
		bool skip_parent;
		size_t nexcludes;
		const char *msg;
	} bad[] = {
	    {NULL, "back", false, 0, "source"},
	    {"pool/a", NULL, false, 0, "target"},
	    {"pool/a@s1", "back", false, 0, "source: invalid dataset name"},
	    {"pool/a", "-back", false, 0, "target: invalid dataset name"},
	    {"pool/b", "back", false, 0,
	        "source 'pool/b' is not in its listing"},
	    {"pool/a", "back", true, 0,
	        "skipping the parent needs a recursive"},
	    {"pool/a", "back", false, 2, "2 excludes but no expressions"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(bad); i++) {
		memset(&o, 0, sizeof(o));
		o.src_root = bad[i].src_root;
		o.dst_root = bad[i].dst_root;
		o.skip_parent = bad[i].skip_parent;
		o.nexcludes = bad[i].nexcludes;
		zf_error_clear(&err);
		plan.nsteps = 99;
		assert_int_equal(zf_plan_make(&plan, src, NULL, &o, &err),
		    ZF_E_INVALID);
		if (strstr(err.msg, bad[i].msg) == NULL)
			fail_msg("case %zu: \"%s\"", i, err.msg);
		assert_int_equal(err.stage, ZF_STAGE_INPUT);
		assert_int_equal(plan.nsteps, 0);
		assert_null(plan.steps);
		zf_plan_release(&plan);
	}
	assert_int_equal(zf_plan_make(&plan, NULL, NULL, &o, NULL),
	    ZF_E_INVALID);
	zf_plan_release(&plan);
	zf_plan_release(NULL);
	zf_tree_free(src);
}

static void
test_target_name_too_long(void **state)
{
	char root[512], deep[200];
	struct zf_tree *src;
	struct zf_plan_opts o;
	struct zf_plan plan;
	char *got;

	(void)state;
	snprintf(deep, sizeof(deep), "pool/a/%0150d", 0);
	snprintf(root, sizeof(root), "pool/a\npool/a@s|1|1\n%s\n%s@s|2|2\n",
	    deep, deep);
	src = mktree("pool/a", root);
	memset(root, 'y', 200);
	memcpy(root, "back/", 5);
	root[200] = '\0';
	memset(&o, 0, sizeof(o));
	o.src_root = "pool/a";
	o.dst_root = root;
	o.recursive = true;
	assert_int_equal(zf_plan_make(&plan, src, NULL, &o, NULL), ZF_OK);
	got = render(&plan);
	assert_int_equal(plan.nsteps, 2);
	assert_int_equal(plan.steps[0].kind, ZF_STEP_FULL);
	assert_int_equal(plan.steps[1].kind, ZF_STEP_REFUSE);
	assert_int_equal(plan.steps[1].after, 0);
	assert_non_null(
	    strstr(plan.steps[1].reason, "would be longer than 255 bytes"));
	free(got);
	zf_plan_release(&plan);
	zf_tree_free(src);

	/* the dataset fits, one of its snapshots does not */
	src = mktree("pool/a",
	    "pool/a\npool/a@s|1|1\n"
	    "pool/a@a-rather-long-snapshot-name|2|2\n");
	memset(root, 'y', 230);
	memcpy(root, "back/", 5);
	root[230] = '\0';
	o.dst_root = root;
	assert_int_equal(zf_plan_make(&plan, src, NULL, &o, NULL), ZF_OK);
	assert_int_equal(plan.nsteps, 1);
	assert_int_equal(plan.steps[0].kind, ZF_STEP_REFUSE);
	assert_string_equal(plan.steps[0].target, root);
	assert_non_null(strstr(plan.steps[0].reason,
	    "@a-rather-long-snapshot-name' would be longer than 255 bytes"));
	zf_plan_release(&plan);
	zf_tree_free(src);
}

static void
test_kind_str(void **state)
{
	(void)state;
	assert_string_equal(zf_step_kind_str(ZF_STEP_FULL), "full");
	assert_string_equal(zf_step_kind_str(ZF_STEP_INCREMENTAL),
	    "incremental");
	assert_string_equal(zf_step_kind_str(ZF_STEP_RESUME), "resume");
	assert_string_equal(zf_step_kind_str(ZF_STEP_SKIP), "skip");
	assert_string_equal(zf_step_kind_str(ZF_STEP_REFUSE), "refuse");
	assert_string_equal(zf_step_kind_str((enum zf_step_kind)99), "unknown");
}

/* A chain of 3000 clones, each named before its origin: no recursion. */
static void
test_deep_clone_chain(void **state)
{
	struct zf_buf b = ZF_BUF_INIT(1 << 24);
	struct zf_tree *src;
	struct zf_plan_opts o;
	struct zf_plan plan;
	size_t i, n = 3000;

	(void)state;
	zf_buf_adds(&b, "p/r\np/r@s|1|1\n");
	for (i = 0; i < n; i++) {
		/* d0000 is a clone of d0001@s, ... d2999 of p/r@s */
		if (i + 1 < n)
			zf_buf_addf(&b, "p/r/d%04zu||%zu|origin=p/r/d%04zu@s\n",
			    i, 10 + n - i, i + 1);
		else
			zf_buf_addf(&b, "p/r/d%04zu||%zu|origin=p/r@s\n", i,
			    10 + n - i);
		zf_buf_addf(&b, "p/r/d%04zu@s|%zu|%zu\n", i, 100 + i,
		    11 + n - i);
	}
	src = mktree("p/r", b.data);
	zf_buf_release(&b);
	memset(&o, 0, sizeof(o));
	o.src_root = "p/r";
	o.dst_root = "q";
	o.recursive = true;
	assert_int_equal(zf_plan_make(&plan, src, NULL, &o, NULL), ZF_OK);
	check_plan(&plan, src, NULL);
	assert_int_equal(plan.nsteps, n + 1);
	/* the last in the chain comes first, each clone after its origin */
	assert_string_equal(plan.steps[1].target, "q/d2999");
	assert_string_equal(plan.steps[1].from, "p/r@s");
	for (i = 2; i <= n; i++) {
		assert_int_equal(plan.steps[i].kind, ZF_STEP_INCREMENTAL);
		assert_true(plan.steps[i].clone);
		assert_int_equal(plan.steps[i].after2, i - 1);
		assert_int_equal(plan.steps[i].after, 0);
	}
	zf_plan_release(&plan);
	zf_tree_free(src);
}

/*
 * Random trees, targets and options: whatever the input, steps only wait
 * for earlier steps, a dataset's first step waits for its nearest planned
 * ancestor, a clone is sent from its origin and may wait only for the
 * origin's dataset, and every planned dataset has steps, one after the
 * other.
 */
static void
test_random_plans(void **state)
{
	unsigned seed = 99;
	size_t round, kinds[5] = {0}, clones = 0;

	(void)state;
	for (round = 0; round < 300; round++) {
		struct zf_buf sb = ZF_BUF_INIT(1 << 20);
		struct zf_buf db = ZF_BUF_INIT(1 << 20);
		struct zf_tree *src, *dst;
		struct zf_plan_opts o;
		struct zf_plan plan;
		size_t nds = 1 + (size_t)rand_r(&seed) % 12, i, k, s;
		char names[12][64];
		size_t parent[12];
		uint64_t txg = 10;

		snprintf(names[0], sizeof(names[0]), "p/r");
		for (i = 1; i < nds; i++) {
			parent[i] = (size_t)rand_r(&seed) % i;
			snprintf(names[i], sizeof(names[i]), "%.40s/d%zu",
			    names[parent[i]], i);
		}
		for (i = 0; i < nds; i++) {
			size_t ns = (size_t)rand_r(&seed) % 4;
			bool in_dst = rand_r(&seed) % 2;

			if (i > 0 && rand_r(&seed) % 4 == 0)
				zf_buf_addf(&sb,
				    "%s||%" PRIu64 "|origin=%s@s%zu\n",
				    names[i], txg++,
				    names[(size_t)rand_r(&seed) % nds],
				    (size_t)rand_r(&seed) % 3);
			else
				zf_buf_addf(&sb, "%s\n", names[i]);
			if (in_dst)
				zf_buf_addf(&db, "q%s|||written=%d\n",
				    names[i] + 3, rand_r(&seed) % 2);
			for (s = 0; s < ns; s++) {
				uint64_t g = 1000 * (i + 1) + s;

				zf_buf_addf(&sb,
				    "%s%cs%zu|%" PRIu64 "|%" PRIu64 "\n",
				    names[i], rand_r(&seed) % 5 ? '@' : '#', s,
				    g, txg++);
				if (in_dst && rand_r(&seed) % 2)
					zf_buf_addf(&db,
					    "q%s@t%zu|%" PRIu64 "|%" PRIu64
					    "\n",
					    names[i] + 3, s,
					    rand_r(&seed) % 4 ? g : g + 500,
					    txg++);
			}
		}
		/* a target parent for every target dataset */
		src = mktree("p/r", sb.data);
		{
			struct zf_tree *probe = NULL;
			struct zf_buf full = ZF_BUF_INIT(1 << 20);

			(void)probe;
			zf_buf_adds(&full, "q\n");
			for (i = 1; i < nds; i++)
				zf_buf_addf(&full, "q%s\n", names[i] + 3);
			/* keep only the datasets' lines of db that are new */
			if (db.data != NULL) {
				char *line = db.data, *nl;

				for (; *line != '\0'; line = nl + 1) {
					nl = strchr(line, '\n');
					*nl = '\0';
					if (strchr(line, '@') != NULL)
						zf_buf_addf(&full, "%s\n",
						    line);
				}
			}
			dst = rand_r(&seed) % 4 ? mktree("q", full.data)
			                        : mktree("q", "");
			zf_buf_release(&full);
		}
		memset(&o, 0, sizeof(o));
		o.src_root = "p/r";
		o.dst_root = "q";
		o.recursive = rand_r(&seed) % 4 != 0;
		o.skip_parent = o.recursive && rand_r(&seed) % 4 == 0;
		o.no_stream = rand_r(&seed) % 3 == 0;
		o.force = rand_r(&seed) % 2;
		o.delete_target_snapshots = rand_r(&seed) % 2;
		assert_int_equal(zf_plan_make(&plan, src, dst, &o, NULL),
		    ZF_OK);
		check_plan(&plan, src, dst);
		{
			size_t n = zf_tree_count(src);
			size_t *last = malloc(n * sizeof(*last));

			assert_non_null(last);
			for (i = 0; i < n; i++)
				last[i] = ZF_NONE;
			for (k = 0; k < plan.nsteps; k++) {
				const struct zf_step *st = &plan.steps[k];
				const struct zf_ds *d =
				    zf_tree_at(src, st->src);
				size_t up = d->parent;

				if (last[st->src] != ZF_NONE) {
					/* one dataset's steps in a row */
					assert_int_equal(last[st->src], k - 1);
					assert_int_equal(st->after, k - 1);
				} else {
					while (up != ZF_NONE &&
					    last[up] == ZF_NONE)
						up =
						    zf_tree_at(src, up)->parent;
					assert_int_equal(st->after,
					    up == ZF_NONE ? ZF_NONE : last[up]);
				}
				last[st->src] = k;
				kinds[st->kind]++;
				clones += st->clone;
				if (st->clone) {
					size_t n0 = strcspn(st->from, "@");

					assert_memory_equal(d->origin, st->from,
					    strlen(st->from));
					if (st->after2 != ZF_NONE) {
						const struct zf_ds *od =
						    zf_tree_at(src,
						        plan.steps[st->after2]
						            .src);

						assert_int_equal(strlen(
						                     od->name),
						    n0);
						assert_memory_equal(od->name,
						    st->from, n0);
					}
				}
			}
			for (i = 0; i < n; i++) {
				bool planned =
				    i == 0 ? !o.skip_parent : o.recursive;

				assert_int_equal(last[i] != ZF_NONE, planned);
			}
			free(last);
		}
		zf_plan_release(&plan);
		zf_tree_free(src);
		zf_tree_free(dst);
		zf_buf_release(&sb);
		zf_buf_release(&db);
	}
	print_message("random plans: %zu full, %zu incremental (%zu from a "
	              "clone origin), %zu skip, %zu refuse\n",
	    kinds[ZF_STEP_FULL], kinds[ZF_STEP_INCREMENTAL], clones,
	    kinds[ZF_STEP_SKIP], kinds[ZF_STEP_REFUSE]);
	/* every kind but RESUME turns up */
	assert_true(clones > 10 && kinds[ZF_STEP_FULL] > 10 &&
	    kinds[ZF_STEP_INCREMENTAL] > 10 && kinds[ZF_STEP_SKIP] > 10 &&
	    kinds[ZF_STEP_REFUSE] > 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_zfs_fuse_capture),
	    cmocka_unit_test(test_openzfs_listing),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_target_name_too_long),
	    cmocka_unit_test(test_kind_str),
	    cmocka_unit_test(test_deep_clone_chain),
	    cmocka_unit_test(test_random_plans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
