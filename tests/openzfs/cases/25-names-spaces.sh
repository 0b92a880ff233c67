#!/usr/bin/env bash
# 25-names-spaces: dataset and snapshot names with spaces (valid in ZFS)
# survive zferry, locally and through the remote shell of an ssh push and
# pull, full and incremental.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL
fs="$src/my data"
zfs create "$fs"
m=$(zt_mnt "$fs")
zt_fill "$m" 2 "file one"
zfs snapshot "$fs@snap one"
zt_fill "$m" 1 "file two"
zfs snapshot "$fs@snap  two"

# local
zt_zferry 0 send --no-progress "$fs@snap one" "$dst/local copy"
zt_same_snapshot "$fs@snap one" "$dst/local copy@snap one"
zt_zferry 0 send --no-progress -i "@snap one" "$fs@snap  two" "$dst/local copy"
zt_same_snapshot "$fs@snap  two" "$dst/local copy@snap  two"

# push over ssh: the remote command is a shell string, so quoting matters
zt_zferry 0 send --no-progress "$fs@snap one" "root@localhost:$dst/pushed copy"
zt_same_snapshot "$fs@snap one" "$dst/pushed copy@snap one"
zt_zferry 0 send --no-progress -i "$fs@snap one" "$fs@snap  two" \
    "root@localhost:$dst/pushed copy"
zt_same_snapshot "$fs@snap  two" "$dst/pushed copy@snap  two"

# pull over ssh
zt_zferry 0 send --no-progress "root@localhost:$fs@snap one" "$dst/pulled copy"
zt_same_snapshot "$fs@snap one" "$dst/pulled copy@snap one"
zt_zferry 0 send --no-progress -I "snap one" "root@localhost:$fs@snap  two" \
    "$dst/pulled copy"
zt_same_snapshot "$fs@snap  two" "$dst/pulled copy@snap  two"

# nothing was created under a split name ("$dst/pushed" and the like)
zt_eq "datasets in $dst" \
    "$(zfs list -H -r -o name "$dst" | tr '\n' '|')" \
    "$dst|$dst/local copy|$dst/pulled copy|$dst/pushed copy|"
zt_no_leftovers
exit 0
