# scripts/lib/env.sh: the real systems zferry's demo and tests run on: a
# zfs-fuse daemon, file-backed pools, and an sshd on 127.0.0.1 with its own
# keys.  Sourced by scripts/demo.sh and tests/integration/lib.sh.  Each
# function cleans up only what it made.
#
# shellcheck shell=bash

# env_wait SECONDS CMD...: runs CMD until it succeeds, at most SECONDS
env_wait() {
	local limit=$1 end
	shift
	end=$(($(date +%s%N) / 1000000 + limit * 1000))
	until "$@" >/dev/null 2>&1; do
		[ $(($(date +%s%N) / 1000000)) -lt $end ] || return 1
		sleep 0.05
	done
}

env_zfs_running() { zpool list >/dev/null 2>&1; }

# env_zfs_start PIDFILE: starts a zfs-fuse daemon and waits for it.  Called
# when none runs: a PIDFILE left by an earlier daemon is stale, and
# zfs-fuse refuses to start while it exists ("already exists; aborting").
env_zfs_start() {
	rm -f "$1"
	zfs-fuse --pidfile "$1" --no-kstat-mount >/dev/null 2>&1 || return 1
	env_wait 20 env_zfs_running
}

# env_zfs_stop PIDFILE: stops the daemon PIDFILE names, if it is zfs-fuse
env_zfs_stop() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 0
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = zfs-fuse ] || return 0
	kill -TERM "$pid"
	env_wait 30 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid"
	# zfs-fuse leaves it behind, and would not start again over it
	rm -f "$1"
}

# env_pool NAME FILE [SIZE]: a pool on a sparse file, mounted at /NAME
env_pool() {
	truncate -s "${3:-160M}" "$2"
	zpool create -m "/$1" "$1" "$2" >/dev/null 2>&1
}

# env_pool_destroy NAME: destroys it, retrying while a receive lets go,
# and removes its mountpoint /NAME, which zfs-fuse leaves behind (only if
# empty: rmdir)
env_pool_destroy() {
	local i
	if zpool list -H -o name "$1" >/dev/null 2>&1; then
		for i in 1 2 3 4 5 6 7 8 9 10; do
			zpool destroy -f "$1" >/dev/null 2>&1 && break
			[ "$i" -lt 10 ] || return 1
			sleep 0.3
		done
	fi
	rmdir "/$1" 2>/dev/null || true
}

# env_free_port: a TCP port on 127.0.0.1 that nothing listens on
env_free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		ss -Htln "sport = :$p" | grep -q . || {
			echo "$p"
			return
		}
	done
}

# env_sshd DIR: starts an sshd on 127.0.0.1 for root, with a host key, a
# client key, authorized_keys and known_hosts of its own under DIR.  Sets
# SSH_PORT, SSH_KEY (client key), SSH_KNOWN (known_hosts) and SSHD_PID.
env_sshd() {
	local d=$1
	mkdir -p "$d" /run/sshd
	chmod 700 "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" -C zferry-host
	ssh-keygen -q -t ed25519 -N '' -f "$d/client_key" -C zferry-client
	cp "$d/client_key.pub" "$d/authorized_keys"
	SSH_PORT=$(env_free_port)
	printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" \
	    "$(cut -d' ' -f1,2 "$d/host_key.pub")" >"$d/known_hosts"
	cat >"$d/sshd_config" <<-CFG
		Port $SSH_PORT
		ListenAddress 127.0.0.1
		HostKey $d/host_key
		PidFile $d/sshd.pid
		AuthorizedKeysFile $d/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		PrintMotd no
	CFG
	if [ "${ENV_SSHD_PLAIN_SHELL:-0}" = 1 ] && [ -f "$HOME/.bashrc" ]; then
		# Debian's bash reads ~/.bashrc even for "ssh host command";
		# this sshd's sessions see an empty one (a private mount
		# namespace), as on a server whose root shell starts plainly
		: >"$d/empty_bashrc"
		unshare --mount --propagation private sh -c \
		    'mount --bind "$1" "$2" && exec /usr/sbin/sshd -f "$3" -D -e' \
		    sh "$d/empty_bashrc" "$HOME/.bashrc" "$d/sshd_config" \
		    2>"$d/sshd.log" &
	else
		/usr/sbin/sshd -f "$d/sshd_config" -D -e 2>"$d/sshd.log" &
	fi
	SSHD_PID=$!
	SSH_KEY=$d/client_key
	SSH_KNOWN=$d/known_hosts
	env_wait 20 ssh -o BatchMode=yes -o StrictHostKeyChecking=yes \
	    -o UserKnownHostsFile="$SSH_KNOWN" -i "$SSH_KEY" -p "$SSH_PORT" \
	    root@127.0.0.1 true
}

# env_zfs_ensure WORKDIR: starts a zfs-fuse daemon (pidfile in WORKDIR)
# unless one runs; ENV_STARTED_ZFS says whether this call started it
env_zfs_ensure() {
	ENV_STARTED_ZFS=no
	env_zfs_running && return 0
	env_zfs_start "$1/zfs-fuse.pid"
	ENV_STARTED_ZFS=yes
}

# env_teardown WORKDIR POOL...: stops env_sshd's sshd, destroys the pools,
# stops the daemon if env_zfs_ensure started it, and removes WORKDIR
env_teardown() {
	local work=$1 p
	shift
	env_sshd_stop
	for p in "$@"; do
		env_pool_destroy "$p"
	done
	[ "${ENV_STARTED_ZFS:-no}" = no ] || env_zfs_stop "$work/zfs-fuse.pid"
	rm -rf "$work"
}

# env_sshd_stop: stops the sshd env_sshd started
env_sshd_stop() {
	[ -n "${SSHD_PID:-}" ] || return 0
	kill -TERM "$SSHD_PID" 2>/dev/null || true
	wait "$SSHD_PID" 2>/dev/null || true
	SSHD_PID=
}
