#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define UNKNOWN_U64 UINT64_MAX

/* The progress line, if one is on the screen, goes before any message. */
static void
clear_progress(struct cli_out *o)
{
	if (o != NULL && o->progress_shown) {
		fputs("\r\033[K", stderr);
		o->progress_shown = false;
	}
}

static struct cli_out *g_out; /* for messages printed outside events */

void
cli_out_init(struct cli_out *o)
{
	memset(o, 0, sizeof(*o));
	o->progress = true;
	g_out = o;
}

void
cli_msg(const char *fmt, ...)
{
	va_list ap;

	clear_progress(g_out);
	fputs("zferry: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_usage_error(const char *fmt, ...)
{
	char raw[1024], shown[2048];
	va_list ap;

	/* it quotes what the user typed: shown escaped, like any message */
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	zf_escape(shown, sizeof(shown), raw, strlen(raw));
	fprintf(stderr,
	    "zferry: %s\nTry 'zferry --help' for more information.\n", shown);
}

/* err->msg is already one line with control characters escaped. */
void
cli_error(const struct zf_error *err)
{
	clear_progress(g_out);
	fprintf(stderr, "zferry: error%s: %s\n",
	    err->transient ? " (transient)" : "", err->msg);
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

void
cli_human_bytes(char *dst, size_t n, uint64_t v)
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

static void
human_time(char *dst, size_t n, uint64_t s)
{
	if (s == UNKNOWN_U64)
		snprintf(dst, n, "--:--");
	else if (s >= 3600)
		snprintf(dst, n, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
		    s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(dst, n, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}

/* Writes s as a JSON string (s is already free of control characters). */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
json_u64(FILE *f, const char *key, uint64_t v)
{
	if (v == UNKNOWN_U64)
		fprintf(f, ",\"%s\":null", key);
	else
		fprintf(f, ",\"%s\":%" PRIu64, key, v);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
json_event(struct cli_out *o, const struct zf_event *ev)
{
	FILE *f = stdout;
	uint64_t now;

	switch (ev->type) {
	case ZF_EV_START:
		fputs("{\"event\":\"start\",\"source\":", f);
		json_str(f, ev->source);
		fputs(",\"target\":", f);
		json_str(f, ev->target);
		json_u64(f, "estimated_bytes", ev->estimated_bytes);
		break;
	case ZF_EV_PROGRESS:
		/* at most once a second */
		now = mono_ms();
		if (o->json_last_ms != 0 && now - o->json_last_ms < 1000)
			return;
		o->json_last_ms = now;
		fputs("{\"event\":\"progress\"", f);
		json_u64(f, "bytes", ev->bytes);
		json_u64(f, "wire_bytes", ev->wire_bytes);
		json_u64(f, "bytes_per_second", ev->bytes_per_second);
		json_u64(f, "eta_seconds", ev->eta_seconds);
		json_u64(f, "estimated_bytes", ev->estimated_bytes);
		break;
	case ZF_EV_DONE:
		fputs("{\"event\":\"done\",\"source\":", f);
		json_str(f, ev->source);
		fputs(",\"target\":", f);
		json_str(f, ev->target);
		json_u64(f, "bytes", ev->bytes);
		json_u64(f, "wire_bytes", ev->wire_bytes);
		fprintf(f, ",\"seconds\":%.3f", (double)ev->elapsed_ns / 1e9);
		break;
	case ZF_EV_ERROR:
		fputs("{\"event\":\"error\",\"stage\":", f);
		json_str(f, zf_stage_str(ev->error->stage));
		fputs(",\"message\":", f);
		json_str(f, ev->error->msg);
		fprintf(f, ",\"transient\":%s",
		    ev->error->transient ? "true" : "false");
		break;
	case ZF_EV_WARNING:
		fputs("{\"event\":\"warning\",\"message\":", f);
		json_str(f, ev->text);
		break;
	case ZF_EV_PLAN:
		fputs("{\"event\":\"plan\",\"dataset\":", f);
		json_str(f, ev->source);
		fputs(",\"target\":", f);
		json_str(f, ev->target);
		fputs(",\"kind\":", f);
		json_str(f, ev->kind);
		fputs(",\"from\":", f);
		json_str(f, ev->from);
		fputs(",\"to\":", f);
		json_str(f, ev->to);
		json_u64(f, "estimated_bytes", ev->estimated_bytes);
		fputs(",\"reason\":", f);
		json_str(f, ev->reason);
		break;
	case ZF_EV_RESULT:
		fputs("{\"event\":\"result\",\"dataset\":", f);
		json_str(f, ev->source);
		fputs(",\"target\":", f);
		json_str(f, ev->target);
		fputs(",\"kind\":", f);
		json_str(f, ev->kind);
		fputs(",\"result\":", f);
		json_str(f, ev->result);
		json_u64(f, "bytes", ev->bytes);
		fprintf(f, ",\"seconds\":%.3f,\"attempts\":%u",
		    (double)ev->elapsed_ns / 1e9, ev->attempts);
		fputs(",\"reason\":", f);
		json_str(f, ev->reason);
		if (ev->error != NULL) {
			fprintf(f, ",\"transient\":%s,\"stage\":",
			    ev->transient ? "true" : "false");
			json_str(f, zf_stage_str(ev->error->stage));
			fputs(",\"message\":", f);
			json_str(f, ev->error->msg);
		}
		break;
	case ZF_EV_SUMMARY:
		fprintf(f,
		    "{\"event\":\"summary\",\"ok\":%u,\"skipped\":%u,"
		    "\"failed\":%u,\"transient\":%u",
		    ev->n_ok, ev->n_skipped, ev->n_failed, ev->n_transient);
		json_u64(f, "bytes", ev->bytes);
		fprintf(f, ",\"seconds\":%.3f", (double)ev->elapsed_ns / 1e9);
		break;
	default:
		return;
	}
	fputs("}\n", f);
	fflush(f);
}

static void
draw_progress(struct cli_out *o, const char *label, uint64_t bytes,
    uint64_t estimate, uint64_t rate, uint64_t eta)
{
	char done[32], total[32] = "", bps[32], left[32], pct[16] = "";

	if (estimate != UNKNOWN_U64) {
		int p = estimate == 0 || bytes >= estimate
		    ? 100
		    : (int)((double)bytes * 100 / (double)estimate);

		snprintf(pct, sizeof(pct), " %3d%%", p);
		cli_human_bytes(total, sizeof(total), estimate);
	}
	cli_human_bytes(done, sizeof(done), bytes);
	cli_human_bytes(bps, sizeof(bps), rate);
	human_time(left, sizeof(left), eta);
	fprintf(stderr, "\r\033[K%s%s%s%s%s%s  %s/s  ETA %s", label,
	    label[0] ? ": " : "", done, total[0] ? " / " : "", total, pct, bps,
	    left);
	fflush(stderr);
	o->progress_shown = true;
}

/* The entry of target; with source, a new one when there is none. */
static struct cli_active *
active_find(struct cli_out *o, const char *target, const char *source)
{
	struct cli_active *free_slot = NULL;
	size_t i;

	for (i = 0; i < CLI_ACTIVE_MAX; i++) {
		struct cli_active *a = &o->active[i];

		if (a->target == NULL) {
			if (free_slot == NULL)
				free_slot = a;
		} else if (strcmp(a->target, target) == 0) {
			return a;
		}
	}
	if (source == NULL || free_slot == NULL)
		return NULL;
	free_slot->target = strdup(target);
	free_slot->source = strdup(source);
	if (free_slot->target == NULL || free_slot->source == NULL) {
		free(free_slot->target);
		free(free_slot->source);
		free_slot->target = free_slot->source = NULL;
		return NULL;
	}
	return free_slot;
}

static void
active_free(struct cli_active *a)
{
	free(a->target);
	free(a->source);
	memset(a, 0, sizeof(*a));
}

static void
active_drop(struct cli_out *o, const char *target)
{
	struct cli_active *a = target ? active_find(o, target, NULL) : NULL;

	if (a != NULL)
		active_free(a);
}

/* Seconds left at rate, rounded up; unknown without a total or a rate. */
static uint64_t
eta_of(uint64_t total, uint64_t done, uint64_t rate)
{
	if (total == UNKNOWN_U64 || rate == 0 || done >= total)
		return UNKNOWN_U64;
	return (total - done + rate - 1) / rate;
}

void
cli_out_release(struct cli_out *o)
{
	size_t i;

	for (i = 0; i < CLI_ACTIVE_MAX; i++)
		active_free(&o->active[i]);
}

/*
 * A sync's line: the dataset and its numbers, or with several under way
 * (-j) their count and sums, at most five times a second.  Each
 * transfer's progress events (one every 200 ms while it runs) keep it on
 * the line; its done event, or a second without one, takes it off.
 */
static void
sync_progress(struct cli_out *o, const struct zf_event *ev)
{
	struct cli_active *a, *one = NULL;
	uint64_t bytes = 0, rate = 0, est = 0, now = mono_ms();
	unsigned n = 0;
	char label[64];
	size_t i;

	if (ev->target == NULL || ev->source == NULL ||
	    (a = active_find(o, ev->target, ev->source)) == NULL)
		return;
	/* a later step of the same dataset sends another snapshot */
	if (strcmp(a->source, ev->source) != 0) {
		char *s = strdup(ev->source);

		if (s != NULL) {
			free(a->source);
			a->source = s;
		}
	}
	a->bytes = ev->bytes;
	a->rate = ev->bytes_per_second;
	a->estimate = ev->estimated_bytes;
	a->seen_ms = now;
	if (o->drawn_ms != 0 && now - o->drawn_ms < 200)
		return;
	o->drawn_ms = now;
	for (i = 0; i < CLI_ACTIVE_MAX; i++) {
		a = &o->active[i];
		if (a->target == NULL)
			continue;
		/* a transfer that failed says nothing more: its events stop */
		if (now - a->seen_ms > 1000) {
			active_free(a);
			continue;
		}
		n++;
		one = a;
		bytes += a->bytes;
		rate += a->rate;
		if (est != UNKNOWN_U64)
			est = a->estimate == UNKNOWN_U64 ? UNKNOWN_U64
			                                 : est + a->estimate;
	}
	if (n == 1) {
		draw_progress(o, one->source, one->bytes, one->estimate,
		    one->rate, eta_of(one->estimate, one->bytes, one->rate));
		return;
	}
	snprintf(label, sizeof(label), "%u datasets", n);
	draw_progress(o, label, bytes, est, rate, eta_of(est, bytes, rate));
}

static void
progress_line(struct cli_out *o, const struct zf_event *ev)
{
	if (o->sync) {
		sync_progress(o, ev);
		return;
	}
	draw_progress(o, "", ev->bytes, ev->estimated_bytes,
	    ev->bytes_per_second, ev->eta_seconds);
}

void
cli_on_event(const struct zf_event *ev, void *arg)
{
	struct cli_out *o = arg;
	char b[32], w[32];

	if (o->json)
		json_event(o, ev);
	switch (ev->type) {
	case ZF_EV_COMMAND:
		if (o->verbose)
			cli_msg("running (%s): %s", zf_stage_str(ev->stage),
			    ev->text);
		break;
	case ZF_EV_NOTE:
		if (o->verbose)
			cli_msg("%s", ev->text);
		break;
	case ZF_EV_WARNING:
		if (!o->quiet)
			cli_msg("warning: %s", ev->text);
		break;
	case ZF_EV_PROGRESS:
		if (o->show_progress)
			progress_line(o, ev);
		break;
	case ZF_EV_PLAN:
		if ((o->dry_run || o->verbose) && !o->json)
			cli_msg("plan: %s -> %s: %s%s%s%s%s (%s)", ev->source,
			    ev->target, ev->kind, ev->from[0] ? " from " : "",
			    ev->from, ev->to[0] ? " to " : "", ev->to,
			    ev->reason);
		break;
	case ZF_EV_RESULT:
		active_drop(o, ev->target);
		clear_progress(o);
		if (o->json || (o->quiet && ev->error == NULL))
			break;
		cli_human_bytes(b, sizeof(b), ev->bytes);
		if (ev->error != NULL)
			cli_msg("%s -> %s: failed%s: %s", ev->source,
			    ev->target, ev->transient ? " (transient)" : "",
			    ev->error->msg);
		else if (strcmp(ev->result, "skipped") == 0)
			cli_msg("%s -> %s: nothing to do (%s)", ev->source,
			    ev->target, ev->reason ? ev->reason : "");
		else
			cli_msg("%s -> %s: %s, %s in %.2f s%s", ev->source,
			    ev->target, ev->kind, b,
			    (double)ev->elapsed_ns / 1e9,
			    ev->attempts > 1 ? " (after a retry)" : "");
		break;
	case ZF_EV_SUMMARY:
		if (!o->quiet && !o->json) {
			cli_human_bytes(b, sizeof(b), ev->bytes);
			cli_msg(
			    "%u synced, %u with nothing to do, %u failed, %u failed transiently; %s in %.2f s",
			    ev->n_ok, ev->n_skipped, ev->n_failed,
			    ev->n_transient, b, (double)ev->elapsed_ns / 1e9);
		}
		break;
	case ZF_EV_DONE:
		active_drop(o, ev->target);
		clear_progress(o);
		if (!o->quiet && !o->json && !o->sync) {
			cli_human_bytes(b, sizeof(b), ev->bytes);
			cli_human_bytes(w, sizeof(w), ev->wire_bytes);
			cli_msg(
			    "sent '%s' to '%s': %s (%s on the wire) in %.2f s",
			    ev->source, ev->target, b, w,
			    (double)ev->elapsed_ns / 1e9);
		}
		break;
	default:
		break;
	}
}

bool
cli_progress_wanted(const struct cli_out *o)
{
	return o->progress && !o->quiet && isatty(STDERR_FILENO);
}
