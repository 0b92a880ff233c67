#!/usr/bin/env bash
# 20-ssh-push-pull: zferry send over ssh to localhost, both ways: push
# (local source, remote target) and pull (remote source, local target),
# full and incremental, with and without user@, with explicit ssh options;
# the host key is really checked; no zfs or ssh is left running.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL
zfs create "$src/fs"
m=$(zt_mnt "$src/fs")
zt_fill "$m" 4 a
zfs snapshot "$src/fs@s1"
zt_fill "$m" 2 b
zfs snapshot "$src/fs@s2"
zt_fill "$m" 1 c
zfs snapshot "$src/fs@s3"

# push: full, then incremental
zt_zferry 0 send --no-progress "$src/fs@s1" "root@localhost:$dst/push"
zt_same_snapshot "$src/fs@s1" "$dst/push@s1"
zt_no_leftovers
zt_zferry 0 send --no-progress -i @s1 "$src/fs@s2" "root@localhost:$dst/push"
zt_same_snapshot "$src/fs@s2" "$dst/push@s2"
zt_no_leftovers

# pull: full without user@, then -I with every ssh option spelled out
zt_zferry 0 send --no-progress "localhost:$src/fs@s1" "$dst/pull"
zt_same_snapshot "$src/fs@s1" "$dst/pull@s1"
zt_no_leftovers
zt_zferry 0 send --no-progress --ssh-port 22 \
    --ssh-key /root/.ssh/id_ed25519 --known-hosts /root/.ssh/known_hosts \
    --ssh-option ConnectTimeout=20 \
    -I @s1 "root@127.0.0.1:$src/fs@s3" "$dst/pull"
zt_eq "snapshots after pull -I" "$(zt_snapshots "$dst/pull")" "s1 s2 s3"
zt_same_snapshot "$src/fs@s3" "$dst/pull@s3"
zt_no_leftovers

# host keys are checked: an empty known_hosts file stops the transfer
# before anything is received (1: failed; 75 would claim "try again")
: >"$ZT_DIR/empty_known_hosts"
zt_run "$ZFERRY" send --no-progress --known-hosts "$ZT_DIR/empty_known_hosts" \
    "$src/fs@s1" "root@localhost:$dst/unpinned"
zt_eq "exit status with an unknown host key" "$ZT_RC" 1
zt_contains "unknown host key" "$ZT_ERR" "Host key verification failed"
zt_exists "$dst/unpinned" && zt_fail "received despite an unknown host key"

# a host that does not answer: an error, not a hang (port 9 is closed)
zt_run timeout 60 "$ZFERRY" send --no-progress --ssh-port 9 \
    "$src/fs@s1" "root@localhost:$dst/closed"
case $ZT_RC in
0 | 124) zt_fail "closed ssh port: exit $ZT_RC" ;;
esac
zt_no_leftovers
exit 0
