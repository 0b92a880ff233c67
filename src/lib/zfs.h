/*
 * zfs.h: what zferry reads from zfs and ssh: the option letters a zfs
 * supports (from its usage text), and the classification of failure
 * messages into stages and transient or fatal.  Pure functions over text;
 * the text is untrusted (it may come from a remote host).
 */
#ifndef ZF_ZFS_H
#define ZF_ZFS_H

#include "util.h"

/* A set of option letters a-z, A-Z as a bit mask. */
typedef uint64_t zf_optset;

static inline zf_optset
zf_opt_bit(char c)
{
	if (c >= 'a' && c <= 'z')
		return (zf_optset)1 << (c - 'a');
	if (c >= 'A' && c <= 'Z')
		return (zf_optset)1 << (26 + c - 'A');
	return 0;
}

static inline bool
zf_opt_has(zf_optset set, char c)
{
	return (set & zf_opt_bit(c)) != 0;
}

/*
 * Reads the option letters named in a zfs usage text (what "zfs send" or
 * "zfs receive" print without arguments): "[-DLPbcehnpsVvw]", "-t <token>",
 * "[-o property=value]", "-[iI]" and the like.  Only the lines of the
 * subcommand cmd ("send", "receive") count.
 */
zf_optset zf_parse_usage_opts(const char *text, size_t len, const char *cmd);

/*
 * Reads the estimate of "zfs send -nvP" (both its stdout and stderr may be
 * passed, concatenated): the last "size\t<n>" line, or else the sum of the
 * last field of the "full\t..." and "incremental\t..." lines.  A value
 * above 2^63 is OpenZFS's known underflow of resume estimates and reads
 * as unknown.  Returns the byte count or UINT64_MAX when unknown.
 */
uint64_t zf_parse_estimate(const char *text, size_t len);

/*
 * Reads one progress line of "zfs send -vP" ("HH:MM:SS\t<bytes>\t<snap>",
 * or with a blocks column "HH:MM:SS\t<bytes>\t<blocks>\t<snap>").  On
 * success *bytes is the byte count and snap (size snapsz) the snapshot.
 * Returns false for any other line, and for a snapshot that holds a
 * control character or does not fit.
 */
bool zf_parse_progress_line(const char *line, size_t len, uint64_t *bytes,
    char *snap, size_t snapsz);

/* How a failed stage's stderr reads. */
struct zf_verdict {
	enum zf_stage stage; /* ZF_STAGE_SSH when ssh itself failed */
	bool transient; /* a retry may succeed */
	bool known; /* a known message matched */
};

/*
 * Classifies the stderr of a failed child.  stage is where it ran
 * (ZF_STAGE_SEND or ZF_STAGE_RECV); remote says whether it ran through
 * ssh; code is its exit code (zf_child_code()).
 */
struct zf_verdict zf_classify(enum zf_stage stage, bool remote, int code,
    const char *text, size_t len);

/*
 * Makes stderr text fit one message line: trims, joins lines with "; ",
 * writes a NUL byte as '?' (so that what follows it is kept), leaves other
 * control characters for zf_escape().  Writes at most dstsz bytes (NUL
 * included).
 */
void zf_stderr_line(char *dst, size_t dstsz, const char *text, size_t len);

#endif
