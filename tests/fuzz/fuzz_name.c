/*
 * fuzz_name: zf_check_name, zf_check_short_name, zf_check_prop_name and
 * zf_check_prop_assign against a second, deliberately plain reading of the
 * same rules (validate.h).  Both must agree on every input, both ways: an
 * accepted name is valid, and a refused one is invalid.
 *
 * Input: byte 0 is the set of kinds asked for (bits of enum zf_name_kind),
 * the rest the name.
 */
#include "fuzz.h"

#include "validate.h"

static bool
ref_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == ':' || c == ' ';
}

static bool
ref_component(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || (n == 1 && p[0] == '.') ||
	    (n == 2 && p[0] == '.' && p[1] == '.'))
		return false;
	for (i = 0; i < n; i++)
		if (!ref_char(p[i]))
			return false;
	return true;
}

static bool
ref_pool(const char *p, size_t n)
{
	static const char *const reserved[] = {"mirror", "raidz", "draid",
	    "spare", "log"};
	size_t i;

	if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
		return false;
	for (i = 0; i < ZF_ARRAY_SIZE(reserved); i++)
		if (n == strlen(reserved[i]) && memcmp(p, reserved[i], n) == 0)
			return false;
	return !(p[0] == 'c' && n >= 2 && p[1] >= '0' && p[1] <= '9');
}

/* The rules of validate.h, read one at a time. */
static bool
ref_name(const char *s, unsigned *kind)
{
	size_t len = strlen(s), dslen, i, start;
	const char *delim = NULL;

	if (len == 0 || len >= ZF_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] != '@' && s[i] != '#')
			continue;
		if (delim != NULL)
			return false; /* two delimiters */
		delim = s + i;
	}
	dslen = delim != NULL ? (size_t)(delim - s) : len;
	*kind = delim == NULL ? ZF_NAME_FS
	    : *delim == '@'   ? ZF_NAME_SNAPSHOT
	                      : ZF_NAME_BOOKMARK;
	if (delim != NULL &&
	    (memchr(delim + 1, '/', len - dslen - 1) != NULL ||
	        !ref_component(delim + 1, len - dslen - 1)))
		return false;
	for (start = 0, i = 0; i <= dslen; i++) {
		if (i < dslen && s[i] != '/')
			continue;
		if (!ref_component(s + start, i - start))
			return false;
		if (start == 0 && !ref_pool(s, i))
			return false;
		start = i + 1;
	}
	return true;
}

static void
check_name(const char *s, unsigned kinds)
{
	struct zf_error err;
	enum zf_name_kind kind = 0;
	unsigned rkind = 0;
	bool ref = ref_name(s, &rkind);
	enum zf_status r;

	zf_error_clear(&err);
	r = zf_check_name("what", s, kinds, &kind, &err);
	FZ_CHECK((r == ZF_OK) == (ref && (kinds & rkind) != 0),
	    "'%s' kinds %u: zf_check_name %d, reference %d (kind %u)", s, kinds,
	    (int)r, (int)ref, rkind);
	FZ_CHECK(zf_check_name("what", s, kinds, NULL, NULL) == r,
	    "the result depends on err");
	if (r != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		FZ_CHECK(err.stage == ZF_STAGE_INPUT, "stage %d", err.stage);
		FZ_CHECK(strncmp(err.msg, "what: ", 6) == 0, "'%s'", err.msg);
		return;
	}
	FZ_CHECK((unsigned)kind == rkind, "kind %u, reference %u", kind, rkind);
	FZ_CHECK(s[0] != '-', "a name starts with '-'");
	/* the kind found is one that is accepted on its own */
	FZ_CHECK(zf_check_name("what", s, kind, NULL, NULL) == ZF_OK, "%s", s);
}

static void
check_short(const char *s)
{
	size_t n = strlen(s), i;
	bool ref = n > 0 && n < ZF_NAME_MAX && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
	struct zf_error err;
	enum zf_status r;
	char full[ZF_NAME_MAX + 8];

	for (i = 0; ref && i < n; i++)
		ref = ref_char(s[i]);
	zf_error_clear(&err);
	r = zf_check_short_name("what", s, &err);
	FZ_CHECK((r == ZF_OK) == ref, "'%s': %d, reference %d", s, (int)r,
	    (int)ref);
	if (r != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		return;
	}
	/* a valid short name makes a valid snapshot and bookmark name */
	if (n + 2 < ZF_NAME_MAX) {
		snprintf(full, sizeof(full), "p@%s", s);
		FZ_CHECK(zf_check_name("w", full, ZF_NAME_SNAPSHOT, NULL,
		             NULL) == ZF_OK,
		    "%s", full);
		full[1] = '#';
		FZ_CHECK(zf_check_name("w", full, ZF_NAME_BOOKMARK, NULL,
		             NULL) == ZF_OK,
		    "%s", full);
	}
}

static bool
ref_prop_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= ZF_PROP_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '_' || c == '-' || c == '.' || c == ':'))
			return false;
	}
	return true;
}

static void
check_prop(const char *s)
{
	const char *eq = strchr(s, '=');
	struct zf_error err;
	enum zf_status r;
	bool ref;

	zf_error_clear(&err);
	r = zf_check_prop_name("-x", s, &err);
	FZ_CHECK((r == ZF_OK) == ref_prop_name(s, strlen(s)), "'%s': %d", s,
	    (int)r);
	if (r != ZF_OK)
		fz_check_error(&err, ZF_E_INVALID);

	ref = eq != NULL && ref_prop_name(s, (size_t)(eq - s)) &&
	    strlen(eq + 1) < ZF_PROP_VALUE_MAX;
	zf_error_clear(&err);
	r = zf_check_prop_assign("-o", s, &err);
	FZ_CHECK((r == ZF_OK) == ref, "'%s': %d, reference %d", s, (int)r,
	    (int)ref);
	if (r != ZF_OK)
		fz_check_error(&err, ZF_E_INVALID);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = fz_str(data + 1, size - 1);
	check_name(s, data[0] & 7u);
	check_short(s);
	check_prop(s);
	free(s);
	return 0;
}
