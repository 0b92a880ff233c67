# tests/openzfs/cases/host-lib.sh: helpers for the cases that run on the
# host (NN-name.host.sh) and drive the guest over the forwarded ssh port.
# Sourced first thing:
#
#   . "$(dirname "$0")/host-lib.sh"
#
# Environment, set by run.sh: ZFERRY (the host binary), OZ_RUN (run dir of
# boot.sh, with ssh_config and known_hosts), OZ_HOST (ssh alias), OZ_PORT
# (forwarded port), OZ_IMAGE (has the client key).
#
# The host has no OpenZFS (only zfs-fuse, pool version 23), so the zfs side
# of every transfer is in the guest.  Pools are made there, under a scratch
# dir of the guest, and destroyed by the EXIT trap.  Exit status as for the
# guest cases: 0 ok, 77 skip, other: failed.
#
# shellcheck shell=bash disable=SC2034
set -euo pipefail

: "${ZFERRY:?}" "${OZ_RUN:?}" "${OZ_HOST:?}" "${OZ_PORT:?}" "${OZ_IMAGE:?}"
HT_CASE=$(basename "$0" .sh)
HT_DIR=$(mktemp -d /tmp/zferry-hostcase.XXXXXX)
HT_TAG=h$$
# scratch dir in the guest for the pools' backing files
HT_GDIR=/var/tmp/zferry-hostcase-$$
HT_POOLS=()
HT_OUT=$HT_DIR/stdout
HT_ERR=$HT_DIR/stderr
HT_RC=0
export LC_ALL=C

ht_log() {
	printf '# %s\n' "$*" >&2
}

ht_fail() {
	printf 'FAIL: %s: %s\n' "$HT_CASE" "$*" >&2
	exit 1
}

# ht_quote ARG: ARG as one word for a POSIX shell (single quotes)
ht_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# guest ARGS...: runs the command ARGS in the guest as root, every argument
# quoted, over the shared ssh connection
guest() {
	local cmd="" a
	for a in "$@"; do
		cmd="$cmd $(ht_quote "$a")"
	done
	ssh -F "$OZ_RUN/ssh_config" "$OZ_HOST" "$cmd"
}

ht_cleanup() {
	local rc=$? p
	set +e
	for p in "${HT_POOLS[@]}"; do
		guest zpool destroy -f "$p"
	done
	guest rm -rf "$HT_GDIR"
	rm -rf "$HT_DIR"
	exit "$rc"
}
trap ht_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ht_pool NAME: creates pool $HT_TAG$NAME in the guest, sets $HT_POOL
ht_pool() {
	local name=$HT_TAG$1
	guest mkdir -p "$HT_GDIR"
	guest truncate -s 512M "$HT_GDIR/$name.img"
	guest zpool create -f -o ashift=12 -O compression=off \
	    -m "$HT_GDIR/mnt/$name" "$name" "$HT_GDIR/$name.img"
	HT_POOLS+=("$name")
	HT_POOL=$name
}

ht_guid() {
	guest zfs get -Hp -o value guid "$1"
}

ht_prop() {
	guest zfs get -H -o value "$2" "$1"
}

ht_eq() {
	[ "$2" = "$3" ] || ht_fail "$1: got '$2', want '$3'"
}

# ht_run CMD...: like zt_run: $HT_OUT, $HT_ERR, $HT_RC; never aborts
ht_run() {
	ht_log "run: $(printf '%q ' "$@")"
	HT_RC=0
	"$@" >"$HT_OUT" 2>"$HT_ERR" </dev/null || HT_RC=$?
	sed 's/^/#   out: /' "$HT_OUT" >&2
	sed 's/^/#   err: /' "$HT_ERR" >&2
	ht_log "exit $HT_RC"
}

# the ssh options that make the host's zferry reach the guest's sshd
HT_SSH_OPTS=(--ssh-port "$OZ_PORT" --ssh-key "$OZ_IMAGE/client_ed25519"
	--known-hosts "$OZ_RUN/known_hosts")

# A zfs for the host that is the guest's zfs: ZFERRY_ZFS points here.
# (A wrapper with the paths built in: zferry may clean its children's
# environment.)
printf '#!/bin/sh\nexec %s %s %s "$@"\n' \
    "$(ht_quote "$(cd "$(dirname "$0")" && pwd)/zfs-in-guest.sh")" \
    "$(ht_quote "$OZ_RUN/ssh_config")" "$(ht_quote "$OZ_HOST")" \
    >"$HT_DIR/zfs"
chmod 755 "$HT_DIR/zfs"
HT_ZFS=$HT_DIR/zfs
