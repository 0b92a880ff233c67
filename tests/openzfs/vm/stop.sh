#!/usr/bin/env bash
# tests/openzfs/vm/stop.sh: stops the guest that boot.sh started for this
# work dir, and nothing else: the pid comes from boot.sh's pidfile and must
# belong to a qemu whose command line names that pidfile.  Safe to call when
# nothing runs (every exit path of run.sh calls it).
#
# The guest is killed, not shut down: its disk is a throwaway overlay
# (cache=unsafe), and a minimal guest ignores the ACPI power button anyway.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/common.sh
. "$here/common.sh"

# the shared ssh connection (a process of ours, started by boot.sh's config)
if [ -e "$OZ_RUN/ssh_config" ]; then
	ssh -F "$OZ_RUN/ssh_config" -O exit "$OZ_HOST" >/dev/null 2>&1 || true
fi

if pid=$(oz_qemu_pid); then
	t0=$SECONDS
	kill -TERM "$pid" 2>/dev/null || true
	# qemu exits within a second of SIGTERM; SIGKILL if it does not
	while kill -0 "$pid" 2>/dev/null; do
		if [ $((SECONDS - t0)) -ge 10 ]; then
			oz_log "qemu $pid ignores SIGTERM: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	oz_log "guest stopped (pid $pid)"
fi
rm -f "$OZ_PIDFILE" "$OZ_RUN/overlay.qcow2" "$OZ_RUN/port" "$OZ_RUN"/cm-*
