/*
 * compat.h: the first include of every .c file of zferry.  It selects the
 * feature set (GNU for pipe2, splice, F_SETPIPE_SZ) and pulls in the system
 * headers that nearly every module needs.
 */
#ifndef ZF_COMPAT_H
#define ZF_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define ZF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__) || defined(__clang__)
#define ZF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ZF_UNUSED __attribute__((unused))
#else
#define ZF_PRINTF(f, a)
#define ZF_UNUSED
#endif

/*
 * ZF_UNITTEST marks internal functions that are static in the library but
 * visible to the unit tests (curl's UNITTEST).
 */
#ifdef ZF_UNIT_TESTING
#define ZF_UNITTEST
#else
#define ZF_UNITTEST static
#endif

#include "banned.h"

#endif
