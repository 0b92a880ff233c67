#include "compat.h"

#include "nvlist.h"

/*
 * Layout (module/nvpair/nvpair.c, include/sys/nvpair.h):
 *
 * Header: 4 bytes (encoding, endian: 1 = little, 2 reserved), then the
 * outer list's nvl_version and nvl_nvflag, 4 bytes each.
 *
 * Native pair: the in-memory nvpair_t, numbers in the header's byte order:
 *   int32 size (whole pair), int16 name_sz (with the NUL), int16 reserved,
 *   int32 nelem, int32 type, the name, then the value at the next multiple
 *   of 8; size == align8(16 + name_sz) + align8(value size).  A size of 0
 *   ends a list.  A nested list's value is its 24-byte nvlist_t and its
 *   pairs follow the pair in the stream (an array of n lists: n pointer
 *   slots and n nvlist_t, then the n lists one after the other).
 *
 * XDR pair, big-endian 4-byte units: int32 encoded size, int32 decoded
 * (native) size, the name as a counted string padded to 4, int32 type,
 * int32 nelem, then the value (none when nelem is 0).  Two zero words end a
 * list; a nested list carries its own version and flags.
 */

#define NVP_HDR 16 /* sizeof (nvpair_t) */
#define NVL_HDR 24 /* sizeof (nvlist_t) */
#define NVP_MIN 24 /* NVP_SIZE_CALC(1, 0) */

static uint64_t
align8(uint64_t x)
{
	return (x + 7) & ~(uint64_t)7;
}

static uint64_t
align4(uint64_t x)
{
	return (x + 3) & ~(uint64_t)3;
}

static uint16_t
rd16(const unsigned char *p, bool be)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t
rd32(const unsigned char *p, bool be)
{
	if (be)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

static uint64_t
rd64(const unsigned char *p, bool be)
{
	uint64_t hi = rd32(p, be), lo = rd32(p + 4, be);

	return be ? hi << 32 | lo : lo << 32 | hi;
}

static int32_t
as_int32(uint32_t v)
{
	return v <= INT32_MAX ? (int32_t)v
	                      : (int32_t)(v - INT32_MAX - 1) + INT32_MIN;
}

static enum zf_status bad(struct zf_error *err, size_t off, const char *fmt,
    ...) ZF_PRINTF(3, 4);

static enum zf_status
bad(struct zf_error *err, size_t off, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return zf_fail(err, ZF_E_PROTOCOL, "nvlist: %s at offset %zu", why,
	    off);
}

const char *
zf_nvl_type_str(enum zf_nvl_type type)
{
	static const char *const names[] = {"unknown", "boolean", "byte",
	    "int16", "uint16", "int32", "uint32", "int64", "uint64", "string",
	    "byte array", "int16 array", "uint16 array", "int32 array",
	    "uint32 array", "int64 array", "uint64 array", "string array",
	    "hrtime", "nvlist", "nvlist array", "boolean value", "int8",
	    "uint8", "boolean array", "int8 array", "uint8 array", "double"};

	if ((unsigned)type >= ZF_ARRAY_SIZE(names))
		return "unknown";
	return names[type];
}

/*
 * Size of one element in the native (decoded) form; 0 for the types whose
 * size is not per element (BOOLEAN, STRING, STRING_ARRAY).
 */
static uint64_t
native_elem_size(enum zf_nvl_type type)
{
	switch (type) {
	case ZF_NVT_BYTE:
	case ZF_NVT_INT8:
	case ZF_NVT_UINT8:
	case ZF_NVT_BYTE_ARRAY:
	case ZF_NVT_INT8_ARRAY:
	case ZF_NVT_UINT8_ARRAY:
		return 1;
	case ZF_NVT_INT16:
	case ZF_NVT_UINT16:
	case ZF_NVT_INT16_ARRAY:
	case ZF_NVT_UINT16_ARRAY:
		return 2;
	case ZF_NVT_BOOLEAN_VALUE: /* boolean_t is an enum */
	case ZF_NVT_INT32:
	case ZF_NVT_UINT32:
	case ZF_NVT_BOOLEAN_ARRAY:
	case ZF_NVT_INT32_ARRAY:
	case ZF_NVT_UINT32_ARRAY:
		return 4;
	case ZF_NVT_INT64:
	case ZF_NVT_UINT64:
	case ZF_NVT_HRTIME:
	case ZF_NVT_DOUBLE:
	case ZF_NVT_INT64_ARRAY:
	case ZF_NVT_UINT64_ARRAY:
		return 8;
	case ZF_NVT_NVLIST:
		return NVL_HDR;
	case ZF_NVT_NVLIST_ARRAY:
		return 8 + NVL_HDR; /* a pointer slot and an nvlist_t */
	default:
		return 0;
	}
}

static bool
is_array(enum zf_nvl_type type)
{
	switch (type) {
	case ZF_NVT_BYTE_ARRAY:
	case ZF_NVT_INT16_ARRAY:
	case ZF_NVT_UINT16_ARRAY:
	case ZF_NVT_INT32_ARRAY:
	case ZF_NVT_UINT32_ARRAY:
	case ZF_NVT_INT64_ARRAY:
	case ZF_NVT_UINT64_ARRAY:
	case ZF_NVT_STRING_ARRAY:
	case ZF_NVT_NVLIST_ARRAY:
	case ZF_NVT_BOOLEAN_ARRAY:
	case ZF_NVT_INT8_ARRAY:
	case ZF_NVT_UINT8_ARRAY:
		return true;
	default:
		return false;
	}
}

/* i_validate_type_nelem(): BOOLEAN has no element, scalars one. */
static enum zf_status
check_type(uint32_t type, uint32_t nelem, size_t off, struct zf_error *err)
{
	if (type < ZF_NVT_BOOLEAN || type > ZF_NVT_DOUBLE)
		return bad(err, off, "unknown data type %" PRIu32, type);
	if (type == ZF_NVT_BOOLEAN) {
		if (nelem != 0)
			return bad(err, off,
			    "boolean with %" PRIu32 " elements", nelem);
	} else if (!is_array((enum zf_nvl_type)type) && nelem != 1) {
		return bad(err, off, "%s with %" PRIu32 " elements",
		    zf_nvl_type_str((enum zf_nvl_type)type), nelem);
	}
	return ZF_OK;
}

static void
set_scalar(struct zf_nvpair *p, const unsigned char *v, bool be)
{
	switch (p->type) {
	case ZF_NVT_BYTE:
	case ZF_NVT_INT8:
	case ZF_NVT_UINT8:
		p->num = v[0];
		break;
	case ZF_NVT_INT16:
	case ZF_NVT_UINT16:
		p->num = rd16(v, be);
		break;
	case ZF_NVT_BOOLEAN_VALUE:
	case ZF_NVT_INT32:
	case ZF_NVT_UINT32:
		p->num = rd32(v, be);
		break;
	case ZF_NVT_INT64:
	case ZF_NVT_UINT64:
	case ZF_NVT_HRTIME:
		p->num = rd64(v, be);
		break;
	default:
		break;
	}
}

/* boolean_t values must be B_FALSE or B_TRUE (i_validate_nvpair_value). */
static enum zf_status
check_booleans(const unsigned char *v, uint32_t n, bool be, size_t off,
    struct zf_error *err)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint32_t b = rd32(v + (size_t)i * 4, be);

		if (b > 1)
			return bad(err, off, "boolean value %" PRIu32, b);
	}
	return ZF_OK;
}

static enum zf_status native_pair(struct zf_nvl *nvl, unsigned depth,
    struct zf_nvpair *p, bool *end, struct zf_error *err);
static enum zf_status xdr_pair(struct zf_nvl *nvl, unsigned depth,
    struct zf_nvpair *p, bool *end, struct zf_error *err);

/* Reads the pairs of a nested list, up to and including its end marker. */
static enum zf_status
nested_list(struct zf_nvl *nvl, unsigned depth, struct zf_error *err)
{
	struct zf_nvpair p;
	enum zf_status r;
	bool end = false;

	if (depth > ZF_NVL_MAX_DEPTH)
		return bad(err, nvl->pos, "lists nested deeper than %d",
		    ZF_NVL_MAX_DEPTH);
	/* each pair moves pos forward by 20 bytes or more: this ends */
	while (!end) {
		r = nvl->encoding == ZF_NVL_XDR
		    ? xdr_pair(nvl, depth, &p, &end, err)
		    : native_pair(nvl, depth, &p, &end, err);
		if (r != ZF_OK)
			return r;
	}
	return ZF_OK;
}

static enum zf_status
native_pair(struct zf_nvl *nvl, unsigned depth, struct zf_nvpair *p, bool *end,
    struct zf_error *err)
{
	const unsigned char *b = nvl->buf + nvl->pos;
	const bool be = nvl->big_endian;
	const size_t start = nvl->pos, avail = nvl->len - nvl->pos;
	size_t size, valoff, vlen, name_sz;
	const unsigned char *val;
	uint32_t type, nelem, i;
	uint64_t value_sz;
	int32_t size32;
	int16_t name16;
	enum zf_status r;

	*end = false;
	if (avail < 4)
		return bad(err, start, "truncated: no room for a pair size");
	size32 = as_int32(rd32(b, be));
	if (size32 == 0) {
		nvl->pos += 4;
		*end = true;
		return ZF_OK;
	}
	if (size32 < 0)
		return bad(err, start, "negative pair size %" PRId32, size32);
	size = (size_t)size32;
	if (size > avail)
		return bad(err, start,
		    "truncated: pair of %zu bytes, %zu bytes left", size,
		    avail);
	if (size < NVP_MIN)
		return bad(err, start, "pair size %zu is below the minimum %d",
		    size, NVP_MIN);
	name16 = (int16_t)rd16(b + 4, be);
	nelem = rd32(b + 8, be);
	type = rd32(b + 12, be);
	if (name16 <= 0)
		return bad(err, start, "name size %d", name16);
	name_sz = (size_t)name16;
	valoff = (size_t)align8(NVP_HDR + name_sz);
	if (valoff > size)
		return bad(err, start, "name of %zu bytes overruns its pair",
		    name_sz);
	if (b[NVP_HDR + name_sz - 1] != '\0')
		return bad(err, start, "name is not NUL-terminated");
	if (memchr(b + NVP_HDR, '\0', name_sz - 1) != NULL)
		return bad(err, start, "name holds a NUL");
	if ((r = check_type(type, nelem, start, err)) != ZF_OK)
		return r;

	memset(p, 0, sizeof(*p));
	p->name = (const char *)b + NVP_HDR;
	p->name_len = name_sz - 1;
	p->type = (enum zf_nvl_type)type;
	p->nelem = nelem;
	p->offset = start;
	p->big_endian = be;
	val = b + valoff;
	vlen = size - valoff;

	switch (p->type) {
	case ZF_NVT_BOOLEAN:
		value_sz = 0;
		break;
	case ZF_NVT_STRING: {
		const unsigned char *nul = memchr(val, '\0', vlen);

		if (nul == NULL)
			return bad(err, start, "string is not NUL-terminated");
		p->str = (const char *)val;
		p->str_len = (size_t)(nul - val);
		value_sz = p->str_len + 1;
		break;
	}
	case ZF_NVT_STRING_ARRAY: {
		/* nelem pointer slots, then the strings one after another */
		size_t o = (size_t)nelem * 8;

		if ((uint64_t)nelem * 8 > vlen)
			return bad(err, start,
			    "string array of %" PRIu32 " overruns its pair",
			    nelem);
		for (i = 0; i < nelem; i++) {
			const unsigned char *nul;

			nul = o < vlen ? memchr(val + o, '\0', vlen - o) : NULL;
			if (nul == NULL)
				return bad(err, start,
				    "string %" PRIu32
				    " of an array is not NUL-terminated",
				    i);
			o = (size_t)(nul - val) + 1;
		}
		value_sz = o;
		break;
	}
	default:
		value_sz = (uint64_t)nelem * native_elem_size(p->type);
		break;
	}
	/* i_validate_nvpair(): the pair is exactly as long as its value */
	if (value_sz > INT32_MAX || align8(value_sz) != vlen)
		return bad(err, start,
		    "%s value of %" PRIu64 " bytes in %zu bytes",
		    zf_nvl_type_str(p->type), value_sz, vlen);

	switch (p->type) {
	case ZF_NVT_BOOLEAN_VALUE:
	case ZF_NVT_BOOLEAN_ARRAY:
		if ((r = check_booleans(val, nelem, be, start, err)) != ZF_OK)
			return r;
		break;
	case ZF_NVT_INT64_ARRAY:
	case ZF_NVT_UINT64_ARRAY:
		p->arr = val;
		break;
	default:
		break;
	}
	if (!is_array(p->type))
		set_scalar(p, val, be);
	nvl->pos += size;

	/* the pairs of nested lists follow this pair */
	if (p->type == ZF_NVT_NVLIST || p->type == ZF_NVT_NVLIST_ARRAY) {
		const unsigned char *hdr = val;

		if (p->type == ZF_NVT_NVLIST_ARRAY)
			hdr += (size_t)nelem * 8;
		for (i = 0; i < nelem; i++)
			if (rd32(hdr + (size_t)i * NVL_HDR, be) != 0)
				return bad(err, start,
				    "nested list of version %" PRIu32,
				    rd32(hdr + (size_t)i * NVL_HDR, be));
		for (i = 0; i < nelem; i++)
			if ((r = nested_list(nvl, depth + 1, err)) != ZF_OK)
				return r;
	}
	return ZF_OK;
}

/* An XDR reading position: pos within nvl's buffer. */
static bool
xdr_room(const struct zf_nvl *nvl, size_t pos, uint64_t n)
{
	return pos <= nvl->len && n <= nvl->len - pos;
}

/*
 * A counted string at *pos: length, bytes, padding to 4.  Refuses a NUL
 * inside (libnvpair would cut the string there and misread the rest).
 */
static enum zf_status
xdr_string(struct zf_nvl *nvl, size_t *pos, const char **s, size_t *slen,
    size_t off, struct zf_error *err)
{
	uint32_t n;

	if (!xdr_room(nvl, *pos, 4))
		return bad(err, off, "truncated: no room for a string length");
	n = rd32(nvl->buf + *pos, true);
	if (!xdr_room(nvl, *pos + 4, align4(n)))
		return bad(err, off,
		    "truncated: string of %" PRIu32
		    " bytes overruns the buffer",
		    n);
	*s = (const char *)nvl->buf + *pos + 4;
	*slen = n;
	if (memchr(*s, '\0', n) != NULL)
		return bad(err, off, "string holds a NUL");
	*pos += 4 + (size_t)align4(n);
	return ZF_OK;
}

/* Arrays that xdr_array() writes with a count word ahead of the elements. */
static bool
xdr_counted(enum zf_nvl_type type)
{
	return is_array(type) && type != ZF_NVT_BYTE_ARRAY &&
	    type != ZF_NVT_STRING_ARRAY && type != ZF_NVT_NVLIST_ARRAY;
}

static enum zf_status
xdr_nested(struct zf_nvl *nvl, unsigned depth, size_t off, struct zf_error *err)
{
	if (!xdr_room(nvl, nvl->pos, 8))
		return bad(err, off, "truncated: no room for a nested list");
	if (rd32(nvl->buf + nvl->pos, true) != 0)
		return bad(err, off, "nested list of version %" PRIu32,
		    rd32(nvl->buf + nvl->pos, true));
	nvl->pos += 8;
	return nested_list(nvl, depth, err);
}

static enum zf_status
xdr_value(struct zf_nvl *nvl, unsigned depth, struct zf_nvpair *p, size_t *pos,
    uint64_t *value_sz, struct zf_error *err)
{
	const size_t off = p->offset;
	const uint32_t n = p->nelem;
	enum zf_status r;
	uint64_t unit;
	uint32_t i;

	*value_sz = (uint64_t)n * native_elem_size(p->type);
	switch (p->type) {
	case ZF_NVT_STRING:
		r = xdr_string(nvl, pos, &p->str, &p->str_len, off, err);
		*value_sz = (uint64_t)p->str_len + 1;
		return r;
	case ZF_NVT_STRING_ARRAY:
		*value_sz = (uint64_t)n * 8;
		for (i = 0; i < n; i++) {
			const char *s;
			size_t slen;

			r = xdr_string(nvl, pos, &s, &slen, off, err);
			if (r != ZF_OK)
				return r;
			*value_sz += (uint64_t)slen + 1;
		}
		return ZF_OK;
	case ZF_NVT_NVLIST:
	case ZF_NVT_NVLIST_ARRAY:
		nvl->pos = *pos;
		for (i = 0; i < n; i++)
			if ((r = xdr_nested(nvl, depth + 1, off, err)) != ZF_OK)
				return r;
		*pos = nvl->pos;
		return ZF_OK;
	case ZF_NVT_BYTE_ARRAY: /* xdr_opaque: the bytes, padded */
		if (!xdr_room(nvl, *pos, align4(n)))
			return bad(err, off, "truncated: byte array");
		*pos += (size_t)align4(n);
		return ZF_OK;
	default:
		break;
	}
	/* numbers: 4 bytes each (chars and shorts too), or 8 for 64 bits */
	unit = native_elem_size(p->type) == 8 ? 8 : 4;
	if (xdr_counted(p->type)) {
		if (!xdr_room(nvl, *pos, 4))
			return bad(err, off, "truncated: array count");
		if (rd32(nvl->buf + *pos, true) != n)
			return bad(err, off,
			    "array count %" PRIu32 " for %" PRIu32 " elements",
			    rd32(nvl->buf + *pos, true), n);
		*pos += 4;
	}
	if (!xdr_room(nvl, *pos, unit * n))
		return bad(err, off, "truncated: %s value",
		    zf_nvl_type_str(p->type));
	if (p->type == ZF_NVT_BOOLEAN_VALUE ||
	    p->type == ZF_NVT_BOOLEAN_ARRAY) {
		r = check_booleans(nvl->buf + *pos, n, true, off, err);
		if (r != ZF_OK)
			return r;
	}
	if (p->type == ZF_NVT_INT64_ARRAY || p->type == ZF_NVT_UINT64_ARRAY)
		p->arr = nvl->buf + *pos;
	else if (!is_array(p->type) && unit == 8)
		set_scalar(p, nvl->buf + *pos, true);
	else if (!is_array(p->type))
		p->num = rd32(nvl->buf + *pos, true); /* the int as sent */
	*pos += (size_t)(unit * n);
	return ZF_OK;
}

static enum zf_status
xdr_pair(struct zf_nvl *nvl, unsigned depth, struct zf_nvpair *p, bool *end,
    struct zf_error *err)
{
	const size_t start = nvl->pos;
	int32_t enc, dec;
	uint64_t value_sz, want, consumed;
	size_t pos = start;
	uint32_t type, nelem;
	enum zf_status r;

	*end = false;
	if (!xdr_room(nvl, pos, 8))
		return bad(err, start, "truncated: no room for pair sizes");
	enc = as_int32(rd32(nvl->buf + pos, true));
	dec = as_int32(rd32(nvl->buf + pos + 4, true));
	if (dec == 0) {
		if (enc != 0)
			return bad(err, start,
			    "end of list with an encoded size of %" PRId32,
			    enc);
		nvl->pos += 8;
		*end = true;
		return ZF_OK;
	}
	if (enc < 0 || dec < 0)
		return bad(err, start, "negative pair size");
	if (dec < NVP_MIN)
		return bad(err, start,
		    "decoded size %" PRId32 " is below the minimum %d", dec,
		    NVP_MIN);
	pos += 8;

	memset(p, 0, sizeof(*p));
	p->offset = start;
	p->big_endian = true;
	if ((r = xdr_string(nvl, &pos, &p->name, &p->name_len, start, err)) !=
	    ZF_OK)
		return r;
	if (!xdr_room(nvl, pos, 8))
		return bad(err, start, "truncated: no room for type and count");
	type = rd32(nvl->buf + pos, true);
	nelem = rd32(nvl->buf + pos + 4, true);
	pos += 8;
	if ((r = check_type(type, nelem, start, err)) != ZF_OK)
		return r;
	p->type = (enum zf_nvl_type)type;
	p->nelem = nelem;

	/* nvs_xdr_nvp_op(): no value at all when nelem is 0 */
	value_sz = 0;
	if (nelem != 0 &&
	    (r = xdr_value(nvl, depth, p, &pos, &value_sz, err)) != ZF_OK)
		return r;

	/* the decoded size is the native pair's: i_validate_nvpair() */
	want = align8(NVP_HDR + (uint64_t)p->name_len + 1) + align8(value_sz);
	if (value_sz > INT32_MAX || want != (uint64_t)dec)
		return bad(err, start,
		    "decoded size %" PRId32 ", the pair needs %" PRIu64, dec,
		    want);
	/*
	 * The encoded size is what nvs_xdr_nvp_size() computes, which counts
	 * an array's count word even when nelem is 0 and the word is not
	 * written.
	 */
	consumed = pos - start;
	if ((uint64_t)enc != consumed &&
	    !(nelem == 0 && xdr_counted(p->type) &&
	        (uint64_t)enc == consumed + 4))
		return bad(err, start,
		    "encoded size %" PRId32 ", the pair has %" PRIu64, enc,
		    consumed);
	nvl->pos = pos;
	return ZF_OK;
}

enum zf_status
zf_nvl_open(struct zf_nvl *nvl, const void *buf, size_t len,
    struct zf_error *err)
{
	const unsigned char *b = buf;
	uint32_t version;

	memset(nvl, 0, sizeof(*nvl));
	if (buf == NULL || len < 12)
		return bad(err, 0, "truncated: %zu bytes, the header needs 12",
		    buf == NULL ? 0 : len);
	if (b[0] != ZF_NVL_NATIVE && b[0] != ZF_NVL_XDR)
		return bad(err, 0, "unknown encoding %u", b[0]);
	if (b[1] > 1)
		return bad(err, 1, "unknown byte order %u", b[1]);
	nvl->buf = b;
	nvl->len = len;
	nvl->encoding = (enum zf_nvl_encoding)b[0];
	nvl->big_endian = b[0] == ZF_NVL_XDR || b[1] == 0;
	version = rd32(b + 4, nvl->big_endian);
	if (version != 0)
		return bad(err, 4, "version %" PRIu32 ", only 0 exists",
		    version);
	nvl->nvflag = rd32(b + 8, nvl->big_endian);
	nvl->pos = 12;
	return ZF_OK;
}

enum zf_status
zf_nvl_next(struct zf_nvl *nvl, struct zf_nvpair *pair, bool *more,
    struct zf_error *err)
{
	enum zf_status r;
	bool end;

	*more = false;
	if (nvl->buf == NULL)
		return zf_fail(err, ZF_E_INVALID, "nvlist: not opened");
	if (nvl->done)
		return ZF_OK;
	if (nvl->encoding == ZF_NVL_XDR)
		r = xdr_pair(nvl, 0, pair, &end, err);
	else
		r = native_pair(nvl, 0, pair, &end, err);
	if (r != ZF_OK) {
		nvl->done = true;
		return r;
	}
	if (end) {
		nvl->done = true;
		if (nvl->pos != nvl->len)
			return bad(err, nvl->pos,
			    "%zu bytes after the end of the list",
			    nvl->len - nvl->pos);
		return ZF_OK;
	}
	nvl->npairs++;
	*more = true;
	return ZF_OK;
}

bool
zf_nvpair_is(const struct zf_nvpair *p, const char *name)
{
	size_t n = strlen(name);

	return p->name_len == n && memcmp(p->name, name, n) == 0;
}

static enum zf_status
wrong_type(const struct zf_nvpair *p, enum zf_nvl_type want,
    struct zf_error *err)
{
	return zf_fail(err, ZF_E_PROTOCOL, "nvlist: '%.*s' has type %s, not %s",
	    (int)(p->name_len > 64 ? 64 : p->name_len), p->name,
	    zf_nvl_type_str(p->type), zf_nvl_type_str(want));
}

enum zf_status
zf_nvpair_uint64(const struct zf_nvpair *p, uint64_t *v, struct zf_error *err)
{
	if (p->type != ZF_NVT_UINT64)
		return wrong_type(p, ZF_NVT_UINT64, err);
	*v = p->num;
	return ZF_OK;
}

enum zf_status
zf_nvpair_uint64_at(const struct zf_nvpair *p, uint32_t i, uint64_t *v,
    struct zf_error *err)
{
	if (p->type != ZF_NVT_UINT64_ARRAY)
		return wrong_type(p, ZF_NVT_UINT64_ARRAY, err);
	if (i >= p->nelem || p->arr == NULL)
		return zf_fail(err, ZF_E_INVALID,
		    "nvlist: index %" PRIu32 " of %" PRIu32 " elements", i,
		    p->nelem);
	*v = rd64(p->arr + (size_t)i * 8, p->big_endian);
	return ZF_OK;
}

enum zf_status
zf_nvpair_string(const struct zf_nvpair *p, char *dst, size_t dstsz,
    struct zf_error *err)
{
	if (dstsz > 0)
		dst[0] = '\0';
	if (p->type != ZF_NVT_STRING)
		return wrong_type(p, ZF_NVT_STRING, err);
	if (p->str_len >= dstsz)
		return zf_fail(err, ZF_E_PROTOCOL,
		    "nvlist: '%.*s' is a string of %zu bytes, the limit is %zu",
		    (int)(p->name_len > 64 ? 64 : p->name_len), p->name,
		    p->str_len, dstsz == 0 ? 0 : dstsz - 1);
	memcpy(dst, p->str, p->str_len);
	dst[p->str_len] = '\0';
	return ZF_OK;
}
