#!/usr/bin/env bash
# demo.sh ZFERRY: a real replication on file-backed zfs-fuse pools, locally
# and over ssh to 127.0.0.1, then everything removed again: the pools, the
# sshd and its keys, and the zfs-fuse daemon if this script started it.
set -euo pipefail
zferry=$(readlink -f "${1:-build/zferry}")
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib/env.sh"

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (zfs-fuse pools, sshd)" >&2; exit 1; }
work=$(mktemp -d /tmp/zferry-demo.XXXXXX)
src=zfdemo$$src
dst=zfdemo$$dst
cleanup() {
	set +e
	env_teardown "$work" "$src" "$dst"
	echo "== cleaned up: pools, sshd, keys$([ "${ENV_STARTED_ZFS:-no}" = no ] || echo ', zfs-fuse daemon')"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
show() {
	printf '$'
	printf ' %q' "$@"
	printf '\n'
	"$@"
}

env_zfs_running || say "starting the zfs-fuse daemon"
env_zfs_ensure "$work"
say "two pools on files: $src and $dst"
env_pool "$src" "$work/src.img"
env_pool "$dst" "$work/dst.img"
zfs create "$src/projects"
head -c 8M /dev/urandom >"/$src/projects/data.bin"
echo "first version" >"/$src/projects/notes.txt"
show zfs snapshot "$src/projects@monday"
echo "second version" >"/$src/projects/notes.txt"
show zfs snapshot "$src/projects@tuesday"

say "local replication: a full stream, then an incremental one"
show "$zferry" send "$src/projects@monday" "$dst/local copy"
show "$zferry" send -i @monday "$src/projects@tuesday" "$dst/local copy"
cmp "/$src/projects/data.bin" "/$dst/local copy/data.bin"
show cat "/$dst/local copy/notes.txt"

say "an sshd of our own on 127.0.0.1 (own host key, client key, known_hosts)"
env_sshd "$work/sshd"
echo "sshd listening on port $SSH_PORT"
ssh_opts=(--ssh-port "$SSH_PORT" --ssh-key "$SSH_KEY" --known-hosts "$SSH_KNOWN")

say "replication over ssh: push every snapshot with -I"
show "$zferry" send "${ssh_opts[@]}" "$src/projects@monday" "root@127.0.0.1:$dst/over ssh"
show "$zferry" send "${ssh_opts[@]}" -I monday "$src/projects@tuesday" "root@127.0.0.1:$dst/over ssh"
cmp "/$src/projects/data.bin" "/$dst/over ssh/data.bin"

say "a tree with zferry sync: first run, then a catch-up, over the same ssh"
zfs create "$src/projects/web"
zfs create "$src/projects/db files"
echo "hello" >"/$src/projects/web/index.html"
echo "rows" >"/$src/projects/db files/table"
show "$zferry" sync -r --snapshot -j 2 "${ssh_opts[@]}" "$src/projects" "root@127.0.0.1:$dst/tree"
echo "more rows" >>"/$src/projects/db files/table"
show "$zferry" sync -r --snapshot "${ssh_opts[@]}" "$src/projects" "root@127.0.0.1:$dst/tree"
show "$zferry" sync -r "${ssh_opts[@]}" "$src/projects" "root@127.0.0.1:$dst/tree"

say "what arrived (snapshot guids match the source)"
show zfs list -t all -o name,used -r "$dst"
show zfs get -Hp -o name,value guid "$src/projects@tuesday" "$dst/local copy@tuesday" "$dst/over ssh@tuesday"

say "an unknown host key is refused, never trusted on first use"
: >"$work/empty_known_hosts"
rc=0
"$zferry" send --ssh-port "$SSH_PORT" --ssh-key "$SSH_KEY" --known-hosts "$work/empty_known_hosts" \
    "$src/projects@monday" "root@127.0.0.1:$dst/refused" || rc=$?
echo "exit status $rc"
