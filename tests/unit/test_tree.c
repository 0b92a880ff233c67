/*
 * test_tree.c: the listing parser on real zfs-fuse output and hand-written
 * OpenZFS output ($ZF_TEST_DATA/listings, see its README), on every class
 * of malformed line, and on random garbage (which must never crash).
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "tree.h"

#define LIST ZF_LIST_FORMAT_LIST
#define GET ZF_LIST_FORMAT_GET

/* Feeds text line by line; the status of the first failure or of finish. */
static enum zf_status
feed(struct zf_tree *t, const char *text, size_t len, struct zf_error *err)
{
	const char *p = text, *end = text + len, *nl;
	enum zf_status r;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		r = zf_tree_add_line(t, p, (size_t)(nl - p), err);
		if (r != ZF_OK)
			return r;
		p = nl + 1;
	}
	return zf_tree_finish(t, err);
}

static struct zf_tree *
parse(const char *root, enum zf_list_format fmt, const char *text,
    enum zf_status *rp, struct zf_error *err)
{
	struct zf_tree *t = NULL;

	zf_error_clear(err);
	assert_int_equal(zf_tree_new(&t, root, fmt, err), ZF_OK);
	*rp = feed(t, text, strlen(text), err);
	return t;
}

static struct zf_tree *
parse_ok(const char *root, enum zf_list_format fmt, const char *text)
{
	struct zf_error err;
	enum zf_status r;
	struct zf_tree *t = parse(root, fmt, text, &r, &err);

	if (r != ZF_OK)
		fail_msg("unexpected failure: %s", err.msg);
	return t;
}

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

/* Splits text into its lines, in place. */
static size_t
split_lines(char *text, char **lines, size_t max)
{
	size_t n = 0;
	char *p, *nl;

	for (p = text; *p != '\0' && n < max; p = nl + 1) {
		lines[n++] = p;
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
	}
	return n;
}

static const struct zf_ds *
ds(const struct zf_tree *t, const char *name)
{
	size_t i = zf_tree_find(t, name);

	if (i == ZF_NONE)
		fail_msg("no dataset '%s'", name);
	return zf_tree_at(t, i);
}

/* The tree's invariants, whatever it was built from. */
static void
check_invariants(const struct zf_tree *t)
{
	size_t i, k, n = zf_tree_count(t);

	for (i = 0; i < n; i++) {
		const struct zf_ds *d = zf_tree_at(t, i);

		assert_int_equal(zf_tree_find(t, d->name), i);
		if (d->parent != ZF_NONE) {
			const struct zf_ds *p = zf_tree_at(t, d->parent);
			size_t pl = strlen(p->name);

			assert_true(d->parent < i);
			assert_memory_equal(p->name, d->name, pl);
			assert_int_equal(d->name[pl], '/');
			assert_null(strchr(d->name + pl + 1, '/'));
		}
		for (k = 1; k < d->nsnaps; k++) {
			const struct zf_snap *a = &d->snaps[k - 1];
			const struct zf_snap *b = &d->snaps[k];

			assert_true(a->createtxg < b->createtxg ||
			    (a->createtxg == b->createtxg &&
			        (a->bookmark || !b->bookmark)));
		}
	}
}

/* -------- good listings -------- */

static void
test_openzfs_list(void **state)
{
	char *text = slurp("openzfs-src.list");
	struct zf_tree *t = parse_ok("tank/src", LIST, text);
	const struct zf_ds *d;
	static const char *const order[] = {"tank/src", "tank/src/clone",
	    "tank/src/inc", "tank/src/my data", "tank/src/vol"};
	size_t i;

	(void)state;
	check_invariants(t);
	assert_int_equal(zf_tree_count(t), 5);
	for (i = 0; i < ZF_ARRAY_SIZE(order); i++)
		assert_string_equal(zf_tree_at(t, i)->name, order[i]);

	d = ds(t, "tank/src");
	assert_int_equal(d->parent, ZF_NONE);
	assert_int_equal(d->guid, 4412387466110436201ULL);
	assert_int_equal(d->createtxg, 42);
	assert_int_equal(d->written, 98304);
	assert_null(d->origin);
	assert_null(d->resume_token);
	assert_false(d->volume);
	assert_int_equal(d->nsnaps, 1);

	d = ds(t, "tank/src/inc");
	assert_int_equal(d->parent, 0);
	assert_int_equal(d->nsnaps, 4);
	/* the bookmark sorts before its snapshot */
	assert_true(d->snaps[0].bookmark);
	assert_string_equal(d->snaps[0].name, "s1");
	assert_false(d->snaps[1].bookmark);
	assert_string_equal(d->snaps[1].name, "s1");
	assert_int_equal(d->snaps[1].guid, 232564151620343148ULL);
	assert_string_equal(d->snaps[2].name, "s2");
	assert_int_equal(d->snaps[2].guid, 17604201662291292788ULL);
	assert_string_equal(d->snaps[3].name, "s3");
	assert_int_equal(d->snaps[3].createtxg, 70);

	d = ds(t, "tank/src/clone");
	assert_string_equal(d->origin, "tank/src/inc@s1");
	assert_int_equal(d->written, 4198400);

	d = ds(t, "tank/src/vol");
	assert_true(d->volume);
	d = ds(t, "tank/src/my data");
	assert_int_equal(d->nsnaps, 2);
	assert_string_equal(d->snaps[1].name, "snap 1");
	assert_int_equal(zf_tree_find(t, "tank/src/nope"), ZF_NONE);
	assert_int_equal(zf_tree_find(t, "tank/src/in"), ZF_NONE);
	zf_tree_free(t);
	free(text);
}

static void
test_openzfs_token(void **state)
{
	char *text = slurp("openzfs-dst.list");
	char *token = slurp("../tokens/openzfs-2.3.2-incremental.token");
	struct zf_tree *t = parse_ok("tank/dst", LIST, text);
	const struct zf_ds *d = ds(t, "tank/dst/inc");

	(void)state;
	check_invariants(t);
	token[strcspn(token, "\n")] = '\0';
	assert_non_null(d->resume_token);
	assert_string_equal(d->resume_token, token);
	assert_null(ds(t, "tank/dst")->resume_token);
	assert_int_equal(ds(t, "tank/dst/my data")->written, 41472);
	zf_tree_free(t);
	free(text);
	free(token);
}

static void
test_zfs_fuse_get(void **state)
{
	char *text = slurp("zfs-fuse-r.get");
	struct zf_tree *t = parse_ok("zfplan11838/a", GET, text);
	const struct zf_ds *d;
	static const char *const order[] = {"zfplan11838/a", "zfplan11838/a/b",
	    "zfplan11838/a/clone", "zfplan11838/a/with space",
	    "zfplan11838/a/with space/kid"};
	size_t i;

	(void)state;
	check_invariants(t);
	assert_int_equal(zf_tree_count(t), 5);
	for (i = 0; i < ZF_ARRAY_SIZE(order); i++)
		assert_string_equal(zf_tree_at(t, i)->name, order[i]);
	d = ds(t, "zfplan11838/a");
	assert_int_equal(d->guid, 7838861811635685048ULL);
	assert_int_equal(d->createtxg, 7);
	assert_int_equal(d->written, UINT64_MAX);
	assert_null(d->resume_token);
	assert_int_equal(d->nsnaps, 2);
	assert_string_equal(d->snaps[0].name, "renamed");
	assert_int_equal(d->snaps[0].guid, 10016741596684319464ULL);
	assert_string_equal(d->snaps[1].name, "s2");

	d = ds(t, "zfplan11838/a/clone");
	assert_string_equal(d->origin, "zfplan11838/a/b@s1");
	assert_int_equal(d->nsnaps, 1);
	assert_string_equal(zf_tree_at(t, d->parent)->name, "zfplan11838/a");

	d = ds(t, "zfplan11838/a/with space");
	assert_int_equal(d->nsnaps, 3);
	assert_string_equal(d->snaps[2].name, "snap two");
	assert_int_equal(d->snaps[2].createtxg, 40);
	d = ds(t, "zfplan11838/a/with space/kid");
	assert_string_equal(zf_tree_at(t, d->parent)->name,
	    "zfplan11838/a/with space");
	assert_int_equal(ds(t, "zfplan11838/a/b")->nsnaps, 3);
	zf_tree_free(t);
	free(text);
}

static void
test_zfs_fuse_other_captures(void **state)
{
	static const struct {
		const char *file, *root;
		size_t nds, nsnaps;
	} cases[] = {
	    {"zfs-fuse-pool.get", "zfplan11838", 6, 10},
	    {"zfs-fuse-d1.get", "zfplan11838/a", 4, 2},
	    {"zfs-fuse-clone.get", "zfplan11838/a/clone", 1, 1},
	    {"zfs-fuse-target.get", "zfplan11838/t", 2, 2},
	};
	size_t i, k, n;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		char *text = slurp(cases[i].file);
		struct zf_tree *t = parse_ok(cases[i].root, GET, text);

		check_invariants(t);
		assert_int_equal(zf_tree_count(t), cases[i].nds);
		for (k = n = 0; k < zf_tree_count(t); k++)
			n += zf_tree_at(t, k)->nsnaps;
		assert_int_equal(n, cases[i].nsnaps);
		zf_tree_free(t);
		free(text);
	}
}

/* The whole zfs-fuse capture, one line at a time in every order. */
static void
test_get_lines_in_any_order(void **state)
{
	char *text = slurp("zfs-fuse-r.get");
	char *lines[128];
	size_t n, i, round;
	unsigned seed = 7;

	(void)state;
	n = split_lines(text, lines, 128);
	for (round = 0; round < 20; round++) {
		struct zf_tree *t = NULL;
		const struct zf_ds *d;

		for (i = n; i > 1; i--) {
			size_t j = (size_t)rand_r(&seed) % i;
			char *x = lines[i - 1];

			lines[i - 1] = lines[j];
			lines[j] = x;
		}
		assert_int_equal(zf_tree_new(&t, "zfplan11838/a", GET, NULL),
		    ZF_OK);
		for (i = 0; i < n; i++)
			assert_int_equal(zf_tree_add_line(t, lines[i],
			                     strlen(lines[i]), NULL),
			    ZF_OK);
		assert_int_equal(zf_tree_finish(t, NULL), ZF_OK);
		check_invariants(t);
		assert_string_equal(zf_tree_at(t, 0)->name, "zfplan11838/a");
		d = ds(t, "zfplan11838/a/b");
		assert_int_equal(d->nsnaps, 3);
		assert_string_equal(d->snaps[0].name, "s1");
		assert_string_equal(d->snaps[2].name, "s3");
		zf_tree_free(t);
	}
	free(text);
}

static void
test_sorting(void **state)
{
	/* children before parents, snapshots before their dataset */
	static const char text[] = "p/r/a/x@s2\tsnapshot\t12\t30\t-\t0\t-\n"
	                           "p/r/a b\tfilesystem\t3\t6\t-\t0\t-\n"
	                           "p/r/a/x\tfilesystem\t4\t7\t-\t0\t-\n"
	                           "p/r/a/x@s1\tsnapshot\t11\t20\t-\t0\t-\n"
	                           "p/r/a/x#s1\tbookmark\t11\t20\t-\t-\t-\n"
	                           "p/r/a/x#b0\tbookmark\t10\t10\t-\t-\t-\n"
	                           "p/r/a/x#a2\tbookmark\t11\t20\t-\t-\t-\n"
	                           "p/r/a\tfilesystem\t2\t5\t-\t0\t-\n"
	                           "p/r/a.b\tfilesystem\t6\t9\t-\t0\t-\n"
	                           "p/r/a-b\tfilesystem\t7\t9\t-\t0\t-\n"
	                           "p/r\tfilesystem\t1\t1\t-\t0\t-\n";
	static const char *const order[] = {"p/r", "p/r/a", "p/r/a/x",
	    "p/r/a b", "p/r/a-b", "p/r/a.b"};
	static const char *const snaps[] = {"b0", "a2", "s1", "s1", "s2"};
	struct zf_tree *t = parse_ok("p/r", LIST, text);
	const struct zf_ds *d;
	size_t i;

	(void)state;
	check_invariants(t);
	for (i = 0; i < ZF_ARRAY_SIZE(order); i++)
		assert_string_equal(zf_tree_at(t, i)->name, order[i]);
	d = ds(t, "p/r/a/x");
	assert_int_equal(d->nsnaps, 5);
	for (i = 0; i < ZF_ARRAY_SIZE(snaps); i++)
		assert_string_equal(d->snaps[i].name, snaps[i]);
	assert_true(d->snaps[1].bookmark && d->snaps[2].bookmark);
	assert_false(d->snaps[3].bookmark);
	assert_string_equal(zf_tree_at(t, d->parent)->name, "p/r/a");
	assert_string_equal(zf_tree_at(t, ds(t, "p/r/a b")->parent)->name,
	    "p/r");
	zf_tree_free(t);
}

static void
test_empty_and_edge_values(void **state)
{
	struct zf_tree *t;
	const struct zf_ds *d;

	(void)state;
	/* an empty listing: the root does not exist */
	t = parse_ok("pool/x", LIST, "");
	assert_int_equal(zf_tree_count(t), 0);
	assert_null(zf_tree_at(t, 0));
	assert_int_equal(zf_tree_find(t, "pool/x"), ZF_NONE);
	zf_tree_free(t);

	t = parse_ok("pool", LIST,
	    "pool\tfilesystem\t18446744073709551615\t0\t-\t-\t-\n"
	    "pool@a\tsnapshot\t1\t18446744073709551615\t-\t-\t-\n"
	    "pool@b\tsnapshot\t00042\t7\t-\t0\t-\n");
	d = ds(t, "pool");
	assert_int_equal(d->guid, UINT64_MAX);
	assert_int_equal(d->createtxg, 0);
	assert_int_equal(d->written, UINT64_MAX);
	assert_string_equal(d->snaps[0].name, "b");
	assert_int_equal(d->snaps[0].guid, 42);
	assert_int_equal(d->snaps[1].createtxg, UINT64_MAX);
	/* a snapshot and a bookmark may share a name */
	zf_tree_free(t);
	t = parse_ok("pool", GET,
	    "pool\ttype\tfilesystem\npool\tguid\t5\npool\tcreatetxg\t1\n"
	    "pool#a\ttype\tbookmark\npool#a\tguid\t7\npool#a\tcreatetxg\t3\n"
	    "pool@a\ttype\tsnapshot\npool@a\tguid\t7\npool@a\tcreatetxg\t3\n"
	    "pool/v\ttype\tvolume\npool/v\tguid\t9\npool/v\tcreatetxg\t4\n");
	d = ds(t, "pool");
	assert_int_equal(d->nsnaps, 2);
	assert_true(d->snaps[0].bookmark);
	assert_true(ds(t, "pool/v")->volume);
	zf_tree_free(t);
}

/* -------- malformed input -------- */

struct bad {
	enum zf_list_format fmt;
	const char *root;
	const char *text;
	const char *msg; /* a part of the message */
};

#define FS_LINE "pool/a\tfilesystem\t1\t1\t-\t0\t-\n"
#define SN(rest) "pool/a@s\tsnapshot\t" rest "\n"
#define GFS "pool/a\ttype\tfilesystem\npool/a\tguid\t1\npool/a\tcreatetxg\t1\n"

static const struct bad bad_lines[] = {
    /* fields */
    {LIST, "pool/a", FS_LINE "pool/a@s\tsnapshot\t2\t2\t-\t0\n",
        "line 2: 6 tab-separated fields, expected 7"},
    {LIST, "pool/a", FS_LINE "pool/a@s\tsnapshot\t2\t2\t-\t0\t-\t-\n",
        "line 2: 8 tab-separated fields"},
    {LIST, "pool/a", FS_LINE "a\tb\tc\td\te\tf\tg\th\ti\tj\tk\n",
        "line 2: 11 tab-separated fields"},
    {LIST, "pool/a", "pool/a filesystem 1 1 - 0 -\n",
        "line 1: 1 tab-separated fields"},
    {GET, "pool/a", "pool/a\ttype\n", "line 1: 2 tab-separated fields"},
    {GET, "pool/a", "pool/a\ttype\tfilesystem\t-\n",
        "line 1: 4 tab-separated fields"},
    {LIST, "pool/a", FS_LINE "\n", "line 2: empty"},
    {LIST, "pool/a", FS_LINE "pool/a/b\tfilesystem\t1\t1\t-\t0\t-\r\n",
        "line 2: invalid receive_resume_token '-\\r'"},
    {GET, "pool/a", "pool/a\ttype\tfilesystem\r\n",
        "unknown type 'filesystem\\r'"},
    /* names */
    {LIST, "pool/a", "pool/a/\tfilesystem\t1\t1\t-\t0\t-\n",
        "line 1: name: invalid ZFS name 'pool/a/': trailing slash"},
    {LIST, "pool/a", "pool/a/..\tfilesystem\t1\t1\t-\t0\t-\n",
        "'.' and '..' are not allowed"},
    {LIST, "pool/a", "pool/a@x@y\tsnapshot\t1\t1\t-\t0\t-\n",
        "more than one '@' or '#'"},
    {LIST, "pool/a", "pool/a@\tsnapshot\t1\t1\t-\t0\t-\n", "empty component"},
    {LIST, "pool/a", "pool/a/b%c\tfilesystem\t1\t1\t-\t0\t-\n",
        "invalid character '%'"},
    {LIST, "pool/a", "pool/a/b\x1b[2J\tfilesystem\t1\t1\t-\t0\t-\n",
        "name 'pool/a/b\\x1b[2J' holds an invalid character"},
    {LIST, "pool/a", "pool/a/\xc3\xa9\tfilesystem\t1\t1\t-\t0\t-\n",
        "'pool/a/\\xc3\\xa9' holds an invalid character"},
    {LIST, "pool/a", "pool/a/b\\\tfilesystem\t1\t1\t-\t0\t-\n",
        "'pool/a/b\\\\' holds an invalid character"},
    {LIST, "pool/a", "\tfilesystem\t1\t1\t-\t0\t-\n", "empty name"},
    {LIST, "pool/a", "/pool/a\tfilesystem\t1\t1\t-\t0\t-\n", "leading slash"},
    /* outside the root */
    {LIST, "pool/a", "pool/ab\tfilesystem\t1\t1\t-\t0\t-\n",
        "line 1: 'pool/ab' is not under 'pool/a'"},
    {LIST, "pool/a", "pool\tfilesystem\t1\t1\t-\t0\t-\n",
        "'pool' is not under 'pool/a'"},
    {LIST, "pool/a", FS_LINE "pool@s\tsnapshot\t1\t1\t-\t0\t-\n",
        "line 2: 'pool@s' is not under"},
    {LIST, "pool/a", "other/a\tfilesystem\t1\t1\t-\t0\t-\n",
        "'other/a' is not under"},
    {GET, "pool/a", GFS "pool/b\ttype\tfilesystem\n",
        "line 4: 'pool/b' is not under"},
    /* types */
    {LIST, "pool/a", "pool/a\tfs\t1\t1\t-\t0\t-\n",
        "line 1: unknown type 'fs'"},
    {LIST, "pool/a", "pool/a\tFilesystem\t1\t1\t-\t0\t-\n", "unknown type"},
    {LIST, "pool/a", "pool/a\tsnapshot\t1\t1\t-\t0\t-\n",
        "'pool/a' is not a snapshot"},
    {LIST, "pool/a", FS_LINE "pool/a@s\tfilesystem\t1\t1\t-\t0\t-\n",
        "'pool/a@s' is not a filesystem"},
    {LIST, "pool/a", FS_LINE "pool/a#s\tsnapshot\t1\t1\t-\t-\t-\n",
        "'pool/a#s' is not a snapshot"},
    {GET, "pool/a", "pool/a@s\ttype\tbookmark\n", "is not a bookmark"},
    {GET, "pool/a", "pool/a\ttype\t\n", "unknown type ''"},
    /* numbers */
    {LIST, "pool/a", FS_LINE SN("\t1\t-\t0\t-"), "line 2: invalid guid ''"},
    {LIST, "pool/a", FS_LINE SN("-1\t1\t-\t0\t-"), "invalid guid '-1'"},
    {LIST, "pool/a", FS_LINE SN("+1\t1\t-\t0\t-"), "invalid guid '+1'"},
    {LIST, "pool/a", FS_LINE SN(" 1\t1\t-\t0\t-"), "invalid guid ' 1'"},
    {LIST, "pool/a", FS_LINE SN("1 \t1\t-\t0\t-"), "invalid guid '1 '"},
    {LIST, "pool/a", FS_LINE SN("0x10\t1\t-\t0\t-"), "invalid guid '0x10'"},
    {LIST, "pool/a", FS_LINE SN("1e3\t1\t-\t0\t-"), "invalid guid '1e3'"},
    {LIST, "pool/a", FS_LINE SN("18446744073709551616\t1\t-\t0\t-"),
        "invalid guid '18446744073709551616'"},
    {LIST, "pool/a", FS_LINE SN("99999999999999999999999\t1\t-\t0\t-"),
        "invalid guid"},
    {LIST, "pool/a", FS_LINE SN("0\t1\t-\t0\t-"), "line 2: guid 0"},
    {LIST, "pool/a", FS_LINE SN("-\t1\t-\t0\t-"), "invalid guid '-'"},
    {LIST, "pool/a", FS_LINE SN("5\t1.5\t-\t0\t-"), "invalid createtxg '1.5'"},
    {LIST, "pool/a", FS_LINE SN("5\t-\t-\t0\t-"), "invalid createtxg '-'"},
    {LIST, "pool/a", FS_LINE SN("5\t1\t-\t12K\t-"), "invalid written '12K'"},
    {LIST, "pool/a", FS_LINE SN("5\t1\t-\t\t-"), "invalid written ''"},
    {GET, "pool/a", "pool/a\tguid\t0x1\n", "line 1: invalid guid '0x1'"},
    {GET, "pool/a", "pool/a\tcreatetxg\t-\n", "invalid createtxg '-'"},
    /* origins and tokens */
    {LIST, "pool/a", "pool/a\tfilesystem\t1\t1\tpool/b\t0\t-\n",
        "origin: invalid snapshot name 'pool/b'"},
    {LIST, "pool/a", "pool/a\tfilesystem\t1\t1\tpool/b#x\t0\t-\n",
        "origin: invalid snapshot name"},
    {LIST, "pool/a", "pool/a\tfilesystem\t1\t1\tpool/b@x;rm\t0\t-\n",
        "invalid character ';'"},
    {LIST, "pool/a", FS_LINE SN("5\t1\tpool/a@t\t0\t-"),
        "line 2: a snapshot or bookmark with an origin"},
    {LIST, "pool/a", FS_LINE SN("5\t1\t-\t0\t1-ab-cd-ef"),
        "a snapshot or bookmark with a resume token"},
    {LIST, "pool/a", "pool/a\tfilesystem\t1\t1\t-\t0\t1-ab cd\n",
        "invalid receive_resume_token '1-ab cd'"},
    {LIST, "pool/a", "pool/a\tfilesystem\t1\t1\t-\t0\tx-ab\n",
        "invalid receive_resume_token"},
    {LIST, "pool/a", "pool/a\tfilesystem\t1\t1\t-\t0\t\n",
        "invalid receive_resume_token ''"},
    {GET, "pool/a", GFS "pool/a@s\torigin\tpool/a@t\n",
        "line 4: a snapshot or bookmark with an origin"},
    {GET, "pool/a", "pool/a\torigin\t-x\n", "origin: invalid snapshot name"},
    /* duplicates */
    {LIST, "pool/a", FS_LINE FS_LINE, "line 2: 'pool/a' is listed twice"},
    {LIST, "pool/a",
        FS_LINE SN("5\t1\t-\t0\t-") "pool/a/b\tfilesystem\t2\t2\t-\t0\t-\n" SN(
            "5\t1\t-\t0\t-"),
        "line 4: 'pool/a@s' is listed twice"},
    {LIST, "pool/a",
        FS_LINE
        "pool/a#s\tbookmark\t5\t1\t-\t-\t-\npool/a#s\tbookmark\t5\t1\t-\t-\t-\n",
        "line 3: 'pool/a#s' is listed twice"},
    {GET, "pool/a", GFS "pool/a\tguid\t1\n",
        "line 4: 'pool/a' has its guid twice"},
    {GET, "pool/a",
        GFS
        "pool/a@s\ttype\tsnapshot\npool/a/b\ttype\tfilesystem\npool/a@s\ttype\tsnapshot\n",
        "line 6: 'pool/a@s' has its type twice"},
    {GET, "pool/a", "pool/a\torigin\t-\npool/a\torigin\t-\n",
        "has its origin twice"},
    {GET, "pool/a", "pool/a\tused\t1024\n",
        "line 1: unexpected property 'used'"},
    {GET, "pool/a", "pool/a\twritten\t0\n", "unexpected property 'written'"},
    /* found at finish */
    {LIST, "pool/a", FS_LINE "pool/a/b@s\tsnapshot\t5\t1\t-\t0\t-\n",
        "line 2: 'pool/a/b' has snapshots but is not listed itself"},
    {LIST, "pool/a", "pool/a/b\tfilesystem\t1\t1\t-\t0\t-\n",
        "line 1: 'pool/a/b' is listed without its parent 'pool/a'"},
    {LIST, "pool/a", FS_LINE "pool/a/b/c\tfilesystem\t1\t1\t-\t0\t-\n",
        "line 2: 'pool/a/b/c' is listed without its parent 'pool/a/b'"},
    {LIST, "pool/a", "pool/a@s\tsnapshot\t5\t1\t-\t0\t-\n",
        "line 1: 'pool/a' has snapshots but is not listed"},
    {GET, "pool/a", "pool/a\ttype\tfilesystem\npool/a\tguid\t1\n",
        "line 1: 'pool/a' has no createtxg"},
    {GET, "pool/a", "pool/a\ttype\tfilesystem\npool/a\tcreatetxg\t1\n",
        "'pool/a' has no guid"},
    {GET, "pool/a", "pool/a\tguid\t1\npool/a\tcreatetxg\t1\n",
        "'pool/a' has no type"},
    {GET, "pool/a", GFS "pool/a@s\ttype\tsnapshot\npool/a@s\tguid\t3\n",
        "line 4: 'pool/a@s' has no createtxg"},
    {GET, "pool/a", GFS "pool/a#s\tguid\t3\npool/a#s\tcreatetxg\t3\n",
        "line 4: 'pool/a#s' has no type"},
    {GET, "pool/a", "pool/a/b@s\ttype\tsnapshot\n" GFS,
        "'pool/a/b' has snapshots but is not listed"},
};

static void
test_bad_lines(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(bad_lines); i++) {
		const struct bad *b = &bad_lines[i];
		struct zf_error err;
		enum zf_status r;
		struct zf_tree *t = parse(b->root, b->fmt, b->text, &r, &err);

		if (r != ZF_E_PROTOCOL || strstr(err.msg, b->msg) == NULL)
			fail_msg(
			    "case %zu: status %d, message \"%s\", expected "
			    "\"%s\"",
			    i, (int)r, err.msg, b->msg);
		assert_int_equal(err.code, ZF_E_PROTOCOL);
		assert_int_equal(err.stage, ZF_STAGE_LIST);
		assert_true(strlen(err.msg) < 400);
		/* a failed tree refuses everything after */
		assert_int_equal(zf_tree_add_line(t, FS_LINE, 10, NULL),
		    ZF_E_PROTOCOL);
		assert_int_equal(zf_tree_finish(t, NULL), ZF_E_PROTOCOL);
		zf_tree_free(t);
	}
}

static void
test_long_and_nul_lines(void **state)
{
	struct zf_tree *t = NULL;
	struct zf_error err;
	size_t n = 64 * 1024 + 1;
	char *line = malloc(n + 300);
	char name[600];

	(void)state;
	assert_non_null(line);
	memset(line, 'a', n);
	zf_error_clear(&err);
	assert_int_equal(zf_tree_new(&t, "pool", LIST, NULL), ZF_OK);
	assert_int_equal(zf_tree_add_line(t, line, n, &err), ZF_E_PROTOCOL);
	assert_string_equal(err.msg, "listing line 1: longer than 65536 bytes");
	zf_tree_free(t);

	/* 64 KiB exactly is read (and refused for what it holds) */
	zf_error_clear(&err);
	assert_int_equal(zf_tree_new(&t, "pool", LIST, NULL), ZF_OK);
	assert_int_equal(zf_tree_add_line(t, line, n - 1, &err), ZF_E_PROTOCOL);
	assert_non_null(strstr(err.msg, "1 tab-separated fields"));
	zf_tree_free(t);

	zf_error_clear(&err);
	assert_int_equal(zf_tree_new(&t, "pool", LIST, NULL), ZF_OK);
	assert_int_equal(zf_tree_add_line(t,
	                     "pool\tfilesystem\t1\0\t1\t-\t0\t-", 25, &err),
	    ZF_E_PROTOCOL);
	assert_string_equal(err.msg, "listing line 1: holds a NUL byte");
	zf_tree_free(t);

	/* a 300-byte name: quoted short */
	memset(name, 'b', 300);
	memcpy(name, "pool/", 5);
	snprintf(line, n, "%.300s\tfilesystem\t1\t1\t-\t0\t-", name);
	zf_error_clear(&err);
	assert_int_equal(zf_tree_new(&t, "pool", LIST, NULL), ZF_OK);
	assert_int_equal(zf_tree_add_line(t, line, strlen(line), &err),
	    ZF_E_PROTOCOL);
	assert_non_null(strstr(err.msg, "is longer than 255 bytes"));
	assert_non_null(strstr(err.msg, "bbb..."));
	assert_true(strlen(err.msg) < 140);
	zf_tree_free(t);

	/* a name of 256 bytes is too long, 255 is not */
	memset(name, 'c', 256);
	memcpy(name, "pool/", 5);
	for (n = 255; n <= 256; n++) {
		snprintf(line, 600, "%.*s\tfilesystem\t1\t1\t-\t0\t-", (int)n,
		    name);
		assert_int_equal(zf_tree_new(&t, "pool", LIST, NULL), ZF_OK);
		assert_int_equal(zf_tree_add_line(t,
		                     "pool\tfilesystem\t1\t1\t-\t0\t-", 25,
		                     NULL),
		    ZF_OK);
		assert_int_equal(zf_tree_add_line(t, line, strlen(line), NULL),
		    n == 255 ? ZF_OK : ZF_E_PROTOCOL);
		zf_tree_free(t);
	}
	free(line);
}

static void
test_api_misuse(void **state)
{
	struct zf_tree *t = (struct zf_tree *)1;
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	assert_int_equal(zf_tree_new(&t, "-pool", LIST, &err), ZF_E_INVALID);
	assert_null(t);
	assert_int_equal(err.stage, ZF_STAGE_INPUT);
	assert_int_equal(zf_tree_new(&t, "pool@s", LIST, NULL), ZF_E_INVALID);
	assert_int_equal(zf_tree_new(&t, "", GET, NULL), ZF_E_INVALID);
	assert_int_equal(zf_tree_new(&t, "pool", (enum zf_list_format)7, NULL),
	    ZF_E_INVALID);
	zf_tree_free(NULL);
	assert_int_equal(zf_tree_count(NULL), 0);
	assert_int_equal(zf_tree_find(NULL, "x"), ZF_NONE);

	assert_int_equal(zf_tree_new(&t, "pool", LIST, NULL), ZF_OK);
	assert_int_equal(zf_tree_finish(t, NULL), ZF_OK);
	assert_int_equal(zf_tree_finish(t, NULL), ZF_OK);
	zf_error_clear(&err);
	assert_int_equal(zf_tree_add_line(t, "pool\tfilesystem\t1\t1\t-\t0\t-",
	                     24, &err),
	    ZF_E_INVALID);
	assert_non_null(strstr(err.msg, "finished"));
	zf_tree_free(t);
}

/* Many datasets and snapshots: the indexes hold. */
static void
test_many(void **state)
{
	struct zf_tree *t = NULL;
	char line[256], name[64];
	size_t i, k;

	(void)state;
	assert_int_equal(zf_tree_new(&t, "p", LIST, NULL), ZF_OK);
	assert_int_equal(zf_tree_add_line(t, "p\tfilesystem\t1\t1\t-\t0\t-", 22,
	                     NULL),
	    ZF_OK);
	/* snapshots first, in reverse createtxg order */
	for (k = 20; k-- > 0;)
		for (i = 0; i < 3000; i++) {
			int n = snprintf(line, sizeof(line),
			    "p/d%zu@s%zu\tsnapshot\t%zu\t%zu\t-\t0\t-", i, k,
			    i * 100 + k + 1, k + 10);

			assert_int_equal(zf_tree_add_line(t, line, (size_t)n,
			                     NULL),
			    ZF_OK);
		}
	for (i = 3000; i-- > 0;) {
		int n = snprintf(line, sizeof(line),
		    "p/d%zu\tfilesystem\t%zu\t2\t-\t0\t-", i, i + 7);

		assert_int_equal(zf_tree_add_line(t, line, (size_t)n, NULL),
		    ZF_OK);
	}
	assert_int_equal(zf_tree_finish(t, NULL), ZF_OK);
	check_invariants(t);
	assert_int_equal(zf_tree_count(t), 3001);
	for (i = 0; i < 3000; i++) {
		const struct zf_ds *d;

		snprintf(name, sizeof(name), "p/d%zu", i);
		d = ds(t, name);
		assert_int_equal(d->guid, i + 7);
		assert_int_equal(d->parent, 0);
		assert_int_equal(d->nsnaps, 20);
		for (k = 0; k < 20; k++)
			assert_int_equal(d->snaps[k].guid, i * 100 + k + 1);
	}
	zf_tree_free(t);
}

/* -------- garbage -------- */

static void
mutate(char *buf, size_t *len, size_t cap, unsigned *seed)
{
	static const char alphabet[] = "\t@#/-0123456789 abz.:%\\\n\x01\xff";
	size_t n = 1 + (size_t)rand_r(seed) % 4, i, pos;

	for (i = 0; i < n; i++) {
		pos = *len ? (size_t)rand_r(seed) % *len : 0;
		switch (rand_r(seed) % 5) {
		case 0: /* flip a bit */
			if (*len)
				buf[pos] ^= (char)(1u << (rand_r(seed) % 8));
			break;
		case 1: /* cut */
			*len = pos;
			break;
		case 2: /* insert */
			if (*len + 1 < cap) {
				memmove(buf + pos + 1, buf + pos, *len - pos);
				buf[pos] = alphabet[(size_t)rand_r(seed) %
				    (sizeof(alphabet) - 1)];
				(*len)++;
			}
			break;
		case 3: /* delete */
			if (*len) {
				memmove(buf + pos, buf + pos + 1,
				    *len - pos - 1);
				(*len)--;
			}
			break;
		default: /* replace */
			if (*len)
				buf[pos] = alphabet[(size_t)rand_r(seed) %
				    (sizeof(alphabet) - 1)];
			break;
		}
	}
}

/*
 * Real listings with a few lines damaged, dropped, repeated or replaced by
 * noise: never a crash, and either a sound tree or ZF_E_PROTOCOL with an
 * escaped message.
 */
static void
test_garbage(void **state)
{
	static const struct {
		const char *file, *root;
		enum zf_list_format fmt;
	} inputs[] = {
	    {"openzfs-src.list", "tank/src", LIST},
	    {"openzfs-dst.list", "tank/dst", LIST},
	    {"zfs-fuse-r.get", "zfplan11838/a", GET},
	};
	unsigned seed = 12345;
	size_t round, i, k, ok = 0, bad = 0;
	char *texts[ZF_ARRAY_SIZE(inputs)], *lines[ZF_ARRAY_SIZE(inputs)][80];
	size_t nlines[ZF_ARRAY_SIZE(inputs)];
	char buf[2048];

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(inputs); i++) {
		texts[i] = slurp(inputs[i].file);
		nlines[i] = split_lines(texts[i], lines[i], 80);
	}
	for (round = 0; round < 6000; round++) {
		size_t in = round % ZF_ARRAY_SIZE(inputs);
		struct zf_tree *t = NULL;
		struct zf_error err;
		enum zf_status r = ZF_OK;
		size_t ndamaged = (size_t)rand_r(&seed) % 3;
		size_t damaged[2] = {ZF_NONE, ZF_NONE};

		for (k = 0; k < ndamaged; k++)
			damaged[k] = (size_t)rand_r(&seed) % nlines[in];
		zf_error_clear(&err);
		assert_int_equal(zf_tree_new(&t, inputs[in].root,
		                     inputs[in].fmt, NULL),
		    ZF_OK);
		for (i = 0; i < nlines[in] && r == ZF_OK; i++) {
			size_t len = strlen(lines[in][i]);

			memcpy(buf, lines[in][i], len);
			if (i == damaged[0] || i == damaged[1]) {
				switch (rand_r(&seed) % 8) {
				case 0: /* dropped */
					continue;
				case 1: /* noise */
					len = (size_t)rand_r(&seed) % 600;
					for (k = 0; k < len; k++)
						buf[k] = (char)rand_r(&seed);
					break;
				case 2: /* repeated */
					r = zf_tree_add_line(t, buf, len, &err);
					break;
				default:
					mutate(buf, &len, sizeof(buf), &seed);
					break;
				}
			}
			if (r == ZF_OK)
				r = zf_tree_add_line(t, buf, len, &err);
		}
		if (r == ZF_OK)
			r = zf_tree_finish(t, &err);
		if (r == ZF_OK) {
			check_invariants(t);
			ok++;
		} else {
			assert_int_equal(r, ZF_E_PROTOCOL);
			assert_int_equal(err.stage, ZF_STAGE_LIST);
			assert_non_null(strstr(err.msg, "listing"));
			/* escaped: no control character gets out */
			for (i = 0; err.msg[i] != '\0'; i++)
				assert_true((unsigned char)err.msg[i] >= 0x20 &&
				    (unsigned char)err.msg[i] < 0x7f);
			bad++;
		}
		zf_tree_free(t);
	}
	print_message("garbage: %zu accepted, %zu refused\n", ok, bad);
	assert_true(ok > 1000);
	assert_true(bad > 1000);
	for (i = 0; i < ZF_ARRAY_SIZE(inputs); i++)
		free(texts[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_openzfs_list),
	    cmocka_unit_test(test_openzfs_token),
	    cmocka_unit_test(test_zfs_fuse_get),
	    cmocka_unit_test(test_zfs_fuse_other_captures),
	    cmocka_unit_test(test_get_lines_in_any_order),
	    cmocka_unit_test(test_sorting),
	    cmocka_unit_test(test_empty_and_edge_values),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_long_and_nul_lines),
	    cmocka_unit_test(test_api_misuse),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
