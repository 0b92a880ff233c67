#!/usr/bin/env bash
# 80-host-transfer: the host's own zferry build, with the host's ssh, moves
# snapshots to and from the guest over the forwarded port (pinned host key,
# explicit key file).  The host has no OpenZFS, so its "local" zfs is the
# guest's, reached through zfs-in-guest.sh (ZFERRY_ZFS): the stream still
# crosses the host twice, through zferry's relay and both ssh connections.
# shellcheck source=SCRIPTDIR/host-lib.sh
. "$(dirname "$0")/host-lib.sh"

ht_pool src
src=$HT_POOL
ht_pool dst
dst=$HT_POOL
guest zfs create "$src/my fs"
guest dd if=/dev/urandom of="$HT_GDIR/mnt/$src/my fs/a" bs=1M count=4 status=none
guest zfs snapshot "$src/my fs@s1"
guest dd if=/dev/urandom of="$HT_GDIR/mnt/$src/my fs/b" bs=1M count=1 status=none
guest zfs snapshot "$src/my fs@s2"
export ZFERRY_ZFS=$HT_ZFS
# shellcheck disable=SC2016 # not to be expanded, by anyone
note='it'\''s; $(touch /tmp/zferry-canary) `touch /tmp/zferry-canary`'
guest rm -f /tmp/zferry-canary

# push: "local" source (the wrapper), remote target over zferry's own ssh
ht_run "$ZFERRY" send --no-progress "${HT_SSH_OPTS[@]}" \
    -o "zferry:note=$note" \
    "$src/my fs@s1" "root@127.0.0.1:$dst/from host"
ht_eq "push exit status" "$HT_RC" 0
ht_eq "guid pushed from the host" "$(ht_guid "$dst/from host@s1")" \
    "$(ht_guid "$src/my fs@s1")"
ht_eq "property through two shells" \
    "$(ht_prop "$dst/from host" zferry:note)" "$note"
if guest test -e /tmp/zferry-canary; then
	ht_fail "the property value was run by a shell"
fi

# pull: remote source, "local" target
ht_run "$ZFERRY" send --no-progress "${HT_SSH_OPTS[@]}" -i @s1 \
    "root@127.0.0.1:$src/my fs@s2" "$dst/from host"
ht_eq "pull exit status" "$HT_RC" 0
ht_eq "guid pulled to the host" "$(ht_guid "$dst/from host@s2")" \
    "$(ht_guid "$src/my fs@s2")"
guest sh -c "cmp '$HT_GDIR/mnt/$src/my fs/b' '$HT_GDIR/mnt/$dst/from host/b'" ||
    ht_fail "data differs after the pull"

# the guest's host key is really checked from the host too
printf '[127.0.0.1]:%s ssh-ed25519 %s\n' "$OZ_PORT" \
    AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl \
    >"$HT_DIR/wrong_known_hosts"
ht_run "$ZFERRY" send --no-progress --ssh-port "$OZ_PORT" \
    --ssh-key "$OZ_IMAGE/client_ed25519" \
    --known-hosts "$HT_DIR/wrong_known_hosts" \
    "$src/my fs@s1" "root@127.0.0.1:$dst/wrong key"
ht_eq "exit status with a wrong host key" "$HT_RC" 1
grep -q 'HOST IDENTIFICATION HAS CHANGED\|Host key verification failed' \
    "$HT_ERR" || ht_fail "no host key error in: $(head -c 600 "$HT_ERR")"
if guest zfs list -H -o name "$dst/wrong key" >/dev/null 2>&1; then
	ht_fail "received despite a wrong host key"
fi
exit 0
