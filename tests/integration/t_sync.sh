#!/usr/bin/env bash
# zferry sync on zfs-fuse, locally and through the loopback sshd: a first
# sync and a catch-up of a tree (a clone, a name with a space), -j 2,
# nothing to do, a renamed snapshot still matched by guid, diverged and
# unrelated targets refused and untouched (and --force), --dry-run, the
# metrics file, --exclude, --skip-parent, --bwlimit over parallel
# transfers, --snapshot, and one ssh login per run.
. "$(dirname "$0")/lib.sh"

t_sshd
t_pool src 512M
SRC=$POOL
t_pool dst 512M
DST=$POOL
R="root@127.0.0.1"

# the tree: $SRC/data with children, one with a space, a deeper one, and a
# clone of one of them
zfs create "$SRC/data"
for d in a "b c" a/deep; do
	zfs create "$SRC/data/$d"
	seq 1 20000 >"/$SRC/data/$d/file.txt"
done
zfs snapshot -r "$SRC/data@s1"
zfs clone "$SRC/data/a@s1" "$SRC/data/clone"
echo two >>"/$SRC/data/a/file.txt"
zfs snapshot -r "$SRC/data@s2"

# same_snaps SRCDS DSTDS: the same snapshot guids, in the same order
same_snaps() {
	local a b
	a=$(zfs list -H -o name -t snapshot -r "$1" | grep -F "$1@" | while read -r s; do t_guid "$s"; done)
	b=$(zfs list -H -o name -t snapshot -r "$2" | grep -F "$2@" | while read -r s; do t_guid "$s"; done)
	[ -n "$a" ] && [ "$a" = "$b" ] || t_fail "snapshots differ: '$1' ($a) vs '$2' ($b)"
}

check_tree() {
	local d
	for d in "" /a "/b c" /a/deep /clone; do
		same_snaps "$SRC/data$d" "$1$d"
	done
}

# --dry-run: the plan, and nothing created
t_run sync -r -n --json "$SRC/data" "$DST/copy"
t_expect_rc 0 "dry run"
grep -q '"event":"plan".*"kind":"full"' "$OUT" || t_fail "dry run: no full step planned: $(cat "$OUT")"
[ "$(grep -c '"event":"plan"' "$OUT")" -ge 5 ] || t_fail "dry run: too few plan events"
zfs list "$DST/copy" >/dev/null 2>&1 && t_fail "dry run created the target"
t_ok "--dry-run plans (full for each dataset) and creates nothing"

# first sync of the tree, locally, two at a time
t_run sync -r -j 2 --metrics-file "$T_DIR/metrics.prom" "$SRC/data" "$DST/copy"
t_expect_rc 0 "first sync"
check_tree "$DST/copy"
zfs get -Hp -o value origin "$DST/copy/clone" | grep -q "^$DST/copy/a@s1$" ||
    t_fail "the clone did not arrive as a clone of its origin: $(zfs get -H -o value origin "$DST/copy/clone")"
grep -q "zferry_sync_consecutive_failures{source=\"$SRC/data/b c\",target=\"$DST/copy/b c\"} 0" "$T_DIR/metrics.prom" ||
    t_fail "metrics: $(cat "$T_DIR/metrics.prom")"
grep -q '^zferry_sync_last_success_timestamp_seconds{.*} [1-9][0-9]*$' "$T_DIR/metrics.prom" ||
    t_fail "metrics: no success time"
t_ok "first sync of a tree with a clone and a space: identical guids, clone kept"

# nothing to do: exit 0, every dataset skipped
t_run sync -r --json "$SRC/data" "$DST/copy"
t_expect_rc 0 "nothing to do"
grep -q '"event":"summary","ok":0,"skipped":5,"failed":0,"transient":0' "$OUT" ||
    t_fail "nothing to do: $(grep summary "$OUT")"
t_ok "nothing to do: exit 0, all skipped"

# catch-up after new snapshots, and a renamed one still matches by guid
for d in "" /a "/b c" /a/deep /clone; do
	date +%N >>"/$SRC/data$d/new.txt"
done
zfs snapshot -r "$SRC/data@s3"
zfs rename "$SRC/data/a@s2" "$SRC/data/a@renamed"
t_run sync -r -j 2 "$SRC/data" "$DST/copy"
t_expect_rc 0 "catch-up"
check_tree "$DST/copy" 2>/dev/null || true
same_snaps "$SRC/data/b c" "$DST/copy/b c"
[ "$(t_guid "$DST/copy/a@s3")" = "$(t_guid "$SRC/data/a@s3")" ] || t_fail "catch-up: a@s3 missing"
[ "$(t_guid "$DST/copy/a@s2")" = "$(t_guid "$SRC/data/a@renamed")" ] ||
    t_fail "renamed snapshot: the target's s2 is not the source's renamed one"
t_ok "catch-up with -j 2; a renamed source snapshot is matched by guid"

# a diverged target is refused, untouched; --force rolls it back
zfs snapshot "$DST/copy/b c@local"
date +%N >>"/$SRC/data/b c/new.txt"
zfs snapshot "$SRC/data/b c@s4"
before=$(zfs list -H -o name -t snapshot -r "$DST/copy/b c")
t_run sync "$SRC/data/b c" "$DST/copy/b c"
t_expect_rc 1 "diverged target"
t_expect_err "newer than the common snapshot" "diverged: says what diverged"
t_expect_err "$DST/copy/b c@local" "diverged: names the newer snapshot"
[ "$(zfs list -H -o name -t snapshot -r "$DST/copy/b c")" = "$before" ] || t_fail "diverged target was changed"
t_run sync --metrics-file "$T_DIR/metrics.prom" "$SRC/data/b c" "$DST/copy/b c"
t_run sync --metrics-file "$T_DIR/metrics.prom" "$SRC/data/b c" "$DST/copy/b c"
t_expect_rc 1 "diverged target, again"
grep -q "zferry_sync_consecutive_failures{source=\"$SRC/data/b c\",target=\"$DST/copy/b c\"} 2" "$T_DIR/metrics.prom" ||
    t_fail "metrics: consecutive failures not counted: $(cat "$T_DIR/metrics.prom")"
t_run sync --force "$SRC/data/b c" "$DST/copy/b c"
t_expect_rc 0 "diverged target with --force"
same_snaps "$SRC/data/b c" "$DST/copy/b c"
t_ok "a diverged target is refused and untouched; --force rolls it back"

# an unrelated target is refused and untouched
zfs create "$DST/other"
zfs snapshot "$DST/other@mine"
t_run sync "$SRC/data/a" "$DST/other"
t_expect_rc 1 "unrelated target"
t_expect_err "shares no snapshot" "unrelated target"
[ "$(zfs list -H -o name -t snapshot -r "$DST/other")" = "$DST/other@mine" ] || t_fail "unrelated target changed"
t_ok "an unrelated target is refused and untouched"

# --exclude and --skip-parent
t_run sync -r --skip-parent --exclude '/deep$' --exclude 'clone' "$SRC/data" "$DST/partial"
t_expect_rc 1 "skip-parent without a target parent"
zfs create "$DST/partial"
t_run sync -r --skip-parent --exclude '/deep$' --exclude 'clone' "$SRC/data" "$DST/partial"
t_expect_rc 0 "--exclude, --skip-parent"
zfs list "$DST/partial/a" >/dev/null 2>&1 || t_fail "exclude: a missing"
zfs list "$DST/partial/b c" >/dev/null 2>&1 || t_fail "exclude: 'b c' missing"
zfs list "$DST/partial/a/deep" >/dev/null 2>&1 && t_fail "exclude: a/deep was sent"
zfs list "$DST/partial/clone" >/dev/null 2>&1 && t_fail "exclude: clone was sent"
[ -z "$(zfs list -H -o name -t snapshot -d 1 "$DST/partial" | grep -F "$DST/partial@")" ] ||
    t_fail "skip-parent: the parent got snapshots"
t_ok "--exclude and --skip-parent"

# --bwlimit is on the sum of the parallel transfers: 3 MiB of new data in
# three datasets at 1 MiB/s take 3 s with -j 3, not the 1 s of a limit per
# transfer
for d in a "b c" a/deep; do
	head -c 1048576 /dev/urandom >"/$SRC/data/$d/random"
done
zfs snapshot -r "$SRC/data@limited"
t_run sync -r -j 3 --json --bwlimit 1M "$SRC/data" "$DST/copy"
t_expect_rc 0 "rate-limited sync"
bytes=$(t_json_field summary bytes)
secs=$(t_json_field summary seconds)
want=$(echo "$bytes / 1048576" | bc -l)
t_log "sync -j 3 --bwlimit 1M: $bytes bytes in $secs s, at least $want s"
echo "$secs $want" | awk '{ exit !($1 >= $2 * 0.97 && $1 <= $2 + 3) }' ||
    t_fail "sync -j 3 --bwlimit 1M: $secs s for $bytes bytes (expected $want s)"
check_tree "$DST/copy"
t_ok "--bwlimit limits the sum of a sync's parallel transfers ($secs s for $bytes bytes)"

# over ssh: push and pull of the tree, one ssh login per run
logins() { grep -c 'Accepted publickey' "$T_DIR/sshd/sshd.log" || true; }
n0=$(logins)
t_run sync -r -j 2 --snapshot "${SSH_OPTS[@]}" "$SRC/data" "$R:$DST/pushed"
t_expect_rc 0 "push of a tree"
n1=$(logins)
[ $((n1 - n0)) -eq 1 ] || t_fail "push used $((n1 - n0)) ssh logins, expected 1"
zfs list -H -o name -t snapshot -r "$SRC/data/a" | grep -q "a@zferry_[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]_" ||
    t_fail "--snapshot: no zferry_ snapshot on the source"
same_snaps "$SRC/data/b c" "$DST/pushed/b c"
t_run sync -r "${SSH_OPTS[@]}" "$R:$SRC/data" "$DST/pulled"
t_expect_rc 0 "pull of a tree"
n2=$(logins)
[ $((n2 - n1)) -eq 1 ] || t_fail "pull used $((n2 - n1)) ssh logins, expected 1"
same_snaps "$SRC/data/a/deep" "$DST/pulled/a/deep"
t_no_proc "ControlMaster=yes -o ControlPath=/tmp/zferry-ssh-"
ls -d /tmp/zferry-ssh-* >/dev/null 2>&1 && t_fail "a control socket directory was left: $(ls -d /tmp/zferry-ssh-*)"
t_ok "push and pull of a tree over ssh: one login per run, master closed"

# sshd down: transient, exit 75
t_sshd_stop
t_run sync -r "${SSH_OPTS[@]}" "$SRC/data" "$R:$DST/pushed"
t_expect_rc 75 "sshd down"
t_ok "sshd down: exit 75"
