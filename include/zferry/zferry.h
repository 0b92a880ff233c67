/*
 * zferry/zferry.h: libzferry, ZFS snapshot replication.
 *
 * The library never prints and never exits: it returns an enum zf_status
 * and fills a struct zf_error (zferry/error.h).  A transfer is described by
 * a struct zf_send_config (zferry/config.h) and run as a job
 * (zferry/job.h).
 */
#ifndef ZFERRY_ZFERRY_H
#define ZFERRY_ZFERRY_H

#include "zferry/config.h"
#include "zferry/error.h"
#include "zferry/job.h"
#include "zferry/pipe.h"
#include "zferry/sync.h"
#include "zferry/token.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library version, "MAJOR.MINOR.PATCH". */
const char *zf_version(void);

#ifdef __cplusplus
}
#endif
#endif
