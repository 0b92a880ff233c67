/*
 * run.h: running a short command to completion (a probe, a listing),
 * with its stdout and stderr captured in bounded buffers and a cancel fd
 * that stops it.
 */
#ifndef ZF_RUN_H
#define ZF_RUN_H

#include "spawn.h"

/*
 * Runs argv as child c (initialised by the caller with its name and
 * stage; stdin is /dev/null).  stdout goes to out (NULL: discarded) up to
 * out->max bytes; more is an error (ZF_E_PROTOCOL), as output that large
 * is not what was asked for.  stderr goes to c->errbuf.  When cancel_fd
 * (or -1) becomes readable the child is stopped and ZF_E_CANCELED
 * returned.  On return c is reaped; the caller reads zf_child_code() and
 * c->errbuf, then calls zf_child_release().
 */
enum zf_status zf_run_capture(struct zf_child *c, char *const *argv,
    struct zf_buf *out, int cancel_fd, struct zf_error *err);

/* Called for each line of output, without its newline. */
typedef enum zf_status (
    *zf_line_fn)(void *arg, const char *line, size_t len, struct zf_error *err);

/*
 * zf_run_capture() with stdout read as lines, each handed to fn as it
 * arrives (the output is never held whole: a listing may be large).  A
 * line longer than max_line is ZF_E_PROTOCOL; so is what fn refuses (the
 * child is then stopped).
 */
enum zf_status zf_run_lines(struct zf_child *c, char *const *argv,
    zf_line_fn fn, void *arg, size_t max_line, int cancel_fd,
    struct zf_error *err);

#endif
