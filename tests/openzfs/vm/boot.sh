#!/usr/bin/env bash
# tests/openzfs/vm/boot.sh: boots the image from build-image.sh under qemu
# TCG (no KVM) on a fresh copy-on-write overlay and waits until the guest's
# sshd answers and the zfs module is loaded.
#
#   tests/openzfs/vm/boot.sh         # then: ssh -F $OZ_RUN/ssh_config zferry-guest
#
# Writes into $OZ_RUN (see common.sh):
#   ssh_config    host alias zferry-guest: root, the image's client key,
#                 pinned host keys, BatchMode, one shared ControlMaster
#                 connection (a new ssh costs ~1 s under TCG, a shared one
#                 ~0.15 s)
#   known_hosts   the guest's host keys as [127.0.0.1]:PORT (for programs
#                 that take a known_hosts file and a port, like zferry)
#   port          the forwarded host port
#   qemu.pid, console.log, overlay.qcow2
# Stop it with stop.sh.  If this script fails, it stops the guest itself.
#
# Knobs: ZFERRY_OZ_PORT (default: first free port from 2230),
#        ZFERRY_OZ_MEM=2048, ZFERRY_OZ_SMP=2, ZFERRY_OZ_BOOT_TIMEOUT=300 (s)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/common.sh
. "$here/common.sh"

mem=${ZFERRY_OZ_MEM:-2048}
smp=${ZFERRY_OZ_SMP:-2}
boot_timeout=${ZFERRY_OZ_BOOT_TIMEOUT:-300}

[ -e "$OZ_IMAGE/.complete" ] || oz_die "no image in $OZ_IMAGE: run build-image.sh"
command -v qemu-system-x86_64 >/dev/null ||
    oz_die "qemu-system-x86_64 missing: run scripts/install-deps openzfs"
if pid=$(oz_qemu_pid); then
	oz_die "a guest of $OZ_WORK already runs (pid $pid): stop.sh first"
fi
mkdir -p "$OZ_RUN"
rm -f "$OZ_RUN"/cm-* "$OZ_RUN/port" "$OZ_PIDFILE"
chmod 600 "$OZ_IMAGE/client_ed25519"

# a half-booted guest is of no use to anyone: stop it when we fail
booted=no
stop_unless_booted() {
	[ "$booted" = yes ] || "$here/stop.sh" || true
}
trap stop_unless_booted EXIT

qemu-img create -q -f qcow2 -F qcow2 -b "$OZ_IMAGE/base.qcow2" \
    "$OZ_RUN/overlay.qcow2"

# start_qemu PORT: starts the guest with PORT forwarded to its sshd; fails
# (without leaving a qemu behind) when the port cannot be bound
start_qemu() {
	# -accel tcg,thread=multi: one host thread per vcpu (MTTCG); -smp 1
	# boots 60 % slower.  Direct kernel boot skips firmware disk probing.
	# restrict=on: the guest reaches nothing outside qemu; hostfwd still
	# works.  cache=unsafe: the overlay is thrown away anyway.  quiet: the
	# emulated serial console is slow; errors still reach console.log.
	qemu-system-x86_64 \
	    -name zferry-guest \
	    -machine q35 -accel tcg,thread=multi -cpu max \
	    -smp "$smp" -m "$mem" \
	    -kernel "$OZ_IMAGE/vmlinuz" -initrd "$OZ_IMAGE/initrd.img" \
	    -append 'root=/dev/vda rw console=ttyS0 fsck.mode=skip mitigations=off nokaslr panic=-1 net.ifnames=0 quiet' \
	    -drive "file=$OZ_RUN/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap" \
	    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$1-:22" \
	    -device virtio-net-pci,netdev=n0,romfile= \
	    -device virtio-rng-pci \
	    -display none -vga none -serial "file:$OZ_RUN/console.log" \
	    -no-reboot -daemonize -pidfile "$OZ_PIDFILE" \
	    2>"$OZ_RUN/qemu.err"
}

# a free port: the first of 2230..2299 nobody listens on.  Another process
# may take it between the check and qemu's bind: then qemu fails and the
# next port is tried.
port=${ZFERRY_OZ_PORT:-}
t0=$SECONDS
started=no
for candidate in ${port:-$(seq 2230 2299)}; do
	if oz_port_busy "$candidate"; then
		[ -z "$port" ] || oz_die "127.0.0.1:$port is in use (ZFERRY_OZ_PORT)"
		continue
	fi
	if start_qemu "$candidate"; then
		port=$candidate
		started=yes
		break
	fi
	grep -q 'hostfwd\|host forwarding' "$OZ_RUN/qemu.err" ||
	    oz_die "qemu failed: $(cat "$OZ_RUN/qemu.err")"
	[ -z "$port" ] || oz_die "cannot forward $port: $(cat "$OZ_RUN/qemu.err")"
done
[ "$started" = yes ] || oz_die "no free port in 2230-2299"
pid=$(oz_qemu_pid) || oz_die "qemu did not start: $(cat "$OZ_RUN/qemu.err")"
echo "$port" >"$OZ_RUN/port"
oz_log "qemu pid $pid, ssh on 127.0.0.1:$port, console $OZ_RUN/console.log"

{
	while read -r type key; do
		printf '[127.0.0.1]:%s %s %s\n' "$port" "$type" "$key"
	done <"$OZ_IMAGE/host_keys.pub"
} >"$OZ_RUN/known_hosts"
cat >"$OZ_RUN/ssh_config" <<EOF
Host $OZ_HOST
	HostName 127.0.0.1
	Port $port
	User root
	IdentityFile $OZ_IMAGE/client_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $OZ_RUN/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	ConnectTimeout 20
	ServerAliveInterval 15
	ServerAliveCountMax 8
	ControlMaster auto
	ControlPath $OZ_RUN/cm-%C
	ControlPersist 1800
	LogLevel ERROR
EOF

# Poll sshd.  qemu accepts on the host port at once and connects to the
# guest behind it; until the guest's network is up that connect hangs in
# SYN retries, so a try must give up quickly (ConnectTimeout bounds the wait
# for sshd's banner too, not the key exchange after it) or the first login
# comes seconds late.  The pause only keeps the loop from spinning.
until timeout 60 ssh -F "$OZ_RUN/ssh_config" -o ControlMaster=no \
    -o ConnectTimeout=3 "$OZ_HOST" true 2>/dev/null; do
	oz_qemu_pid >/dev/null || {
		tail -n 30 "$OZ_RUN/console.log" >&2
		oz_die "qemu exited while booting"
	}
	[ $((SECONDS - t0)) -lt "$boot_timeout" ] || {
		tail -n 30 "$OZ_RUN/console.log" >&2
		oz_die "no ssh after ${boot_timeout}s"
	}
	sleep 1
done
oz_log "ssh ready after $((SECONDS - t0))s"
# the shared connection: started here with its stdio on files, so that it
# holds no pipe of a caller open (stop.sh ends it)
ssh -F "$OZ_RUN/ssh_config" -o ControlMaster=yes -f -N "$OZ_HOST" \
    </dev/null >/dev/null 2>>"$OZ_RUN/ssh-master.log" ||
    oz_die "cannot start the shared ssh connection: $(cat "$OZ_RUN/ssh-master.log")"
oz_ssh 'modprobe zfs && test -c /dev/zfs' ||
    oz_die "cannot load the zfs module in the guest"
oz_log "guest ready after $((SECONDS - t0))s: $(oz_ssh 'zfs version | head -n 1')"
booted=yes
