/*
 * tree.h: what a host holds under a dataset, read from one listing:
 * datasets (filesystems and volumes) with their snapshots and bookmarks,
 * guids, createtxgs, clone origins, resume tokens.  Built from zfs output,
 * which is untrusted (it may come from a remote host): every line is
 * checked, names are validated with the OpenZFS rules, numbers are parsed
 * strictly, and anything malformed is an error (ZF_E_PROTOCOL) that names
 * the line.  No I/O here; the parser is fuzzed.
 *
 * Two listing formats are understood:
 *
 * - OpenZFS, one line per object (ZF_LIST_FORMAT_LIST):
 *     zfs list -Hp -o
 * name,type,guid,createtxg,origin,written,receive_resume_token -t
 * filesystem,volume,snapshot[,bookmark] -s createtxg (-r | -d 1) ROOT fields:
 * name, type (filesystem|volume|snapshot|bookmark), guid, createtxg, origin
 * ("-" if none), written ("-" for bookmarks), receive_resume_token ("-" if
 * none).
 *
 * - zfs-fuse and other old zfs without "zfs list -p", one line per
 *   property (ZF_LIST_FORMAT_GET):
 *     zfs get -Hp (-r | -d 1) -o name,property,value type,guid,createtxg,origin
 * ROOT (no bookmarks, no written, no resume tokens).
 *
 * Memory: names live in one arena; a tree of 10,000 datasets with 100
 * snapshots each must build and plan in under a second and 256 MiB.
 */
#ifndef ZF_TREE_H
#define ZF_TREE_H

#include "util.h"

#define ZF_NONE SIZE_MAX

struct zf_snap {
	const char *name; /* the part after '@' or '#' */
	uint64_t guid;
	uint64_t createtxg;
	bool bookmark;
};

struct zf_ds {
	const char *name; /* full dataset name */
	const char *origin; /* clone origin (full snapshot name) or NULL */
	const char *resume_token; /* receive_resume_token, or NULL */
	uint64_t written; /* bytes written since its newest snapshot;
	                     UINT64_MAX when unknown */
	uint64_t guid;
	uint64_t createtxg;
	bool volume;
	struct zf_snap *snaps; /* snapshots and bookmarks, by createtxg
	                          (a bookmark sorts before a snapshot of the
	                          same createtxg) */
	size_t nsnaps;
	size_t parent; /* index of the parent dataset in the tree, or ZF_NONE */
};

enum zf_list_format {
	ZF_LIST_FORMAT_LIST, /* OpenZFS zfs list -Hp, one line per object */
	ZF_LIST_FORMAT_GET, /* zfs get -Hp, one line per property */
};

struct zf_tree; /* opaque: datasets, an arena, an index by name */

/* A tree for the listing of root (a dataset name) in the given format. */
enum zf_status zf_tree_new(struct zf_tree **tp, const char *root,
    enum zf_list_format fmt, struct zf_error *err);
void zf_tree_free(struct zf_tree *t);

/*
 * Adds one line of the listing (without its '\n'; len bytes, not
 * NUL-terminated).  Objects outside root's subtree are an error.  Lines
 * longer than 64 KiB are refused.
 */
enum zf_status zf_tree_add_line(struct zf_tree *t, const char *line, size_t len,
    struct zf_error *err);

/*
 * Ends the listing: sorts each dataset's snapshots by createtxg, links
 * parents, and checks that every snapshot's dataset was listed (with the
 * GET format, that every object got its type, guid and createtxg).
 */
enum zf_status zf_tree_finish(struct zf_tree *t, struct zf_error *err);

/* Datasets in the order parents before children (sorted by name). */
size_t zf_tree_count(const struct zf_tree *t);
const struct zf_ds *zf_tree_at(const struct zf_tree *t, size_t i);
/* Index of a dataset by full name, or ZF_NONE. */
size_t zf_tree_find(const struct zf_tree *t, const char *name);

#endif
