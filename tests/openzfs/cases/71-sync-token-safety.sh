#!/usr/bin/env bash
# 71-sync-token-safety: `zferry sync` trusts no receive_resume_token.
# A receiver can forge its token to ask for any snapshot
# (openzfs/zfs#14153); here a --remote-zfs wrapper plays that receiver: it
# runs the real zfs but shows a forged token on the target.
#  (a) a valid token (good checksum) that names another dataset, and one
#      of this dataset whose base the source does not have: refused, and
#      no `zfs send -t` (not even the -nvP estimate) runs (for the second,
#      zferry tries `zfs receive -A` first, as for (c), which the liar's
#      target refuses: it has no partial receive);
#  (b) a token with one hex digit flipped: refused as corrupt, same proof;
#  (c) a real token whose snapshot was destroyed on the source: zferry
#      aborts the partial receive (zfs receive -A) and plans again; the
#      target ends in sync;
#  (d) right after an interruption, the old receive may still hold the
#      target ("dataset is busy", "partially-complete state"): the retry
#      goes on (resuming), it is not fatal.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src 1G
src=$ZT_POOL
zt_pool dst 1G
dst=$ZT_POOL
fs=$src/fs
tfs=$dst/fs
target=root@localhost:$tfs

# json_val FILE EVENT KEY: KEY of the last EVENT line of FILE
json_val() {
	grep -F "\"event\":\"$2\"" "$1" | tail -n 1 |
	    sed -n "s/.*\"$3\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}

# make_token SNAP [FROM]: the resume token of a receive of SNAP (from FROM)
# cut after 1 MiB, left on a scratch dataset of the target pool; prints
# the token, and the scratch dataset is removed again
make_token() {
	local snap=$1 from=${2:-} scratch=$dst/scratch$RANDOM tok
	if [ -n "$from" ]; then
		zfs send "$from" | zfs receive -u "$scratch"
		{ zfs send -i "$from" "$snap" | head -c 1048576 |
		    zfs receive -s -u "$scratch"; } 2>/dev/null || true
	else
		{ zfs send "$snap" | head -c 1048576 |
		    zfs receive -s -u "$scratch"; } 2>/dev/null || true
	fi
	tok=$(zt_prop "$scratch" receive_resume_token)
	zfs destroy -r "$scratch"
	[ "$tok" != - ] || zt_fail "no resume token from a cut receive of '$snap'"
	printf '%s\n' "$tok"
}

# --- the liars ----------------------------------------------------------
# the local zfs logs every command line, so that we know what ran
zfs_log=$ZT_DIR/zfs.log
cat >"$ZT_DIR/zfs-logged" <<EOF
#!/bin/bash
printf '%s\n' "\$*" >>'$zfs_log'
exec zfs "\$@"
EOF
# the receiver's zfs shows \$ZT_DIR/forge.token as the token of the
# dataset named in \$ZT_DIR/forge.target (when those files exist)
cat >"$ZT_DIR/zfs-forger" <<EOF
#!/bin/bash
printf 'remote: %s\n' "\$*" >>'$zfs_log'
tok=\$(cat '$ZT_DIR/forge.token' 2>/dev/null) || exec zfs "\$@"
tgt=\$(cat '$ZT_DIR/forge.target')
case \$1 in
list)
	out=\$(zfs "\$@") || { rc=\$?; printf '%s\n' "\$out"; exit \$rc; }
	[ -z "\$out" ] || printf '%s\n' "\$out" |
	    awk -F '\t' -v OFS='\t' -v t="\$tgt" -v k="\$tok" \
	    '\$1 == t { \$NF = k } { print }'
	;;
get)
	case " \$* " in
	*" receive_resume_token "*) [ "\${!#}" = "\$tgt" ] && { printf '%s\n' "\$tok"; exit 0; } ;;
	esac
	exec zfs "\$@"
	;;
*) exec zfs "\$@" ;;
esac
EOF
chmod 755 "$ZT_DIR/zfs-logged" "$ZT_DIR/zfs-forger"
forge() {
	printf '%s\n' "$1" >"$ZT_DIR/forge.token"
	printf '%s\n' "$tfs" >"$ZT_DIR/forge.target"
}

# no_send_t LABEL: nothing ran "zfs send -t" (nor its -nvP estimate)
no_send_t() {
	if grep -E '(^|remote: )send .*-t' "$zfs_log" >&2; then
		zt_fail "$1: a 'zfs send -t' ran"
	fi
	zt_not_contains "$1: -v output" "$ZT_ERR" "running (zfs send)"
}

# --- datasets and tokens -------------------------------------------------
zfs create "$fs"
m=$(zt_mnt "$fs")
zt_fill "$m" 3 a.bin
zfs snapshot "$fs@s1"
zfs create "$src/other"
zt_fill "$(zt_mnt "$src/other")" 3
zfs snapshot "$src/other@o1"
# a real token of another dataset: valid checksum, names '$src/other@o1'
tok_other=$(make_token "$src/other@o1")
# a real incremental token of this dataset whose base is then destroyed
zfs snapshot "$fs@base"
zt_fill "$m" 3 b.bin
zfs snapshot "$fs@s2"
tok_nobase=$(make_token "$fs@s2" "$fs@base")
zfs destroy "$fs@base"
zstream token "$tok_other" | sed 's/^/# token other: /' >&2
zstream token "$tok_nobase" | sed 's/^/# token nobase: /' >&2

# the honest first sync: the target has s1 and s2
zt_zferry 0 sync --no-progress "$fs" "$target"
zt_eq "target snapshots" "$(zt_snapshots "$tfs")" "s1 s2"
zt_fill "$m" 2 c.bin
zfs snapshot "$fs@s3"
export ZFERRY_ZFS=$ZT_DIR/zfs-logged
lie=(--remote-zfs "$ZT_DIR/zfs-forger")

# --- (a) a valid token for another dataset, a base the source lacks ------
forge "$tok_other"
: >"$zfs_log"
zt_zferry 1 sync -v --json "${lie[@]}" "$fs" "$target"
zt_contains "(a) other dataset: plan" "$ZT_OUT" '"kind":"resume"'
zt_eq "(a) other dataset: result" "$(json_val "$ZT_OUT" result result)" failed
zt_contains "(a) other dataset: refusal" "$ZT_OUT" \
    "resume token refused: it names '$src/other@o1', a snapshot of '$src/other', expected a snapshot of '$fs'"
no_send_t "(a) other dataset"
zt_contains "(a) the forger was asked" "$zfs_log" "remote: list"
zt_eq "(a) target snapshots" "$(zt_snapshots "$tfs")" "s1 s2"

forge "$tok_nobase"
: >"$zfs_log"
zt_zferry 1 sync -v --json "${lie[@]}" "$fs" "$target"
zt_contains "(a) unknown base: refusal" "$ZT_OUT" \
    "resume token refused: its base guid $(zstream token "$tok_nobase" |
    awk '$1 == "fromguid:" { print $2 }') is no snapshot or bookmark of '$fs'"
# a token of this dataset whose base is gone may be a real one: zferry
# tries to abort the partial receive, which the liar does not have
zt_contains "(a) unknown base: abort tried" "$ZT_ERR" \
    "aborting the partial receive of '$tfs'"
zt_contains "(a) unknown base: nothing to abort" "$ZT_OUT" \
    "cannot abort the partial receive of '$tfs'"
no_send_t "(a) unknown base"
zt_eq "(a) target snapshots" "$(zt_snapshots "$tfs")" "s1 s2"

# --- (b) one hex digit flipped -------------------------------------------
# a digit of the payload's first 32-bit word, which the checksum covers
payload=${tok_nobase##*-}
case ${payload:5:1} in 0) flip=1 ;; *) flip=0 ;; esac
forge "${tok_nobase%-*}-${payload:0:5}$flip${payload:6}"
: >"$zfs_log"
zt_zferry 1 sync -v "${lie[@]}" "$fs" "$target"
zt_contains "(b) corrupt: refusal" "$ZT_ERR" \
    "$fs -> $target: failed: resume token '"
zt_contains "(b) corrupt: refusal" "$ZT_ERR" "is corrupt (incorrect checksum"
no_send_t "(b) corrupt"
zt_eq "(b) target snapshots" "$(zt_snapshots "$tfs")" "s1 s2"

# the forger off: the honest sync catches up
rm -f "$ZT_DIR/forge.token" "$ZT_DIR/forge.target"
zt_zferry 0 sync --no-progress "${lie[@]}" "$fs" "$target"
zt_eq "target snapshots after the honest sync" "$(zt_snapshots "$tfs")" \
    "s1 s2 s3"
unset ZFERRY_ZFS

# --- (c) a real token whose snapshot is gone from the source ---------------
zfs create "$src/c"
zt_fill "$(zt_mnt "$src/c")" 3
zfs snapshot "$src/c@c1"
{ zfs send "$src/c@c1" | head -c 1048576 |
    zfs receive -s -u "$dst/c"; } 2>/dev/null || true
zt_ne "(c) token of the cut receive" \
    "$(zt_prop "$dst/c" receive_resume_token)" -
zt_fill "$(zt_mnt "$src/c")" 1 more.bin
zfs snapshot "$src/c@c2"
zfs destroy "$src/c@c1"
zt_zferry 0 sync -v --json "$src/c" "$dst/c"
zt_contains "(c) why" "$ZT_ERR" \
    "the resume token of '$dst/c' asks for '$src/c@c1' (or its base), which '$src/c' no longer has"
zt_contains "(c) abort" "$ZT_ERR" \
    "aborting the partial receive of '$dst/c' (zfs receive -A)"
zt_eq "(c) result" "$(json_val "$ZT_OUT" result result)" ok
zt_eq "(c) result bytes: those of the one transfer" \
    "$(json_val "$ZT_OUT" result bytes)" "$(json_val "$ZT_OUT" "done" bytes)"
zt_eq "(c) token after the sync" "$(zt_prop "$dst/c" receive_resume_token)" -
zt_eq "(c) target snapshots" "$(zt_snapshots "$dst/c")" c2
zfs mount "$dst/c"
zt_same_snapshot "$src/c@c2" "$dst/c@c2"

# --- (d) a retry right after an interruption ---------------------------
# The old receive still holds the target when the retry comes: the remote
# `zstd -dc` that feeds it (zferry compresses over ssh by default) is
# stopped before the ssh client is killed, so the receive stays blocked
# in the kernel reading an open, empty pipe.  zstd is continued only after
# zferry's next attempt met the busy target; that attempt must count as
# transient, and a later one resume.
zfs create "$src/d"
zt_fill "$(zt_mnt "$src/d")" 16
zfs snapshot "$src/d@d1"
"$ZFERRY" sync -v --json --retries 6 --bwlimit 2M \
    "$src/d" "root@localhost:$dst/d" \
    >"$ZT_DIR/d.out" 2>"$ZT_DIR/d.err" </dev/null &
zpid=$!
# shellcheck disable=SC2317 # called through zt_wait
recv_reached() {
	[ "$(zt_recv_bytes "$dst")" -ge "$1" ]
}
# shellcheck disable=SC2317 # called through zt_wait
retries_noted() {
	[ "$(grep -c 'failed, a retry may help' "$ZT_DIR/d.err")" -ge "$1" ] ||
	    ! kill -0 "$zpid" 2>/dev/null
}
zt_wait "the receive to read 4 MiB" 180 recv_reached $((4 * 1048576))
zpids=$(pgrep -x zstd) || zt_fail "(d) no remote zstd found"
spid=$(pgrep -f "^ssh .*ControlMaster=no.*'zfs' 'receive'" | head -n 1) || true
[ -n "$spid" ] || zt_fail "(d) no ssh client carrying 'zfs receive' found"
# shellcheck disable=SC2086 # one or more pids
kill -STOP $zpids
zt_at_exit "kill -CONT $zpids 2>/dev/null"
kill -KILL "$spid"
zt_wait "zferry's second failed attempt" 120 retries_noted 2
zt_recv_pid "$dst" >/dev/null || zt_log "(d) the old receive is gone already"
# shellcheck disable=SC2086
kill -CONT $zpids
rc=0
wait "$zpid" || rc=$?
grep -v '"event":"progress"' "$ZT_DIR/d.out" | sed 's/^/#   d out: /' >&2
grep -v 'running (' "$ZT_DIR/d.err" | sed 's/^/#   d err: /' >&2
# what the second attempt met, while the old receive held the target
met=$(grep 'failed, a retry may help' "$ZT_DIR/d.err" | sed -n 2p)
zt_log "(d) the attempt during the old receive: $met"
zt_eq "(d) exit status of the interrupted sync" "$rc" 0
zt_eq "(d) result" "$(json_val "$ZT_DIR/d.out" result result)" ok
attempts=$(json_val "$ZT_DIR/d.out" result attempts)
[ "$attempts" -ge 3 ] || zt_fail "(d) attempts: $attempts, want at least 3"
zt_contains "(d) resumed" "$ZT_DIR/d.err" "resuming '$src/d@d1' into '$dst/d'"
zt_no_leftovers
zt_eq "(d) token" "$(zt_prop "$dst/d" receive_resume_token)" -
zfs mount "$dst/d"
zt_same_snapshot "$src/d@d1" "$dst/d@d1"
exit 0
