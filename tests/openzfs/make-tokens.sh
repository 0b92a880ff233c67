#!/usr/bin/env bash
# tests/openzfs/make-tokens.sh [OUTDIR]: regenerates the resume-token test
# data (default OUTDIR: tests/data/tokens) from real OpenZFS.  Boots the
# guest of $ZFS_SUITE, runs tools/make-tokens-guest.sh in it and unpacks
# its files as openzfs-<version>-<kind>.{token,expect,meta}.  Files of the
# other OpenZFS versions in OUTDIR are left alone.
#
#   tests/openzfs/make-tokens.sh                       # OpenZFS 2.3
#   ZFS_SUITE=bookworm tests/openzfs/make-tokens.sh    # OpenZFS 2.1.11
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/vm/common.sh
. "$here/vm/common.sh"

outdir=${1:-$here/../data/tokens}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

oz_build_image
oz_stop_on_exit
"$here/vm/boot.sh"

version=$(oz_ssh 'zfs version' | sed -n 's/^zfs-\([0-9][0-9.]*\).*/\1/p')
[ -n "$version" ] || oz_die "no zfs version from the guest"
oz_ssh 'cat >/var/tmp/make-tokens-guest.sh' <"$here/tools/make-tokens-guest.sh"
rm -rf "$OZ_RUN/tokens"
mkdir -p "$OZ_RUN/tokens"
oz_ssh "bash /var/tmp/make-tokens-guest.sh openzfs-$version" |
    tar -C "$OZ_RUN/tokens" -xf -
n=$(find "$OZ_RUN/tokens" -name '*.token' | wc -l)
[ "$n" -gt 0 ] || oz_die "no tokens made"
cp "$OZ_RUN/tokens/openzfs-$version-"* "$outdir/"
oz_log "$n tokens of OpenZFS $version written to $outdir"
