/*
 * fuzz_usage: zf_parse_usage_opts, which reads the option letters of "zfs
 * send", "zfs receive" and "zfs list" from the usage text a (possibly
 * remote) zfs prints.  A forged usage text can at most claim options that
 * zfs then refuses; it must never crash the reader or make it read past
 * the text.
 *
 * Checks: every letter claimed appears in the text after a '-' or inside
 * "-[...]"; no bit outside a-z, A-Z is set; a text without the command's
 * name claims nothing; the result does not depend on bytes after len.
 *
 * Input: the usage text.
 */
#include "fuzz.h"

#include "zfs.h"

static void
check(const char *text, size_t len, const char *cmd)
{
	zf_optset set = zf_parse_usage_opts(text, len, cmd), seen = 0;
	size_t i;
	char c;

	FZ_CHECK((set >> 52) == 0, "bits above Z: %" PRIx64, set);
	if (memmem(text, len, cmd, strlen(cmd)) == NULL)
		FZ_CHECK(set == 0, "'%s' absent but %" PRIx64 " claimed", cmd,
		    set);
	/* letters that follow a '-' or sit inside "-[" ... "]" */
	for (i = 0; i + 1 < len; i++) {
		size_t k;

		if (text[i] != '-')
			continue;
		for (k = i + 1; k < len; k++) {
			c = text[k];
			if (c == '[' || c == '|')
				continue;
			if (zf_opt_bit(c) == 0)
				break;
			seen |= zf_opt_bit(c);
		}
	}
	FZ_CHECK((set & ~seen) == 0,
	    "'%s': %" PRIx64 " claimed, %" PRIx64 " present", cmd, set, seen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cmds[] = {"send", "receive", "list", "recv"};
	char *text = fz_bytes(data, size);
	char *longer = malloc(size + 16);
	size_t i;

	if (longer == NULL)
		abort();
	/* what follows len must not count */
	memcpy(longer, text, size);
	memcpy(longer + size, "\n\tsend -abcdef\n", 16);
	for (i = 0; i < ZF_ARRAY_SIZE(cmds); i++) {
		check(text, size, cmds[i]);
		FZ_CHECK(zf_parse_usage_opts(text, size, cmds[i]) ==
		        zf_parse_usage_opts(longer, size, cmds[i]),
		    "bytes after len were read");
	}
	free(longer);
	free(text);
	return 0;
}
