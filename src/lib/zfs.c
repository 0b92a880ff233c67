#include "compat.h"

#include "zfs.h"

static bool
is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Collects letters after each '-' that starts an option in one line. */
static zf_optset
line_opts(const char *p, const char *end)
{
	zf_optset set = 0;
	const char *q;

	for (; p < end; p++) {
		if (*p != '-')
			continue;
		/* an option starts a word: after '[', '|', '(' or blank */
		if (!(p == end || p[-1] == '[' || p[-1] == ' ' ||
		        p[-1] == '\t' || p[-1] == '|' || p[-1] == '('))
			continue;
		q = p + 1;
		if (q < end && *q == '[') { /* -[iI] */
			for (q++; q < end && is_letter(*q); q++)
				set |= zf_opt_bit(*q);
			p = q;
			continue;
		}
		if (q < end && *q == '-') /* a long option */
			continue;
		for (; q < end && is_letter(*q); q++)
			set |= zf_opt_bit(*q);
		p = q - 1;
	}
	return set;
}

zf_optset
zf_parse_usage_opts(const char *text, size_t len, const char *cmd)
{
	const char *p = text, *end = text + len, *eol, *w;
	size_t cl = strlen(cmd);
	bool in_cmd = false;
	zf_optset set = 0;

	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		for (w = p; w < eol && (*w == ' ' || *w == '\t'); w++)
			;
		if (w == p && w < eol) {
			in_cmd =
			    false; /* "usage:" and prose are not indented */
			continue;
		}
		if (w > p && (size_t)(eol - w) >= cl &&
		    memcmp(w, cmd, cl) == 0 &&
		    (w + cl == eol || w[cl] == ' ' || w[cl] == '\t')) {
			in_cmd = true;
			set |= line_opts(w + cl, eol);
		} else if (in_cmd && w > p && w < eol) {
			/* an indented continuation of the command's usage */
			set |= line_opts(w, eol);
		}
		if (eol == end)
			break;
	}
	return set;
}

static bool
has(const char *text, size_t len, const char *needle)
{
	return memmem(text, len, needle, strlen(needle)) != NULL;
}

struct pattern {
	const char *text;
	enum zf_stage stage; /* ZF_STAGE_NONE: the stage that ran */
	bool transient;
};

/* ssh's own messages: these mean the connection, not zfs, failed. */
static const struct pattern ssh_patterns[] = {
    {"Host key verification failed", ZF_STAGE_SSH, false},
    {"REMOTE HOST IDENTIFICATION HAS CHANGED", ZF_STAGE_SSH, false},
    {"No matching host key type found", ZF_STAGE_SSH, false},
    {"Permission denied (", ZF_STAGE_SSH, false},
    {"Too many authentication failures", ZF_STAGE_SSH, false},
    {"no matching cipher found", ZF_STAGE_SSH, false},
    {"no matching MAC found", ZF_STAGE_SSH, false},
    {"no matching key exchange method", ZF_STAGE_SSH, false},
    {"Bad configuration option", ZF_STAGE_SSH, false},
    {"Bad SSH2 ", ZF_STAGE_SSH, false}, /* cipher, MAC or kex spec */
    {"Unknown cipher", ZF_STAGE_SSH, false},
    {"Load key", ZF_STAGE_SSH, false},
    {"UNPROTECTED PRIVATE KEY FILE", ZF_STAGE_SSH, false},
    {"Name or service not known", ZF_STAGE_SSH, false},
    {"Temporary failure in name resolution", ZF_STAGE_SSH, true},
    {"Could not resolve hostname", ZF_STAGE_SSH, true},
    {"Connection refused", ZF_STAGE_SSH, true},
    {"Connection timed out", ZF_STAGE_SSH, true},
    {"Operation timed out", ZF_STAGE_SSH, true},
    {"No route to host", ZF_STAGE_SSH, true},
    {"Network is unreachable", ZF_STAGE_SSH, true},
    {"Connection reset", ZF_STAGE_SSH, true},
    {"Connection closed by", ZF_STAGE_SSH, true},
    {"Connection to ", ZF_STAGE_SSH, true}, /* "... closed by remote" */
    {"kex_exchange_identification", ZF_STAGE_SSH, true},
    {"ssh_exchange_identification", ZF_STAGE_SSH, true},
    {"Timeout, server", ZF_STAGE_SSH, true},
    {"client_loop: send disconnect", ZF_STAGE_SSH, true},
    {"Broken pipe", ZF_STAGE_SSH, true},
    {"ssh: connect to host", ZF_STAGE_SSH, true},
};

/* zfs messages (zfs-facts 4.5) whose retry may succeed. */
static const struct pattern zfs_patterns[] = {
    {"dataset is busy", ZF_STAGE_NONE, true},
    {"contains partially-complete state", ZF_STAGE_NONE, true},
    {"pool I/O is currently suspended", ZF_STAGE_NONE, true},
    {"Device or resource busy", ZF_STAGE_NONE, true},
    {"failed to read from stream", ZF_STAGE_NONE, true},
    {"incomplete stream", ZF_STAGE_NONE, true},
    {"cannot receive", ZF_STAGE_NONE, false},
    {"cannot send", ZF_STAGE_NONE, false},
    {"cannot open", ZF_STAGE_NONE, false},
    {"cannot resume", ZF_STAGE_NONE, false},
    {"does not exist", ZF_STAGE_NONE, false},
    {"invalid option", ZF_STAGE_NONE, false},
    {"usage:", ZF_STAGE_NONE, false},
    {"not found", ZF_STAGE_NONE, false}, /* remote "zfs: not found" */
    {"No such file or directory", ZF_STAGE_NONE, false},
    {"permission denied", ZF_STAGE_NONE, false},
};

struct zf_verdict
zf_classify(enum zf_stage stage, bool remote, int code, const char *text,
    size_t len)
{
	struct zf_verdict v = {stage, false, false};
	size_t i;

	if (remote) {
		/* a zfs message means the connection worked */
		bool zfs_said = has(text, len, "cannot ") ||
		    has(text, len, "usage:") ||
		    has(text, len, "invalid option") || has(text, len, "zfs: ");

		for (i = 0; !zfs_said && i < ZF_ARRAY_SIZE(ssh_patterns); i++) {
			if (has(text, len, ssh_patterns[i].text)) {
				v.stage = ZF_STAGE_SSH;
				v.transient = ssh_patterns[i].transient;
				v.known = true;
				return v;
			}
		}
		if (code == 255 && !zfs_said) {
			/*
			 * ssh's own status and no zfs text.  Silence means
			 * the link broke (transient); an unknown message is
			 * more likely a setting that a retry will not fix.
			 */
			size_t i2;
			bool blank = true;

			for (i2 = 0; i2 < len; i2++)
				if (text[i2] != ' ' && text[i2] != '\n' &&
				    text[i2] != '\t' && text[i2] != '\r')
					blank = false;
			v.stage = ZF_STAGE_SSH;
			v.transient = blank;
			return v;
		}
	}
	for (i = 0; i < ZF_ARRAY_SIZE(zfs_patterns); i++) {
		if (has(text, len, zfs_patterns[i].text)) {
			v.transient = zfs_patterns[i].transient;
			v.known = true;
			return v;
		}
	}
	return v;
}

void
zf_stderr_line(char *dst, size_t dstsz, const char *text, size_t len)
{
	size_t o = 0, i;
	bool pending_sep = false;

	if (dstsz == 0)
		return;
	for (i = 0; i < len && o + 1 < dstsz; i++) {
		char c = text[i];

		if (c == '\n' || c == '\r') {
			pending_sep = o > 0;
			continue;
		}
		if (pending_sep) {
			if (o + 3 >= dstsz)
				break;
			memcpy(dst + o, "; ", 2);
			o += 2;
			pending_sep = false;
		}
		/* leading blanks of a continuation line add nothing */
		if ((c == ' ' || c == '\t') && o >= 2 && dst[o - 1] == ' ' &&
		    dst[o - 2] == ';')
			continue;
		dst[o++] = c;
	}
	while (o > 0 && (dst[o - 1] == ' ' || dst[o - 1] == '\t'))
		o--;
	dst[o] = '\0';
}
