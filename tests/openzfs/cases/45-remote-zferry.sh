#!/usr/bin/env bash
# 45-remote-zferry: zferry installed on the remote side too (found on the
# remote PATH as "zferry"), as in a real deployment: then the two zferry
# processes may talk to each other over ssh instead of through zstd or lz4
# alone.  Push and pull, full and incremental, compressible and random
# data, with a hostile -o value: all arrive identical.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

link=/usr/local/bin/zferry
[ ! -e "$link" ] || zt_fail "$link exists already; not ours to replace"
ln -s "$ZFERRY" "$link"
zt_at_exit "rm -f '$link'"
zt_eq "zferry on the remote PATH" \
    "$(ssh -o BatchMode=yes root@localhost 'command -v zferry')" "$link"

zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL
zfs create "$src/fs"
m=$(zt_mnt "$src/fs")
seq 1 200000 | sed 's/$/ compressible text for the wire/' >"$m/text"
zt_fill "$m" 3 random
zfs snapshot "$src/fs@s1"
zt_fill "$m" 1 more
zfs snapshot "$src/fs@s2"

# shellcheck disable=SC2016 # not to be expanded, by anyone
note='a "b" $(touch /tmp/zferry-canary45) c'
rm -f /tmp/zferry-canary45
zt_zferry 0 send --no-progress -o "zferry:note=$note" "$src/fs@s1" \
    "root@localhost:$dst/pushed"
zt_same_snapshot "$src/fs@s1" "$dst/pushed@s1"
zt_eq "zferry:note" "$(zt_prop "$dst/pushed" zferry:note)" "$note"
zt_zferry 0 send --no-progress -i @s1 "$src/fs@s2" "root@localhost:$dst/pushed"
zt_same_snapshot "$src/fs@s2" "$dst/pushed@s2"

zt_zferry 0 send --no-progress "root@localhost:$src/fs@s1" "$dst/pulled"
zt_same_snapshot "$src/fs@s1" "$dst/pulled@s1"
zt_zferry 0 send --no-progress -I s1 "root@localhost:$src/fs@s2" "$dst/pulled"
zt_same_snapshot "$src/fs@s2" "$dst/pulled@s2"
[ ! -e /tmp/zferry-canary45 ] || zt_fail "a property value was run by a shell"
zt_no_leftovers
exit 0
