# tests/integration/lib.sh: helpers for the integration tests on real
# zfs-fuse pools and a real sshd on 127.0.0.1.  Sourced first by every
# t_*.sh:
#
#   . "$(dirname "$0")/lib.sh"
#
# The zfs-fuse daemon is started by fixture.sh (ctest fixture); a test run
# by hand starts it itself when none runs and stops it at exit.  Every pool,
# sshd and temporary file a test makes is removed by the EXIT trap.
# Exit status: 0 pass, 77 skip (with the reason), anything else fails.
#
# shellcheck shell=bash
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
ZFERRY=${ZFERRY:-$top/build/zferry}
T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "/tmp/zferry-$T_NAME.XXXXXX")
T_TAG=zftest$$x
T_POOLS=()
T_AT_EXIT=()
T_STARTED_ZFS=no
export LC_ALL=C

t_log() { printf '# %s\n' "$*" >&2; }
t_fail() {
	printf 'FAIL: %s: %s\n' "$T_NAME" "$*" >&2
	exit 1
}
t_skip() {
	printf 'SKIP: %s: %s\n' "$T_NAME" "$*"
	exit 77
}
t_ok() { printf 'ok - %s\n' "$*"; }

# t_at_exit CMD: runs CMD (a shell string) at exit, last in first out
t_at_exit() { T_AT_EXIT+=("$*"); }

t_cleanup() {
	local rc=$? i p
	set +e
	for ((i = ${#T_AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${T_AT_EXIT[i]}"
	done
	for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	for p in "${T_POOLS[@]}"; do
		env_pool_destroy "$p" ||
		    printf 'warning: pool %s left behind\n' "$p" >&2
	done
	[ "$T_STARTED_ZFS" = no ] || env_zfs_stop "$T_DIR/zfs-fuse.pid"
	rm -rf "$T_DIR"
	exit "$rc"
}
trap t_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

[ "$(id -u)" -eq 0 ] || t_skip "needs root (zfs-fuse pools, sshd)"
[ -x "$ZFERRY" ] || t_fail "no zferry binary at $ZFERRY (run make)"
command -v zfs-fuse >/dev/null || t_fail "zfs-fuse is not installed (scripts/install-deps)"

. "$top/scripts/lib/env.sh"
t_wait() { env_wait "$@"; }

if ! env_zfs_running; then
	env_zfs_start "$T_DIR/zfs-fuse.pid" || t_fail "cannot start zfs-fuse"
	T_STARTED_ZFS=yes
fi

# t_pool NAME [SIZE]: makes pool $T_TAG$NAME on a sparse file (default
# 160M) and sets $POOL to its name (mounted at /$POOL)
t_pool() {
	POOL=$T_TAG$1
	env_pool "$POOL" "$T_DIR/$1.img" "${2:-160M}" || t_fail "cannot create pool $POOL"
	T_POOLS+=("$POOL")
}

# t_fill DIR MIB: writes MIB MiB of random data (and a small text file)
t_fill() {
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1/data.bin"
	date +%s%N >"$1/stamp.txt"
}

# t_same_tree A B: the two directories hold the same files and bytes
t_same_tree() {
	diff -r "$1" "$2" >/dev/null || t_fail "trees differ: '$1' '$2'"
}

# t_guid NAME: the guid of a snapshot or dataset
t_guid() { zfs get -Hp -o value guid "$1"; }

# t_snaps DATASET: names of its snapshots, one per line
t_snaps() {
	zfs list -H -o name -t snapshot -r "$1" | grep -F "$1@" || true
}

# t_json_field EVENT FIELD: FIELD of the last EVENT line in $OUT (numbers,
# true/false/null, or a string's raw text)
t_json_field() {
	grep "\"event\":\"$1\"" "$OUT" | tail -n 1 |
	    sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}

# t_stream_size SNAP [BASE]: bytes of the zfs send stream
t_stream_size() {
	if [ $# -gt 1 ]; then
		zfs send -i "$2" "$1" | wc -c
	else
		zfs send "$1" | wc -c
	fi
}

# t_no_proc PATTERN: no process's command line matches PATTERN (pgrep -f)
t_no_proc() {
	local end=$((SECONDS + 10))

	# a loop here, not "sh -c pgrep": that shell would match itself
	while pgrep -f -- "$1" >/dev/null; do
		[ $SECONDS -lt $end ] || t_fail "a process still runs: $(pgrep -af -- "$1")"
		sleep 0.05
	done
}

# t_run ARGS...: runs zferry; sets RC, OUT (stdout file), ERR (stderr file)
OUT=$T_DIR/out
ERR=$T_DIR/err
RC=0
t_run() {
	RC=0
	"$ZFERRY" "$@" >"$OUT" 2>"$ERR" || RC=$?
}

# t_expect_rc N WHAT: fails with zferry's stderr unless RC is N
t_expect_rc() {
	[ "$RC" -eq "$1" ] || t_fail "$2: exit $RC, expected $1; stderr: $(cat "$ERR")"
}

# t_expect_err TEXT WHAT: stderr of the last t_run contains TEXT
t_expect_err() {
	grep -qF -- "$1" "$ERR" || t_fail "$2: stderr lacks '$1': $(cat "$ERR")"
}

# --- sshd ----------------------------------------------------------------

# t_sshd: starts an sshd on 127.0.0.1 (scripts/lib/env.sh) and sets
# SSH_OPTS, the zferry options that reach it
t_sshd() {
	env_sshd "$T_DIR/sshd" || t_fail "sshd did not come up: $(cat "$T_DIR/sshd/sshd.log")"
	t_at_exit env_sshd_stop
	SSH_OPTS=(--ssh-port "$SSH_PORT" --ssh-key "$SSH_KEY" --known-hosts "$SSH_KNOWN")
}

t_sshd_stop() { env_sshd_stop; }
