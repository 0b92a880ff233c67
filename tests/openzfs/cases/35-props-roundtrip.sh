#!/usr/bin/env bash
# 35-props-roundtrip: -p carries the source's local properties (native and
# user) to the target as received values; without -p they stay behind;
# -o overrides a received value; -u leaves the target unmounted.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL
zfs create -o compression=lz4 -o recordsize=64K -o atime=off \
    -o zferry:tag="v1 with spaces" -o zferry:other=o "$src/fs"
zt_fill "$(zt_mnt "$src/fs")" 2
zfs snapshot "$src/fs@s1"

# props_as WANT_SOURCE DATASET: the four properties came with WANT_SOURCE
props_as() {
	zt_eq "compression on '$2'" "$(zt_prop "$2" compression)" lz4
	zt_eq "recordsize on '$2'" "$(zt_prop "$2" recordsize)" 64K
	zt_eq "atime on '$2'" "$(zt_prop "$2" atime)" off
	zt_eq "zferry:tag on '$2'" "$(zt_prop "$2" zferry:tag)" "v1 with spaces"
	zt_eq "source of compression on '$2'" \
	    "$(zt_source "$2" compression)" "$1"
	zt_eq "source of zferry:tag on '$2'" "$(zt_source "$2" zferry:tag)" "$1"
}

zt_zferry 0 send --no-progress -p "$src/fs@s1" "$dst/local"
props_as received "$dst/local"
zt_same_snapshot "$src/fs@s1" "$dst/local@s1"
zt_zferry 0 send --no-progress --props "$src/fs@s1" "root@localhost:$dst/pushed"
props_as received "$dst/pushed"
zt_zferry 0 send --no-progress -p "root@localhost:$src/fs@s1" "$dst/pulled"
props_as received "$dst/pulled"

# without -p nothing is carried over
zt_zferry 0 send --no-progress "$src/fs@s1" "root@localhost:$dst/plain"
zt_eq "zferry:tag without -p" "$(zt_prop "$dst/plain" zferry:tag)" -
zt_eq "compression without -p" "$(zt_source "$dst/plain" compression)" \
    "inherited from $dst"

# -o wins over the received value; -u: not mounted
zt_zferry 0 send --no-progress -p -u -o zferry:tag=overridden \
    "$src/fs@s1" "root@localhost:$dst/override"
zt_eq "overridden zferry:tag" "$(zt_prop "$dst/override" zferry:tag)" overridden
zt_eq "zferry:other still received" \
    "$(zt_source "$dst/override" zferry:other)" received
zt_eq "mounted with -u" "$(zt_prop "$dst/override" mounted)" no
zt_no_leftovers
exit 0
