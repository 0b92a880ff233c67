#include "compat.h"

#include "zferry/zferry.h"
#include "session.h"

struct zf_job {
	struct zf_spec spec;
	struct zf_session sess;
	bool ran;
};

const char *
zf_version(void)
{
	return ZF_VERSION;
}

enum zf_status
zf_job_new(struct zf_job **jobp, const struct zf_send_config *cfg,
    struct zf_error *err)
{
	struct zf_job *job;
	enum zf_status r;

	*jobp = NULL;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	r = zf_spec_init(&job->spec, cfg, err);
	if (r != ZF_OK) {
		free(job);
		return r;
	}
	r = zf_session_init(&job->sess, &job->spec, err);
	if (r != ZF_OK) {
		zf_spec_release(&job->spec);
		free(job);
		return r;
	}
	*jobp = job;
	return ZF_OK;
}

void
zf_job_set_events(struct zf_job *job, zf_event_fn fn, void *arg)
{
	job->sess.fn = fn;
	job->sess.arg = arg;
}

void
zf_job_cancel(struct zf_job *job, int signo)
{
	zf_session_cancel(&job->sess, signo);
}

void
zf_job_free(struct zf_job *job)
{
	if (job == NULL)
		return;
	zf_session_release(&job->sess);
	zf_spec_release(&job->spec);
	free(job);
}

enum zf_status
zf_job_run(struct zf_job *job, struct zf_error *err)
{
	struct zf_session *s = &job->sess;
	struct zf_xfer_stats st;
	enum zf_status r;

	if (job->ran)
		return zf_fail(err, ZF_E_INVALID, "a job runs only once");
	job->ran = true;
	if (job->spec.ssh.key_too_open)
		zf_session_text(s, ZF_EV_WARNING,
		    "--ssh-key '%s' is readable by others; ssh will refuse to use it (chmod 600)",
		    job->spec.ssh.key_file);
	if (zf_session_is_canceled(s)) {
		r = zf_session_canceled(s, err);
	} else {
		r = zf_session_check(s, &job->spec, err);
		if (r == ZF_OK)
			r = zf_session_plan_link(s, err);
		if (r == ZF_OK)
			r = zf_session_transfer(s, &job->spec, NULL, &st, err);
	}
	if (r != ZF_OK) {
		struct zf_event ev;
		char source[2 * ZF_LOC_FIELD_MAX + 8];
		char target[2 * ZF_LOC_FIELD_MAX + 8];

		zf_location_text(source, sizeof(source), &job->spec.source,
		    NULL);
		zf_location_text(target, sizeof(target), &job->spec.target,
		    NULL);
		zf_error_prefix(err, "'%s' to '%s'", source, target);
		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_ERROR;
		ev.error = err;
		ev.stage = err != NULL ? err->stage : ZF_STAGE_NONE;
		zf_session_emit(s, &ev, source, target);
	}
	return r;
}
