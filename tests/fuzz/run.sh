#!/bin/sh
# run.sh: runs every fuzz target for a fixed time on its committed corpus.
#
#   tests/fuzz/run.sh [BUILD_DIR [SECONDS [TARGET...]]]
#
# BUILD_DIR (default build/fuzz) holds the fuzz_* binaries ("make fuzz");
# SECONDS (default 15) is the time per target, which also gets its
# dictionary (tests/fuzz/dict/TARGET.dict) when it has one.  New inputs go
# to a scratch corpus, never into tests/fuzz/corpus.  Exits non-zero when any
# target finds a crash, a leak, a timeout or a sanitizer report (libFuzzer
# then leaves the input in BUILD_DIR/artifacts/); prints executions per
# second for each target.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/fuzz}
secs=${2:-15}
[ $# -gt 2 ] && shift 2 || set --
[ -d "$build" ] || { echo "run.sh: no $build (run: make fuzz)" >&2; exit 2; }
build=$(cd "$build" && pwd)
art=$build/artifacts
mkdir -p "$art"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/zferry-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

if [ $# -eq 0 ]; then
	for f in "$build"/fuzz_*; do
		[ -x "$f" ] && set -- "$@" "$(basename "$f")"
	done
fi
[ $# -gt 0 ] || { echo "run.sh: no fuzz targets in $build" >&2; exit 2; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=""
printf '%-20s %8s %10s %8s  %s\n' target runs exec/s corpus result
for t in "$@"; do
	seeds=$here/corpus/$t
	work=$scratch/$t
	mkdir -p "$work" "$seeds"
	log=$scratch/$t.log
	dict=$here/dict/$t.dict
	[ -f "$dict" ] || dict=""
	rc=0
	"$build/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/$t-" \
	    ${dict:+"-dict=$dict"} "$work" "$seeds" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	n=$(ls "$work" | wc -l)
	if [ $rc -eq 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc)"
		failed="$failed $t"
		cp "$log" "$art/$t.log"
	fi
	printf '%-20s %8s %10s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" \
	    "$n" "$result"
done
if [ -n "$failed" ]; then
	echo "run.sh: failed:$failed (logs and inputs in $art)" >&2
	for t in $failed; do
		grep -E 'ERROR|check failed|SUMMARY|Test unit written' \
		    "$art/$t.log" | head -5 >&2
	done
	exit 1
fi
