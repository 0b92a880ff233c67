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

/* A transfer under way, for the progress line of a sync (-j runs several). */
struct cli_active {
	char *target; /* the key: a sync has one transfer per target at once */
	char *source;
	uint64_t bytes;
	uint64_t rate;
	uint64_t estimate;
	uint64_t seen_ms; /* its last progress event */
};

#define CLI_ACTIVE_MAX 64 /* the most jobs a sync runs */

struct cli_out {
	bool quiet;
	bool verbose;
	bool progress; /* not --no-progress */
	bool json; /* --json: events as JSON lines on stdout */
	bool show_progress; /* draw the progress line on stderr */
	bool progress_shown;
	uint64_t json_last_ms;
	bool sync; /* zferry sync: per-dataset lines, not per transfer */
	struct cli_active active[CLI_ACTIVE_MAX];
	uint64_t drawn_ms; /* when the progress line was last drawn */
	bool dry_run; /* print the plan */
};

/* output.c */
void cli_out_init(struct cli_out *o);
void cli_out_release(struct cli_out *o);
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
void cli_signals_install_sync(struct zf_sync *sy);
/* Installs the handlers with a self-pipe; returns its read end, or -1. */
int cli_signals_install_fd(void);
/* The first signal caught, or 0. */
int cli_signal_caught(void);
void cli_signals_reset(void);
void cli_stdio_sanitize(void);

/* options.c: what send and sync share */
enum {
	OPT_SSH_PORT = 256,
	OPT_SSH_KEY,
	OPT_KNOWN_HOSTS,
	OPT_SSH_CIPHER,
	OPT_SSH_OPTION,
	OPT_REMOTE_ZFS,
	OPT_REMOTE_ZFERRY,
	OPT_COMPRESS,
	OPT_BWLIMIT,
	OPT_BUFFER,
	OPT_TIMEOUT,
	OPT_STALL,
	OPT_JSON,
	OPT_NO_PROGRESS,
	OPT_HELP,
	OPT_OWN, /* first value free for a command's own options */
};

/* A growing NULL-terminated list of pointers into argv (not copied). */
struct cli_strlist {
	const char **v;
	size_t n;
};

struct cli_xfer {
	struct zf_send_config *cfg;
	struct cli_out *out;
	struct cli_strlist props, excludes, sshopts;
};

extern const char cli_xfer_help[];
extern const char cli_xfer_shortopts[];
struct option;
/* own[0..n) followed by the shared long options; free() the result. */
struct option *cli_longopts(const struct option *own, size_t n);
/* 1: handled, 0: not a shared option, -1: invalid (err says why) */
int cli_xfer_opt(struct cli_xfer *x, int c, const char *arg,
    struct zf_error *err);
int cli_strlist_push(struct cli_strlist *l, const char *s);
void cli_xfer_finish(struct cli_xfer *x);
void cli_xfer_release(struct cli_xfer *x);
/*
 * What an option handler's result (1, 0, -1 as cli_xfer_opt) means: OK,
 * or a message (unknown option, missing value, err) and EXIT_USAGE.
 */
int cli_opt_done(int got, char **argv, int c, const struct zf_error *err);

/* send.c */
int cmd_send(int argc, char **argv);

/* sync.c */
int cmd_sync(int argc, char **argv);

/* pipe.c */
int cmd_pipe(int argc, char **argv);

/* token.c */
int cmd_token(int argc, char **argv);

#endif
