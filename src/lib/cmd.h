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

/*
 * The argv that runs zfs_argv (whose [0] is the zfs program) on loc: the
 * vector itself when local, wrapped by zf_cmd_ssh() when remote.  Remote
 * commands run under "env LC_ALL=C" so zfs messages can be classified.
 */
enum zf_status zf_cmd_on(struct zf_argv *a, const struct zf_spec *s,
    const struct zf_location *loc, const char *const *zfs_argv,
    struct zf_error *err);

/* Joins argv into a one-line, escaped, shell-quoted text for messages. */
void zf_cmd_describe(char *dst, size_t dstsz, const char *const *argv);

#endif
