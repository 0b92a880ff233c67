#!/usr/bin/env bash
# zferry send over ssh to a real sshd on 127.0.0.1: push (local source,
# remote target) and pull (remote source, local target), full, -i and -I,
# with names holding spaces.
. "$(dirname "$0")/lib.sh"

t_sshd
t_pool src
SRC=$POOL
t_pool dst
DST=$POOL

FS="$SRC/home dir"
zfs create "$FS"
t_fill "/$FS" 3
zfs snapshot "$FS@a"
echo b >"/$FS/b.txt"
zfs snapshot "$FS@b"
echo c >"/$FS/c.txt"
zfs snapshot "$FS@c"
echo d >"/$FS/d.txt"
zfs snapshot "$FS@d"

# push
PUSH="$DST/pushed copy"
t_run send "${SSH_OPTS[@]}" "$FS@a" "root@127.0.0.1:$PUSH"
t_expect_rc 0 "push full"
[ "$(t_guid "$PUSH@a")" = "$(t_guid "$FS@a")" ] || t_fail "push full: guid differs"
t_run send "${SSH_OPTS[@]}" -i @a "$FS@b" "root@127.0.0.1:$PUSH"
t_expect_rc 0 "push -i"
t_run send "${SSH_OPTS[@]}" -I b "$FS@d" "root@127.0.0.1:$PUSH"
t_expect_rc 0 "push -I"
[ "$(t_snaps "$PUSH" | wc -l)" -eq 4 ] || t_fail "push -I: snapshots: $(t_snaps "$PUSH")"
t_same_tree "/$FS" "/$PUSH"
t_ok "push over ssh: full, -i, -I; data identical"

# pull (no user: ssh logs in as the invoking user, root here)
PULL="$DST/pulled copy"
t_run send "${SSH_OPTS[@]}" "127.0.0.1:$FS@a" "$PULL"
t_expect_rc 0 "pull full"
t_run send "${SSH_OPTS[@]}" -I @a "127.0.0.1:$FS@d" "$PULL"
t_expect_rc 0 "pull -I"
[ "$(t_guid "$PULL@d")" = "$(t_guid "$FS@d")" ] || t_fail "pull: guid differs"
[ "$(t_snaps "$PULL" | wc -l)" -eq 4 ] || t_fail "pull -I: snapshots: $(t_snaps "$PULL")"
t_same_tree "/$FS" "/$PULL"
t_ok "pull over ssh: full, -I; data identical"

# --ssh-cipher and --ssh-option reach ssh and the transfer works with them
t_run send "${SSH_OPTS[@]}" --ssh-cipher aes128-ctr --ssh-option Compression=no \
    --ssh-option "ServerAliveInterval 5" "$FS@a" "root@127.0.0.1:$DST/tuned"
t_expect_rc 0 "push with a cipher and ssh options"
[ "$(t_guid "$DST/tuned@a")" = "$(t_guid "$FS@a")" ] || t_fail "tuned push: guid differs"
t_ok "--ssh-cipher and --ssh-option"

# the verbose command line shows the quoted remote command and the '--'
t_run send -v "${SSH_OPTS[@]}" "$FS@a" "root@127.0.0.1:$DST/verbose"
t_expect_rc 0 "verbose push"
t_expect_err " -- 127.0.0.1 remote: " "verbose push shows -- before the host"
t_expect_err "-o BatchMode=yes " "verbose push shows BatchMode"
t_ok "ssh runs with BatchMode and -- before the host"
