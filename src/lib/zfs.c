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
		if (q < end && *q == '[') { /* -[iI], OpenZFS 2.1: -[i|I] */
			for (q++; q < end && (is_letter(*q) || *q == '|'); q++)
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
	size_t cl = strlen(cmd), indent = 0;
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
			indent = (size_t)(w - p);
			set |= line_opts(w + cl, eol);
		} else if (in_cmd && w < eol && (size_t)(w - p) > indent) {
			/* a continuation, indented deeper than the command */
			set |= line_opts(w, eol);
		} else if (w < eol) {
			in_cmd = false; /* another command's line */
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
		/* leading blanks of a line add nothing */
		if ((c == ' ' || c == '\t') && (o == 0 || pending_sep))
			continue;
		if (pending_sep) {
			/* trailing blanks too (a non-blank keeps o > 0) */
			while (dst[o - 1] == ' ' || dst[o - 1] == '\t')
				o--;
			if (o + 3 >= dstsz)
				break;
			memcpy(dst + o, "; ", 2);
			o += 2;
			pending_sep = false;
		}
		/* a NUL would end the line here: what follows it counts too */
		dst[o++] = c != '\0' ? c : '?';
	}
	while (o > 0 && (dst[o - 1] == ' ' || dst[o - 1] == '\t'))
		o--;
	dst[o] = '\0';
}

/* Parses a decimal uint64 at p (up to end); false on overflow or no digit. */
static bool
parse_u64(const char *p, const char *end, uint64_t *out, const char **next)
{
	uint64_t v = 0;
	const char *s = p;

	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (p == s)
		return false;
	*out = v;
	*next = p;
	return true;
}

/* The last tab-separated field of a line, as a number. */
static bool
last_field_u64(const char *line, const char *eol, uint64_t *v)
{
	const char *p = eol, *next;

	while (p > line && p[-1] != '\t')
		p--;
	if (p == line)
		return false;
	return parse_u64(p, eol, v, &next) && next == eol;
}

static bool
starts(const char *p, const char *eol, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(eol - p) > n && memcmp(p, word, n) == 0 && p[n] == '\t';
}

uint64_t
zf_parse_estimate(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *eol, *le;
	uint64_t size = UINT64_MAX, sum = 0, v;
	bool have_sum = false, sum_overflow = false;

	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		if (starts(p, le, "size")) {
			if (last_field_u64(p, le, &v))
				size = v;
		} else if (starts(p, le, "full") ||
		    starts(p, le, "incremental")) {
			if (last_field_u64(p, le, &v)) {
				if (v > UINT64_MAX - sum)
					sum_overflow = true;
				else
					sum += v;
				have_sum = true;
			}
		}
		if (eol == end)
			break;
	}
	if (size == UINT64_MAX && have_sum && !sum_overflow)
		size = sum;
	if (size != UINT64_MAX && size > (1ull << 63))
		size = UINT64_MAX;
	return size;
}

bool
zf_parse_progress_line(const char *line, size_t len, uint64_t *bytes,
    char *snap, size_t snapsz)
{
	const char *end = line + len, *p, *next, *f[4];
	size_t nf = 0, n;
	uint64_t v;

	if (len > 0 && end[-1] == '\n')
		end--;
	/* HH:MM:SS */
	if (end - line < 10 || line[2] != ':' || line[5] != ':' ||
	    line[8] != '\t')
		return false;
	for (p = line; p < line + 8; p++)
		if (p != line + 2 && p != line + 5 && !(*p >= '0' && *p <= '9'))
			return false;
	for (p = line + 9; p <= end && nf < 4; p = next + 1) {
		next = memchr(p, '\t', (size_t)(end - p));
		if (next == NULL)
			next = end;
		f[nf++] = p;
		if (next == end)
			break;
	}
	if (nf < 2 || nf > 3 || !parse_u64(f[0], end, &v, &next) ||
	    next >= end || *next != '\t')
		return false;
	if (nf == 3) {
		uint64_t blocks;

		if (!parse_u64(f[1], end, &blocks, &next) || next >= end ||
		    *next != '\t')
			return false;
	}
	n = (size_t)(end - f[nf - 1]);
	if (n == 0 || n >= snapsz)
		return false;
	/* a tab is a field too many; a NUL would cut the name unseen */
	for (p = f[nf - 1]; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	memcpy(snap, f[nf - 1], n);
	snap[n] = '\0';
	*bytes = v;
	return true;
}
