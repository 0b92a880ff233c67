/*
 * test_config.c: config.c as the CLI uses it.  zf_location_parse() splits
 * "[user@]host:dataset" without letting a name that merely holds ':' go
 * remote, or a '-' reach ssh; zf_spec_init() checks every field again,
 * resolves the -i/-I base and refuses two remote sides;
 * zf_check_ssh_file() takes only regular, readable files whose names ssh
 * reads as written.
 */
#include "compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "spec.h"
#include "validate.h"

#define FS ZF_NAME_FS
#define SN ZF_NAME_SNAPSHOT
#define BM ZF_NAME_BOOKMARK

static char tmpdir[] = "/tmp/zf-test-config.XXXXXX";
static char realdir[PATH_MAX];

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void
assert_refused(enum zf_status r, const struct zf_error *err, const char *label,
    const char *reason)
{
	if (r != ZF_E_INVALID || err->code != ZF_E_INVALID)
		fail_msg("accepted (status %d), want refused with \"%s\"",
		    (int)r, reason);
	if (label != NULL && strncmp(err->msg, label, strlen(label)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", err->msg, label);
	if (strstr(err->msg, reason) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err->msg, reason);
	if (!printable(err->msg))
		fail_msg("raw control byte in \"%s\"", err->msg);
	assert_int_equal(err->stage, ZF_STAGE_INPUT);
}

static void
path_in_tmp(char *dst, size_t n, const char *name)
{
	int r = snprintf(dst, n, "%s/%s", realdir, name);

	assert_true(r > 0 && (size_t)r < n);
}

static void
make_file(const char *name, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	path_in_tmp(p, sizeof(p), name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "k\n", 2), 2);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static int
setup(void **state)
{
	char *r;

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	r = realpath(tmpdir, NULL);
	if (r == NULL || strlen(r) >= sizeof(realdir))
		return -1;
	memcpy(realdir, r, strlen(r) + 1);
	free(r);
	return 0;
}

static int
rm_entries(void)
{
	static const char *const names[] = {"key600", "key644", "key640",
	    "key400", "key000", "key file", "key%h", "key'q", "key\\b", "key~1",
	    "link", "my link", "sub", NULL};
	size_t i;
	char p[PATH_MAX];

	for (i = 0; names[i] != NULL; i++) {
		path_in_tmp(p, sizeof(p), names[i]);
		if (unlink(p) != 0)
			rmdir(p);
	}
	return rmdir(tmpdir);
}

static int
teardown(void **state)
{
	(void)state;
	return rm_entries();
}

/* --- zf_location_parse ----------------------------------------------- */

struct loc_case {
	const char *in;
	unsigned kinds;
	bool ok;
	const char *user, *host, *dataset; /* when ok */
	const char *reason; /* when refused */
};

static const struct loc_case loc_cases[] = {
    {"pool/fs@s", SN, true, "", "", "pool/fs@s", NULL},
    {"pool/fs", FS, true, "", "", "pool/fs", NULL},
    {"user@host:pool/fs@s", SN, true, "user", "host", "pool/fs@s", NULL},
    {"host:pool/fs", FS, true, "", "host", "pool/fs", NULL},
    {"host.example.com:pool", FS, true, "", "host.example.com", "pool", NULL},
    {"10.0.0.1:pool/fs", FS, true, "", "10.0.0.1", "pool/fs", NULL},
    {"[::1]:pool/fs", FS, true, "", "::1", "pool/fs", NULL},
    {"[2001:db8::1]:pool/fs@s", SN, true, "", "2001:db8::1", "pool/fs@s", NULL},
    {"user@[fe80::1%eth0]:pool/fs", FS, true, "user", "fe80::1%eth0", "pool/fs",
        NULL},
    {"machine$@host:pool/a b", FS, true, "machine$", "host", "pool/a b", NULL},
    {"host:pool/fs:x", FS, true, "", "host", "pool/fs:x", NULL},
    {"backup@nas:tank/a b@snap 1", SN, true, "backup", "nas", "tank/a b@snap 1",
        NULL},
    /* a ':' that cannot start a remote location leaves the name local */
    {"pool/fs:x", FS, true, "", "", "pool/fs:x", NULL},
    {"pool/a:b@s:1", SN, true, "", "", "pool/a:b@s:1", NULL},
    {"pool@snap:1", SN, true, "", "", "pool@snap:1", NULL},
    {"tank@2024-01-01T10:00:00", SN, true, "", "", "tank@2024-01-01T10:00:00",
        NULL},
    {"pool:1/fs", FS, true, "", "", "pool:1/fs", NULL},
    {"pool/fs@a:b", SN, true, "", "", "pool/fs@a:b", NULL},
    /* a '-' can stay inside a local name, never become an ssh host */
    {"user@-host:pool", FS | SN, true, "", "", "user@-host:pool", NULL},
    {"host:-pool", FS, true, "", "", "host:-pool", NULL},

    {"", FS, false, NULL, NULL, NULL, "target: empty argument"},
    {"-oProxyCommand=x:pool/fs", FS, false, NULL, NULL, NULL,
        "target: '-oProxyCommand=x:pool/fs' must not begin with '-'"},
    {"-host:pool/fs", FS, false, NULL, NULL, NULL, "must not begin with '-'"},
    {"-l@host:pool/fs", FS, false, NULL, NULL, NULL, "must not begin with '-'"},
    {"-user@host:pool/fs@s", SN, false, NULL, NULL, NULL,
        "must not begin with '-'"},
    {"-[::1]:pool/fs", FS, false, NULL, NULL, NULL, "must not begin with '-'"},
    {"user@-host:pool/fs", FS | SN, false, NULL, NULL, NULL,
        "target: invalid [user@]host in 'user@-host:pool/fs'"},
    {"user@-host:pool/fs@s", SN, false, NULL, NULL, NULL,
        "invalid [user@]host"},
    {"us er@host:pool/fs", FS, false, NULL, NULL, NULL, "invalid [user@]host"},
    {"a;b@host:pool/fs", FS, false, NULL, NULL, NULL, "invalid [user@]host"},
    {"host;id:pool/fs", FS, false, NULL, NULL, NULL, "invalid [user@]host"},
    {"h$(id):pool/fs", FS, false, NULL, NULL, NULL, "invalid [user@]host"},
    {"[host]:pool/fs", FS, false, NULL, NULL, NULL, "invalid [user@]host"},
    {"[::1]pool/fs", FS, false, NULL, NULL, NULL, "invalid character '['"},
    {"[::1:pool/fs", FS, false, NULL, NULL, NULL, "invalid character '['"},
    {"host:pool/fs@s", FS, false, NULL, NULL, NULL,
        "target: invalid dataset name 'pool/fs@s': a dataset, not a snapshot"},
    {"host:pool/fs\n", FS, false, NULL, NULL, NULL,
        "'pool/fs\\n': invalid character '\\n'"},
    {"host:pool/fs", SN, false, NULL, NULL, NULL, "(add @snapshot)"},
    {"pool/fs", SN, false, NULL, NULL, NULL, "(add @snapshot)"},
};

static void
test_location_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(loc_cases); i++) {
		const struct loc_case *c = &loc_cases[i];
		struct zf_location loc;
		struct zf_error err;
		enum zf_status r;

		zf_error_clear(&err);
		memset(&loc, 0x55, sizeof(loc));
		r = zf_location_parse(&loc, c->in, c->kinds, "target", &err);
		if (!c->ok) {
			if (r == ZF_OK)
				fail_msg("row %zu '%s': accepted as %s@%s:%s",
				    i, c->in, loc.user, loc.host, loc.dataset);
			assert_refused(r, &err, "target: ", c->reason);
			continue;
		}
		if (r != ZF_OK)
			fail_msg("row %zu '%s': refused: %s", i, c->in,
			    err.msg);
		if (strcmp(loc.user, c->user) != 0 ||
		    strcmp(loc.host, c->host) != 0 ||
		    strcmp(loc.dataset, c->dataset) != 0)
			fail_msg("row %zu '%s': got user '%s' host '%s' "
			         "dataset '%s'",
			    i, c->in, loc.user, loc.host, loc.dataset);
		assert_int_equal(zf_location_is_remote(&loc), c->host[0] != 0);
	}
}

static void
test_location_colon_before_slash_is_read_as_remote(void **state)
{
	struct zf_location loc;

	(void)state;
	/*
	 * The documented rule: a ':' before the first '/' with a valid host
	 * before it and a valid name after it is remote, even where a local
	 * pool could carry that name.
	 */
	assert_int_equal(zf_location_parse(&loc, "my:pool/fs", FS, "t", NULL),
	    ZF_OK);
	assert_string_equal(loc.host, "my");
	assert_string_equal(loc.dataset, "pool/fs");
	assert_true(zf_location_is_remote(&loc));
}

static void
test_location_length_limits(void **state)
{
	char text[600];
	struct zf_location loc;
	struct zf_error err;

	(void)state;
	/* a 255-byte dataset on a remote host fits */
	memcpy(text, "host:pool/", 10);
	memset(text + 10, 'd', 255 - 5);
	text[10 + 250] = '\0';
	assert_int_equal(zf_location_parse(&loc, text, FS, "t", NULL), ZF_OK);
	assert_int_equal(strlen(loc.dataset), 255);
	/* 256 does not */
	memcpy(text + 10 + 250, "d", 2);
	zf_error_clear(&err);
	assert_refused(zf_location_parse(&loc, text, FS, "t", &err), &err,
	    "t: ", "longer than 255 bytes");
	/* nor does a 256-byte host */
	memset(text, 'h', 256);
	memcpy(text + 256, ":pool/fs", 9);
	zf_error_clear(&err);
	assert_int_equal(zf_location_parse(&loc, text, FS, "t", &err),
	    ZF_E_INVALID);
	assert_string_equal(loc.host, "");
}

static void
test_location_null_text_is_refused(void **state)
{
	struct zf_location loc;
	struct zf_error err;

	(void)state;
	zf_error_clear(&err);
	assert_refused(zf_location_parse(&loc, NULL, FS, "source", &err), &err,
	    "source: ", "empty argument");
}

/* --- zf_spec_init ---------------------------------------------------- */

static void
config_for(struct zf_send_config *cfg, const char *src, const char *dst)
{
	zf_send_config_init(cfg);
	assert_int_equal(zf_location_parse(&cfg->source, src, SN, "source",
	                     NULL),
	    ZF_OK);
	assert_int_equal(zf_location_parse(&cfg->target, dst, FS | SN, "target",
	                     NULL),
	    ZF_OK);
}

/* The spec after a failed zf_spec_init(): released, nothing left over. */
static void
assert_spec_empty(const struct zf_spec *s)
{
	assert_null(s->base);
	assert_null(s->props);
	assert_null(s->excludes);
	assert_null(s->origin);
	assert_null(s->ssh.key_file);
	assert_null(s->ssh.known_hosts);
	assert_null(s->ssh.cipher);
	assert_null(s->ssh.options);
	assert_null(s->ssh.program);
	assert_null(s->zfs_program);
	assert_null(s->remote_zfs);
	assert_null(s->remote_zferry);
}

static void
test_spec_defaults(void **state)
{
	struct zf_send_config cfg;
	struct zf_spec s;
	struct zf_error err;

	(void)state;
	config_for(&cfg, "pool/a@s", "host:pool/b");
	zf_error_clear(&err);
	assert_int_equal(zf_spec_init(&s, &cfg, &err), ZF_OK);
	assert_string_equal(s.zfs_program, "zfs");
	assert_string_equal(s.remote_zfs, "zfs");
	assert_string_equal(s.ssh.program, "ssh");
	assert_non_null(s.ssh.options);
	assert_null(s.ssh.options[0]);
	assert_non_null(s.props);
	assert_null(s.props[0]);
	assert_non_null(s.excludes);
	assert_null(s.excludes[0]);
	assert_null(s.base);
	assert_null(s.origin);
	assert_null(s.ssh.key_file);
	assert_int_equal(s.ssh.port, 0);
	assert_string_equal(s.source.dataset, "pool/a@s");
	assert_string_equal(s.target.host, "host");
	zf_spec_release(&s);
	assert_spec_empty(&s);
}

static void
test_spec_copies_what_it_keeps(void **state)
{
	char prop[] = "compression=lz4";
	char excl[] = "mountpoint";
	char origin[] = "pool/o@s";
	const char *props[] = {prop, NULL};
	const char *excludes[] = {excl, NULL};
	struct zf_send_config cfg;
	struct zf_spec s;

	(void)state;
	config_for(&cfg, "pool/a@s", "pool/b");
	cfg.props = props;
	cfg.excludes = excludes;
	cfg.origin = origin;
	assert_int_equal(zf_spec_init(&s, &cfg, NULL), ZF_OK);
	prop[0] = 'X';
	excl[0] = 'X';
	origin[0] = 'X';
	assert_string_equal(s.props[0], "compression=lz4");
	assert_string_equal(s.excludes[0], "mountpoint");
	assert_string_equal(s.origin, "pool/o@s");
	zf_spec_release(&s);
}

static void
test_spec_refuses_two_remote_sides(void **state)
{
	struct zf_send_config cfg;
	struct zf_spec s;
	struct zf_error err;

	(void)state;
	config_for(&cfg, "h1:pool/a@s", "u@h2:pool/b");
	zf_error_clear(&err);
	assert_refused(zf_spec_init(&s, &cfg, &err), &err, NULL,
	    "source and target are both remote ('h1' and 'h2'); one side "
	    "must be this host");
	assert_spec_empty(&s);
}

struct base_case {
	const char *source;
	const char *base;
	bool intermediates;
	const char *want; /* full base, or NULL: refused */
	const char *reason;
};

static const struct base_case base_cases[] = {
    {"pool/fs@s2", "@s1", false, "pool/fs@s1", NULL},
    {"pool/fs@s2", "s1", false, "pool/fs@s1", NULL},
    {"pool/fs@s2", "#bm", false, "pool/fs#bm", NULL},
    {"pool/fs@s2", "pool/fs@s1", false, "pool/fs@s1", NULL},
    {"pool/fs@s2", "pool/fs#bm", false, "pool/fs#bm", NULL},
    {"pool/fs@s2", "pool/origin@o", false, "pool/origin@o", NULL},
    {"pool/fs@s2", "@s1", true, "pool/fs@s1", NULL},
    {"pool/fs@s2", "s 1", true, "pool/fs@s 1", NULL},
    {"host:pool/fs@s2", "@s1", false, "pool/fs@s1", NULL},
    {"u@host:pool/fs@s2", "#bm", false, "pool/fs#bm", NULL},
    /* a leading '-' stays inside the full name, never an argv word */
    {"pool/fs@s2", "-x", false, "pool/fs@-x", NULL},
    {"pool/fs@s2", "#bm", true, NULL,
        "-I base: 'pool/fs#bm' is a bookmark; -I needs a snapshot"},
    {"pool/fs@s2", "pool/fs#bm", true, NULL, "is a bookmark"},
    {"pool/fs@s2", "@s2", false, NULL,
        "-i base: 'pool/fs@s2' is the snapshot being sent"},
    {"pool/fs@s2", "s2", true, NULL,
        "-I base: 'pool/fs@s2' is the snapshot being sent"},
    {"pool/fs@s2", "pool/fs@s2", false, NULL, "is the snapshot being sent"},
    {"pool/fs@s2", "@", false, NULL,
        "-i base: invalid snapshot name '': "
        "empty name"},
    {"pool/fs@s2", "#", false, NULL, "empty name"},
    {"pool/fs@s2", "", false, NULL, "empty name"},
    {"pool/fs@s2", "@a/b", false, NULL, "invalid character '/'"},
    {"pool/fs@s2", "@a@b", false, NULL, "invalid character '@'"},
    {"pool/fs@s2", "@a#b", false, NULL, "invalid character '#'"},
    {"pool/fs@s2", "s;id", false, NULL, "invalid character ';'"},
    {"pool/fs@s2", "s\n", false, NULL, "invalid character '\\n'"},
    {"pool/fs@s2", "pool/fs", false, NULL, "(add @snapshot)"},
    {"pool/fs@s2", "pool/fs@", false, NULL, "empty component"},
};

static void
test_spec_base_resolution_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(base_cases); i++) {
		const struct base_case *c = &base_cases[i];
		struct zf_send_config cfg;
		struct zf_spec s;
		struct zf_error err;
		enum zf_status r;

		config_for(&cfg, c->source, "pool/dst");
		cfg.base = c->base;
		cfg.intermediates = c->intermediates;
		zf_error_clear(&err);
		r = zf_spec_init(&s, &cfg, &err);
		if (c->want == NULL) {
			if (r == ZF_OK)
				fail_msg("row %zu '%s': accepted as '%s'", i,
				    c->base, s.base);
			assert_refused(r, &err, NULL, c->reason);
			assert_spec_empty(&s);
			continue;
		}
		if (r != ZF_OK)
			fail_msg("row %zu '%s': refused: %s", i, c->base,
			    err.msg);
		if (strcmp(s.base, c->want) != 0)
			fail_msg("row %zu '%s': base '%s', want '%s'", i,
			    c->base, s.base, c->want);
		assert_int_equal(s.intermediates, c->intermediates);
		zf_spec_release(&s);
	}
}

static void
test_spec_intermediates_need_a_base(void **state)
{
	struct zf_send_config cfg;
	struct zf_spec s;
	struct zf_error err;

	(void)state;
	config_for(&cfg, "pool/a@s", "pool/b");
	cfg.intermediates = true;
	zf_error_clear(&err);
	assert_refused(zf_spec_init(&s, &cfg, &err), &err, NULL,
	    "-I needs a base snapshot");
}

static void
test_spec_base_too_long_once_resolved(void **state)
{
	char src[300];
	char base[40];
	struct zf_send_config cfg;
	struct zf_spec s;
	struct zf_error err;

	(void)state;
	/* 250-byte dataset + "@s" fits; + "@" + 20 bytes does not */
	memcpy(src, "pool/", 5);
	memset(src + 5, 'd', 245);
	memcpy(src + 250, "@s", 3);
	base[0] = '@';
	memset(base + 1, 'b', 20);
	base[21] = '\0';
	config_for(&cfg, src, "pool/dst");
	cfg.base = base;
	zf_error_clear(&err);
	assert_refused(zf_spec_init(&s, &cfg, &err), &err,
	    "-i base: ", "makes a name longer than 255 bytes");
	base[5] = '\0'; /* 250 + 1 + 4 = 255 */
	zf_error_clear(&err);
	assert_int_equal(zf_spec_init(&s, &cfg, &err), ZF_OK);
	assert_int_equal(strlen(s.base), 255);
	zf_spec_release(&s);
}

struct field_case {
	const char *name;
	const char *reason;
};

/* Each case spoils one field of an otherwise good config. */
static void
spoil(struct zf_send_config *cfg, size_t which)
{
	static const char *const bad_prop[] = {"compression=lz4", "Bad=1",
	    NULL};
	static const char *const bad_excl[] = {"a b", NULL};
	static const char *const bad_opt[] = {"ConnectTimeout=5",
	    "ProxyCommand=nc %h %p", NULL};
	static const char *const ws_opt[] = {"Ciphers=a\nProxyCommand=x", NULL};

	switch (which) {
	case 0:
		cfg->props = bad_prop;
		break;
	case 1:
		cfg->excludes = bad_excl;
		break;
	case 2:
		cfg->origin = "pool/fs";
		break;
	case 3:
		cfg->send_flags = 0x100;
		break;
	case 4:
		cfg->recv_flags = 0x8;
		break;
	case 5:
		cfg->ssh.port = 65536;
		break;
	case 6:
		cfg->ssh.options = bad_opt;
		break;
	case 7:
		cfg->ssh.options = ws_opt;
		break;
	case 8:
		cfg->ssh.cipher = "aes128-ctr;id";
		break;
	case 9:
		cfg->zfs_program = "-x";
		break;
	case 10:
		cfg->zfs_program = "zfs\n";
		break;
	case 11:
		cfg->ssh_program = "";
		break;
	case 12:
		cfg->remote_zfs = "zfs\x1b[2J";
		break;
	case 13:
		cfg->ssh.key_file = "/nonexistent/zf-key";
		break;
	case 14:
		cfg->ssh.known_hosts = "/";
		break;
	case 15:
		cfg->ssh.key_file = "-oProxyCommand=x";
		break;
	case 16: /* a user without a host, filled in by hand */
		memcpy(cfg->source.user, "u", 2);
		break;
	case 17: /* a host the parser would never let through */
		memcpy(cfg->target.host, "h;id", 5);
		break;
	case 18:
		memcpy(cfg->target.host, "-oProxyCommand=x", 17);
		break;
	case 19:
		memcpy(cfg->target.user, "-l", 3);
		memcpy(cfg->target.host, "h", 2);
		break;
	case 20: /* the source must be a snapshot */
		memcpy(cfg->source.dataset, "pool/a", 7);
		break;
	case 21:
		memcpy(cfg->target.dataset, "pool/b#bm", 10);
		break;
	case 22: /* the remote runs "env LC_ALL=C ZFS ...": '=' is a variable */
		cfg->remote_zfs = "LD_PRELOAD=/tmp/x.so";
		break;
	}
}

static const struct field_case field_cases[] = {
    {"props", "-o: invalid property name 'Bad'"},
    {"excludes", "-x: invalid property name 'a b'"},
    {"origin", "--origin: invalid snapshot name 'pool/fs'"},
    {"send_flags", "unknown send flags 0x100"},
    {"recv_flags", "unknown receive flags 0x8"},
    {"port", "--ssh-port: 65536 is out of range (1 to 65535)"},
    {"option", "'ProxyCommand=nc %h %p' is refused: it runs a local command"},
    {"option ws", "'Ciphers=a\\nProxyCommand=x' holds whitespace"},
    {"cipher", "--ssh-cipher: invalid cipher list 'aes128-ctr;id'"},
    {"zfs -x", "ZFERRY_ZFS: invalid program name '-x'"},
    {"zfs nl", "ZFERRY_ZFS: invalid program name 'zfs\\n'"},
    {"ssh empty", "ZFERRY_SSH: invalid program name ''"},
    {"remote zfs", "--remote-zfs: invalid program name 'zfs\\x1b[2J'"},
    {"key missing", "--ssh-key: cannot use '/nonexistent/zf-key'"},
    {"known_hosts dir", "--known-hosts: '/' is not a regular file"},
    {"key dash", "--ssh-key: file name '-oProxyCommand=x' must not begin"},
    {"user no host", "source: a user name needs a host"},
    {"bad host", "target: invalid host name 'h;id'"},
    {"dash host",
        "target: host name '-oProxyCommand=x' must not begin with "
        "'-'"},
    {"dash user", "target: user name '-l' must not begin with '-'"},
    {"source fs", "source: invalid snapshot name 'pool/a'"},
    {"target bm", "target: invalid dataset or snapshot name 'pool/b#bm'"},
    {"remote zfs =",
        "--remote-zfs: invalid program name 'LD_PRELOAD=/tmp/x.so': env "
        "would read it as a variable"},
};

static void
test_spec_checks_every_field_again(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(field_cases); i++) {
		struct zf_send_config cfg;
		struct zf_spec s;
		struct zf_error err;
		enum zf_status r;

		config_for(&cfg, "pool/a@s", "pool/b");
		spoil(&cfg, i);
		zf_error_clear(&err);
		r = zf_spec_init(&s, &cfg, &err);
		if (r == ZF_OK)
			fail_msg("case '%s' accepted", field_cases[i].name);
		assert_refused(r, &err, NULL, field_cases[i].reason);
		assert_spec_empty(&s);
	}
}

static void
test_spec_port_range_edges(void **state)
{
	struct zf_send_config cfg;
	struct zf_spec s;

	(void)state;
	config_for(&cfg, "pool/a@s", "h:pool/b");
	cfg.ssh.port = 65535;
	assert_int_equal(zf_spec_init(&s, &cfg, NULL), ZF_OK);
	assert_int_equal(s.ssh.port, 65535);
	zf_spec_release(&s);
}

/* --- engine settings ------------------------------------------------- */

static void
test_config_init_defaults(void **state)
{
	struct zf_send_config cfg;
	struct zf_spec s;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	zf_send_config_init(&cfg);
	assert_null(cfg.base);
	assert_null(cfg.ssh.options);
	assert_int_equal(cfg.compress, ZF_COMPRESS_AUTO);
	assert_int_equal(cfg.compress_level, 0);
	assert_true(cfg.stall_timeout_ms == ZF_DEFAULT_STALL_MS);
	assert_true(cfg.progress_interval_ms == 1000);
	assert_true(cfg.bwlimit == 0 && cfg.timeout_ms == 0);
	assert_false(cfg.no_estimate);
	assert_int_equal(zf_location_parse(&cfg.source, "p/a@s", SN, "s", NULL),
	    ZF_OK);
	assert_int_equal(zf_location_parse(&cfg.target, "p/b", FS, "t", NULL),
	    ZF_OK);
	assert_int_equal(zf_spec_init(&s, &cfg, NULL), ZF_OK);
	assert_int_equal(s.compress, ZF_COMPRESS_AUTO);
	assert_int_equal(s.compress_level, 1);
	assert_true(s.progress_interval_ms == 1000);
	assert_true(s.estimate);
	assert_string_equal(s.remote_zferry, "zferry");
	assert_false(s.remote_zferry_given);
	zf_spec_release(&s);
	cfg.no_estimate = true;
	cfg.progress_interval_ms = 0;
	cfg.remote_zferry = "/opt/zferry";
	assert_int_equal(zf_spec_init(&s, &cfg, NULL), ZF_OK);
	assert_false(s.estimate);
	assert_true(s.progress_interval_ms == 1000);
	assert_string_equal(s.remote_zferry, "/opt/zferry");
	assert_true(s.remote_zferry_given);
	zf_spec_release(&s);
}

struct engine_case {
	enum zf_compress_alg alg;
	int level;
	uint64_t bwlimit, buffer, timeout, stall;
	const char *reason; /* NULL: accepted */
};

#define GIB4 (1ull << 32)
#define YEAR_MS (366ull * 86400000)

static const struct engine_case engine_cases[] = {
    {ZF_COMPRESS_ZSTD, 19, 0, 0, 0, 0, NULL},
    {ZF_COMPRESS_ZSTD, 1, 0, 0, 0, 0, NULL},
    {ZF_COMPRESS_LZ4, 12, 0, 0, 0, 0, NULL},
    {ZF_COMPRESS_NONE, 0, 1024, 65536, YEAR_MS, YEAR_MS, NULL},
    {ZF_COMPRESS_AUTO, 0, 1, 0, 0, 0, "--bwlimit: 1 bytes/s is below"},
    {ZF_COMPRESS_AUTO, 0, 0, GIB4, 0, 0, NULL},
    {ZF_COMPRESS_ZSTD, 20, 0, 0, 0, 0,
        "--compress: level 20 is out of range for zstd (1 to 19)"},
    {ZF_COMPRESS_LZ4, 13, 0, 0, 0, 0, "level 13 is out of range for lz4"},
    {ZF_COMPRESS_ZSTD, -1, 0, 0, 0, 0, "level -1 is out of range"},
    {ZF_COMPRESS_NONE, 3, 0, 0, 0, 0, "level 3 is out of range for none"},
    {(enum zf_compress_alg)77, 0, 0, 0, 0, 0,
        "--compress: unknown algorithm 77"},
    {ZF_COMPRESS_AUTO, 0, 1023, 0, 0, 0,
        "--bwlimit: 1023 bytes/s is below the minimum of 1k"},
    {ZF_COMPRESS_AUTO, 0, 0, 65535, 0, 0,
        "--buffer: 65535 bytes is out of range (64k to 4G)"},
    {ZF_COMPRESS_AUTO, 0, 0, GIB4 + 1, 0, 0, "--buffer: 4294967297 bytes"},
    {ZF_COMPRESS_AUTO, 0, 0, 0, YEAR_MS + 1, 0, "longer than a year"},
    {ZF_COMPRESS_AUTO, 0, 0, 0, 0, YEAR_MS + 1, "longer than a year"},
};

static void
test_spec_engine_bounds(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(engine_cases); i++) {
		const struct engine_case *c = &engine_cases[i];
		struct zf_send_config cfg;
		struct zf_spec s;
		struct zf_error err;
		enum zf_status r;

		config_for(&cfg, "pool/a@s", "pool/b");
		cfg.compress = c->alg;
		cfg.compress_level = c->level;
		cfg.bwlimit = c->bwlimit;
		cfg.buffer_size = c->buffer;
		cfg.timeout_ms = c->timeout;
		cfg.stall_timeout_ms = c->stall;
		zf_error_clear(&err);
		r = zf_spec_init(&s, &cfg, &err);
		if (c->reason == NULL) {
			if (r != ZF_OK)
				fail_msg("row %zu: refused: %s", i, err.msg);
			assert_int_equal(s.compress_level,
			    c->level != 0 ? c->level : 1);
			assert_true(s.bwlimit == c->bwlimit);
			assert_true(s.buffer_size == c->buffer);
			zf_spec_release(&s);
			continue;
		}
		if (r == ZF_OK)
			fail_msg("row %zu: accepted", i);
		assert_refused(r, &err, NULL, c->reason);
		assert_spec_empty(&s);
	}
}

/* --- zf_check_ssh_file ----------------------------------------------- */

static void
test_ssh_file_regular_private_key_is_taken(void **state)
{
	char p[PATH_MAX];
	char *abs = NULL;
	bool too_open = true;
	struct zf_error err;

	(void)state;
	make_file("key600", 0600);
	path_in_tmp(p, sizeof(p), "key600");
	zf_error_clear(&err);
	assert_int_equal(zf_check_ssh_file("--ssh-key", p, &abs, &too_open,
	                     &err),
	    ZF_OK);
	assert_string_equal(abs, p);
	assert_false(too_open);
	free(abs);
	/* too_open is optional */
	assert_int_equal(zf_check_ssh_file("--ssh-key", p, &abs, NULL, NULL),
	    ZF_OK);
	free(abs);
}

static void
test_ssh_file_too_open_when_group_or_others_may_read(void **state)
{
	static const struct {
		const char *name;
		mode_t mode;
		bool too_open;
	} cases[] = {
	    {"key644", 0644, true},
	    {"key640", 0640, true},
	    {"key400", 0400, false},
	    {"key600", 0600, false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		char p[PATH_MAX];
		char *abs = NULL;
		bool too_open = !cases[i].too_open;

		make_file(cases[i].name, cases[i].mode);
		path_in_tmp(p, sizeof(p), cases[i].name);
		assert_int_equal(zf_check_ssh_file("k", p, &abs, &too_open,
		                     NULL),
		    ZF_OK);
		assert_int_equal(too_open, cases[i].too_open);
		free(abs);
	}
}

static void
test_ssh_file_path_is_made_absolute_and_canonical(void **state)
{
	char p[PATH_MAX], want[PATH_MAX], sub[PATH_MAX];
	char *abs = NULL;

	(void)state;
	make_file("key600", 0600);
	path_in_tmp(sub, sizeof(sub), "sub");
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(p, sizeof(p), "%s/./sub/../key600", tmpdir);
	path_in_tmp(want, sizeof(want), "key600");
	assert_int_equal(zf_check_ssh_file("k", p, &abs, NULL, NULL), ZF_OK);
	assert_string_equal(abs, want);
	free(abs);
	assert_int_equal(rmdir(sub), 0);
}

static void
test_ssh_file_symlink_is_resolved(void **state)
{
	char p[PATH_MAX], target[PATH_MAX];
	char *abs = NULL;

	(void)state;
	make_file("key600", 0600);
	path_in_tmp(target, sizeof(target), "key600");
	path_in_tmp(p, sizeof(p), "link");
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(zf_check_ssh_file("k", p, &abs, NULL, NULL), ZF_OK);
	assert_string_equal(abs, target);
	free(abs);
	/* what ssh will read is the resolved name, so that is checked */
	path_in_tmp(p, sizeof(p), "my link");
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(zf_check_ssh_file("k", p, &abs, NULL, NULL), ZF_OK);
	assert_string_equal(abs, target);
	free(abs);
}

static void
test_ssh_file_refusals(void **state)
{
	static const struct {
		const char *name; /* in tmpdir; NULL: path used as is */
		const char *path;
		const char *reason;
	} cases[] = {
	    {"key file", NULL, "holds whitespace, a quote, '%' or '\\\\'"},
	    {"key%h", NULL, "holds whitespace, a quote, '%'"},
	    {"key'q", NULL, "holds whitespace, a quote"},
	    {"key\\b", NULL, "holds whitespace, a quote"},
	    {NULL, "", "--ssh-key: empty file name"},
	    {NULL, "-i", "--ssh-key: file name '-i' must not begin with '-'"},
	    {NULL, "/nonexistent/zf-key",
	        "--ssh-key: cannot use '/nonexistent/zf-key': No such file"},
	    {NULL, "/", "--ssh-key: '/' is not a regular file"},
	    {NULL, "/dev/null", "--ssh-key: '/dev/null' is not a regular file"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		char p[PATH_MAX];
		char *abs = p; /* must come back NULL */
		struct zf_error err;

		if (cases[i].name != NULL) {
			make_file(cases[i].name, 0600);
			path_in_tmp(p, sizeof(p), cases[i].name);
		} else {
			snprintf(p, sizeof(p), "%s", cases[i].path);
		}
		zf_error_clear(&err);
		assert_refused(zf_check_ssh_file("--ssh-key", p, &abs, NULL,
		                   &err),
		    &err, "--ssh-key: ", cases[i].reason);
		assert_null(abs);
	}
}

static void
test_ssh_file_missing_directory_component(void **state)
{
	char p[PATH_MAX];
	char *abs = NULL;
	struct zf_error err;

	(void)state;
	path_in_tmp(p, sizeof(p), "no/such/key");
	zf_error_clear(&err);
	assert_refused(zf_check_ssh_file("--known-hosts", p, &abs, NULL, &err),
	    &err, "--known-hosts: cannot use '", strerror(ENOENT));
	assert_null(abs);
	/* a name with a tilde inside is fine: ssh expands only a leading ~ */
	make_file("key~1", 0600);
	path_in_tmp(p, sizeof(p), "key~1");
	assert_int_equal(zf_check_ssh_file("k", p, &abs, NULL, NULL), ZF_OK);
	free(abs);
}

/*
 * An unreadable key is refused.  Root reads every file, so as root the
 * check runs in a child that has dropped to nobody (65534); if it cannot
 * drop, the case is skipped.
 */
static int
unreadable_checks(void)
{
	char p[PATH_MAX], q[PATH_MAX];
	char *abs = NULL;
	struct zf_error err;

	path_in_tmp(p, sizeof(p), "key000");
	path_in_tmp(q, sizeof(q), "key644");
	/* control: a readable file passes for the same user */
	if (zf_check_ssh_file("k", q, &abs, NULL, NULL) != ZF_OK)
		return 2;
	free(abs);
	zf_error_clear(&err);
	if (zf_check_ssh_file("--ssh-key", p, &abs, NULL, &err) !=
	        ZF_E_INVALID ||
	    abs != NULL)
		return 3;
	if (strstr(err.msg, "--ssh-key: cannot read '") == NULL ||
	    strstr(err.msg, strerror(EACCES)) == NULL)
		return 4;
	return 0;
}

static void
test_ssh_file_unreadable_is_refused(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	make_file("key000", 0000);
	make_file("key644", 0644);
	if (geteuid() != 0) {
		assert_int_equal(unreadable_checks(), 0);
		return;
	}
	assert_int_equal(chmod(tmpdir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
		    setuid(65534) != 0)
			_exit(77);
		_exit(unreadable_checks());
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(chmod(tmpdir, 0700), 0);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip(); /* running as root and cannot become nobody */
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_location_table),
	    cmocka_unit_test(
	        test_location_colon_before_slash_is_read_as_remote),
	    cmocka_unit_test(test_location_length_limits),
	    cmocka_unit_test(test_location_null_text_is_refused),
	    cmocka_unit_test(test_spec_defaults),
	    cmocka_unit_test(test_spec_copies_what_it_keeps),
	    cmocka_unit_test(test_spec_refuses_two_remote_sides),
	    cmocka_unit_test(test_spec_base_resolution_table),
	    cmocka_unit_test(test_spec_intermediates_need_a_base),
	    cmocka_unit_test(test_spec_base_too_long_once_resolved),
	    cmocka_unit_test(test_spec_checks_every_field_again),
	    cmocka_unit_test(test_spec_port_range_edges),
	    cmocka_unit_test(test_config_init_defaults),
	    cmocka_unit_test(test_spec_engine_bounds),
	    cmocka_unit_test(test_ssh_file_regular_private_key_is_taken),
	    cmocka_unit_test(
	        test_ssh_file_too_open_when_group_or_others_may_read),
	    cmocka_unit_test(test_ssh_file_path_is_made_absolute_and_canonical),
	    cmocka_unit_test(test_ssh_file_symlink_is_resolved),
	    cmocka_unit_test(test_ssh_file_refusals),
	    cmocka_unit_test(test_ssh_file_missing_directory_component),
	    cmocka_unit_test(test_ssh_file_unreadable_is_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
