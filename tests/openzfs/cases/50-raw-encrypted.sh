#!/usr/bin/env bash
# 50-raw-encrypted: -w/--raw sends an encrypted dataset as ciphertext: it
# arrives encrypted with its key not loaded, and after load-key the data
# is identical.  Push full, pull incremental.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL
key=$ZT_DIR/key
echo 'correct horse battery staple' >"$key"
zfs create -o encryption=aes-256-gcm -o keyformat=passphrase \
    -o keylocation="file://$key" "$src/enc"
m=$(zt_mnt "$src/enc")
zt_fill "$m" 3 a
zfs snapshot "$src/enc@s1"
zt_fill "$m" 1 b
zfs snapshot "$src/enc@s2"

zt_zferry 0 send --no-progress -w "$src/enc@s1" "root@localhost:$dst/enc"
zt_eq "encryption on arrival" "$(zt_prop "$dst/enc" encryption)" aes-256-gcm
zt_eq "keystatus on arrival" "$(zt_prop "$dst/enc" keystatus)" unavailable
zt_eq "mounted on arrival" "$(zt_prop "$dst/enc" mounted)" no
zt_eq "guid of the raw copy" "$(zt_guid "$dst/enc@s1")" "$(zt_guid "$src/enc@s1")"

# raw incremental, pulled, still without the key
zt_zferry 0 send --no-progress --raw -i @s1 "root@localhost:$src/enc@s2" \
    "$dst/enc"
zt_eq "snapshots after raw -i" "$(zt_snapshots "$dst/enc")" "s1 s2"
zt_eq "keystatus after raw -i" "$(zt_prop "$dst/enc" keystatus)" unavailable

# with the key, the data reads back identical
zfs load-key -L "file://$key" "$dst/enc"
zfs mount "$dst/enc"
zt_eq "keystatus after load-key" "$(zt_prop "$dst/enc" keystatus)" available
zt_same_snapshot "$src/enc@s1" "$dst/enc@s1"
zt_same_snapshot "$src/enc@s2" "$dst/enc@s2"
zt_eq "live data" "$(zt_tree_sum "$(zt_mnt "$dst/enc")")" \
    "$(zt_tree_sum "$m")"
zt_no_leftovers
exit 0
