/*
 * token_check.h: the checks fuzz_token and fuzz_token_nvlist make of
 * zf_token_decode() and of zf_token_verify() on what decodes.
 */
#ifndef ZF_FUZZ_TOKEN_CHECK_H
#define ZF_FUZZ_TOKEN_CHECK_H

#include "fuzz.h"

#include "zferry/token.h"
#include "validate.h"

static inline bool
fz_token_zero(const struct zf_resume_token *t)
{
	static const struct zf_resume_token zero;

	return memcmp(t, &zero, sizeof(zero)) == 0;
}

/* verify with exp; must accept exactly when want_ok */
static inline void
fz_verify(const struct zf_resume_token *tok, const struct zf_token_expect *exp,
    bool want_ok, const char *what)
{
	struct zf_error err;
	enum zf_status r;

	zf_error_clear(&err);
	r = zf_token_verify(tok, exp, &err);
	FZ_CHECK((r == ZF_OK) == want_ok, "%s: verify %d for '%s'", what,
	    (int)r, tok->toname);
	if (r != ZF_OK) {
		fz_check_error(&err, ZF_E_PROTOCOL);
		FZ_CHECK(err.stage == ZF_STAGE_TOKEN, "stage %d", err.stage);
	}
}

/*
 * Decodes text and checks the result: on failure a zeroed token and a
 * clean message; on success a token whose toname is a valid snapshot name
 * and which zf_token_verify() accepts for exactly what it names, and
 * refuses for any other dataset, snapshot guid, base or raw flag.
 */
static inline void
fz_check_token(const char *text)
{
	struct zf_resume_token tok;
	struct zf_token_expect exp;
	struct zf_error err;
	char ds[ZF_TOKEN_NAME_MAX + 2];
	uint64_t guids[2];
	enum zf_status r;
	const char *p, *at;
	size_t n;
	bool plain;

	memset(&tok, 0xa5, sizeof(tok));
	zf_error_clear(&err);
	r = zf_token_decode(text, &tok, &err);
	if (r != ZF_OK) {
		FZ_CHECK(r == ZF_E_PROTOCOL || r == ZF_E_NOMEM, "status %d",
		    (int)r);
		fz_check_error(&err, r);
		FZ_CHECK(err.stage == ZF_STAGE_TOKEN, "stage %d", err.stage);
		FZ_CHECK(fz_token_zero(&tok), "a failed decode left data");
		return;
	}
	/* zferry hands the text to "zfs send -t": nothing but the format */
	for (p = text; *p != '\0'; p++)
		FZ_CHECK(fz_hexval((char)(*p | 0x20)) >= 0 || *p == '-',
		    "accepted token holds 0x%02x", (unsigned char)*p);
	FZ_CHECK(strlen(text) <= ZF_TOKEN_TEXT_MAX, "long token accepted");
	FZ_CHECK(tok.version == 1, "version %u", tok.version);
	FZ_CHECK(memchr(tok.toname, '\0', sizeof(tok.toname)) != NULL,
	    "toname not terminated");
	FZ_CHECK(zf_check_name("toname", tok.toname, ZF_NAME_SNAPSHOT, NULL,
	             NULL) == ZF_OK,
	    "toname '%s'", tok.toname);
	FZ_CHECK(tok.toguid != 0, "toguid 0 accepted");
	FZ_CHECK(tok.redacted ||
	        (tok.nredact_snaps == 0 && tok.nbook_redact_snaps == 0),
	    "redaction counts without redacted");

	at = strchr(tok.toname, '@');
	memcpy(ds, tok.toname, (size_t)(at - tok.toname));
	ds[at - tok.toname] = '\0';
	plain = !tok.savedok && !tok.redacted;
	memset(&exp, 0, sizeof(exp));
	guids[0] = tok.toguid;
	/* another guid, never 0 (0 would mean "no expectation") */
	guids[1] = tok.toguid + 1 != 0 ? tok.toguid + 1 : 1;
	exp.dataset = ds;
	exp.guids = guids;
	exp.nguids = 1;
	exp.fromguid = tok.fromguid;
	exp.raw = tok.rawok;
	fz_verify(&tok, &exp, plain, "as it is");
	exp.toguid = tok.toguid;
	fz_verify(&tok, &exp, plain, "with toguid");
	exp.nguids = 0;
	fz_verify(&tok, &exp, plain, "toguid alone");
	exp.toguid = guids[1];
	fz_verify(&tok, &exp, false, "another toguid");
	exp.toguid = 0;
	exp.nguids = 1;
	exp.guids = guids + 1;
	fz_verify(&tok, &exp, false, "another snapshot");
	exp.guids = guids;
	exp.fromguid = tok.fromguid ^ 1;
	fz_verify(&tok, &exp, false, "another base");
	exp.fromguid = tok.fromguid;
	exp.raw = !tok.rawok;
	fz_verify(&tok, &exp, false, "another raw flag");
	exp.raw = tok.rawok;
	/* another dataset: a child, and the parent */
	n = strlen(ds);
	memcpy(ds + n, "/x", 3);
	if (zf_check_name("c", ds, ZF_NAME_FS, NULL, NULL) == ZF_OK)
		fz_verify(&tok, &exp, false, "a child dataset");
	ds[n] = '\0';
	if (strchr(ds, '/') != NULL) {
		*strrchr(ds, '/') = '\0';
		fz_verify(&tok, &exp, false, "the parent dataset");
	}
}

#endif
