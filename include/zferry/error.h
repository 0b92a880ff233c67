/*
 * zferry/error.h: result codes and the error record of libzferry.
 *
 * Every fallible function of libzferry returns an enum zf_status and takes
 * a struct zf_error * (which may be NULL) as its last argument.  The first
 * failure fills the record; later failures do not overwrite it, but callers
 * higher up may prefix one line of context (see zf_error_prefix()).
 *
 * Messages are single lines: control characters from any source (including
 * the stderr of local and remote programs) are shown escaped, never raw.
 */
#ifndef ZFERRY_ERROR_H
#define ZFERRY_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum zf_status {
	ZF_OK = 0,
	ZF_E_INVALID, /* bad argument or input; nothing was started */
	ZF_E_NOMEM, /* out of memory */
	ZF_E_SYS, /* a system call failed; sys_errno says why */
	ZF_E_SPAWN, /* a program could not be started */
	ZF_E_CHILD, /* a program (zfs, ssh) failed */
	ZF_E_PROTOCOL, /* another program's output was malformed */
	ZF_E_TIMEOUT, /* a time limit was reached */
	ZF_E_CANCELED, /* zf_job_cancel() was called; signo says why */
	ZF_E_UNSUPPORTED, /* a side's zfs lacks a requested feature */
};

/* Which part of a transfer failed. */
enum zf_stage {
	ZF_STAGE_NONE = 0,
	ZF_STAGE_INPUT, /* validating arguments */
	ZF_STAGE_PROBE, /* asking a zfs what it supports */
	ZF_STAGE_SEND, /* zfs send */
	ZF_STAGE_SSH, /* the ssh connection itself */
	ZF_STAGE_RECV, /* zfs receive */
	ZF_STAGE_RELAY, /* zferry's own relay between the two */
	ZF_STAGE_LIST, /* zfs list / zfs get */
	ZF_STAGE_TOKEN, /* decoding or verifying a resume token */
};

#define ZF_ERRMSG_MAX 1024

struct zf_error {
	enum zf_status code;
	enum zf_stage stage;
	int sys_errno; /* errno of the failed call, 0 if none */
	int child_status; /* exit code, 128 + signal, or -1 if none */
	int signo; /* for ZF_E_CANCELED: the signal, or 0 */
	bool transient; /* a retry may succeed (network, busy) */
	char msg[ZF_ERRMSG_MAX];
};

/* Resets err to "no error" (code ZF_OK, child_status -1).  NULL is a no-op. */
void zf_error_clear(struct zf_error *err);

/* Returns a static lowercase name such as "invalid input". */
const char *zf_status_str(enum zf_status code);

/*
 * Copies src[0..len) into dst (size dstsz, always NUL-terminated) with
 * control characters, DEL, backslash and bytes >= 0x80 escaped (\n, \t,
 * \\, \x1b), so untrusted text cannot drive a terminal; cut with "..."
 * when dst is too small.  Returns the length written.
 */
size_t zf_escape(char *dst, size_t dstsz, const char *src, size_t len);

/* Returns a static name such as "zfs send", "ssh" or "zfs receive". */
const char *zf_stage_str(enum zf_stage stage);

#ifdef __cplusplus
}
#endif
#endif
