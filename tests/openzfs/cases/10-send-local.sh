#!/usr/bin/env bash
# 10-send-local: zferry send between two local pools: a full send, then -i
# and -I with every way of writing BASE (snap, @snap, pool/fs@snap, #bm),
# and zfs's own errors passed through for a wrong base or an existing target.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL
zfs create "$src/fs"
m=$(zt_mnt "$src/fs")
zt_fill "$m" 4 a
zfs snapshot "$src/fs@s1"
zt_fill "$m" 2 b
zfs snapshot "$src/fs@s2"
zt_fill "$m" 2 c
zfs snapshot "$src/fs@s3"
rm "$m/a"
zt_fill "$m" 1 d
zfs snapshot "$src/fs@s4"
zt_fill "$m" 1 e
zfs snapshot "$src/fs@s5"

# full send
zt_zferry 0 send --no-progress "$src/fs@s1" "$dst/fs"
zt_same_snapshot "$src/fs@s1" "$dst/fs@s1"
zt_eq "snapshots after full" "$(zt_snapshots "$dst/fs")" s1
zt_no_leftovers

# -i, BASE as a bare snapshot name
zt_zferry 0 send --no-progress -i s1 "$src/fs@s2" "$dst/fs"
zt_same_snapshot "$src/fs@s2" "$dst/fs@s2"
# -i, BASE as @snap
zt_zferry 0 send --no-progress -i @s2 "$src/fs@s3" "$dst/fs"
zt_same_snapshot "$src/fs@s3" "$dst/fs@s3"
zt_eq "snapshots after -i" "$(zt_snapshots "$dst/fs")" "s1 s2 s3"

# -I, BASE as a full snapshot name: the intermediate s4 arrives too
zt_zferry 0 send --no-progress -I "$src/fs@s3" "$src/fs@s5" "$dst/fs"
zt_eq "snapshots after -I" "$(zt_snapshots "$dst/fs")" "s1 s2 s3 s4 s5"
zt_same_snapshot "$src/fs@s4" "$dst/fs@s4"
zt_same_snapshot "$src/fs@s5" "$dst/fs@s5"

# -i from a bookmark, the snapshot it was made from being gone
zfs bookmark "$src/fs@s5" "$src/fs#b5"
zt_fill "$m" 1 f
zfs snapshot "$src/fs@s6"
zfs destroy "$src/fs@s5"
zt_zferry 0 send --no-progress -i '#b5' "$src/fs@s6" "$dst/fs"
zt_same_snapshot "$src/fs@s6" "$dst/fs@s6"

# a base the target does not have: zfs refuses, zferry says so with zfs's
# words and exits 1.  (A base the target has, but not as its newest
# snapshot, is "modified since most recent snapshot": see 15-stream-flags.)
zt_fill "$m" 1 g
zfs snapshot "$src/fs@s7"
zt_fill "$m" 1 h
zfs snapshot "$src/fs@s8"
zt_zferry 1 send --no-progress -i @s7 "$src/fs@s8" "$dst/fs"
zt_contains "wrong base" "$ZT_ERR" "match incremental source"
zt_eq "snapshots after the refused -i" "$(zt_snapshots "$dst/fs")" \
    "s1 s2 s3 s4 s5 s6"

# a full send onto an existing filesystem needs -F
zt_zferry 1 send --no-progress "$src/fs@s8" "$dst/fs"
zt_contains "full onto existing" "$ZT_ERR" "exists"
zt_no_leftovers

# usage errors exit 2 and touch nothing
zt_zferry 2 send --no-progress "$src/fs" "$dst/other"
zt_zferry 2 send --no-progress -i @s1 -I @s2 "$src/fs@s8" "$dst/other"
zt_exists "$dst/other" && zt_fail "'$dst/other' created by a refused send"
exit 0
