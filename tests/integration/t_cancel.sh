#!/usr/bin/env bash
# SIGINT or SIGTERM in the middle of a transfer: zferry exits 130 or 143,
# no zfs, ssh or zferry process of the transfer is left on either side, and
# the half-received target is gone (zfs discards a partial full receive).
. "$(dirname "$0")/lib.sh"

t_sshd
t_pool src 512M
SRC=$POOL
t_pool dst 512M
DST=$POOL
zfs create "$SRC/fs"
seq 1 4000000 >"/$SRC/fs/numbers.txt"
zfs snapshot "$SRC/fs@s1"
R="root@127.0.0.1"

# cancel SIG NAME ARGS...: starts zferry send ARGS, signals it mid-stream
cancel() {
	local sig=$1 name=$2 want pid
	shift 2
	want=$((128 + $(kill -l "$sig")))
	"$ZFERRY" send --json --bwlimit 2M "$@" >"$OUT" 2>"$ERR" &
	pid=$!
	# mid-stream: the first progress event reports bytes moved
	t_wait 20 grep -q '"event":"progress","bytes":[1-9]' "$OUT" ||
	    t_fail "$name: no progress before the signal: $(cat "$ERR")"
	kill -"$sig" "$pid"
	RC=0
	wait "$pid" || RC=$?
	t_expect_rc "$want" "$name"
	t_expect_err "canceled" "$name"
	t_no_proc "zfs send $SRC/fs@s1"
	t_no_proc "zfs receive $DST/$name"
	t_no_proc "pipe --decompress"
	t_no_proc "ssh .* $R"
	t_wait 10 sh -c "! zfs list '$DST/$name' >/dev/null 2>&1" ||
	    t_fail "$name: a half-made target remains: $(zfs list -t all -r "$DST/$name")"
	t_ok "$name: SIG$sig mid-stream, exit $want, nothing left on either side"
}

cancel INT local "$SRC/fs@s1" "$DST/local"
cancel TERM local-term "$SRC/fs@s1" "$DST/local-term"
cancel INT push "${SSH_OPTS[@]}" --compress none "$SRC/fs@s1" "$R:$DST/push"
cancel INT push-zferry "${SSH_OPTS[@]}" --remote-zferry "$ZFERRY" "$SRC/fs@s1" "$R:$DST/push-zferry"
cancel TERM pull "${SSH_OPTS[@]}" "$R:$SRC/fs@s1" "$DST/pull"
