#!/bin/sh
# bench/plan.sh: builds bench/plan-bench.c against the library and runs it:
# parsing two "zfs list -Hp" listings of 10,000 datasets x 100 snapshots
# and planning the sync between them.
#
#   bench/plan.sh [BUILD]        (BUILD: a cmake build directory, default build)
#
# Prints the '#' and name=value lines of plan-bench on stdout:
#   plan_10k_seconds=S        (goal: < 1)
#   plan_10k_peak_rss_mib=M   (goal: < 256)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
lib=$build/libzferry.a
if [ ! -f "$build/CMakeCache.txt" ]; then
	echo "plan.sh: no cmake build in '$build' (run make first)" >&2
	exit 2
fi
cmake --build "$build" --target zferry_lib >/dev/null
bin=$build/plan-bench
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -I"$root/src/lib" -I"$root/include" \
	-o "$bin" "$root/bench/plan-bench.c" "$lib" -lzstd -llz4 -lz -lpthread
"$bin"
