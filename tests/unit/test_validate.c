/*
 * test_validate.c: the checks of untrusted text in validate.c, table by
 * table.  Each refused input must come back as ZF_E_INVALID at the input
 * stage, with a message that starts with the label, names the input
 * (escaped: control characters as "\n", "\x1b", never raw) and says what
 * is wrong with it.
 */
#include "compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "validate.h"

#define FS ZF_NAME_FS
#define SN ZF_NAME_SNAPSHOT
#define BM ZF_NAME_BOOKMARK
#define ALL (ZF_NAME_FS | ZF_NAME_SNAPSHOT | ZF_NAME_BOOKMARK)

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/*
 * Checks one outcome.  For a refusal: the code, the stage, the label first,
 * the expected reason, no raw control byte, and (when quote_input) the
 * input itself, escaped and in quotes.
 */
static void
check_outcome(size_t row, const char *label, const char *input,
    enum zf_status got, const struct zf_error *err, bool want_ok,
    const char *reason, bool quote_input)
{
	char esc[4 * 1100 + 8], quoted[4 * 1100 + 16];

	if (want_ok) {
		if (got != ZF_OK || err->code != ZF_OK)
			fail_msg("row %zu '%s': refused: %s", row, input,
			    err->msg);
		return;
	}
	if (got != ZF_E_INVALID || err->code != ZF_E_INVALID)
		fail_msg("row %zu: accepted (status %d) but should be refused",
		    row, (int)got);
	if (err->stage != ZF_STAGE_INPUT)
		fail_msg("row %zu: stage %d, not input", row, (int)err->stage);
	if (!printable(err->msg))
		fail_msg("row %zu: raw control byte in \"%s\"", row, err->msg);
	if (label != NULL && strncmp(err->msg, label, strlen(label)) != 0)
		fail_msg("row %zu: \"%s\" does not start with \"%s\"", row,
		    err->msg, label);
	if (reason != NULL && strstr(err->msg, reason) == NULL)
		fail_msg("row %zu: \"%s\" does not say \"%s\"", row, err->msg,
		    reason);
	if (quote_input) {
		zf_escape(esc, sizeof(esc), input, strlen(input));
		snprintf(quoted, sizeof(quoted), "'%s'", esc);
		if (strstr(err->msg, quoted) == NULL)
			fail_msg("row %zu: \"%s\" does not name %s", row,
			    err->msg, quoted);
	}
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* --- zf_check_name --------------------------------------------------- */

struct name_case {
	const char *in;
	unsigned kinds;
	bool ok;
	enum zf_name_kind kind; /* when ok */
	const char *reason; /* when refused */
};

static const struct name_case name_cases[] = {
    {"pool", FS, true, FS, NULL},
    {"pool/fs", FS, true, FS, NULL},
    {"pool/fs/sub/deeper", FS, true, FS, NULL},
    {"p", FS, true, FS, NULL},
    {"Pool9", FS, true, FS, NULL},
    {"pool/with space", FS, true, FS, NULL},
    {"pool/a-b_c.d:e", FS, true, FS, NULL},
    {"pool/.hidden", FS, true, FS, NULL},
    {"pool/..x", FS, true, FS, NULL},
    {"pool/...", FS, true, FS, NULL},
    {"pool/-leading-dash", FS, true, FS, NULL},
    {"pool@snap", SN, true, SN, NULL},
    {"pool/fs@snap", SN, true, SN, NULL},
    {"pool/fs@snap with space", SN, true, SN, NULL},
    {"pool/fs@2024-01-01T10:00:00", SN, true, SN, NULL},
    {"pool/fs#bm", BM, true, BM, NULL},
    {"pool/fs#bm", SN | BM, true, BM, NULL},
    {"pool/fs@s", FS | SN, true, SN, NULL},
    {"pool/fs", ALL, true, FS, NULL},
    /* only the exact words are reserved; c + letter is no disk name */
    {"mirrorpool/fs", FS, true, FS, NULL},
    {"logs", FS, true, FS, NULL},
    {"cpool/fs", FS, true, FS, NULL},
    {"c/fs", FS, true, FS, NULL},

    {"", FS, false, 0, "empty name"},
    {"/pool", FS, false, 0, "leading slash"},
    {"pool/", FS, false, 0, "trailing slash"},
    {"pool//fs", FS, false, 0, "empty component"},
    {"pool/@s", SN, false, 0, "empty component"},
    {"pool@", SN, false, 0, "empty component"},
    {"pool/fs#", BM, false, 0, "empty component"},
    {"@s", SN, false, 0, "empty component"},
    {".", FS, false, 0, "'.' and '..'"},
    {"pool/.", FS, false, 0, "'.' and '..'"},
    {"pool/../x", FS, false, 0, "'.' and '..'"},
    {"pool@..", SN, false, 0, "'.' and '..'"},
    {"pool/a@b@c", SN, false, 0, "more than one '@' or '#'"},
    {"pool/a@b#c", ALL, false, 0, "more than one '@' or '#'"},
    {"pool/a@b/c", SN, false, 0, "'/' after the '@' or '#'"},
    {"pool/a#b/c", BM, false, 0, "'/' after the '@' or '#'"},
    {"1pool/fs", FS, false, 0, "must begin with a letter"},
    {"_pool", FS, false, 0, "must begin with a letter"},
    {" pool", FS, false, 0, "must begin with a letter"},
    {"-pool/fs", FS, false, 0, "must begin with a letter"},
    {"-o", FS, false, 0, "must begin with a letter"},
    {"mirror", FS, false, 0, "reserved"},
    {"mirror/fs", FS, false, 0, "reserved"},
    {"raidz/fs", FS, false, 0, "reserved"},
    {"draid@s", SN, false, 0, "reserved"},
    {"spare/fs", FS, false, 0, "reserved"},
    {"log/fs", FS, false, 0, "reserved"},
    {"c0t0d0/fs", FS, false, 0, "looks like a disk name"},
    {"c1", FS, false, 0, "looks like a disk name"},
    {"pool/a%b", FS, false, 0, "invalid character '%'"},
    {"pool/fs@a%recv", SN, false, 0, "invalid character '%'"},
    {"pool/a*b", FS, false, 0, "invalid character '*'"},
    {"pool/a;rm -rf", FS, false, 0, "invalid character ';'"},
    {"pool/a$(x)", FS, false, 0, "invalid character '$'"},
    {"pool/a`x`", FS, false, 0, "invalid character '`'"},
    {"pool/a'b", FS, false, 0, "invalid character '''"},
    {"pool/a\"b", FS, false, 0, "invalid character '\"'"},
    {"pool/a|b", FS, false, 0, "invalid character '|'"},
    {"pool/a~b", FS, false, 0, "invalid character '~'"},
    {"pool/a,b", FS, false, 0, "invalid character ','"},
    /* control characters: escaped once, in the name and in the reason */
    {"pool/a\nb", FS, false, 0, "invalid character '\\n'"},
    {"pool/a\tb", FS, false, 0, "invalid character '\\t'"},
    {"pool/a\x1b[2J", FS, false, 0, "invalid character '\\x1b'"},
    {"pool/\xc3\xa9t\xc3\xa9", FS, false, 0, "invalid character '\\xc3'"},
    {"pool/a\\b", FS, false, 0, "invalid character '\\\\'"},
    {"pool/a\x7f", FS, false, 0, "invalid character '\\x7f'"},
    /* the wrong kind: the message says which kind is needed */
    {"pool/fs", SN, false, 0, "snapshot is needed (add @snapshot)"},
    {"pool/fs", SN | BM, false, 0, "(add @snapshot)"},
    {"pool/fs@s", FS, false, 0, "a dataset, not a snapshot"},
    {"pool/fs#b", SN, false, 0, "a snapshot, not a bookmark"},
    {"pool/fs@s", BM, false, 0, "a bookmark, not a snapshot"},
    {"pool/fs#b", FS | SN, false, 0, "a dataset or snapshot, not a bookmark"},
};

static void
test_name_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(name_cases); i++) {
		const struct name_case *c = &name_cases[i];
		struct zf_error err;
		enum zf_name_kind kind = (enum zf_name_kind)0;
		enum zf_status r;

		zf_error_clear(&err);
		r = zf_check_name("source", c->in, c->kinds, &kind, &err);
		check_outcome(i, "source: invalid ", c->in, r, &err, c->ok,
		    c->reason, true);
		if (c->ok && kind != c->kind)
			fail_msg("row %zu '%s': kind %d, want %d", i, c->in,
			    (int)kind, (int)c->kind);
	}
}

static void
test_name_reason_escapes_a_control_character_only_once(void **state)
{
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	zf_check_name("x", "pool/a\x1b", FS, NULL, &err);
	assert_non_null(strstr(err.msg, "'\\x1b'"));
	assert_null(strstr(err.msg, "\\\\x1b"));
	zf_error_clear(&err);
	zf_check_name("x", "pool/a\\b", FS, NULL, &err);
	assert_string_equal(err.msg,
	    "x: invalid dataset name 'pool/a\\\\b': "
	    "invalid character '\\\\'");
}

static void
test_name_message_names_the_wanted_kind(void **state)
{
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	zf_check_name("target", "pool/a*", FS | SN, NULL, &err);
	assert_string_equal(err.msg,
	    "target: invalid dataset or snapshot "
	    "name 'pool/a*': invalid character '*'");
	zf_error_clear(&err);
	zf_check_name("any", "pool/a*", ALL, NULL, &err);
	assert_null(strstr(err.msg, "name name"));
	assert_non_null(strstr(err.msg, "'pool/a*'"));
}

static void
test_name_length_limit_counts_the_snapshot_part(void **state)
{
	char name[300];
	struct zf_error err;
	size_t n;

	(void)state;
	/* 255 bytes in all: accepted; 256: refused, whatever the kind */
	for (n = 255; n <= 256; n++) {
		memset(name, 'a', n);
		memcpy(name, "pool/fs@", 8);
		name[n] = '\0';
		zf_error_clear(&err);
		check_outcome(n, "s: ", name,
		    zf_check_name("s", name, SN, NULL, &err), &err, n == 255,
		    "longer than 255 bytes", true);
		memset(name, 'b', n);
		memcpy(name, "pool/", 5);
		name[n] = '\0';
		zf_error_clear(&err);
		check_outcome(n, "s: ", name,
		    zf_check_name("s", name, FS, NULL, &err), &err, n == 255,
		    "longer than 255 bytes", true);
	}
}

static void
test_name_null_is_refused_as_empty(void **state)
{
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	assert_int_equal(zf_check_name("src", NULL, FS, NULL, &err),
	    ZF_E_INVALID);
	assert_non_null(strstr(err.msg, "empty name"));
	/* kind pointer and error record are optional */
	assert_int_equal(zf_check_name("src", "pool/fs", FS, NULL, NULL),
	    ZF_OK);
	assert_int_equal(zf_check_name("src", "pool/fs@", SN, NULL, NULL),
	    ZF_E_INVALID);
}

/* --- zf_check_short_name ------------------------------------------- */

struct simple_case {
	const char *in;
	bool ok;
	const char *reason;
	bool quote_input;
};

static const struct simple_case short_cases[] = {
    {"snap", true, NULL, false},
    {"2024-01-01 10:00", true, NULL, false},
    {"a.b_c-d:e", true, NULL, false},
    {"...", true, NULL, false},
    {"", false, "empty name", false},
    {".", false, "'.' and '..' are not allowed", true},
    {"..", false, "'.' and '..' are not allowed", true},
    {"a/b", false, "invalid character '/'", true},
    {"a@b", false, "invalid character '@'", true},
    {"a#b", false, "invalid character '#'", true},
    {"a%b", false, "invalid character '%'", true},
    {"a\nb", false, "invalid character '\\n'", true},
    {"$(id)", false, "invalid character '$'", true},
};

static void
test_short_name_table(void **state)
{
	size_t i;
	char *s;
	struct zf_error err;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(short_cases); i++) {
		const struct simple_case *c = &short_cases[i];

		zf_error_clear(&err);
		check_outcome(i, "-i base: ", c->in,
		    zf_check_short_name("-i base", c->in, &err), &err, c->ok,
		    c->reason, c->quote_input);
	}
	s = repeat('s', 255);
	assert_int_equal(zf_check_short_name("b", s, NULL), ZF_OK);
	free(s);
	s = repeat('s', 256);
	zf_error_clear(&err);
	check_outcome(256, "b: ", s, zf_check_short_name("b", s, &err), &err,
	    false, "longer than 255 bytes", true);
	free(s);
}

/* --- properties ------------------------------------------------------ */

static const struct simple_case prop_name_cases[] = {
    {"compression", true, NULL, false},
    {"com.example:prop", true, NULL, false},
    {"org.freebsd:swap", true, NULL, false},
    {"a_b", true, NULL, false},
    {"a1", true, NULL, false},
    {"a-b.c", true, NULL, false},
    {"", false, "empty property name", false},
    {"Compression", false, "must begin with a lowercase letter", true},
    {"1abc", false, "must begin with a lowercase letter", true},
    {":x", false, "must begin with a lowercase letter", true},
    {"-o", false, "must begin with a lowercase letter", true},
    {"com.example:Prop", false, "invalid character 'P'", true},
    {"a b", false, "invalid character ' '", true},
    {"a=b", false, "invalid character '='", true},
    {"a;b", false, "invalid character ';'", true},
    {"a\x1b", false, "invalid character '\\x1b'", true},
};

static void
test_prop_name_table(void **state)
{
	size_t i;
	char *s;
	struct zf_error err;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(prop_name_cases); i++) {
		const struct simple_case *c = &prop_name_cases[i];

		zf_error_clear(&err);
		check_outcome(i, "-x: ", c->in,
		    zf_check_prop_name("-x", c->in, &err), &err, c->ok,
		    c->reason, c->quote_input);
	}
	s = repeat('p', 255);
	assert_int_equal(zf_check_prop_name("-x", s, NULL), ZF_OK);
	free(s);
	s = repeat('p', 256);
	zf_error_clear(&err);
	check_outcome(256, "-x: ", s, zf_check_prop_name("-x", s, &err), &err,
	    false, "longer than 255 bytes", true);
	free(s);
}

static const struct simple_case prop_assign_cases[] = {
    {"compression=lz4", true, NULL, false},
    /* values are carried intact: anything but NUL */
    {"com.example:note=it's \"quoted\"; $(rm -rf /) `id` & | > < * ~ !", true,
        NULL, false},
    {"a=", true, NULL, false},
    {"a=line1\nline2\r\n", true, NULL, false},
    {"a=b=c", true, NULL, false},
    {"a= leading and trailing ", true, NULL, false},
    {"a=\x01\x1b\x7f\xff", true, NULL, false},
    {"noequals", false, "is not PROPERTY=VALUE", true},
    {"", false, "is not PROPERTY=VALUE", true},
    {"=value", false, "empty property name", false},
    {"Bad=1", false, "must begin with a lowercase letter", false},
    {"a b=1", false, "invalid character ' '", false},
    {"a\n=1", false, "invalid character '\\n'", false},
};

static void
test_prop_assign_table(void **state)
{
	size_t i;
	struct zf_error err;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(prop_assign_cases); i++) {
		const struct simple_case *c = &prop_assign_cases[i];

		zf_error_clear(&err);
		check_outcome(i, "-o: ", c->in,
		    zf_check_prop_assign("-o", c->in, &err), &err, c->ok,
		    c->reason, c->quote_input);
	}
	zf_error_clear(&err);
	check_outcome(99, "-o: ", "", zf_check_prop_assign("-o", NULL, &err),
	    &err, false, "is not PROPERTY=VALUE", false);
}

static void
test_prop_assign_length_limits(void **state)
{
	struct zf_error err;
	char *v = malloc(ZF_PROP_VALUE_MAX + 16);
	char *n = malloc(300);
	size_t len;

	(void)state;
	assert_non_null(v);
	assert_non_null(n);
	/*
	 * zfs refuses a value of ZAP_MAXVALUELEN (8192) bytes or more
	 * (zfs_ioctl.c zfs_check_userprops: strlen >= ZAP_MAXVALUELEN is
	 * E2BIG), so 8191 is the longest value that can be received.
	 */
	for (len = ZF_PROP_VALUE_MAX - 2; len <= ZF_PROP_VALUE_MAX + 1; len++) {
		memcpy(v, "u:p=", 4);
		memset(v + 4, 'v', len);
		v[4 + len] = '\0';
		zf_error_clear(&err);
		check_outcome(len, "-o: ", v,
		    zf_check_prop_assign("-o", v, &err), &err,
		    len < ZF_PROP_VALUE_MAX,
		    "value of property 'u:p' is longer", false);
	}
	/* a name of 256 bytes before the '=' */
	memset(n, 'n', 256);
	memcpy(n + 256, "=1", 3);
	zf_error_clear(&err);
	check_outcome(256, "-o: ", n, zf_check_prop_assign("-o", n, &err), &err,
	    false, "longer than 255 bytes", false);
	memcpy(n + 255, "=1", 3);
	assert_int_equal(zf_check_prop_assign("-o", n, NULL), ZF_OK);
	free(v);
	free(n);
}

/* --- hosts and users ------------------------------------------------- */

static const struct simple_case host_cases[] = {
    {"host", true, NULL, false},
    {"a", true, NULL, false},
    {"host.example.com", true, NULL, false},
    {"my_host-1", true, NULL, false},
    {"host.", true, NULL, false},
    {"10.0.0.1", true, NULL, false},
    {"::1", true, NULL, false},
    {"2001:db8::1", true, NULL, false},
    {"fe80::1%eth0", true, NULL, false},
    {"fe80::1%br-lan.10", true, NULL, false},
    {"::ffff:192.0.2.1", true, NULL, false},
    {"", false, "empty host name", false},
    {"-oProxyCommand=x", false, "must not begin with '-'", true},
    {"-", false, "must not begin with '-'", true},
    {"-::1", false, "must not begin with '-'", true},
    {".host", false, "must not begin with '.'", true},
    {"host name", false, "invalid character ' '", true},
    {"host;rm", false, "invalid character ';'", true},
    {"h$(id)", false, "invalid character '$'", true},
    {"h`id`", false, "invalid character '`'", true},
    {"h|x", false, "invalid character '|'", true},
    {"h&", false, "invalid character '&'", true},
    {"h>x", false, "invalid character '>'", true},
    {"h'x", false, "invalid character '''", true},
    {"user@host", false, "invalid character '@'", true},
    {"host/x", false, "invalid character '/'", true},
    {"host%x", false, "invalid character '%'", true},
    {"host\n", false, "invalid character '\\n'", true},
    {"host\x1b[2J", false, "invalid character '\\x1b'", true},
    {"h\xc3\xa9", false, "invalid character '\\xc3'", true},
    {"[::1]", false, "invalid IPv6 address", true},
    {"1:2", false, "invalid IPv6 address", true},
    {"host:22", false, "invalid IPv6 address", true},
    {"::1%", false, "invalid IPv6 address", true},
    {"fe80::1%eth0;id", false, "invalid IPv6 address", true},
    {"fe80::1%eth 0", false, "invalid IPv6 address", true},
    {"::1 ", false, "invalid IPv6 address", true},
    {"::1\n", false, "invalid IPv6 address", true},
};

static void
test_host_table(void **state)
{
	size_t i;
	char *s;
	struct zf_error err;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(host_cases); i++) {
		const struct simple_case *c = &host_cases[i];

		zf_error_clear(&err);
		check_outcome(i, "target: ", c->in,
		    zf_check_host("target", c->in, &err), &err, c->ok,
		    c->reason, c->quote_input);
	}
	zf_error_clear(&err);
	check_outcome(98, "target: ", "", zf_check_host("target", NULL, &err),
	    &err, false, "empty host name", false);
	s = repeat('h', 255);
	assert_int_equal(zf_check_host("h", s, NULL), ZF_OK);
	free(s);
	s = repeat('h', 256);
	zf_error_clear(&err);
	check_outcome(256, "h: ", s, zf_check_host("h", s, &err), &err, false,
	    "longer than 255 bytes", true);
	free(s);
}

static const struct simple_case user_cases[] = {
    {"root", true, NULL, false},
    {"backup_user", true, NULL, false},
    {"svc.zfs", true, NULL, false},
    {"a-b", true, NULL, false},
    {"machine$", true, NULL, false},
    {"u1", true, NULL, false},
    {"", false, "empty user name", false},
    {"-l", false, "must not begin with '-'", true},
    {"-oProxyCommand=x", false, "must not begin with '-'", true},
    {"us er", false, "invalid character ' '", true},
    {"user@x", false, "invalid character '@'", true},
    {"$", false, "invalid character '$'", true},
    {"a$b", false, "invalid character '$'", true},
    {"a$$", false, "invalid character '$'", true},
    {"a;id", false, "invalid character ';'", true},
    {"user:x", false, "invalid character ':'", true},
    {"\xc3\xbcser", false, "invalid character '\\xc3'", true},
    {"user\n", false, "invalid character '\\n'", true},
};

static void
test_user_table(void **state)
{
	size_t i;
	char *s;
	struct zf_error err;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(user_cases); i++) {
		const struct simple_case *c = &user_cases[i];

		zf_error_clear(&err);
		check_outcome(i, "source: ", c->in,
		    zf_check_user("source", c->in, &err), &err, c->ok,
		    c->reason, c->quote_input);
	}
	s = repeat('u', 255);
	assert_int_equal(zf_check_user("u", s, NULL), ZF_OK);
	free(s);
	s = repeat('u', 256);
	zf_error_clear(&err);
	check_outcome(256, "u: ", s, zf_check_user("u", s, &err), &err, false,
	    "longer than 255 bytes", true);
	free(s);
}

/* --- ssh options ----------------------------------------------------- */

struct ssh_case {
	const char *in;
	const char *canon; /* NULL: refused */
	const char *reason;
};

static const struct ssh_case ssh_cases[] = {
    {"ConnectTimeout=5", "ConnectTimeout=5", NULL},
    {"ConnectTimeout 5", "ConnectTimeout=5", NULL},
    {"connecttimeout=5", "ConnectTimeout=5", NULL},
    {"CIPHERS=aes128-gcm@openssh.com,aes256-ctr",
        "Ciphers=aes128-gcm@openssh.com,aes256-ctr", NULL},
    {"Ciphers=+aes128-cbc", "Ciphers=+aes128-cbc", NULL},
    {"KexAlgorithms=^curve25519-sha256", "KexAlgorithms=^curve25519-sha256",
        NULL},
    {"MACs=-hmac-sha1", "MACs=-hmac-sha1", NULL},
    {"Compression=yes", "Compression=yes", NULL},
    {"compression NO", "Compression=NO", NULL},
    {"ServerAliveInterval=15", "ServerAliveInterval=15", NULL},
    {"ServerAliveCountMax=0", "ServerAliveCountMax=0", NULL},
    {"ConnectionAttempts=3", "ConnectionAttempts=3", NULL},
    {"AddressFamily=inet6", "AddressFamily=inet6", NULL},
    {"BindAddress=192.0.2.1", "BindAddress=192.0.2.1", NULL},
    {"HostKeyAlias=backup-host", "HostKeyAlias=backup-host", NULL},
    {"IPQoS=throughput", "IPQoS=throughput", NULL},
    {"LogLevel=error", "LogLevel=error", NULL},
    {"RekeyLimit=1G", "RekeyLimit=1G", NULL},
    {"RekeyLimit=default", "RekeyLimit=default", NULL},
    {"StrictHostKeyChecking=yes", "StrictHostKeyChecking=yes", NULL},
    {"TCPKeepAlive=no", "TCPKeepAlive=no", NULL},
    {"IdentitiesOnly=yes", "IdentitiesOnly=yes", NULL},
    {"PubkeyAcceptedAlgorithms=ssh-ed25519",
        "PubkeyAcceptedAlgorithms=ssh-ed25519", NULL},

    /* options that run commands or weaken host-key checking: why */
    {"ProxyCommand=nc %h %p", NULL, "is refused: it runs a local command"},
    {"ProxyCommand=/bin/true", NULL, "is refused: it runs a local command"},
    {"proxycommand=x", NULL, "is refused: it runs a local command"},
    {"PROXYCOMMAND x", NULL, "is refused: it runs a local command"},
    {"LocalCommand=touch /tmp/x", NULL, "is refused: it runs a local command"},
    {"PermitLocalCommand=yes", NULL,
        "is refused: it lets LocalCommand run a local command"},
    {"KnownHostsCommand=/bin/cat", NULL, "is refused: it runs a local command"},
    {"Include=/etc/passwd", NULL,
        "is refused: it reads further configuration that is not checked"},
    {"Match=exec true", NULL, "is refused: its exec criterion runs"},
    {"RemoteCommand=id", NULL, "is refused: it replaces the remote zfs"},
    {"ProxyJump=jump", NULL, "is refused: the jump host"},
    {"PKCS11Provider=/x.so", NULL, "is refused: it loads a shared library"},
    {"StrictHostKeyChecking=no", NULL,
        "is refused: only 'yes' is allowed: an unknown host key is always "
        "refused"},
    {"StrictHostKeyChecking no", NULL, "only 'yes' is allowed"},
    {"StrictHostKeyChecking=accept-new", NULL, "only 'yes' is allowed"},
    {"StrictHostKeyChecking=off", NULL, "only 'yes' is allowed"},
    {"UserKnownHostsFile=/dev/null", NULL,
        "is refused: use --known-hosts FILE"},
    {"UserKnownHostsFile /dev/null", NULL, "--known-hosts"},
    {"GlobalKnownHostsFile=/dev/null", NULL, "--known-hosts"},
    {"ForwardAgent=yes", NULL, "exposes the local ssh agent"},
    {"ControlPath=/tmp/x", NULL, "connection sharing"},
    {"Hostname=evil", NULL, "another host"},
    {"SendEnv=LD_PRELOAD", NULL, "local environment"},
    {"BatchMode=no", NULL, "never prompts"},
    {"Port=22", NULL, "use --ssh-port N"},
    {"User=root", NULL, "write user@host"},
    {"IdentityFile=~/.ssh/id", NULL, "use --ssh-key FILE"},
    {"UpdateHostKeys=yes", NULL, "rewrites known_hosts"},
    {"VerifyHostKeyDNS=yes", NULL, "from DNS"},

    /* smuggling a second option through whitespace or a newline */
    {"Ciphers=aes128-ctr ProxyCommand=x", NULL,
        "holds whitespace or a control character"},
    {"Ciphers=aes128-ctr\nProxyCommand=x", NULL,
        "'Ciphers=aes128-ctr\\nProxyCommand=x' holds whitespace"},
    {"Ciphers=aes128-ctr\tx", NULL, "holds whitespace"},
    {"ConnectTimeout=5\r", NULL, "holds whitespace"},
    {"ConnectTimeout  5", NULL, "holds whitespace"},
    {"ConnectTimeout=5\x1b[2J", NULL, "'ConnectTimeout=5\\x1b[2J'"},
    {"ConnectTimeout=\x7f", NULL, "control character"},
    {"ProxyCommand\n=x", NULL, "is not KEY=VALUE"},
    {"ConnectTimeout\t5", NULL, "is not KEY=VALUE"},
    {"ConnectTimeout", NULL, "is not KEY=VALUE"},
    {"ConnectTimeout:5", NULL, "is not KEY=VALUE"},
    /* '%' tokens would be expanded by ssh */
    {"HostKeyAlias=%h", NULL, "holds '%', which ssh would expand"},
    {"LogLevel=%d", NULL, "holds '%'"},
    {"BindAddress=fe80::1%eth0", NULL, "holds '%'"},
    /* shapes that are not an option */
    {"", NULL, "empty option"},
    {" ConnectTimeout=5", NULL, "does not start with an option name"},
    {"-oProxyCommand=x", NULL, "does not start with an option name"},
    {"=5", NULL, "does not start with an option name"},
    {"Unknown=1", NULL, "'Unknown' is not in the allowlist"},
    {"Tunnel=yes", NULL, "forwarding has no place"},
    /* values outside the key's syntax */
    {"ConnectTimeout=", NULL, "invalid value '' for ConnectTimeout"},
    {"ConnectTimeout==5", NULL, "invalid value '=5' for ConnectTimeout"},
    {"ConnectTimeout =5", NULL, "invalid value '=5' for ConnectTimeout"},
    {"ConnectTimeout=-1", NULL, "invalid value '-1'"},
    {"ConnectTimeout=9999999999", NULL, "invalid value"},
    {"Compression=maybe", NULL, "invalid value 'maybe' for Compression"},
    {"Ciphers=aes128-ctr,,x", NULL, "invalid value"},
    {"Ciphers=", NULL, "invalid value"},
    {"Ciphers=aes;id", NULL, "invalid value"},
    {"BindAddress=-oProxyCommand=x", NULL, "invalid value"},
    {"HostKeyAlias=$(id)", NULL, "invalid value"},
    {"LogLevel=LOUD", NULL, "invalid value"},
    {"RekeyLimit=1X", NULL, "invalid value"},
    {"AddressFamily=ipx", NULL, "invalid value"},
    {"IPQoS=a$b", NULL, "invalid value"},
};

static void
test_ssh_option_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(ssh_cases); i++) {
		const struct ssh_case *c = &ssh_cases[i];
		struct zf_error err;
		char canon[1100];
		enum zf_status r;

		zf_error_clear(&err);
		memset(canon, 0, sizeof(canon));
		r = zf_check_ssh_option(c->in, canon, sizeof(canon), &err);
		check_outcome(i, "--ssh-option: ", c->in, r, &err,
		    c->canon != NULL, c->reason, false);
		if (c->canon != NULL && strcmp(canon, c->canon) != 0)
			fail_msg("row %zu: canonical \"%s\", want \"%s\"", i,
			    canon, c->canon);
	}
}

static void
test_ssh_option_refusal_names_the_option(void **state)
{
	static const char *const dangerous[] = {"ProxyCommand=x",
	    "LocalCommand=x", "PermitLocalCommand=yes", "KnownHostsCommand=x",
	    "Include=x", "StrictHostKeyChecking=no",
	    "UserKnownHostsFile=/dev/null"};
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(dangerous); i++) {
		struct zf_error err;
		char want[128];
		const char *why;

		zf_error_clear(&err);
		assert_int_equal(zf_check_ssh_option(dangerous[i], NULL, 0,
		                     &err),
		    ZF_E_INVALID);
		snprintf(want, sizeof(want),
		    "--ssh-option: '%s' is refused: ", dangerous[i]);
		if (strncmp(err.msg, want, strlen(want)) != 0)
			fail_msg("\"%s\" does not start with \"%s\"", err.msg,
			    want);
		why = err.msg + strlen(want);
		if (strlen(why) < 10)
			fail_msg("no reason given in \"%s\"", err.msg);
	}
}

static void
test_ssh_option_canon_is_optional_and_bounded(void **state)
{
	struct zf_error err;
	char small[8];

	(void)state;
	assert_int_equal(zf_check_ssh_option("ConnectTimeout=5", NULL, 0, NULL),
	    ZF_OK);
	zf_error_clear(&err);
	memset(small, 'z', sizeof(small));
	check_outcome(0, "--ssh-option: ", "ConnectTimeout=5",
	    zf_check_ssh_option("ConnectTimeout=5", small, sizeof(small), &err),
	    &err, false, "is too long", true);
	assert_int_equal(small[sizeof(small) - 1], '\0');
	zf_error_clear(&err);
	check_outcome(1, "--ssh-option: ", "",
	    zf_check_ssh_option(NULL, NULL, 0, &err), &err, false,
	    "empty option", false);
}

static void
test_ssh_option_length_limit(void **state)
{
	char opt[1100];
	char canon[1100];
	struct zf_error err;

	(void)state;
	/* 1024 bytes in all is the longest option taken */
	memcpy(opt, "Ciphers=", 8);
	memset(opt + 8, 'a', 1024 - 8);
	opt[1024] = '\0';
	assert_int_equal(zf_check_ssh_option(opt, canon, sizeof(canon), NULL),
	    ZF_OK);
	assert_string_equal(canon, opt);
	memcpy(opt + 1024, "a", 2);
	zf_error_clear(&err);
	/* the message echoes the option first; the reason may be cut */
	check_outcome(1025, "--ssh-option: 'Ciphers=aaa", opt,
	    zf_check_ssh_option(opt, canon, sizeof(canon), &err), &err, false,
	    NULL, false);
	/* a key longer than any option name */
	memset(opt, 'K', 80);
	memcpy(opt + 80, "=1", 3);
	zf_error_clear(&err);
	check_outcome(80, "--ssh-option: ", opt,
	    zf_check_ssh_option(opt, NULL, 0, &err), &err, false,
	    "does not start with an option name", true);
}

/* --- cipher lists ---------------------------------------------------- */

static const struct simple_case cipher_cases[] = {
    {"aes128-ctr", true, NULL, false},
    {"aes128-gcm@openssh.com,chacha20-poly1305@openssh.com", true, NULL, false},
    {"+aes128-cbc", true, NULL, false},
    {"^aes256-gcm@openssh.com", true, NULL, false},
    {"", false, "invalid cipher list", true},
    {"+", false, "invalid cipher list", true},
    {"aes128-ctr;id", false, "invalid cipher list", true},
    {"aes 128", false, "invalid cipher list", true},
    {"a,,b", false, "invalid cipher list", true},
    {",a", false, "invalid cipher list", true},
    {"a,", false, "invalid cipher list", true},
    {"-oProxyCommand=x", false, "invalid cipher list", true},
    {"aes128-ctr\n", false, "invalid cipher list 'aes128-ctr\\n'", true},
    {"$(id)", false, "invalid cipher list", true},
};

static void
test_cipher_list_table(void **state)
{
	size_t i;
	char *s;
	struct zf_error err;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cipher_cases); i++) {
		const struct simple_case *c = &cipher_cases[i];

		zf_error_clear(&err);
		check_outcome(i, "--ssh-cipher: ", c->in,
		    zf_check_cipher_list("--ssh-cipher", c->in, &err), &err,
		    c->ok, c->reason, c->quote_input);
	}
	zf_error_clear(&err);
	check_outcome(97, "--ssh-cipher: ", "",
	    zf_check_cipher_list("--ssh-cipher", NULL, &err), &err, false,
	    "invalid cipher list", true);
	s = repeat('a', 512);
	assert_int_equal(zf_check_cipher_list("c", s, NULL), ZF_OK);
	free(s);
	s = repeat('a', 513);
	assert_int_equal(zf_check_cipher_list("c", s, NULL), ZF_E_INVALID);
	free(s);
}

/* --- numbers --------------------------------------------------------- */

enum numfn { U64, SIZE, RATE, DUR };

struct num_case {
	enum numfn fn;
	const char *in;
	uint64_t min, max;
	bool ok;
	uint64_t value;
	const char *reason;
};

#define KI 1024ull
#define MI (1024ull * KI)
#define GI (1024ull * MI)
#define TI (1024ull * GI)
#define U64MAX UINT64_MAX

static const struct num_case num_cases[] = {
    {U64, "0", 0, U64MAX, true, 0, NULL},
    {U64, "42", 0, U64MAX, true, 42, NULL},
    {U64, "007", 0, U64MAX, true, 7, NULL},
    {U64, "18446744073709551615", 0, U64MAX, true, U64MAX, NULL},
    {U64, "18446744073709551616", 0, U64MAX, false, 0, "too large"},
    {U64, "99999999999999999999999", 0, U64MAX, false, 0, "too large"},
    {U64, "", 0, U64MAX, false, 0, "not a number"},
    {U64, "-1", 0, U64MAX, false, 0, "not a number"},
    {U64, "+1", 0, U64MAX, false, 0, "not a number"},
    {U64, " 1", 0, U64MAX, false, 0, "not a number"},
    {U64, "1 ", 0, U64MAX, false, 0, "not a number"},
    {U64, "1x", 0, U64MAX, false, 0, "not a number"},
    {U64, "0x10", 0, U64MAX, false, 0, "not a number"},
    {U64, "1e3", 0, U64MAX, false, 0, "not a number"},
    {U64, "1\n", 0, U64MAX, false, 0, "'1\\n'"},
    {U64, "9", 10, 20, false, 0, "out of range (10 to 20)"},
    {U64, "10", 10, 20, true, 10, NULL},
    {U64, "20", 10, 20, true, 20, NULL},
    {U64, "21", 10, 20, false, 0, "out of range (10 to 20)"},

    {SIZE, "64M", 0, U64MAX, true, 64 * MI, NULL},
    {SIZE, "1", 0, U64MAX, true, 1, NULL},
    {SIZE, "1B", 0, U64MAX, true, 1, NULL},
    {SIZE, "1k", 0, U64MAX, true, KI, NULL},
    {SIZE, "1K", 0, U64MAX, true, KI, NULL},
    {SIZE, "1KiB", 0, U64MAX, true, KI, NULL},
    {SIZE, "3MiB", 0, U64MAX, true, 3 * MI, NULL},
    {SIZE, "2G", 0, U64MAX, true, 2 * GI, NULL},
    {SIZE, "2GiB", 0, U64MAX, true, 2 * GI, NULL},
    {SIZE, "5T", 0, U64MAX, true, 5 * TI, NULL},
    {SIZE, "5TiB", 0, U64MAX, true, 5 * TI, NULL},
    {SIZE, "16777215T", 0, U64MAX, true, 16777215ull * TI, NULL},
    {SIZE, "16777216T", 0, U64MAX, false, 0, "too large"},
    {SIZE, "18014398509481984K", 0, U64MAX, false, 0, "too large"},
    {SIZE, "1m", 0, U64MAX, false, 0, "unknown unit"},
    {SIZE, "1 M", 0, U64MAX, false, 0, "unknown unit"},
    {SIZE, "1MB", 0, U64MAX, false, 0, "unknown unit"},
    {SIZE, "1.5M", 0, U64MAX, false, 0, "unknown unit"},
    {SIZE, "M", 0, U64MAX, false, 0, "not a number"},
    {SIZE, "-1M", 0, U64MAX, false, 0, "not a number"},
    {SIZE, "2M", 0, MI, false, 0, "out of range (0 to 1048576)"},
    {SIZE, "1M", 0, MI, true, MI, NULL},
    {SIZE, "1023", KI, U64MAX, false, 0, "out of range"},

    {RATE, "10M/s", 0, U64MAX, true, 10 * MI, NULL},
    {RATE, "10M", 0, U64MAX, true, 10 * MI, NULL},
    {RATE, "5/s", 0, U64MAX, true, 5, NULL},
    {RATE, "1KiB/s", 0, U64MAX, true, KI, NULL},
    {RATE, "/s", 0, U64MAX, false, 0, "not a number"},
    {RATE, "10M/h", 0, U64MAX, false, 0, "unknown unit"},
    {RATE, "10M/s/s", 0, U64MAX, false, 0, "unknown unit"},
    {RATE, "10M/s", 0, MI, false, 0, "'10M/s': out of range"},
    {RATE, "10/s", 100, U64MAX, false, 0, "'10/s': out of range"},
    {RATE, "16777216T/s", 0, U64MAX, false, 0, "'16777216T/s': too large"},

    {DUR, "30", 0, U64MAX, true, 30000, NULL},
    {DUR, "30s", 0, U64MAX, true, 30000, NULL},
    {DUR, "500ms", 0, U64MAX, true, 500, NULL},
    {DUR, "2m", 0, U64MAX, true, 120000, NULL},
    {DUR, "2min", 0, U64MAX, true, 120000, NULL},
    {DUR, "1h", 0, U64MAX, true, 3600000, NULL},
    {DUR, "1d", 0, U64MAX, true, 86400000, NULL},
    {DUR, "0", 0, U64MAX, true, 0, NULL},
    {DUR, "213503982334d", 0, U64MAX, true, 213503982334ull * 86400000ull,
        NULL},
    {DUR, "213503982335d", 0, U64MAX, false, 0, "too large"},
    {DUR, "18446744073709551615", 0, U64MAX, false, 0, "too large"},
    {DUR, "18446744073709551615ms", 0, U64MAX, true, U64MAX, NULL},
    {DUR, "1w", 0, U64MAX, false, 0, "unknown unit"},
    {DUR, "1S", 0, U64MAX, false, 0, "unknown unit"},
    {DUR, "1.5h", 0, U64MAX, false, 0, "unknown unit"},
    {DUR, "", 0, U64MAX, false, 0, "not a number"},
    {DUR, "s", 0, U64MAX, false, 0, "not a number"},
    {DUR, "999ms", 1000, 60000, false, 0, "out of range (1000 to 60000)"},
    {DUR, "61s", 1000, 60000, false, 0, "out of range"},
    {DUR, "1m", 1000, 60000, true, 60000, NULL},
};

static enum zf_status
parse_num(const struct num_case *c, uint64_t *out, struct zf_error *err)
{
	switch (c->fn) {
	case U64:
		return zf_parse_u64("--n", c->in, c->min, c->max, out, err);
	case SIZE:
		return zf_parse_size("--n", c->in, c->min, c->max, out, err);
	case RATE:
		return zf_parse_rate("--n", c->in, c->min, c->max, out, err);
	case DUR:
		return zf_parse_duration("--n", c->in, c->min, c->max, out,
		    err);
	}
	return ZF_E_INVALID;
}

static void
test_number_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(num_cases); i++) {
		const struct num_case *c = &num_cases[i];
		struct zf_error err;
		uint64_t out = 0xdeadbeef;
		enum zf_status r;

		zf_error_clear(&err);
		r = parse_num(c, &out, &err);
		check_outcome(i, "--n: invalid value ", c->in, r, &err, c->ok,
		    c->reason, true);
		if (c->ok && out != c->value)
			fail_msg("row %zu '%s': %" PRIu64 ", want %" PRIu64, i,
			    c->in, out, c->value);
		if (!c->ok && out != 0xdeadbeef)
			fail_msg("row %zu '%s': output written on failure", i,
			    c->in);
	}
}

static void
test_number_null_input_is_refused(void **state)
{
	struct zf_error err;
	uint64_t v = 7;

	(void)state;
	zf_error_clear(&err);
	assert_int_equal(zf_parse_u64("n", NULL, 0, 10, &v, &err),
	    ZF_E_INVALID);
	assert_int_equal(zf_parse_size("n", NULL, 0, 10, &v, NULL),
	    ZF_E_INVALID);
	assert_int_equal(zf_parse_rate("n", NULL, 0, 10, &v, NULL),
	    ZF_E_INVALID);
	assert_int_equal(zf_parse_duration("n", NULL, 0, 10, &v, NULL),
	    ZF_E_INVALID);
	assert_int_equal(v, 7);
	assert_non_null(strstr(err.msg, "not a number"));
}

/* --- --compress ------------------------------------------------------ */

struct compress_case {
	const char *in;
	bool ok;
	enum zf_compress_alg alg;
	int level;
	const char *reason;
};

static const struct compress_case compress_cases[] = {
    {"zstd", true, ZF_COMPRESS_ZSTD, 0, NULL},
    {"zstd:1", true, ZF_COMPRESS_ZSTD, 1, NULL},
    {"zstd:19", true, ZF_COMPRESS_ZSTD, 19, NULL},
    {"lz4", true, ZF_COMPRESS_LZ4, 0, NULL},
    {"lz4:12", true, ZF_COMPRESS_LZ4, 12, NULL},
    {"none", true, ZF_COMPRESS_NONE, 0, NULL},
    {"auto", true, ZF_COMPRESS_AUTO, 0, NULL},
    {"zstd:20", false, 0, 0, "'20': out of range (1 to 19)"},
    {"zstd:0", false, 0, 0, "out of range (1 to 19)"},
    {"lz4:13", false, 0, 0, "out of range (1 to 12)"},
    {"zstd:", false, 0, 0, "not a number"},
    {"zstd:x", false, 0, 0, "not a number"},
    {"zstd:3:4", false, 0, 0, "'3:4': not a number"},
    {"zstd:-1", false, 0, 0, "not a number"},
    {"none:1", false, 0, 0, "'none' takes no level"},
    {"auto:3", false, 0, 0, "'auto' takes no level"},
    {"ZSTD", false, 0, 0, "unknown algorithm 'ZSTD'"},
    {"gzip", false, 0, 0, "unknown algorithm 'gzip' (zstd[:LEVEL]"},
    {"", false, 0, 0, "unknown algorithm ''"},
    {"zstd ", false, 0, 0, "unknown algorithm 'zstd '"},
    {"zstd\n", false, 0, 0, "unknown algorithm 'zstd\\n'"},
    {":3", false, 0, 0, "unknown algorithm ':3'"},
};

static void
test_compress_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(compress_cases); i++) {
		const struct compress_case *c = &compress_cases[i];
		enum zf_compress_alg alg = (enum zf_compress_alg)99;
		int level = 99;
		struct zf_error err;

		zf_error_clear(&err);
		check_outcome(i, "--compress: ", c->in,
		    zf_parse_compress("--compress", c->in, &alg, &level, &err),
		    &err, c->ok, c->reason, false);
		if (c->ok && (alg != c->alg || level != c->level))
			fail_msg("row %zu '%s': alg %d level %d", i, c->in,
			    (int)alg, level);
	}
}

static void
test_compress_null_is_refused(void **state)
{
	enum zf_compress_alg alg;
	int level;
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	check_outcome(0, "--compress: ", "",
	    zf_parse_compress("--compress", NULL, &alg, &level, &err), &err,
	    false, "missing algorithm", false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_table),
	    cmocka_unit_test(
	        test_name_reason_escapes_a_control_character_only_once),
	    cmocka_unit_test(test_name_message_names_the_wanted_kind),
	    cmocka_unit_test(test_name_length_limit_counts_the_snapshot_part),
	    cmocka_unit_test(test_name_null_is_refused_as_empty),
	    cmocka_unit_test(test_short_name_table),
	    cmocka_unit_test(test_prop_name_table),
	    cmocka_unit_test(test_prop_assign_table),
	    cmocka_unit_test(test_prop_assign_length_limits),
	    cmocka_unit_test(test_host_table),
	    cmocka_unit_test(test_user_table),
	    cmocka_unit_test(test_ssh_option_table),
	    cmocka_unit_test(test_ssh_option_refusal_names_the_option),
	    cmocka_unit_test(test_ssh_option_canon_is_optional_and_bounded),
	    cmocka_unit_test(test_ssh_option_length_limit),
	    cmocka_unit_test(test_cipher_list_table),
	    cmocka_unit_test(test_number_table),
	    cmocka_unit_test(test_number_null_input_is_refused),
	    cmocka_unit_test(test_compress_table),
	    cmocka_unit_test(test_compress_null_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
