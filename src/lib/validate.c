#include "compat.h"

#include <strings.h>

#include "validate.h"

static bool
zfs_valid_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == ':' || c == ' ';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static const char *
kind_str(unsigned kinds)
{
	switch (kinds) {
	case ZF_NAME_FS:
		return "dataset";
	case ZF_NAME_SNAPSHOT:
		return "snapshot";
	case ZF_NAME_BOOKMARK:
		return "bookmark";
	case ZF_NAME_SNAPSHOT | ZF_NAME_BOOKMARK:
		return "snapshot or bookmark";
	case ZF_NAME_FS | ZF_NAME_SNAPSHOT:
		return "dataset or snapshot";
	default:
		return "ZFS";
	}
}

static enum zf_status
name_fail(struct zf_error *err, const char *what, unsigned kinds,
    const char *name, const char *why)
{
	return zf_fail_input(err, "%s: invalid %s name '%s': %s", what,
	    kind_str(kinds), name, why);
}

static enum zf_status
bad_char(struct zf_error *err, const char *what, unsigned kinds,
    const char *name, char c)
{
	char why[48];

	/* raw: zf_fail_input() escapes the whole message once */
	snprintf(why, sizeof(why), "invalid character '%c'", c);
	return name_fail(err, what, kinds, name, why);
}

static bool
pool_reserved(const char *pool, size_t len)
{
	static const char *const words[] = {"mirror", "raidz", "draid", "spare",
	    "log"};
	size_t i;

	for (i = 0; i < ZF_ARRAY_SIZE(words); i++)
		if (len == strlen(words[i]) && memcmp(pool, words[i], len) == 0)
			return true;
	return false;
}

enum zf_status
zf_check_name(const char *what, const char *name, unsigned kinds,
    enum zf_name_kind *kindp, struct zf_error *err)
{
	const char *p, *start, *end;
	enum zf_name_kind kind = ZF_NAME_FS;
	bool first = true;
	size_t len;

	if (name == NULL || name[0] == '\0')
		return name_fail(err, what, kinds, "", "empty name");
	len = strlen(name);
	if (len >= ZF_NAME_MAX)
		return name_fail(err, what, kinds, name,
		    "longer than 255 bytes");
	if (name[0] == '/')
		return name_fail(err, what, kinds, name, "leading slash");
	for (p = name; *p != '\0'; p++)
		if (!zfs_valid_char(*p) && *p != '/' && *p != '@' && *p != '#')
			return bad_char(err, what, kinds, name, *p);

	start = name;
	for (;;) {
		end = start;
		while (
		    *end != '\0' && *end != '/' && *end != '@' && *end != '#')
			end++;
		if (end == start)
			return name_fail(err, what, kinds, name,
			    *end == '\0' && end > name && end[-1] == '/'
			        ? "trailing slash"
			        : "empty component");
		if ((end - start == 1 && start[0] == '.') ||
		    (end - start == 2 && start[0] == '.' && start[1] == '.'))
			return name_fail(err, what, kinds, name,
			    "'.' and '..' are not allowed as components");
		if (first) {
			if (!is_alpha(start[0]))
				return name_fail(err, what, kinds, name,
				    "the pool name must begin with a letter");
			if (pool_reserved(start, (size_t)(end - start)))
				return name_fail(err, what, kinds, name,
				    "the pool name is reserved");
			if (start[0] == 'c' && end - start >= 2 &&
			    is_digit(start[1]))
				return name_fail(err, what, kinds, name,
				    "the pool name looks like a disk name");
			first = false;
		}
		if (*end == '\0')
			break;
		if (kind != ZF_NAME_FS) {
			return name_fail(err, what, kinds, name,
			    *end == '/' ? "'/' after the '@' or '#' delimiter"
			                : "more than one '@' or '#' delimiter");
		}
		if (*end == '@')
			kind = ZF_NAME_SNAPSHOT;
		else if (*end == '#')
			kind = ZF_NAME_BOOKMARK;
		start = end + 1;
	}
	if ((kinds & kind) == 0) {
		char why[80];

		snprintf(why, sizeof(why), "a %s, not a %s", kind_str(kinds),
		    kind_str(kind));
		if (kind == ZF_NAME_FS && (kinds & ZF_NAME_SNAPSHOT))
			snprintf(why, sizeof(why),
			    "a %s is needed (add @snapshot)", kind_str(kinds));
		return name_fail(err, what, kinds, name, why);
	}
	if (kindp != NULL)
		*kindp = kind;
	return ZF_OK;
}

enum zf_status
zf_check_short_name(const char *what, const char *name, struct zf_error *err)
{
	const char *p;

	if (name == NULL || name[0] == '\0')
		return name_fail(err, what, ZF_NAME_SNAPSHOT, "", "empty name");
	if (strlen(name) >= ZF_NAME_MAX)
		return name_fail(err, what, ZF_NAME_SNAPSHOT, name,
		    "longer than 255 bytes");
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return name_fail(err, what, ZF_NAME_SNAPSHOT, name,
		    "'.' and '..' are not allowed");
	for (p = name; *p != '\0'; p++)
		if (!zfs_valid_char(*p))
			return bad_char(err, what, ZF_NAME_SNAPSHOT, name, *p);
	return ZF_OK;
}

enum zf_status
zf_check_prop_name(const char *what, const char *name, struct zf_error *err)
{
	const char *p;

	if (name == NULL || name[0] == '\0')
		return zf_fail_input(err, "%s: empty property name", what);
	if (strlen(name) >= ZF_PROP_NAME_MAX)
		return zf_fail_input(err,
		    "%s: property name '%s' is longer than 255 bytes", what,
		    name);
	if (!(name[0] >= 'a' && name[0] <= 'z'))
		return zf_fail_input(err,
		    "%s: invalid property name '%s': must begin with a lowercase letter",
		    what, name);
	for (p = name; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
		        c == '-' || c == '.' || c == ':')) {
			return zf_fail_input(err,
			    "%s: invalid property name '%s': invalid character '%c'",
			    what, name, c);
		}
	}
	return ZF_OK;
}

enum zf_status
zf_check_prop_assign(const char *what, const char *assign, struct zf_error *err)
{
	const char *eq;
	char name[ZF_PROP_NAME_MAX];
	size_t n;

	if (assign == NULL || (eq = strchr(assign, '=')) == NULL)
		return zf_fail_input(err, "%s: '%s' is not PROPERTY=VALUE",
		    what, assign == NULL ? "" : assign);
	n = (size_t)(eq - assign);
	if (n >= sizeof(name))
		return zf_fail_input(err,
		    "%s: property name in '%s' is longer than 255 bytes", what,
		    assign);
	memcpy(name, assign, n);
	name[n] = '\0';
	if (zf_check_prop_name(what, name, err) != ZF_OK)
		return ZF_E_INVALID;
	if (strlen(eq + 1) >= ZF_PROP_VALUE_MAX)
		return zf_fail_input(err,
		    "%s: value of property '%s' is longer than %d bytes", what,
		    name, ZF_PROP_VALUE_MAX - 1);
	return ZF_OK;
}

static bool
valid_ipv6(const char *s)
{
	const char *p;
	size_t colons = 0;

	for (p = s; *p != '\0' && *p != '%'; p++) {
		if (*p == ':')
			colons++;
		else if (!(is_digit(*p) || (*p >= 'a' && *p <= 'f') ||
		             (*p >= 'A' && *p <= 'F') || *p == '.'))
			return false;
	}
	if (colons < 2)
		return false;
	if (*p == '%') { /* zone: an interface name */
		if (p[1] == '\0')
			return false;
		for (p++; *p != '\0'; p++)
			if (!is_alnum(*p) && *p != '_' && *p != '.' &&
			    *p != '-')
				return false;
	}
	return true;
}

enum zf_status
zf_check_host(const char *what, const char *host, struct zf_error *err)
{
	const char *p;

	if (host == NULL || host[0] == '\0')
		return zf_fail_input(err, "%s: empty host name", what);
	if (strlen(host) >= ZF_HOST_MAX)
		return zf_fail_input(err,
		    "%s: host name '%s' is longer than 255 bytes", what, host);
	if (host[0] == '-')
		return zf_fail_input(err,
		    "%s: host name '%s' must not begin with '-' (it would be read as an option)",
		    what, host);
	if (strchr(host, ':') != NULL) {
		if (valid_ipv6(host))
			return ZF_OK;
		return zf_fail_input(err, "%s: invalid IPv6 address '%s'", what,
		    host);
	}
	if (host[0] == '.')
		return zf_fail_input(err,
		    "%s: invalid host name '%s': must not begin with '.'", what,
		    host);
	for (p = host; *p != '\0'; p++) {
		if (!is_alnum(*p) && *p != '.' && *p != '-' && *p != '_') {
			return zf_fail_input(err,
			    "%s: invalid host name '%s': invalid character '%c'",
			    what, host, *p);
		}
	}
	return ZF_OK;
}

enum zf_status
zf_check_user(const char *what, const char *user, struct zf_error *err)
{
	const char *p;
	size_t len;

	if (user == NULL || user[0] == '\0')
		return zf_fail_input(err, "%s: empty user name", what);
	len = strlen(user);
	if (len >= ZF_USER_MAX)
		return zf_fail_input(err,
		    "%s: user name '%s' is longer than 255 bytes", what, user);
	if (user[0] == '-')
		return zf_fail_input(err,
		    "%s: user name '%s' must not begin with '-' (it would be read as an option)",
		    what, user);
	for (p = user; *p != '\0'; p++) {
		if (is_alnum(*p) || *p == '.' || *p == '_' || *p == '-')
			continue;
		if (*p == '$' && p[1] == '\0' && p != user)
			continue;
		return zf_fail_input(err,
		    "%s: invalid user name '%s': invalid character '%c'", what,
		    user, *p);
	}
	return ZF_OK;
}

/* --- ssh options --------------------------------------------------- */

enum optval {
	V_ALGOS, /* comma list of algorithm names, with +-^ prefix */
	V_UINT, /* 0 .. 2^31-1 */
	V_YESNO,
	V_HOST, /* host name or address */
	V_ADDRFAM,
	V_QOS,
	V_REKEY,
	V_LOGLEVEL,
	V_STRICT, /* StrictHostKeyChecking: only "yes" */
};

struct optspec {
	const char *name;
	enum optval val;
};

static const struct optspec ssh_allowed[] = {
    {"AddressFamily", V_ADDRFAM},
    {"BindAddress", V_HOST},
    {"CheckHostIP", V_YESNO},
    {"Ciphers", V_ALGOS},
    {"Compression", V_YESNO},
    {"ConnectionAttempts", V_UINT},
    {"ConnectTimeout", V_UINT},
    {"HostKeyAlgorithms", V_ALGOS},
    {"HostKeyAlias", V_HOST},
    {"IdentitiesOnly", V_YESNO},
    {"IPQoS", V_QOS},
    {"KexAlgorithms", V_ALGOS},
    {"LogLevel", V_LOGLEVEL},
    {"MACs", V_ALGOS},
    {"PubkeyAcceptedAlgorithms", V_ALGOS},
    {"PubkeyAcceptedKeyTypes", V_ALGOS},
    {"RekeyLimit", V_REKEY},
    {"ServerAliveCountMax", V_UINT},
    {"ServerAliveInterval", V_UINT},
    {"StrictHostKeyChecking", V_STRICT},
    {"TCPKeepAlive", V_YESNO},
};

struct optdeny {
	const char *name;
	const char *why;
};

static const struct optdeny ssh_denied[] = {
    {"ProxyCommand", "it runs a local command"},
    {"LocalCommand", "it runs a local command"},
    {"PermitLocalCommand", "it lets LocalCommand run a local command"},
    {"KnownHostsCommand", "it runs a local command"},
    {"RemoteCommand", "it replaces the remote zfs command"},
    {"Include", "it reads further configuration that is not checked"},
    {"Match", "its exec criterion runs a local command"},
    {"ProxyJump", "the jump host would not get zferry's checks"},
    {"PKCS11Provider", "it loads a shared library"},
    {"SecurityKeyProvider", "it loads a shared library"},
    {"UserKnownHostsFile", "use --known-hosts FILE"},
    {"GlobalKnownHostsFile", "use --known-hosts FILE"},
    {"IdentityFile", "use --ssh-key FILE"},
    {"Port", "use --ssh-port N"},
    {"User", "write user@host"},
    {"Hostname", "it would send the stream to another host"},
    {"ControlMaster", "zferry manages connection sharing itself"},
    {"ControlPath", "zferry manages connection sharing itself"},
    {"ControlPersist", "zferry manages connection sharing itself"},
    {"ForwardAgent", "it exposes the local ssh agent to the remote host"},
    {"ForwardX11", "forwarding has no place in a zfs stream"},
    {"LocalForward", "forwarding has no place in a zfs stream"},
    {"RemoteForward", "forwarding has no place in a zfs stream"},
    {"DynamicForward", "forwarding has no place in a zfs stream"},
    {"Tunnel", "forwarding has no place in a zfs stream"},
    {"SendEnv", "it passes local environment to the remote command"},
    {"SetEnv", "it sets the remote command's environment"},
    {"BatchMode", "zferry never prompts: BatchMode is always yes"},
    {"UpdateHostKeys", "it rewrites known_hosts"},
    {"VerifyHostKeyDNS", "it can trust host keys from DNS"},
    {"StrictHostKeyChecking",
        "only 'yes' is allowed: an unknown host key is always refused"},
};

static bool
algo_char(char c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '@' || c == '_';
}

static bool
valid_algos(const char *v)
{
	const char *p = v;

	if (*p == '+' || *p == '-' || *p == '^')
		p++;
	if (*p == '\0')
		return false;
	for (;;) {
		const char *s = p;

		while (algo_char(*p))
			p++;
		if (p == s)
			return false;
		if (*p == '\0')
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

static bool
in_list(const char *v, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(v, *list) == 0)
			return true;
	return false;
}

static bool
value_ok(enum optval t, const char *v)
{
	static const char *const yesno[] = {"yes", "no", NULL};
	static const char *const fam[] = {"any", "inet", "inet6", NULL};
	static const char *const levels[] = {"QUIET", "FATAL", "ERROR", "INFO",
	    "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", NULL};
	const char *p;

	switch (t) {
	case V_ALGOS:
		return valid_algos(v);
	case V_UINT:
		if (*v == '\0' || strlen(v) > 9)
			return false;
		for (p = v; *p != '\0'; p++)
			if (!is_digit(*p))
				return false;
		return true;
	case V_YESNO:
		return in_list(v, yesno);
	case V_HOST:
		return zf_check_host("", v, NULL) == ZF_OK;
	case V_ADDRFAM:
		return in_list(v, fam);
	case V_QOS:
		if (*v == '\0' || strlen(v) > 16)
			return false;
		for (p = v; *p != '\0'; p++)
			if (!is_alnum(*p))
				return false;
		return true;
	case V_REKEY:
		if (strcasecmp(v, "default") == 0)
			return true;
		for (p = v; is_digit(*p); p++)
			;
		if (p == v || p - v > 12)
			return false;
		if (*p == 'K' || *p == 'M' || *p == 'G' || *p == 'k' ||
		    *p == 'm' || *p == 'g')
			p++;
		return *p == '\0';
	case V_LOGLEVEL:
		return in_list(v, levels);
	case V_STRICT:
		return strcasecmp(v, "yes") == 0;
	}
	return false;
}

enum zf_status
zf_check_ssh_option(const char *opt, char *canon, size_t canon_size,
    struct zf_error *err)
{
	char key[64];
	const char *v;
	size_t klen, i;

	if (opt == NULL || opt[0] == '\0')
		return zf_fail_input(err, "--ssh-option: empty option");
	if (strlen(opt) > 1024)
		return zf_fail_input(err, "--ssh-option: '%s' is too long",
		    opt);
	for (klen = 0; is_alnum(opt[klen]); klen++)
		;
	if (klen == 0 || klen >= sizeof(key))
		return zf_fail_input(err,
		    "--ssh-option: '%s' does not start with an option name",
		    opt);
	memcpy(key, opt, klen);
	key[klen] = '\0';
	/* ssh takes "Key=Value" and "Key Value"; one separator only */
	if (opt[klen] != '=' && opt[klen] != ' ')
		return zf_fail_input(err, "--ssh-option: '%s' is not KEY=VALUE",
		    opt);
	v = opt + klen + 1;
	for (i = 0; i < ZF_ARRAY_SIZE(ssh_allowed); i++) {
		const struct optspec *s = &ssh_allowed[i];
		const char *p;

		if (strcasecmp(key, s->name) != 0)
			continue;
		for (p = v; *p != '\0'; p++) {
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				return zf_fail_input(err,
				    "--ssh-option: value of %s in '%s' holds whitespace or a control character",
				    s->name, opt);
			}
			if (*p == '%')
				return zf_fail_input(err,
				    "--ssh-option: value of %s in '%s' holds '%%', which ssh would expand",
				    s->name, opt);
		}
		if (!value_ok(s->val, v)) {
			size_t d;

			for (d = 0; d < ZF_ARRAY_SIZE(ssh_denied); d++)
				if (strcasecmp(key, ssh_denied[d].name) == 0)
					return zf_fail_input(err,
					    "--ssh-option: '%s' is refused: %s",
					    opt, ssh_denied[d].why);
			return zf_fail_input(err,
			    "--ssh-option: invalid value '%s' for %s", v,
			    s->name);
		}
		if (canon != NULL) {
			int n =
			    snprintf(canon, canon_size, "%s=%s", s->name, v);

			if (n < 0 || (size_t)n >= canon_size)
				return zf_fail_input(err,
				    "--ssh-option: '%s' is too long", opt);
		}
		return ZF_OK;
	}
	for (i = 0; i < ZF_ARRAY_SIZE(ssh_denied); i++)
		if (strcasecmp(key, ssh_denied[i].name) == 0)
			return zf_fail_input(err,
			    "--ssh-option: '%s' is refused: %s", opt,
			    ssh_denied[i].why);
	return zf_fail_input(err,
	    "--ssh-option: '%s' is not in the allowlist of options that tune the connection (see zferry --help)",
	    key);
}

enum zf_status
zf_check_cipher_list(const char *what, const char *list, struct zf_error *err)
{
	if (list == NULL || strlen(list) > 512 || !valid_algos(list))
		return zf_fail_input(err, "%s: invalid cipher list '%s'", what,
		    list == NULL ? "" : list);
	return ZF_OK;
}

/* --- numbers --------------------------------------------------------- */

/* Parses leading decimal digits; *end is set past them. */
static bool
parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (!is_digit(*p))
		return false;
	for (; is_digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return true;
}

static enum zf_status
range_fail(struct zf_error *err, const char *what, const char *s,
    const char *why)
{
	return zf_fail_input(err, "%s: invalid value '%s': %s", what, s, why);
}

static enum zf_status
check_range(const char *what, const char *s, uint64_t v, uint64_t min,
    uint64_t max, struct zf_error *err)
{
	char why[96];

	if (v < min || v > max) {
		snprintf(why, sizeof(why),
		    "out of range (%" PRIu64 " to %" PRIu64 ")", min, max);
		return range_fail(err, what, s, why);
	}
	return ZF_OK;
}

enum zf_status
zf_parse_u64(const char *what, const char *s, uint64_t min, uint64_t max,
    uint64_t *out, struct zf_error *err)
{
	const char *end;
	uint64_t v;

	if (s == NULL || !parse_digits(s, &v, &end))
		return range_fail(err, what, s == NULL ? "" : s,
		    s != NULL && is_digit(*s) ? "too large" : "not a number");
	if (*end != '\0')
		return range_fail(err, what, s, "not a number");
	if (check_range(what, s, v, min, max, err) != ZF_OK)
		return ZF_E_INVALID;
	*out = v;
	return ZF_OK;
}

struct unit {
	const char *name;
	uint64_t mult;
};

/* shown: the input as the user wrote it, for messages */
static enum zf_status
parse_with_units(const char *what, const char *s, const char *shown,
    const struct unit *units, size_t nunits, uint64_t min, uint64_t max,
    uint64_t *out, struct zf_error *err)
{
	const char *end;
	uint64_t v;
	size_t i;

	if (s == NULL || !parse_digits(s, &v, &end))
		return range_fail(err, what, s == NULL ? "" : shown,
		    s != NULL && is_digit(*s) ? "too large" : "not a number");
	for (i = 0; i < nunits; i++) {
		if (strcmp(end, units[i].name) != 0)
			continue;
		if (units[i].mult != 0 && v > UINT64_MAX / units[i].mult)
			return range_fail(err, what, shown, "too large");
		v *= units[i].mult;
		if (check_range(what, shown, v, min, max, err) != ZF_OK)
			return ZF_E_INVALID;
		*out = v;
		return ZF_OK;
	}
	return range_fail(err, what, shown, "unknown unit");
}

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define TIB (1024ull * GIB)

static const struct unit size_units[] = {
    {"", 1},
    {"B", 1},
    {"k", KIB},
    {"K", KIB},
    {"KiB", KIB},
    {"M", MIB},
    {"MiB", MIB},
    {"G", GIB},
    {"GiB", GIB},
    {"T", TIB},
    {"TiB", TIB},
};

enum zf_status
zf_parse_size(const char *what, const char *s, uint64_t min, uint64_t max,
    uint64_t *out, struct zf_error *err)
{
	return parse_with_units(what, s, s, size_units,
	    ZF_ARRAY_SIZE(size_units), min, max, out, err);
}

enum zf_status
zf_parse_rate(const char *what, const char *s, uint64_t min, uint64_t max,
    uint64_t *out, struct zf_error *err)
{
	char tmp[64];
	size_t n;

	if (s == NULL)
		return range_fail(err, what, "", "not a number");
	n = strlen(s);
	/* "10M/s": the error, if any, is about the number (and names s) */
	if (n > 2 && n < sizeof(tmp) && strcmp(s + n - 2, "/s") == 0) {
		memcpy(tmp, s, n - 2);
		tmp[n - 2] = '\0';
		return parse_with_units(what, tmp, s, size_units,
		    ZF_ARRAY_SIZE(size_units), min, max, out, err);
	}
	return zf_parse_size(what, s, min, max, out, err);
}

static const struct unit time_units[] = {
    {"", 1000},
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"min", 60 * 1000},
    {"h", 3600 * 1000},
    {"d", 86400 * 1000},
};

enum zf_status
zf_parse_duration(const char *what, const char *s, uint64_t min_ms,
    uint64_t max_ms, uint64_t *out_ms, struct zf_error *err)
{
	return parse_with_units(what, s, s, time_units,
	    ZF_ARRAY_SIZE(time_units), min_ms, max_ms, out_ms, err);
}

enum zf_status
zf_parse_compress(const char *what, const char *s, enum zf_compress_alg *alg,
    int *level, struct zf_error *err)
{
	static const struct {
		const char *name;
		enum zf_compress_alg alg;
		uint64_t max;
	} algs[] = {
	    {"zstd", ZF_COMPRESS_ZSTD, 19},
	    {"lz4", ZF_COMPRESS_LZ4, 12},
	    {"none", ZF_COMPRESS_NONE, 0},
	    {"auto", ZF_COMPRESS_AUTO, 0},
	};
	const char *colon;
	size_t n, i;
	uint64_t v;

	if (s == NULL)
		return zf_fail_input(err, "%s: missing algorithm", what);
	colon = strchr(s, ':');
	n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	for (i = 0; i < ZF_ARRAY_SIZE(algs); i++) {
		if (strlen(algs[i].name) != n ||
		    memcmp(s, algs[i].name, n) != 0)
			continue;
		*alg = algs[i].alg;
		*level = 0;
		if (colon == NULL)
			return ZF_OK;
		if (algs[i].max == 0)
			return zf_fail_input(err, "%s: '%s' takes no level",
			    what, algs[i].name);
		if (zf_parse_u64(what, colon + 1, 1, algs[i].max, &v, err))
			return ZF_E_INVALID;
		*level = (int)v;
		return ZF_OK;
	}
	return zf_fail_input(err,
	    "%s: unknown algorithm '%s' (zstd[:LEVEL], lz4[:LEVEL], none, auto)",
	    what, s);
}
