#!/usr/bin/env bash
# tools/make-tokens-guest.sh PREFIX: runs in the guest (see ../make-tokens.sh).
# Makes real receive_resume_tokens by cutting zfs send streams short
# (head -c) into zfs receive -s, one per kind of send, and writes to stdout
# a tar of, for each token NAME = PREFIX-KIND:
#   NAME.token   the token, one line
#   NAME.expect  `zstream token TOKEN`, verbatim
#   NAME.meta    key=value: zfs version, the command, toname, and toguid,
#                fromguid as `zfs get -Hp guid` prints them (decimal; 0
#                for a full send); bytes and the largeblockok, embedok,
#                compressok, rawok flags (yes/no) as zstream decodes them
# The pool is called tank so that the names inside the tokens read well.
set -euo pipefail

prefix=$1
work=$(mktemp -d /var/tmp/zferry-tokens.XXXXXX)
out=$work/out
pool=tank
cut=$((4 * 1024 * 1024))
mkdir -p "$out"

cleanup() {
	zpool destroy -f "$pool" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
if zpool list -H -o name "$pool" >/dev/null 2>&1; then
	echo "make-tokens-guest: pool $pool exists already" >&2
	exit 1
fi
truncate -s 1G "$work/$pool.img"
zpool create -f -o ashift=12 -O compression=off -m "$work/mnt" \
    "$pool" "$work/$pool.img"
zfs create "$pool/src"
zfs create "$pool/dst"
version=$(zfs version | head -n 1)

fill() {
	dd if=/dev/urandom of="$(zfs get -H -o value mountpoint "$1")/$2" \
	    bs=1M count="$3" status=none
}

# token KIND SNAPSHOT FROM_SNAPSHOT TARGET SEND_ARGS...: runs
# zfs send SEND_ARGS | head -c $cut | zfs receive -s TARGET and saves the
# token left on TARGET
token() {
	local kind=$1 snap=$2 from=$3 target=$4 name tok rc=0
	shift 4
	name=$prefix-$kind
	# the receive fails (the stream is cut); that is the point
	zfs send "$@" | head -c "$cut" | zfs receive -s "$target" \
	    2>"$work/recv.err" || rc=$?
	[ "$rc" -ne 0 ] || {
		echo "make-tokens-guest: $kind: the receive did not fail" >&2
		exit 1
	}
	tok=$(zfs get -H -o value receive_resume_token "$target")
	[ "$tok" != - ] || {
		echo "make-tokens-guest: $kind: no token; $(cat "$work/recv.err")" >&2
		exit 1
	}
	printf '%s\n' "$tok" >"$out/$name.token"
	zstream token "$tok" >"$out/$name.expect"
	{
		echo "# source: real OpenZFS in the zferry test guest" \
		    "(tests/openzfs/make-tokens.sh), $(date -u +%Y-%m-%d)"
		echo "# toname, toguid, fromguid: from zfs get -Hp guid;" \
		    "bytes and the *ok flags: from zstream token"
		echo "zfs_version=$version"
		echo "command=zfs send $(printf '%q ' "$@")| head -c $cut |" \
		    "zfs receive -s $(printf '%q' "$target")"
		echo "toname=$snap"
		echo "toguid=$(zfs get -Hp -o value guid "$snap")"
		if [ -n "$from" ]; then
			echo "fromguid=$(zfs get -Hp -o value guid "$from")"
		else
			echo "fromguid=0"
		fi
		echo "bytes=$(sed -n 's/^ *bytes: //p' "$out/$name.expect")"
		for flag in largeblockok embedok compressok rawok; do
			if grep -qx " *$flag" "$out/$name.expect"; then
				echo "$flag=yes"
			else
				echo "$flag=no"
			fi
		done
	} >"$out/$name.meta"
	echo "make-tokens-guest: $name: ${#tok} characters" >&2
}

# full send
zfs create "$pool/src/full"
fill "$pool/src/full" data 16
zfs snapshot "$pool/src/full@s1"
token full "$pool/src/full@s1" "" "$pool/dst/full" "$pool/src/full@s1"

# incremental (-i): the target has @s1, the cut stream goes to @s2
zfs create "$pool/src/inc"
fill "$pool/src/inc" a 2
zfs snapshot "$pool/src/inc@s1"
zfs send "$pool/src/inc@s1" | zfs receive "$pool/dst/inc"
fill "$pool/src/inc" b 16
zfs snapshot "$pool/src/inc@s2"
token incremental "$pool/src/inc@s2" "$pool/src/inc@s1" "$pool/dst/inc" \
    -i @s1 "$pool/src/inc@s2"

# -L -e -c: largeblockok, embedok, compressok in the token
zfs create -o recordsize=1M -o compression=lz4 "$pool/src/lec"
fill "$pool/src/lec" data 16
zfs snapshot "$pool/src/lec@s1"
token lec "$pool/src/lec@s1" "" "$pool/dst/lec" \
    -L -e -c "$pool/src/lec@s1"

# raw send of an encrypted dataset: rawok
echo 'correct horse battery staple' >"$work/key"
zfs create -o encryption=aes-256-gcm -o keyformat=passphrase \
    -o keylocation="file://$work/key" "$pool/src/enc"
fill "$pool/src/enc" data 16
zfs snapshot "$pool/src/enc@s1"
token raw "$pool/src/enc@s1" "" "$pool/dst/enc" -w "$pool/src/enc@s1"

# a name with spaces, as tokens carry it
zfs create "$pool/src/my data"
fill "$pool/src/my data" data 16
zfs snapshot "$pool/src/my data@snap 1"
token spaces "$pool/src/my data@snap 1" "" "$pool/dst/my copy" \
    "$pool/src/my data@snap 1"

tar -C "$out" -cf - .
