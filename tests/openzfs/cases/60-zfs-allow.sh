#!/usr/bin/env bash
# 60-zfs-allow: least privilege.  The unprivileged user zfuser, given only
# what `zfs allow` delegates, receives over ssh zfuser@localhost and runs
# zferry itself (local send, push and pull).  Without the delegation the
# receive is refused with zfs's permission error.  -u because Linux lets
# only root mount.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

user=zfuser
zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL
zfs create "$src/fs"
zt_fill "$(zt_mnt "$src/fs")" 2 a
zfs snapshot "$src/fs@s1"
zt_fill "$(zt_mnt "$src/fs")" 1 b
zfs snapshot "$src/fs@s2"

# shellcheck disable=SC2317 # called through zt_run
as_user() {
	runuser -u "$user" -- "$@"
}

# no delegation: zfs refuses the unprivileged receive
zt_zferry 1 send --no-progress -u "$src/fs@s1" "$user@localhost:$dst/in"
zt_contains "receive without zfs allow" "$ZT_ERR" "permission denied"
zt_exists "$dst/in" && zt_fail "received without permission"
zt_no_leftovers

# receive delegated: root pushes to the user's account
zfs allow -u "$user" create,mount,receive "$dst"
zt_zferry 0 send --no-progress -u "$src/fs@s1" "$user@localhost:$dst/in"
zt_eq "guid received by $user" "$(zt_guid "$dst/in@s1")" "$(zt_guid "$src/fs@s1")"
zt_eq "mounted after -u" "$(zt_prop "$dst/in" mounted)" no

# the user runs zferry: the send side needs its own delegation
zt_run as_user "$ZFERRY" send --no-progress -u -i @s1 "$src/fs@s2" \
    "$user@localhost:$dst/in"
zt_ne "unprivileged send without zfs allow" "$ZT_RC" 0
zt_contains "send without zfs allow" "$ZT_ERR" "permission denied"
zfs allow -u "$user" send "$src/fs"
zt_run as_user "$ZFERRY" send --no-progress -u -i @s1 "$src/fs@s2" \
    "$user@localhost:$dst/in"
zt_eq "unprivileged push exit status" "$ZT_RC" 0
zt_eq "snapshots pushed by $user" "$(zt_snapshots "$dst/in")" "s1 s2"
# and pulls, receiving locally as itself
zt_run as_user "$ZFERRY" send --no-progress -u \
    "$user@localhost:$src/fs@s2" "$dst/pulled"
zt_eq "unprivileged pull exit status" "$ZT_RC" 0
zt_eq "guid pulled by $user" "$(zt_guid "$dst/pulled@s2")" \
    "$(zt_guid "$src/fs@s2")"
zt_no_leftovers

# what the user received is the data: root mounts and compares
zfs mount "$dst/in"
zfs mount "$dst/pulled"
zt_same_snapshot "$src/fs@s2" "$dst/in@s2"
zt_same_snapshot "$src/fs@s2" "$dst/pulled@s2"
exit 0
