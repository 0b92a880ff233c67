#!/usr/bin/env bash
# 74-sync-tree: `zferry sync -r` of a tree, pushed over ssh: children,
# a grandchild, a dataset name with a space and a clone (which must arrive
# as a clone of the target's copy of its origin).  The first sync, a
# catch-up after new snapshots with -j 2, a run with nothing to do (exit
# 0), and a target that diverged (refused, the rest still synced).  Every
# snapshot is checked by guid and by the checksum of its files.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src 1G
src=$ZT_POOL
zt_pool dst 1G
dst=$ZT_POOL
top=$src/tree
ttop=$dst/tree
target=root@localhost:$ttop

# the source tree, one name a line (names may hold spaces)
src_datasets() {
	zfs list -H -r -o name "$top"
}

# check_tree "SNAP..." "SNAP...": every source dataset is on the target
# with the first snapshots (by guid), and the second ones with the same
# files
check_tree() {
	local d t s
	while IFS= read -r d; do
		t=$ttop${d#"$top"}
		zt_exists "$t" || zt_fail "'$t' is missing"
		for s in $1; do
			zt_eq "guid of '$t@$s'" "$(zt_guid "$t@$s")" \
			    "$(zt_guid "$d@$s")"
		done
	done < <(src_datasets)
	# the files: the targets are received unmounted (-u), and mounting
	# them where they belong would write mountpoint directories into
	# their parents: each is mounted read-only on a directory of ours
	while IFS= read -r d; do
		t=$ttop${d#"$top"}
		mkdir -p "$ZT_DIR/check"
		mount -t zfs -o ro,zfsutil "$t" "$ZT_DIR/check" ||
		    zt_fail "cannot mount '$t'"
		for s in $2; do
			zt_eq "files of '$t@$s'" \
			    "$(zt_tree_sum "$ZT_DIR/check/.zfs/snapshot/$s")" \
			    "$(zt_tree_sum "$(zt_snapdir "$d@$s")")"
		done
		umount "$ZT_DIR/check" || zfs unmount -f "$t"
	done < <(src_datasets)
	zt_log "checked $(src_datasets | wc -l) datasets: guids of $1, files of $2"
}

# --- the tree --------------------------------------------------------
zfs create "$top"
zfs create "$top/a"
zfs create "$top/a/deep"
zfs create "$top/b c"
for d in "" /a /a/deep "/b c"; do
	zt_fill "$(zt_mnt "$top$d")" 1 "f1"
done
zfs snapshot -r "$top@t1"
zfs clone "$top/a@t1" "$top/clone"
zt_fill "$(zt_mnt "$top/clone")" 1 "own"
zfs snapshot "$top/clone@t1"

# --- the first sync ------------------------------------------------------
zt_zferry 0 sync -r -v --json "$top" "$target"
zt_eq "summary" "$(grep '"event":"summary"' "$ZT_OUT" |
    sed 's/,"bytes".*//')" \
    '{"event":"summary","ok":5,"skipped":0,"failed":0,"transient":0'
zt_eq "origin of the clone's copy" "$(zt_prop "$ttop/clone" origin)" \
    "$ttop/a@t1"
zt_contains "the clone sent from its origin" "$ZT_OUT" \
    "\"kind\":\"incremental\",\"from\":\"$top/a@t1\",\"to\":\"$top/clone@t1\""
zt_contains "the clone sent from its origin: -v" "$ZT_ERR" \
    "zfs send -i $top/a@t1 $top/clone@t1"
check_tree t1 t1
zt_no_leftovers

# --- catch-up, two at a time -----------------------------------------
for d in /a "/b c" /clone; do
	zt_fill "$(zt_mnt "$top$d")" 1 "f2"
done
zfs snapshot -r "$top@t2"
zfs snapshot -r "$top@t3"
zt_zferry 0 sync -r -j 2 --json "$top" "$target"
zt_eq "summary of the catch-up" "$(grep '"event":"summary"' "$ZT_OUT" |
    sed 's/,"bytes".*//')" \
    '{"event":"summary","ok":5,"skipped":0,"failed":0,"transient":0'
check_tree "t1 t2 t3" t3
zt_eq "snapshots of '$ttop/b c'" "$(zt_snapshots "$ttop/b c")" "t1 t2 t3"
zt_no_leftovers

# --- nothing to do ------------------------------------------------------
zt_zferry 0 sync -r -j 2 --json "$top" "$target"
zt_eq "summary with nothing to do" "$(grep '"event":"summary"' "$ZT_OUT" |
    sed 's/,"seconds".*//')" \
    '{"event":"summary","ok":0,"skipped":5,"failed":0,"transient":0,"bytes":0'

# --- a diverged target ------------------------------------------------
zfs snapshot "$ttop/b c@local"
zfs snapshot -r "$top@t4"
zt_zferry 1 sync -r -j 2 --json "$top" "$target"
zt_contains "plan" "$ZT_OUT" \
    "\"dataset\":\"$top/b c\",\"target\":\"root@localhost:$ttop/b c\",\"kind\":\"refuse\""
zt_contains "why" "$ZT_OUT" \
    "target '$ttop/b c' has snapshots newer than the common snapshot '$ttop/b c@t3' (eg. '$ttop/b c@local')"
zt_eq "summary of the diverged run" "$(grep '"event":"summary"' "$ZT_OUT" |
    sed 's/,"bytes".*//')" \
    '{"event":"summary","ok":4,"skipped":0,"failed":1,"transient":0'
zt_eq "the refused target, untouched" "$(zt_snapshots "$ttop/b c")" \
    "t1 t2 t3 local"
for d in "" /a /a/deep /clone; do
	zt_eq "guid of '$ttop$d@t4'" "$(zt_guid "$ttop$d@t4")" \
	    "$(zt_guid "$top$d@t4")"
done
zt_no_leftovers
exit 0
