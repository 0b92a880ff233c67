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
 * leaves other control characters for zf_escape().  Writes at most dstsz
 * bytes (NUL included).
 */
void zf_stderr_line(char *dst, size_t dstsz, const char *text, size_t len);

#endif
