#!/usr/bin/env bash
# 73-sync-progress-json: what --json and the progress line report, against
# what zfs itself says.  For a full, an incremental (-i), an -I and a
# resumed transfer:
#  - start.estimated_bytes is zfs send -nvP's "size" for the same send;
#  - progress events carry that estimate, their bytes never go down and
#    never pass done.bytes;
#  - done.bytes is the real stream size (zfs send ... | wc -c);
#  - the percent on the progress line (stderr on a terminal) never passes
#    100, although OpenZFS's estimate is often below the real size.
# zferry send --json for full, -i and -I; zferry sync --json for the
# resume.  Local to local, rate-limited so that progress shows.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null || zt_skip "no script(1) for a terminal"
zt_pool src 1G
src=$ZT_POOL
zt_pool dst 1G
dst=$ZT_POOL
fs=$src/fs
zfs create "$fs"
m=$(zt_mnt "$fs")
slow=(--bwlimit 2M)

# json_vals FILE EVENT KEY: KEY of every EVENT line of FILE, one a line
json_vals() {
	grep -F "\"event\":\"$2\"" "$1" |
	    sed -n "s/.*\"$3\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}

# estimate ARGS...: the total "size" of zfs send -nvP ARGS
estimate() {
	zfs send -nvP "$@" | awk '$1 == "size" { s = $2 } END { print s }'
}

# on_tty NAME CMD...: runs CMD with stderr on a terminal (script(1)) and
# stdout into $ZT_DIR/NAME.json; the terminal's text is $ZT_DIR/NAME.tty
on_tty() {
	local name=$1 cmd
	shift
	cmd="$(printf '%q ' "$@") >$ZT_DIR/$name.json"
	zt_log "on a terminal: $cmd"
	script -qfec "$cmd" /dev/null >"$ZT_DIR/$name.tty" </dev/null ||
	    zt_fail "$name: '$*' failed: $(tr '\r' '\n' <"$ZT_DIR/$name.tty" | tail -n 3)"
}

# check NAME EST REAL: the JSON and the terminal of transfer NAME against
# zfs's estimate EST and the real stream size REAL
check() {
	local name=$1 est=$2 real=$3 j=$ZT_DIR/$1.json t=$ZT_DIR/$1.tty
	local start total prev=0 b n=0 max pct
	grep -v '"event":"progress"' "$j" | sed "s/^/#   $name: /" >&2
	start=$(json_vals "$j" start estimated_bytes)
	total=$(json_vals "$j" "done" bytes)
	zt_eq "$name: estimated_bytes (zfs send -nvP)" "$start" "$est"
	zt_eq "$name: done.bytes (zfs send | wc -c)" "$total" "$real"
	printf '# %s: estimate %s, stream %s bytes (%s)\n' "$name" "$est" \
	    "$real" "$([ "$est" -lt "$real" ] && echo below || echo not below)"
	for b in $(json_vals "$j" progress bytes); do
		[ "$b" -ge "$prev" ] || zt_fail "$name: progress bytes went down: $prev, $b"
		[ "$b" -le "$total" ] || zt_fail "$name: progress bytes $b > done $total"
		prev=$b
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || zt_fail "$name: no progress event"
	for b in $(json_vals "$j" progress estimated_bytes); do
		zt_eq "$name: a progress event's estimate" "$b" "$est"
	done
	# the terminal: "\r\e[K1.0 MiB / 8.0 MiB  12%  2.0 MiB/s  ETA 0:03"
	pct=$(tr '\r' '\n' <"$t" | grep -ao '[0-9]\+%' | tr -d '%')
	[ -n "$pct" ] || zt_fail "$name: no percent on the terminal: $(head -c 300 "$t")"
	max=$(printf '%s\n' "$pct" | sort -n | tail -n 1)
	zt_log "$name: $n progress events, $(printf '%s\n' "$pct" | wc -l) progress lines, highest percent $max"
	[ "$max" -le 100 ] || zt_fail "$name: the progress line showed $max %"
}

# --- full, -i, -I --------------------------------------------------------
zt_fill "$m" 6 a.bin
zfs snapshot "$fs@s1"
zt_fill "$m" 3 b.bin
zfs snapshot "$fs@s2"
zt_fill "$m" 3 c.bin
zfs snapshot "$fs@s3"
zt_fill "$m" 3 d.bin
zfs snapshot "$fs@s4"

on_tty full "$ZFERRY" send --json "${slow[@]}" "$fs@s1" "$dst/fs"
check full "$(estimate "$fs@s1")" "$(zfs send "$fs@s1" | wc -c)"
on_tty incremental "$ZFERRY" send --json "${slow[@]}" -i @s1 "$fs@s2" "$dst/fs"
check incremental "$(estimate -i "$fs@s1" "$fs@s2")" \
    "$(zfs send -i "$fs@s1" "$fs@s2" | wc -c)"
on_tty intermediates "$ZFERRY" send --json "${slow[@]}" -I @s2 "$fs@s4" "$dst/fs"
check intermediates "$(estimate -I "$fs@s2" "$fs@s4")" \
    "$(zfs send -I "$fs@s2" "$fs@s4" | wc -c)"
zt_eq "target snapshots" "$(zt_snapshots "$dst/fs")" "s1 s2 s3 s4"

# --- resumed -------------------------------------------------------------
zfs create "$src/r"
zt_fill "$(zt_mnt "$src/r")" 10
zfs snapshot "$src/r@r1"
{ zfs send "$src/r@r1" | head -c 3145728 |
    zfs receive -s -u "$dst/r"; } 2>/dev/null || true
tok=$(zt_prop "$dst/r" receive_resume_token)
zt_ne "token of the cut receive" "$tok" -
rest=$(zfs send -t "$tok" | wc -c)
on_tty resumed "$ZFERRY" sync --json "${slow[@]}" "$src/r" "$dst/r"
zt_contains "resumed: plan" "$ZT_DIR/resumed.json" '"kind":"resume"'
check resumed "$(estimate -t "$tok")" "$rest"
zt_eq "resumed: result" "$(json_vals "$ZT_DIR/resumed.json" result result)" ok
zt_eq "resumed: result bytes" \
    "$(json_vals "$ZT_DIR/resumed.json" result bytes)" "$rest"
zt_eq "token after the resume" "$(zt_prop "$dst/r" receive_resume_token)" -
zfs mount "$dst/r"
zt_same_snapshot "$src/r@r1" "$dst/r@r1"
exit 0
