/*
 * validate.h: pure checks of untrusted text.  No I/O, no allocation; every
 * function is safe on any NUL-terminated input and is fuzzed.
 *
 * Each check returns ZF_OK or ZF_E_INVALID with a message in err that names
 * the input (escaped) and says what is wrong with it.  `what` is the label
 * put first in the message, e.g. "source", "-i base", "--ssh-option".
 */
#ifndef ZF_VALIDATE_H
#define ZF_VALIDATE_H

#include "zferry/config.h"
#include "util.h"

/* ZFS_MAX_DATASET_NAME_LEN: a whole name, @snap or #bm included, is shorter */
#define ZF_NAME_MAX 256
#define ZF_HOST_MAX 256
#define ZF_USER_MAX 256
#define ZF_PROP_NAME_MAX 256
/*
 * ZAP_MAXVALUELEN: zfs refuses values of this length or longer
 * (zfs_ioctl.c zfs_check_userprops: strlen >= ZAP_MAXVALUELEN is E2BIG)
 */
#define ZF_PROP_VALUE_MAX 8192

/*
 * OpenZFS entity_namecheck/pool_namecheck rules: components of letters,
 * digits and "-_.: " separated by '/', none empty, "." or ".."; at most one
 * '@' or '#', in the last component; the pool begins with a letter and is
 * not a reserved word; the whole name is shorter than 256 bytes.  '%' is
 * refused: zfs reserves it for its own temporary clones.
 * On success *kind (may be NULL) is the kind found.
 */
enum zf_status zf_check_name(const char *what, const char *name, unsigned kinds,
    enum zf_name_kind *kind, struct zf_error *err);

/* The part after '@' or '#': a snapshot or bookmark name on its own. */
enum zf_status zf_check_short_name(const char *what, const char *name,
    struct zf_error *err);

/*
 * Property names: native ([a-z0-9_]) or user properties ("module:name" of
 * [a-z0-9:._-]), starting with a letter.  Values (zf_check_prop_assign)
 * may hold anything but NUL and must be shorter than ZF_PROP_VALUE_MAX
 * bytes: the remote command quoting carries them intact.
 */
enum zf_status zf_check_prop_name(const char *what, const char *name,
    struct zf_error *err);
/*
 * "name=value": checks both parts; *eq (may be NULL) points at the '='.
 */
enum zf_status zf_check_prop_assign(const char *what, const char *assign,
    struct zf_error *err);

/*
 * Host names and ssh_config aliases ([A-Za-z0-9._-], not starting with '-'
 * or '.'), IPv4 addresses, and IPv6 addresses (without brackets, as ssh
 * takes them; a zone "%ifname" is allowed).
 */
enum zf_status zf_check_host(const char *what, const char *host,
    struct zf_error *err);
/* User names: [A-Za-z0-9._-] with an optional trailing '$', no leading '-'. */
enum zf_status zf_check_user(const char *what, const char *user,
    struct zf_error *err);

/*
 * --ssh-option KEY=VALUE (or "KEY VALUE"): KEY must be in the allowlist of
 * options that tune the connection, VALUE must fit that key's syntax (no
 * whitespace, no '%' tokens, no newline).  Options that run commands or
 * weaken host-key checking are refused with the reason.  On success
 * canon (size canon_size) holds "Key=value" with the key in ssh's spelling.
 */
enum zf_status zf_check_ssh_option(const char *opt, char *canon,
    size_t canon_size, struct zf_error *err);

/* --ssh-cipher: a comma-separated cipher list as ssh -c takes it. */
enum zf_status zf_check_cipher_list(const char *what, const char *list,
    struct zf_error *err);

#endif
