#!/usr/bin/env bash
# 40-resumable: -s/--resumable on real OpenZFS.  A completed -s transfer
# leaves no resume state; a -s push interrupted by SIGTERM makes zferry exit
# 143, stops the remote receive, and leaves a receive_resume_token naming
# the snapshot, from which zfs itself can finish the transfer.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src 1G
src=$ZT_POOL
zt_pool dst 1G
dst=$ZT_POOL
zfs create "$src/small"
zt_fill "$(zt_mnt "$src/small")" 2
zfs snapshot "$src/small@s1"

zt_zferry 0 send --no-progress -s "$src/small@s1" "root@localhost:$dst/small"
zt_same_snapshot "$src/small@s1" "$dst/small@s1"
zt_eq "token after a complete -s send" \
    "$(zt_prop "$dst/small" receive_resume_token)" -
zt_zferry 0 send --no-progress --resumable "root@localhost:$src/small@s1" \
    "$dst/small pulled"
zt_same_snapshot "$src/small@s1" "$dst/small pulled@s1"

# Big enough to interrupt: 160 MiB that no compression shrinks, which
# ssh to localhost under TCG carries at ~5-15 MB/s.  (Zeros would do for
# zfs, but zferry may compress the wire: a few KiB in flight would then be
# hundreds of MiB for the receive to chew on after the interruption.)
zfs create "$src/big"
zt_fill "$(zt_mnt "$src/big")" 160
zfs snapshot "$src/big@s1"

"$ZFERRY" send --no-progress -s "$src/big@s1" "root@localhost:$dst/big" \
    >"$ZT_DIR/big.out" 2>"$ZT_DIR/big.err" </dev/null &
zpid=$!
# interrupt once the receiving zfs has really read something
# shellcheck disable=SC2317 # called through zt_wait
received_some() {
	[ "$(zt_recv_bytes "$dst")" -ge $((8 * 1024 * 1024)) ]
}
zt_wait "the receive to get 8 MiB" 120 received_some
kill -TERM "$zpid"
rc=0
wait "$zpid" || rc=$?
sed 's/^/#   zferry stderr: /' "$ZT_DIR/big.err" >&2
zt_eq "exit status after SIGTERM" "$rc" 143
# zferry's own children (the local zfs send, the ssh client) are gone
# with it; the remote receive ends once it has read the rest of what ssh
# delivered, which under TCG takes a while, but it must end by itself
# shellcheck disable=SC2317 # called through zt_wait
no_ssh() {
	! pgrep -x ssh >/dev/null && ! pgrep -f "^zfs send .*$src/big@s1" >/dev/null
}
zt_wait "zferry's ssh and zfs send to exit" 10 no_ssh
# shellcheck disable=SC2317 # called through zt_wait
no_receive() {
	! zt_recv_pid "$dst" >/dev/null
}
t_kill=$SECONDS
zt_wait "the remote zfs receive to end" 180 no_receive
zt_log "the remote receive ended $((SECONDS - t_kill))s after zferry"

zt_exists "$dst/big" ||
    zt_fail "nothing of the interrupted receive was kept (no '$dst/big')"
token=$(zt_prop "$dst/big" receive_resume_token)
if [ "$token" = - ] && zt_exists "$dst/big@s1"; then
	zt_fail "the whole stream arrived although zferry reported the interruption"
fi
zt_ne "resume token after the interrupted -s send" "$token" -
zstream token "$token" >"$ZT_DIR/token"
zt_contains "decoded token" "$ZT_DIR/token" "$src/big@s1"
zt_contains "decoded token" "$ZT_DIR/token" "toguid: $(zt_guid "$src/big@s1")"

# the token is good: zfs finishes the job from where it stopped
zfs send -t "$token" | zfs receive -s "$dst/big"
zt_same_snapshot "$src/big@s1" "$dst/big@s1"
zt_eq "token after resuming" "$(zt_prop "$dst/big" receive_resume_token)" -
exit 0
