#!/usr/bin/env bash
# The transfer engine on zfs-fuse and the loopback sshd: --json events and
# their byte counts, compression over ssh (remote zferry, remote zstd, pull),
# the rate limit, and a stalled receiver ending with exit 75.
. "$(dirname "$0")/lib.sh"

t_sshd
t_pool src 512M
SRC=$POOL
t_pool dst 1G
DST=$POOL
zfs create "$SRC/text"
seq 1 3000000 >"/$SRC/text/numbers.txt"      # ~20 MiB, compressible
zfs snapshot "$SRC/text@s1"
size1=$(t_stream_size "$SRC/text@s1")
# what s1 holds, to compare targets with after the source moves on
cp -a "/$SRC/text" "$T_DIR/s1-tree"
seq 3000000 3500000 >"/$SRC/text/more.txt"
zfs snapshot "$SRC/text@s2"
size12=$(t_stream_size "$SRC/text@s2" "$SRC/text@s1")
R="root@127.0.0.1"

# --json: one object per line; done.bytes is the real stream size
t_run send --json "$SRC/text@s1" "$DST/local"
t_expect_rc 0 "local json"
[ "$(head -n 1 "$OUT" | cut -c1-17)" = '{"event":"start",' ] || t_fail "first event: $(head -n 1 "$OUT")"
[ "$(t_json_field done bytes)" -eq "$size1" ] ||
    t_fail "done.bytes $(t_json_field done bytes) != stream size $size1"
[ "$(t_json_field done wire_bytes)" -eq "$size1" ] || t_fail "local: wire_bytes != bytes"
grep -v '^{"event":"[a-z]*",.*}$' "$OUT" && t_fail "a line of --json output is not an event object"
[ ! -s "$ERR" ] || t_fail "--json wrote human text to stderr on success: $(cat "$ERR")"
t_ok "--json: events on stdout, done.bytes = stream size ($size1)"

# push with a remote zferry: compressed on the wire, identical on arrival
t_run send --json -v "${SSH_OPTS[@]}" --remote-zferry "$ZFERRY" "$SRC/text@s1" "$R:$DST/zferry-push"
t_expect_rc 0 "push through a remote zferry"
bytes=$(t_json_field done bytes)
wire=$(t_json_field done wire_bytes)
[ "$bytes" -eq "$size1" ] || t_fail "push: bytes $bytes != $size1"
[ "$wire" -lt $((bytes / 2)) ] || t_fail "push: wire $wire not much below $bytes for text"
t_expect_err "'pipe' '--decompress' 'zstd' '--' 'zfs' 'receive'" "push runs zferry pipe remotely"
t_run send --json "${SSH_OPTS[@]}" --remote-zferry "$ZFERRY" -i s1 "$SRC/text@s2" "$R:$DST/zferry-push"
t_expect_rc 0 "incremental push through a remote zferry"
[ "$(t_json_field done bytes)" -eq "$size12" ] || t_fail "incremental bytes != $size12"
t_same_tree "/$SRC/text" "/$DST/zferry-push"
t_ok "push via remote zferry: $bytes stream bytes, $wire on the wire, data identical"

# push without a remote zferry: the remote zstd decompresses
t_run send --json -v "${SSH_OPTS[@]}" "$SRC/text@s1" "$R:$DST/zstd-push"
t_expect_rc 0 "push through remote zstd -dc"
t_expect_err "'zstd' '-dc' | " "push pipes into the remote zstd"
[ "$(t_json_field done wire_bytes)" -lt "$size1" ] || t_fail "zstd push not compressed"
t_same_tree "$T_DIR/s1-tree" "/$DST/zstd-push"
t_ok "push via remote zstd -dc"

# lz4, explicitly
t_run send --json "${SSH_OPTS[@]}" --remote-zferry "$ZFERRY" --compress lz4 "$SRC/text@s1" "$R:$DST/lz4-push"
t_expect_rc 0 "lz4 push"
[ "$(t_json_field done wire_bytes)" -lt "$size1" ] || t_fail "lz4 push not compressed"
t_same_tree "$T_DIR/s1-tree" "/$DST/lz4-push"
t_ok "--compress lz4"

# progress counts the stream bytes handed on to the receiver, not those
# waiting in the 16 MiB buffer: rate-limited and compressed, the stream
# bytes of every progress event stay in line with the wire bytes written
# by then (the done event's ratio, plus a margin of a quarter and 1 MiB)
t_run send --json "${SSH_OPTS[@]}" --remote-zferry "$ZFERRY" --compress lz4 --bwlimit 4M "$SRC/text@s1" "$R:$DST/lz4-limited"
t_expect_rc 0 "rate-limited lz4 push"
t_same_tree "$T_DIR/s1-tree" "/$DST/lz4-limited"
bytes=$(t_json_field done bytes)
wire=$(t_json_field done wire_bytes)
sed -n 's/.*"event":"progress","bytes":\([0-9]*\),"wire_bytes":\([0-9]*\).*/\1 \2/p' "$OUT" >"$T_DIR/progress"
[ -s "$T_DIR/progress" ] || t_fail "rate-limited lz4 push: no progress event"
t_log "progress events (stream wire): $(tr '\n' ';' <"$T_DIR/progress")"
awk -v b="$bytes" -v w="$wire" '$1 > $2 * b / w * 1.25 + 1048576 { exit 1 }' "$T_DIR/progress" ||
    t_fail "progress ran ahead of the wire (done: $bytes stream, $wire wire bytes): $(tr '\n' ';' <"$T_DIR/progress")"
t_ok "progress with compression and --bwlimit: stream bytes follow the wire ($(wc -l <"$T_DIR/progress") events; $bytes stream, $wire wire bytes)"

# pull: the remote zferry compresses, we decompress
t_run send --json "${SSH_OPTS[@]}" --remote-zferry "$ZFERRY" "$R:$SRC/text@s1" "$DST/pulled"
t_expect_rc 0 "pull through a remote zferry"
[ "$(t_json_field done bytes)" -eq "$size1" ] || t_fail "pull: bytes != stream size"
[ "$(t_json_field done wire_bytes)" -lt "$((size1 / 2))" ] || t_fail "pull not compressed"
t_same_tree "$T_DIR/s1-tree" "/$DST/pulled"
t_ok "pull via remote zferry: decompressed here"

# pull asking for zstd where no zferry can compress: refused, nothing run
t_run send "${SSH_OPTS[@]}" --compress zstd "$R:$SRC/text@s1" "$DST/nozferry"
t_expect_rc 2 "explicit compression without a remote zferry"
t_expect_err "no zferry to compress there" "explicit compression refused"
zfs list "$DST/nozferry" >/dev/null 2>&1 && t_fail "refused pull created the target"
# ... while auto just does not compress
t_run send --json "${SSH_OPTS[@]}" "$R:$SRC/text@s1" "$DST/auto-pull"
t_expect_rc 0 "auto pull without a remote zferry"
[ "$(t_json_field done wire_bytes)" -eq "$size1" ] || t_fail "auto pull compressed without zferry?"
t_ok "pull: explicit compression needs a remote zferry; auto falls back to none"

# --compress none over ssh: the wire carries the stream as it is
t_run send --json "${SSH_OPTS[@]}" --compress none "$SRC/text@s1" "$R:$DST/plain"
t_expect_rc 0 "push uncompressed"
[ "$(t_json_field done wire_bytes)" -eq "$size1" ] || t_fail "--compress none changed the wire size"
t_ok "--compress none"

# the rate limit: N bytes take N/RATE (local, so wire = stream)
rate=$((4 * 1024 * 1024))
t_run send --json --bwlimit 4M "$SRC/text@s1" "$DST/limited"
t_expect_rc 0 "rate-limited send"
secs=$(t_json_field done seconds)
want=$(echo "$size1 / $rate" | bc -l)
err_pct=$(echo "($secs - $want) / $want * 100" | bc -l)
t_log "bwlimit 4M: $size1 bytes in $secs s, expected $want s, error ${err_pct}%"
echo "$err_pct" | awk '{ exit !($1 > -8 && $1 < 8) }' ||
    t_fail "rate limit off by ${err_pct}% ($secs s for $size1 bytes at 4 MiB/s)"
t_ok "--bwlimit 4M: $secs s for $size1 bytes (expected $want s)"

# a receiver that stops reading: exit 75 within the stall timeout
zfs create "$SRC/rand"
head -c 64M /dev/urandom >"/$SRC/rand/data"
zfs snapshot "$SRC/rand@s1"
RC=0
"$ZFERRY" send --stall-timeout 2s "$SRC/rand@s1" "$DST/stalled" >"$OUT" 2>"$ERR" &
zpid=$!
t_wait 10 pgrep -f "zfs receive $DST/stalled" || t_fail "the receiver did not start"
rpid=$(pgrep -f "zfs receive $DST/stalled")
kill -STOP "$rpid"
t_at_exit "kill -CONT $rpid 2>/dev/null"
start=$(date +%s%N)
wait "$zpid" || RC=$?
took=$((($(date +%s%N) - start) / 1000000))
t_expect_rc 75 "stalled receiver"
grep -qE "no data moved for 2 s|the stream ended, but zfs receive did not exit for 2 s" "$ERR" ||
    t_fail "stall message: $(cat "$ERR")"
[ "$took" -lt 8000 ] || t_fail "stall noticed after $took ms, limit 2 s"
t_no_proc "zfs receive $DST/stalled"
t_ok "a receiver that stops reading: exit 75 after $took ms (--stall-timeout 2s)"
