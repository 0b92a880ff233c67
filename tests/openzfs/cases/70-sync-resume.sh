#!/usr/bin/env bash
# 70-sync-resume: a `zferry sync` push interrupted mid-stream leaves a
# receive_resume_token, and the next `zferry sync` resumes from it: it says
# so, sends much less than the whole stream, and the data is identical.
# Two interruptions: (a) the local ssh client that carries `zfs receive`
# is killed during a full send (zferry itself fails, transiently); (b)
# zferry itself is SIGKILLed during an incremental (its children follow it
# through PR_SET_PDEATHSIG).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src 1G
src=$ZT_POOL
zt_pool dst 1G
dst=$ZT_POOL
fs=$src/fs
tfs=$dst/fs
target=root@localhost:$tfs
zfs create "$fs"
m=$(zt_mnt "$fs")
# random data: nothing on the way shrinks it, and --compress none keeps
# the rate limit on the stream itself, so that the interruption lands
# mid-stream
zt_fill "$m" 40 a.bin
zfs snapshot "$fs@s1"
# slow enough to interrupt (the stream is ~40 MiB), fast enough to finish
xfer=(--compress none --bwlimit 3M)

# the size of a stream: zfs send -nvP's "size" line
stream_size() {
	zfs send -nvP "$@" | awk '$1 == "size" { print $2 }'
}

# json_val FILE EVENT KEY: KEY of the last EVENT line of FILE
json_val() {
	grep -F "\"event\":\"$2\"" "$1" | tail -n 1 |
	    sed -n "s/.*\"$3\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}

# shellcheck disable=SC2317 # called through zt_wait
recv_reached() {
	[ "$(zt_recv_bytes "$dst")" -ge "$1" ]
}

# shellcheck disable=SC2317 # called through zt_wait
no_receive() {
	! zt_recv_pid "$dst" >/dev/null
}

# the ssh client of zferry's that carries the remote zfs receive (the
# remote command is one quoted argument: ... 'zfs' 'receive' ...)
recv_ssh_pid() {
	pgrep -f "^ssh .*ControlMaster=no.*'zfs' 'receive'" | head -n 1
}

# check_resumed SNAP FULL LABEL: the last zferry run ($ZT_OUT json, $ZT_ERR
# -v) resumed the transfer of SNAP and sent less than 0.7 x FULL bytes
check_resumed() {
	local snap=$1 full=$2 label=$3 sent kind
	zt_contains "$label: -v note" "$ZT_ERR" "resuming '$snap' into '$tfs' at "
	zt_contains "$label: plan" "$ZT_OUT" '"kind":"resume"'
	kind=$(json_val "$ZT_OUT" result kind)
	zt_eq "$label: result kind" "$kind" resume
	zt_eq "$label: result" "$(json_val "$ZT_OUT" result result)" ok
	sent=$(json_val "$ZT_OUT" "done" bytes)
	[ -n "$sent" ] || zt_fail "$label: no done event"
	# the "done" bytes and the result's bytes agree: one transfer ran
	zt_eq "$label: result bytes" "$(json_val "$ZT_OUT" result bytes)" "$sent"
	printf '# resumed (%s): %s of %s bytes\n' "$label" "$sent" "$full"
	[ $((sent * 10)) -lt $((full * 7)) ] ||
	    zt_fail "$label: the resume sent $sent bytes, not less than 0.7 x $full"
	[ "$sent" -gt 0 ] || zt_fail "$label: the resume sent nothing"
}

# --- (a) the ssh client carrying the receive is killed, full send -------
full1=$(stream_size "$fs@s1")
"$ZFERRY" sync -v --retries 0 "${xfer[@]}" "$fs" "$target" \
    >"$ZT_DIR/a.out" 2>"$ZT_DIR/a.err" </dev/null &
zpid=$!
zt_wait "the receive to read half the stream" 180 recv_reached $((full1 / 2))
spid=$(recv_ssh_pid) || true
[ -n "$spid" ] || zt_fail "no ssh client carrying 'zfs receive' found"
zt_log "killing the ssh client $spid: $(tr '\0' ' ' <"/proc/$spid/cmdline" | tail -c 120)"
kill -KILL "$spid"
rc=0
wait "$zpid" || rc=$?
sed 's/^/#   zferry stderr: /' "$ZT_DIR/a.err" >&2
# the link broke: transient (75), and with --retries 0 not retried
zt_eq "exit status after the ssh client was killed" "$rc" 75
zt_contains "failure report" "$ZT_DIR/a.err" "failed (transient)"
zt_wait "the remote zfs receive to end" 120 no_receive
zt_no_leftovers
token=$(zt_prop "$tfs" receive_resume_token)
zt_ne "resume token after (a)" "$token" -
zt_exists "$tfs@s1" && zt_fail "(a): the whole stream arrived: nothing to resume"

zt_zferry 0 sync -v --json "${xfer[@]}" "$fs" "$target"
check_resumed "$fs@s1" "$full1" "full, ssh killed"
zt_eq "token after resuming (a)" "$(zt_prop "$tfs" receive_resume_token)" -
zfs mount "$tfs"
zt_same_snapshot "$fs@s1" "$tfs@s1"
zfs unmount "$tfs"
zt_no_leftovers

# --- (b) zferry itself is SIGKILLed, incremental --------------------------
zt_fill "$m" 40 b.bin
zfs snapshot "$fs@s2"
full2=$(stream_size -i "$fs@s1" "$fs@s2")
"$ZFERRY" sync -v "${xfer[@]}" "$fs" "$target" \
    >"$ZT_DIR/b.out" 2>"$ZT_DIR/b.err" </dev/null &
zpid=$!
zt_wait "the receive to read half the stream" 180 recv_reached $((full2 / 2))
kill -KILL "$zpid"
rc=0
wait "$zpid" || rc=$?
zt_eq "exit status of the killed zferry" "$rc" 137
# its zfs send and ssh (client and master) die with it (PDEATHSIG), and
# the remote receive ends once its stream ends
zt_wait "the remote zfs receive to end" 120 no_receive
zt_no_leftovers
# a killed zferry cannot remove its ssh socket directory
rm -rf "/tmp/zferry-ssh-$zpid-"*
token=$(zt_prop "$tfs" receive_resume_token)
zt_ne "resume token after (b)" "$token" -
zt_exists "$tfs@s2" && zt_fail "(b): the whole stream arrived: nothing to resume"

zt_zferry 0 sync -v --json "${xfer[@]}" "$fs" "$target"
check_resumed "$fs@s2" "$full2" "incremental, zferry killed"
zt_eq "token after resuming (b)" "$(zt_prop "$tfs" receive_resume_token)" -
zt_eq "target snapshots" "$(zt_snapshots "$tfs")" "s1 s2"
zfs mount "$tfs"
zt_same_snapshot "$fs@s1" "$tfs@s1"
zt_same_snapshot "$fs@s2" "$tfs@s2"
zt_no_leftovers

# in sync now: nothing to do
zt_zferry 0 sync --json "$fs" "$target"
zt_eq "result of a sync with nothing to do" \
    "$(json_val "$ZT_OUT" result result)" skipped
exit 0
