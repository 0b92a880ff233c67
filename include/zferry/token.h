/*
 * zferry/token.h: OpenZFS resume tokens, decoded and checked.
 *
 * A receiver interrupted by "zfs receive -s" keeps a receive_resume_token
 * property; "zfs send -t TOKEN" on the sending host then sends the rest of
 * the stream.  The token comes from the receiving side and is not trusted:
 * a receiver (or anyone who can set what zferry reads as the token) can
 * forge one that names any snapshot of the sending pool, or asks for a
 * non-raw stream of an encrypted dataset, and zfs send -t obeys it
 * (openzfs/zfs#14153).  zferry therefore decodes every token itself and
 * compares it with what it meant to send before it runs "zfs send -t":
 *
 *   struct zf_resume_token tok;
 *   struct zf_token_expect exp = {
 *       .dataset = "pool/fs", .guids = snap_guids, .nguids = n,
 *       .toguid = planned_guid, .fromguid = base_guid, .raw = raw,
 *   };
 *   if (zf_token_decode(text, &tok, &err) != ZF_OK ||
 *       zf_token_verify(&tok, &exp, &err) != ZF_OK)
 *       ... abort the partial receive instead of resuming it
 *
 * Format (lib/libzfs/libzfs_sendrecv.c, zfs_send_resume_token_to_nvlist()):
 *   1-<checksum>-<packed length>-<payload>
 * all hexadecimal after the version: the payload is a zlib stream holding
 * a packed nvlist of <packed length> bytes, and <checksum> is word 0 of the
 * fletcher-4 checksum of the compressed bytes (in host byte order, as zfs
 * computes it).
 */
#ifndef ZFERRY_TOKEN_H
#define ZFERRY_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zferry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longer token text is refused (real tokens are 200 to 600 characters). */
#define ZF_TOKEN_TEXT_MAX (64 * 1024)
/* A larger packed length is refused before anything is decompressed. */
#define ZF_TOKEN_PACKED_MAX (1024 * 1024)
/* ZFS_MAX_DATASET_NAME_LEN: toname and the NUL fit in this. */
#define ZF_TOKEN_NAME_MAX 256

/*
 * What a token holds.  Names are the nvlist's; a number or flag missing
 * from the token is 0 or false.
 */
struct zf_resume_token {
	unsigned version; /* of the token format: 1 */
	char toname[ZF_TOKEN_NAME_MAX]; /* pool/fs@snap being sent */
	uint64_t toguid; /* guid of that snapshot */
	uint64_t fromguid; /* guid of the incremental source; 0: full */
	uint64_t object, offset; /* where the stream resumes */
	uint64_t bytes; /* bytes the receiver has */
	/* send flags the resumed stream will have: -L, -e, -c, -w */
	bool largeblockok, embedok, compressok, rawok;
	/* "savedok": send the receiver's saved state (zfs send -S) */
	bool savedok;
	/* redacted send: redact_snaps or book_redact_snaps present */
	bool redacted;
	uint32_t nredact_snaps, nbook_redact_snaps;
	unsigned unknown; /* pairs zferry does not know, skipped */
};

/*
 * Decodes text into tok.  It is strict where zfs is lax (zfs reads the
 * header with sscanf): the version is decimal, the checksum and length are
 * 1 to 16 lowercase or uppercase hex digits, the payload an even number of
 * hex digits, with no sign, prefix, space or anything after it.  Then, as
 * zfs does: the checksum must match, the payload must decompress to
 * exactly the packed length, and the nvlist must unpack.  Then the fields:
 * toname (a valid snapshot name), toguid, object, offset and bytes must be
 * there with their types (zfs send -t needs them all), no field zferry
 * reads may appear twice, and other pairs are skipped.
 *
 * A flag counts as set when its name is present, whatever its type: that
 * is how zfs reads them (nvlist_exists()).
 *
 * tok is always written: zeroed, then filled on success.  A pure function
 * of text: no I/O, no state; it allocates (and frees) at most
 * ZF_TOKEN_PACKED_MAX + ZF_TOKEN_TEXT_MAX / 2 bytes and zlib's state.
 *
 * Returns ZF_OK; ZF_E_PROTOCOL (stage ZF_STAGE_TOKEN) for a token that is
 * malformed, with a message that quotes at most a short, escaped prefix of
 * the token and says which check failed, as zfs words it ("invalid
 * format", "invalid version", "incorrect checksum", "decompression
 * failed", "nvlist_unpack failed") or more precisely ("missing toname",
 * "duplicate toguid", ...); ZF_E_NOMEM; ZF_E_INVALID when text or tok is
 * NULL.
 */
enum zf_status zf_token_decode(const char *text, struct zf_resume_token *tok,
    struct zf_error *err);

/*
 * What the sending side expects a token to ask for.
 */
struct zf_token_expect {
	const char *dataset; /* the token's toname must be dataset@snap */
	const uint64_t *guids; /* guids of dataset's snapshots (may be NULL */
	size_t nguids; /* when nguids is 0) */
	uint64_t toguid; /* if not 0, toguid must be this one */
	uint64_t fromguid; /* the incremental source; 0: a full stream */
	bool raw; /* rawok must equal this */
};

/*
 * Checks a decoded token against exp: toname is a snapshot of exp->dataset,
 * toguid is one of exp->guids (and exp->toguid when that is not 0; with no
 * guids, exp->toguid alone decides), fromguid equals exp->fromguid, rawok
 * equals exp->raw, and the token asks for neither a saved-state (savedok)
 * nor a redacted stream, which zferry never sends.
 *
 * Returns ZF_OK; ZF_E_PROTOCOL (stage ZF_STAGE_TOKEN) naming the first
 * check that failed with what was expected and what the token holds;
 * ZF_E_INVALID for a NULL argument, an invalid exp->dataset, or an exp
 * that accepts nothing (no guids and toguid 0).
 */
enum zf_status zf_token_verify(const struct zf_resume_token *tok,
    const struct zf_token_expect *exp, struct zf_error *err);

#ifdef __cplusplus
}
#endif
#endif
