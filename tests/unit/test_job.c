/*
 * test_job.c: zf_job_run() with scripted children standing in for zfs
 * (ZFERRY_ZFS-style program override): every failure is attributed to the
 * right stage, every child is reaped, no descriptor leaks, cancel works
 * from another thread.  The zfs-fuse and sshd integration tests cover the
 * real programs.
 */
#include "compat.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <cmocka.h>

#include "zferry/zferry.h"
#include "testutil.h"
#include "util.h"

static char tmpdir[] = "/tmp/zf-test-job.XXXXXX";

static void
assert_no_children(void)
{
	assert_true(tu_no_children());
}

/* Writes a fake zfs: SEND and RECV are shell bodies for each verb. */
static void
fake_zfs(char *path, size_t n, const char *name, const char *send_body,
    const char *recv_body)
{
	FILE *f;

	snprintf(path, n, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	/* "send -n -v -P": an estimate of 3000000 bytes */
	fprintf(f,
	    "#!/bin/sh\n"
	    "if [ \"$1 $2\" = 'send -n' ]; then\n"
	    "  printf 'full\\tpool/a@s1\\t3000000\\nsize\\t3000000\\n'\n"
	    "  exit 0\n"
	    "fi\n"
	    "case \"$1\" in\n"
	    "send) %s ;;\n"
	    "receive) %s ;;\n"
	    "*) echo \"usage:\" >&2; exit 2 ;;\n"
	    "esac\n",
	    send_body, recv_body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

struct run_result {
	enum zf_status r;
	struct zf_error err;
	uint64_t done_bytes;
	int events_done;
	uint64_t start_estimate;
	uint64_t max_progress_bytes;
};

static void
on_event(const struct zf_event *ev, void *arg)
{
	struct run_result *res = arg;

	if (ev->type == ZF_EV_DONE) {
		res->done_bytes = ev->bytes;
		res->events_done++;
	}
	if (ev->type == ZF_EV_START)
		res->start_estimate = ev->estimated_bytes;
	if (ev->type == ZF_EV_PROGRESS && ev->bytes > res->max_progress_bytes)
		res->max_progress_bytes = ev->bytes;
}

static struct zf_job *g_cancel_job;
static unsigned g_cancel_after_ms;

static void *
cancel_thread(void *arg)
{
	(void)arg;
	poll(NULL, 0, (int)g_cancel_after_ms);
	zf_job_cancel(g_cancel_job, SIGTERM);
	return NULL;
}

static void
run_fake(const char *zfs, struct run_result *res, unsigned cancel_ms)
{
	struct zf_send_config cfg;
	struct zf_job *job = NULL;
	pthread_t t;
	int fds_before = tu_count_fds();

	memset(res, 0, sizeof(*res));
	zf_error_clear(&res->err);
	zf_send_config_init(&cfg);
	assert_int_equal(zf_location_parse(&cfg.source, "pool/a@s1",
	                     ZF_NAME_SNAPSHOT, "source", NULL),
	    ZF_OK);
	assert_int_equal(zf_location_parse(&cfg.target, "pool/b", ZF_NAME_FS,
	                     "target", NULL),
	    ZF_OK);
	cfg.zfs_program = zfs;
	assert_int_equal(zf_job_new(&job, &cfg, &res->err), ZF_OK);
	zf_job_set_events(job, on_event, res);
	if (cancel_ms > 0) {
		g_cancel_job = job;
		g_cancel_after_ms = cancel_ms;
		assert_int_equal(pthread_create(&t, NULL, cancel_thread, NULL),
		    0);
	}
	res->r = zf_job_run(job, &res->err);
	if (cancel_ms > 0)
		pthread_join(t, NULL);
	zf_job_free(job);
	assert_no_children();
	assert_int_equal(tu_count_fds(), fds_before);
}

static void
test_success_counts_every_byte(void **state)
{
	char zfs[256], out[300];
	struct run_result res;
	struct stat st;

	(void)state;
	snprintf(out, sizeof(out), "%s/received", tmpdir);
	{
		char recv[400];

		snprintf(recv, sizeof(recv), "cat > '%s'", out);
		fake_zfs(zfs, sizeof(zfs), "ok", "head -c 3000000 /dev/zero",
		    recv);
	}
	run_fake(zfs, &res, 0);
	assert_int_equal(res.r, ZF_OK);
	assert_int_equal(res.events_done, 1);
	assert_int_equal(res.done_bytes, 3000000);
	/* the estimate comes from "zfs send -n -v -P" */
	assert_int_equal(res.start_estimate, 3000000);
	assert_true(res.max_progress_bytes <= 3000000);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, 3000000);
}

static void
test_sender_failure_is_the_sender(void **state)
{
	char zfs[256];
	struct run_result res;

	(void)state;
	fake_zfs(zfs, sizeof(zfs), "sendfail",
	    "head -c 1000 /dev/zero; echo 'cannot open pool/a@s1: dataset "
	    "does not exist' >&2; exit 3",
	    "cat >/dev/null; echo 'cannot receive: failed to read from "
	    "stream' >&2; exit 1");
	run_fake(zfs, &res, 0);
	assert_int_equal(res.r, ZF_E_CHILD);
	assert_int_equal(res.err.stage, ZF_STAGE_SEND);
	assert_int_equal(res.err.child_status, 3);
	assert_non_null(strstr(res.err.msg, "dataset does not exist"));
	assert_non_null(strstr(res.err.msg, "zfs send failed (exit 3)"));
	/* the subject comes first */
	assert_ptr_equal(strstr(res.err.msg, "'pool/a@s1' to 'pool/b'"),
	    res.err.msg);
}

static void
test_receiver_failure_stops_an_endless_sender(void **state)
{
	char zfs[256];
	struct run_result res;

	(void)state;
	/* the sender never ends by itself; the receiver gives up at once */
	fake_zfs(zfs, sizeof(zfs), "recvfail", "exec yes zfsstream",
	    "echo \"cannot receive new filesystem stream: destination "
	    "'pool/b' exists\" >&2; echo 'must specify -F to overwrite it' "
	    ">&2; exit 1");
	run_fake(zfs, &res, 0);
	assert_int_equal(res.r, ZF_E_CHILD);
	assert_int_equal(res.err.stage, ZF_STAGE_RECV);
	assert_int_equal(res.err.child_status, 1);
	assert_false(res.err.transient);
	/* the two stderr lines become one message line */
	assert_non_null(strstr(res.err.msg,
	    "destination 'pool/b' exists; must specify -F to overwrite it"));
	assert_null(strchr(res.err.msg, '\n'));
}

static void
test_receiver_dying_mid_stream(void **state)
{
	char zfs[256];
	struct run_result res;

	(void)state;
	fake_zfs(zfs, sizeof(zfs), "recvdies", "exec yes zfsstream",
	    "head -c 100000 >/dev/null; echo 'cannot receive: dataset is "
	    "busy' >&2; exit 1");
	run_fake(zfs, &res, 0);
	assert_int_equal(res.r, ZF_E_CHILD);
	assert_int_equal(res.err.stage, ZF_STAGE_RECV);
	assert_true(res.err.transient); /* "dataset is busy" */
}

static void
test_missing_program_is_a_spawn_error(void **state)
{
	struct run_result res;
	char zfs[256];

	(void)state;
	snprintf(zfs, sizeof(zfs), "%s/no-such-zfs", tmpdir);
	run_fake(zfs, &res, 0);
	assert_int_equal(res.r, ZF_E_SPAWN);
	assert_non_null(strstr(res.err.msg, "no-such-zfs"));
}

static void
test_cancel_stops_stuck_children(void **state)
{
	char zfs[256];
	struct run_result res;
	uint64_t t0;

	(void)state;
	/* neither side ever finishes: only cancel ends this */
	fake_zfs(zfs, sizeof(zfs), "stuck", "exec yes zfsstream",
	    "exec sleep 600");
	t0 = zf_now_ns();
	run_fake(zfs, &res, 200);
	assert_int_equal(res.r, ZF_E_CANCELED);
	assert_int_equal(res.err.signo, SIGTERM);
	/* sleep dies of SIGTERM at once: no grace period spent waiting */
	assert_true(zf_now_ns() - t0 < 5000000000ull);
}

static void
test_cancel_kills_a_child_ignoring_sigterm(void **state)
{
	char zfs[256];
	struct run_result res;
	uint64_t t0, ms;

	(void)state;
	fake_zfs(zfs, sizeof(zfs), "stubborn", "exec yes zfsstream",
	    "trap '' TERM; while :; do sleep 1; done");
	t0 = zf_now_ns();
	run_fake(zfs, &res, 100);
	ms = (zf_now_ns() - t0) / 1000000;
	assert_int_equal(res.r, ZF_E_CANCELED);
	/* SIGKILL after the grace period, not never */
	assert_true(ms >= 1500 && ms < 10000);
}

static int
setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return tu_rmrf(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_success_counts_every_byte),
	    cmocka_unit_test(test_sender_failure_is_the_sender),
	    cmocka_unit_test(test_receiver_failure_stops_an_endless_sender),
	    cmocka_unit_test(test_receiver_dying_mid_stream),
	    cmocka_unit_test(test_missing_program_is_a_spawn_error),
	    cmocka_unit_test(test_cancel_stops_stuck_children),
	    cmocka_unit_test(test_cancel_kills_a_child_ignoring_sigterm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
