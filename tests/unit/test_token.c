/*
 * test_token.c: zf_token_decode() on real OpenZFS tokens (every *.token in
 * $ZF_TEST_DATA/tokens, compared with its .meta and, when there is one,
 * its `zstream token` output in .expect), on tokens the test makes itself
 * (nvenc.h), and on forged, damaged and hostile ones; zf_token_verify()
 * and every reason it refuses a token.
 */
#include "compat.h"

#include <dirent.h>
#include <setjmp.h>
#include <cmocka.h>

#include "zferry/token.h"
#include "nvenc.h"

void zf_fletcher4(const void *buf, size_t n, uint64_t out[4]);

/* Decodes text, expecting a failure whose message holds part. */
static void
assert_corrupt(const char *text, const char *part)
{
	struct zf_resume_token tok;
	struct zf_error err;

	zf_error_clear(&err);
	memset(&tok, 0x55, sizeof(tok));
	if (zf_token_decode(text, &tok, &err) != ZF_E_PROTOCOL)
		fail_msg("decoded, or not as malformed: '%.60s': %s", text,
		    err.msg);
	assert_int_equal(err.code, ZF_E_PROTOCOL);
	assert_int_equal(err.stage, ZF_STAGE_TOKEN);
	assert_int_equal(tok.toguid, 0); /* zeroed on failure */
	assert_string_equal(tok.toname, "");
	if (part != NULL && strstr(err.msg, part) == NULL)
		fail_msg("'%s' does not say '%s'", err.msg, part);
}

static void
decode_ok(const char *text, struct zf_resume_token *tok)
{
	struct zf_error err;

	zf_error_clear(&err);
	if (zf_token_decode(text, tok, &err) != ZF_OK)
		fail_msg("%s", err.msg);
}

/* A token of the usual fields in the given nvlist encoding. */
static char *
make_token(const struct nve_tok *t, int enc, bool be)
{
	struct nve e;
	char *tok;

	nve_init(&e, enc, be);
	nve_tok_fields(&e, t);
	nve_end(&e);
	tok = nve_token(e.buf, e.len);
	nve_free(&e);
	return tok;
}

static const struct nve_tok base = {
    .fromguid = 0x1111,
    .object = 5,
    .offset = 0x40000,
    .bytes = 123456,
    .toguid = 0xfeedfacecafebeef,
    .toname = "tank/src/my data@snap 1",
};

static void
test_fletcher4(void **state)
{
	uint32_t w[3] = {1, 2, 0xffffffff};
	unsigned char buf[14];
	uint64_t ck[4];

	(void)state;
	memcpy(buf, w, sizeof(w));
	buf[12] = 0xaa; /* a partial word: not summed, as in zfs */
	buf[13] = 0xbb;
	zf_fletcher4(buf, sizeof(buf), ck);
	/* a = 1, 3, 3 + 0xffffffff; b, c, d the running sums */
	assert_true(ck[0] == 0x100000002);
	assert_true(ck[1] == 1 + 3 + 0x100000002);
	assert_true(ck[2] == 1 + (1 + 3) + (1 + 3 + 0x100000002));
	assert_true(
	    ck[3] == 1 + (1 + 1 + 3) + (1 + 1 + 3 + 1 + 3 + 0x100000002));
	zf_fletcher4(buf, 3, ck);
	assert_true(ck[0] == 0 && ck[3] == 0);
}

static void
test_round_trip_every_encoding(void **state)
{
	static const struct {
		int enc;
		bool be;
	} encs[] = {{NVE_NATIVE, false}, {NVE_NATIVE, true}, {NVE_XDR, false}};
	struct zf_resume_token tok;
	struct nve_tok t = base;
	size_t k;

	(void)state;
	t.largeblockok = t.compressok = true;
	for (k = 0; k < ZF_ARRAY_SIZE(encs); k++) {
		char *text = make_token(&t, encs[k].enc, encs[k].be);

		decode_ok(text, &tok);
		assert_int_equal(tok.version, 1);
		assert_string_equal(tok.toname, "tank/src/my data@snap 1");
		assert_true(tok.toguid == 0xfeedfacecafebeef);
		assert_int_equal(tok.fromguid, 0x1111);
		assert_int_equal(tok.object, 5);
		assert_int_equal(tok.offset, 0x40000);
		assert_int_equal(tok.bytes, 123456);
		assert_true(tok.largeblockok && tok.compressok);
		assert_false(
		    tok.embedok || tok.rawok || tok.savedok || tok.redacted);
		assert_int_equal(tok.unknown, 0);
		free(text);
	}
	/* a full stream has no fromguid; uppercase hex is hex too */
	t = base;
	t.fromguid = 0;
	t.embedok = t.rawok = true;
	{
		char *text = make_token(&t, NVE_NATIVE, false);
		char *p;

		for (p = text; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 'a' + 'A');
		decode_ok(text, &tok);
		assert_int_equal(tok.fromguid, 0);
		assert_true(tok.embedok && tok.rawok);
		assert_false(tok.largeblockok || tok.compressok);
		free(text);
	}
}

static void
test_unknown_pairs_are_skipped(void **state)
{
	static const uint64_t snaps[] = {1, 2, 3};
	static const char *const strs[] = {"a", "b"};
	struct zf_resume_token tok;
	struct nve e;
	char *text;

	(void)state;
	nve_init(&e, NVE_NATIVE, false);
	nve_u64(&e, "future_number", 1);
	nve_pair(&e, "future_strings", NVE_STRING_ARRAY, 2, NULL, strs);
	nve_list(&e, "future_list", 0);
	nve_sub(&e);
	nve_u64(&e, "toguid", 666); /* nested: not the token's */
	nve_str(&e, "toname", "evil/fs@x");
	nve_end(&e);
	nve_tok_fields(&e, &base);
	nve_pair(&e, "redact_snaps", NVE_UINT64_ARRAY, 3, snaps, NULL);
	nve_pair(&e, "book_redact_snaps", NVE_UINT64_ARRAY, 2, snaps, NULL);
	nve_bool(&e, "savedok");
	nve_end(&e);
	text = nve_token(e.buf, e.len);
	decode_ok(text, &tok);
	assert_int_equal(tok.unknown, 3);
	assert_true(tok.toguid == base.toguid);
	assert_string_equal(tok.toname, base.toname);
	assert_true(tok.redacted && tok.savedok);
	assert_int_equal(tok.nredact_snaps, 3);
	assert_int_equal(tok.nbook_redact_snaps, 2);
	free(text);
	nve_free(&e);
}

/* zfs reads the flags with nvlist_exists(): a "rawok" of any type is set */
static void
test_flags_of_any_type_count(void **state)
{
	struct zf_resume_token tok;
	struct nve e;
	char *text;

	(void)state;
	nve_init(&e, NVE_NATIVE, false);
	nve_tok_fields(&e, &base);
	nve_u64(&e, "rawok", 0);
	nve_end(&e);
	text = nve_token(e.buf, e.len);
	decode_ok(text, &tok);
	assert_true(tok.rawok);
	free(text);
	nve_free(&e);
}

/* -------- real tokens from $ZF_TEST_DATA/tokens -------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static uint64_t
num(const char *file, const char *key, const char *v)
{
	char *end;
	uint64_t x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		fail_msg("%s: %s: not a number: '%s'", file, key, v);
	return x;
}

static bool
yes(const char *file, const char *key, const char *v)
{
	if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
		fail_msg("%s: %s: not yes or no: '%s'", file, key, v);
	return strcmp(v, "yes") == 0;
}

static const bool *
flag_of(const struct zf_resume_token *t, const char *key)
{
	if (strcmp(key, "largeblockok") == 0)
		return &t->largeblockok;
	if (strcmp(key, "embedok") == 0)
		return &t->embedok;
	if (strcmp(key, "compressok") == 0)
		return &t->compressok;
	if (strcmp(key, "rawok") == 0)
		return &t->rawok;
	if (strcmp(key, "savedok") == 0)
		return &t->savedok;
	return NULL;
}

static const uint64_t *
u64_of(const struct zf_resume_token *t, const char *key)
{
	if (strcmp(key, "toguid") == 0)
		return &t->toguid;
	if (strcmp(key, "fromguid") == 0)
		return &t->fromguid;
	if (strcmp(key, "object") == 0)
		return &t->object;
	if (strcmp(key, "offset") == 0)
		return &t->offset;
	if (strcmp(key, "bytes") == 0)
		return &t->bytes;
	return NULL;
}

/*
 * NAME.meta: key=value lines (# comments).  toname, the numbers and the
 * flags (yes/no) are compared; zfs_version, command and others are notes.
 * Returns how many values were compared.
 */
static unsigned
check_meta(const char *file, char *text, const struct zf_resume_token *t)
{
	unsigned checked = 0;
	char *line, *next, *eq;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		const uint64_t *u;
		const bool *b;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
			fail_msg("%s: no '=' in '%s'", file, line);
		*eq = '\0';
		if (strcmp(line, "toname") == 0) {
			if (strcmp(t->toname, eq + 1) != 0)
				fail_msg("%s: toname '%s', decoded '%s'", file,
				    eq + 1, t->toname);
			checked++;
		} else if ((u = u64_of(t, line)) != NULL) {
			if (*u != num(file, line, eq + 1))
				fail_msg("%s: %s %s, decoded %" PRIu64, file,
				    line, eq + 1, *u);
			checked++;
		} else if ((b = flag_of(t, line)) != NULL) {
			if (*b != yes(file, line, eq + 1))
				fail_msg("%s: %s %s, decoded %d", file, line,
				    eq + 1, *b);
			checked++;
		}
	}
	return checked;
}

/*
 * NAME.expect: `zstream token` output (dump_nvlist, indent 5):
 * "     key: 123", "     toname: 'pool/fs@snap'", "     rawok" for a
 * boolean, "     redact_snaps[0]: 1" for arrays.  Every line must match the
 * decoded token, and every field and flag the token has must have a line.
 */
static unsigned
check_expect(const char *file, char *text, const struct zf_resume_token *t)
{
	unsigned checked = 0, flags = 0, numbers = 0, unknown = 0;
	char *line, *next, *colon, *v;
	char last_array[64] = "";

	for (line = text; line != NULL && *line != '\0'; line = next) {
		const uint64_t *u;
		const bool *b;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		while (*line == ' ')
			line++;
		if (*line == '\0')
			continue;
		colon = strstr(line, ": ");
		if (colon == NULL) { /* a boolean */
			b = flag_of(t, line);
			if (b == NULL) {
				unknown++;
			} else if (!*b) {
				fail_msg("%s: has %s, decoded without", file,
				    line);
			}
			flags += b != NULL;
			checked++;
			continue;
		}
		*colon = '\0';
		v = colon + 2;
		if (strchr(line, '[') != NULL) { /* name[i]: an array */
			*strchr(line, '[') = '\0';
			if (strcmp(line, "redact_snaps") != 0 &&
			    strcmp(line, "book_redact_snaps") != 0 &&
			    strcmp(line, last_array) != 0)
				unknown++;
			snprintf(last_array, sizeof(last_array), "%s", line);
			assert_true(t->redacted ||
			    (strcmp(line, "redact_snaps") != 0 &&
			        strcmp(line, "book_redact_snaps") != 0));
			continue;
		}
		if (strcmp(line, "toname") == 0) {
			size_t n = strlen(v);

			assert_true(n >= 2 && v[0] == '\'' && v[n - 1] == '\'');
			v[n - 1] = '\0';
			if (strcmp(v + 1, t->toname) != 0)
				fail_msg("%s: toname '%s', decoded '%s'", file,
				    v + 1, t->toname);
			numbers++;
		} else if ((u = u64_of(t, line)) != NULL) {
			if (*u != num(file, line, v))
				fail_msg("%s: %s %s, decoded %" PRIu64, file,
				    line, v, *u);
			numbers++;
		} else {
			unknown++;
		}
		checked++;
	}
	/* toname, toguid, object, offset, bytes, and fromguid if set */
	assert_int_equal(numbers, 5 + (t->fromguid != 0));
	assert_int_equal(flags,
	    t->largeblockok + t->embedok + t->compressok + t->rawok +
	        t->savedok);
	assert_int_equal(unknown, t->unknown);
	return checked;
}

static void
test_real_tokens(void **state)
{
	const char *data = nve_data_dir();
	unsigned ntokens = 0, nexpect = 0, nmeta = 0;
	char dir[4096];
	struct dirent *de;
	DIR *d;

	(void)state;
	assert_non_null(data);
	snprintf(dir, sizeof(dir), "%s/tokens", data);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		struct zf_resume_token tok;
		char path[8192];
		char *text, *meta, *expect;

		if (n < 7 || strcmp(de->d_name + n - 6, ".token") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = slurp(path);
		assert_non_null(text);
		text[strcspn(text, "\n")] = '\0';
		decode_ok(text, &tok);
		ntokens++;

		snprintf(path, sizeof(path), "%s/%.*s.meta", dir, (int)n - 6,
		    de->d_name);
		meta = slurp(path);
		snprintf(path, sizeof(path), "%s/%.*s.expect", dir, (int)n - 6,
		    de->d_name);
		expect = slurp(path);
		/* every real token says what it holds, one way or the other */
		if (meta == NULL && expect == NULL)
			fail_msg("%s: neither .meta nor .expect", de->d_name);
		if (meta != NULL) {
			if (check_meta(de->d_name, meta, &tok) == 0)
				fail_msg("%s.meta: nothing to compare",
				    de->d_name);
			nmeta++;
		}
		if (expect != NULL) {
			assert_true(check_expect(de->d_name, expect, &tok) > 0);
			nexpect++;
		}
		free(text);
		free(meta);
		free(expect);
	}
	closedir(d);
	print_message("%u real tokens: %u with .meta, %u with .expect\n",
	    ntokens, nmeta, nexpect);
	/* the ones committed from public sources, at least */
	assert_true(ntokens >= 9);
}

/*
 * The .expect reader on text in dump_nvlist()'s format (libnvpair.c: indent
 * 5, "%s: %llu", strings in quotes, booleans bare, arrays as name[i]), so
 * that it works before real .expect files arrive.
 */
static void
test_expect_format(void **state)
{
	static const uint64_t snaps[] = {7, 8};
	struct zf_resume_token tok;
	struct nve_tok t = base;
	struct nve e;
	char *text;
	char expect[] = "     fromguid: 4369\n"
	                "     object: 5\n"
	                "     offset: 262144\n"
	                "     bytes: 123456\n"
	                "     toguid: 18369614221190020847\n"
	                "     toname: 'tank/src/my data@snap 1'\n"
	                "     largeblockok\n"
	                "     compressok\n"
	                "     future[0]: 7\n"
	                "     future[1]: 8\n"
	                "     book_redact_snaps[0]: 7\n"
	                "     book_redact_snaps[1]: 8\n";

	(void)state;
	t.largeblockok = t.compressok = true;
	nve_init(&e, NVE_NATIVE, false);
	nve_tok_fields(&e, &t);
	nve_pair(&e, "future", NVE_UINT64_ARRAY, 2, snaps, NULL);
	nve_pair(&e, "book_redact_snaps", NVE_UINT64_ARRAY, 2, snaps, NULL);
	nve_end(&e);
	text = nve_token(e.buf, e.len);
	decode_ok(text, &tok);
	assert_int_equal(check_expect("inline", expect, &tok), 8);
	free(text);
	nve_free(&e);
}

/* Damage to a real token: zrepl's own "corrupted" cases. */
static void
test_real_corrupted_tokens(void **state)
{
	(void)state;
	/*
	 * zrepl/zrepl platformtest/tests/resumeTokenParsing.go "corrupted":
	 * the zlib header replaced by "badf00d0", the checksum kept.
	 */
	assert_corrupt(
	    "1-1164f8d409-120-badf00d064000310a501c49c50360710a715e5e7a69766a6304"
	    "0416445bb6a3cd7a2290a40363b92bafca4acd4e412060626a83a0cf9b4b4e2d4129"
	    "08c0e5c9e0d493ea9b224b51848f368eb61d55f920f714515bf9b3fc3c396ef0648f"
	    "29c60f9bcc4dc54a07c516a414e414e62495a7e512ed0c812fde2a2648724b079dc0"
	    "c087f26e7e71614a51617e76743c424a0ee81c9172596c3a41800dd2c2818",
	    "incorrect checksum");
	/*
	 * zrepl/zrepl zfs/resume_token_test.go "corrupted token": the last
	 * digits changed, leaving an odd number; zfs ignores the last digit
	 * (strlen / 2 bytes) and then fails on the checksum.
	 */
	assert_corrupt(
	    "1-bf31b879a-b8-789c636064000310a500c4ec50360710e72765a5269740f80cd8e"
	    "4d3d28a534b18e00024cf86249f5459925acc802a8facbf243fbd3433858161f5dd"
	    "b9ab1ae7c7466a20c97382e5f312735319180af2f3730cf58166953824c2cc0200c"
	    "d12345",
	    "odd number of digits");
}

/* -------- forgery -------- */

static unsigned char *
unhex(const char *hex, size_t *n)
{
	size_t len = strlen(hex) / 2, i;
	unsigned char *b = malloc(len + 1);
	unsigned v;

	assert_non_null(b);
	for (i = 0; i < len; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		b[i] = (unsigned char)v;
	}
	*n = len;
	return b;
}

/*
 * A receiver forges a token from a real one: a different snapshot name of
 * the same length (so the packed length stays), compressed again.  Without
 * a new checksum decode refuses it; with one it decodes, and verify
 * refuses it.
 */
static void
test_forged_toname(void **state)
{
	const char *orig =
	    "1-b338b54f3-c0-789c636064000310a500c4ec50360710e72765"
	    "a52697303030419460caa7a515a796806474e0f26c48f24995"
	    "25a9c540ba42430fabfe92fcf4d2cc140686c88a76d578ae45"
	    "530c90e439c1f27989b9a90c0c5545a905390539892569f945"
	    "b940234bf48b8b921d12c1660200c61a1aba";
	const uint64_t guids[] = {0x94a20a5f25877859};
	struct zf_token_expect exp = {.dataset = "zreplplatformtest/src",
	    .guids = guids,
	    .nguids = 1};
	struct zf_resume_token tok;
	struct zf_error err;
	unsigned char *comp, packed[512], recomp[1024];
	uLongf plen = sizeof(packed), rlen = sizeof(recomp);
	size_t clen;
	char *p, *forged;

	(void)state;
	/* the real one passes */
	decode_ok(orig, &tok);
	zf_error_clear(&err);
	assert_int_equal(zf_token_verify(&tok, &exp, &err), ZF_OK);

	comp = unhex(strrchr(orig, '-') + 1, &clen);
	assert_int_equal(uncompress(packed, &plen, comp, clen), Z_OK);
	p = memmem(packed, plen, "zreplplatformtest/src@a", 23);
	assert_non_null(p);
	memcpy(p, "zreplplatformtest/etc@a", 23);
	assert_int_equal(compress2(recomp, &rlen, packed, plen, 6), Z_OK);

	/* the old checksum with the new payload */
	forged = nve_token_raw("1", 0xb338b54f3, plen, recomp, rlen);
	assert_corrupt(forged, "incorrect checksum");
	free(forged);

	/* a checksum made for it */
	forged = nve_token_raw("1", nve_fletcher4_a(recomp, rlen), plen, recomp,
	    rlen);
	decode_ok(forged, &tok);
	assert_string_equal(tok.toname, "zreplplatformtest/etc@a");
	zf_error_clear(&err);
	assert_int_equal(zf_token_verify(&tok, &exp, &err), ZF_E_PROTOCOL);
	assert_int_equal(err.stage, ZF_STAGE_TOKEN);
	assert_non_null(strstr(err.msg,
	    "a snapshot of 'zreplplatformtest/etc'"
	    ", expected a snapshot of "
	    "'zreplplatformtest/src'"));
	free(forged);
	free(comp);
}

/* Any change to the compressed bytes that moves the sum is caught. */
static void
test_payload_bit_flips(void **state)
{
	struct nve_tok t = base;
	char *text = make_token(&t, NVE_NATIVE, false);
	char *hex = strrchr(text, '-') + 1;
	size_t i, n = strlen(hex);

	(void)state;
	for (i = 0; i < n; i++) {
		char saved = hex[i];

		hex[i] = saved == '0' ? '1' : '0';
		if (i < n - n % 8) /* a whole 32-bit word: the sum moves */
			assert_corrupt(text, "incorrect checksum");
		else
			assert_corrupt(text, NULL);
		hex[i] = saved;
	}
	free(text);
}

/* -------- header syntax, limits -------- */

static void
test_header_syntax(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"", "invalid format: empty"},
	    {"-", "when there is no token"},
	    {"1", "invalid format"},
	    {"1-", "invalid format"},
	    {"1-abc-", "invalid format"},
	    {"1-abc-c0", "invalid format"},
	    {"+1-abc-c0-00", "no decimal version"},
	    {" 1-abc-c0-00", "no decimal version"},
	    {"1x-abc-c0-00", "no decimal version"},
	    {"1234567890-abc-c0-00", "no decimal version"},
	    {"0-abc-c0-00", "invalid version 0"},
	    {"2-abc-c0-00", "invalid version 2"},
	    {"01-abc-c0-00", "incorrect checksum"}, /* %u reads 1 */
	    {"1--c0-00", "checksum is not"},
	    {"1-0x1-c0-00", "checksum is not"},
	    {"1- abc-c0-00", "checksum is not"},
	    {"1-11111111111111111-c0-00", "checksum is not"},
	    {"1-abc--00", "length is not"},
	    {"1-abc-+c0-00", "length is not"},
	    {"1-abc-c0-", "it is empty"},
	    {"1-abc-c0-0", "odd number of digits (1)"},
	    {"1-abc-c0-0g", "'g' at character 10"},
	    {"1-abc-c0-00 ", "' ' at character 11"},
	    {"1-abc-c0-00\n", "'\\n' at character 11"},
	    {"1-abc-c0-00-00", "'-' at character 11"},
	    {"1-abc-0-00", "invalid packed length 0"},
	    {"1-abc-100001-00", "invalid packed length 1048577"},
	    {"1-abc-ffffffffffffffff-00", "invalid packed length"},
	    {"1-abc-409-00", "1 compressed bytes cannot hold 1033"},
	    {"1-0-10-00", "decompression failed"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++)
		assert_corrupt(cases[i].text, cases[i].why);
}

static void
test_null_arguments(void **state)
{
	struct zf_resume_token tok;
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	assert_int_equal(zf_token_decode(NULL, &tok, &err), ZF_E_INVALID);
	zf_error_clear(&err);
	assert_int_equal(zf_token_decode("1-0-1-00", NULL, &err), ZF_E_INVALID);
	assert_int_equal(zf_token_decode(NULL, NULL, NULL), ZF_E_INVALID);
}

static void
test_text_limit_and_quoting(void **state)
{
	size_t n = ZF_TOKEN_TEXT_MAX + 2, i;
	char *text = malloc(n + 1);
	struct zf_resume_token tok;
	struct zf_error err;

	(void)state;
	assert_non_null(text);
	memcpy(text, "1-0-10-", 7);
	for (i = 7; i < n; i++)
		text[i] = '0';
	text[n] = '\0';
	assert_corrupt(text, "longer than 65536 characters");
	/* the message quotes 20 bytes of it, not more */
	zf_error_clear(&err);
	zf_token_decode(text, &tok, &err);
	assert_non_null(strstr(err.msg, "'1-0-10-0000000000000...'"));
	assert_true(strlen(err.msg) < 200);

	/* at the limit: read, and refused for what it holds */
	text[ZF_TOKEN_TEXT_MAX] = '\0';
	assert_corrupt(text, "odd number of digits (65529)");
	text[ZF_TOKEN_TEXT_MAX - 1] = '\0';
	assert_corrupt(text, "decompression failed");

	/* control characters of a token are shown escaped */
	zf_error_clear(&err);
	zf_token_decode("1-\033]0;x\007-1-00", &tok, &err);
	assert_null(strchr(err.msg, '\033'));
	assert_non_null(strstr(err.msg, "'1-\\x1b]0;x\\x07-1-00'"));
	free(text);
}

/* -------- payload: checksum right, content wrong -------- */

/* A token around arbitrary compressed bytes with the right checksum. */
static char *
wrap(const unsigned char *comp, size_t clen, uint64_t packed_len)
{
	return nve_token_raw("1", nve_fletcher4_a(comp, clen), packed_len, comp,
	    clen);
}

static char *
wrap_packed(const unsigned char *packed, size_t len, uint64_t claim)
{
	uLongf clen = compressBound(len);
	unsigned char *comp = malloc(clen);
	char *t;

	assert_non_null(comp);
	assert_int_equal(compress2(comp, &clen, packed, len, 6), Z_OK);
	t = wrap(comp, clen, claim);
	free(comp);
	return t;
}

static void
test_length_and_decompression(void **state)
{
	char why[128];
	struct nve e;
	char *t;

	(void)state;
	nve_init(&e, NVE_NATIVE, false);
	nve_tok_fields(&e, &base);
	nve_end(&e);

	snprintf(why, sizeof(why),
	    "decompression failed: %zu bytes, the token says %zu", e.len,
	    e.len + 1);
	t = wrap_packed(e.buf, e.len, e.len + 1);
	assert_corrupt(t, why);
	free(t);
	snprintf(why, sizeof(why), "more than the %zu bytes", e.len - 1);
	t = wrap_packed(e.buf, e.len, e.len - 1);
	assert_corrupt(t, why);
	free(t);

	/* the packed nvlist as is: what the kernel stores when zlib fails */
	t = wrap(e.buf, e.len, e.len);
	assert_corrupt(t, "decompression failed");
	free(t);

	/* a zlib stream cut short, with a checksum that fits the cut */
	{
		uLongf clen = compressBound(e.len);
		unsigned char *comp = malloc(clen);
		size_t cut;

		assert_non_null(comp);
		assert_int_equal(compress2(comp, &clen, e.buf, e.len, 6), Z_OK);
		for (cut = 1; cut < clen; cut++) {
			t = wrap(comp, cut, e.len);
			assert_corrupt(t, "decompression failed");
			free(t);
		}
		/* and bytes after its end */
		comp = realloc(comp, clen + 4);
		assert_non_null(comp);
		memcpy(comp + clen, "\0\0\0\0", 4);
		t = wrap(comp, clen + 4, e.len);
		assert_corrupt(t, "bytes after the zlib stream");
		free(t);
		free(comp);
	}
	nve_free(&e);
}

/* A megabyte of zeros claims the largest length: decompressed, refused. */
static void
test_zip_bomb(void **state)
{
	size_t n = ZF_TOKEN_PACKED_MAX;
	unsigned char *zeros = calloc(1, n + 1);
	char *t;

	(void)state;
	assert_non_null(zeros);
	t = wrap_packed(zeros, n, n);
	assert_corrupt(t, "nvlist_unpack failed");
	free(t);
	/* one byte more than the limit, compressed fine: never inflated */
	t = wrap_packed(zeros, n + 1, n + 1);
	assert_corrupt(t, "invalid packed length 1048577");
	free(t);
	/* a small claim for a large stream: inflation stops at the claim */
	t = wrap_packed(zeros, n, 4096);
	assert_corrupt(t, "more than the 4096 bytes");
	free(t);
	free(zeros);
}

static void
test_deeply_nested_token(void **state)
{
	struct nve e;
	char *t;
	int i;

	(void)state;
	nve_init(&e, NVE_NATIVE, false);
	nve_tok_fields(&e, &base);
	for (i = 0; i < 50; i++) {
		nve_list(&e, "x", 0);
		nve_sub(&e);
	}
	for (i = 0; i < 50; i++)
		nve_end(&e);
	nve_end(&e);
	t = wrap_packed(e.buf, e.len, e.len);
	assert_corrupt(t,
	    "(nvlist_unpack failed: nvlist: lists nested deeper than 8");
	free(t);
	nve_free(&e);
}

/* -------- the fields -------- */

enum { NO_TONAME = 1, NO_TOGUID, NO_OBJECT, NO_OFFSET, NO_BYTES };

static char *
fields_token(int omit, const char *toname, uint64_t toguid,
    void (*extra)(struct nve *))
{
	struct nve e;
	char *t;

	nve_init(&e, NVE_NATIVE, false);
	if (omit != NO_OBJECT)
		nve_u64(&e, "object", 1);
	if (omit != NO_OFFSET)
		nve_u64(&e, "offset", 0);
	if (omit != NO_BYTES)
		nve_u64(&e, "bytes", 0);
	if (omit != NO_TOGUID)
		nve_u64(&e, "toguid", toguid);
	if (omit != NO_TONAME)
		nve_str(&e, "toname", toname);
	if (extra != NULL)
		extra(&e);
	nve_end(&e);
	t = nve_token(e.buf, e.len);
	nve_free(&e);
	return t;
}

static void
extra_dup_toname(struct nve *e)
{
	nve_str(e, "toname", "other/fs@x");
}

static void
extra_dup_fromguid(struct nve *e)
{
	nve_u64(e, "fromguid", 1);
	nve_u64(e, "fromguid", 2);
}

static void
extra_dup_rawok(struct nve *e)
{
	nve_bool(e, "rawok");
	nve_bool(e, "rawok");
}

static void
extra_string_fromguid(struct nve *e)
{
	nve_str(e, "fromguid", "1");
}

static void
extra_bad_redact(struct nve *e)
{
	nve_u64(e, "redact_snaps", 1);
}

static void
test_field_refusals(void **state)
{
	static const struct {
		int omit;
		const char *toname;
		uint64_t toguid;
		void (*extra)(struct nve *);
		const char *why;
	} cases[] = {
	    {NO_TONAME, "p/fs@s", 1, NULL, "(missing toname)"},
	    {NO_TOGUID, "p/fs@s", 1, NULL, "(missing toguid)"},
	    {NO_OBJECT, "p/fs@s", 1, NULL, "(missing object)"},
	    {NO_OFFSET, "p/fs@s", 1, NULL, "(missing offset)"},
	    {NO_BYTES, "p/fs@s", 1, NULL, "(missing bytes)"},
	    {0, "p/fs@s", 0, NULL, "(toguid is 0)"},
	    {0, "p/fs@s", 1, extra_dup_toname, "(duplicate toname)"},
	    {0, "p/fs@s", 1, extra_dup_fromguid, "(duplicate fromguid)"},
	    {0, "p/fs@s", 1, extra_dup_rawok, "(duplicate rawok)"},
	    {0, "p/fs@s", 1, extra_string_fromguid,
	        "'fromguid' has type string, not uint64"},
	    {0, "p/fs@s", 1, extra_bad_redact,
	        "redact_snaps has type uint64, not uint64 array"},
	    {0, "p/fs", 1, NULL, "a snapshot is needed"},
	    {0, "p/fs#bm", 1, NULL, "invalid snapshot name"},
	    {0, "p/fs@a@b", 1, NULL, "more than one"},
	    {0, "p/../x@s", 1, NULL, "are not allowed"},
	    {0, "-p/fs@s", 1, NULL, "must begin with a letter"},
	    {0, "p/fs@s;reboot", 1, NULL, "invalid character ';'"},
	    {0, "p/fs@s\n", 1, NULL, "invalid character '\\\\n'"},
	    {0, "p/%recv@s", 1, NULL, "invalid character '%'"},
	    {0, "", 1, NULL, "empty name"},
	};
	char longname[300];
	size_t i;
	char *t;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		t = fields_token(cases[i].omit, cases[i].toname,
		    cases[i].toguid, cases[i].extra);
		assert_corrupt(t, cases[i].why);
		free(t);
	}
	/* a toname too long for a ZFS name (and for tok->toname) */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[3] = '@';
	t = fields_token(0, longname, 1, NULL);
	assert_corrupt(t, "string of 299 bytes, the limit is 255");
	free(t);
	/* 256 bytes do not fit; 255 do, as zfs allows (< 256) */
	longname[256] = '\0';
	t = fields_token(0, longname, 1, NULL);
	assert_corrupt(t, "string of 256 bytes, the limit is 255");
	free(t);
	longname[255] = '\0';
	t = fields_token(0, longname, 1, NULL);
	{
		struct zf_resume_token tok;

		decode_ok(t, &tok);
		assert_int_equal(strlen(tok.toname), 255);
	}
	free(t);
}

/* Every prefix of a real token and every digit changed: refused, safely. */
static void
test_every_truncation_and_digit(void **state)
{
	const char *real =
	    "1-eadabb296-e8-789c636064000310a501c49c50360710a715e5e"
	    "7a69766a63040416445bb6a3cd7a2290a40363b92bafca4acd4"
	    "e412060626a83a0cf9b4b4e2d412908c0e5c9e0d493ea9b224b"
	    "518483ba8ea61d55f920f714515bf9b3fc3c396ef0648f29c60"
	    "f9bcc4dc54a07c516a414e414e62495a7e512ed0c812fde2a26"
	    "48724b09900d43e2191";
	size_t n = strlen(real), i;
	char *copy = malloc(n + 1);
	struct zf_resume_token tok;
	struct zf_error err;

	(void)state;
	assert_non_null(copy);
	decode_ok(real, &tok);
	for (i = 0; i < n; i++) {
		memcpy(copy, real, i);
		copy[i] = '\0';
		assert_corrupt(copy, NULL);
	}
	for (i = 0; i < n; i++) {
		static const char subst[] = "0f9-x";
		size_t j;

		for (j = 0; j < sizeof(subst) - 1; j++) {
			enum zf_status r;

			memcpy(copy, real, n + 1);
			if (copy[i] == subst[j])
				continue;
			copy[i] = subst[j];
			zf_error_clear(&err);
			r = zf_token_decode(copy, &tok, &err);
			/* a checksum of 32-bit sums misses some changes */
			assert_true(r == ZF_OK || r == ZF_E_PROTOCOL);
		}
	}
	free(copy);
}

/* -------- verify -------- */

static struct zf_resume_token
good_token(void)
{
	struct zf_resume_token t;

	memset(&t, 0, sizeof(t));
	t.version = 1;
	snprintf(t.toname, sizeof(t.toname), "tank/fs@b");
	t.toguid = 22;
	t.fromguid = 11;
	return t;
}

static const uint64_t fs_guids[] = {11, 22, 33};

static void
assert_refused(const struct zf_resume_token *t, const struct zf_token_expect *x,
    const char *why)
{
	struct zf_error err;

	zf_error_clear(&err);
	assert_int_equal(zf_token_verify(t, x, &err), ZF_E_PROTOCOL);
	assert_int_equal(err.stage, ZF_STAGE_TOKEN);
	if (strstr(err.msg, why) == NULL)
		fail_msg("'%s' does not say '%s'", err.msg, why);
}

static void
test_verify_accepts(void **state)
{
	struct zf_resume_token t = good_token();
	struct zf_token_expect x = {.dataset = "tank/fs",
	    .guids = fs_guids,
	    .nguids = 3,
	    .fromguid = 11};
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	assert_int_equal(zf_token_verify(&t, &x, &err), ZF_OK);
	x.toguid = 22;
	assert_int_equal(zf_token_verify(&t, &x, &err), ZF_OK);
	/* no list: toguid alone decides */
	x.guids = NULL;
	x.nguids = 0;
	assert_int_equal(zf_token_verify(&t, &x, &err), ZF_OK);
	/* raw, full */
	t.rawok = true;
	t.fromguid = 0;
	x.raw = true;
	x.fromguid = 0;
	assert_int_equal(zf_token_verify(&t, &x, &err), ZF_OK);
	/* the other flags are the sender's business */
	t.largeblockok = t.embedok = t.compressok = true;
	assert_int_equal(zf_token_verify(&t, &x, &err), ZF_OK);
	assert_int_equal(err.code, ZF_OK);
}

static void
test_verify_refusals(void **state)
{
	struct zf_token_expect x = {.dataset = "tank/fs",
	    .guids = fs_guids,
	    .nguids = 3,
	    .fromguid = 11};
	struct zf_resume_token t;

	(void)state;
	t = good_token();
	snprintf(t.toname, sizeof(t.toname), "tank/fs2@b");
	assert_refused(&t, &x,
	    "it names 'tank/fs2@b', a snapshot of 'tank/fs2', expected a "
	    "snapshot of 'tank/fs'");
	snprintf(t.toname, sizeof(t.toname), "tank@b");
	assert_refused(&t, &x, "a snapshot of 'tank', expected");
	snprintf(t.toname, sizeof(t.toname), "tank/fs/child@b");
	assert_refused(&t, &x, "a snapshot of 'tank/fs/child', expected");
	snprintf(t.toname, sizeof(t.toname), "tank/fs");
	assert_refused(&t, &x, "toname 'tank/fs' is not a snapshot name");
	memset(t.toname, 'a', sizeof(t.toname)); /* no NUL at all */
	assert_refused(&t, &x, "is not a snapshot name");

	t = good_token();
	t.toguid = 44;
	assert_refused(&t, &x,
	    "it asks for snapshot guid 44 ('tank/fs@b'), which is not a "
	    "snapshot of 'tank/fs'");
	t.toguid = 33;
	x.toguid = 22;
	assert_refused(&t, &x,
	    "it asks for snapshot guid 33 ('tank/fs@b'), expected guid 22");
	x.guids = NULL;
	x.nguids = 0;
	assert_refused(&t, &x, "expected guid 22");
	x.guids = fs_guids;
	x.nguids = 3;
	x.toguid = 0;

	t = good_token();
	t.fromguid = 0;
	assert_refused(&t, &x,
	    "it asks for a full stream, expected an incremental from guid 11");
	t.fromguid = 33;
	assert_refused(&t, &x,
	    "it asks for an incremental stream from guid 33, expected one "
	    "from guid 11");
	x.fromguid = 0;
	assert_refused(&t, &x,
	    "it asks for an incremental stream from guid 33, expected a full "
	    "stream");
	x.fromguid = 11;

	t = good_token();
	t.rawok = true;
	assert_refused(&t, &x,
	    "it asks for a raw stream (rawok), expected a non-raw one");
	t.rawok = false;
	x.raw = true;
	assert_refused(&t, &x,
	    "it asks for a non-raw stream, expected a raw one (rawok)");
	x.raw = false;

	t = good_token();
	t.savedok = true;
	assert_refused(&t, &x, "saved state (savedok)");
	t = good_token();
	t.redacted = true;
	t.nbook_redact_snaps = 2;
	assert_refused(&t, &x,
	    "redacted stream (redact_snaps 0, book_redact_snaps 2)");
}

static void
test_verify_bad_expectations(void **state)
{
	struct zf_resume_token t = good_token();
	struct zf_token_expect x = {.dataset = "tank/fs",
	    .guids = fs_guids,
	    .nguids = 3,
	    .fromguid = 11};
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	assert_int_equal(zf_token_verify(NULL, &x, &err), ZF_E_INVALID);
	assert_int_equal(zf_token_verify(&t, NULL, NULL), ZF_E_INVALID);
	x.dataset = "tank/fs@b";
	zf_error_clear(&err);
	assert_int_equal(zf_token_verify(&t, &x, &err), ZF_E_INVALID);
	assert_non_null(strstr(err.msg, "expected dataset"));
	x.dataset = NULL;
	assert_int_equal(zf_token_verify(&t, &x, &err), ZF_E_INVALID);
	x.dataset = "tank/fs";
	x.nguids = 0;
	x.guids = NULL;
	zf_error_clear(&err);
	assert_int_equal(zf_token_verify(&t, &x, &err), ZF_E_INVALID);
	assert_non_null(strstr(err.msg, "no snapshot guid to accept"));
	x.nguids = 2;
	assert_int_equal(zf_token_verify(&t, &x, &err), ZF_E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fletcher4),
	    cmocka_unit_test(test_round_trip_every_encoding),
	    cmocka_unit_test(test_unknown_pairs_are_skipped),
	    cmocka_unit_test(test_flags_of_any_type_count),
	    cmocka_unit_test(test_expect_format),
	    cmocka_unit_test(test_real_tokens),
	    cmocka_unit_test(test_real_corrupted_tokens),
	    cmocka_unit_test(test_forged_toname),
	    cmocka_unit_test(test_payload_bit_flips),
	    cmocka_unit_test(test_header_syntax),
	    cmocka_unit_test(test_null_arguments),
	    cmocka_unit_test(test_text_limit_and_quoting),
	    cmocka_unit_test(test_length_and_decompression),
	    cmocka_unit_test(test_zip_bomb),
	    cmocka_unit_test(test_deeply_nested_token),
	    cmocka_unit_test(test_field_refusals),
	    cmocka_unit_test(test_every_truncation_and_digit),
	    cmocka_unit_test(test_verify_accepts),
	    cmocka_unit_test(test_verify_refusals),
	    cmocka_unit_test(test_verify_bad_expectations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
