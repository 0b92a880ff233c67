/*
 * test_sync.c: zf_sync_new() checks every setting of a sync as untrusted
 * input (the per-transfer ones through the spec, see test_config.c; here
 * those of the sync itself: --exclude, --snapshot-name, -j, --retries,
 * the backoff, --metrics-file), and a whole zf_sync_run() with a scripted
 * zfs writes its metrics file without following a symlink planted in the
 * metrics directory.
 */
#include "compat.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <cmocka.h>

#include "zferry/zferry.h"
#include "testutil.h"

static char tmpdir[] = "/tmp/zf-test-sync.XXXXXX";

static void
good_config(struct zf_sync_config *c)
{
	zf_sync_config_init(c);
	snprintf(c->xfer.source.dataset, sizeof(c->xfer.source.dataset), "%s",
	    "pool/src");
	snprintf(c->xfer.target.dataset, sizeof(c->xfer.target.dataset), "%s",
	    "pool/dst");
}

struct bad_case {
	const char *name;
	const char *reason; /* in the message */
};

/* Spoils one setting of a good config. */
static void
spoil(struct zf_sync_config *c, size_t which)
{
	static const char *const bad_re[] = {"ok", "a(b", NULL};
	static char long_re[1100];
	static const char *const long_res[] = {long_re, NULL};
	static char long_name[251];

	memset(long_re, 'a', sizeof(long_re) - 1);
	switch (which) {
	case 0:
		c->excludes = bad_re;
		break;
	case 1:
		c->excludes = long_res;
		break;
	case 2:
		c->take_snapshot = true;
		c->snapshot_name = "a/b";
		break;
	case 3:
		c->take_snapshot = true;
		c->snapshot_name = "s\n1";
		break;
	case 4:
		c->snapshot_name = "s1"; /* without --snapshot */
		break;
	case 5:
		c->jobs = 65;
		break;
	case 6:
		c->retries = 101;
		break;
	case 7:
		c->retry_base_ms = 600001;
		break;
	case 8:
		c->skip_parent = true;
		break;
	case 9:
		c->xfer.send_flags = ZF_SEND_REPLICATE;
		break;
	case 10:
		c->xfer.base = "@s1";
		break;
	case 11:
		c->metrics_file = "";
		break;
	case 12: /* a sync moves datasets, not one snapshot */
		snprintf(c->xfer.source.dataset, sizeof(c->xfer.source.dataset),
		    "%s", "pool/src@s1");
		break;
	case 13: /* fits alone, not after "pool/src@" */
		memset(long_name, 's', sizeof(long_name) - 1);
		c->take_snapshot = true;
		c->snapshot_name = long_name;
		break;
	case 14: /* an ssh option from outside the allowlist */
	{
		static const char *const opts[] = {"ProxyCommand=nc %h %p",
		    NULL};

		c->xfer.ssh.options = opts;
		break;
	}
	}
}

static const struct bad_case bad_cases[] = {
    {"exclude regex", "--exclude: invalid regular expression 'a(b'"},
    {"exclude long", "--exclude: pattern too long"},
    {"snapshot name slash", "--snapshot-name: invalid snapshot name 'a/b'"},
    {"snapshot name newline", "--snapshot-name: invalid snapshot name 's\\n1'"},
    {"name without --snapshot", "a snapshot name needs --snapshot"},
    {"jobs", "-j: 65 is more than 64"},
    {"retries", "--retries: 101 is more than 100"},
    {"backoff", "the retry backoff is over 10 min"},
    {"skip parent", "--skip-parent needs -r"},
    {"replicate", "-R/--replicate: sync walks the tree itself"},
    {"base", "sync chooses the incremental base itself"},
    {"metrics empty", "--metrics-file: empty name"},
    {"source snapshot", "source: invalid dataset name 'pool/src@s1'"},
    {"snapshot too long", "would be longer than 255 bytes"},
    {"ssh option", "'ProxyCommand=nc %h %p' is refused"},
};

static void
test_sync_new_refuses_each_bad_setting(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(bad_cases); i++) {
		struct zf_sync_config c;
		struct zf_sync *s = (struct zf_sync *)&c;
		struct zf_error err;
		enum zf_status r;

		good_config(&c);
		spoil(&c, i);
		zf_error_clear(&err);
		r = zf_sync_new(&s, &c, &err);
		if (r != ZF_E_INVALID)
			fail_msg("case '%s': status %d", bad_cases[i].name,
			    (int)r);
		assert_null(s);
		if (strstr(err.msg, bad_cases[i].reason) == NULL)
			fail_msg("case '%s': \"%s\"", bad_cases[i].name,
			    err.msg);
	}
}

static void
test_sync_new_takes_a_good_config(void **state)
{
	static const char *const excludes[] = {"/deep$", "clone", NULL};
	struct zf_sync_config c;
	struct zf_sync *s;
	struct zf_error err;

	(void)state;
	good_config(&c);
	c.recursive = true;
	c.skip_parent = true;
	c.excludes = excludes;
	c.take_snapshot = true;
	c.snapshot_name = "nightly 1";
	c.jobs = 64;
	c.retries = 100;
	c.retry_base_ms = 600000;
	zf_error_clear(&err);
	assert_int_equal(zf_sync_new(&s, &c, &err), ZF_OK);
	assert_non_null(s);
	zf_sync_free(s);
	zf_sync_free(NULL);
}

/* A zfs that holds pool/src (no snapshots) and no pool/dst: zfs-fuse's
 * usage (no "list -p"), so the listing is read in the GET format. */
static void
write_fake_zfs(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("#!/bin/sh\n"
	      "case \"$1\" in\n"
	      "get)\n"
	      "  for a; do last=$a; done\n"
	      "  if [ \"$last\" = pool/src ]; then\n"
	      "    printf 'pool/src\\ttype\\tfilesystem\\n"
	      "pool/src\\tguid\\t11\\npool/src\\tcreatetxg\\t1\\n"
	      "pool/src\\torigin\\t-\\n'\n"
	      "    exit 0\n"
	      "  fi\n"
	      "  echo \"cannot open '$last': dataset does not exist\" >&2\n"
	      "  exit 1 ;;\n"
	      "esac\n"
	      "printf 'usage: zfs command args ...\\n"
	      "\\tget [-rHp] [-d max] <prop>\\n' >&2\n"
	      "exit 2\n",
	    f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/*
 * Whoever may write the metrics directory must not be able to make zferry
 * (root) write through a link of their own: the temporary file is made
 * anew (O_EXCL, O_NOFOLLOW), never opened where it might already exist.
 */
static void
test_metrics_file_never_follows_a_planted_link(void **state)
{
	char zfs[128], dir[128], metrics[160], link[200], victim[128];
	char buf[64];
	struct zf_sync_config c;
	struct zf_sync *s;
	struct zf_error err;
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	snprintf(zfs, sizeof(zfs), "%s/zfs", tmpdir);
	snprintf(dir, sizeof(dir), "%s/shared", tmpdir);
	snprintf(metrics, sizeof(metrics), "%s/zferry.prom", dir);
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	write_fake_zfs(zfs);
	assert_int_equal(mkdir(dir, 0777), 0);
	f = fopen(victim, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	assert_int_equal(fclose(f), 0);
	/* the library runs in this process: its pid is ours */
	snprintf(link, sizeof(link), "%s.tmp.%ld", metrics, (long)getpid());
	assert_int_equal(symlink(victim, link), 0);

	good_config(&c);
	c.xfer.zfs_program = zfs;
	c.metrics_file = metrics;
	zf_error_clear(&err);
	assert_int_equal(zf_sync_new(&s, &c, &err), ZF_OK);
	assert_int_equal(zf_sync_run(s, &err), ZF_OK);
	zf_sync_free(s);

	f = fopen(victim, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, "precious\n");
	/* and what is there is no link */
	if (lstat(metrics, &st) == 0)
		assert_true(S_ISREG(st.st_mode));
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	tu_rmrf(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sync_new_refuses_each_bad_setting),
	    cmocka_unit_test(test_sync_new_takes_a_good_config),
	    cmocka_unit_test(test_metrics_file_never_follows_a_planted_link),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
