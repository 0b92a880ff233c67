/*
 * fuzz_number: the bounded number parsers of the command line and the
 * library (zf_parse_u64, zf_parse_size, zf_parse_rate, zf_parse_duration,
 * zf_parse_compress) against a plain second reading of config.h.  Both
 * must agree on every input, both ways, and on the value.
 *
 * Input: byte 0 picks the bounds, the rest is the text.
 */
#include "fuzz.h"

#include "validate.h"

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit sizes[] = {{"", 1}, {"B", 1}, {"k", 1ull << 10},
    {"K", 1ull << 10}, {"KiB", 1ull << 10}, {"M", 1ull << 20},
    {"MiB", 1ull << 20}, {"G", 1ull << 30}, {"GiB", 1ull << 30},
    {"T", 1ull << 40}, {"TiB", 1ull << 40}};
static const struct unit times[] = {{"", 1000}, {"ms", 1}, {"s", 1000},
    {"m", 60000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}};

/* Digits then a unit of the table; false when not, or out of range. */
static bool
ref_units(const char *s, const struct unit *u, size_t nu, uint64_t min,
    uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!(*s >= '0' && *s <= '9'))
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > UINT64_MAX / 10 ||
		    v * 10 > UINT64_MAX - (uint64_t)(*s - '0'))
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	for (i = 0; i < nu; i++) {
		if (strcmp(s, u[i].name) != 0)
			continue;
		if (v > UINT64_MAX / u[i].mult)
			return false;
		v *= u[i].mult;
		*out = v;
		return v >= min && v <= max;
	}
	return false;
}

static void
agree(const char *fn, const char *s, enum zf_status r, bool ref, uint64_t got,
    uint64_t want, const struct zf_error *err)
{
	FZ_CHECK((r == ZF_OK) == ref, "%s('%s'): %d, reference %d", fn, s,
	    (int)r, (int)ref);
	if (r == ZF_OK) {
		FZ_CHECK(got == want, "%s('%s') = %" PRIu64 ", want %" PRIu64,
		    fn, s, got, want);
		return;
	}
	fz_check_error(err, ZF_E_INVALID);
	FZ_CHECK(err->stage == ZF_STAGE_INPUT, "stage %d", (int)err->stage);
	FZ_CHECK(strncmp(err->msg, "--x: ", 5) == 0, "'%s'", err->msg);
}

static void
check_compress(const char *s)
{
	static const struct {
		const char *name;
		enum zf_compress_alg alg;
		unsigned max;
	} algs[] = {{"zstd", ZF_COMPRESS_ZSTD, 19},
	    {"lz4", ZF_COMPRESS_LZ4, 12}, {"none", ZF_COMPRESS_NONE, 0},
	    {"auto", ZF_COMPRESS_AUTO, 0}};
	enum zf_compress_alg alg = 99;
	const char *colon = strchr(s, ':');
	size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s), i;
	struct zf_error err;
	uint64_t lv = 0;
	int level = -1;
	bool ref = false;
	enum zf_status r;

	for (i = 0; i < ZF_ARRAY_SIZE(algs); i++) {
		if (strlen(algs[i].name) != n ||
		    memcmp(s, algs[i].name, n) != 0)
			continue;
		ref = colon == NULL ||
		    (algs[i].max > 0 &&
		        ref_units(colon + 1, sizes, 1, 1, algs[i].max, &lv));
		break;
	}
	zf_error_clear(&err);
	r = zf_parse_compress("--x", s, &alg, &level, &err);
	FZ_CHECK((r == ZF_OK) == ref, "compress('%s'): %d", s, (int)r);
	if (r != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		return;
	}
	FZ_CHECK(alg == algs[i].alg && (uint64_t)level == lv,
	    "compress('%s') = %d:%d", s, (int)alg, level);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t maxes[] = {UINT64_MAX, UINT64_MAX / 2, 4ull << 30,
	    366ull * 86400000, 65535, 0};
	static const uint64_t mins[] = {0, 1, 1024, 64 * 1024};
	struct zf_error err;
	uint64_t min, max, got = 0, want = 0;
	enum zf_status r;
	bool ref;
	char *s, tmp[64];
	size_t n;

	if (size < 1)
		return 0;
	max = maxes[data[0] % ZF_ARRAY_SIZE(maxes)];
	min = mins[(data[0] >> 4) % ZF_ARRAY_SIZE(mins)];
	s = fz_str(data + 1, size - 1);
	n = strlen(s);

	zf_error_clear(&err);
	r = zf_parse_u64("--x", s, min, max, &got, &err);
	ref = ref_units(s, sizes, 1, min, max, &want);
	agree("u64", s, r, ref, got, want, &err);

	zf_error_clear(&err);
	r = zf_parse_size("--x", s, min, max, &got, &err);
	ref = ref_units(s, sizes, ZF_ARRAY_SIZE(sizes), min, max, &want);
	agree("size", s, r, ref, got, want, &err);

	zf_error_clear(&err);
	r = zf_parse_rate("--x", s, min, max, &got, &err);
	if (n > 2 && n < sizeof(tmp) && strcmp(s + n - 2, "/s") == 0) {
		memcpy(tmp, s, n - 2);
		tmp[n - 2] = '\0';
		ref = ref_units(tmp, sizes, ZF_ARRAY_SIZE(sizes), min, max,
		    &want);
	} else {
		ref =
		    ref_units(s, sizes, ZF_ARRAY_SIZE(sizes), min, max, &want);
	}
	agree("rate", s, r, ref, got, want, &err);

	zf_error_clear(&err);
	r = zf_parse_duration("--x", s, min, max, &got, &err);
	ref = ref_units(s, times, ZF_ARRAY_SIZE(times), min, max, &want);
	agree("duration", s, r, ref, got, want, &err);

	check_compress(s);
	free(s);
	return 0;
}
