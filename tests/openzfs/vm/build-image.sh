#!/usr/bin/env bash
# tests/openzfs/vm/build-image.sh: builds the Debian 12 guest image with real
# OpenZFS that the OpenZFS test tier boots under qemu (TCG, no KVM needed).
#
#   tests/openzfs/vm/build-image.sh          # needs root
#
# Output, in $OZ_IMAGE (see common.sh for the knobs):
#   base.qcow2            root filesystem (ext4 on the whole /dev/vda)
#   vmlinuz, initrd.img   guest kernel and a small initramfs (direct boot)
#   client_ed25519[.pub]  key the host uses to log in as root and zfuser
#   host_keys.pub         the guest's sshd host keys, pinned by the host
#   manifest              kernel, zfs version, suite, recipe, build date
#
# The image is restored from $OZ_CACHE/$OZ_KEY when present (a copy, well
# under a second); otherwise it is built from the Debian mirror in stages:
#   bootstrap  debootstrap minbase with everything the tests need in the
#              guest (the guest has no network and no apt lists)
#   kernel     linux-image-amd64 + headers, small MODULES=list initramfs
#   zfs        zfs-dkms + zfsutils-linux from $ZFS_SUITE: DKMS compiles the
#              modules for the chroot's kernel (most of the build time)
#   slim       keep the .ko files, purge the toolchain and unused drivers
#   configure  network, sshd, keys, users, masked units (always re-run)
#   pack       mkfs.ext4 -d (no loop device, no mount) + compressed qcow2
# A finished stage is skipped on a re-run in the same work dir.
#
# Never install zfs-dkms or zfsutils-linux on the host: they conflict with
# zfs-fuse, which the host's own tests use.  Everything happens in a chroot.
#
# dpkg-query formats are single-quoted on purpose:
# shellcheck disable=SC2016
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/common.sh
. "$here/common.sh"

MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
IMG_SIZE=${IMG_SIZE:-4G}
# 1: rebuild from scratch even if an image or a cached image exists;
# configure: redo only the configure and pack stages on a kept rootfs
ZFERRY_OZ_FORCE=${ZFERRY_OZ_FORCE:-0}
# 0: delete the rootfs after packing (saves ~520 MB, loses stage reuse)
ZFERRY_OZ_KEEP_ROOTFS=${ZFERRY_OZ_KEEP_ROOTFS:-0}

ROOT=$OZ_WORK/rootfs
LOGS=$OZ_WORK/logs
STAGES=$OZ_WORK/stages
# packages the tests need inside the guest; zferry itself links libzstd,
# liblz4 and zlib, the cases use zstd, lz4, ps, fuser, ssh to localhost
GUEST_PKGS=systemd-sysv,udev,kmod,iproute2,openssh-server,openssh-client
GUEST_PKGS=$GUEST_PKGS,procps,psmisc,coreutils,bash,zstd,lz4,libzstd1
GUEST_PKGS=$GUEST_PKGS,liblz4-1,zlib1g
# the least-privilege user of the zfs-allow cases
GUEST_USER=zfuser
GUEST_UID=1500

export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

[ "$(id -u)" -eq 0 ] || oz_die "needs root (debootstrap, chroot, mounts)"
for tool in debootstrap qemu-img mkfs.ext4 ssh-keygen flock; do
	command -v "$tool" >/dev/null ||
	    oz_die "$tool missing: run scripts/install-deps openzfs"
done

mkdir -p "$OZ_WORK"
if pid=$(oz_qemu_pid); then
	oz_die "a guest runs from $OZ_IMAGE (pid $pid): stop.sh first"
fi
# one build per work dir at a time; a second caller waits for the first and
# then finds the image done
exec 9>"$OZ_WORK/.build.lock"
flock 9

image_ok() {
	[ -e "$OZ_IMAGE/.complete" ] &&
	    grep -qxF "key=$OZ_KEY" "$OZ_IMAGE/manifest" 2>/dev/null
}

# cache_store [replace]: copies the image into the cache (atomically)
cache_store() {
	local dst=$OZ_CACHE/$OZ_KEY
	[ -n "$OZ_CACHE" ] || return 0
	[ -e "$dst/.complete" ] && [ "${1:-}" != replace ] && return 0
	oz_log "storing image in $dst"
	mkdir -p "$OZ_CACHE"
	rm -rf "$dst.tmp.$$"
	cp -a "$OZ_IMAGE" "$dst.tmp.$$"
	rm -rf "$dst"
	mv "$dst.tmp.$$" "$dst"
	# images of older recipes for this suite are dead weight (~180 MB each)
	find "$OZ_CACHE" -mindepth 1 -maxdepth 1 -type d \
	    -name "r*-$ZFS_SUITE" ! -name "$OZ_KEY" -exec rm -rf {} +
}

if [ "$ZFERRY_OZ_FORCE" = 0 ]; then
	if image_ok; then
		oz_log "image up to date: $(tr '\n' ' ' <"$OZ_IMAGE/manifest")"
		cache_store
		exit 0
	fi
	if [ -n "$OZ_CACHE" ] && [ -e "$OZ_CACHE/$OZ_KEY/.complete" ]; then
		t0=$SECONDS
		rm -rf "$OZ_IMAGE" "$OZ_IMAGE.tmp.$$"
		cp -a "$OZ_CACHE/$OZ_KEY" "$OZ_IMAGE.tmp.$$"
		mv "$OZ_IMAGE.tmp.$$" "$OZ_IMAGE"
		oz_log "restored $OZ_KEY from $OZ_CACHE in $((SECONDS - t0))s"
		exit 0
	fi
fi

# ---- chroot mounts: always undone, whatever happens ------------------------

mounts_under_root() {
	awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { print $2 }' \
	    /proc/mounts | sort -r
}

umount_root() {
	local m
	for m in $(mounts_under_root); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

mount_root() {
	local d
	for d in proc sys dev dev/pts; do
		mountpoint -q "$ROOT/$d" && continue
		case $d in
		proc) mount -t proc proc "$ROOT/proc" ;;
		sys) mount -t sysfs sysfs "$ROOT/sys" ;;
		*) mount --bind "/$d" "$ROOT/$d" ;;
		esac
	done
}

trap umount_root EXIT

chroot_run() {
	chroot "$ROOT" /usr/bin/env -i \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
	    DEBIAN_FRONTEND=noninteractive "$@"
}

# wipe: removes the rootfs without ever crossing into a mounted /dev or /proc
wipe_work() {
	umount_root
	[ -z "$(mounts_under_root)" ] || oz_die "cannot unmount under $ROOT"
	rm -rf --one-file-system "$ROOT" "$OZ_IMAGE" "$STAGES"
}

# wipe_rootfs: after packing, the rootfs is only good for re-configuring
wipe_rootfs() {
	umount_root
	[ -z "$(mounts_under_root)" ] || oz_die "cannot unmount under $ROOT"
	rm -rf --one-file-system "$ROOT" "$STAGES"
}

# A work dir built by another recipe (or forced) starts from scratch.
if [ "$ZFERRY_OZ_FORCE" = 1 ] ||
    [ "$(cat "$STAGES/key" 2>/dev/null)" != "$OZ_KEY" ]; then
	wipe_work
elif [ "$ZFERRY_OZ_FORCE" = configure ] && [ ! -e "$STAGES/slim.done" ]; then
	oz_die "ZFERRY_OZ_FORCE=configure needs a kept rootfs (ZFERRY_OZ_KEEP_ROOTFS=1)"
fi
mkdir -p "$STAGES" "$LOGS" "$OZ_IMAGE"
echo "$OZ_KEY" >"$STAGES/key"
: >"$LOGS/timings"

# stage NAME: runs stage_NAME once, its output in $LOGS/NAME.log
stage() {
	local name=$1 t0=$SECONDS rc
	if [ -e "$STAGES/$name.done" ]; then
		oz_log "stage $name: already done"
		return 0
	fi
	oz_log "stage $name ..."
	# Not "if ! stage_x": in a condition bash ignores set -e inside the
	# function, and a failed step would go unnoticed.  A subshell run as a
	# plain command keeps set -e working.
	set +e
	(
		set -e
		"stage_$name"
	) >"$LOGS/$name.log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$LOGS/$name.log" >&2
		oz_die "stage $name failed, full log: $LOGS/$name.log"
	fi
	echo "$name $((SECONDS - t0))" >>"$LOGS/timings"
	oz_log "stage $name: $((SECONDS - t0))s"
	[ "$name" = configure ] || [ "$name" = pack ] || : >"$STAGES/$name.done"
}

guest_kver() {
	local k
	k=$(find "$ROOT/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' |
	    sort -V | tail -n 1)
	[ -n "$k" ] && [ -e "$ROOT/boot/vmlinuz-$k" ] || return 1
	echo "$k"
}

stage_bootstrap() {
	umount_root
	rm -rf --one-file-system "$ROOT"
	debootstrap --variant=minbase --include="$GUEST_PKGS" \
	    bookworm "$ROOT" "$MIRROR"
}

stage_kernel() {
	cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main contrib
deb $MIRROR bookworm-updates main contrib
deb $SECURITY_MIRROR bookworm-security main contrib
deb $MIRROR bookworm-backports main contrib
EOF
	# no service may start inside the chroot
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$ROOT/usr/sbin/policy-rc.d"
	echo 'Acquire::Retries "5";' >"$ROOT/etc/apt/apt.conf.d/80retries"
	chroot_run apt-get update
	# initramfs-tools before the kernel, so the kernel's postinst builds the
	# small initrd at once (MODULES=most: 30 MB, slow to build and to boot).
	# The modules file is written after the package, else dpkg asks about
	# a changed conffile.
	chroot_run apt-get install -y --no-install-recommends initramfs-tools
	sed -i 's/^MODULES=.*/MODULES=list/' \
	    "$ROOT/etc/initramfs-tools/initramfs.conf"
	printf 'virtio_pci\nvirtio_blk\next4\n' >"$ROOT/etc/initramfs-tools/modules"
	chroot_run apt-get install -y --no-install-recommends \
	    linux-image-amd64 linux-headers-amd64
	guest_kver
}

stage_zfs() {
	local kver ver
	kver=$(guest_kver)
	# backports has apt priority 100: -t is what selects OpenZFS 2.3
	chroot_run apt-get install -y --no-install-recommends -t "$ZFS_SUITE" \
	    zfs-dkms zfsutils-linux
	# dkms in a chroot sees the host's uname -r; Debian's dkms builds for
	# the chroot's newest kernel, but check and build explicitly if not
	if ! ls "$ROOT/lib/modules/$kver/updates/dkms/zfs.ko"* >/dev/null 2>&1; then
		ver=$(chroot_run dpkg-query -W -f='${Version}' zfs-dkms)
		chroot_run dkms install -m zfs -v "${ver%%-*}" -k "$kver"
	fi
	chroot_run dkms status
	ls -l "$ROOT/lib/modules/$kver/updates/dkms/"
}

stage_slim() {
	local kver kdir purge d
	kver=$(guest_kver)
	kdir=$ROOT/lib/modules/$kver
	# purging zfs-dkms deletes updates/dkms: keep the modules elsewhere
	mkdir -p "$kdir/extra/zfs"
	cp -a "$kdir"/updates/dkms/*.ko* "$kdir/extra/zfs/"
	purge=$(chroot_run dpkg-query -W -f='${Package} ${db:Status-Status}\n' |
	    awk '$2 == "installed" { print $1 }' |
	    grep -E '^(zfs-dkms|dkms|linux-headers-.*|linux-kbuild-.*|linux-compiler-.*|gcc-12|cpp-12|make|patch|dpkg-dev)$' ||
	    true)
	# shellcheck disable=SC2086 # a list of package names
	[ -z "$purge" ] || chroot_run apt-get purge -y --auto-remove $purge
	for d in sound drivers/gpu drivers/media drivers/infiniband \
	    drivers/net/wireless drivers/net/ethernet drivers/net/can \
	    drivers/staging drivers/bluetooth drivers/iio drivers/isdn \
	    net/bluetooth net/wireless net/mac80211; do
		rm -rf "$kdir/kernel/$d"
	done
	chroot_run depmod -a "$kver"
	grep -q '^extra/zfs/zfs.ko' "$kdir/modules.dep"
	chroot_run apt-get clean
	rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* \
	    "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/src/*
}

# known_hosts lines for every host key of the guest under NAMES...
known_hosts_for() {
	local name f
	for name in "$@"; do
		for f in "$ROOT"/etc/ssh/ssh_host_*_key.pub; do
			printf '%s %s\n' "$name" "$(cut -d' ' -f1,2 "$f")"
		done
	done
}

stage_configure() {
	local kver home=$ROOT/home/$GUEST_USER
	kver=$(guest_kver)
	echo zferry-guest >"$ROOT/etc/hostname"
	printf '127.0.0.1 localhost\n::1 localhost\n127.0.1.1 zferry-guest\n' \
	    >"$ROOT/etc/hosts"
	echo '/dev/vda / ext4 defaults,noatime 0 1' >"$ROOT/etc/fstab"
	# qemu user networking: the guest is 10.0.2.15/24.  A oneshot unit with
	# two ip commands instead of systemd-networkd, which takes ~7 s to
	# start under TCG.  net.ifnames=0 on the kernel command line makes the
	# interface eth0.  lo is brought up by systemd itself.
	cat >"$ROOT/etc/systemd/system/zferry-net.service" <<'EOF'
[Unit]
Description=Static address for qemu user networking
BindsTo=sys-subsystem-net-devices-eth0.device
After=sys-subsystem-net-devices-eth0.device
Before=network.target
Wants=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/ip link set eth0 up
ExecStart=/usr/sbin/ip addr replace 10.0.2.15/24 dev eth0

[Install]
WantedBy=sys-subsystem-net-devices-eth0.device multi-user.target
EOF
	chroot_run systemctl enable zferry-net.service
	chroot_run systemctl disable systemd-networkd.service \
	    systemd-networkd.socket 2>/dev/null || true
	rm -f "$ROOT/etc/systemd/network/10-qemu.network"
	# units that only cost CPU under emulation, or wait for nothing.
	# udev-settle (~12 s under TCG) is only there for zfs-load-module's
	# After=; loading the module needs no settled devices.
	chroot_run systemctl mask systemd-networkd-wait-online.service \
	    systemd-udev-settle.service systemd-binfmt.service \
	    proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
	    sys-kernel-debug.mount sys-kernel-tracing.mount \
	    dev-hugepages.mount getty-static.service \
	    serial-getty@ttyS0.service \
	    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
	    e2scrub_all.timer e2scrub_reap.service fstrim.timer \
	    systemd-pstore.service getty@tty1.service
	# pools are made by the cases; only the module load stays on at boot
	chroot_run systemctl disable zfs-import-cache.service \
	    zfs-import-scan.service zfs-mount.service zfs-share.service \
	    zfs-zed.service zfs-volume-wait.service 2>/dev/null || true
	mkdir -p "$ROOT/etc/systemd/journald.conf.d"
	printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' \
	    >"$ROOT/etc/systemd/journald.conf.d/volatile.conf"
	# an empty machine-id makes every boot a first boot
	if [ ! -s "$ROOT/etc/machine-id" ]; then
		od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$ROOT/etc/machine-id"
		echo >>"$ROOT/etc/machine-id"
	fi

	mkdir -p "$ROOT/etc/ssh/sshd_config.d"
	cat >"$ROOT/etc/ssh/sshd_config.d/zferry.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 64:30:128
MaxSessions 64
ClientAliveInterval 30
ClientAliveCountMax 10
EOF
	[ -e "$ROOT/etc/ssh/ssh_host_ed25519_key" ] || chroot_run ssh-keygen -A
	# "type key" lines; boot.sh names them for the forwarded port
	cat "$ROOT"/etc/ssh/ssh_host_*_key.pub | cut -d' ' -f1,2 \
	    >"$OZ_IMAGE/host_keys.pub"
	# the host's client key: logs in as root and as the test user
	[ -e "$OZ_IMAGE/client_ed25519" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C zferry-openzfs-host \
		-f "$OZ_IMAGE/client_ed25519"

	# root: own key for ssh localhost inside the guest, pinned host keys
	install -d -m 700 "$ROOT/root/.ssh"
	[ -e "$ROOT/root/.ssh/id_ed25519" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C root@zferry-guest \
		-f "$ROOT/root/.ssh/id_ed25519"
	cat "$OZ_IMAGE/client_ed25519.pub" "$ROOT/root/.ssh/id_ed25519.pub" \
	    >"$ROOT/root/.ssh/authorized_keys"
	known_hosts_for localhost 127.0.0.1 ::1 zferry-guest \
	    >"$ROOT/root/.ssh/known_hosts"
	chmod 600 "$ROOT/root/.ssh/authorized_keys" "$ROOT/root/.ssh/known_hosts"
	chroot_run passwd -l root >/dev/null

	# the unprivileged user: no password ('*', not a locked '!'), its own
	# key, reachable from root, itself and the host
	chroot_run id -u "$GUEST_USER" >/dev/null 2>&1 ||
	    chroot_run useradd -m -u "$GUEST_UID" -s /bin/bash "$GUEST_USER"
	chroot_run usermod -p '*' "$GUEST_USER"
	install -d -m 700 -o "$GUEST_UID" -g "$GUEST_UID" "$home/.ssh"
	[ -e "$home/.ssh/id_ed25519" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C "$GUEST_USER@zferry-guest" \
		-f "$home/.ssh/id_ed25519"
	cat "$OZ_IMAGE/client_ed25519.pub" "$ROOT/root/.ssh/id_ed25519.pub" \
	    "$home/.ssh/id_ed25519.pub" >"$home/.ssh/authorized_keys"
	cp "$ROOT/root/.ssh/known_hosts" "$home/.ssh/known_hosts"
	chown -R "$GUEST_UID:$GUEST_UID" "$home/.ssh"
	chmod 600 "$home/.ssh/authorized_keys" "$home/.ssh/known_hosts" \
	    "$home/.ssh/id_ed25519"

	# where run.sh puts the binary and the cases
	install -d -m 755 "$ROOT/opt/zferry"

	sed -i 's/^MODULES=.*/MODULES=list/' \
	    "$ROOT/etc/initramfs-tools/initramfs.conf"
	chroot_run update-initramfs -u -k "$kver"
}

stage_pack() {
	local kver
	kver=$(guest_kver)
	umount_root
	[ -z "$(mounts_under_root)" ] || oz_die "mounts left under $ROOT"
	rm -f "$OZ_WORK/rootfs.raw" "$OZ_IMAGE/base.qcow2"
	mkfs.ext4 -q -F -L zferry-root -E root_owner=0:0 -d "$ROOT" \
	    "$OZ_WORK/rootfs.raw" "$IMG_SIZE"
	qemu-img convert -c -f raw -O qcow2 "$OZ_WORK/rootfs.raw" \
	    "$OZ_IMAGE/base.qcow2"
	rm -f "$OZ_WORK/rootfs.raw"
	cp "$ROOT/boot/vmlinuz-$kver" "$OZ_IMAGE/vmlinuz"
	cp "$ROOT/boot/initrd.img-$kver" "$OZ_IMAGE/initrd.img"
	{
		echo "key=$OZ_KEY"
		echo "kernel=$kver"
		echo "zfsutils=$(chroot "$ROOT" dpkg-query -W -f='${Version}' zfsutils-linux)"
		echo "suite=$ZFS_SUITE"
		echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	} >"$OZ_IMAGE/manifest"
	du -sh "$OZ_IMAGE"
}

t_all=$SECONDS
rm -f "$OZ_IMAGE/.complete"
stage bootstrap
mount_root
stage kernel
stage zfs
stage slim
stage configure
stage pack
touch "$OZ_IMAGE/.complete"
echo "total $((SECONDS - t_all))" >>"$LOGS/timings"
cache_store replace
[ "$ZFERRY_OZ_KEEP_ROOTFS" = 1 ] || wipe_rootfs
oz_log "built in $((SECONDS - t_all))s: $(tr '\n' ' ' <"$OZ_IMAGE/manifest")"
