/*
 * test_nvlist.c: the packed-nvlist reader on lists that real OpenZFS and
 * zfs-fuse wrote, on round trips through the tests' own writer (nvenc.h)
 * in all three encodings, and on every kind of damage: truncation at every
 * length, every byte changed, bad sizes, names, types, counts, nesting.
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "nvenc.h"
#include "nvlist.h"

/* The three encodings a reader meets: native LE (x86), native BE, XDR. */
static const struct {
	int enc;
	bool be;
	const char *what;
} encodings[] = {
    {NVE_NATIVE, false, "native little-endian"},
    {NVE_NATIVE, true, "native big-endian"},
    {NVE_XDR, false, "xdr"},
};

/* Reads every pair; returns the status, the number of pairs in *n. */
static enum zf_status
read_all(const void *buf, size_t len, unsigned *n, struct zf_error *err)
{
	struct zf_nvl nvl;
	struct zf_nvpair p;
	enum zf_status r;
	bool more = false;

	*n = 0;
	zf_error_clear(err);
	r = zf_nvl_open(&nvl, buf, len, err);
	while (r == ZF_OK && (r = zf_nvl_next(&nvl, &p, &more, err)) == ZF_OK &&
	    more)
		(*n)++;
	return r;
}

static void
assert_refused(const void *buf, size_t len, const char *msg_part)
{
	struct zf_error err;
	unsigned n;

	assert_int_equal(read_all(buf, len, &n, &err), ZF_E_PROTOCOL);
	assert_int_equal(err.code, ZF_E_PROTOCOL);
	if (msg_part != NULL && strstr(err.msg, msg_part) == NULL)
		fail_msg("'%s' does not say '%s'", err.msg, msg_part);
}

static void
put32(unsigned char *p, uint32_t v, bool be)
{
	int i;

	for (i = 0; i < 4; i++)
		p[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

static unsigned char *
read_file(const char *name, size_t *len)
{
	const char *dir = nve_data_dir();
	char path[4096];
	unsigned char *buf;
	FILE *f;
	long n;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * The nvlist inside a token from zrepl's platform tests, made by ZoL 0.8.1
 * (zrepl/zrepl platformtest/tests/resumeTokenParsing.go, "full"): the
 * tests' writer must produce exactly these bytes, so that what it makes is
 * what the kernel makes.
 */
static const char zrepl_full[] =
    "1-b338b54f3-c0-789c636064000310a500c4ec50360710e72765a52697303030419460"
    "caa7a515a796806474e0f26c48f2499525a9c540ba42430fabfe92fcf4d2cc140686c8"
    "8a76d578ae45530c90e439c1f27989b9a90c0c5545a905390539892569f945b940234b"
    "f48b8b921d12c1660200c61a1aba";

static unsigned char *
token_payload(const char *tok, size_t *len)
{
	const char *hex = strrchr(tok, '-') + 1;
	size_t clen = strlen(hex) / 2, i;
	unsigned char *comp = malloc(clen), *out = malloc(4096);
	uLongf outlen = 4096;
	unsigned v;

	assert_non_null(comp);
	assert_non_null(out);
	for (i = 0; i < clen; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		comp[i] = (unsigned char)v;
	}
	assert_int_equal(uncompress(out, &outlen, comp, clen), Z_OK);
	free(comp);
	*len = outlen;
	return out;
}

static void
test_writer_makes_what_the_kernel_makes(void **state)
{
	const struct nve_tok t = {.object = 2,
	    .offset = 0x2c0000,
	    .bytes = 0x2e2878,
	    .toguid = 0x94a20a5f25877859,
	    .toname = "zreplplatformtest/src@a"};
	struct nve e;
	unsigned char *real;
	size_t len;

	(void)state;
	real = token_payload(zrepl_full, &len);
	nve_init(&e, NVE_NATIVE, false);
	nve_tok_fields(&e, &t);
	nve_end(&e);
	assert_int_equal(e.len, len);
	assert_memory_equal(e.buf, real, len);
	free(real);
	nve_free(&e);
}

static void
test_real_token_nvlist_reads(void **state)
{
	static const char *const names[] = {"object", "offset", "bytes",
	    "toguid", "toname"};
	struct zf_error err;
	struct zf_nvl nvl;
	struct zf_nvpair p;
	unsigned char *real;
	char s[64];
	uint64_t v;
	size_t len, i;
	bool more;

	(void)state;
	zf_error_clear(&err);
	real = token_payload(zrepl_full, &len);
	assert_int_equal(zf_nvl_open(&nvl, real, len, &err), ZF_OK);
	assert_int_equal(nvl.encoding, ZF_NVL_NATIVE);
	assert_false(nvl.big_endian);
	assert_int_equal(nvl.nvflag, 1);
	for (i = 0; i < ZF_ARRAY_SIZE(names); i++) {
		assert_int_equal(zf_nvl_next(&nvl, &p, &more, &err), ZF_OK);
		assert_true(more);
		assert_true(zf_nvpair_is(&p, names[i]));
	}
	assert_int_equal(p.type, ZF_NVT_STRING);
	assert_int_equal(zf_nvpair_string(&p, s, sizeof(s), &err), ZF_OK);
	assert_string_equal(s, "zreplplatformtest/src@a");
	assert_int_equal(zf_nvl_next(&nvl, &p, &more, &err), ZF_OK);
	assert_false(more);
	/* after the end it stays at the end */
	assert_int_equal(zf_nvl_next(&nvl, &p, &more, &err), ZF_OK);
	assert_false(more);
	assert_int_equal(err.code, ZF_OK);

	/* object is the first pair */
	assert_int_equal(zf_nvl_open(&nvl, real, len, &err), ZF_OK);
	assert_int_equal(zf_nvl_next(&nvl, &p, &more, &err), ZF_OK);
	assert_int_equal(zf_nvpair_uint64(&p, &v, &err), ZF_OK);
	assert_int_equal(v, 2);
	free(real);
}

/*
 * A zpool.cache (XDR) that zfs-fuse 0.7 wrote for a pool of one mirror of
 * two files (zpool create -o cachefile=... zfnvl22641 mirror f1 f2): one
 * pair, the pool's config, with lists nested four deep and nvlist arrays.
 * The tests' XDR writer must produce the same bytes.
 */
static void
xdr_vdev_file(struct nve *e, uint64_t id, uint64_t guid, const char *path)
{
	nve_sub(e);
	nve_str(e, "type", "file");
	nve_u64(e, "id", id);
	nve_u64(e, "guid", guid);
	nve_str(e, "path", path);
	nve_u64(e, "create_txg", 4);
	nve_end(e);
}

static void
test_zfs_fuse_zpool_cache(void **state)
{
	struct zf_error err;
	struct zf_nvl nvl;
	struct zf_nvpair p;
	unsigned char *real;
	struct nve e;
	size_t len;
	bool more;

	(void)state;
	real = read_file("nvlist/zfs-fuse-mirror.cache", &len);
	zf_error_clear(&err);
	assert_int_equal(zf_nvl_open(&nvl, real, len, &err), ZF_OK);
	assert_int_equal(nvl.encoding, ZF_NVL_XDR);
	assert_int_equal(zf_nvl_next(&nvl, &p, &more, &err), ZF_OK);
	assert_true(more);
	assert_true(zf_nvpair_is(&p, "zfnvl22641"));
	assert_int_equal(p.type, ZF_NVT_NVLIST);
	assert_int_equal(zf_nvl_next(&nvl, &p, &more, &err), ZF_OK);
	assert_false(more);

	nve_init(&e, NVE_XDR, false); /* zfs-fuse ran on x86 */
	nve_list(&e, "zfnvl22641", 0);
	nve_sub(&e);
	nve_u64(&e, "version", 23);
	nve_str(&e, "name", "zfnvl22641");
	nve_u64(&e, "state", 0);
	nve_u64(&e, "txg", 4);
	nve_u64(&e, "pool_guid", 18126617484128881692u);
	nve_u64(&e, "hostid", 8323328);
	nve_str(&e, "hostname", "vm");
	nve_u64(&e, "vdev_children", 1);
	nve_list(&e, "vdev_tree", 0);
	nve_sub(&e);
	nve_str(&e, "type", "root");
	nve_u64(&e, "id", 0);
	nve_u64(&e, "guid", 18126617484128881692u);
	nve_u64(&e, "create_txg", 4);
	nve_list(&e, "children", 1);
	nve_sub(&e);
	nve_str(&e, "type", "mirror");
	nve_u64(&e, "id", 0);
	nve_u64(&e, "guid", 1746195093749313833);
	nve_u64(&e, "metaslab_array", 23);
	nve_u64(&e, "metaslab_shift", 20);
	nve_u64(&e, "ashift", 12);
	nve_u64(&e, "asize", 129499136);
	nve_u64(&e, "is_log", 0);
	nve_u64(&e, "create_txg", 4);
	nve_list(&e, "children", 2);
	xdr_vdev_file(&e, 0, 12266396083977064246u, "/tmp/zfnvl1.img");
	xdr_vdev_file(&e, 1, 8356533292146792983, "/tmp/zfnvl2.img");
	nve_end(&e); /* the mirror */
	nve_end(&e); /* vdev_tree */
	nve_end(&e); /* the config */
	nve_end(&e); /* the cache file */
	assert_int_equal(e.len, len);
	assert_memory_equal(e.buf, real, len);
	nve_free(&e);
	free(real);
}

/* One pair of every type, then a nested list and an array of lists. */
static void
write_every_type(struct nve *e)
{
	static const uint64_t nums[] = {1, 0, 0xfe, 0x7fff, 0xffffffff,
	    UINT64_MAX};
	static const char *const strs[] = {"", "a", "four", "fives", "x y z"};
	int t;

	for (t = NVE_BOOLEAN; t <= NVE_DOUBLE; t++) {
		char name[32];
		bool array = t == NVE_BYTE_ARRAY || t == NVE_STRING_ARRAY ||
		    (t >= NVE_INT16_ARRAY && t <= NVE_UINT64_ARRAY) ||
		    t >= NVE_BOOLEAN_ARRAY;
		uint64_t one = t == NVE_BOOLEAN_VALUE ? 1 : 0x5a;

		if (t == NVE_NVLIST || t == NVE_NVLIST_ARRAY || t == NVE_DOUBLE)
			continue;
		snprintf(name, sizeof(name), "type%d", t);
		if (t == NVE_BOOLEAN)
			nve_pair(e, name, t, 0, NULL, NULL);
		else if (t == NVE_BOOLEAN_ARRAY)
			nve_pair(e, name, t, 2, nums, NULL);
		else if (array)
			nve_pair(e, name, t, t == NVE_STRING_ARRAY ? 5 : 6,
			    nums, strs);
		else
			nve_pair(e, name, t, 1, &one, strs + 2);
	}
	nve_pair(e, "double", NVE_DOUBLE, 1, nums + 5, NULL);
	nve_list(e, "nested", 0);
	nve_sub(e);
	nve_u64(e, "inner", 7);
	nve_list(e, "deeper", 3);
	nve_sub(e);
	nve_end(e);
	nve_sub(e);
	nve_str(e, "s", "in an array");
	nve_end(e);
	nve_sub(e);
	nve_bool(e, "b");
	nve_end(e);
	nve_end(e);
	nve_u64(e, "after", 99);
	nve_end(e);
}

static void
test_every_type_round_trips(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < ZF_ARRAY_SIZE(encodings); k++) {
		struct zf_error err;
		struct zf_nvl nvl;
		struct zf_nvpair p;
		struct nve e;
		char s[16];
		uint64_t v;
		bool more;
		unsigned n = 0;
		int want = NVE_BOOLEAN;

		nve_init(&e, encodings[k].enc, encodings[k].be);
		write_every_type(&e);
		zf_error_clear(&err);
		assert_int_equal(zf_nvl_open(&nvl, e.buf, e.len, &err), ZF_OK);
		assert_int_equal(nvl.big_endian,
		    encodings[k].enc == NVE_XDR || encodings[k].be);
		while (zf_nvl_next(&nvl, &p, &more, &err) == ZF_OK && more) {
			n++;
			if (want == NVE_NVLIST)
				want = NVE_BOOLEAN_VALUE;
			if (want <= NVE_UINT8_ARRAY) {
				char name[32];

				snprintf(name, sizeof(name), "type%d", want);
				if (!zf_nvpair_is(&p, name))
					fail_msg(
					    "%s: pair %u is '%.*s', not %s",
					    encodings[k].what, n,
					    (int)p.name_len, p.name, name);
				assert_int_equal(p.type, want);
				want++;
			}
			if (p.type == ZF_NVT_UINT64 &&
			    zf_nvpair_is(&p, "type8")) {
				assert_int_equal(zf_nvpair_uint64(&p, &v, &err),
				    ZF_OK);
				assert_int_equal(v, 0x5a);
			}
			if (p.type == ZF_NVT_INT16 || p.type == ZF_NVT_UINT32 ||
			    p.type == ZF_NVT_UINT8 || p.type == ZF_NVT_HRTIME)
				assert_int_equal(p.num, 0x5a);
			if (p.type == ZF_NVT_BOOLEAN_VALUE)
				assert_int_equal(p.num, 1);
			if (p.type == ZF_NVT_STRING) {
				assert_int_equal(zf_nvpair_string(&p, s,
				                     sizeof(s), &err),
				    ZF_OK);
				assert_string_equal(s, "four");
			}
			if (p.type == ZF_NVT_STRING_ARRAY)
				assert_int_equal(p.nelem, 5);
			if (p.type == ZF_NVT_UINT64_ARRAY) {
				assert_int_equal(p.nelem, 6);
				assert_int_equal(zf_nvpair_uint64_at(&p, 5, &v,
				                     &err),
				    ZF_OK);
				assert_true(v == UINT64_MAX);
				assert_int_equal(zf_nvpair_uint64_at(&p, 2, &v,
				                     &err),
				    ZF_OK);
				assert_int_equal(v, 0xfe);
			}
			if (zf_nvpair_is(&p, "nested"))
				assert_int_equal(p.type, ZF_NVT_NVLIST);
			if (zf_nvpair_is(&p, "after")) {
				assert_int_equal(zf_nvpair_uint64(&p, &v, &err),
				    ZF_OK);
				assert_int_equal(v, 99);
			}
		}
		if (err.code != ZF_OK)
			fail_msg("%s: %s", encodings[k].what, err.msg);
		/* 24 typed pairs, double, nested, after */
		assert_int_equal(n, 27);
		assert_int_equal(nvl.pos, e.len);
		nve_free(&e);
	}
}

static void
test_empty_lists_and_arrays(void **state)
{
	size_t k;
	int t;

	(void)state;
	for (k = 0; k < ZF_ARRAY_SIZE(encodings); k++) {
		struct zf_error err;
		struct nve e;
		unsigned n;

		nve_init(&e, encodings[k].enc, encodings[k].be);
		nve_end(&e);
		assert_int_equal(read_all(e.buf, e.len, &n, &err), ZF_OK);
		assert_int_equal(n, 0);
		nve_free(&e);

		/* arrays of no element: XDR writes no count word for them */
		nve_init(&e, encodings[k].enc, encodings[k].be);
		for (t = NVE_BYTE_ARRAY; t <= NVE_UINT8_ARRAY; t++)
			if (t == NVE_BYTE_ARRAY || t == NVE_STRING_ARRAY ||
			    (t > NVE_BYTE_ARRAY && t < NVE_STRING_ARRAY) ||
			    t >= NVE_BOOLEAN_ARRAY)
				nve_pair(&e, "empty", t, 0, NULL, NULL);
		nve_end(&e);
		assert_int_equal(read_all(e.buf, e.len, &n, &err), ZF_OK);
		assert_int_equal(n, 11);
		nve_free(&e);
	}
}

static void
nest(struct nve *e, unsigned depth)
{
	unsigned i;

	for (i = 0; i < depth; i++) {
		nve_list(e, "n", 0);
		nve_sub(e);
	}
	nve_u64(e, "leaf", 1);
	for (i = 0; i < depth; i++)
		nve_end(e);
	nve_end(e);
}

static void
test_nesting_limit(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < ZF_ARRAY_SIZE(encodings); k++) {
		struct zf_error err;
		struct nve e;
		unsigned n;

		nve_init(&e, encodings[k].enc, encodings[k].be);
		nest(&e, ZF_NVL_MAX_DEPTH);
		assert_int_equal(read_all(e.buf, e.len, &n, &err), ZF_OK);
		assert_int_equal(n, 1);
		nve_free(&e);

		nve_init(&e, encodings[k].enc, encodings[k].be);
		nest(&e, ZF_NVL_MAX_DEPTH + 1);
		assert_refused(e.buf, e.len, "nested deeper than 8");
		nve_free(&e);

		/* far deeper than any stack would take, were it followed */
		nve_init(&e, encodings[k].enc, encodings[k].be);
		nest(&e, 30);
		assert_refused(e.buf, e.len, "nested deeper");
		nve_free(&e);
	}
}

/* An array of 20000 nested lists, each holding a pair: read, linearly. */
static void
test_huge_array_of_lists(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < ZF_ARRAY_SIZE(encodings); k++) {
		struct zf_error err;
		struct nve e;
		unsigned i, n;

		nve_init(&e, encodings[k].enc, encodings[k].be);
		nve_list(&e, "many", 20000);
		for (i = 0; i < 20000; i++) {
			nve_sub(&e);
			nve_u64(&e, "i", i);
			nve_end(&e);
		}
		nve_u64(&e, "toguid", 5);
		nve_end(&e);
		assert_int_equal(read_all(e.buf, e.len, &n, &err), ZF_OK);
		assert_int_equal(n, 2);
		/* without the end of the outer list */
		e.len -= encodings[k].enc == NVE_XDR ? 8 : 4;
		assert_refused(e.buf, e.len, "truncated");
		nve_free(&e);
	}
}

/* Every prefix of a valid list is refused; only the whole list reads. */
static void
test_every_truncation_is_refused(void **state)
{
	size_t k, cut;

	(void)state;
	for (k = 0; k < ZF_ARRAY_SIZE(encodings); k++) {
		struct zf_error err;
		struct nve e;
		unsigned n;

		nve_init(&e, encodings[k].enc, encodings[k].be);
		write_every_type(&e);
		for (cut = 0; cut < e.len; cut++) {
			unsigned char *copy = malloc(cut == 0 ? 1 : cut);

			/* a copy of exactly cut bytes: ASan sees any overrun */
			assert_non_null(copy);
			memcpy(copy, e.buf, cut);
			if (read_all(cut == 0 ? NULL : copy, cut, &n, &err) !=
			    ZF_E_PROTOCOL)
				fail_msg("%s: %zu of %zu bytes read",
				    encodings[k].what, cut, e.len);
			free(copy);
		}
		assert_int_equal(read_all(e.buf, e.len, &n, &err), ZF_OK);
		/* and one byte more is refused too */
		nve_zero(&e, 1);
		assert_refused(e.buf, e.len, "1 bytes after the end");
		nve_free(&e);
	}
}

/* Changing any byte to any of a few values reads or is refused, safely. */
static void
test_every_byte_changed(void **state)
{
	static const unsigned char vals[] = {0x00, 0x01, 0x07, 0x13, 0x7f, 0x80,
	    0xff};
	size_t k, i, j;

	(void)state;
	for (k = 0; k < ZF_ARRAY_SIZE(encodings); k++) {
		struct zf_error err;
		struct nve e;
		unsigned n;

		nve_init(&e, encodings[k].enc, encodings[k].be);
		write_every_type(&e);
		for (i = 0; i < e.len; i++) {
			unsigned char *copy = malloc(e.len);

			assert_non_null(copy);
			for (j = 0; j < ZF_ARRAY_SIZE(vals); j++) {
				enum zf_status r;

				memcpy(copy, e.buf, e.len);
				copy[i] = vals[j];
				r = read_all(copy, e.len, &n, &err);
				assert_true(r == ZF_OK || r == ZF_E_PROTOCOL);
				assert_int_equal(err.code, r);
			}
			free(copy);
		}
		nve_free(&e);
	}
}

/* A native list of one uint64 pair "toguid" = 1 at offset 12. */
static void
one_native(struct nve *e, bool be)
{
	nve_init(e, NVE_NATIVE, be);
	nve_u64(e, "toguid", 1);
	nve_end(e);
	assert_int_equal(e->len, 12 + 32 + 4);
}

static void
test_native_damage_is_refused(void **state)
{
	static const bool bes[] = {false, true};
	size_t k;

	(void)state;
	for (k = 0; k < 2; k++) {
		const bool be = bes[k];
		struct nve e;
		unsigned char *b;

		one_native(&e, be);
		b = e.buf;
		put32(b + 12, 0xfffffff0, be);
		assert_refused(b, e.len, "negative pair size");
		put32(b + 12, 64, be);
		assert_refused(b, e.len, "truncated: pair of 64 bytes");
		put32(b + 12, 16, be);
		assert_refused(b, e.len, "below the minimum");
		put32(b + 12, 32, be);
		/* two elements do not fit the 8 value bytes */
		put32(b + 24, ZF_NVT_UINT64_ARRAY, be);
		put32(b + 20, 2, be);
		assert_refused(b, e.len, "uint64 array value of 16 bytes in 8");
		put32(b + 24, ZF_NVT_UINT64, be);
		put32(b + 20, 1, be);
		/* a pair longer than its value: 8 bytes for a boolean */
		put32(b + 24, ZF_NVT_BOOLEAN, be);
		put32(b + 20, 0, be);
		assert_refused(b, e.len, "boolean value of 0 bytes in 8");
		put32(b + 24, ZF_NVT_UINT64, be);
		put32(b + 20, 1, be);

		b[be ? 17 : 16] = 0; /* name_sz 0 */
		assert_refused(b, e.len, "name size 0");
		b[be ? 17 : 16] = 20; /* runs past the pair */
		assert_refused(b, e.len, "overruns its pair");
		b[be ? 17 : 16] = 6; /* "toguid" without its NUL */
		assert_refused(b, e.len, "not NUL-terminated");
		b[be ? 17 : 16] = 7;
		b[28 + 2] = '\0'; /* "to\0uid" */
		assert_refused(b, e.len, "name holds a NUL");
		b[28 + 2] = 'g';

		put32(b + 24, 0, be);
		assert_refused(b, e.len, "unknown data type 0");
		put32(b + 24, 28, be);
		assert_refused(b, e.len, "unknown data type 28");
		put32(b + 24, ZF_NVT_BOOLEAN, be);
		assert_refused(b, e.len, "boolean with 1 elements");
		put32(b + 24, ZF_NVT_BOOLEAN_VALUE, be);
		put32(b + 36, 2, be);
		assert_refused(b, e.len, "boolean value 2");
		put32(b + 36, 1, be);
		put32(b + 24, ZF_NVT_UINT64, be);
		put32(b + 20, 2, be);
		assert_refused(b, e.len, "uint64 with 2 elements");
		put32(b + 20, 1, be);
		/* a string with no NUL in its 8 bytes */
		put32(b + 24, ZF_NVT_STRING, be);
		memset(b + 36, 'x', 8);
		assert_refused(b, e.len, "string is not NUL-terminated");
		put32(b + 24, ZF_NVT_UINT64, be);

		/* the end marker missing, and only part of it */
		assert_refused(b, e.len - 4, "truncated");
		assert_refused(b, e.len - 1, "truncated");
		nve_free(&e);
	}
}

static void
test_native_nested_damage_is_refused(void **state)
{
	struct nve e;

	(void)state;
	/* a nested list whose nvlist_t says version 1 */
	nve_init(&e, NVE_NATIVE, false);
	nve_list(&e, "l", 0);
	nve_sub(&e);
	nve_end(&e);
	nve_end(&e);
	/* pair at 12: 16 header + "l\0" -> value at 12 + 24 */
	put32(e.buf + 36, 1, false);
	assert_refused(e.buf, e.len, "nested list of version 1");
	nve_free(&e);

	/* a string array whose last string runs off its pair */
	{
		static const char *const strs[] = {"ab", "cd"};

		nve_init(&e, NVE_NATIVE, false);
		nve_pair(&e, "sa", NVE_STRING_ARRAY, 2, NULL, strs);
		nve_end(&e);
		/* value at 12+24: 16 slot bytes, "ab\0cd\0", padding */
		e.buf[12 + 24 + 16 + 5] = 'x';
		e.buf[12 + 24 + 16 + 6] = 'x';
		e.buf[12 + 24 + 16 + 7] = 'x';
		assert_refused(e.buf, e.len, "string 1 of an array");
		nve_free(&e);
	}
	/* an array count too large for its pair */
	nve_init(&e, NVE_NATIVE, false);
	nve_list(&e, "l", 2);
	nve_sub(&e);
	nve_end(&e);
	nve_sub(&e);
	nve_end(&e);
	nve_end(&e);
	put32(e.buf + 12 + 8, 0x20000000, false);
	assert_refused(e.buf, e.len, "nvlist array value");
	nve_free(&e);
}

/* An XDR list of one uint64 pair "toguid" = 1: pair at offset 12. */
static void
one_xdr(struct nve *e)
{
	nve_init(e, NVE_XDR, false);
	nve_u64(e, "toguid", 1);
	nve_end(e);
	/* sizes 8, name 4 + 8, type and nelem 8, value 8 */
	assert_int_equal(e->len, 12 + 36 + 8);
}

static void
test_xdr_damage_is_refused(void **state)
{
	struct nve e;
	unsigned char *b;

	(void)state;
	one_xdr(&e);
	b = e.buf;
	put32(b + 12, 40, true);
	assert_refused(b, e.len, "encoded size 40, the pair has 36");
	put32(b + 12, 36, true);
	put32(b + 16, 40, true);
	assert_refused(b, e.len, "decoded size 40, the pair needs 32");
	put32(b + 16, 0xffffff00, true);
	assert_refused(b, e.len, "negative pair size");
	put32(b + 16, 8, true);
	assert_refused(b, e.len, "below the minimum");
	put32(b + 16, 32, true);
	put32(b + 20, 0xffffffff, true); /* name length */
	assert_refused(b, e.len, "string of 4294967295 bytes overruns");
	put32(b + 20, 6, true);
	b[24 + 3] = '\0';
	assert_refused(b, e.len, "string holds a NUL");
	b[24 + 3] = 'g';
	put32(b + 32, 99, true);
	assert_refused(b, e.len, "unknown data type 99");
	put32(b + 32, ZF_NVT_UINT64, true);
	put32(b + 36, 0, true);
	assert_refused(b, e.len, "uint64 with 0 elements");
	put32(b + 36, 1, true);
	/* the end marker with an encoded size */
	put32(b + 48, 1, true);
	assert_refused(b, e.len, "end of list with an encoded size");
	put32(b + 48, 0, true);
	assert_refused(b, e.len - 4, "truncated");
	nve_free(&e);

	/* an array whose count word disagrees with nelem */
	{
		static const uint64_t v[] = {1, 2};

		nve_init(&e, NVE_XDR, false);
		nve_pair(&e, "a", NVE_UINT64_ARRAY, 2, v, NULL);
		nve_end(&e);
		/* sizes 8, name 8, type and nelem 8: count at 12 + 24 */
		put32(e.buf + 36, 3, true);
		assert_refused(e.buf, e.len, "array count 3 for 2 elements");
		nve_free(&e);
	}
	/* a nested list of version 1 */
	nve_init(&e, NVE_XDR, false);
	nve_list(&e, "l", 0);
	nve_sub(&e);
	nve_end(&e);
	nve_end(&e);
	put32(e.buf + 12 + 24, 1, true);
	assert_refused(e.buf, e.len, "nested list of version 1");
	nve_free(&e);
}

static void
test_header_damage_is_refused(void **state)
{
	struct nve e;

	(void)state;
	one_native(&e, false);
	e.buf[0] = 2;
	assert_refused(e.buf, e.len, "unknown encoding 2");
	e.buf[0] = 0;
	e.buf[1] = 2;
	assert_refused(e.buf, e.len, "unknown byte order 2");
	e.buf[1] = 1;
	put32(e.buf + 4, 1, false);
	assert_refused(e.buf, e.len, "version 1, only 0 exists");
	put32(e.buf + 4, 0, false);
	assert_refused(e.buf, 11, "the header needs 12");
	assert_refused(NULL, 0, "the header needs 12");
	nve_free(&e);
}

static void
test_accessors_check_types_and_limits(void **state)
{
	static const uint64_t v2[] = {7, 8};
	struct zf_error err;
	struct zf_nvl nvl;
	struct zf_nvpair p;
	struct nve e;
	char small[4];
	uint64_t v;
	bool more;

	(void)state;
	nve_init(&e, NVE_NATIVE, false);
	nve_str(&e, "name", "four");
	nve_pair(&e, "arr", NVE_UINT64_ARRAY, 2, v2, NULL);
	nve_end(&e);
	zf_error_clear(&err);
	assert_int_equal(zf_nvl_open(&nvl, e.buf, e.len, &err), ZF_OK);
	assert_int_equal(zf_nvl_next(&nvl, &p, &more, &err), ZF_OK);
	assert_false(zf_nvpair_is(&p, "nam"));
	assert_false(zf_nvpair_is(&p, "names"));
	assert_int_equal(zf_nvpair_uint64(&p, &v, &err), ZF_E_PROTOCOL);
	assert_string_equal(err.msg,
	    "nvlist: 'name' has type string, not uint64");
	zf_error_clear(&err);
	assert_int_equal(zf_nvpair_string(&p, small, sizeof(small), &err),
	    ZF_E_PROTOCOL);
	assert_string_equal(small, "");
	assert_non_null(strstr(err.msg, "string of 4 bytes, the limit is 3"));
	zf_error_clear(&err);
	assert_int_equal(zf_nvl_next(&nvl, &p, &more, &err), ZF_OK);
	assert_int_equal(zf_nvpair_uint64_at(&p, 1, &v, &err), ZF_OK);
	assert_int_equal(v, 8);
	assert_int_equal(zf_nvpair_uint64_at(&p, 2, &v, &err), ZF_E_INVALID);
	zf_error_clear(&err);
	assert_int_equal(zf_nvpair_string(&p, small, sizeof(small), &err),
	    ZF_E_PROTOCOL);
	assert_string_equal(err.msg,
	    "nvlist: 'arr' has type uint64 array, not string");
	nve_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writer_makes_what_the_kernel_makes),
	    cmocka_unit_test(test_real_token_nvlist_reads),
	    cmocka_unit_test(test_zfs_fuse_zpool_cache),
	    cmocka_unit_test(test_every_type_round_trips),
	    cmocka_unit_test(test_empty_lists_and_arrays),
	    cmocka_unit_test(test_nesting_limit),
	    cmocka_unit_test(test_huge_array_of_lists),
	    cmocka_unit_test(test_every_truncation_is_refused),
	    cmocka_unit_test(test_every_byte_changed),
	    cmocka_unit_test(test_native_damage_is_refused),
	    cmocka_unit_test(test_native_nested_damage_is_refused),
	    cmocka_unit_test(test_xdr_damage_is_refused),
	    cmocka_unit_test(test_header_damage_is_refused),
	    cmocka_unit_test(test_accessors_check_types_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
