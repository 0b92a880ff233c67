/*
 * plan.h: what a sync must do, as a pure function of the two trees and the
 * options.  No I/O: every case is unit-tested from synthetic trees.
 *
 * For each source dataset (parents before children; with recursive,
 * every dataset under the root that no exclude matches, the root itself
 * unless skip_parent) the target dataset is the target root plus the path
 * below the source root ("pool/a/b" under "pool/a" → TARGET/b).
 *
 * Rules, per dataset, matching by guid and ordering by createtxg (names
 * may be reused or renamed):
 * 1. The target holds a receive_resume_token: RESUME with that token (the
 *    caller verifies it, runs zfs send -t, then plans again).
 * 2. No target dataset: FULL of the oldest source snapshot (the newest with
 *    no_stream), then INCREMENTAL -I oldest..newest (-i with no_stream is
 *    not needed: one FULL of the newest).  A clone whose origin is in the
 *    source tree and already (or in this plan) on the target is sent as
 *    an incremental from its origin (clone = true) instead of a FULL.
 *    No source snapshot at all: SKIP ("no snapshot to send").
 * 3. The base is the newest source snapshot or bookmark whose guid is a
 *    snapshot of the target.  None: REFUSE "no common snapshot" (force:
 *    FULL into a target that the caller first destroys: destroy_target).
 * 4. The target has snapshots newer (by createtxg) than the base, or was
 *    written since the base (written > 0 when the base is its newest):
 *    REFUSE and name what diverged (force: the incremental gets recv -F).
 * 5. The base is the source's newest snapshot: SKIP "up to date".
 * 6. Otherwise INCREMENTAL base..newest with -I (-i with no_stream).  A
 *    bookmark base cannot carry -I: -i bookmark..next, then -I
 *    next..newest when more follow.
 * 7. delete_target_snapshots: target snapshots whose guid is not on the
 *    source are listed in the dataset's last step (destroy_snaps).
 *
 * Steps carry dependencies: the first step of a dataset waits for the
 * last step of its parent and of its clone origin's dataset; each later
 * step of a dataset waits for the one before.
 */
#ifndef ZF_PLAN_H
#define ZF_PLAN_H

#include <regex.h>

#include "tree.h"

enum zf_step_kind {
	ZF_STEP_FULL,
	ZF_STEP_INCREMENTAL,
	ZF_STEP_RESUME,
	ZF_STEP_SKIP,
	ZF_STEP_REFUSE,
};

struct zf_plan_opts {
	const char *src_root; /* the SOURCE dataset */
	const char *dst_root; /* the TARGET dataset */
	bool recursive;
	bool skip_parent;
	bool no_stream;
	bool force;
	bool delete_target_snapshots;
	const regex_t *excludes; /* matched against full source names */
	size_t nexcludes;
};

struct zf_step {
	enum zf_step_kind kind;
	size_t src; /* index of the source dataset */
	size_t dst; /* index of the target dataset, or ZF_NONE */
	char target[256]; /* target dataset name */
	char from[256]; /* full name of the base, "" for FULL */
	char to[256]; /* full name of the snapshot sent, or "" */
	uint64_t from_guid; /* 0 for FULL */
	uint64_t to_guid;
	bool intermediates; /* -I */
	bool clone; /* from is the clone origin */
	bool force; /* receive -F */
	bool destroy_target; /* force over an unrelated target */
	const char *token; /* RESUME: the target's token */
	char reason[512]; /* why (for SKIP, REFUSE, and for people) */
	size_t after; /* step index this one waits for, or ZF_NONE */
	size_t after2; /* a second one (clone origin), or ZF_NONE */
	const char **destroy_snaps; /* full target snapshot names, NULL-ended */
};

struct zf_plan {
	struct zf_step *steps;
	size_t nsteps;
	/* storage for destroy_snaps */
	const char **names;
	size_t nnames;
};

/*
 * Plans the sync of src into dst (dst may be an empty tree: no target).
 * Returns ZF_OK (the plan may hold REFUSE steps), ZF_E_INVALID for bad
 * options, ZF_E_NOMEM.
 */
enum zf_status zf_plan_make(struct zf_plan *plan, const struct zf_tree *src,
    const struct zf_tree *dst, const struct zf_plan_opts *o,
    struct zf_error *err);
void zf_plan_release(struct zf_plan *plan);

/* "full", "incremental", "resume", "skip", "refuse" */
const char *zf_step_kind_str(enum zf_step_kind k);

#endif
