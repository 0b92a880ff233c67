/*
 * zferry/config.h: what a transfer is asked to do.
 *
 * The caller fills these structs (strings stay owned by the caller);
 * zf_job_new() checks every field and copies what it keeps, so the strings
 * may be freed once it returns.  Nothing is trusted: each field is
 * validated as if it came from a hostile command line.
 */
#ifndef ZFERRY_CONFIG_H
#define ZFERRY_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "zferry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kinds of ZFS names, combined as a bit mask. */
enum zf_name_kind {
	ZF_NAME_FS = 1 << 0, /* pool/fs (filesystem or volume) */
	ZF_NAME_SNAPSHOT = 1 << 1, /* pool/fs@snap */
	ZF_NAME_BOOKMARK = 1 << 2, /* pool/fs#bm */
};

#define ZF_LOC_FIELD_MAX 256

/*
 * A dataset on this host or on a remote one: "pool/fs" or
 * "[user@]host:pool/fs" ("[user@][v6addr]:pool/fs" for IPv6).  user and
 * host are "" when absent; host "" means local.
 */
struct zf_location {
	char user[ZF_LOC_FIELD_MAX];
	char host[ZF_LOC_FIELD_MAX];
	char dataset[ZF_LOC_FIELD_MAX];
};

/*
 * Parses text into loc.  kinds says which names the dataset part may be
 * (for example ZF_NAME_SNAPSHOT for a send source).  Text with a ':'
 * before its first '/' is read as remote when the part before the ':' is
 * a valid [user@]host and the rest a valid name of the wanted kind;
 * otherwise as a local name.  what labels the messages ("source").
 * Returns ZF_OK or ZF_E_INVALID.
 */
enum zf_status zf_location_parse(struct zf_location *loc, const char *text,
    unsigned kinds, const char *what, struct zf_error *err);

/* True when loc names a remote host. */
bool zf_location_is_remote(const struct zf_location *loc);

/* zfs send flags, named as zfs send names them. */
enum zf_send_flag {
	ZF_SEND_RAW = 1 << 0, /* -w */
	ZF_SEND_COMPRESSED = 1 << 1, /* -c */
	ZF_SEND_LARGE_BLOCK = 1 << 2, /* -L */
	ZF_SEND_EMBED = 1 << 3, /* -e */
	ZF_SEND_PROPS = 1 << 4, /* -p */
	ZF_SEND_HOLDS = 1 << 5, /* -h */
	ZF_SEND_BACKUP = 1 << 6, /* -b */
	ZF_SEND_REPLICATE = 1 << 7, /* -R */
};

/* zfs receive flags. */
enum zf_recv_flag {
	ZF_RECV_FORCE = 1 << 0, /* -F */
	ZF_RECV_NOMOUNT = 1 << 1, /* -u */
	ZF_RECV_RESUMABLE = 1 << 2, /* -s */
};

/* Stream compression between the hosts. */
enum zf_compress_alg {
	ZF_COMPRESS_NONE = 0,
	ZF_COMPRESS_ZSTD,
	ZF_COMPRESS_LZ4,
	ZF_COMPRESS_AUTO, /* zstd over ssh; none locally or for -w/-c */
};

struct zf_ssh_config {
	unsigned port; /* 0: ssh's default */
	const char *key_file; /* -i FILE, or NULL */
	const char *known_hosts; /* UserKnownHostsFile, or NULL */
	const char *cipher; /* -c LIST, or NULL */
	const char *const *options; /* "Key=Value" (allowlisted), NULL-ended */
};

struct zf_send_config {
	struct zf_location source; /* a snapshot */
	struct zf_location target; /* a filesystem (or snapshot) */
	/*
	 * Incremental base, or NULL for a full stream: "@snap", "snap",
	 * "pool/fs@snap" or "#bm" (or "pool/fs#bm").  intermediates selects
	 * -I (every snapshot in between) rather than -i.
	 */
	const char *base;
	bool intermediates;
	unsigned send_flags; /* enum zf_send_flag */
	unsigned recv_flags; /* enum zf_recv_flag */
	const char *const *props; /* receive -o NAME=VALUE, NULL-ended */
	const char *const *excludes; /* receive -x NAME, NULL-ended */
	const char *origin; /* receive -o origin=SNAPSHOT, or NULL */
	struct zf_ssh_config ssh;
	const char *zfs_program; /* local zfs; NULL: "zfs" from PATH */
	const char *ssh_program; /* NULL: "ssh" from PATH */
	/* zfs on the remote host (no '=': env reads it); NULL: "zfs" */
	const char *remote_zfs;
	/* zferry on the remote host; NULL: "zferry" if in its PATH */
	const char *remote_zferry;

	/* The engine (all have defaults, see zf_send_config_init()). */
	enum zf_compress_alg compress; /* default ZF_COMPRESS_AUTO */
	int compress_level; /* 0: zstd 1, lz4 1 */
	uint64_t bwlimit; /* bytes per second on the wire; 0: none */
	uint64_t buffer_size; /* relay buffer bytes; 0: default */
	uint64_t timeout_ms; /* whole transfer; 0: none */
	uint64_t stall_timeout_ms; /* no byte moved for this long */
	uint64_t progress_interval_ms; /* ZF_EV_PROGRESS at most this often */
	bool no_estimate; /* skip the zfs send -nvP estimate */
};

/* Default stall timeout: a transfer that moves nothing for 10 minutes. */
#define ZF_DEFAULT_STALL_MS (10u * 60 * 1000)

/*
 * Sets every field to its default: all zero or NULL, compress
 * ZF_COMPRESS_AUTO, stall_timeout_ms ZF_DEFAULT_STALL_MS,
 * progress_interval_ms 1000.
 */
void zf_send_config_init(struct zf_send_config *cfg);

/*
 * Bounded number parsing.  zf_parse_u64: plain decimal in [min, max].
 * zf_parse_size: decimal with an optional binary unit k, M, G, T (also
 * KiB, MiB, ...; B for bytes), e.g. "64M"; zf_parse_rate the same, with an
 * optional "/s".  zf_parse_duration: decimal with ms, s, m, h or d (plain
 * numbers are seconds), result in milliseconds.  Overflow and trailing
 * garbage are refused.
 */
enum zf_status zf_parse_u64(const char *what, const char *s, uint64_t min,
    uint64_t max, uint64_t *out, struct zf_error *err);
enum zf_status zf_parse_size(const char *what, const char *s, uint64_t min,
    uint64_t max, uint64_t *out, struct zf_error *err);
enum zf_status zf_parse_rate(const char *what, const char *s, uint64_t min,
    uint64_t max, uint64_t *out, struct zf_error *err);
enum zf_status zf_parse_duration(const char *what, const char *s,
    uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms, struct zf_error *err);

/*
 * --compress: "zstd", "zstd:LEVEL" (1-19), "lz4", "lz4:LEVEL" (1-12),
 * "none" or "auto".  *level is 0 when none is given.
 */
enum zf_status zf_parse_compress(const char *what, const char *s,
    enum zf_compress_alg *alg, int *level, struct zf_error *err);

#ifdef __cplusplus
}
#endif
#endif
