/*
 * nvenc.h: the tests' own writer of packed nvlists and resume tokens, made
 * from the layout in OpenZFS's module/nvpair/nvpair.c and
 * lib/libzfs/libzfs_sendrecv.c, independently of src/lib/nvlist.c.
 * test_nvlist.c checks its native output byte for byte against the nvlist
 * inside a real token, and its XDR output against a zpool.cache written by
 * zfs-fuse, so that round trips through it mean something.
 *
 * Include after compat.h and cmocka.h.
 *
 *   struct nve e;
 *   nve_init(&e, NVE_NATIVE, false);        // or NVE_XDR
 *   nve_u64(&e, "toguid", 42);
 *   nve_list(&e, "nested", 1);               // a nested list:
 *   nve_sub(&e); nve_str(&e, "a", "b"); nve_end(&e);
 *   nve_end(&e);                             // the outer list
 *   ... e.buf, e.len ...
 *   nve_free(&e);
 */
#ifndef ZF_NVENC_H
#define ZF_NVENC_H

#include <zlib.h>

/*
 * The test data directory: $ZF_TEST_DATA (ctest sets it), else tests/data
 * beside this file, for runs outside ctest (scripts/valgrind-units).
 */
static inline const char *
nve_data_dir(void)
{
	static char dir[1024];
	const char *env = getenv("ZF_TEST_DATA");
	const char *slash;

	if (env != NULL && env[0] != '\0')
		return env;
	slash = strrchr(__FILE__, '/');
	snprintf(dir, sizeof(dir), "%.*s/../data",
	    slash == NULL ? 1 : (int)(slash - __FILE__),
	    slash == NULL ? "." : __FILE__);
	return dir;
}

enum { NVE_NATIVE = 0, NVE_XDR = 1 };

/* data_type_t */
enum {
	NVE_BOOLEAN = 1,
	NVE_BYTE,
	NVE_INT16,
	NVE_UINT16,
	NVE_INT32,
	NVE_UINT32,
	NVE_INT64,
	NVE_UINT64,
	NVE_STRING,
	NVE_BYTE_ARRAY,
	NVE_INT16_ARRAY,
	NVE_UINT16_ARRAY,
	NVE_INT32_ARRAY,
	NVE_UINT32_ARRAY,
	NVE_INT64_ARRAY,
	NVE_UINT64_ARRAY,
	NVE_STRING_ARRAY,
	NVE_HRTIME,
	NVE_NVLIST,
	NVE_NVLIST_ARRAY,
	NVE_BOOLEAN_VALUE,
	NVE_INT8,
	NVE_UINT8,
	NVE_BOOLEAN_ARRAY,
	NVE_INT8_ARRAY,
	NVE_UINT8_ARRAY,
	NVE_DOUBLE,
};

struct nve {
	unsigned char *buf;
	size_t len, cap;
	int enc;
	bool be;
	/* XDR: open nested-list pairs, to patch their encoded size */
	size_t open_at[32];
	unsigned open_left[32];
	int nopen;
};

static inline void
nve_raw(struct nve *e, const void *p, size_t n)
{
	if (e->len + n > e->cap) {
		e->cap = (e->len + n) * 2 + 64;
		e->buf = realloc(e->buf, e->cap);
		assert_non_null(e->buf);
	}
	if (n > 0)
		memcpy(e->buf + e->len, p, n);
	e->len += n;
}

static inline void
nve_zero(struct nve *e, size_t n)
{
	static const unsigned char z[64];

	while (n > 0) {
		size_t k = n < sizeof(z) ? n : sizeof(z);

		nve_raw(e, z, k);
		n -= k;
	}
}

static inline void
nve_pad(struct nve *e, size_t to)
{
	nve_zero(e, (to - e->len % to) % to);
}

/* n bytes of v in the encoding's byte order (XDR: big-endian) */
static inline void
nve_num(struct nve *e, uint64_t v, int n)
{
	unsigned char b[8];
	bool be = e->enc == NVE_XDR || e->be;
	int i;

	for (i = 0; i < n; i++)
		b[be ? n - 1 - i : i] = (unsigned char)(v >> (8 * i));
	nve_raw(e, b, (size_t)n);
}

static inline void
nve_init(struct nve *e, int enc, bool be)
{
	unsigned char hdr[4] = {(unsigned char)enc, be ? 0 : 1, 0, 0};

	memset(e, 0, sizeof(*e));
	e->enc = enc;
	e->be = be;
	nve_raw(e, hdr, 4);
	nve_num(e, 0, 4); /* nvl_version */
	nve_num(e, 1, 4); /* nvl_nvflag: NV_UNIQUE_NAME */
}

static inline void
nve_free(struct nve *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

static inline size_t
nve_al8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

static inline size_t
nve_al4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

/* native size of one element (NVLIST_ARRAY: pointer slot + nvlist_t) */
static inline size_t
nve_elsize(int type)
{
	switch (type) {
	case NVE_BYTE:
	case NVE_INT8:
	case NVE_UINT8:
	case NVE_BYTE_ARRAY:
	case NVE_INT8_ARRAY:
	case NVE_UINT8_ARRAY:
		return 1;
	case NVE_INT16:
	case NVE_UINT16:
	case NVE_INT16_ARRAY:
	case NVE_UINT16_ARRAY:
		return 2;
	case NVE_INT32:
	case NVE_UINT32:
	case NVE_BOOLEAN_VALUE:
	case NVE_INT32_ARRAY:
	case NVE_UINT32_ARRAY:
	case NVE_BOOLEAN_ARRAY:
		return 4;
	case NVE_NVLIST:
		return 24;
	case NVE_NVLIST_ARRAY:
		return 32;
	case NVE_BOOLEAN:
	case NVE_STRING:
	case NVE_STRING_ARRAY:
		return 0;
	default:
		return 8;
	}
}

static inline bool
nve_is_str(int type)
{
	return type == NVE_STRING || type == NVE_STRING_ARRAY;
}

/* arrays that xdr_array() writes with a count word first */
static inline bool
nve_counted(int type)
{
	switch (type) {
	case NVE_INT16_ARRAY:
	case NVE_UINT16_ARRAY:
	case NVE_INT32_ARRAY:
	case NVE_UINT32_ARRAY:
	case NVE_INT64_ARRAY:
	case NVE_UINT64_ARRAY:
	case NVE_BOOLEAN_ARRAY:
	case NVE_INT8_ARRAY:
	case NVE_UINT8_ARRAY:
		return true;
	default:
		return false;
	}
}

/*
 * A pair of any type but the nested lists.  nums holds nelem numbers (for
 * BOOLEAN: unused), strs nelem strings (STRING, STRING_ARRAY).
 */
static inline void
nve_pair(struct nve *e, const char *name, int type, uint32_t nelem,
    const uint64_t *nums, const char *const *strs)
{
	size_t name_sz = strlen(name) + 1, vsz = 0, nsize, start = e->len;
	uint32_t i;

	if (type == NVE_STRING)
		vsz = strlen(strs[0]) + 1;
	else if (type == NVE_STRING_ARRAY)
		for (vsz = (size_t)nelem * 8, i = 0; i < nelem; i++)
			vsz += strlen(strs[i]) + 1;
	else
		vsz = (size_t)nelem * nve_elsize(type);
	nsize = nve_al8(16 + name_sz) + nve_al8(vsz);

	if (e->enc == NVE_NATIVE) {
		nve_num(e, nsize, 4);
		nve_num(e, name_sz, 2);
		nve_num(e, 0, 2);
		nve_num(e, nelem, 4);
		nve_num(e, (uint64_t)type, 4);
		nve_raw(e, name, name_sz);
		nve_zero(e, nve_al8(16 + name_sz) - 16 - name_sz);
		if (type == NVE_STRING) {
			nve_raw(e, strs[0], vsz);
		} else if (type == NVE_STRING_ARRAY) {
			nve_zero(e, (size_t)nelem * 8);
			for (i = 0; i < nelem; i++)
				nve_raw(e, strs[i], strlen(strs[i]) + 1);
		} else {
			for (i = 0; i < nelem; i++)
				nve_num(e, nums[i], (int)nve_elsize(type));
		}
		nve_zero(e, nve_al8(vsz) - vsz);
		assert_int_equal(e->len - start, nsize);
		return;
	}

	/* XDR */
	nve_num(e, 0, 4); /* encoded size, patched below */
	nve_num(e, nsize, 4);
	nve_num(e, name_sz - 1, 4);
	nve_raw(e, name, name_sz - 1);
	nve_pad(e, 4);
	nve_num(e, (uint64_t)type, 4);
	nve_num(e, nelem, 4);
	if (nelem > 0) {
		if (nve_is_str(type)) {
			for (i = 0; i < nelem; i++) {
				nve_num(e, strlen(strs[i]), 4);
				nve_raw(e, strs[i], strlen(strs[i]));
				nve_pad(e, 4);
			}
		} else if (type == NVE_BYTE_ARRAY) {
			for (i = 0; i < nelem; i++)
				nve_num(e, nums[i], 1);
			nve_pad(e, 4);
		} else {
			if (nve_counted(type))
				nve_num(e, nelem, 4);
			for (i = 0; i < nelem; i++)
				nve_num(e, nums[i],
				    nve_elsize(type) == 8 ? 8 : 4);
		}
	}
	{
		/* nvs_xdr_nvp_size() counts the count word of empty arrays */
		size_t enc = e->len - start;

		if (nelem == 0 && nve_counted(type))
			enc += 4;
		e->buf[start] = (unsigned char)(enc >> 24);
		e->buf[start + 1] = (unsigned char)(enc >> 16);
		e->buf[start + 2] = (unsigned char)(enc >> 8);
		e->buf[start + 3] = (unsigned char)enc;
	}
}

static inline void
nve_u64(struct nve *e, const char *name, uint64_t v)
{
	nve_pair(e, name, NVE_UINT64, 1, &v, NULL);
}

static inline void
nve_str(struct nve *e, const char *name, const char *s)
{
	nve_pair(e, name, NVE_STRING, 1, NULL, &s);
}

static inline void
nve_bool(struct nve *e, const char *name)
{
	nve_pair(e, name, NVE_BOOLEAN, 0, NULL, NULL);
}

/*
 * A pair holding n nested lists (n == 0: an NVLIST, else an NVLIST_ARRAY
 * of n).  Each nested list then follows as nve_sub(), its pairs, nve_end().
 */
static inline void
nve_list(struct nve *e, const char *name, unsigned n)
{
	int type = n == 0 ? NVE_NVLIST : NVE_NVLIST_ARRAY;
	uint32_t nelem = n == 0 ? 1 : n;
	size_t name_sz = strlen(name) + 1, start = e->len;
	size_t vsz = (size_t)nelem * nve_elsize(type);
	size_t nsize = nve_al8(16 + name_sz) + nve_al8(vsz);
	uint32_t i;

	if (e->enc == NVE_NATIVE) {
		nve_num(e, nsize, 4);
		nve_num(e, name_sz, 2);
		nve_num(e, 0, 2);
		nve_num(e, nelem, 4);
		nve_num(e, (uint64_t)type, 4);
		nve_raw(e, name, name_sz);
		nve_zero(e, nve_al8(16 + name_sz) - 16 - name_sz);
		if (type == NVE_NVLIST_ARRAY)
			nve_zero(e, (size_t)nelem * 8);
		for (i = 0; i < nelem; i++) {
			nve_num(e, 0, 4); /* nvl_version */
			nve_num(e, 1, 4); /* nvl_nvflag */
			nve_zero(e, 16); /* nvl_priv, nvl_flag, nvl_pad */
		}
		return;
	}
	nve_num(e, 0, 4);
	nve_num(e, nsize, 4);
	nve_num(e, name_sz - 1, 4);
	nve_raw(e, name, name_sz - 1);
	nve_pad(e, 4);
	nve_num(e, (uint64_t)type, 4);
	nve_num(e, nelem, 4);
	assert_true(e->nopen < 32);
	e->open_at[e->nopen] = start;
	e->open_left[e->nopen] = nelem;
	e->nopen++;
}

/* Starts one nested list (XDR writes its version and flags). */
static inline void
nve_sub(struct nve *e)
{
	if (e->enc == NVE_XDR) {
		nve_num(e, 0, 4);
		nve_num(e, 1, 4);
	}
}

/* Ends the current list. */
static inline void
nve_end(struct nve *e)
{
	nve_zero(e, e->enc == NVE_XDR ? 8 : 4);
	if (e->enc == NVE_XDR && e->nopen > 0 &&
	    --e->open_left[e->nopen - 1] == 0) {
		size_t start = e->open_at[--e->nopen];
		size_t enc = e->len - start;

		e->buf[start] = (unsigned char)(enc >> 24);
		e->buf[start + 1] = (unsigned char)(enc >> 16);
		e->buf[start + 2] = (unsigned char)(enc >> 8);
		e->buf[start + 3] = (unsigned char)enc;
	}
}

/* fletcher_4_native_varsize(), word 0 only: the sum of the 32-bit words */
static inline uint64_t
nve_fletcher4_a(const unsigned char *p, size_t n)
{
	uint64_t a = 0;
	uint32_t w;
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		memcpy(&w, p + i, 4);
		a += w;
	}
	return a;
}

/* "1-<cksum>-<len>-<hex>" of already compressed bytes; free() it. */
static inline char *
nve_token_raw(const char *version, uint64_t cksum, uint64_t packed_len,
    const unsigned char *comp, size_t clen)
{
	size_t n = clen * 2 + 128, i, o;
	char *t = malloc(n);
	int k;

	assert_non_null(t);
	k = snprintf(t, n, "%s-%" PRIx64 "-%" PRIx64 "-", version, cksum,
	    packed_len);
	assert_true(k > 0 && (size_t)k < n);
	o = (size_t)k;
	for (i = 0; i < clen; i++) {
		snprintf(t + o, n - o, "%02x", comp[i]);
		o += 2;
	}
	return t;
}

/* A token as the kernel makes it: zlib level 6, then the checksum. */
static inline char *
nve_token(const unsigned char *packed, size_t len)
{
	uLongf clen = compressBound(len);
	unsigned char *comp = malloc(clen);
	char *t;

	assert_non_null(comp);
	assert_int_equal(compress2(comp, &clen, packed, len, 6), Z_OK);
	t = nve_token_raw("1", nve_fletcher4_a(comp, clen), len, comp, clen);
	free(comp);
	return t;
}

/* The fields of a token in the order the kernel adds them. */
struct nve_tok {
	uint64_t fromguid, object, offset, bytes, toguid;
	const char *toname;
	bool largeblockok, embedok, compressok, rawok;
};

static inline void
nve_tok_fields(struct nve *e, const struct nve_tok *t)
{
	if (t->fromguid != 0)
		nve_u64(e, "fromguid", t->fromguid);
	nve_u64(e, "object", t->object);
	nve_u64(e, "offset", t->offset);
	nve_u64(e, "bytes", t->bytes);
	nve_u64(e, "toguid", t->toguid);
	nve_str(e, "toname", t->toname);
	if (t->largeblockok)
		nve_bool(e, "largeblockok");
	if (t->embedok)
		nve_bool(e, "embedok");
	if (t->compressok)
		nve_bool(e, "compressok");
	if (t->rawok)
		nve_bool(e, "rawok");
}

#endif
