#!/usr/bin/env bash
# 72-sync-bookmarks-holds: `zferry sync --bookmark` bookmarks the snapshots
# it sends, and a later sync whose common snapshot is gone from the source
# sends incrementally from its bookmark; `--hold` holds what is being sent
# and leaves no hold behind after success, failure and cancel, and a hold
# left by a crashed (SIGKILLed) run is released by the next --hold run.
# Local to local: the holds and bookmarks are on the source, which is
# this host either way.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src 1G
src=$ZT_POOL
zt_pool dst 1G
dst=$ZT_POOL
fs=$src/fs
tfs=$dst/fs
zfs create "$fs"
m=$(zt_mnt "$fs")

# bookmarks DATASET: its bookmarks' short names, oldest first
bookmarks() {
	zfs list -H -d 1 -t bookmark -s createtxg -o name "$1" |
	    sed 's/^.*#//' | tr '\n' ' ' | sed 's/ $//'
}

# tagged_holds TAG DATASET: the snapshots of DATASET held with TAG
tagged_holds() {
	local snaps
	snaps=$(zfs list -H -d 1 -t snapshot -o name "$2")
	[ -n "$snaps" ] || return 0
	# shellcheck disable=SC2086 # snapshot names without spaces
	zfs holds -H $snaps | awk -F '\t' -v t="$1" '$2 == t { print $1 }'
}

# the hold tag that -v printed in $1 (a file)
hold_tag() {
	sed -n "s/.*holding what is sent with the tag '\([^']*\)'.*/\1/p" "$1" |
	    head -n 1
}

# --- --bookmark ----------------------------------------------------------
zt_fill "$m" 2 a.bin
zfs snapshot "$fs@s1"
zt_fill "$m" 1 b.bin
zfs snapshot "$fs@s2"
zt_fill "$m" 1 c.bin
zfs snapshot "$fs@s3"
# a full of s1, then -I s1..s3 (s2 in between)
zt_zferry 0 sync -v --bookmark "$fs" "$tfs"
zt_eq "target snapshots" "$(zt_snapshots "$tfs")" "s1 s2 s3"
zt_eq "bookmarks made by --bookmark" "$(bookmarks "$fs")" "s1 s2 s3"
for s in s1 s2 s3; do
	zt_eq "guid of the bookmark #$s" "$(zt_guid "$fs#$s")" \
	    "$(zt_guid "$fs@$s")"
done
zt_zferry 0 sync --bookmark "$fs" "$tfs"
zt_contains "a second run" "$ZT_ERR" "nothing to do"
zt_eq "bookmarks after a run with nothing to do" "$(bookmarks "$fs")" \
    "s1 s2 s3"

# --- from a bookmark ----------------------------------------------------
# the common snapshots are pruned on the source, their bookmarks kept
zt_fill "$m" 1 d.bin
zfs snapshot "$fs@s4"
zt_fill "$m" 1 e.bin
zfs snapshot "$fs@s5"
zfs destroy "$fs@s1"
zfs destroy "$fs@s2"
zfs destroy "$fs@s3"
zt_zferry 0 sync -n --json "$fs" "$tfs"
# -i from the bookmark to the next snapshot, then -I from there
zt_contains "plan from the bookmark" "$ZT_OUT" \
    "\"kind\":\"incremental\",\"from\":\"$fs#s3\",\"to\":\"$fs@s4\""
zt_contains "plan after the bookmark" "$ZT_OUT" \
    "\"kind\":\"incremental\",\"from\":\"$fs@s4\",\"to\":\"$fs@s5\""
zt_eq "a dry run sends nothing" "$(zt_snapshots "$tfs")" "s1 s2 s3"
zt_zferry 0 sync -v --json "$fs" "$tfs"
zt_contains "sent from the bookmark" "$ZT_ERR" \
    "zfs send -i '$fs#s3' $fs@s4"
zt_eq "target snapshots after the bookmark sync" "$(zt_snapshots "$tfs")" \
    "s1 s2 s3 s4 s5"
zfs mount "$tfs"
zt_same_snapshot "$fs@s4" "$tfs@s4"
zt_same_snapshot "$fs@s5" "$tfs@s5"
zfs unmount "$tfs"

# --- --hold: success ------------------------------------------------------
zt_fill "$m" 1 f.bin
zfs snapshot "$fs@s6"
zt_zferry 0 sync -v --hold "$fs" "$tfs"
tag=$(hold_tag "$ZT_ERR")
[ -n "$tag" ] || zt_fail "-v printed no hold tag"
case $tag in zferry_*) ;; *) zt_fail "hold tag '$tag'" ;; esac
zt_log "hold tag: $tag"
# both ends of the step were held, then released
zt_contains "hold of the snapshot sent" "$ZT_ERR" "zfs hold $tag $fs@s6"
zt_contains "hold of the base" "$ZT_ERR" "zfs hold $tag $fs@s5"
zt_contains "release" "$ZT_ERR" "zfs release $tag $fs@s6"
zt_eq "holds after success" "$(tagged_holds "$tag" "$fs")" ""
zt_eq "target snapshots" "$(zt_snapshots "$tfs")" "s1 s2 s3 s4 s5 s6"

# --- --hold: failure ------------------------------------------------------
# a target parent with a quota far below the stream: the receive fails
zfs create "$src/big"
zt_fill "$(zt_mnt "$src/big")" 8
zfs snapshot "$src/big@b1"
zfs create -o quota=2M "$dst/small"
zt_zferry 1 sync -v --hold "$src/big" "$dst/small/big"
zt_contains "the receive failed" "$ZT_ERR" "zfs receive failed"
zt_contains "held before" "$ZT_ERR" "zfs hold $(hold_tag "$ZT_ERR") $src/big@b1"
zt_eq "holds after a failure" \
    "$(tagged_holds "$(hold_tag "$ZT_ERR")" "$src/big")" ""
zfs destroy -r "$dst/small"

# --- --hold: cancel (SIGINT mid-transfer) and crash (SIGKILL) ------------
# A slow transfer (8 MiB at 1 MiB/s); the hold must be there while it runs.
zfs create "$dst/c"
slow=(--bwlimit 1M --compress none)
# shellcheck disable=SC2317 # called through zt_wait
held_and_moving() {
	[ -n "$(tagged_holds "$1" "$src/big")" ] &&
	    [ "$(zt_recv_bytes "$dst")" -ge 1048576 ]
}
# shellcheck disable=SC2317 # called through zt_wait
no_receive() {
	! zt_recv_pid "$dst" >/dev/null
}
"$ZFERRY" sync -v --hold "${slow[@]}" "$src/big" "$dst/c/big" \
    >"$ZT_DIR/int.out" 2>"$ZT_DIR/int.err" </dev/null &
zpid=$!
zt_wait "the hold tag on stderr" 60 grep -q "holding what is sent" "$ZT_DIR/int.err"
itag=$(hold_tag "$ZT_DIR/int.err")
zt_wait "the hold and the stream" 120 held_and_moving "$itag"
kill -INT "$zpid"
rc=0
wait "$zpid" || rc=$?
sed 's/^/#   zferry stderr: /' "$ZT_DIR/int.err" >&2
zt_eq "exit status after SIGINT" "$rc" 130
zt_wait "the receive to end" 60 no_receive
zt_no_leftovers
zt_eq "holds after cancel" "$(tagged_holds "$itag" "$src/big")" ""

# the crash: SIGKILL leaves the hold (nothing can release it) ...
# (another target: $dst/c/big would resume, and a resume holds nothing)
zfs create "$dst/k"
"$ZFERRY" sync -v --hold "${slow[@]}" "$src/big" "$dst/k/big" \
    >"$ZT_DIR/kill.out" 2>"$ZT_DIR/kill.err" </dev/null &
zpid=$!
zt_wait "the hold tag on stderr" 60 grep -q "holding what is sent" "$ZT_DIR/kill.err"
ktag=$(hold_tag "$ZT_DIR/kill.err")
zt_ne "hold tags of two targets" "$ktag" "$itag"
zt_wait "the hold and the stream" 120 held_and_moving "$ktag"
kill -KILL "$zpid"
rc=0
wait "$zpid" || rc=$?
zt_eq "exit status after SIGKILL" "$rc" 137
zt_wait "the receive to end" 60 no_receive
zt_no_leftovers
zt_eq "the crashed run's hold" "$(tagged_holds "$ktag" "$src/big")" \
    "$src/big@b1"
# ... and the next --hold run releases it (and finishes the transfer,
# resuming)
zt_zferry 0 sync -v --hold "$src/big" "$dst/k/big"
zt_contains "stale hold released" "$ZT_ERR" \
    "releasing 1 hold left by an earlier run"
zt_contains "the next run resumed" "$ZT_ERR" "resuming '$src/big@b1'"
zt_eq "holds after the next run" "$(tagged_holds "$ktag" "$src/big")" ""
zt_eq "any zferry holds left" "$(zfs holds -H "$src/big@b1")" ""
zfs mount "$dst/k/big"
zt_same_snapshot "$src/big@b1" "$dst/k/big@b1"
exit 0
