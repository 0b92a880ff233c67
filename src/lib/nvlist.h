/*
 * nvlist.h: a bounded reader of packed nvlists, the serialised form of
 * OpenZFS's name-value lists (module/nvpair/nvpair.c).  It reads a buffer
 * the caller owns, allocates nothing, and never reads outside it: every
 * size, count and string in the input is checked before it is used, so it
 * is safe on hostile input (it is fuzzed).
 *
 * Both encodings that nvlist_unpack() takes are read:
 *   - NV_ENCODE_NATIVE, in the byte order its header names.  The kernel
 *     packs resume tokens this way (fnvlist_pack()), so a token made on
 *     x86 holds a little-endian native nvlist, not XDR.
 *   - NV_ENCODE_XDR (big-endian 4-byte units), as in zpool.cache and the
 *     headers of replication streams.
 *
 * The reader is at least as strict as libnvpair: what nvlist_unpack()
 * refuses is refused here too (bad sizes, unknown types, element counts
 * that do not fit the type, names or strings that are not terminated,
 * boolean values other than 0 and 1, nested lists deeper than
 * ZF_NVL_MAX_DEPTH).  It is stricter where libnvpair is lax and two readers
 * could disagree: the XDR encoded size of each pair must be the one the
 * encoder writes, array counts must match the pair's element count, strings
 * may not hold a NUL, and nothing may follow the end of the list.
 *
 * Only the pairs of the outer list are handed out.  Nested lists and arrays
 * of them are checked and stepped over whole; zferry has no use for them.
 *
 *   struct zf_nvl nvl;
 *   struct zf_nvpair p;
 *   bool more;
 *   if (zf_nvl_open(&nvl, buf, len, err) != ZF_OK) ...
 *   while ((r = zf_nvl_next(&nvl, &p, &more, err)) == ZF_OK && more)
 *       if (zf_nvpair_is(&p, "toguid")) zf_nvpair_uint64(&p, &v, err);
 *
 * Errors are ZF_E_PROTOCOL; the message starts with "nvlist" and says
 * what is wrong and at which byte offset.
 */
#ifndef ZF_NVLIST_H
#define ZF_NVLIST_H

#include "util.h"

/* Nested lists deeper than this are refused (libnvpair: 20 in the kernel,
 * 100 in user space). */
#define ZF_NVL_MAX_DEPTH 8

/* data_type_t of OpenZFS (include/sys/nvpair.h); the values are the ABI. */
enum zf_nvl_type {
	ZF_NVT_BOOLEAN = 1, /* presence only, no value */
	ZF_NVT_BYTE = 2,
	ZF_NVT_INT16 = 3,
	ZF_NVT_UINT16 = 4,
	ZF_NVT_INT32 = 5,
	ZF_NVT_UINT32 = 6,
	ZF_NVT_INT64 = 7,
	ZF_NVT_UINT64 = 8,
	ZF_NVT_STRING = 9,
	ZF_NVT_BYTE_ARRAY = 10,
	ZF_NVT_INT16_ARRAY = 11,
	ZF_NVT_UINT16_ARRAY = 12,
	ZF_NVT_INT32_ARRAY = 13,
	ZF_NVT_UINT32_ARRAY = 14,
	ZF_NVT_INT64_ARRAY = 15,
	ZF_NVT_UINT64_ARRAY = 16,
	ZF_NVT_STRING_ARRAY = 17,
	ZF_NVT_HRTIME = 18,
	ZF_NVT_NVLIST = 19,
	ZF_NVT_NVLIST_ARRAY = 20,
	ZF_NVT_BOOLEAN_VALUE = 21,
	ZF_NVT_INT8 = 22,
	ZF_NVT_UINT8 = 23,
	ZF_NVT_BOOLEAN_ARRAY = 24,
	ZF_NVT_INT8_ARRAY = 25,
	ZF_NVT_UINT8_ARRAY = 26,
	ZF_NVT_DOUBLE = 27,
};

enum zf_nvl_encoding {
	ZF_NVL_NATIVE = 0, /* NV_ENCODE_NATIVE */
	ZF_NVL_XDR = 1, /* NV_ENCODE_XDR */
};

/*
 * A packed nvlist being read.  Filled by zf_nvl_open(); the fields are
 * read-only for the caller.  buf must outlive it and every pair it hands
 * out.
 */
struct zf_nvl {
	const unsigned char *buf;
	size_t len;
	enum zf_nvl_encoding encoding;
	bool big_endian; /* byte order of the numbers in buf */
	uint32_t nvflag; /* NV_UNIQUE_NAME (1), NV_UNIQUE_NAME_TYPE (2) */
	size_t pos; /* where the next pair of the outer list starts */
	unsigned npairs; /* pairs handed out so far */
	bool done; /* the end of the outer list was read */
};

/*
 * One pair of the outer list.  Pointers point into the nvl's buffer; the
 * name and string values are NOT NUL-terminated there (XDR pads them
 * without a NUL): use name_len / zf_nvpair_is() / zf_nvpair_string().
 */
struct zf_nvpair {
	const char *name;
	size_t name_len;
	enum zf_nvl_type type;
	uint32_t nelem; /* 0 for BOOLEAN, 1 for other scalars */
	size_t offset; /* of the pair in the buffer, for messages */
	/* integer scalars, BOOLEAN_VALUE and HRTIME: the value's bits */
	uint64_t num;
	/* STRING: the bytes, without the NUL */
	const char *str;
	size_t str_len;
	/* INT64_ARRAY and UINT64_ARRAY: nelem 8-byte elements */
	const unsigned char *arr;
	bool big_endian;
};

/*
 * Reads the 4-byte header (encoding, byte order) and the outer list's
 * version and flags.  Only version 0 (NV_VERSION) exists.
 */
enum zf_status zf_nvl_open(struct zf_nvl *nvl, const void *buf, size_t len,
    struct zf_error *err);

/*
 * Reads and checks the next pair of the outer list, nested lists included.
 * Sets *more to true and fills *pair, or sets *more to false at the end of
 * the list (after checking that no bytes follow it).  After an error the
 * nvl must not be used further.
 */
enum zf_status zf_nvl_next(struct zf_nvl *nvl, struct zf_nvpair *pair,
    bool *more, struct zf_error *err);

/* True when the pair's name is exactly name. */
bool zf_nvpair_is(const struct zf_nvpair *p, const char *name);

/* The value of a UINT64 pair; another type is an error naming both. */
enum zf_status zf_nvpair_uint64(const struct zf_nvpair *p, uint64_t *v,
    struct zf_error *err);

/*
 * Element i of a UINT64_ARRAY pair (i < p->nelem); another type or an index
 * out of range is an error.
 */
enum zf_status zf_nvpair_uint64_at(const struct zf_nvpair *p, uint32_t i,
    uint64_t *v, struct zf_error *err);

/*
 * Copies the value of a STRING pair into dst (size dstsz) with a NUL.  A
 * value that does not fit, including its NUL, is an error (dst is then
 * ""), as is another type.
 */
enum zf_status zf_nvpair_string(const struct zf_nvpair *p, char *dst,
    size_t dstsz, struct zf_error *err);

/* A static name such as "uint64" or "string array"; "unknown" otherwise. */
const char *zf_nvl_type_str(enum zf_nvl_type type);

#endif
