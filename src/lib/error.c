#include "compat.h"

#include "util.h"

void
zf_error_clear(struct zf_error *err)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->child_status = -1;
}

const char *
zf_status_str(enum zf_status code)
{
	switch (code) {
	case ZF_OK:
		return "success";
	case ZF_E_INVALID:
		return "invalid input";
	case ZF_E_NOMEM:
		return "out of memory";
	case ZF_E_SYS:
		return "system error";
	case ZF_E_SPAWN:
		return "cannot start program";
	case ZF_E_CHILD:
		return "program failed";
	case ZF_E_PROTOCOL:
		return "malformed output";
	case ZF_E_TIMEOUT:
		return "timed out";
	case ZF_E_CANCELED:
		return "canceled";
	case ZF_E_UNSUPPORTED:
		return "not supported";
	}
	return "unknown error";
}

const char *
zf_stage_str(enum zf_stage stage)
{
	switch (stage) {
	case ZF_STAGE_NONE:
		return "none";
	case ZF_STAGE_INPUT:
		return "input";
	case ZF_STAGE_PROBE:
		return "probe";
	case ZF_STAGE_SEND:
		return "zfs send";
	case ZF_STAGE_SSH:
		return "ssh";
	case ZF_STAGE_RECV:
		return "zfs receive";
	case ZF_STAGE_RELAY:
		return "relay";
	case ZF_STAGE_LIST:
		return "zfs list";
	case ZF_STAGE_TOKEN:
		return "resume token";
	}
	return "unknown";
}

static void
error_vset(struct zf_error *err, enum zf_status code, int errnum,
    const char *fmt, va_list ap)
{
	char raw[ZF_ERRMSG_MAX * 2];
	int n;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(raw))
		n = sizeof(raw) - 1; /* the escape below marks the cut */
	if (errnum != 0 && (size_t)n < sizeof(raw) - 1) {
		int m = snprintf(raw + n, sizeof(raw) - (size_t)n, ": %s",
		    strerror(errnum));
		if (m > 0)
			n += m;
		if ((size_t)n >= sizeof(raw))
			n = sizeof(raw) - 1;
	}
	zf_escape(err->msg, sizeof(err->msg), raw, (size_t)n);
	err->code = code;
	err->sys_errno = errnum;
}

enum zf_status
zf_fail(struct zf_error *err, enum zf_status code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->code != ZF_OK)
		return code;
	va_start(ap, fmt);
	error_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

enum zf_status
zf_fail_errno(struct zf_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	enum zf_status code = errnum == ENOMEM ? ZF_E_NOMEM : ZF_E_SYS;

	if (err == NULL || err->code != ZF_OK)
		return code;
	va_start(ap, fmt);
	error_vset(err, code, errnum, fmt, ap);
	va_end(ap);
	return code;
}

enum zf_status
zf_fail_input(struct zf_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->code != ZF_OK)
		return ZF_E_INVALID;
	va_start(ap, fmt);
	error_vset(err, ZF_E_INVALID, 0, fmt, ap);
	va_end(ap);
	err->stage = ZF_STAGE_INPUT;
	return ZF_E_INVALID;
}

void
zf_error_prefix(struct zf_error *err, const char *fmt, ...)
{
	char raw[ZF_ERRMSG_MAX];
	char ctx[ZF_ERRMSG_MAX];
	char joined[ZF_ERRMSG_MAX];
	va_list ap;
	int n;

	if (err == NULL || err->code == ZF_OK)
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	zf_escape(ctx, sizeof(ctx), raw, strlen(raw));
	n = snprintf(joined, sizeof(joined), "%s: %s", ctx, err->msg);
	if (n < 0)
		return;
	/*
	 * A cut message still names its subject first; mark the cut.  Both
	 * parts are zf_escape() output: cut between escapes, not inside one.
	 */
	if ((size_t)n >= sizeof(joined)) {
		size_t i = 0, k;

		for (;;) {
			k = 1;
			if (joined[i] == '\\')
				k = joined[i + 1] == 'x' ? 4 : 2;
			if (i + k > sizeof(joined) - 4)
				break;
			i += k;
		}
		memcpy(joined + i, "...", 4);
	}
	memcpy(err->msg, joined, sizeof(err->msg));
}

void
zf_error_set_stage(struct zf_error *err, enum zf_stage stage)
{
	if (err != NULL && err->stage == ZF_STAGE_NONE)
		err->stage = stage;
}
