#!/usr/bin/env bash
# 00-guest: the guest is what the other cases assume: the expected OpenZFS
# (tools and kernel module agree), pools get the features replication
# needs, ssh to localhost works with pinned host keys for root and the
# unprivileged user, and the zferry binary finds all its libraries.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zfs version >"$ZT_DIR/version"
user=$(sed -n 's/^zfs-\([0-9][0-9.]*\).*/\1/p' "$ZT_DIR/version")
kmod=$(sed -n 's/^zfs-kmod-\([0-9][0-9.]*\).*/\1/p' "$ZT_DIR/version")
zt_log "zfs $user, module $kmod"
[ -n "$user" ] || zt_fail "no version in: $(cat "$ZT_DIR/version")"
zt_eq "kernel module version" "$kmod" "$user"
if [ -n "${ZFERRY_OZ_EXPECT_ZFS:-}" ]; then
	case $user in
	"$ZFERRY_OZ_EXPECT_ZFS" | "$ZFERRY_OZ_EXPECT_ZFS".*) ;;
	*) zt_fail "zfs $user, want $ZFERRY_OZ_EXPECT_ZFS.x" ;;
	esac
fi
command -v zstream >/dev/null || zt_fail "zstream missing"

zt_pool p
for f in extensible_dataset bookmarks embedded_data large_blocks \
    lz4_compress encryption; do
	zt_has_feature "$ZT_POOL" "$f" || zt_fail "pool feature $f not enabled"
done
# a snapshot round trip through the bare tools, the baseline of every case
zfs create "$ZT_POOL/fs"
zt_fill "$(zt_mnt "$ZT_POOL/fs")" 1
zfs snapshot "$ZT_POOL/fs@s1"
zfs send "$ZT_POOL/fs@s1" | zfs receive "$ZT_POOL/copy"
zt_same_snapshot "$ZT_POOL/fs@s1" "$ZT_POOL/copy@s1"

# ssh as zferry runs it: batch mode, strict host key checking
ssh_ok() {
	local who=$1
	shift
	zt_run "$@" ssh -o BatchMode=yes -o StrictHostKeyChecking=yes \
	    "$who" 'id -un'
	[ "$ZT_RC" -eq 0 ] || zt_fail "ssh $who: $(cat "$ZT_ERR")"
	zt_eq "user of ssh $who" "$(cat "$ZT_OUT")" "${who%@*}"
}
ssh_ok root@localhost
ssh_ok root@127.0.0.1
ssh_ok zfuser@localhost
ssh_ok zfuser@localhost runuser -u zfuser --
zt_eq "zfuser uid" "$(id -u zfuser)" 1500
# /dev/zfs must be usable by the unprivileged user (zfs allow cases)
zt_run runuser -u zfuser -- zfs list -H -o name "$ZT_POOL"
zt_eq "zfs list as zfuser" "$ZT_RC" 0

for tool in zstd lz4 ps fuser timeout sha256sum; do
	command -v "$tool" >/dev/null || zt_fail "$tool missing in the guest"
done
ldd "$ZFERRY" >"$ZT_DIR/ldd" 2>&1 || zt_fail "ldd $ZFERRY: $(cat "$ZT_DIR/ldd")"
zt_not_contains "libraries of zferry" "$ZT_DIR/ldd" "not found"
