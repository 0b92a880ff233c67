#!/usr/bin/env bash
# 15-stream-flags: the stream options do what zfs does with them:
# -c/-L/-e keep compressed large records as they are, -h carries holds,
# -R replicates children and their snapshots, -F rolls the target back.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL

# -L -e -c: 1 MiB records, lz4, compressible text.  The target pool has
# compression=off, so only a -c stream can leave the data compressed there.
zfs create -o recordsize=1M -o compression=lz4 "$src/big"
m=$(zt_mnt "$src/big")
seq 1 300000 | sed 's/$/ a compressible line for the -c test/' >"$m/text"
zfs snapshot "$src/big@s1"
zt_zferry 0 send --no-progress -L -e -c "$src/big@s1" \
    "root@localhost:$dst/big"
zt_same_snapshot "$src/big@s1" "$dst/big@s1"
ratio=$(zt_prop "$dst/big@s1" compressratio)
awk -v r="${ratio%x}" 'BEGIN { exit !(r >= 2) }' ||
    zt_fail "compressratio of the -c copy is $ratio, want >= 2.00x"
zt_zferry 0 send --no-progress --large-block --embed --compressed \
    "root@localhost:$src/big@s1" "$dst/big2"
zt_same_snapshot "$src/big@s1" "$dst/big2@s1"

# -h: user holds come along
zfs create "$src/held"
zt_fill "$(zt_mnt "$src/held")" 1
zfs snapshot "$src/held@s1"
zfs hold zferry-keep "$src/held@s1"
zt_zferry 0 send --no-progress -h "$src/held@s1" "root@localhost:$dst/held"
zfs holds -H "$dst/held@s1" >"$ZT_DIR/holds"
zt_contains "holds on the target" "$ZT_DIR/holds" zferry-keep
zt_zferry 0 send --no-progress "$src/held@s1" "root@localhost:$dst/unheld"
zt_eq "holds without -h" "$(zfs holds -H "$dst/unheld@s1" | wc -l)" 0

# -R: the tree below the snapshot, with each child's snapshots
zfs create "$src/tree"
zfs create "$src/tree/child"
zfs create "$src/tree/child/grandchild"
zt_fill "$(zt_mnt "$src/tree/child")" 1
zfs snapshot -r "$src/tree@r1"
zfs snapshot -r "$src/tree@r2"
zt_zferry 0 send --no-progress -R "$src/tree@r2" "root@localhost:$dst/tree"
zt_same_snapshot "$src/tree/child@r1" "$dst/tree/child@r1"
zt_same_snapshot "$src/tree/child@r2" "$dst/tree/child@r2"
zt_eq "grandchild snapshots" \
    "$(zt_snapshots "$dst/tree/child/grandchild")" "r1 r2"

# -F: an incremental onto a target changed since its last snapshot
zt_zferry 0 send --no-progress "$src/held@s1" "$dst/rollback"
zt_fill "$(zt_mnt "$dst/rollback")" 1 changed
zt_fill "$(zt_mnt "$src/held")" 1 next
zfs snapshot "$src/held@s2"
zt_zferry 1 send --no-progress -i @s1 "$src/held@s2" "$dst/rollback"
zt_contains "incremental onto a changed target" "$ZT_ERR" "has been modified"
zt_zferry 0 send --no-progress -F -i @s1 "$src/held@s2" "$dst/rollback"
zt_same_snapshot "$src/held@s2" "$dst/rollback@s2"
[ ! -e "$(zt_mnt "$dst/rollback")/changed" ] ||
    zt_fail "-F kept the target's own change"
zt_no_leftovers
exit 0
