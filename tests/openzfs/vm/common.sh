# tests/openzfs/vm/common.sh: settings and helpers shared by build-image.sh,
# boot.sh, stop.sh and ../run.sh.  Sourced by bash, never run.
#
# Knobs (environment):
#   ZFS_SUITE        bookworm-backports (OpenZFS 2.3, default) or bookworm (2.1.11)
#   ZFERRY_OZ_WORK   work dir: rootfs, logs, image, run state
#                    (default /tmp/zferry-ozvm-$ZFS_SUITE; keep it out of git)
#   ZFERRY_OZ_CACHE  finished images are kept here, keyed by recipe and suite
#                    (default ~/.cache/zferry-openzfs; empty: no cache)
#   ZFERRY_OZ_PORT   host port forwarded to the guest's sshd (default: the
#                    first free one from 2230)
#
# shellcheck shell=bash disable=SC2034
#
# Nothing here starts or changes anything; it only defines names.

# Bump when anything that ends up in the image changes: it is part of the
# cache key, so a stale cached image is never used for a new recipe.
OZ_RECIPE=4

ZFS_SUITE=${ZFS_SUITE:-bookworm-backports}
case $ZFS_SUITE in
bookworm | bookworm-backports) ;;
*)
	echo "openzfs: ZFS_SUITE must be bookworm or bookworm-backports, not '$ZFS_SUITE'" >&2
	exit 2
	;;
esac

OZ_WORK=${ZFERRY_OZ_WORK:-/tmp/zferry-ozvm-$ZFS_SUITE}
OZ_CACHE=${ZFERRY_OZ_CACHE-${HOME:-/root}/.cache/zferry-openzfs}
OZ_KEY=r$OZ_RECIPE-$ZFS_SUITE
OZ_IMAGE=$OZ_WORK/image
OZ_RUN=$OZ_WORK/run
OZ_PIDFILE=$OZ_RUN/qemu.pid
# the ssh alias of the guest in $OZ_RUN/ssh_config
OZ_HOST=zferry-guest

oz_log() {
	printf '[%s %s] %s\n' "${0##*/}" "$(date +%H:%M:%S)" "$*" >&2
}

oz_die() {
	oz_log "error: $*"
	exit 1
}

# oz_qemu_pid: prints the pid of the qemu that boot.sh started for this work
# dir, or fails.  A pid alone is not enough (pids are reused): the process
# must be a qemu whose command line names our pidfile.
oz_qemu_pid() {
	local pid
	[ -s "$OZ_PIDFILE" ] || return 1
	pid=$(cat "$OZ_PIDFILE")
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	[ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$OZ_PIDFILE" || return 1
	tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1 | grep -q 'qemu-system' || return 1
	echo "$pid"
}

# oz_port_busy PORT: true when something listens on 127.0.0.1:PORT.
oz_port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# oz_ssh ARGS...: ssh to the guest as root through the run dir's config.
oz_ssh() {
	ssh -F "$OZ_RUN/ssh_config" "$OZ_HOST" "$@"
}

# oz_build_image: runs build-image.sh as root (through sudo if needed)
oz_build_image() {
	local script
	script=$(dirname "${BASH_SOURCE[0]}")/build-image.sh
	if [ "$(id -u)" -eq 0 ]; then
		"$script"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -E "$script"
	else
		oz_die "building the image needs root"
	fi
}

# oz_stop_on_exit: from here on, the script's exit (also on INT or TERM)
# stops the guest this work dir booted (vm/stop.sh stops only that one),
# after the case running in the background if OZ_CASE_PID names one.  The
# exit status is kept: 130 after INT, 143 after TERM.
OZ_CASE_PID=
OZ_VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
oz_finish() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$OZ_CASE_PID" ] || kill -TERM "$OZ_CASE_PID" 2>/dev/null || true
	"$OZ_VM_DIR/stop.sh" || true
	exit "$rc"
}
oz_stop_on_exit() {
	trap oz_finish EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
