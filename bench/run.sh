#!/bin/bash
# bench/run.sh: zferry's relay against cat, pv, mbuffer, the zstd and lz4
# command-line tools, and the rate limiters of pv and mbuffer.
#
#   bench/run.sh [--quick] [ZFERRY]      (make bench, make bench-quick)
#
# Prints name=value lines on stdout, with '#' lines that say how each
# number was measured; progress goes to stderr.  The machine this runs on
# is assumed noisy: every comparison is a ratio of runs made side by side in
# this one invocation, interleaved (A B, B A, ...), and the median is taken.
# Absolute times appear only in '#' lines.  Exit status: 0, or 1 when a
# correctness check failed (a stage passed the wrong byte count, a round
# trip did not give the input back); the targets are reported, not enforced.
#
# Sizes and repetitions can be overridden from the environment:
#   BENCH_RELAY_MIB  BENCH_RELAY_REPS  BENCH_CODEC_MIB  BENCH_CODEC_REPS
#   BENCH_BW_RATE (bytes/s)  BENCH_BW_SECONDS  BENCH_BW_REPS
#   BENCH_TMP (where the test data goes; default /dev/shm)
#
# Lists of timings are plain words, split on purpose (SC2086, SC2046,
# SC2206); the st_* and src_* arrays are used by name through namerefs
# (SC2034).
# The cleanup trap is called indirectly (SC2317).
# shellcheck disable=SC2034,SC2046,SC2086,SC2206,SC2317
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
mode=full
if [ "${1:-}" = --quick ]; then
	mode=quick
	shift
fi
ZF=$(realpath "${1:-$root/build/zferry}")
[ -x "$ZF" ] || {
	echo "bench: no zferry at '$ZF' (run make first)" >&2
	exit 2
}

if [ $mode = quick ]; then
	relay_mib=${BENCH_RELAY_MIB:-512}
	relay_reps=${BENCH_RELAY_REPS:-5}
	buf_mib=${BENCH_BUFFER_MIB:-256}
	buf_reps=${BENCH_BUFFER_REPS:-3}
	codec_mib=${BENCH_CODEC_MIB:-64}
	codec_reps=${BENCH_CODEC_REPS:-3}
	bw_rate=${BENCH_BW_RATE:-16777216}
	bw_seconds=${BENCH_BW_SECONDS:-2}
	bw_reps=${BENCH_BW_REPS:-1}
else
	relay_mib=${BENCH_RELAY_MIB:-4096}
	relay_reps=${BENCH_RELAY_REPS:-7}
	buf_mib=${BENCH_BUFFER_MIB:-1024}
	buf_reps=${BENCH_BUFFER_REPS:-7}
	codec_mib=${BENCH_CODEC_MIB:-256}
	codec_reps=${BENCH_CODEC_REPS:-15}
	bw_rate=${BENCH_BW_RATE:-33554432}
	bw_seconds=${BENCH_BW_SECONDS:-10}
	bw_reps=${BENCH_BW_REPS:-3}
fi

note() { printf '%s\n' "$*" >&2; }
die() {
	note "bench: $*"
	exit 1
}

# what it compares against: pv, mbuffer, zstd, lz4, GNU time
"$root/scripts/install-deps" bench

# the helpers: a producer and a consumer, compiled here, kept tiny
bin=$(dirname "$ZF")/bench
mkdir -p "$bin"
for h in produce sink; do
	if [ ! -x "$bin/$h" ] || [ "$root/bench/$h.c" -nt "$bin/$h" ]; then
		cc -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -o "$bin/$h" \
		    "$root/bench/$h.c"
	fi
done
PRODUCE=$bin/produce
SINK=$bin/sink

# test data in memory (tmpfs), removed on exit
base=${BENCH_TMP:-/dev/shm}
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
tmp=$(mktemp -d "$base/zferry-bench.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_pipe SRC STAGE [SINK ARGS]: produce SRC | STAGE | sink, where SRC and
# STAGE name arrays; GNU time watches the stage.  Sets T_US (wall time of
# the pipeline, microseconds), CPU_MS (user + system time of the stage),
# RSS_KB (its peak resident set) and SINK_OUT.
run_pipe() {
	local -n _src=$1 _stage=$2
	local t0 t1 u s m

	shift 2
	t0=$EPOCHREALTIME
	SINK_OUT=$("$PRODUCE" "${_src[@]}" |
	    /usr/bin/time -f '%U %S %M' -o "$tmp/time" "${_stage[@]}" |
	    "$SINK" "$@") ||
	    die "failed: produce ${_src[*]} | ${_stage[*]} | sink $*"
	t1=$EPOCHREALTIME
	T_US=$((${t1/./} - ${t0/./}))
	read -r u s m <"$tmp/time"
	CPU_MS=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1000 }')
	RSS_KB=$m
}

# field NAME: the value of NAME=... in SINK_OUT
field() {
	local f

	for f in $SINK_OUT; do
		if [ "${f%%=*}" = "$1" ]; then
			echo "${f#*=}"
			return
		fi
	done
	die "sink printed no $1"
}

# spread LIST: "min..max" of a list of numbers
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.2f..%.2f", a, b }'; }

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1}
    END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ratios A B: the per-repetition ratios a_i / b_i of two lists of times
ratios() {
	local -a a=($1) b=($2)
	local i

	for i in "${!a[@]}"; do
		awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { printf "%.4f\n", x / y }'
	done
}

# fmt EXPR [DECIMALS]: an awk expression of numbers, rounded
fmt() { awk "BEGIN { printf \"%.${2:-3}f\\n\", $1 }"; }
secs() { awk -v x="$1" 'BEGIN { printf "%.3f", x / 1e6 }'; }
list_secs() {
	local t out=""

	for t in $1; do out="$out $(secs "$t")"; done
	echo "${out# }"
}

failed=0
host="$(nproc) cpus, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "# zferry bench ($mode), $(date -u +%Y-%m-%dT%H:%MZ), $host, $(uname -r)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
vers() { "$@" 2>&1 | grep -oE -m1 'R[0-9]{8}|[0-9]+(\.[0-9]+)+' | head -1; }
echo "# $("$ZF" --version 2>/dev/null || echo 'zferry ?'), pv $(vers pv --version)," \
    "mbuffer $(vers mbuffer -V), zstd $(vers zstd -V), lz4 $(vers lz4 -V), cat $(vers cat --version)"

# rotate SRC BYTES REPS ZFSTAGE STAGE...: runs produce SRC | st_STAGE | sink
# REPS times for each STAGE, in an order rotated each repetition (no stage
# always runs first), and checks that each passed BYTES.  Sets times[STAGE]
# and cpus[STAGE] (lists) and RSS_MAX_KB (the largest RSS of ZFSTAGE).
declare -A times cpus
rotate() {
	local src=$1 bytes=$2 reps=$3 zf=$4 r k t
	local -a tools=("${@:5}")

	for t in "${tools[@]}"; do times[$t]="" cpus[$t]=""; done
	RSS_MAX_KB=0
	for ((r = 0; r < reps; r++)); do
		for ((k = 0; k < ${#tools[@]}; k++)); do
			t=${tools[$(((k + r) % ${#tools[@]}))]}
			run_pipe "$src" "st_$t"
			[ "$(field bytes)" = "$bytes" ] ||
			    die "$t passed $(field bytes) of $bytes bytes"
			times[$t]+="$T_US "
			cpus[$t]+="$CPU_MS "
			[ "$t" != "$zf" ] || [ "$RSS_KB" -le $RSS_MAX_KB ] ||
			    RSS_MAX_KB=$RSS_KB
		done
	done
}

# report PREFIX ZFSTAGE STAGE...: the times of every stage, then
# PREFIX_vs_X = t_X / t_ZFSTAGE per repetition (median) for the others
report() {
	local prefix=$1 zf=$2 t rr

	shift 2
	for t in "$zf" "$@"; do
		echo "#   $t: wall s $(list_secs "${times[$t]}") (median $(secs "$(median ${times[$t]})"));" \
		    "cpu s (user+sys of the stage) median $(fmt "$(median ${cpus[$t]}) / 1000")"
	done
	for t in "$@"; do
		rr=$(ratios "${times[$t]}" "${times[$zf]}")
		echo "${prefix}_vs_${t%_*}=$(fmt "$(median $rr)")"
		echo "#   ${prefix}_vs_${t%_*} per repetition: [$(spread $rr)]"
	done
}

# ---- 1. the relay against cat, pv and mbuffer -------------------------
relay_bytes=$((relay_mib * 1024 * 1024))
src_zeros=(zeros "$relay_bytes")
st_cat=(cat)
st_zferry=("$ZF" pipe)
st_pv=(pv -q)
st_mbuffer=(mbuffer -q)
note "bench: relay, $relay_mib MiB x 4 stages x $relay_reps"
rotate src_zeros "$relay_bytes" "$relay_reps" zferry cat zferry pv mbuffer
echo "# relay: produce zeros $relay_mib MiB (write(2), 1 MiB) | STAGE | sink (read(2), 1 MiB);" \
    "STAGE = cat, zferry pipe (defaults: splice), pv -q, mbuffer -q; $relay_reps repetitions, order rotated;" \
    "relay_vs_X = t_X / t_zferry (wall) per repetition, median (> 1: zferry faster); [min..max] of those ratios"
report relay zferry cat pv mbuffer
echo "# peak_rss_mib: the largest %M (GNU time) of zferry pipe over the relay runs above"
echo "peak_rss_mib=$(fmt "$RSS_MAX_KB / 1024" 1)"

# ---- 1b. the buffered relay (--buffer) against mbuffer's buffer -------
buf_bytes=$((buf_mib * 1024 * 1024))
src_records=(records "$buf_bytes")
st_zferry_buf=("$ZF" pipe --buffer 16M)
st_mbuffer_buf=(mbuffer -q -m 16M)
st_cat_buf=(cat)
note "bench: buffered relay, $buf_mib MiB x 3 stages x $buf_reps"
rotate src_records "$buf_bytes" "$buf_reps" zferry_buf cat_buf zferry_buf mbuffer_buf
echo "# relay_buffer: produce records $buf_mib MiB (as zfs send writes: a 312-byte header, then a 128 KiB" \
    "payload, a write(2) each) | STAGE | sink; STAGE = zferry pipe --buffer 16M (the copy path, a 16 MiB ring)," \
    "mbuffer -q -m 16M, cat; $buf_reps repetitions, order rotated; relay_buffer_vs_X = t_X / t_zferry (wall)"
report relay_buffer zferry_buf mbuffer_buf cat_buf
echo "# peak_rss_mib_buffer: the largest %M of zferry pipe --buffer 16M over the runs above"
echo "peak_rss_mib_buffer=$(fmt "$RSS_MAX_KB / 1024" 1)"

# ---- 2. compression: in-process against the command-line tools --------
codec_bytes=$((codec_mib * 1024 * 1024))
note "bench: making $codec_mib MiB of compressible and of incompressible data in $tmp"
"$PRODUCE" mix "$codec_bytes" >"$tmp/compressible"
head -c "$codec_bytes" /dev/urandom >"$tmp/incompressible"
echo "# compression: produce file DATA | STAGE | sink; DATA = $codec_mib MiB in $base:" \
    "compressible = produce mix (128 KiB records: log text, binary records, zeros, random)," \
    "incompressible = /dev/urandom; $codec_reps repetitions, A B then B A;" \
    "ALG_vs_cli_DATA = t_cli / t_zferry (wall) per repetition, median (>= 1: zferry as fast or faster);" \
    "ALG_cpu_vs_cli_DATA = the same for the stage's user+sys time; ratios = input bytes / output bytes"
st_zf_zstd=("$ZF" pipe --compress zstd:1 --threads 2)
st_cli_zstd=(zstd -q -T2 -1 -c)
st_zf_lz4=("$ZF" pipe --compress lz4:1)
st_cli_lz4=(lz4 -q -1 -c)
declare -A rss_codec=([zstd]=0 [lz4]=0)
for alg in zstd lz4; do
	for data in compressible incompressible; do
		src_data=(file "$tmp/$data")
		tz="" tc="" cz="" cc="" out_z=0 out_c=0
		note "bench: $alg, $data, $codec_reps x 2"
		for ((r = 0; r < codec_reps; r++)); do
			order=(zf cli)
			[ $((r % 2)) = 0 ] || order=(cli zf)
			for w in "${order[@]}"; do
				run_pipe src_data "st_${w}_$alg"
				if [ $w = zf ]; then
					tz+="$T_US " cz+="$CPU_MS "
					out_z=$(field bytes)
					[ "$RSS_KB" -le "${rss_codec[$alg]}" ] ||
					    rss_codec[$alg]=$RSS_KB
				else
					tc+="$T_US " cc+="$CPU_MS "
					out_c=$(field bytes)
				fi
			done
		done
		rr=$(ratios "$tc" "$tz")
		echo "#   $alg $data: wall s zferry $(list_secs "$tz"), CLI $(list_secs "$tc");" \
		    "cpu s median zferry $(fmt "$(median $cz) / 1000"), CLI $(fmt "$(median $cc) / 1000");" \
		    "per-repetition ratios [$(spread $rr)]"
		echo "${alg}_vs_cli_$data=$(fmt "$(median $rr)")"
		echo "${alg}_cpu_vs_cli_$data=$(fmt "$(median $(ratios "$cc" "$cz"))")"
		echo "${alg}_ratio_$data=$(fmt "$codec_bytes / $out_z")"
		echo "${alg}_cli_ratio_$data=$(fmt "$codec_bytes / $out_c")"
	done
done
echo "# peak_rss_mib_ALG: the largest %M (GNU time) of zferry pipe --compress ALG:1 over the runs above"
for alg in zstd lz4; do
	echo "peak_rss_mib_$alg=$(fmt "${rss_codec[$alg]} / 1024" 1)"
done

# correctness: what zferry compressed, both zferry and the CLI decompress
# to the input
echo "# ALG_roundtrip: zferry pipe --compress ALG:1 < DATA > F; both zstd -dc / lz4 -dc < F and" \
    "zferry pipe --decompress ALG < F equal DATA (cmp), for both data sets"
for alg in zstd lz4; do
	declare -n stage="st_zf_$alg"
	ok=ok
	for data in compressible incompressible; do
		"${stage[@]}" <"$tmp/$data" >"$tmp/out"
		cmp -s <("$alg" -dc <"$tmp/out") "$tmp/$data" || ok=FAIL
		cmp -s <("$ZF" pipe --decompress "$alg" <"$tmp/out") \
		    "$tmp/$data" || ok=FAIL
	done
	unset -n stage
	echo "${alg}_roundtrip=$ok"
	[ $ok = ok ] || failed=1
done
rm -f "$tmp/out" "$tmp/compressible" "$tmp/incompressible"

# ---- 3. the rate limit -------------------------------------------------
bw_bytes=$((bw_rate * bw_seconds))
src_bw=(zeros "$bw_bytes")
st_bw_zferry=("$ZF" pipe --bwlimit "$bw_rate")
st_bw_pv=(pv -q -L "$bw_rate")
st_bw_mbuffer=(mbuffer -q -r "$bw_rate")
bw_tools=(zferry pv mbuffer)
declare -A bw_err bw_worst bw_note
for t in "${bw_tools[@]}"; do bw_err[$t]="" bw_worst[$t]="" bw_note[$t]=""; done
for ((r = 0; r < bw_reps; r++)); do
	for ((k = 0; k < ${#bw_tools[@]}; k++)); do
		t=${bw_tools[$(((k + r) % ${#bw_tools[@]}))]}
		note "bench: bwlimit, $t, $bw_seconds s ($((r + 1))/$bw_reps)"
		run_pipe src_bw "st_bw_$t" -r "$bw_rate"
		[ "$(field bytes)" = "$bw_bytes" ] ||
		    die "$t passed $(field bytes) of $bw_bytes bytes"
		bw_err[$t]+="$(awk -v t="$T_US" -v n="$bw_bytes" -v r="$bw_rate" \
		    'BEGIN { e = (t / 1e6 - n / r) / (n / r) * 100; printf "%.2f", e < 0 ? -e : e }') "
		bw_worst[$t]+="$(field worst_window_pct) "
		bw_note[$t]+=" [$(secs "$T_US") s, $(field min_window_bytes)..$(field max_window_bytes) B]"
	done
done
echo "# bwlimit: produce zeros $bw_bytes | STAGE | sink -r R, R = $bw_rate B/s ($bw_seconds s);" \
    "STAGE = zferry pipe --bwlimit R, pv -q -L R, mbuffer -q -r R; $bw_reps repetitions, order rotated, median;" \
    "error_pct = |wall - N/R| / (N/R) x 100; worst_window_pct = max over the sliding 1 s windows" \
    "(10 slots of 100 ms from the first byte, the last partial slot left out) of |bytes - R| / R x 100"
for t in "${bw_tools[@]}"; do
	echo "#   $t: error_pct ${bw_err[$t]% }, worst_window_pct ${bw_worst[$t]% }; [wall, min..max window]${bw_note[$t]}"
	p=bwlimit
	[ $t = zferry ] || p=bwlimit_$t
	echo "${p}_error_pct=$(fmt "$(median ${bw_err[$t]})" 2)"
	echo "${p}_worst_window_pct=$(fmt "$(median ${bw_worst[$t]})" 2)"
done
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

exit $failed
