#!/usr/bin/env bash
# SIGINT and SIGTERM stop zferry send with exit 130 and 143 and leave no
# child behind.  The children are scripted stand-ins for zfs that never
# finish on their own (a sender that streams forever, a receiver that never
# reads), so only the signal can end the transfer.
. "$(dirname "$0")/lib.sh"

fake=$T_DIR/stuck-zfs
cat >"$fake" <<'FAKE'
#!/bin/sh
case "$1 $2" in
"send -n") echo "invalid option 'n'" >&2; echo "usage:" >&2; exit 2 ;;
send*) exec yes zferry-signal-test ;;
receive*) exec sleep 600 ;;
*) echo "usage:" >&2; exit 2 ;;
esac
FAKE
chmod +x "$fake"

for sig in INT TERM; do
	want=$((128 + $(kill -l "$sig")))
	ZFERRY_ZFS=$fake "$ZFERRY" send pool/a@s pool/b >"$OUT" 2>"$ERR" &
	pid=$!
	# wait until both children run, then interrupt
	t_wait 10 sh -c "[ \$(pgrep -c -P $pid) -ge 2 ]" ||
	    t_fail "$sig: children did not start"
	kids=$(pgrep -P "$pid" | tr '\n' ' ')
	kill -"$sig" "$pid"
	RC=0
	wait "$pid" || RC=$?
	t_expect_rc "$want" "SIG$sig"
	t_expect_err "canceled" "SIG$sig message"
	for k in $kids; do
		kill -0 "$k" 2>/dev/null && t_fail "SIG$sig: child $k still runs"
	done
	pgrep -f zferry-signal-test >/dev/null && t_fail "SIG$sig: the sender survived"
	t_ok "SIG$sig: exit $want, no child left"
done
