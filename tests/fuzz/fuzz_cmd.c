/*
 * fuzz_cmd: from a struct zf_send_config as a hostile caller may fill it
 * to the argv zferry would run.  zf_spec_init() checks every field; then
 * the builders of src/lib/cmd.c make the zfs argv of each side, the ssh
 * argv around it (every wrap), the probe, and the connection master and
 * its "-O exit".
 *
 * The property is the one the README promises: no value reaches a place
 * where zfs, ssh or the remote shell would read it as an option or as
 * syntax.  So: every zfs argument that starts with '-' is one of zferry's
 * own flags, and each value sits whole after its flag; ssh's argv is
 * zferry's options, each with a value of the expected shape, then "--",
 * the host and one remote command; the hardening options come first (ssh
 * keeps the first value), no option that runs a command is there; and the
 * remote command reads back, by the shell's rules, as exactly the words
 * meant, with no operator but the fixed ones of the wraps.
 *
 * Input: byte 0: send flags; byte 1: receive flags (bits 0-2), -I (3),
 * the wrap (4-5), the compression (6-7); byte 2: port (bit 0 and the
 * value), level, a key file (bit 7), a known_hosts file (bit 6); then
 * NUL-separated fields: source user, host, dataset; target user, host,
 * dataset; base; two -o; one -x; origin; two --ssh-option; cipher;
 * remote zfs; remote zferry; local zfs; ssh.
 */
#include "fuzz.h"

#include <strings.h>

#include "cmd.h"
#include "codec.h"

enum {
	F_SRC_USER,
	F_SRC_HOST,
	F_SRC_DS,
	F_DST_USER,
	F_DST_HOST,
	F_DST_DS,
	F_BASE,
	F_PROP1,
	F_PROP2,
	F_EXCL,
	F_ORIGIN,
	F_OPT1,
	F_OPT2,
	F_CIPHER,
	F_RZFS,
	F_RZFERRY,
	F_ZFS,
	F_SSH,
	NF
};

#define MAX_WORDS 256
#define CONTROL_PATH "/tmp/zferry-ssh-1-abcdef/ssh"

static const char *const zfs_flags[] = {"send", "receive", "-n", "-v", "-P",
    "-R", "-w", "-c", "-L", "-e", "-p", "-h", "-b", "-i", "-I", "-F", "-u",
    "-s", "-o", "-x", "-t", NULL};

/* ssh options that must never appear, whoever asked */
static const char *const ssh_never[] = {"ProxyCommand", "LocalCommand",
    "KnownHostsCommand", "RemoteCommand", "Include", "Match", "ProxyJump",
    "PKCS11Provider", "SecurityKeyProvider", "Hostname", "User", "Port",
    "IdentityFile", "GlobalKnownHostsFile", "LocalForward", "RemoteForward",
    "DynamicForward", "Tunnel", "SendEnv", "SetEnv", "VerifyHostKeyDNS", NULL};

/* hardening: ssh keeps the first value of each option */
static const char *const ssh_first[] = {"BatchMode=yes",
    "StrictHostKeyChecking=yes", "PermitLocalCommand=no",
    "ClearAllForwardings=yes", "ForwardAgent=no", "ForwardX11=no",
    "RequestTTY=no", "UpdateHostKeys=no", NULL};

static bool
in(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static bool
key_is(const char *opt, const char *key)
{
	size_t n = strlen(key);

	return strncasecmp(opt, key, n) == 0 && opt[n] == '=';
}

/* The zfs argv: zferry's flags, and each value whole after its flag. */
static void
check_zfs(char **z, const struct zf_spec *s, const char *zfs, bool send)
{
	size_t n = zf_strv_len((const char *const *)z), i;
	char **q;

	FZ_CHECK(n >= 3 && strcmp(z[0], zfs) == 0, "zfs argv");
	for (i = 1; i < n; i++)
		FZ_CHECK(z[i][0] != '-' || in(z[i], zfs_flags),
		    "zfs argument %zu '%s' reads as an option", i, z[i]);
	if (send) {
		FZ_CHECK(strcmp(z[n - 1], s->source.dataset) == 0,
		    "send of '%s'", z[n - 1]);
		if (s->base != NULL)
			FZ_CHECK(strcmp(z[n - 2], s->base) == 0 &&
			        strcmp(z[n - 3],
			            s->intermediates ? "-I" : "-i") == 0,
			    "base '%s'", z[n - 2]);
		return;
	}
	FZ_CHECK(strcmp(z[n - 1], s->target.dataset) == 0, "receive into '%s'",
	    z[n - 1]);
	for (q = s->props; *q != NULL; q++) {
		for (i = 2; i < n; i++)
			if (strcmp(z[i], *q) == 0 &&
			    strcmp(z[i - 1], "-o") == 0)
				break;
		FZ_CHECK(i < n, "-o '%s' is not one argument after -o", *q);
	}
	for (q = s->excludes; *q != NULL; q++) {
		for (i = 2; i < n; i++)
			if (strcmp(z[i], *q) == 0 &&
			    strcmp(z[i - 1], "-x") == 0)
				break;
		FZ_CHECK(i < n, "-x '%s' is not one argument after -x", *q);
	}
}

/*
 * The ssh argv: options, "--", the host, and tail more arguments.  For
 * the master (master) and -O exit (exit) the control options differ.
 */
static void
check_ssh(char **a, const struct zf_spec *s, const struct zf_location *loc,
    size_t tail, bool master, bool exit, const char *cpath)
{
	size_t n = zf_strv_len((const char *const *)a), dd, i, k;
	const char *first[32];
	size_t nfirst = 0;

	FZ_CHECK(n >= tail + 3 && strcmp(a[0], s->ssh.program) == 0,
	    "ssh argv");
	dd = n - tail - 2;
	FZ_CHECK(strcmp(a[dd], "--") == 0 && strcmp(a[dd + 1], loc->host) == 0,
	    "'%s' '%s' before the remote command", a[dd], a[dd + 1]);
	for (i = 1; i < dd; i++) {
		const char *o = a[i], *v = a[i + 1];

		if (in(o, (const char *const[]){"-T", "-x", "-N", NULL}))
			continue;
		FZ_CHECK(i + 1 < dd, "'%s' without a value", o);
		i++;
		if (strcmp(o, "-p") == 0) {
			FZ_CHECK(strspn(v, "0123456789") == strlen(v) &&
			        strtoul(v, NULL, 10) == s->ssh.port,
			    "-p '%s'", v);
		} else if (strcmp(o, "-i") == 0) {
			FZ_CHECK(s->ssh.key_file != NULL &&
			        strcmp(v, s->ssh.key_file) == 0,
			    "-i '%s'", v);
		} else if (strcmp(o, "-c") == 0) {
			/* getopt takes it whole, even "-aes128-ctr" */
			FZ_CHECK(s->ssh.cipher != NULL &&
			        strcmp(v, s->ssh.cipher) == 0,
			    "-c '%s'", v);
		} else if (strcmp(o, "-l") == 0) {
			FZ_CHECK(strcmp(v, loc->user) == 0 && v[0] != '-',
			    "-l '%s'", v);
		} else if (strcmp(o, "-O") == 0) {
			FZ_CHECK(exit && strcmp(v, "exit") == 0, "-O '%s'", v);
		} else {
			FZ_CHECK(strcmp(o, "-o") == 0,
			    "stray ssh argument '%s'", o);
			FZ_CHECK(strchr(v, '=') != NULL && v[0] != '-',
			    "-o '%s'", v);
			for (k = 0; ssh_never[k] != NULL; k++)
				FZ_CHECK(!key_is(v, ssh_never[k]), "-o '%s'",
				    v);
			if (key_is(v, "UserKnownHostsFile"))
				FZ_CHECK(s->ssh.known_hosts != NULL &&
				        strcmp(v + 19, s->ssh.known_hosts) == 0,
				    "-o '%s'", v);
			for (k = 0; k < nfirst; k++)
				if (strncasecmp(first[k], v,
				        (size_t)(strchr(v, '=') - v + 1)) == 0)
					break;
			if (k == nfirst && nfirst < ZF_ARRAY_SIZE(first))
				first[nfirst++] = v;
		}
	}
	/* the value ssh keeps of each option is the hardened one */
	for (i = 0; !exit && ssh_first[i] != NULL; i++) {
		for (k = 0; k < nfirst; k++)
			if (strncasecmp(first[k], ssh_first[i],
			        (size_t)(strchr(ssh_first[i], '=') -
			            ssh_first[i] + 1)) == 0)
				break;
		FZ_CHECK(k < nfirst && strcmp(first[k], ssh_first[i]) == 0,
		    "ssh keeps '%s', not '%s'", k < nfirst ? first[k] : "none",
		    ssh_first[i]);
	}
	for (k = 0; k < nfirst; k++) {
		if (key_is(first[k], "ControlPath"))
			FZ_CHECK(strcmp(first[k] + 12,
			             cpath != NULL ? cpath : "none") == 0,
			    "'%s'", first[k]);
		if (key_is(first[k], "ControlPersist"))
			FZ_CHECK(master &&
			        strcmp(first[k], "ControlPersist=no") == 0,
			    "'%s'", first[k]);
		if (key_is(first[k], "ControlMaster"))
			FZ_CHECK(strcmp(first[k],
			             master ? "ControlMaster=yes"
			                    : "ControlMaster=no") == 0,
			    "'%s'", first[k]);
	}
}

/* The shell operators of the wraps, told from words by their address. */
static const char OP_PIPE[] = "|";
static const char OP_QUIET[] = "2>/dev/null;";

/* The remote command reads back as want (NULL-ended; OP_* operators). */
static void
check_remote(const char *cmd, const char *const *want)
{
	size_t len = strlen(cmd), off[MAX_WORDS], i;
	bool op[MAX_WORDS];
	char *words = malloc(len + 1);
	int n;

	if (words == NULL)
		abort();
	n = fz_sh_words(cmd, len, words, len + 1, off, op, MAX_WORDS);
	FZ_CHECK(n == (int)zf_strv_len(want), "%d words, want %zu: %s", n,
	    zf_strv_len(want), cmd);
	for (i = 0; i < (size_t)n; i++) {
		bool want_op = want[i] == OP_PIPE || want[i] == OP_QUIET;

		FZ_CHECK(op[i] == want_op &&
		        strcmp(words + off[i], want[i]) == 0,
		    "word %zu is '%s' (operator %d), want '%s': %s", i,
		    words + off[i], (int)op[i], want[i], cmd);
	}
	free(words);
}

/* One side: its zfs argv, and that argv run where the side is. */
static void
check_side(const struct zf_spec *s, const struct zf_location *loc, bool send,
    const struct zf_wrap *w)
{
	struct zf_argv z = ZF_ARGV_INIT, a = ZF_ARGV_INIT;
	const char *zfs =
	    zf_location_is_remote(loc) ? s->remote_zfs : s->zfs_program;
	const char *want[MAX_WORDS + 8];
	char level[32], **zv, **av;
	struct zf_error err;
	size_t n = 0, i;
	enum zf_status r;

	if (send)
		zf_cmd_zfs_send(&z, s, zfs);
	else
		zf_cmd_zfs_recv(&z, s, zfs);
	zv = zf_argv_finish(&z);
	FZ_CHECK(zv != NULL, "zfs argv");
	check_zfs(zv, s, zfs, send);
	zf_error_clear(&err);
	r = zf_cmd_on(&a, s, loc, w, (const char *const *)zv, &err);
	av = zf_argv_finish(&a);
	if (r != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		FZ_CHECK(strstr(err.msg, "longer than") != NULL, "%s", err.msg);
		zf_argv_free_v(av);
		zf_argv_free_v(zv);
		return;
	}
	FZ_CHECK(av != NULL, "argv");
	if (!zf_location_is_remote(loc)) {
		for (i = 0; zv[i] != NULL; i++)
			FZ_CHECK(av[i] != NULL && strcmp(av[i], zv[i]) == 0,
			    "local argv differs at %zu", i);
		FZ_CHECK(av[i] == NULL, "local argv is longer");
		zf_argv_free_v(av);
		zf_argv_free_v(zv);
		return;
	}
	check_ssh(av, s, loc, 1, false, false, NULL);
	/* env(1) reads a word with '=' as an assignment, not the program */
	if (w->kind == ZF_WRAP_NONE || w->kind == ZF_WRAP_TOOL_DECOMPRESS)
		FZ_CHECK(strchr(zfs, '=') == NULL,
		    "env would read the remote zfs '%s' as an assignment", zfs);
	snprintf(level, sizeof(level), "%s:%d", zf_compress_name(w->alg),
	    w->level);
	switch (w->kind) {
	case ZF_WRAP_ZFERRY_DECOMPRESS:
	case ZF_WRAP_ZFERRY_COMPRESS:
		want[n++] = s->remote_zferry;
		want[n++] = "pipe";
		if (w->kind == ZF_WRAP_ZFERRY_DECOMPRESS) {
			want[n++] = "--decompress";
			want[n++] = zf_compress_name(w->alg);
		} else {
			want[n++] = "--compress";
			want[n++] = level;
		}
		want[n++] = "--";
		break;
	case ZF_WRAP_TOOL_DECOMPRESS:
		want[n++] = zf_compress_name(w->alg);
		want[n++] = "-dc";
		want[n++] = OP_PIPE;
		/* FALLTHROUGH */
	case ZF_WRAP_NONE:
		want[n++] = "env";
		want[n++] = "LC_ALL=C";
		break;
	}
	for (i = 0; zv[i] != NULL && n < MAX_WORDS; i++)
		want[n++] = zv[i];
	want[n] = NULL;
	check_remote(av[zf_strv_len((const char *const *)av) - 1], want);
	zf_argv_free_v(av);
	zf_argv_free_v(zv);
}

/* The probe, the master and -O exit of a remote side. */
static void
check_remote_side(struct zf_spec *s, const struct zf_location *loc)
{
	struct zf_argv a = ZF_ARGV_INIT;
	const char *want[] = {s->remote_zferry, "pipe", "--probe", OP_QUIET,
	    "command", "-v", "zstd", OP_QUIET, "command", "-v", "lz4", OP_QUIET,
	    "env", "LC_ALL=C", s->remote_zfs, "send", NULL};
	char **av;

	FZ_CHECK(strchr(s->remote_zfs, '=') == NULL,
	    "env would read the remote zfs '%s' as an assignment",
	    s->remote_zfs);
	if (zf_cmd_probe(&a, s, loc, "send", NULL) == ZF_OK) {
		av = zf_argv_finish(&a);
		FZ_CHECK(av != NULL, "probe argv");
		check_ssh(av, s, loc, 1, false, false, NULL);
		check_remote(av[zf_strv_len((const char *const *)av) - 1],
		    want);
		zf_argv_free_v(av);
	} else {
		zf_argv_clear(&a);
	}
	s->ssh.control_path = CONTROL_PATH;
	zf_cmd_ssh_master(&a, &s->ssh, loc);
	av = zf_argv_finish(&a);
	FZ_CHECK(av != NULL, "master argv");
	check_ssh(av, s, loc, 0, true, false, CONTROL_PATH);
	zf_argv_free_v(av);
	zf_cmd_ssh_exit(&a, &s->ssh, loc);
	av = zf_argv_finish(&a);
	FZ_CHECK(av != NULL, "exit argv");
	check_ssh(av, s, loc, 0, false, true, CONTROL_PATH);
	zf_argv_free_v(av);
	s->ssh.control_path = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum zf_compress_alg algs[] = {ZF_COMPRESS_AUTO,
	    ZF_COMPRESS_ZSTD, ZF_COMPRESS_LZ4, ZF_COMPRESS_NONE};
	const char *f[NF], *props[3] = {NULL}, *excl[2] = {NULL},
	                   *opts[3] = {NULL};
	struct zf_send_config cfg;
	struct zf_spec spec;
	struct zf_error err;
	struct zf_wrap w;
	char *s;
	size_t i, k, np = 0, no = 0;
	enum zf_status r;

	if (size < 3)
		return 0;
	s = fz_str(data + 3, size - 3);
	for (i = 0, k = 0; k < NF; k++) {
		f[k] = i < size - 3 ? s + i : "";
		i += strlen(f[k]) + 1;
	}
	zf_send_config_init(&cfg);
	snprintf(cfg.source.user, ZF_LOC_FIELD_MAX, "%s", f[F_SRC_USER]);
	snprintf(cfg.source.host, ZF_LOC_FIELD_MAX, "%s", f[F_SRC_HOST]);
	snprintf(cfg.source.dataset, ZF_LOC_FIELD_MAX, "%s", f[F_SRC_DS]);
	snprintf(cfg.target.user, ZF_LOC_FIELD_MAX, "%s", f[F_DST_USER]);
	snprintf(cfg.target.host, ZF_LOC_FIELD_MAX, "%s", f[F_DST_HOST]);
	snprintf(cfg.target.dataset, ZF_LOC_FIELD_MAX, "%s", f[F_DST_DS]);
#define OPT(x) (f[x][0] != '\0' ? f[x] : NULL)
	cfg.base = OPT(F_BASE);
	cfg.intermediates = (data[1] & 8) != 0;
	cfg.send_flags = data[0];
	cfg.recv_flags = data[1] & 7u;
	if (f[F_PROP1][0] != '\0')
		props[np++] = f[F_PROP1];
	if (f[F_PROP2][0] != '\0')
		props[np++] = f[F_PROP2];
	cfg.props = props;
	excl[0] = OPT(F_EXCL);
	cfg.excludes = excl;
	cfg.origin = OPT(F_ORIGIN);
	if (f[F_OPT1][0] != '\0')
		opts[no++] = f[F_OPT1];
	if (f[F_OPT2][0] != '\0')
		opts[no++] = f[F_OPT2];
	cfg.ssh.options = opts;
	cfg.ssh.cipher = OPT(F_CIPHER);
	cfg.ssh.port = data[2] & 1 ? (unsigned)data[2] * 300u : 0;
	/* any readable regular file will do: its name is what is checked */
	cfg.ssh.key_file = data[2] & 0x80 ? "/etc/passwd" : NULL;
	cfg.ssh.known_hosts = data[2] & 0x40 ? "/etc/passwd" : NULL;
	cfg.remote_zfs = OPT(F_RZFS);
	cfg.remote_zferry = OPT(F_RZFERRY);
	cfg.zfs_program = OPT(F_ZFS);
	cfg.ssh_program = OPT(F_SSH);
	cfg.compress = algs[data[1] >> 6];
	if (cfg.compress == ZF_COMPRESS_ZSTD || cfg.compress == ZF_COMPRESS_LZ4)
		cfg.compress_level = (data[2] >> 1) % 13;
#undef OPT

	zf_error_clear(&err);
	r = zf_spec_init(&spec, &cfg, &err);
	if (r != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		FZ_CHECK(err.stage == ZF_STAGE_INPUT, "stage %d", err.stage);
		free(s);
		return 0;
	}
	FZ_CHECK(!(zf_location_is_remote(&spec.source) &&
	             zf_location_is_remote(&spec.target)),
	    "both sides remote");
	w.kind = (enum zf_wrap_kind)((data[1] >> 4) & 3);
	w.alg = cfg.compress == ZF_COMPRESS_LZ4 ? ZF_COMPRESS_LZ4
	                                        : ZF_COMPRESS_ZSTD;
	w.level = spec.compress_level;
	check_side(&spec, &spec.source, true, &w);
	check_side(&spec, &spec.target, false, &w);
	if (zf_location_is_remote(&spec.source))
		check_remote_side(&spec, &spec.source);
	if (zf_location_is_remote(&spec.target))
		check_remote_side(&spec, &spec.target);
	zf_spec_release(&spec);
	free(s);
	return 0;
}
