/*
 * cli.h: the zferry command-line tool.  The only code of zferry that reads
 * argv, prints, or exits.
 */
#ifndef ZF_CLI_H
#define ZF_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "zferry/zferry.h"

/* Exit codes (also in --help and the README). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_TRANSIENT = 75, /* EX_TEMPFAIL: a retry may succeed */
};

struct cli_out {
	bool quiet;
	bool verbose;
	bool progress; /* not --no-progress */
	bool json; /* --json: events as JSON lines on stdout */
	bool show_progress; /* draw the progress line on stderr */
	bool progress_shown;
	uint64_t json_last_ms;
};

/* output.c */
void cli_out_init(struct cli_out *o);
bool cli_progress_wanted(const struct cli_out *o);
void cli_human_bytes(char *dst, size_t n, uint64_t v);
void cli_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_error(const struct zf_error *err);
void cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void cli_on_event(const struct zf_event *ev, void *arg);
int cli_exit_code(enum zf_status r, const struct zf_error *err);

/* signals.c */
void cli_signals_install(struct zf_job *job);
/* Installs the handlers with a self-pipe; returns its read end, or -1. */
int cli_signals_install_fd(void);
/* The first signal caught, or 0. */
int cli_signal_caught(void);
void cli_signals_reset(void);
void cli_stdio_sanitize(void);

/* send.c */
int cmd_send(int argc, char **argv);

/* pipe.c */
int cmd_pipe(int argc, char **argv);

/* token.c */
int cmd_token(int argc, char **argv);

#endif
