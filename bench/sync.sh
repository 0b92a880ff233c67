#!/usr/bin/env bash
# bench/sync.sh [--quick] ZFERRY: an incremental round of 12 small datasets
# (one new snapshot each), measured side by side in one run:
#
#   sync_vs_syncoid_local  syncoid -r --no-sync-snap time / zferry sync -r
#                          time, on this host
#   sync_vs_ssh_loop       a loop of one "zfs send -I | ssh zfs receive"
#                          per dataset / zferry sync -r over ssh, both to
#                          the loopback sshd
#   sync_j1_vs_ssh_loop    the same loop / zferry sync -r -j 1 over ssh
#   sync_j1_vs_syncoid_local  syncoid / zferry sync -r -j 1, on this host
#
# Each round takes one new recursive snapshot, then runs the contenders in
# turn (their order alternates round by round); the ratios are of medians.
# Real zfs-fuse pools on sparse files and a real sshd, all removed at exit.
set -euo pipefail
rounds=7
j1=true # also time zferry at -j 1
if [ "${1:-}" = --quick ]; then
	# make bench-quick stays under a minute: 2 rounds, the defaults only
	rounds=2
	j1=false
	shift
fi
zferry=$(readlink -f "${1:-build/zferry}")
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib/env.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench/sync.sh: needs root" >&2; exit 1; }
command -v syncoid >/dev/null || { echo "bench/sync.sh: syncoid missing (scripts/install-deps bench)" >&2; exit 1; }

work=$(mktemp -d /tmp/zferry-bench-sync.XXXXXX)
src=zfbench$$src
dst=zfbench$$dst
trap 'set +e; env_teardown "$work" "$src" "$dst"' EXIT
env_zfs_ensure "$work"
env_pool "$src" "$work/src.img" 512M
env_pool "$dst" "$work/dst.img" 1G
zfs create "$src/data"
for i in $(seq -w 1 12); do
	zfs create "$src/data/ds$i"
	seq 1 2000 >"/$src/data/ds$i/file"
done
zfs snapshot -r "$src/data@r0"
# the sshd's sessions get an empty ~/.bashrc: this machine's root .bashrc
# runs "pyenv init" (about 120 ms and 100 processes per session), which is
# not what a backup server does; both contenders go through this sshd
ENV_SSHD_PLAIN_SHELL=1 env_sshd "$work/sshd"
ssh_opts=(--ssh-port "$SSH_PORT" --ssh-key "$SSH_KEY" --known-hosts "$SSH_KNOWN")
ssh_cmd=(ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$SSH_KNOWN"
	-i "$SSH_KEY" -p "$SSH_PORT" -l root)

# the starting point for every contender: a full copy of r0
targets="zferry syncoid zferry-ssh loop"
! $j1 || targets="$targets zferry1 zferry-ssh1"
for t in $targets; do
	[ $t = syncoid ] || "$zferry" sync -q -r "$src/data" "$dst/$t"
done
syncoid -r --no-sync-snap --quiet "$src/data" "$dst/syncoid" >/dev/null 2>&1

now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }

run_zferry() { "$zferry" sync -q -r "$src/data" "$dst/zferry"; }
run_zferry1() { "$zferry" sync -q -r -j 1 "$src/data" "$dst/zferry1"; }
run_syncoid() { syncoid -r --no-sync-snap --quiet "$src/data" "$dst/syncoid" >/dev/null 2>&1; }
run_zferry_ssh() { "$zferry" sync -q -r "${ssh_opts[@]}" "$src/data" "root@127.0.0.1:$dst/zferry-ssh"; }
run_zferry_ssh1() { "$zferry" sync -q -r -j 1 "${ssh_opts[@]}" "$src/data" "root@127.0.0.1:$dst/zferry-ssh1"; }
run_loop() {
	local prev=$1 new=$2 d
	for d in "" $(seq -f "/ds%02g" 1 12); do
		zfs send -I "@$prev" "$src/data$d@$new" |
		    "${ssh_cmd[@]}" -- 127.0.0.1 "zfs receive -F '$dst/loop$d'"
	done
}

declare -a tz tz1 ts tzs tzs1 tl
prev=r0
for r in $(seq 1 "$rounds"); do
	zfs snapshot -r "$src/data@r$r"
	for d in $(seq -w 1 12); do date +%N >>"/$src/data/ds$d/file"; done
	zfs snapshot -r "$src/data@r${r}b"
	# alternate who goes first
	if [ $((r % 2)) -eq 1 ]; then order="z z1 s zs zs1 l"; else order="l zs1 zs s z1 z"; fi
	$j1 || order=$(echo "$order" | sed 's/ *z[s]*1//g')
	for who in $order; do
		t0=$(now)
		case $who in
		z) run_zferry ;;
		z1) run_zferry1 ;;
		s) run_syncoid ;;
		zs) run_zferry_ssh ;;
		zs1) run_zferry_ssh1 ;;
		l) run_loop "$prev" "r${r}b" ;;
		esac
		t1=$(now)
		case $who in
		z) tz+=("$(ms "$t0" "$t1")") ;;
		z1) tz1+=("$(ms "$t0" "$t1")") ;;
		s) ts+=("$(ms "$t0" "$t1")") ;;
		zs) tzs+=("$(ms "$t0" "$t1")") ;;
		zs1) tzs1+=("$(ms "$t0" "$t1")") ;;
		l) tl+=("$(ms "$t0" "$t1")") ;;
		esac
	done
	prev="r${r}b"
done

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mz=$(median "${tz[@]}")
mz1=$($j1 && median "${tz1[@]}" || echo n/a)
msy=$(median "${ts[@]}")
mzs=$(median "${tzs[@]}")
mzs1=$($j1 && median "${tzs1[@]}" || echo n/a)
ml=$(median "${tl[@]}")
# the targets match the source, snapshot for snapshot
for t in $targets; do
	a=$(zfs get -Hp -o value guid "$src/data/ds07@$prev")
	b=$(zfs get -Hp -o value guid "$dst/$t/ds07@$prev")
	[ "$a" = "$b" ] || { echo "bench/sync.sh: $t did not arrive" >&2; exit 1; }
done
echo "# sync: 12 datasets + their parent, one new snapshot (two with -I) each, $rounds rounds, medians in ms:"
echo "# zferry sync -r local ${mz}, with -j 1 ${mz1}, syncoid -r --no-sync-snap local ${msy}, zferry sync -r over ssh ${mzs}, with -j 1 ${mzs1}, ssh loop ${ml}"
echo "sync_local_ms=$mz"
! $j1 || echo "sync_local_j1_ms=$mz1"
echo "syncoid_local_ms=$msy"
echo "sync_ssh_ms=$mzs"
! $j1 || echo "sync_ssh_j1_ms=$mzs1"
echo "ssh_loop_ms=$ml"
awk -v a="$msy" -v b="$mz" 'BEGIN { printf "sync_vs_syncoid_local=%.2f\n", a / b }'
! $j1 || awk -v a="$msy" -v b="$mz1" 'BEGIN { printf "sync_j1_vs_syncoid_local=%.2f\n", a / b }'
awk -v a="$ml" -v b="$mzs" 'BEGIN { printf "sync_vs_ssh_loop=%.2f\n", a / b }'
! $j1 || awk -v a="$ml" -v b="$mzs1" 'BEGIN { printf "sync_j1_vs_ssh_loop=%.2f\n", a / b }'
