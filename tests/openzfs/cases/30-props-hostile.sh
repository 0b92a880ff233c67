#!/usr/bin/env bash
# 30-props-hostile: -o PROP=VALUE and -x PROP reach zfs receive intact, over
# ssh too, where the receive runs through the remote user's shell.  The
# values are built to break naive quoting: quotes, ;, $(...), backticks,
# globs, spaces, a leading dash.  Nothing they spell may run.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

zt_pool src
src=$ZT_POOL
zt_pool dst
dst=$ZT_POOL
zfs create "$src/fs"
zt_fill "$(zt_mnt "$src/fs")" 1
zfs set zferry:drop=dropped "$src/fs"
zfs set zferry:keep=kept "$src/fs"
zfs snapshot "$src/fs@s1"

canary=$ZT_DIR/canary
# name=value pairs; every value must arrive byte for byte
hostile=(
	"zferry:quotes=it's \"double\" and 'single'"
	"zferry:semi=a; touch $canary.semi; b"
	"zferry:subst=\$(touch $canary.subst)"
	"zferry:ticks=\`touch $canary.ticks\`"
	"zferry:glob=* ?"
	"zferry:spaces=  two  spaces  "
	"zferry:dash=-x --help"
	"zferry:mix=\\ \\\\ \$HOME & | > $canary.redir"
)

# check_props DATASET: each hostile value arrived exactly, nothing ran
check_props() {
	local pair name want
	for pair in "${hostile[@]}"; do
		name=${pair%%=*}
		want=${pair#*=}
		zt_eq "$name on '$1'" "$(zt_prop "$1" "$name")" "$want"
		zt_eq "source of $name on '$1'" "$(zt_source "$1" "$name")" local
	done
	zt_eq "compression on '$1'" "$(zt_prop "$1" compression)" zstd
	if ls "$canary".* >/dev/null 2>&1; then
		zt_fail "a property value was run by a shell: $(ls "$canary".*)"
	fi
}

opts=(-o compression=zstd)
for pair in "${hostile[@]}"; do
	opts+=(-o "$pair")
done

zt_zferry 0 send --no-progress "${opts[@]}" "$src/fs@s1" "$dst/local"
check_props "$dst/local"
zt_zferry 0 send --no-progress "${opts[@]}" "$src/fs@s1" \
    "root@localhost:$dst/pushed"
check_props "$dst/pushed"
zt_zferry 0 send --no-progress "${opts[@]}" "root@localhost:$src/fs@s1" \
    "$dst/pulled"
check_props "$dst/pulled"

# -x with -p: the excluded property stays behind, the others come along
zt_zferry 0 send --no-progress -p -x zferry:drop "$src/fs@s1" \
    "root@localhost:$dst/excluded"
zt_eq "excluded property" "$(zt_prop "$dst/excluded" zferry:drop)" -
zt_eq "kept property" "$(zt_prop "$dst/excluded" zferry:keep)" kept
zt_eq "source of kept" "$(zt_source "$dst/excluded" zferry:keep)" received

# a hostile -x name is refused (by zferry: 2, or by zfs: 1) and runs nothing
zt_run "$ZFERRY" send --no-progress -x "zferry:x;touch $canary.x" \
    "$src/fs@s1" "root@localhost:$dst/badx"
case $ZT_RC in
1 | 2) ;;
*) zt_fail "hostile -x name: exit $ZT_RC, want 1 or 2" ;;
esac
zt_exists "$dst/badx" && zt_fail "received despite an invalid -x name"
if ls "$canary".* >/dev/null 2>&1; then
	zt_fail "a -x name was run by a shell"
fi
zt_no_leftovers
exit 0
