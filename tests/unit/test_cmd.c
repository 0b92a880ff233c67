/*
 * test_cmd.c: the argv vectors of cmd.c, compared element by element, and
 * zf_sh_quote() checked against a real /bin/sh: every quoted word must come
 * back from the shell byte for byte.  The spec is built the way the CLI
 * builds it, through zf_location_parse() and zf_spec_init().
 */
#include "compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cmd.h"
#include "validate.h"

static char tmpdir[] = "/tmp/zf-test-cmd.XXXXXX";
static char key_path[PATH_MAX];
static char kh_path[PATH_MAX];

static void
write_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup(void **state)
{
	char *real;

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* the spec stores realpath()s: expect the same */
	real = realpath(tmpdir, NULL);
	if (real == NULL)
		return -1;
	snprintf(key_path, sizeof(key_path), "%s/id_test", real);
	snprintf(kh_path, sizeof(kh_path), "%s/known_hosts", real);
	free(real);
	write_file(key_path, 0600);
	write_file(kh_path, 0644);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(key_path);
	unlink(kh_path);
	return rmdir(tmpdir);
}

static void
assert_argv(char **got, const char *const *want)
{
	size_t i;

	assert_non_null(got);
	for (i = 0; want[i] != NULL; i++) {
		if (got[i] == NULL)
			fail_msg("argv ends at %zu, want \"%s\" there", i,
			    want[i]);
		if (strcmp(got[i], want[i]) != 0)
			fail_msg("argv[%zu] is \"%s\", want \"%s\"", i, got[i],
			    want[i]);
	}
	if (got[i] != NULL)
		fail_msg("argv[%zu] is an extra \"%s\"", i, got[i]);
}

static char **
finish(struct zf_argv *a)
{
	char **v;

	assert_true(zf_argv_ok(a));
	v = zf_argv_finish(a);
	assert_non_null(v);
	return v;
}

/*
 * Runs /bin/sh -c "set -- QUOTED; for a; do printf '%s\0' "$a"; done"
 * (with fish: "for a in QUOTED; printf '%s\0' $a; end") and stores what it
 * prints; returns its exit status.
 */
static int
shell_words(const char *shell, const char *quoted, struct zf_buf *out)
{
	struct zf_buf script = ZF_BUF_INIT(1 << 22);
	int pfd[2], st;
	pid_t pid;
	char chunk[4096];
	ssize_t n;

	if (strstr(shell, "fish") != NULL)
		assert_int_equal(zf_buf_addf(&script,
		                     "for a in %s; printf '%%s\\0' $a; end",
		                     quoted),
		    ZF_OK);
	else
		assert_int_equal(zf_buf_addf(&script,
		                     "set -- %s; for a; do "
		                     "printf '%%s\\0' \"$a\"; done",
		                     quoted),
		    ZF_OK);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(126);
		execl(shell, shell, "-c", script.data, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		assert_int_equal(zf_buf_add(out, chunk, (size_t)n), ZF_OK);
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	zf_buf_release(&script);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* argv → zf_sh_quote → the shell → the same argv, byte for byte. */
static void
assert_shell_round_trip(const char *shell, const char *const *argv)
{
	struct zf_buf q = ZF_BUF_INIT(1 << 22);
	struct zf_buf got = ZF_BUF_INIT(1 << 22);
	struct zf_buf want = ZF_BUF_INIT(1 << 22);
	struct zf_error err;
	size_t i;

	zf_error_clear(&err);
	assert_int_equal(zf_sh_quote(&q, argv, &err), ZF_OK);
	for (i = 0; argv[i] != NULL; i++)
		assert_int_equal(zf_buf_add(&want, argv[i],
		                     strlen(argv[i]) + 1),
		    ZF_OK);
	assert_int_equal(shell_words(shell, q.data != NULL ? q.data : "", &got),
	    0);
	if (got.len != want.len ||
	    (want.len > 0 && memcmp(got.data, want.data, want.len) != 0)) {
		char shown[512];

		zf_escape(shown, sizeof(shown), q.data, q.len);
		fail_msg("%s did not give back the words of: %s", shell, shown);
	}
	zf_buf_release(&q);
	zf_buf_release(&got);
	zf_buf_release(&want);
}

static void
assert_sh_round_trip(const char *const *argv)
{
	assert_shell_round_trip("/bin/sh", argv);
}

/*
 * Runs /bin/sh -c LINE with the environment envp; stores stdout and stderr
 * (each small: read one after the other); returns the exit status.
 */
static int
sh_run(const char *line, char *const envp[], struct zf_buf *out,
    struct zf_buf *errout)
{
	int po[2], pe[2], st, i;
	pid_t pid;
	char chunk[4096];
	ssize_t n;
	struct zf_buf *dst[2] = {out, errout};

	assert_int_equal(pipe2(po, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(po[1], STDOUT_FILENO) < 0 ||
		    dup2(pe[1], STDERR_FILENO) < 0)
			_exit(126);
		execle("/bin/sh", "sh", "-c", line, (char *)NULL, envp);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	for (i = 0; i < 2; i++) {
		int fd = i == 0 ? po[0] : pe[0];

		while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			assert_true(n > 0);
			assert_int_equal(zf_buf_add(dst[i], chunk, (size_t)n),
			    ZF_OK);
		}
		close(fd);
	}
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The spec of a push to backup@host.example, with every option set. */
static void
full_spec(struct zf_spec *spec, bool intermediates)
{
	static const char *const props[] = {"compression=lz4",
	    "com.example:note=it's $(x) `y`\n", NULL};
	static const char *const excludes[] = {"mountpoint", NULL};
	static const char *const options[] = {"ConnectTimeout 5",
	    "compression=yes", NULL};
	struct zf_send_config cfg;
	struct zf_error err;

	zf_error_clear(&err);
	zf_send_config_init(&cfg);
	assert_int_equal(zf_location_parse(&cfg.source, "tank/src@s2",
	                     ZF_NAME_SNAPSHOT, "source", &err),
	    ZF_OK);
	assert_int_equal(zf_location_parse(&cfg.target,
	                     "backup@host.example:pool/dst",
	                     ZF_NAME_FS | ZF_NAME_SNAPSHOT, "target", &err),
	    ZF_OK);
	cfg.base = "@s1";
	cfg.intermediates = intermediates;
	cfg.send_flags = ZF_SEND_RAW | ZF_SEND_COMPRESSED |
	    ZF_SEND_LARGE_BLOCK | ZF_SEND_EMBED | ZF_SEND_PROPS |
	    ZF_SEND_HOLDS | ZF_SEND_BACKUP | ZF_SEND_REPLICATE;
	cfg.recv_flags = ZF_RECV_FORCE | ZF_RECV_NOMOUNT | ZF_RECV_RESUMABLE;
	cfg.props = props;
	cfg.excludes = excludes;
	cfg.origin = "pool/base@o";
	cfg.ssh.port = 2222;
	cfg.ssh.key_file = key_path;
	cfg.ssh.known_hosts = kh_path;
	cfg.ssh.cipher = "aes128-gcm@openssh.com";
	cfg.ssh.options = options;
	cfg.ssh_program = "/usr/bin/ssh";
	cfg.remote_zfs = "/usr/sbin/zfs";
	if (zf_spec_init(spec, &cfg, &err) != ZF_OK)
		fail_msg("zf_spec_init: %s", err.msg);
}

static void
minimal_spec(struct zf_spec *spec, const char *source, const char *target)
{
	struct zf_send_config cfg;
	struct zf_error err;

	zf_error_clear(&err);
	zf_send_config_init(&cfg);
	assert_int_equal(zf_location_parse(&cfg.source, source,
	                     ZF_NAME_SNAPSHOT, "source", &err),
	    ZF_OK);
	assert_int_equal(zf_location_parse(&cfg.target, target,
	                     ZF_NAME_FS | ZF_NAME_SNAPSHOT, "target", &err),
	    ZF_OK);
	if (zf_spec_init(spec, &cfg, &err) != ZF_OK)
		fail_msg("zf_spec_init: %s", err.msg);
}

/* --- zfs argv -------------------------------------------------------- */

static void
test_send_argv_has_every_flag_then_base_then_snapshot(void **state)
{
	static const char *const want[] = {"zfs", "send", "-R", "-w", "-c",
	    "-L", "-e", "-p", "-h", "-b", "-i", "tank/src@s1", "tank/src@s2",
	    NULL};
	struct zf_spec spec;
	struct zf_argv a = ZF_ARGV_INIT;
	char **v;

	(void)state;
	full_spec(&spec, false);
	zf_cmd_zfs_send(&a, &spec, spec.zfs_program);
	v = finish(&a);
	assert_argv(v, want);
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

static void
test_send_argv_with_intermediates_uses_capital_i(void **state)
{
	struct zf_spec spec;
	struct zf_argv a = ZF_ARGV_INIT;
	char **v;
	size_t n;

	(void)state;
	full_spec(&spec, true);
	zf_cmd_zfs_send(&a, &spec, "/sbin/zfs");
	v = finish(&a);
	n = zf_strv_len((const char *const *)v);
	assert_string_equal(v[0], "/sbin/zfs");
	assert_string_equal(v[n - 3], "-I");
	assert_string_equal(v[n - 2], "tank/src@s1");
	assert_string_equal(v[n - 1], "tank/src@s2");
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

static void
test_send_argv_full_stream_has_no_base(void **state)
{
	static const char *const want[] = {"zfs", "send", "pool/a b@s 1", NULL};
	struct zf_spec spec;
	struct zf_argv a = ZF_ARGV_INIT;
	char **v;

	(void)state;
	minimal_spec(&spec, "pool/a b@s 1", "pool/c");
	zf_cmd_zfs_send(&a, &spec, spec.zfs_program);
	v = finish(&a);
	assert_argv(v, want);
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

static void
test_recv_argv_has_flags_props_origin_excludes_then_target(void **state)
{
	static const char *const want[] = {"/usr/sbin/zfs", "receive", "-F",
	    "-u", "-s", "-o", "compression=lz4", "-o",
	    "com.example:note=it's $(x) `y`\n", "-o", "origin=pool/base@o",
	    "-x", "mountpoint", "pool/dst", NULL};
	struct zf_spec spec;
	struct zf_argv a = ZF_ARGV_INIT;
	char **v;

	(void)state;
	full_spec(&spec, false);
	zf_cmd_zfs_recv(&a, &spec, spec.remote_zfs);
	v = finish(&a);
	assert_argv(v, want);
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

static void
test_recv_argv_minimal(void **state)
{
	static const char *const want[] = {"zfs", "receive", "pool/c", NULL};
	struct zf_spec spec;
	struct zf_argv a = ZF_ARGV_INIT;
	char **v;

	(void)state;
	minimal_spec(&spec, "pool/a@s", "pool/c");
	zf_cmd_zfs_recv(&a, &spec, spec.zfs_program);
	v = finish(&a);
	assert_argv(v, want);
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

/* --- ssh argv -------------------------------------------------------- */

static void
test_on_remote_wraps_the_command_in_exactly_this_ssh_argv(void **state)
{
	static const char quoted[] =
	    "'env' 'LC_ALL=C' '/usr/sbin/zfs' 'receive' '-F' '-u' '-s' "
	    "'-o' 'compression=lz4' '-o' 'com.example:note=it'\\''s $(x) "
	    "`y`\n' '-o' 'origin=pool/base@o' '-x' 'mountpoint' 'pool/dst'";
	char kh_opt[PATH_MAX + 32];
	const char *const want[] = {"/usr/bin/ssh", "-o", "BatchMode=yes", "-o",
	    "StrictHostKeyChecking=yes", "-o", "PermitLocalCommand=no", "-o",
	    "ClearAllForwardings=yes", "-o", "ForwardAgent=no", "-o",
	    "ForwardX11=no", "-o", "RequestTTY=no", "-o", "ControlMaster=no",
	    "-o", "ControlPath=none", "-o", "UpdateHostKeys=no", "-o", kh_opt,
	    "-o", "ConnectTimeout=5", "-o", "Compression=yes", "-o",
	    "ConnectTimeout=10", "-o", "ServerAliveInterval=10", "-o",
	    "ServerAliveCountMax=3", "-T", "-x", "-p", "2222", "-i", key_path,
	    "-o", "IdentitiesOnly=yes", "-c", "aes128-gcm@openssh.com", "-l",
	    "backup", "--", "host.example", quoted, NULL};
	struct zf_spec spec;
	struct zf_argv z = ZF_ARGV_INIT, a = ZF_ARGV_INIT;
	struct zf_error err;
	char **zv, **v;

	(void)state;
	snprintf(kh_opt, sizeof(kh_opt), "UserKnownHostsFile=%s", kh_path);
	full_spec(&spec, false);
	zf_cmd_zfs_recv(&z, &spec, spec.remote_zfs);
	zv = finish(&z);
	zf_error_clear(&err);
	assert_int_equal(zf_cmd_on(&a, &spec, &spec.target, NULL,
	                     (const char *const *)zv, &err),
	    ZF_OK);
	v = finish(&a);
	assert_argv(v, want);
	zf_argv_free_v(zv);
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

static size_t
index_of(char **v, const char *s)
{
	size_t i;

	for (i = 0; v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return i;
	fail_msg("\"%s\" is not in the argv", s);
	return 0;
}

static void
test_ssh_argv_order_hardening_user_defaults_dashdash_host(void **state)
{
	struct zf_spec spec;
	struct zf_argv z = ZF_ARGV_INIT, a = ZF_ARGV_INIT;
	char **zv, **v;
	size_t n, i, last_fixed, kh, user1, user2, dflt, dashdash;
	struct zf_buf words = ZF_BUF_INIT(1 << 16);

	(void)state;
	full_spec(&spec, false);
	zf_cmd_zfs_recv(&z, &spec, spec.remote_zfs);
	zv = finish(&z);
	assert_int_equal(zf_cmd_on(&a, &spec, &spec.target, NULL,
	                     (const char *const *)zv, NULL),
	    ZF_OK);
	v = finish(&a);
	n = zf_strv_len((const char *const *)v);
	/* ssh keeps the first value it reads: hardening comes first */
	assert_int_equal(index_of(v, "BatchMode=yes"), 2);
	last_fixed = index_of(v, "UpdateHostKeys=no");
	for (i = 1; i < last_fixed; i += 2) {
		assert_string_equal(v[i], "-o");
		assert_non_null(strchr(v[i + 1], '='));
	}
	for (kh = 0; strncmp(v[kh], "UserKnownHostsFile=", 19) != 0; kh++)
		;
	user1 = index_of(v, "ConnectTimeout=5");
	user2 = index_of(v, "Compression=yes");
	dflt = index_of(v, "ConnectTimeout=10");
	assert_true(last_fixed < kh);
	assert_true(kh < user1);
	assert_true(user1 < user2);
	assert_true(user2 < dflt); /* the user's value wins over ours */
	assert_true(dflt < index_of(v, "ServerAliveCountMax=3"));
	/* -l user, -p port, -i key with IdentitiesOnly */
	assert_string_equal(v[index_of(v, "-l") + 1], "backup");
	assert_string_equal(v[index_of(v, "-p") + 1], "2222");
	assert_string_equal(v[index_of(v, "-i") + 1], key_path);
	assert_string_equal(v[index_of(v, "-i") + 3], "IdentitiesOnly=yes");
	/* "--", the host, and the remote command as ONE argument, last */
	dashdash = index_of(v, "--");
	assert_int_equal(dashdash, n - 3);
	assert_string_equal(v[n - 2], "host.example");
	for (i = 0; i < n - 1; i++)
		assert_null(strstr(v[i], "receive"));
	assert_int_equal(shell_words("/bin/sh", v[n - 1], &words), 0);
	{
		static const char *const remote[] = {"env", "LC_ALL=C",
		    "/usr/sbin/zfs", "receive", "-F", "-u", "-s", "-o",
		    "compression=lz4", "-o", "com.example:note=it's $(x) `y`\n",
		    "-o", "origin=pool/base@o", "-x", "mountpoint", "pool/dst",
		    NULL};
		size_t o = 0;

		for (i = 0; remote[i] != NULL; i++) {
			assert_true(o < words.len);
			assert_string_equal(words.data + o, remote[i]);
			o += strlen(remote[i]) + 1;
		}
		assert_int_equal(o, words.len);
	}
	zf_buf_release(&words);
	zf_argv_free_v(zv);
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

static void
test_ssh_argv_without_options_has_no_optional_parts(void **state)
{
	static const char *const want[] = {"ssh", "-o", "BatchMode=yes", "-o",
	    "StrictHostKeyChecking=yes", "-o", "PermitLocalCommand=no", "-o",
	    "ClearAllForwardings=yes", "-o", "ForwardAgent=no", "-o",
	    "ForwardX11=no", "-o", "RequestTTY=no", "-o", "ControlMaster=no",
	    "-o", "ControlPath=none", "-o", "UpdateHostKeys=no", "-o",
	    "ConnectTimeout=10", "-o", "ServerAliveInterval=10", "-o",
	    "ServerAliveCountMax=3", "-T", "-x", "--", "fe80::1%eth0",
	    "'env' 'LC_ALL=C' 'zfs' 'receive' 'pool/c'", NULL};
	struct zf_spec spec;
	struct zf_argv z = ZF_ARGV_INIT, a = ZF_ARGV_INIT;
	char **zv, **v;

	(void)state;
	minimal_spec(&spec, "pool/a@s", "[fe80::1%eth0]:pool/c");
	assert_string_equal(spec.target.host, "fe80::1%eth0");
	zf_cmd_zfs_recv(&z, &spec, spec.remote_zfs);
	zv = finish(&z);
	assert_int_equal(zf_cmd_on(&a, &spec, &spec.target, NULL,
	                     (const char *const *)zv, NULL),
	    ZF_OK);
	v = finish(&a);
	assert_argv(v, want);
	zf_argv_free_v(zv);
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

static void
test_on_local_is_the_zfs_argv_itself(void **state)
{
	struct zf_spec spec;
	struct zf_argv z = ZF_ARGV_INIT, a = ZF_ARGV_INIT;
	char **zv, **v;

	(void)state;
	full_spec(&spec, false);
	zf_cmd_zfs_send(&z, &spec, spec.zfs_program);
	zv = finish(&z);
	assert_int_equal(zf_cmd_on(&a, &spec, &spec.source, NULL,
	                     (const char *const *)zv, NULL),
	    ZF_OK);
	v = finish(&a);
	assert_argv(v, (const char *const *)zv);
	zf_argv_free_v(zv);
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

static void
test_ssh_refuses_a_remote_command_over_the_limit(void **state)
{
	struct zf_spec spec;
	struct zf_argv a = ZF_ARGV_INIT;
	struct zf_error err;
	char *big = malloc(ZF_REMOTE_CMD_MAX + 1);
	const char *remote[] = {"zfs", big, NULL};

	(void)state;
	assert_non_null(big);
	memset(big, 'x', ZF_REMOTE_CMD_MAX);
	big[ZF_REMOTE_CMD_MAX] = '\0';
	minimal_spec(&spec, "pool/a@s", "host:pool/c");
	zf_error_clear(&err);
	assert_int_equal(zf_cmd_on(&a, &spec, &spec.target, NULL, remote, &err),
	    ZF_E_INVALID);
	assert_int_equal(a.n, 0); /* nothing half-built */
	assert_string_equal(err.msg,
	    "remote command is longer than 65536 "
	    "bytes");
	zf_argv_clear(&a);
	zf_spec_release(&spec);
	free(big);
}

/* --- remote command wraps and the probe ------------------------------ */

/* The remote command (last word) of zf_cmd_on(wrap) for a minimal spec. */
static char *
remote_of(const struct zf_spec *spec, const struct zf_location *loc,
    const struct zf_wrap *wrap, const char *const *zfs_argv)
{
	struct zf_argv a = ZF_ARGV_INIT;
	struct zf_error err;
	char **v, *last;
	size_t n;

	zf_error_clear(&err);
	if (zf_cmd_on(&a, spec, loc, wrap, zfs_argv, &err) != ZF_OK)
		fail_msg("zf_cmd_on: %s", err.msg);
	v = finish(&a);
	n = zf_strv_len((const char *const *)v);
	assert_true(n >= 3);
	assert_string_equal(v[n - 3], "--");
	last = strdup(v[n - 1]);
	assert_non_null(last);
	zf_argv_free_v(v);
	return last;
}

static void
test_wraps_quote_every_word(void **state)
{
	static const char *const recv[] = {"zfs", "receive", "pool/c", NULL};
	static const char *const send[] = {"zfs", "send", "pool/a@s", NULL};
	static const struct {
		struct zf_wrap w;
		bool recv; /* wraps zfs receive, else zfs send */
		const char *want;
	} cases[] = {
	    {{ZF_WRAP_NONE, ZF_COMPRESS_NONE, 0}, true,
	        "'env' 'LC_ALL=C' 'zfs' 'receive' 'pool/c'"},
	    {{ZF_WRAP_ZFERRY_DECOMPRESS, ZF_COMPRESS_ZSTD, 0}, true,
	        "'zferry' 'pipe' '--decompress' 'zstd' '--' 'zfs' 'receive' "
	        "'pool/c'"},
	    {{ZF_WRAP_ZFERRY_COMPRESS, ZF_COMPRESS_LZ4, 3}, false,
	        "'zferry' 'pipe' '--compress' 'lz4:3' '--' 'zfs' 'send' "
	        "'pool/a@s'"},
	    {{ZF_WRAP_TOOL_DECOMPRESS, ZF_COMPRESS_ZSTD, 0}, true,
	        "'zstd' '-dc' | 'env' 'LC_ALL=C' 'zfs' 'receive' 'pool/c'"},
	    {{ZF_WRAP_TOOL_DECOMPRESS, ZF_COMPRESS_LZ4, 0}, true,
	        "'lz4' '-dc' | 'env' 'LC_ALL=C' 'zfs' 'receive' 'pool/c'"},
	};
	struct zf_spec spec;
	size_t i;
	char *r;

	(void)state;
	minimal_spec(&spec, "h1:pool/a@s", "pool/c");
	for (i = 0; i < ZF_ARRAY_SIZE(cases); i++) {
		r = remote_of(&spec, &spec.source, &cases[i].w,
		    cases[i].recv ? recv : send);
		if (strcmp(r, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, r,
			    cases[i].want);
		free(r);
	}
	r = remote_of(&spec, &spec.source, NULL, recv);
	assert_string_equal(r, cases[0].want);
	free(r);
	zf_spec_release(&spec);
}

static void
test_zferry_wrap_survives_a_hostile_program_path(void **state)
{
	static const char *const recv[] = {"/sbin/zfs", "receive",
	    "pool/a b;$(id)", NULL};
	const struct zf_wrap w = {ZF_WRAP_ZFERRY_DECOMPRESS, ZF_COMPRESS_ZSTD,
	    0};
	static const char *const want[] = {"/opt/it's here/zferry", "pipe",
	    "--decompress", "zstd", "--", "/sbin/zfs", "receive",
	    "pool/a b;$(id)", NULL};
	struct zf_send_config cfg;
	struct zf_spec spec;
	struct zf_buf words = ZF_BUF_INIT(4096), expect = ZF_BUF_INIT(4096);
	char *r;
	size_t i;

	(void)state;
	zf_send_config_init(&cfg);
	assert_int_equal(zf_location_parse(&cfg.source, "pool/a@s",
	                     ZF_NAME_SNAPSHOT, "source", NULL),
	    ZF_OK);
	assert_int_equal(zf_location_parse(&cfg.target, "h:pool/c", ZF_NAME_FS,
	                     "target", NULL),
	    ZF_OK);
	cfg.remote_zferry = "/opt/it's here/zferry";
	assert_int_equal(zf_spec_init(&spec, &cfg, NULL), ZF_OK);
	r = remote_of(&spec, &spec.target, &w, recv);
	/* a simple command: the shell hands every word over intact */
	assert_int_equal(shell_words("/bin/sh", r, &words), 0);
	for (i = 0; want[i] != NULL; i++)
		assert_int_equal(zf_buf_add(&expect, want[i],
		                     strlen(want[i]) + 1),
		    ZF_OK);
	assert_int_equal(words.len, expect.len);
	assert_memory_equal(words.data, expect.data, expect.len);
	free(r);
	zf_buf_release(&words);
	zf_buf_release(&expect);
	zf_spec_release(&spec);
}

static void
write_script(const char *dir, const char *name, const char *body)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, 0755), 0);
}

/*
 * The probe's remote command, run by a real /bin/sh with fake programs on
 * PATH: zferry answers the probe, zstd exists, lz4 does not, and zfs
 * prints its usage (with LC_ALL=C set by env) on stderr.
 */
static void
test_probe_runs_as_documented_in_a_real_shell(void **state)
{
	char bin[256], envpath[300], link[320];
	char *envp[2];
	char want_out[320];
	struct zf_spec spec;
	struct zf_argv a = ZF_ARGV_INIT;
	struct zf_buf out = ZF_BUF_INIT(1 << 16), errout = ZF_BUF_INIT(1 << 16);
	char **v;
	size_t n;
	int st;

	(void)state;
	snprintf(bin, sizeof(bin), "%s/bin", tmpdir);
	assert_int_equal(mkdir(bin, 0700), 0);
	write_script(bin, "zferry",
	    "[ \"$1 $2\" = \"pipe --probe\" ] && echo '" ZF_PIPE_PROBE_REPLY
	    "'");
	write_script(bin, "zstd", "exit 0");
	write_script(bin, "zfs",
	    "echo \"LC_ALL=$LC_ALL args=$*\" >&2; echo usage: >&2; exit 2");
	snprintf(link, sizeof(link), "%s/env", bin);
	assert_int_equal(symlink("/usr/bin/env", link), 0);
	snprintf(envpath, sizeof(envpath), "PATH=%s", bin);
	envp[0] = envpath;
	envp[1] = NULL;

	minimal_spec(&spec, "pool/a@s", "u@h:pool/c");
	assert_int_equal(zf_cmd_probe(&a, &spec, &spec.target, "receive", NULL),
	    ZF_OK);
	v = finish(&a);
	n = zf_strv_len((const char *const *)v);
	assert_string_equal(v[0], "ssh");
	assert_string_equal(v[n - 3], "--");
	assert_string_equal(v[n - 2], "h");
	assert_string_equal(v[n - 1],
	    "'zferry' 'pipe' '--probe' 2>/dev/null; "
	    "'command' '-v' 'zstd' 2>/dev/null; "
	    "'command' '-v' 'lz4' 2>/dev/null; "
	    "'env' 'LC_ALL=C' 'zfs' 'receive'");
	st = sh_run(v[n - 1], envp, &out, &errout);
	assert_int_equal(st, 2); /* zfs's status: the last command */
	snprintf(want_out, sizeof(want_out), "%s\n%s/zstd\n",
	    ZF_PIPE_PROBE_REPLY, bin);
	assert_string_equal(out.data, want_out);
	assert_string_equal(errout.data, "LC_ALL=C args=receive\nusage:\n");

	zf_argv_free_v(v);
	zf_buf_release(&out);
	zf_buf_release(&errout);
	zf_spec_release(&spec);
	unlink(link);
	snprintf(link, sizeof(link), "%s/zferry", bin);
	unlink(link);
	snprintf(link, sizeof(link), "%s/zstd", bin);
	unlink(link);
	snprintf(link, sizeof(link), "%s/zfs", bin);
	unlink(link);
	assert_int_equal(rmdir(bin), 0);
}

static void
test_send_estimate_argv(void **state)
{
	static const char *const want[] = {"zfs", "send", "-n", "-v", "-P",
	    "-R", "-w", "-c", "-L", "-e", "-p", "-h", "-b", "-I", "tank/src@s1",
	    "tank/src@s2", NULL};
	struct zf_spec spec;
	struct zf_argv a = ZF_ARGV_INIT;
	char **v;

	(void)state;
	full_spec(&spec, true);
	zf_cmd_zfs_send_estimate(&a, &spec, spec.zfs_program);
	v = finish(&a);
	assert_argv(v, want);
	zf_argv_free_v(v);
	zf_spec_release(&spec);
}

/* --- zf_sh_quote ----------------------------------------------------- */

static void
test_sh_quote_exact_text(void **state)
{
	static const char *const argv[] = {"a", "b c", "it's", "", "'", "a\\b",
	    NULL};
	struct zf_buf b = ZF_BUF_INIT(1024);

	(void)state;
	assert_int_equal(zf_sh_quote(&b, argv, NULL), ZF_OK);
	/* a backslash stands outside the quotes, so fish reads it the same */
	assert_string_equal(b.data,
	    "'a' 'b c' 'it'\\''s' '' ''\\''' 'a'\\\\'b'");
	zf_buf_release(&b);
}

static void
test_sh_quote_over_max_fails_and_leaves_buffer_as_it_was(void **state)
{
	static const char *const argv[] = {"abc", "defghij", NULL};
	struct zf_buf b = ZF_BUF_INIT(14);
	struct zf_error err;

	(void)state;
	assert_int_equal(zf_buf_adds(&b, "pre"), ZF_OK);
	zf_error_clear(&err);
	/* "pre" + "'abc' 'defghij'" is 18 bytes */
	assert_int_equal(zf_sh_quote(&b, argv, &err), ZF_E_INVALID);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "pre");
	assert_string_equal(err.msg, "remote command is longer than 14 bytes");
	assert_int_equal(err.stage, ZF_STAGE_INPUT);
	zf_buf_release(&b);
}

static void
test_sh_quote_of_empty_argv_adds_nothing(void **state)
{
	static const char *const argv[] = {NULL};
	struct zf_buf b = ZF_BUF_INIT(16);

	(void)state;
	assert_int_equal(zf_sh_quote(&b, argv, NULL), ZF_OK);
	assert_int_equal(b.len, 0);
	zf_buf_release(&b);
}

static void
test_sh_round_trip_hostile_words(void **state)
{
	static const char *const hostile[] = {"'", "''", "'\\''", "\\", "\\\\'",
	    "\\n", "$(touch /tmp/zf-pwned)", "`id`", "${IFS}", "$HOME", "$0",
	    "$@", "\"", "a\"b'c", ";", "a;b", "|", "&", "&&", "||", "a\nb",
	    "\n", "\r\n", " ", "  lead", "trail  ", "\t", "*", "?", "[a]", "~",
	    "~root", "!", "!!", "-n", "-e", "--", "-", "", "#comment", "%s%n",
	    "<", ">", ">>", "(", ")", "{", "}", "=", "IFS=x", "a=b", "\x7f",
	    "\x01", "\x1b[2J", "\xff\xfe", "\xc3\xa9", NULL};
	size_t i;

	(void)state;
	assert_sh_round_trip(hostile);
	for (i = 0; hostile[i] != NULL; i++) {
		const char *one[] = {hostile[i], NULL};

		assert_sh_round_trip(one);
	}
}

/*
 * A remote user whose login shell is fish gets the same words: fish reads
 * a backslash inside single quotes as an escape, and zf_sh_quote never
 * puts one there.  (fish is in scripts/install-deps for this test.)
 */
static void
test_fish_round_trip_hostile_words(void **state)
{
	static const char *const hostile[] = {"'", "''", "'\\''", "\\", "\\\\'",
	    "a\\'b", "x\\", "\\n", "$(touch /tmp/zf-pwned)", "(id)", "`id`",
	    "$HOME", "\"", "a\"b'c", ";", "|", "&", "a\nb", " ", "*", "?", "~",
	    "{a,b}", "#c", "%self", "", NULL};
	size_t i;

	(void)state;
	if (access("/usr/bin/fish", X_OK) != 0)
		skip();
	assert_shell_round_trip("/usr/bin/fish", hostile);
	for (i = 0; hostile[i] != NULL; i++) {
		const char *one[] = {hostile[i], NULL};

		assert_shell_round_trip("/usr/bin/fish", one);
	}
}

static void
test_sh_round_trip_every_byte(void **state)
{
	char singles[255][2];
	const char *argv[257];
	char all[256];
	unsigned c;

	(void)state;
	for (c = 1; c < 256; c++) {
		singles[c - 1][0] = (char)c;
		singles[c - 1][1] = '\0';
		argv[c - 1] = singles[c - 1];
		all[c - 1] = (char)c;
	}
	all[255] = '\0';
	argv[255] = all;
	argv[256] = NULL;
	assert_sh_round_trip(argv);
}

static void
test_sh_round_trip_pseudo_random_words(void **state)
{
	uint32_t seed = 0x2545f491u;
	int round;

	(void)state;
	for (round = 0; round < 20; round++) {
		char words[16][41];
		const char *argv[17];
		int w;

		for (w = 0; w < 16; w++) {
			int len, k;

			seed = seed * 1664525u + 1013904223u;
			len = (int)(seed >> 24) % 41;
			for (k = 0; k < len; k++) {
				seed = seed * 1664525u + 1013904223u;
				words[w][k] = (char)(1 + (seed >> 24) % 255);
			}
			words[w][len] = '\0';
			argv[w] = words[w];
		}
		argv[16] = NULL;
		assert_sh_round_trip(argv);
	}
}

/* --- zf_cmd_describe ------------------------------------------------- */

static void
test_describe_is_quoted_escaped_and_bounded(void **state)
{
	static const char *const argv[] = {"zfs", "send", "pool/a b@s\n",
	    "\x1b[2J", NULL};
	char out[128];
	char small[12];

	(void)state;
	zf_cmd_describe(out, sizeof(out), argv);
	assert_string_equal(out, "zfs send 'pool/a b@s\\n' '\\x1b[2J'");
	memset(small, 'z', sizeof(small));
	zf_cmd_describe(small, sizeof(small), argv);
	assert_true(strlen(small) <= sizeof(small) - 1);
	assert_string_equal(small, "zfs send...");
}

static void
test_describe_shows_the_remote_command_of_ssh_once_quoted(void **state)
{
	static const char *const argv[] = {"/usr/bin/ssh", "-o",
	    "BatchMode=yes", "--", "host", "'zfs' 'receive' 'p/a b'", NULL};
	static const char *const empty[] = {"printf", "", "a'b", NULL};
	char out[256];

	(void)state;
	zf_cmd_describe(out, sizeof(out), argv);
	assert_string_equal(out,
	    "/usr/bin/ssh -o BatchMode=yes -- host "
	    "remote: 'zfs' 'receive' 'p/a b'");
	zf_cmd_describe(out, sizeof(out), empty);
	/* zf_escape doubles the backslash: never ambiguous on a terminal */
	assert_string_equal(out, "printf '' 'a'\\\\''b'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_send_argv_has_every_flag_then_base_then_snapshot),
	    cmocka_unit_test(test_send_argv_with_intermediates_uses_capital_i),
	    cmocka_unit_test(test_send_argv_full_stream_has_no_base),
	    cmocka_unit_test(
	        test_recv_argv_has_flags_props_origin_excludes_then_target),
	    cmocka_unit_test(test_recv_argv_minimal),
	    cmocka_unit_test(
	        test_on_remote_wraps_the_command_in_exactly_this_ssh_argv),
	    cmocka_unit_test(
	        test_ssh_argv_order_hardening_user_defaults_dashdash_host),
	    cmocka_unit_test(
	        test_ssh_argv_without_options_has_no_optional_parts),
	    cmocka_unit_test(test_on_local_is_the_zfs_argv_itself),
	    cmocka_unit_test(test_ssh_refuses_a_remote_command_over_the_limit),
	    cmocka_unit_test(test_wraps_quote_every_word),
	    cmocka_unit_test(test_zferry_wrap_survives_a_hostile_program_path),
	    cmocka_unit_test(test_probe_runs_as_documented_in_a_real_shell),
	    cmocka_unit_test(test_send_estimate_argv),
	    cmocka_unit_test(test_sh_quote_exact_text),
	    cmocka_unit_test(
	        test_sh_quote_over_max_fails_and_leaves_buffer_as_it_was),
	    cmocka_unit_test(test_sh_quote_of_empty_argv_adds_nothing),
	    cmocka_unit_test(test_sh_round_trip_hostile_words),
	    cmocka_unit_test(test_fish_round_trip_hostile_words),
	    cmocka_unit_test(test_sh_round_trip_every_byte),
	    cmocka_unit_test(test_sh_round_trip_pseudo_random_words),
	    cmocka_unit_test(test_describe_is_quoted_escaped_and_bounded),
	    cmocka_unit_test(
	        test_describe_shows_the_remote_command_of_ssh_once_quoted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
