#include "compat.h"

#define ZLIB_CONST
#include <zlib.h>

#include "zferry/token.h"
#include "nvlist.h"
#include "validate.h"

/* Messages quote at most this many bytes of a token (then "..."). */
#define TOKEN_QUOTE 20
/* deflate cannot expand data by more than 1032:1 (zlib's FAQ). */
#define DEFLATE_MAX_RATIO 1032

/*
 * Fletcher-4 over the 32-bit words of buf in host byte order, the trailing
 * n % 4 bytes ignored: fletcher_4_native_varsize() of zfs_fletcher.c, with
 * which the kernel checksums a token's compressed payload.  zfs compares
 * only word 0 (the plain sum of the words) with the token's checksum field.
 */
ZF_UNITTEST void zf_fletcher4(const void *buf, size_t n, uint64_t out[4]);

ZF_UNITTEST void
zf_fletcher4(const void *buf, size_t n, uint64_t out[4])
{
	const unsigned char *p = buf;
	uint64_t a = 0, b = 0, c = 0, d = 0;
	uint32_t w;
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		memcpy(&w, p + i, sizeof(w));
		a += w;
		b += a;
		c += b;
		d += c;
	}
	out[0] = a;
	out[1] = b;
	out[2] = c;
	out[3] = d;
}

/* The first bytes of the token for messages (zf_fail escapes them). */
static void
quote(char *dst, size_t n, const char *text)
{
	size_t len = strnlen(text, TOKEN_QUOTE + 1);

	if (len > TOKEN_QUOTE)
		snprintf(dst, n, "%.*s...", TOKEN_QUOTE, text);
	else
		snprintf(dst, n, "%s", text);
}

static enum zf_status corrupt(struct zf_error *err, const char *text,
    const char *fmt, ...) ZF_PRINTF(3, 4);

static enum zf_status
corrupt(struct zf_error *err, const char *text, const char *fmt, ...)
{
	char q[TOKEN_QUOTE + 8];
	char why[ZF_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	quote(q, sizeof(q), text);
	zf_fail(err, ZF_E_PROTOCOL, "resume token '%s' is corrupt (%s)", q,
	    why);
	zf_error_set_stage(err, ZF_STAGE_TOKEN);
	return ZF_E_PROTOCOL;
}

/*
 * corrupt() with the message of a failed check underneath (sub), which is
 * escaped already and so is not escaped again.
 */
static enum zf_status
corrupt_sub(struct zf_error *err, const char *text, const char *what,
    const struct zf_error *sub)
{
	char q[TOKEN_QUOTE + 8];
	char qe[4 * sizeof(q)];
	int n;

	if (sub->code == ZF_E_NOMEM) {
		zf_fail_errno(err, ENOMEM, "resume token");
		zf_error_set_stage(err, ZF_STAGE_TOKEN);
		return ZF_E_NOMEM;
	}
	if (err == NULL || err->code != ZF_OK)
		return ZF_E_PROTOCOL;
	quote(q, sizeof(q), text);
	zf_escape(qe, sizeof(qe), q, strlen(q));
	zf_error_clear(err);
	err->code = ZF_E_PROTOCOL;
	err->stage = ZF_STAGE_TOKEN;
	n = snprintf(err->msg, sizeof(err->msg),
	    "resume token '%s' is corrupt (%s%s%s)", qe, what,
	    what[0] != '\0' ? ": " : "", sub->msg);
	/* a cut message still names its subject first; mark the cut */
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
	return ZF_E_PROTOCOL;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A header field at *p: 1 to 16 hex digits (or 1 to 9 decimal digits)
 * followed by '-'.  Returns false when it is not one.
 */
static bool
field(const char **p, bool decimal, uint64_t *v)
{
	const char *s = *p;
	size_t n = 0;
	int x;

	*v = 0;
	for (; *s != '-'; s++, n++) {
		x = decimal ? (*s >= '0' && *s <= '9' ? *s - '0' : -1)
		            : hexval(*s);
		if (x < 0 || n == (decimal ? 9 : 16))
			return false;
		*v = *v * (decimal ? 10 : 16) + (uint64_t)x;
	}
	if (n == 0)
		return false;
	*p = s + 1;
	return true;
}

struct header {
	uint64_t version, checksum, packed_len;
	const char *hex; /* the payload */
	size_t hexlen;
};

static enum zf_status
parse_header(const char *text, struct header *h, struct zf_error *err)
{
	const char *p = text;
	size_t len, i;

	len = strnlen(text, ZF_TOKEN_TEXT_MAX + 1);
	if (len == 0)
		return corrupt(err, text, "invalid format: empty");
	if (strcmp(text, "-") == 0)
		return corrupt(err, text,
		    "invalid format: '-' is what zfs shows when there is no token");
	if (len > ZF_TOKEN_TEXT_MAX)
		return corrupt(err, text,
		    "invalid format: longer than %d characters",
		    ZF_TOKEN_TEXT_MAX);
	if (!field(&p, true, &h->version))
		return corrupt(err, text,
		    "invalid format: no decimal version before the first '-'");
	if (!field(&p, false, &h->checksum))
		return corrupt(err, text,
		    "invalid format: the checksum is not 1 to 16 hex digits");
	if (!field(&p, false, &h->packed_len))
		return corrupt(err, text,
		    "invalid format: the length is not 1 to 16 hex digits");
	if (h->version != 1)
		return corrupt(err, text, "invalid version %" PRIu64,
		    h->version);
	h->hex = p;
	h->hexlen = len - (size_t)(p - text);
	if (h->hexlen == 0)
		return corrupt(err, text,
		    "payload is not hex-encoded: it is empty");
	for (i = 0; i < h->hexlen; i++)
		if (hexval(p[i]) < 0)
			return corrupt(err, text,
			    "payload is not hex-encoded: '%c' at character %zu",
			    p[i], (size_t)(p - text) + i);
	if (h->hexlen % 2 != 0)
		return corrupt(err, text,
		    "payload is not hex-encoded: odd number of digits (%zu)",
		    h->hexlen);
	if (h->packed_len == 0 || h->packed_len > ZF_TOKEN_PACKED_MAX)
		return corrupt(err, text,
		    "invalid packed length %" PRIu64 ", the limit is %d",
		    h->packed_len, ZF_TOKEN_PACKED_MAX);
	/* a zip bomb's claim, refused before anything is allocated for it */
	if (h->packed_len > (uint64_t)(h->hexlen / 2) * DEFLATE_MAX_RATIO)
		return corrupt(err, text,
		    "decompression failed: %zu compressed bytes cannot hold %" PRIu64,
		    h->hexlen / 2, h->packed_len);
	return ZF_OK;
}

static enum zf_status
inflate_exact(const char *text, const unsigned char *in, size_t inlen,
    unsigned char *out, size_t outlen, struct zf_error *err)
{
	z_stream zs;
	int zr;
	bool trailing;
	uLong got;

	memset(&zs, 0, sizeof(zs));
	zr = inflateInit(&zs);
	if (zr == Z_MEM_ERROR)
		return zf_fail_errno(err, ENOMEM, "resume token: zlib");
	if (zr != Z_OK)
		return corrupt(err, text, "decompression failed: zlib error %d",
		    zr);
	zs.next_in = in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = out;
	zs.avail_out = (uInt)outlen;
	zr = inflate(&zs, Z_FINISH);
	got = zs.total_out;
	trailing = zs.avail_in != 0;
	inflateEnd(&zs);

	if (zr == Z_MEM_ERROR)
		return zf_fail_errno(err, ENOMEM, "resume token: zlib");
	if (zr == Z_STREAM_END && got != outlen)
		return corrupt(err, text,
		    "decompression failed: %lu bytes, the token says %zu",
		    (unsigned long)got, outlen);
	if (zr == Z_STREAM_END && trailing)
		return corrupt(err, text,
		    "decompression failed: bytes after the zlib stream");
	if (zr == Z_STREAM_END)
		return ZF_OK;
	if (zr == Z_BUF_ERROR && zs.avail_out == 0)
		return corrupt(err, text,
		    "decompression failed: more than the %zu bytes the token says",
		    outlen);
	if (zr == Z_BUF_ERROR)
		return corrupt(err, text,
		    "decompression failed: the zlib stream is truncated");
	return corrupt(err, text, "decompression failed: zlib error %d", zr);
}

/* Fields of the token, as bits of the set already seen. */
enum {
	F_TONAME = 1 << 0,
	F_TOGUID = 1 << 1,
	F_FROMGUID = 1 << 2,
	F_OBJECT = 1 << 3,
	F_OFFSET = 1 << 4,
	F_BYTES = 1 << 5,
	F_LARGEBLOCK = 1 << 6,
	F_EMBED = 1 << 7,
	F_COMPRESS = 1 << 8,
	F_RAW = 1 << 9,
	F_SAVED = 1 << 10,
	F_REDACT = 1 << 11,
	F_BOOK_REDACT = 1 << 12,
	F_REQUIRED = F_TONAME | F_TOGUID | F_OBJECT | F_OFFSET | F_BYTES,
};

static const struct {
	const char *name;
	unsigned bit;
} fields[] = {
    {"toname", F_TONAME},
    {"toguid", F_TOGUID},
    {"fromguid", F_FROMGUID},
    {"object", F_OBJECT},
    {"offset", F_OFFSET},
    {"bytes", F_BYTES},
    {"largeblockok", F_LARGEBLOCK},
    {"embedok", F_EMBED},
    {"compressok", F_COMPRESS},
    {"rawok", F_RAW},
    {"savedok", F_SAVED},
    {"redact_snaps", F_REDACT},
    {"book_redact_snaps", F_BOOK_REDACT},
};

static enum zf_status
take_field(const char *text, struct zf_resume_token *tok,
    const struct zf_nvpair *p, unsigned bit, struct zf_error *err)
{
	struct zf_error sub;
	uint64_t *u64 = NULL;

	zf_error_clear(&sub);
	switch (bit) {
	case F_TONAME:
		if (zf_nvpair_string(p, tok->toname, sizeof(tok->toname),
		        &sub) != ZF_OK)
			return corrupt(err, text, "%s", sub.msg);
		if (zf_check_name("toname", tok->toname, ZF_NAME_SNAPSHOT, NULL,
		        &sub) != ZF_OK)
			return corrupt(err, text, "%s", sub.msg);
		return ZF_OK;
	case F_TOGUID:
		u64 = &tok->toguid;
		break;
	case F_FROMGUID:
		u64 = &tok->fromguid;
		break;
	case F_OBJECT:
		u64 = &tok->object;
		break;
	case F_OFFSET:
		u64 = &tok->offset;
		break;
	case F_BYTES:
		u64 = &tok->bytes;
		break;
	/* zfs tests these with nvlist_exists(): any type counts */
	case F_LARGEBLOCK:
		tok->largeblockok = true;
		return ZF_OK;
	case F_EMBED:
		tok->embedok = true;
		return ZF_OK;
	case F_COMPRESS:
		tok->compressok = true;
		return ZF_OK;
	case F_RAW:
		tok->rawok = true;
		return ZF_OK;
	case F_SAVED:
		tok->savedok = true;
		return ZF_OK;
	case F_REDACT:
	case F_BOOK_REDACT:
		if (p->type != ZF_NVT_UINT64_ARRAY)
			return corrupt(err, text, "%s has type %s, not %s",
			    bit == F_REDACT ? "redact_snaps"
			                    : "book_redact_snaps",
			    zf_nvl_type_str(p->type),
			    zf_nvl_type_str(ZF_NVT_UINT64_ARRAY));
		tok->redacted = true;
		if (bit == F_REDACT)
			tok->nredact_snaps = p->nelem;
		else
			tok->nbook_redact_snaps = p->nelem;
		return ZF_OK;
	default:
		return ZF_OK;
	}
	if (zf_nvpair_uint64(p, u64, &sub) != ZF_OK)
		return corrupt_sub(err, text, "", &sub);
	return ZF_OK;
}

static enum zf_status
read_fields(const char *text, const unsigned char *packed, size_t len,
    struct zf_resume_token *tok, struct zf_error *err)
{
	struct zf_error sub;
	struct zf_nvl nvl;
	struct zf_nvpair p;
	enum zf_status r;
	unsigned seen = 0;
	bool more;
	size_t i;

	zf_error_clear(&sub);
	r = zf_nvl_open(&nvl, packed, len, &sub);
	while (r == ZF_OK &&
	    (r = zf_nvl_next(&nvl, &p, &more, &sub)) == ZF_OK && more) {
		for (i = 0; i < ZF_ARRAY_SIZE(fields); i++)
			if (zf_nvpair_is(&p, fields[i].name))
				break;
		if (i == ZF_ARRAY_SIZE(fields)) {
			tok->unknown++;
			continue;
		}
		/* two readers could take different ones: take none */
		if (seen & fields[i].bit)
			return corrupt(err, text, "duplicate %s",
			    fields[i].name);
		seen |= fields[i].bit;
		if ((r = take_field(text, tok, &p, fields[i].bit, err)) !=
		    ZF_OK)
			return r;
	}
	if (r != ZF_OK)
		return corrupt_sub(err, text, "nvlist_unpack failed", &sub);
	for (i = 0; i < ZF_ARRAY_SIZE(fields); i++)
		if ((fields[i].bit & F_REQUIRED) && !(seen & fields[i].bit))
			return corrupt(err, text, "missing %s", fields[i].name);
	if (tok->toguid == 0)
		return corrupt(err, text, "toguid is 0");
	return ZF_OK;
}

enum zf_status
zf_token_decode(const char *text, struct zf_resume_token *tok,
    struct zf_error *err)
{
	unsigned char *comp = NULL, *packed = NULL;
	struct header h;
	uint64_t ck[4];
	enum zf_status r;
	size_t i, clen;

	if (tok != NULL)
		memset(tok, 0, sizeof(*tok));
	if (text == NULL || tok == NULL)
		return zf_fail_input(err, "resume token: no %s",
		    text == NULL ? "token" : "place for the result");
	if ((r = parse_header(text, &h, err)) != ZF_OK)
		return r;

	clen = h.hexlen / 2;
	comp = malloc(clen);
	packed = malloc((size_t)h.packed_len);
	if (comp == NULL || packed == NULL) {
		r = zf_fail_errno(err, ENOMEM, "resume token: %zu bytes",
		    clen + (size_t)h.packed_len);
		zf_error_set_stage(err, ZF_STAGE_TOKEN);
		goto out;
	}
	for (i = 0; i < clen; i++)
		comp[i] = (unsigned char)(hexval(h.hex[2 * i]) << 4 |
		    hexval(h.hex[2 * i + 1]));

	zf_fletcher4(comp, clen, ck);
	if (ck[0] != h.checksum) {
		r = corrupt(err, text,
		    "incorrect checksum: the payload sums to %" PRIx64
		    ", the token says %" PRIx64,
		    ck[0], h.checksum);
		goto out;
	}
	r = inflate_exact(text, comp, clen, packed, (size_t)h.packed_len, err);
	if (r != ZF_OK) {
		zf_error_set_stage(err, ZF_STAGE_TOKEN);
		goto out;
	}
	r = read_fields(text, packed, (size_t)h.packed_len, tok, err);
	if (r == ZF_OK)
		tok->version = (unsigned)h.version;
out:
	if (r != ZF_OK)
		memset(tok, 0, sizeof(*tok));
	free(comp);
	free(packed);
	return r;
}

static enum zf_status refuse(struct zf_error *err, const char *fmt, ...)
    ZF_PRINTF(2, 3);

static enum zf_status
refuse(struct zf_error *err, const char *fmt, ...)
{
	char why[ZF_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	zf_fail(err, ZF_E_PROTOCOL, "resume token refused: %s", why);
	zf_error_set_stage(err, ZF_STAGE_TOKEN);
	return ZF_E_PROTOCOL;
}

enum zf_status
zf_token_verify(const struct zf_resume_token *tok,
    const struct zf_token_expect *exp, struct zf_error *err)
{
	const char *at;
	size_t dslen, i;
	bool found;

	if (tok == NULL || exp == NULL || exp->dataset == NULL)
		return zf_fail_input(err, "resume token: nothing to verify");
	if (zf_check_name("expected dataset", exp->dataset, ZF_NAME_FS, NULL,
	        err) != ZF_OK)
		return ZF_E_INVALID;
	if (exp->nguids == 0 && exp->toguid == 0)
		return zf_fail_input(err,
		    "resume token: no snapshot guid to accept for '%s'",
		    exp->dataset);
	if (exp->nguids != 0 && exp->guids == NULL)
		return zf_fail_input(err, "resume token: no guid list");
	if (memchr(tok->toname, '\0', sizeof(tok->toname)) == NULL ||
	    (at = strchr(tok->toname, '@')) == NULL)
		return refuse(err, "toname '%.*s' is not a snapshot name",
		    (int)strnlen(tok->toname, sizeof(tok->toname)),
		    tok->toname);

	dslen = (size_t)(at - tok->toname);
	if (dslen != strlen(exp->dataset) ||
	    memcmp(tok->toname, exp->dataset, dslen) != 0)
		return refuse(err,
		    "it names '%s', a snapshot of '%.*s', expected a snapshot of '%s'",
		    tok->toname, (int)dslen, tok->toname, exp->dataset);

	found = exp->nguids == 0;
	for (i = 0; i < exp->nguids && !found; i++)
		found = exp->guids[i] == tok->toguid;
	if (!found)
		return refuse(err,
		    "it asks for snapshot guid %" PRIu64
		    " ('%s'), which is not a snapshot of '%s'",
		    tok->toguid, tok->toname, exp->dataset);
	if (exp->toguid != 0 && tok->toguid != exp->toguid)
		return refuse(err,
		    "it asks for snapshot guid %" PRIu64
		    " ('%s'), expected guid %" PRIu64,
		    tok->toguid, tok->toname, exp->toguid);

	if (tok->fromguid != exp->fromguid) {
		if (exp->fromguid == 0)
			return refuse(err,
			    "it asks for an incremental stream from guid %" PRIu64
			    ", expected a full stream",
			    tok->fromguid);
		if (tok->fromguid == 0)
			return refuse(err,
			    "it asks for a full stream, expected an incremental from guid %" PRIu64,
			    exp->fromguid);
		return refuse(err,
		    "it asks for an incremental stream from guid %" PRIu64
		    ", expected one from guid %" PRIu64,
		    tok->fromguid, exp->fromguid);
	}
	if (tok->rawok != exp->raw)
		return refuse(err, "%s",
		    tok->rawok
		        ? "it asks for a raw stream (rawok), expected a non-raw one"
		        : "it asks for a non-raw stream, expected a raw one (rawok)");
	if (tok->savedok)
		return refuse(err,
		    "it asks for the receiver's saved state (savedok), which zferry never sends");
	if (tok->redacted)
		return refuse(err,
		    "it asks for a redacted stream (redact_snaps %" PRIu32
		    ", book_redact_snaps %" PRIu32
		    "), which zferry never sends",
		    tok->nredact_snaps, tok->nbook_redact_snaps);
	return ZF_OK;
}
