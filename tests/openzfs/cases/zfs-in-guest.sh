#!/bin/sh
# zfs-in-guest.sh SSH_CONFIG HOST ARGS...: runs "zfs ARGS..." in the guest
# with exactly these arguments.  Each one is single-quoted for the guest's
# shell, so spaces, quotes, ; and $(...) arrive as data.  stdin, stdout and
# the exit status pass through ssh.  host-lib.sh makes a wrapper that fixes
# the first two arguments, for ZFERRY_ZFS.
set -eu
config=$1
host=$2
shift 2
cmd=zfs
for arg in "$@"; do
	# the x keeps trailing newlines out of reach of $(...)
	q=$(printf '%sx' "$arg" | sed "s/'/'\\\\''/g")
	cmd="$cmd '${q%x}'"
done
exec ssh -F "$config" "$host" "$cmd"
