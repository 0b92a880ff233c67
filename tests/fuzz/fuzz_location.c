/*
 * fuzz_location: zf_location_parse, the reading of SOURCE and TARGET
 * ("pool/fs", "[user@]host:pool/fs", "[user@][v6addr]:pool/fs").
 *
 * Checks: what is accepted passes the checks of each of its parts (a valid
 * name of the kinds asked for, a valid host and user, nothing starting
 * with '-'); a local result is the text itself and a remote one ends in
 * ":dataset"; and writing the result back as text reads back the same.
 *
 * Input: byte 0 is the set of kinds asked for, the rest the text.
 */
#include "fuzz.h"

#include "validate.h"

static bool
terminated(const char *field)
{
	return memchr(field, '\0', ZF_LOC_FIELD_MAX) != NULL;
}

/* The text that names loc, as a user would write it. */
static void
loc_text(char *dst, size_t n, const struct zf_location *loc)
{
	bool v6 = strchr(loc->host, ':') != NULL;

	if (loc->host[0] == '\0')
		snprintf(dst, n, "%s", loc->dataset);
	else
		snprintf(dst, n, "%s%s%s%s%s:%s", loc->user,
		    loc->user[0] != '\0' ? "@" : "", v6 ? "[" : "", loc->host,
		    v6 ? "]" : "", loc->dataset);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zf_location loc, again;
	struct zf_error err;
	unsigned kinds;
	enum zf_status r;
	char *s, text[3 * ZF_LOC_FIELD_MAX + 8];
	size_t sl, dl;

	if (size < 1)
		return 0;
	kinds = data[0] & 7u;
	s = fz_str(data + 1, size - 1);
	zf_error_clear(&err);
	r = zf_location_parse(&loc, s, kinds, "source", &err);
	if (r != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		FZ_CHECK(err.stage == ZF_STAGE_INPUT, "stage %d", err.stage);
		FZ_CHECK(strncmp(err.msg, "source: ", 8) == 0, "'%s'", err.msg);
		free(s);
		return 0;
	}
	FZ_CHECK(terminated(loc.user) && terminated(loc.host) &&
	        terminated(loc.dataset),
	    "unterminated field");
	FZ_CHECK(zf_check_name("t", loc.dataset, kinds, NULL, NULL) == ZF_OK,
	    "dataset '%s' of '%s'", loc.dataset, s);
	FZ_CHECK(loc.dataset[0] != '-' && loc.host[0] != '-' &&
	        loc.user[0] != '-',
	    "'%s' gave a field starting with '-'", s);
	sl = strlen(s);
	dl = strlen(loc.dataset);
	if (loc.host[0] == '\0') {
		FZ_CHECK(loc.user[0] == '\0', "a user without a host");
		FZ_CHECK(strcmp(loc.dataset, s) == 0, "local '%s' from '%s'",
		    loc.dataset, s);
		FZ_CHECK(!zf_location_is_remote(&loc), "local is remote");
	} else {
		FZ_CHECK(zf_location_is_remote(&loc), "remote is local");
		FZ_CHECK(zf_check_host("t", loc.host, NULL) == ZF_OK,
		    "host '%s'", loc.host);
		FZ_CHECK(loc.user[0] == '\0' ||
		        zf_check_user("t", loc.user, NULL) == ZF_OK,
		    "user '%s'", loc.user);
		FZ_CHECK(sl > dl && s[sl - dl - 1] == ':' &&
		        strcmp(s + sl - dl, loc.dataset) == 0,
		    "'%s' does not end in ':%s'", s, loc.dataset);
	}
	/* written back and read again: the same location */
	loc_text(text, sizeof(text), &loc);
	FZ_CHECK(zf_location_parse(&again, text, kinds, "again", NULL) == ZF_OK,
	    "'%s' (from '%s') does not read back", text, s);
	FZ_CHECK(strcmp(again.user, loc.user) == 0 &&
	        strcmp(again.host, loc.host) == 0 &&
	        strcmp(again.dataset, loc.dataset) == 0,
	    "'%s' reads back as '%s' '%s' '%s'", text, again.user, again.host,
	    again.dataset);
	free(s);
	return 0;
}
