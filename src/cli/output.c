#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void
cli_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("zferry: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("zferry: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'zferry --help' for more information.\n", stderr);
}

/* err->msg is already one line with control characters escaped. */
void
cli_error(const struct zf_error *err)
{
	const char *kind = err->transient ? " (transient)" : "";

	fprintf(stderr, "zferry: error%s: %s\n", kind, err->msg);
}

int
cli_exit_code(enum zf_status r, const struct zf_error *err)
{
	switch (r) {
	case ZF_OK:
		return EXIT_OK;
	case ZF_E_INVALID:
	case ZF_E_UNSUPPORTED:
		return EXIT_USAGE;
	case ZF_E_CANCELED:
		return err->signo > 0 ? 128 + err->signo : 130;
	default:
		return err->transient ? EXIT_TRANSIENT : EXIT_FAILED;
	}
}

static void
human_bytes(char *dst, size_t n, uint64_t v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB",
	    "PiB", "EiB"};
	double d = (double)v;
	size_t u = 0;

	while (d >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(dst, n, "%" PRIu64 " B", v);
	else
		snprintf(dst, n, "%.1f %s", d, units[u]);
}

void
cli_on_event(const struct zf_event *ev, void *arg)
{
	const struct cli_out *o = arg;
	char b[32];

	switch (ev->type) {
	case ZF_EV_COMMAND:
		if (o->verbose)
			cli_msg("running (%s): %s", zf_stage_str(ev->stage),
			    ev->text);
		break;
	case ZF_EV_WARNING:
		if (!o->quiet)
			cli_msg("warning: %s", ev->text);
		break;
	case ZF_EV_DONE:
		if (!o->quiet) {
			double s = (double)ev->elapsed_ns / 1e9;

			human_bytes(b, sizeof(b), ev->bytes);
			cli_msg("sent '%s' to '%s': %s in %.2f s", ev->source,
			    ev->target, b, s);
		}
		break;
	default:
		break;
	}
}
