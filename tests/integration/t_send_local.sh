#!/usr/bin/env bash
# zferry send on one host: full, -i and -I streams arrive with the same
# data and snapshot guids, for names with spaces and other legal odd
# characters.
. "$(dirname "$0")/lib.sh"

t_pool src
SRC=$POOL
t_pool dst
DST=$POOL

# names zfs allows: spaces, ':', '.', '-', '_'
FS="$SRC/my data:v1.0-x_y"
zfs create "$FS"
t_fill "/$FS" 2
zfs snapshot "$FS@s1"
echo two >"/$FS/two.txt"
zfs snapshot "$FS@s2"
echo three >"/$FS/three.txt"
zfs snapshot "$FS@s3"
echo four >"/$FS/four.txt"
zfs snapshot "$FS@s 4"

TGT="$DST/copy of data"
t_run send "$FS@s1" "$TGT"
t_expect_rc 0 "full send"
[ "$(t_guid "$TGT@s1")" = "$(t_guid "$FS@s1")" ] || t_fail "full: guid of s1 differs"
t_expect_err "sent '$FS@s1' to '$TGT'" "full send summary"
t_ok "full send of a name with spaces and ':.-_'"

# -i with the short form of the base
t_run send -i s1 "$FS@s2" "$TGT"
t_expect_rc 0 "incremental -i s1"
[ "$(t_guid "$TGT@s2")" = "$(t_guid "$FS@s2")" ] || t_fail "-i: guid of s2 differs"
t_ok "-i with a short base name"

# -I from @s2 to "@s 4" carries s3 too
t_run send -I @s2 "$FS@s 4" "$TGT"
t_expect_rc 0 "incremental -I @s2"
[ "$(t_snaps "$TGT" | wc -l)" -eq 4 ] || t_fail "-I: expected 4 snapshots: $(t_snaps "$TGT")"
for s in s3 "s 4"; do
	[ "$(t_guid "$TGT@$s")" = "$(t_guid "$FS@$s")" ] || t_fail "-I: guid of $s differs"
done
t_same_tree "/$FS" "/$TGT"
t_ok "-I sends the snapshots in between; data identical"

# a full name as base, into a second target
t_run send "$FS@s1" "$DST/second"
t_expect_rc 0 "full into second"
t_run send -i "$FS@s1" "$FS@s3" "$DST/second"
t_expect_rc 0 "incremental with a full base name"
[ "$(t_guid "$DST/second@s3")" = "$(t_guid "$FS@s3")" ] || t_fail "full-name base: guid differs"
t_ok "-i with a full base name"

# a target given as a snapshot name receives under that name
t_run send "$FS@s1" "$DST/third@renamed"
t_expect_rc 0 "target snapshot name"
[ "$(t_guid "$DST/third@renamed")" = "$(t_guid "$FS@s1")" ] || t_fail "target@snap: guid differs"
t_ok "a target snapshot name is used"

# --quiet prints nothing on success
t_run send -q "$FS@s1" "$DST/fourth"
t_expect_rc 0 "quiet send"
[ ! -s "$ERR" ] && [ ! -s "$OUT" ] || t_fail "--quiet printed: $(cat "$OUT" "$ERR")"
t_ok "--quiet prints nothing"
