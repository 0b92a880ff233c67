/*
 * cmd.h: argv vectors for zfs and ssh, and zf_sh_quote(), the only place
 * zferry builds a shell string (the command ssh hands to the remote shell).
 * Nothing here runs anything.
 */
#ifndef ZF_CMD_H
#define ZF_CMD_H

#include "spec.h"
#include "util.h"

/* Upper bound for the remote command line (Linux MAX_ARG_STRLEN is 128k). */
#define ZF_REMOTE_CMD_MAX (64 * 1024)

/*
 * Appends argv to out as POSIX shell words: each argument in single quotes,
 * each ' inside written as '\'', separated by spaces.  Any byte but NUL
 * survives a POSIX shell intact.  Fails with ZF_E_INVALID when the result
 * would exceed out->max.
 */
enum zf_status zf_sh_quote(struct zf_buf *out, const char *const *argv,
    struct zf_error *err);

/* zfs send [flags] [-i|-I base] snapshot */
void zf_cmd_zfs_send(struct zf_argv *a, const struct zf_spec *s,
    const char *zfs);
/* zfs send -n -v -P [flags] [-i|-I base] snapshot: the size estimate */
void zf_cmd_zfs_send_estimate(struct zf_argv *a, const struct zf_spec *s,
    const char *zfs);
/* zfs send -t token (-n -v -P with estimate): resuming */
void zf_cmd_zfs_send_token(struct zf_argv *a, const char *zfs,
    const char *token, bool estimate);
/* zfs receive [flags] [-o p=v]... [-x p]... target */
void zf_cmd_zfs_recv(struct zf_argv *a, const struct zf_spec *s,
    const char *zfs);

/*
 * The ssh argv that runs remote_argv on loc's host:
 *   ssh <fixed hardening> <user options> <defaults> [-p] [-i] [-c]
 *       [-l user] -- host 'quoted remote argv'
 * Security options come first because ssh keeps the first value it reads
 * for each option; tunable defaults come after the user's so theirs win.
 */
enum zf_status zf_cmd_ssh(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc, const char *const *remote_argv,
    struct zf_error *err);

/* zf_cmd_ssh() with a remote command already quoted by cmd.c. */
void zf_cmd_ssh_quoted(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc, const char *remote_cmd);

/*
 * The connection master for ssh->control_path: the same options as every
 * other ssh (so it authenticates and checks the host key the same way),
 * with ControlMaster=yes, ControlPersist=no and -N (no command).  Later
 * ssh commands with the same control_path share its connection.
 */
void zf_cmd_ssh_master(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc);
/* ssh -O exit: asks the master of ssh->control_path to close. */
void zf_cmd_ssh_exit(struct zf_argv *a, const struct zf_ssh_spec *ssh,
    const struct zf_location *loc);

/* What runs around zfs on a remote host (stream compression). */
enum zf_wrap_kind {
	ZF_WRAP_NONE = 0,
	ZF_WRAP_ZFERRY_DECOMPRESS, /* zferry pipe --decompress ALG -- zfs */
	ZF_WRAP_ZFERRY_COMPRESS, /* zferry pipe --compress ALG:L -- zfs */
	ZF_WRAP_TOOL_DECOMPRESS, /* zstd -dc | zfs  (or lz4 -dc) */
};

struct zf_wrap {
	enum zf_wrap_kind kind;
	enum zf_compress_alg alg;
	int level;
};

/*
 * The argv that runs zfs_argv (whose [0] is the zfs program) on loc: the
 * vector itself when local; when remote, ssh with a remote command of
 * zfs_argv (under "env LC_ALL=C", so zfs messages can be classified),
 * wrapped as wrap says (NULL: not wrapped).  Every word of the remote
 * command is quoted by zf_sh_quote(); the only other text in it is the
 * fixed " -- " and " | " of the wraps.
 */
enum zf_status zf_cmd_on(struct zf_argv *a, const struct zf_spec *s,
    const struct zf_location *loc, const struct zf_wrap *wrap,
    const char *const *zfs_argv, struct zf_error *err);

/*
 * The ssh argv that asks a remote host, in one connection, what it has:
 * "zferry pipe --probe" (prints ZF_PIPE_PROTOCOL when a usable zferry
 * is there), "command -v" of zstd and lz4 (their paths on stdout), and
 * the usage text of "zfs CMD" (on stderr; cmd NULL: of "zfs" alone, which
 * lists every subcommand).
 */
enum zf_status zf_cmd_probe(struct zf_argv *a, const struct zf_spec *s,
    const struct zf_location *loc, const char *cmd, struct zf_error *err);

#include "zferry/pipe.h"
#define ZF_PIPE_PROBE_REPLY ZF_PIPE_PROTOCOL

/*
 * Joins argv into one line for people: words quoted only when they need
 * it, control characters escaped; an ssh command's last word (the remote
 * command, already quoted) is shown as it is after " remote: ".
 */
void zf_cmd_describe(char *dst, size_t dstsz, const char *const *argv);

#endif
