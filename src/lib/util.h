/*
 * util.h: bounded buffers, argv vectors, the monotonic clock, saturating
 * arithmetic, escaping of untrusted text, and the internal error helpers.
 * Nothing here knows about zfs or ssh.
 */
#ifndef ZF_UTIL_H
#define ZF_UTIL_H

#include "zferry/error.h"

/*
 * struct zf_buf: a growable byte buffer with a hard maximum (curl's dynbuf
 * "toobig").  data is always NUL-terminated when not NULL.
 *
 *   struct zf_buf b = ZF_BUF_INIT(64 * 1024);
 *   zf_buf_add(&b, p, n);  ...  zf_buf_release(&b);
 *
 * zf_buf_add() and zf_buf_addf() fail with ZF_E_NOMEM, and leave the buffer
 * as it was, when the result would exceed max.  zf_buf_add_trunc() instead
 * keeps what fits and counts the rest in b->dropped: for stderr capture.
 */
struct zf_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* hard limit on len */
	size_t dropped; /* bytes refused by zf_buf_add_trunc() */
};

#define ZF_BUF_INIT(maxlen)                                                    \
	{                                                                      \
		NULL, 0, 0, (maxlen), 0                                        \
	}

void zf_buf_init(struct zf_buf *b, size_t max);
enum zf_status zf_buf_add(struct zf_buf *b, const void *p, size_t n);
enum zf_status zf_buf_adds(struct zf_buf *b, const char *s);
enum zf_status zf_buf_addf(struct zf_buf *b, const char *fmt, ...)
    ZF_PRINTF(2, 3);
void zf_buf_add_trunc(struct zf_buf *b, const void *p, size_t n);
void zf_buf_reset(struct zf_buf *b);
/* Frees the data; the buffer may be reused (same max). */
void zf_buf_release(struct zf_buf *b);
/* Hands the data over to the caller (free() it) and resets the buffer. */
char *zf_buf_detach(struct zf_buf *b);

/*
 * struct zf_argv: a NULL-terminated vector of strings (git's strvec).
 * zf_argv_push() copies its argument; zf_argv_pushf() formats one.  When
 * an allocation fails, the vector is marked failed and later pushes do
 * nothing; zf_argv_ok() tells, so builders can check once at the end.
 */
struct zf_argv {
	char **v;
	size_t n;
	size_t cap;
	bool failed;
};

#define ZF_ARGV_INIT                                                           \
	{                                                                      \
		NULL, 0, 0, false                                              \
	}

void zf_argv_push(struct zf_argv *a, const char *s);
void zf_argv_pushf(struct zf_argv *a, const char *fmt, ...) ZF_PRINTF(2, 3);
void zf_argv_pushv(struct zf_argv *a, const char *const *v);
bool zf_argv_ok(const struct zf_argv *a);
void zf_argv_clear(struct zf_argv *a);
/* Hands the NULL-terminated vector over; free it with zf_argv_free_v(). */
char **zf_argv_detach(struct zf_argv *a);
/*
 * Like zf_argv_detach(), but an empty vector is returned as {NULL} rather
 * than NULL; returns NULL only when an allocation failed (the vector is
 * cleared either way).
 */
char **zf_argv_finish(struct zf_argv *a);
/* A copy of v (NULL is copied as an empty vector); NULL when out of memory. */
char **zf_strv_dup(const char *const *v);
void zf_argv_free_v(char **v);
size_t zf_strv_len(const char *const *v);

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t zf_now_ns(void);

/* a + b, saturating at UINT64_MAX. */
static inline uint64_t
zf_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * Copies src[0..len) into dst (size dstsz, always NUL-terminated) with every
 * control character, DEL and backslash written as an escape (\n, \t, \\,
 * \x1b) and every byte >= 0x80 as \xNN, so untrusted text can never move
 * the cursor or change a terminal's state.  Truncates at a character
 * boundary and ends with "..." when dst is too small.
 * Returns the length written.
 */
size_t zf_escape(char *dst, size_t dstsz, const char *src, size_t len);

/* strdup that returns NULL on NULL. */
char *zf_strdup0(const char *s);

/*
 * Copies src into dst of size dstsz.  Returns false (and leaves dst as an
 * empty string) when it does not fit.
 */
bool zf_strlcpy_ok(char *dst, const char *src, size_t dstsz);

/*
 * Error helpers.  zf_fail() records the first failure in err (if err is
 * not NULL and holds no error yet) and returns code, so callers write
 *   return zf_fail(err, ZF_E_INVALID, "invalid dataset name '%s'", name);
 * The message is escaped with zf_escape().  zf_fail_errno() adds
 * ": strerror(errno)" and records sys_errno.  zf_error_prefix() prepends
 * "context: " to an existing message.
 */
enum zf_status zf_fail(struct zf_error *err, enum zf_status code,
    const char *fmt, ...) ZF_PRINTF(3, 4);
enum zf_status zf_fail_errno(struct zf_error *err, int errnum, const char *fmt,
    ...) ZF_PRINTF(3, 4);
/* Records ZF_E_INVALID at stage ZF_STAGE_INPUT: bad input from the caller. */
enum zf_status zf_fail_input(struct zf_error *err, const char *fmt, ...)
    ZF_PRINTF(2, 3);
void zf_error_prefix(struct zf_error *err, const char *fmt, ...)
    ZF_PRINTF(2, 3);
void zf_error_set_stage(struct zf_error *err, enum zf_stage stage);

#endif
