#!/usr/bin/env bash
# Failures of zferry send: each ends with the documented exit code and a
# message naming the subject and the stage, and changes nothing it should
# not.
. "$(dirname "$0")/lib.sh"

t_pool src
SRC=$POOL
t_pool dst
DST=$POOL
zfs create "$SRC/fs"
t_fill "/$SRC/fs" 1
zfs snapshot "$SRC/fs@s1"
echo more >"/$SRC/fs/more.txt"
zfs snapshot "$SRC/fs@s2"

# a full send onto an existing target without -F: clean error, untouched
t_run send "$SRC/fs@s1" "$DST/fs"
t_expect_rc 0 "first full send"
before=$(zfs list -H -o name,guid -t all -r "$DST/fs")
t_run send "$SRC/fs@s2" "$DST/fs"
t_expect_rc 1 "full send onto an existing target"
t_expect_err "zfs receive failed" "existing target: stage named"
t_expect_err "must specify -F" "existing target: zfs's reason kept"
t_expect_err "'$SRC/fs@s2' to '$DST/fs'" "existing target: subject first"
[ "$(zfs list -H -o name,guid -t all -r "$DST/fs")" = "$before" ] ||
    t_fail "existing target was changed"
[ "$(wc -l <"$ERR")" -eq 1 ] || t_fail "more than one line for one failure: $(cat "$ERR")"
t_ok "full send onto an existing target: exit 1, zfs's reason, target untouched"

# a missing snapshot: exit 1, the snapshot named, nothing created
t_run send "$SRC/fs@nope" "$DST/new"
t_expect_rc 1 "missing snapshot"
t_expect_err "zfs send failed" "missing snapshot: stage named"
t_expect_err "$SRC/fs@nope" "missing snapshot: snapshot named"
zfs list "$DST/new" >/dev/null 2>&1 && t_fail "missing snapshot: target was created"
t_ok "missing snapshot: exit 1, named, nothing created"

# invalid input: exit 2, nothing run (a zfs that records calls is not run)
cat >"$T_DIR/fake-zfs" <<FAKE
#!/bin/sh
echo called >>"$T_DIR/fake-called"
exit 1
FAKE
chmod +x "$T_DIR/fake-zfs"
bad=(
	"$SRC/fs@s1|$DST/a;b|invalid character ';'"
	"$SRC/fs|$DST/a|add @snapshot"
	"$SRC/fs@s1|-oProxyCommand=x:pool/a|must not begin with '-'"
	"$SRC/fs@s1|$DST/../a|'.' and '..'"
	"h1:$SRC/fs@s1|h2:$DST/a|both remote"
)
for row in "${bad[@]}"; do
	IFS='|' read -r s d want <<<"$row"
	RC=0
	ZFERRY_ZFS=$T_DIR/fake-zfs "$ZFERRY" send "$s" "$d" >"$OUT" 2>"$ERR" || RC=$?
	t_expect_rc 2 "invalid input '$s' '$d'"
	t_expect_err "$want" "invalid input '$s' '$d'"
done
t_run send -o 'bad name=1' "$SRC/fs@s1" "$DST/x"
t_expect_rc 2 "bad property name"
t_expect_err "invalid property name" "bad property name"
t_run send --ssh-option 'ProxyCommand=nc %h %p' "$SRC/fs@s1" "h:$DST/x"
t_expect_rc 2 "ProxyCommand"
t_expect_err "runs a local command" "ProxyCommand refused with a reason"
t_run send --ssh-key "$T_DIR/missing-key" "$SRC/fs@s1" "h:$DST/x"
t_expect_rc 2 "missing key file"
t_expect_err "--ssh-key" "missing key file named"
t_run send "$SRC/fs@s1" "$(printf '%s/a\033[31mred' "$DST")"
t_expect_rc 2 "control character"
t_expect_err '\x1b' "control character shown escaped"
grep -q "$(printf '\033')" "$ERR" && t_fail "raw escape character reached stderr"
[ ! -e "$T_DIR/fake-called" ] || t_fail "zfs was run for invalid input"
t_ok "invalid input: exit 2, named, escaped, nothing run"

# an option the zfs here cannot do (zfs-fuse has no receive -s): exit 2
t_run send -s "$SRC/fs@s1" "$DST/resumable"
t_expect_rc 2 "unsupported -s"
t_expect_err "not supported by the zfs on this host" "unsupported -s"
zfs list "$DST/resumable" >/dev/null 2>&1 && t_fail "unsupported -s: target created"
t_ok "an unsupported flag is a clear error"

# ssh: an unknown host key is refused, nothing received
t_sshd
: >"$T_DIR/empty_known_hosts"
t_run send --ssh-port "$SSH_PORT" --ssh-key "$SSH_KEY" \
    --known-hosts "$T_DIR/empty_known_hosts" "$SRC/fs@s1" "root@127.0.0.1:$DST/unknown"
t_expect_rc 1 "unknown host key"
t_expect_err "Host key verification failed" "unknown host key"
t_expect_err "ssh to '127.0.0.1' failed" "unknown host key: ssh stage named"
zfs list "$DST/unknown" >/dev/null 2>&1 && t_fail "unknown host key: something was received"
[ ! -s "$T_DIR/empty_known_hosts" ] || t_fail "the host key was added to known_hosts"
t_ok "unknown host key: refused, nothing received, known_hosts untouched"

# a remote zfs is asked what it supports, over ssh
t_run send "${SSH_OPTS[@]}" -s "$SRC/fs@s1" "root@127.0.0.1:$DST/remote-s"
t_expect_rc 2 "unsupported -s on the remote side"
t_expect_err "not supported by the zfs on '127.0.0.1'" "unsupported -s remote"
zfs list "$DST/remote-s" >/dev/null 2>&1 && t_fail "unsupported remote -s: target created"
t_ok "an option the remote zfs lacks is a clear error"

# an ssh option ssh itself rejects: fatal (exit 1), ssh named
t_run send "${SSH_OPTS[@]}" --ssh-option Ciphers=no-such-cipher "$SRC/fs@s1" "root@127.0.0.1:$DST/c"
t_expect_rc 1 "unknown cipher"
t_expect_err "ssh to '127.0.0.1' failed" "unknown cipher: ssh stage"
t_ok "a cipher ssh does not know: exit 1, ssh named"

# a key readable by others: warned about like ssh does, and ssh refuses it
cp "$SSH_KEY" "$T_DIR/open_key"
chmod 644 "$T_DIR/open_key"
t_run send --ssh-port "$SSH_PORT" --ssh-key "$T_DIR/open_key" --known-hosts "$SSH_KNOWN" \
    "$SRC/fs@s1" "root@127.0.0.1:$DST/openkey"
t_expect_err "warning: --ssh-key '$T_DIR/open_key' is readable by others" "open key warning"
t_expect_rc 1 "open key"
t_ok "a key file readable by others is warned about"

# ssh: sshd down is transient: exit 75 (both push and pull)
t_sshd_stop
t_run send "${SSH_OPTS[@]}" "$SRC/fs@s1" "root@127.0.0.1:$DST/down"
t_expect_rc 75 "sshd down (push)"
t_expect_err "Connection refused" "sshd down (push)"
t_run send "${SSH_OPTS[@]}" "root@127.0.0.1:$SRC/fs@s1" "$DST/down"
t_expect_rc 75 "sshd down (pull)"
zfs list "$DST/down" >/dev/null 2>&1 && t_fail "sshd down: target created"
t_ok "sshd down: exit 75, nothing created"
