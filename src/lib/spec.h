/*
 * spec.h: the validated, owned form of a struct zf_send_config.  Built once
 * at the edge by zf_spec_init(); nothing downstream checks it again.
 */
#ifndef ZF_SPEC_H
#define ZF_SPEC_H

#include "zferry/config.h"
#include "util.h"

struct zf_ssh_spec {
	unsigned port;
	char *key_file; /* absolute path, or NULL */
	bool key_too_open; /* readable by group or others: ssh refuses it */
	char *known_hosts; /* absolute path, or NULL */
	char *cipher;
	char **options; /* canonical "Key=value", NULL-terminated */
	char *program; /* ssh */
	/* the socket of a connection master to share, or NULL (not owned) */
	const char *control_path;
};

struct zf_spec {
	struct zf_location source; /* snapshot */
	struct zf_location target; /* filesystem or snapshot */
	char *base; /* full name of the -i/-I base, or NULL */
	bool intermediates;
	unsigned send_flags;
	unsigned recv_flags;
	char **props; /* "name=value", NULL-terminated */
	char **excludes; /* NULL-terminated */
	char *origin;
	struct zf_ssh_spec ssh;
	char *zfs_program; /* local zfs */
	char *remote_zfs; /* zfs on a remote side */
	char *remote_zferry; /* zferry on a remote side */
	bool remote_zferry_given; /* named by the caller, not looked for */
	enum zf_compress_alg compress;
	int compress_level;
	uint64_t bwlimit;
	uint64_t buffer_size;
	uint64_t timeout_ms;
	uint64_t stall_timeout_ms;
	uint64_t progress_interval_ms;
	bool estimate;
};

/* Bounds on the engine settings. */
#define ZF_BUFFER_MAX (1ull << 32) /* 4 GiB */
#define ZF_BWLIMIT_MIN 1024ull /* 1 KiB/s */
#define ZF_TIMEOUT_MAX (366ull * 86400000) /* a year, in ms */

/*
 * Checks cfg and fills spec with owned copies.  The key and known_hosts
 * files are checked here too (they must exist and be readable).  On
 * failure spec is released and ZF_E_INVALID (or ZF_E_NOMEM) returned.
 */
enum zf_status zf_spec_init(struct zf_spec *spec,
    const struct zf_send_config *cfg, struct zf_error *err);
/*
 * zf_spec_init() for a sync (sync true): source and target are datasets,
 * not snapshots, and there is no base.
 */
enum zf_status zf_spec_init_as(struct zf_spec *spec,
    const struct zf_send_config *cfg, bool sync, struct zf_error *err);
void zf_spec_release(struct zf_spec *spec);

/*
 * Checks a file named by --ssh-key or --known-hosts: it must exist, be a
 * regular file, be readable, and its name must survive ssh's parsing (no
 * whitespace, '%' or quotes).  Stores the absolute path in *abs (malloc'd).
 * *too_open is set when a key file is readable by group or others.
 */
enum zf_status zf_check_ssh_file(const char *what, const char *path, char **abs,
    bool *too_open, struct zf_error *err);

#endif
