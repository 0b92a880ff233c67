# tests/openzfs/cases/lib.sh: helpers for the OpenZFS cases.  Sourced by
# every case, first thing:
#
#   . "$(dirname "$0")/lib.sh"
#
# A case runs as root inside the guest (see ../run.sh), makes its own pools
# on sparse files, and leaves nothing behind: pools, files and background
# jobs are removed by the EXIT trap set here.  Exit status: 0 ok, 77 skip
# (the reason is the last "SKIP: ..." line on stdout), anything else fails.
#
# Environment (set by run.sh, with defaults for running a case by hand):
#   ZFERRY   the zferry binary under test (default /opt/zferry/bin/zferry)
#
# shellcheck shell=bash
set -euo pipefail

ZFERRY=${ZFERRY:-/opt/zferry/bin/zferry}
ZT_CASE=$(basename "$0" .sh)
# scratch dir of this run: backing files, mountpoints, captured output
ZT_DIR=$(mktemp -d /var/tmp/zferry-case.XXXXXX)
# pool names are unique per run: z<pid><name>
ZT_TAG=z$$
ZT_POOLS=()
ZT_AT_EXIT=()
# output of the last zt_run: $ZT_OUT, $ZT_ERR files and $ZT_RC
ZT_OUT=$ZT_DIR/stdout
ZT_ERR=$ZT_DIR/stderr
ZT_RC=0
export LC_ALL=C

# zt_log TEXT: a comment line in the case's log, with the seconds since
# the case started
zt_log() {
	printf '# %3ds %s\n' "$SECONDS" "$*" >&2
}

zt_fail() {
	printf 'FAIL: %s: %s\n' "$ZT_CASE" "$*" >&2
	exit 1
}

zt_skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# zt_at_exit CMD...: runs CMD (as one shell string) at exit, last in first out
zt_at_exit() {
	ZT_AT_EXIT+=("$*")
}

zt_cleanup() {
	local rc=$? i p j
	set +e
	for ((i = ${#ZT_AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${ZT_AT_EXIT[i]}"
	done
	# background jobs of the case (a transfer being interrupted, say)
	for j in $(jobs -p); do
		kill -TERM "$j" 2>/dev/null
	done
	wait 2>/dev/null
	for p in "${ZT_POOLS[@]}"; do
		zpool list -H -o name "$p" >/dev/null 2>&1 || continue
		# a receive into the pool that outlived its sender
		for i in $(seq 1 25); do
			j=$(zt_recv_pid "$p") || break
			kill -TERM "$j" 2>/dev/null
			sleep 0.2
		done
		# a receive that was just killed may hold the pool for a moment
		for i in 1 2 3 4 5 6 7 8 9 10; do
			zpool destroy -f "$p" 2>/dev/null && break
			sleep 0.5
		done
		if zpool list -H -o name "$p" >/dev/null 2>&1; then
			printf 'FAIL: %s: pool %s cannot be destroyed: %s\n' \
			    "$ZT_CASE" "$p" "$(pgrep -a -x 'zfs|ssh' | tr '\n' ' ')" >&2
			[ "$rc" -ne 0 ] || rc=1
		fi
	done
	rm -rf "$ZT_DIR"
	exit "$rc"
}
trap zt_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# zt_pool NAME [SIZE]: creates pool $ZT_TAG$NAME on a sparse file, mounted
# under $ZT_DIR/mnt, registers it for destruction and sets $ZT_POOL to its
# name (not printed: in a $(...) subshell the registration would be lost)
zt_pool() {
	local name=$ZT_TAG$1 size=${2:-512M}
	truncate -s "$size" "$ZT_DIR/$name.img"
	zpool create -f -o ashift=12 -O compression=off \
	    -m "$ZT_DIR/mnt/$name" "$name" "$ZT_DIR/$name.img"
	ZT_POOLS+=("$name")
	# shellcheck disable=SC2034 # read by the cases
	ZT_POOL=$name
}

# zt_fill DIR MIB [FILE]: writes MIB MiB of random data into DIR/FILE
zt_fill() {
	dd if=/dev/urandom of="$1/${3:-data.bin}" bs=1M count="$2" \
	    status=none
}

# zt_mnt DATASET: the mountpoint of a mounted DATASET
zt_mnt() {
	local m
	m=$(zfs get -H -o value mountpoint "$1")
	[ "$(zfs get -H -o value mounted "$1")" = yes ] ||
	    zt_fail "'$1' is not mounted"
	printf '%s\n' "$m"
}

# zt_prop DATASET PROP: the value of PROP, exactly as zfs prints it
zt_prop() {
	zfs get -H -o value "$2" "$1"
}

# zt_source DATASET PROP: where PROP comes from (local, received, ...)
zt_source() {
	zfs get -H -o source "$2" "$1"
}

zt_guid() {
	zfs get -Hp -o value guid "$1"
}

zt_exists() {
	zfs list -H -o name "$1" >/dev/null 2>&1
}

# zt_tree_sum DIR: one checksum over every file's name and content
zt_tree_sum() {
	(cd "$1" && find . -type f -print0 | sort -z |
	    xargs -0 --no-run-if-empty sha256sum) | sha256sum | cut -d' ' -f1
}

# zt_snapshots DATASET: the short snapshot names of DATASET, oldest first
zt_snapshots() {
	zfs list -H -d 1 -t snapshot -s createtxg -o name "$1" |
	    sed 's/^.*@//' | tr '\n' ' ' | sed 's/ $//'
}

# zt_run CMD...: runs CMD, keeps stdout/stderr in $ZT_OUT/$ZT_ERR and the
# status in $ZT_RC; never aborts the case.  The output is copied to the log.
zt_run() {
	zt_log "run: $(printf '%q ' "$@")"
	ZT_RC=0
	"$@" >"$ZT_OUT" 2>"$ZT_ERR" </dev/null || ZT_RC=$?
	sed 's/^/#   out: /' "$ZT_OUT" >&2
	sed 's/^/#   err: /' "$ZT_ERR" >&2
	zt_log "exit $ZT_RC"
}

# zt_zferry WANT ARGS...: runs zferry ARGS and fails unless it exits WANT
zt_zferry() {
	local want=$1
	shift
	zt_run "$ZFERRY" "$@"
	[ "$ZT_RC" -eq "$want" ] ||
	    zt_fail "zferry $* exited $ZT_RC, want $want: $(head -c 600 "$ZT_ERR")"
}

zt_eq() {
	[ "$2" = "$3" ] || zt_fail "$1: got '$2', want '$3'"
}

zt_ne() {
	[ "$2" != "$3" ] || zt_fail "$1: got '$2', must differ"
}

# zt_contains WHAT FILE TEXT: FILE must contain TEXT (fixed string)
zt_contains() {
	grep -qF -- "$3" "$2" ||
	    zt_fail "$1: '$3' not in: $(head -c 600 "$2")"
}

zt_not_contains() {
	! grep -qF -- "$3" "$2" ||
	    zt_fail "$1: '$3' must not be in: $(head -c 600 "$2")"
}

# zt_same_snapshot A B: B is a received copy of snapshot A (same guid,
# same files)
zt_same_snapshot() {
	local a=$1 b=$2
	zt_exists "$b" || zt_fail "'$b' does not exist"
	zt_eq "guid of '$b'" "$(zt_guid "$b")" "$(zt_guid "$a")"
	zt_eq "content of '$b'" "$(zt_tree_sum "$(zt_snapdir "$b")")" \
	    "$(zt_tree_sum "$(zt_snapdir "$a")")"
}

# zt_snapdir FS@SNAP: the .zfs/snapshot directory of a snapshot (the
# filesystem must be mounted)
zt_snapdir() {
	printf '%s/.zfs/snapshot/%s\n' "$(zt_mnt "${1%@*}")" "${1#*@}"
}

# zt_wait WHAT SECONDS CMD...: polls CMD every 0.2 s until it succeeds
zt_wait() {
	local what=$1 limit=$2 end
	shift 2
	end=$((SECONDS + limit))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] ||
		    zt_fail "timed out after ${limit}s waiting for $what"
		sleep 0.2
	done
}

# zt_has_feature POOL FEATURE: the pool feature is enabled or active
zt_has_feature() {
	case $(zpool get -H -o value "feature@$2" "$1" 2>/dev/null) in
	enabled | active) return 0 ;;
	*) return 1 ;;
	esac
}

# zt_no_leftovers: after zferry returned, no zfs or ssh it started may
# still run (an orphaned "zfs receive" holds its dataset busy)
zt_no_leftovers() {
	zt_wait "zfs and ssh processes to exit" 10 zt_none_running
}

zt_none_running() {
	local left
	left=$(pgrep -a -x 'zfs|ssh' || true)
	[ -z "$left" ] && return 0
	printf '# still running: %s\n' "$left" >&2
	return 1
}

# zt_recv_pid POOL: the pid of a running "zfs receive" into POOL
zt_recv_pid() {
	local pid args
	for pid in $(pgrep -x zfs); do
		args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		case $args in
		*" recv "*"$1/"* | *" receive "*"$1/"*)
			echo "$pid"
			return 0
			;;
		esac
	done
	return 1
}

# zt_recv_bytes POOL: bytes a running "zfs receive" into POOL has read (0
# when none runs); unlike pool space this moves before a txg sync
zt_recv_bytes() {
	local pid
	pid=$(zt_recv_pid "$1") || {
		echo 0
		return 0
	}
	awk '$1 == "rchar:" { print $2; found = 1 } END { if (!found) print 0 }' \
	    "/proc/$pid/io" 2>/dev/null || echo 0
}

[ -x "$ZFERRY" ] || zt_fail "no zferry binary at $ZFERRY"
