#!/usr/bin/env bash
# 55-encrypted-props-error: a non-raw send with -p of an encrypted dataset
# is refused by zfs send itself; zferry must exit 1, pass zfs's own words
# on, create nothing on the target and leave no receive running.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL
key=$ZT_DIR/key
echo 'correct horse battery staple' >"$key"
zfs create -o encryption=on -o keyformat=passphrase \
    -o keylocation="file://$key" "$src/enc"
zt_fill "$(zt_mnt "$src/enc")" 1
zfs snapshot "$src/enc@s1"

# what zfs says, so the case checks zferry against the real text
zt_run bash -o pipefail -c "zfs send -p '$src/enc@s1' | cat >/dev/null"
zt_ne "plain zfs send -p of an encrypted dataset" "$ZT_RC" 0
zt_contains "zfs's own message" "$ZT_ERR" "without the raw flag"

zt_zferry 1 send --no-progress -p "$src/enc@s1" "$dst/local"
zt_contains "zferry local" "$ZT_ERR" \
    "encrypted dataset $src/enc may not be sent with properties without the raw flag"
zt_exists "$dst/local" && zt_fail "'$dst/local' created by a failed send"
zt_no_leftovers

zt_zferry 1 send --no-progress -p "$src/enc@s1" "root@localhost:$dst/pushed"
zt_contains "zferry push" "$ZT_ERR" "may not be sent with properties without the raw flag"
zt_exists "$dst/pushed" && zt_fail "'$dst/pushed' created by a failed send"
zt_no_leftovers

zt_zferry 1 send --no-progress -p "root@localhost:$src/enc@s1" "$dst/pulled"
zt_contains "zferry pull" "$ZT_ERR" "may not be sent with properties without the raw flag"
zt_exists "$dst/pulled" && zt_fail "'$dst/pulled' created by a failed send"
zt_no_leftovers

# the same send with -w is fine
zt_zferry 0 send --no-progress -w -p "$src/enc@s1" "root@localhost:$dst/raw"
zt_eq "keystatus of the raw copy" "$(zt_prop "$dst/raw" keystatus)" unavailable
exit 0
