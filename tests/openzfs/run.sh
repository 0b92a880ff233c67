#!/usr/bin/env bash
# tests/openzfs/run.sh: the OpenZFS test tier (make check-openzfs).
#
#   tests/openzfs/run.sh build/zferry
#
# Builds or restores the guest image (vm/build-image.sh), boots it
# (vm/boot.sh), copies the zferry binary and cases/ into it, runs every case
# and stops the guest on every exit path.  The binary is the host's build:
# host and guest are both Debian 12, same glibc.
#
# Cases are files in cases/, run in name order:
#   NN-name.sh        runs inside the guest, as root, with ZFERRY set
#   NN-name.host.sh   runs on the host against the guest (host-lib.sh)
# Adding a case is adding a file.  Exit status of a case: 0 ok, 77 skip
# (reason: its last "SKIP: ..." line), anything else fails.  One line per
# case is printed; logs are kept in $OZ_WORK/results/.  Exits 1 if any case
# failed, 2 on bad usage, other non-zero if the guest could not be set up.
#
# Knobs: ZFS_SUITE (bookworm-backports: OpenZFS 2.3, bookworm: 2.1.11),
#   ZFERRY_OZ_CASES="00-guest 20-*" (run only these; shell patterns),
#   ZFERRY_OZ_CASE_TIMEOUT=600 (s per case), and those of vm/common.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/vm/common.sh
. "$here/vm/common.sh"

[ $# -eq 1 ] || {
	echo "usage: $0 ZFERRY_BINARY" >&2
	exit 2
}
if [ ! -f "$1" ] || [ ! -x "$1" ]; then
	echo "run.sh: '$1' is not an executable file (run make first)" >&2
	exit 2
fi
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
case_timeout=${ZFERRY_OZ_CASE_TIMEOUT:-600}
results=$OZ_WORK/results
t_start=$SECONDS

oz_build_image
t_image=$((SECONDS - t_start))

oz_stop_on_exit

t0=$SECONDS
"$here/vm/boot.sh"
t_boot=$((SECONDS - t0))
port=$(cat "$OZ_RUN/port")

# the payload: /opt/zferry/bin/zferry and /opt/zferry/cases/ in the guest
t0=$SECONDS
rm -rf "$OZ_RUN/payload"
mkdir -p "$OZ_RUN/payload/bin"
cp "$binary" "$OZ_RUN/payload/bin/zferry"
cp -r "$here/cases" "$OZ_RUN/payload/cases"
tar -C "$OZ_RUN/payload" -cf - bin cases |
    oz_ssh 'rm -rf /opt/zferry/bin /opt/zferry/cases && tar -C /opt/zferry -mxf -'
zfs_version=$(oz_ssh 'zfs version' | sed -n 's/^zfs-\([0-9][0-9.]*\).*/\1/p')
expect_zfs=$(sed -n 's/^zfsutils=\([0-9]*\.[0-9]*\).*/\1/p' "$OZ_IMAGE/manifest")
oz_log "payload copied in $((SECONDS - t0))s; zferry sha256" \
    "$(sha256sum "$OZ_RUN/payload/bin/zferry" | cut -c1-16); guest runs OpenZFS $zfs_version"
# every case, host ones too, tests this copy, even if BINARY is rebuilt
# while the tier runs
binary=$OZ_RUN/payload/bin/zferry

rm -rf "$results"
mkdir -p "$results"

selected() {
	local pat
	[ -n "${ZFERRY_OZ_CASES:-}" ] || return 0
	for pat in $ZFERRY_OZ_CASES; do
		# shellcheck disable=SC2254 # the knob holds patterns
		case $1 in $pat | $pat.sh | $pat.host.sh) return 0 ;; esac
	done
	return 1
}

# run_case FILE: runs one case, prints its result line, sets $verdict
run_case() {
	local file=$1 name rc=0 t0=$SECONDS log reason
	name=$(basename "$file")
	log=$results/${name%.sh}.log
	case $name in
	*.host.sh)
		ZFERRY=$binary OZ_RUN=$OZ_RUN OZ_HOST=$OZ_HOST OZ_PORT=$port \
		    OZ_IMAGE=$OZ_IMAGE \
		    timeout -k 10 "$case_timeout" bash "$file" >"$log" 2>&1 &
		;;
	*)
		# the timeout runs in the guest; the host one is a backstop
		timeout -k 10 $((case_timeout + 60)) ssh -F "$OZ_RUN/ssh_config" \
		    "$OZ_HOST" "cd /opt/zferry/cases &&
		    ZFERRY=/opt/zferry/bin/zferry ZFERRY_OZ_EXPECT_ZFS=$expect_zfs \
		    timeout -k 10 $case_timeout bash ./$name" \
		    >"$log" 2>&1 </dev/null &
		;;
	esac
	# in the background: a TERM or INT to this script runs its trap (and
	# stops the guest) at once, not after the case
	OZ_CASE_PID=$!
	wait "$OZ_CASE_PID" || rc=$?
	OZ_CASE_PID=
	case $rc in
	0)
		verdict=ok
		printf 'ok    %-28s %4ds\n' "${name%.sh}" $((SECONDS - t0))
		;;
	77)
		verdict=skip
		reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
		printf 'skip  %-28s %4ds  %s\n' "${name%.sh}" $((SECONDS - t0)) \
		    "${reason:-no reason given}"
		;;
	*)
		verdict=fail
		reason=$(grep -m 1 '^FAIL: ' "$log" || true)
		[ "$rc" -ne 124 ] || reason="timed out after ${case_timeout}s"
		printf 'FAIL  %-28s %4ds  exit %s: %s\n' "${name%.sh}" \
		    $((SECONDS - t0)) "$rc" "${reason:-see log}"
		printf '      log: %s; last lines:\n' "$log"
		tail -n 15 "$log" | sed 's/^/      | /'
		;;
	esac
}

n_ok=0
n_fail=0
n_skip=0
t0=$SECONDS
for file in "$here"/cases/[0-9]*.sh; do
	name=$(basename "$file")
	selected "${name%.sh}" || continue
	run_case "$file"
	case $verdict in
	ok) n_ok=$((n_ok + 1)) ;;
	skip) n_skip=$((n_skip + 1)) ;;
	*) n_fail=$((n_fail + 1)) ;;
	esac
done
t_cases=$((SECONDS - t0))

printf 'openzfs %s (%s): %d ok, %d failed, %d skipped; image %ds, boot %ds, cases %ds, total %ds\n' \
    "$zfs_version" "$ZFS_SUITE" "$n_ok" "$n_fail" "$n_skip" \
    "$t_image" "$t_boot" "$t_cases" $((SECONDS - t_start))
[ "$n_fail" -eq 0 ]
