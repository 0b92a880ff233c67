#!/usr/bin/env bash
# fixture.sh setup|cleanup: the ctest fixture around the integration tests.
# setup starts the zfs-fuse daemon when none runs and records that it did;
# cleanup destroys any pool a crashed test left behind (the tests name
# their pools zftest<pid>x...) and stops only a daemon that setup started.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/env.sh"
state=${ZF_TEST_STATE:-/tmp/zferry-it-state}
mkdir -p "$state"
case ${1:-} in
setup)
	[ "$(id -u)" -eq 0 ] || { echo "not root: integration tests will skip"; exit 0; }
	rm -f "$state/started"
	if ! env_zfs_running; then
		env_zfs_start "$state/zfs-fuse.pid" || { echo "zfs-fuse did not start" >&2; exit 1; }
		echo yes >"$state/started"
	fi
	;;
cleanup)
	if env_zfs_running; then
		for p in $(zpool list -H -o name | grep -E '^zftest[0-9]+x' || true); do
			# the test's pid is in the name: leave a live test's pools
			pid=${p#zftest}
			pid=${pid%%x*}
			kill -0 "$pid" 2>/dev/null && continue
			echo "destroying leftover pool $p" >&2
			env_pool_destroy "$p" || true
		done
	fi
	if [ -f "$state/started" ]; then
		env_zfs_stop "$state/zfs-fuse.pid"
		rm -f "$state/started"
	fi
	;;
*) echo "usage: fixture.sh setup|cleanup" >&2; exit 2 ;;
esac
