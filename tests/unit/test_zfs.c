/*
 * test_zfs.c: zfs.c on real text.  The usage texts are what each zfs
 * prints for "zfs send" / "zfs receive" without arguments (stderr, exit 2):
 *   zfs-fuse 0.7.0 (Debian 0.7.0-25+b1), captured from the installed binary;
 *   OpenZFS 2.1.16 (tag zfs-2.1.16, a7186651d3306debca6b4f72797239eea61db36c)
 *   and 2.3.9 (tag zfs-2.3.9, 4c0eb7203e5a2b147d1d5e27b5e2a3461a95c1dc),
 *   assembled from cmd/zfs/zfs_main.c: zfs_do_send()/zfs_do_receive()
 *   ("missing snapshot argument"), usage() and get_usage().
 * The failure messages are those of zfs-facts 4.5 and of the OpenSSH client.
 */
#include "compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "zfs.h"

/* --- usage texts ----------------------------------------------------- */

static const char fuse_send[] =
    "missing snapshot argument\n"
    "usage:\n"
    "\tsend [-RDp] [-[iI] snapshot] <snapshot>\n"
    "\n"
    "For the property list, run: zfs set|get\n"
    "\n"
    "For the delegated permission list, run: zfs allow|unallow\n";

static const char fuse_receive[] =
    "missing snapshot argument\n"
    "usage:\n"
    "\treceive [-vnF] <filesystem|volume|snapshot>\n"
    "\treceive [-vnF] -d <filesystem>\n"
    "\n"
    "For the property list, run: zfs set|get\n"
    "\n"
    "For the delegated permission list, run: zfs allow|unallow\n";

/* "zfs" without a command (also printed after "unrecognized command") */
static const char fuse_all[] =
    "missing command\n"
    "usage: zfs command args ...\n"
    "where 'command' is one of the following:\n"
    "\n"
    "\tcreate [-p] [-o property=value] ... <filesystem>\n"
    "\tcreate [-ps] [-b blocksize] [-o property=value] ... -V <size> "
    "<volume>\n"
    "\tdestroy [-rRf] <filesystem|volume>\n"
    "\tdestroy [-rRd] <snapshot>\n"
    "\n"
    "\tsnapshot [-r] [-o property=value] ... "
    "<filesystem@snapname|volume@snapname>\n"
    "\trollback [-rRf] <snapshot>\n"
    "\tclone [-p] [-o property=value] ... <snapshot> <filesystem|volume>\n"
    "\tpromote <clone-filesystem>\n"
    "\trename <filesystem|volume|snapshot> <filesystem|volume|snapshot>\n"
    "\trename -p <filesystem|volume> <filesystem|volume>\n"
    "\trename -r <snapshot> <snapshot>\n"
    "\tlist [-rH][-d max] [-o property[,...]] [-t type[,...]] [-s "
    "property] ...\n"
    "\t    [-S property] ... [filesystem|volume|snapshot] ...\n"
    "\n"
    "\tset <property=value> <filesystem|volume|snapshot> ...\n"
    "\tget [-rHp] [-d max] [-o \"all\" | field[,...]] [-s source[,...]]\n"
    "\t    <\"all\" | property[,...]> [filesystem|volume|snapshot] ...\n"
    "\tinherit [-rS] <property> <filesystem|volume|snapshot> ...\n"
    "\tupgrade [-v]\n"
    "\tupgrade [-r] [-V version] <-a | filesystem ...>\n"
    "\tuserspace [-hniHp] [-o field[,...]] [-sS field] ... [-t "
    "type[,...]]\n"
    "\t    <filesystem|snapshot>\n"
    "\tgroupspace [-hniHpU] [-o field[,...]] [-sS field] ... [-t "
    "type[,...]]\n"
    "\t    <filesystem|snapshot>\n"
    "\n"
    "\tmount\n"
    "\tmount [-vO] [-o opts] <-a | filesystem>\n"
    "\tunmount [-f] <-a | filesystem|mountpoint>\n"
    "\tshare <-a | filesystem>\n"
    "\tunshare <-a | filesystem|mountpoint>\n"
    "\n"
    "\tsend [-RDp] [-[iI] snapshot] <snapshot>\n"
    "\treceive [-vnF] <filesystem|volume|snapshot>\n"
    "\treceive [-vnF] -d <filesystem>\n"
    "\n"
    "\tallow <filesystem|volume>\n"
    "\tallow [-ldug] <\"everyone\"|user|group>[,...] "
    "<perm|@setname>[,...]\n"
    "\t    <filesystem|volume>\n"
    "\tallow [-ld] -e <perm|@setname>[,...] <filesystem|volume>\n"
    "\tallow -c <perm|@setname>[,...] <filesystem|volume>\n"
    "\tallow -s @setname <perm|@setname>[,...] <filesystem|volume>\n"
    "\n"
    "\tunallow [-rldug] <\"everyone\"|user|group>[,...]\n"
    "\t    [<perm|@setname>[,...]] <filesystem|volume>\n"
    "\tunallow [-rld] -e [<perm|@setname>[,...]] <filesystem|volume>\n"
    "\tunallow [-r] -c [<perm|@setname>[,...]] <filesystem|volume>\n"
    "\tunallow [-r] -s @setname [<perm|@setname>[,...]] "
    "<filesystem|volume>\n"
    "\n"
    "\thold [-r] <tag> <snapshot> ...\n"
    "\tholds [-r] <snapshot> ...\n"
    "\trelease [-r] <tag> <snapshot> ...\n"
    "\n"
    "Each dataset is of the form: pool/[dataset/]*dataset[@name]\n"
    "\n"
    "For the property list, run: zfs set|get\n"
    "\n"
    "For the delegated permission list, run: zfs allow|unallow\n";

static const char zfs21_send[] =
    "missing snapshot argument\n"
    "usage:\n"
    "\tsend [-DnPpRVvLecwhb] [-[i|I] snapshot] <snapshot>\n"
    "\tsend [-DnVvPLecw] [-i snapshot|bookmark] "
    "<filesystem|volume|snapshot>\n"
    "\tsend [-DnPpVvLec] [-i bookmark|snapshot] --redact <bookmark> "
    "<snapshot>\n"
    "\tsend [-nVvPe] -t <receive_resume_token>\n"
    "\tsend [-PnVv] --saved filesystem\n"
    "\n"
    "For the property list, run: zfs set|get\n"
    "\n"
    "For the delegated permission list, run: zfs allow|unallow\n";

static const char zfs21_receive[] =
    "missing snapshot argument\n"
    "usage:\n"
    "\treceive [-vMnsFhu] [-o <property>=<value>] ... [-x <property>] ...\n"
    "\t    <filesystem|volume|snapshot>\n"
    "\treceive [-vMnsFhu] [-o <property>=<value>] ... [-x <property>] ... \n"
    "\t    [-d | -e] <filesystem>\n"
    "\treceive -A <filesystem|volume>\n"
    "\n"
    "For the property list, run: zfs set|get\n"
    "\n"
    "For the delegated permission list, run: zfs allow|unallow\n";

static const char zfs23_send[] =
    "missing snapshot argument\n"
    "usage:\n"
    "\tsend [-DLPbcehnpsVvw] [-i|-I snapshot]\n"
    "\t     [-R [-X dataset[,dataset]...]]     <snapshot>\n"
    "\tsend [-DnVvPLecw] [-i snapshot|bookmark] "
    "<filesystem|volume|snapshot>\n"
    "\tsend [-DnPpVvLec] [-i bookmark|snapshot] --redact <bookmark> "
    "<snapshot>\n"
    "\tsend [-nVvPe] -t <receive_resume_token>\n"
    "\tsend [-PnVv] --saved filesystem\n"
    "\n"
    "For the property list, run: zfs set|get\n"
    "\n"
    "For the delegated permission list, run: zfs allow|unallow\n"
    "\n"
    "For further help on a command or topic, run: zfs help [<topic>]\n";

static const char zfs23_receive[] =
    "missing snapshot argument\n"
    "usage:\n"
    "\treceive [-vMnsFhu] [-o <property>=<value>] ... [-x <property>] ...\n"
    "\t    <filesystem|volume|snapshot>\n"
    "\treceive [-vMnsFhu] [-o <property>=<value>] ... [-x <property>] ... \n"
    "\t    [-d | -e] <filesystem>\n"
    "\treceive -A <filesystem|volume>\n"
    "\n"
    "For the property list, run: zfs set|get\n"
    "\n"
    "For the delegated permission list, run: zfs allow|unallow\n"
    "\n"
    "For further help on a command or topic, run: zfs help [<topic>]\n";

static zf_optset
letters(const char *s)
{
	zf_optset set = 0;

	for (; *s != '\0'; s++)
		set |= zf_opt_bit(*s);
	return set;
}

static void
letters_of(zf_optset set, char *out)
{
	char c;

	for (c = 'a'; c <= 'z'; c++)
		if (zf_opt_has(set, c))
			*out++ = c;
	for (c = 'A'; c <= 'Z'; c++)
		if (zf_opt_has(set, c))
			*out++ = c;
	*out = '\0';
}

static void
assert_opts(const char *text, size_t len, const char *cmd, const char *want)
{
	zf_optset got = zf_parse_usage_opts(text, len, cmd);
	char g[64], w[64];

	if (got != letters(want)) {
		letters_of(got, g);
		letters_of(letters(want), w);
		fail_msg("%s: got options \"%s\", want \"%s\"", cmd, g, w);
	}
}

static void
test_usage_zfs_fuse_send(void **state)
{
	(void)state;
	assert_opts(fuse_send, strlen(fuse_send), "send", "RDpiI");
}

static void
test_usage_zfs_fuse_receive(void **state)
{
	zf_optset o =
	    zf_parse_usage_opts(fuse_receive, strlen(fuse_receive), "receive");

	(void)state;
	assert_opts(fuse_receive, strlen(fuse_receive), "receive", "vnFd");
	assert_false(zf_opt_has(o, 's')); /* no resumable receive */
	assert_false(zf_opt_has(o, 'u'));
	assert_false(zf_opt_has(o, 'o'));
	assert_false(zf_opt_has(o, 'x'));
}

static void
test_usage_openzfs_2_1_send_reads_both_letters_of_i_or_I(void **state)
{
	zf_optset o =
	    zf_parse_usage_opts(zfs21_send, strlen(zfs21_send), "send");

	(void)state;
	/* "-[i|I]": both -i and -I */
	assert_true(zf_opt_has(o, 'i'));
	assert_true(zf_opt_has(o, 'I'));
	assert_opts(zfs21_send, strlen(zfs21_send), "send", "DnPpRVvLecwhbiIt");
	assert_false(zf_opt_has(o, 's')); /* --skip-missing came later */
	assert_false(zf_opt_has(o, 'X'));
}

static void
test_usage_openzfs_2_1_receive(void **state)
{
	(void)state;
	assert_opts(zfs21_receive, strlen(zfs21_receive), "receive",
	    "vMnsFhuoxdeA");
}

static void
test_usage_openzfs_2_3_send(void **state)
{
	(void)state;
	assert_opts(zfs23_send, strlen(zfs23_send), "send",
	    "DLPbcehnpsVvwiIRXt");
}

static void
test_usage_openzfs_2_3_receive(void **state)
{
	zf_optset o = zf_parse_usage_opts(zfs23_receive, strlen(zfs23_receive),
	    "receive");

	(void)state;
	assert_opts(zfs23_receive, strlen(zfs23_receive), "receive",
	    "vMnsFhuoxdeA");
	assert_false(zf_opt_has(o, 'c')); /* not in 2.3's usage text */
}

static void
test_usage_counts_only_the_lines_of_the_command(void **state)
{
	(void)state;
	assert_opts(fuse_send, strlen(fuse_send), "receive", "");
	assert_opts(fuse_receive, strlen(fuse_receive), "send", "");
	assert_opts(zfs23_send, strlen(zfs23_send), "receive", "");
	/* the full command list: send's line is followed by receive's */
	assert_opts(fuse_all, strlen(fuse_all), "send", "RDpiI");
	assert_opts(fuse_all, strlen(fuse_all), "receive", "vnFd");
	assert_opts(fuse_all, strlen(fuse_all), "snapshot", "ro");
}

static void
test_usage_edge_shapes(void **state)
{
	static const char two[] = "usage:\n\tsend [-a]\n\tsend [-b]\n";
	static const char t[] = "usage:\n"
	                        "\tsendx [-z]\n"
	                        "\tsend [-y] non-raw --long-opt -[jk] x-y\r\n"
	                        "  send -q|-Q (-W) [-m|--no]\n"
	                        "\tsend\n"
	                        "\t    -G\n";

	(void)state;
	/* only len bytes are read */
	assert_opts(two, strlen("usage:\n\tsend [-a]\n"), "send", "a");
	assert_opts(two, strlen("usage:\n\tsend [-a]"), "send", "a");
	assert_opts(two, strlen("usage:\n\tsend [-"), "send", "");
	assert_opts(two, strlen(two), "send", "ab");
	/* a word must start an option; prose hyphens and long options not */
	assert_opts(t, strlen(t), "send", "yjkqQWmG");
	assert_opts("", 0, "send", "");
	assert_opts("\tsend", 5, "send", "");
}

static void
test_opt_bits(void **state)
{
	(void)state;
	assert_true(zf_opt_bit('a') == 1);
	assert_true(zf_opt_bit('z') == (zf_optset)1 << 25);
	assert_true(zf_opt_bit('A') == (zf_optset)1 << 26);
	assert_true(zf_opt_bit('Z') == (zf_optset)1 << 51);
	assert_true(zf_opt_bit('-') == 0);
	assert_true(zf_opt_bit('[') == 0);
	assert_true(zf_opt_bit('\0') == 0);
	assert_false(zf_opt_has(letters("abc"), 'A'));
	assert_true(zf_opt_has(letters("abc"), 'c'));
}

/* --- zf_classify ----------------------------------------------------- */

struct class_case {
	enum zf_stage stage;
	bool remote;
	int code;
	const char *text;
	enum zf_stage want_stage;
	bool transient;
	bool known;
};

#define SEND ZF_STAGE_SEND
#define RECV ZF_STAGE_RECV
#define SSH ZF_STAGE_SSH

static const struct class_case class_cases[] = {
    /* ssh's own failures, through ssh */
    {RECV, true, 255,
        "ssh: connect to host 127.0.0.1 port 2: Connection refused\r\n", SSH,
        true, true},
    {RECV, true, 255, "Host key verification failed.\r\n", SSH, false, true},
    {SEND, true, 255, "user@h: Permission denied (publickey).\r\n", SSH, false,
        true},
    {RECV, true, 255,
        "kex_exchange_identification: Connection closed by remote host\r\n",
        SSH, true, true},
    {RECV, true, 255,
        "ssh: Could not resolve hostname x: Name or service not known\r\n", SSH,
        false, true},
    {RECV, true, 255,
        "ssh: Could not resolve hostname x: Temporary failure in name "
        "resolution\r\n",
        SSH, true, true},
    {RECV, true, 255,
        "ssh: connect to host 10.0.0.9 port 22: Connection timed out\r\n", SSH,
        true, true},
    {RECV, true, 255,
        "ssh: connect to host 10.0.0.9 port 22: No route to host\r\n", SSH,
        true, true},
    {RECV, true, 255, "Connection to h closed by remote host.\r\n", SSH, true,
        true},
    {RECV, true, 255, "client_loop: send disconnect: Broken pipe\r\n", SSH,
        true, true},
    {RECV, true, 255, "Timeout, server h not responding.\r\n", SSH, true, true},
    {RECV, true, 255,
        "Received disconnect from 192.0.2.1 port 22:2: Too many "
        "authentication failures\r\n",
        SSH, false, true},
    {RECV, true, 255,
        "Unable to negotiate with 192.0.2.1 port 22: no matching cipher "
        "found. Their offer: aes128-ctr\r\n",
        SSH, false, true},
    {RECV, true, 255, "command-line line 0: Bad configuration option: foo\r\n",
        SSH, false, true},
    {RECV, true, 255,
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n"
        "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n",
        SSH, false, true},
    /* exit 255 and nothing said: the link broke */
    {RECV, true, 255, "", SSH, true, false},
    {SEND, true, 255, "\n", SSH, true, false},
    /* exit 255 from zfs itself ("zfs send -t" returns -1): not ssh */
    {SEND, true, 255,
        "cannot resume send: 'pool/fs@s' used in the initial send no longer "
        "exists\n",
        SEND, false, true},
    {SEND, true, 255,
        "cannot resume send: resume token is corrupt (incorrect checksum)\n",
        SEND, false, true},
    /* zfs through ssh: the connection worked */
    {RECV, true, 1,
        "cannot receive incremental stream: destination pool/fs has been "
        "modified\nsince most recent snapshot\n",
        RECV, false, true},
    {RECV, true, 1,
        "cannot receive new filesystem stream: destination pool/fs contains "
        "partially-complete state from \"zfs receive -s\".\n",
        RECV, true, true},
    {RECV, true, 1, "cannot receive: pool I/O is currently suspended\n", RECV,
        true, true},
    {RECV, true, 1, "cannot open 'pool/x': dataset is busy\n", RECV, true,
        true},
    {RECV, true, 1,
        "Warning: Permanently added 'h' (ED25519) to the list of known "
        "hosts.\r\ncannot open 'pool/x': dataset does not exist\n",
        RECV, false, true},
    {RECV, true, 127, "sh: 1: zfs: not found\n", RECV, false, true},
    {RECV, true, 127, "bash: line 1: zfs: command not found\n", RECV, false,
        true},
    {SEND, true, 1, "warning: cannot send 'pool/fs@s': Broken pipe\n", SEND,
        false, true},
    {RECV, true, 2, "invalid option 'Z'\nusage:\n\treceive [-vnF] ...\n", RECV,
        false, true},
    /* local: ssh's words mean nothing without ssh */
    {SEND, false, 1, "Connection refused\n", SEND, false, false},
    {SEND, false, 255, "", SEND, false, false},
    {RECV, false, 1, "cannot receive: failed to read from stream\n", RECV, true,
        true},
    {RECV, false, 1, "cannot receive: incomplete stream\n", RECV, true, true},
    {RECV, false, 1,
        "cannot receive new filesystem stream: checksum mismatch or "
        "incomplete stream.\nPartially received snapshot is saved.\n",
        RECV, true, true},
    {SEND, false, 1, "cannot open 'pool/x@s': dataset does not exist\n", SEND,
        false, true},
    {RECV, false, 1, "cannot receive: permission denied\n", RECV, false, true},
    {SEND, false, 1, "something unforeseen\n", SEND, false, false},
};

static void
test_classify_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(class_cases); i++) {
		const struct class_case *c = &class_cases[i];
		struct zf_verdict v;

		v = zf_classify(c->stage, c->remote, c->code, c->text,
		    strlen(c->text));
		if (v.stage != c->want_stage || v.transient != c->transient ||
		    v.known != c->known)
			fail_msg("row %zu: stage %d transient %d known %d, "
			         "want %d %d %d",
			    i, (int)v.stage, v.transient, v.known,
			    (int)c->want_stage, c->transient, c->known);
	}
}

static void
test_classify_reads_exactly_len_bytes(void **state)
{
	static const char t[] = "junk\0Host key verification failed.";
	struct zf_verdict v;

	(void)state;
	/* a NUL inside the captured text does not hide what follows */
	v = zf_classify(RECV, true, 1, t, sizeof(t) - 1);
	assert_int_equal(v.stage, SSH);
	assert_true(v.known);
	/* and nothing past len is read */
	v = zf_classify(RECV, true, 1, t, 4);
	assert_int_equal(v.stage, RECV);
	assert_false(v.known);
	v = zf_classify(RECV, true, 1, "Host key", 4);
	assert_int_equal(v.stage, RECV);
}

/* --- zf_stderr_line -------------------------------------------------- */

struct line_case {
	const char *in;
	const char *want;
};

static const struct line_case line_cases[] = {
    {"cannot receive: x\n", "cannot receive: x"},
    {"a\nb\n", "a; b"},
    {"a\r\nb\r\n", "a; b"},
    {"\n\nlead", "lead"},
    {"a\n\n\nb", "a; b"},
    {"a\n  \nb", "a; b"},
    {"a\n\t\n  \n", "a"},
    {"trailing   \t", "trailing"},
    {"  \tleading", "leading"},
    {"end of line  \nnext", "end of line; next"},
    {"a;  b", "a;  b"},
    {"checksum mismatch or incomplete stream.\nPartially received snapshot "
     "is saved.\nA resuming stream can be generated on the sending system "
     "by running:\n    zfs send -t 1-abc\n",
        "checksum mismatch or incomplete stream.; Partially received "
        "snapshot is saved.; A resuming stream can be generated on the "
        "sending system by running:; zfs send -t 1-abc"},
    {"bell\a esc\x1b[2J", "bell\a esc\x1b[2J"}, /* left for zf_escape */
    {"", ""},
    {"\n\r\n", ""},
};

static void
test_stderr_line_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(line_cases); i++) {
		char out[512];

		zf_stderr_line(out, sizeof(out), line_cases[i].in,
		    strlen(line_cases[i].in));
		if (strcmp(out, line_cases[i].want) != 0)
			fail_msg("row %zu: \"%s\", want \"%s\"", i, out,
			    line_cases[i].want);
	}
}

/*
 * A NUL in the captured stderr (a remote host may send one) must not cut
 * the message short: zf_classify() reads past it, so the line must too.
 * It is shown as '?', as git's vreportf() shows control characters.
 */
static void
test_stderr_line_keeps_what_follows_a_nul(void **state)
{
	static const char t[] = "junk\0Host key verification failed.\n";
	static const char blank[] = "$\t\0";
	char out[128];

	(void)state;
	zf_stderr_line(out, sizeof(out), t, sizeof(t) - 1);
	assert_string_equal(out, "junk?Host key verification failed.");
	zf_stderr_line(out, sizeof(out), blank, sizeof(blank) - 1);
	assert_string_equal(out, "$\t?");
	zf_stderr_line(out, sizeof(out), "\0", 1);
	assert_string_equal(out, "?");
}

static void
test_stderr_line_is_bounded_for_every_size(void **state)
{
	static const char in[] = "first line  \n  second\r\n\nthird: x\n";
	char full[128];
	size_t dstsz, i;

	(void)state;
	zf_stderr_line(full, sizeof(full), in, sizeof(in) - 1);
	assert_string_equal(full, "first line; second; third: x");
	for (dstsz = 1; dstsz <= strlen(full) + 2; dstsz++) {
		char out[160];
		size_t n;

		memset(out, 0x5a, sizeof(out));
		zf_stderr_line(out, dstsz, in, sizeof(in) - 1);
		n = strlen(out);
		assert_true(n <= dstsz - 1);
		for (i = dstsz; i < sizeof(out); i++)
			assert_int_equal((unsigned char)out[i], 0x5a);
		/* a cut line is the start of the full one */
		assert_memory_equal(out, full, n);
		if (n > 0)
			assert_true(out[n - 1] != ' ');
	}
	memset(full, 0x5a, sizeof(full));
	zf_stderr_line(full, 0, in, sizeof(in) - 1);
	assert_int_equal((unsigned char)full[0], 0x5a);
}

static void
test_stderr_line_reads_only_len_bytes(void **state)
{
	char out[32];

	(void)state;
	zf_stderr_line(out, sizeof(out), "abc\ndef", 3);
	assert_string_equal(out, "abc");
	zf_stderr_line(out, sizeof(out), "abc\ndef", 5);
	assert_string_equal(out, "abc; d");
}

/* --- zf_parse_estimate: "zfs send -nvP" (libzfs send_print_verbose) ---- */

struct est_case {
	const char *text;
	uint64_t want;
};

#define UNKNOWN UINT64_MAX

static const struct est_case est_cases[] = {
    {"full\tpool/fs@s\t123456\nsize\t123456\n", 123456},
    {"incremental\ts1\tpool/fs@s2\t4096\nsize\t4096\n", 4096},
    {"incremental\tpool/fs#bm\tpool/fs@s2\t4096\nsize\t4096\n", 4096},
    /* -R: one line per snapshot; the size line is the total */
    {"full\tp/a@s1\t100\nincremental\ts1\tp/a@s2\t50\n"
     "full\tp/a/b@s2\t25\nsize\t175\n",
        175},
    {"full\tp/a@s\t100\nsize\t999\n", 999},
    /* no size line: the sum of the stream lines */
    {"full\tp/a@s1\t100\nincremental\ts1\tp/a@s2\t50\n", 150},
    /* the last size line wins */
    {"size\t1\nsize\t2\n", 2},
    {"size\t0\n", 0},
    {"size\t42\r\n", 42},
    {"size\t42", 42},
    /* resume: the token's contents come first */
    {"resume token contents:\nnvlist version: 0\n\tobject = 0x6\n"
     "\toffset = 0x20000\n\tbytes = 0x1ba00\n"
     "incremental\ts1\tpool/fs@s2\t10\nsize\t10\n",
        10},
    /* the underflow of resume estimates (sanoid#1067): unknown */
    {"size\t18446744073170717728\n", UNKNOWN},
    {"size\t9223372036854775809\n", UNKNOWN},
    {"size\t9223372036854775808\n", 9223372036854775808ull},
    {"size\t18446744073709551616\n", UNKNOWN},
    {"full\tp/a@s\t18446744073709551615\nfull\tp/b@s\t1\n", UNKNOWN},
    /* anything else */
    {"", UNKNOWN},
    {"total estimated size is 1.21M\n", UNKNOWN},
    {"full send of pool/fs@s estimated size is 1.21M\n", UNKNOWN},
    {"size 42\n", UNKNOWN},
    {"sizes\t42\n", UNKNOWN},
    {"size\t42x\n", UNKNOWN},
    {"size\t\n", UNKNOWN},
    {"size\t-1\n", UNKNOWN},
    {"cannot open 'pool/fs@s': dataset does not exist\n", UNKNOWN},
};

static void
test_estimate_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(est_cases); i++) {
		uint64_t got = zf_parse_estimate(est_cases[i].text,
		    strlen(est_cases[i].text));

		if (got != est_cases[i].want)
			fail_msg("row %zu: %" PRIu64 ", want %" PRIu64, i, got,
			    est_cases[i].want);
	}
}

static void
test_estimate_reads_only_len_bytes(void **state)
{
	static const char t[] = "full\tp/a@s\t100\nsize\t999\n";

	(void)state;
	/* cut before the size line: the sum */
	assert_true(zf_parse_estimate(t, strlen("full\tp/a@s\t100\n")) == 100);
	/* cut inside the size number: what is there */
	assert_true(zf_parse_estimate(t, strlen(t) - 2) == 99);
	assert_true(zf_parse_estimate(t, 0) == UNKNOWN);
}

/* --- zf_parse_progress_line: "zfs send -vP" ------------------------- */

struct prog_case {
	const char *line;
	bool ok;
	uint64_t bytes;
	const char *snap;
};

static const struct prog_case prog_cases[] = {
    {"10:00:01\t123456\tpool/fs@s\n", true, 123456, "pool/fs@s"},
    {"10:00:01\t123456\tpool/fs@s", true, 123456, "pool/fs@s"},
    {"23:59:59\t0\tp@s", true, 0, "p@s"},
    /* -vv adds a blocks column */
    {"10:00:01\t123456\t789\tpool/fs@s\n", true, 123456, "pool/fs@s"},
    {"10:00:01\t5\tpool/a b@snap 1\n", true, 5, "pool/a b@snap 1"},
    {"10:00:01\t18446744073709551615\tp@s", true, UINT64_MAX, "p@s"},
    {"10:00:01\t18446744073709551616\tp@s", false, 0, NULL},
    {"TIME        SENT   SNAPSHOT pool/fs@s\n", false, 0, NULL},
    {"10:00:01   1.23G   pool/fs@s\n", false, 0, NULL},
    {"1:00:01\t1\tp@s", false, 0, NULL},
    {"10-00-01\t1\tp@s", false, 0, NULL},
    {"aa:bb:cc\t1\tp@s", false, 0, NULL},
    {"10:00:01 1\tp@s", false, 0, NULL},
    {"10:00:01\t\tp@s", false, 0, NULL},
    {"10:00:01\t12x\tp@s", false, 0, NULL},
    {"10:00:01\t12", false, 0, NULL},
    {"10:00:01\t12\t", false, 0, NULL},
    {"10:00:01\t12\t\n", false, 0, NULL},
    {"10:00:01\t1\tx\tp@s", false, 0, NULL},
    {"10:00:01\t1\t2\t3\tp@s", false, 0, NULL},
    {"", false, 0, NULL},
    {"\n", false, 0, NULL},
};

static void
test_progress_line_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ZF_ARRAY_SIZE(prog_cases); i++) {
		const struct prog_case *c = &prog_cases[i];
		uint64_t bytes = 7;
		char snap[64] = "untouched";
		bool ok;

		ok = zf_parse_progress_line(c->line, strlen(c->line), &bytes,
		    snap, sizeof(snap));
		if (ok != c->ok)
			fail_msg("row %zu: %s, want %s", i,
			    ok ? "read" : "refused",
			    c->ok ? "read" : "refused");
		if (!ok)
			continue;
		if (bytes != c->bytes || strcmp(snap, c->snap) != 0)
			fail_msg("row %zu: %" PRIu64 " '%s'", i, bytes, snap);
	}
}

/*
 * The snapshot is the rest of the line: a NUL there would cut it short
 * unseen, and no ZFS name holds a control character.
 */
static void
test_progress_line_refuses_a_nul_or_control_in_the_snapshot(void **state)
{
	static const char nul[] = "10:00:01\t12\t7\tpo\001\000x";
	static const char *const bad[] = {"10:00:01\t1\tp@s\x1b[2J",
	    "10:00:01\t1\tp@s\nq", "10:00:01\t1\tp@s\r", "10:00:01\t1\tp@\x7f"};
	uint64_t bytes = 7;
	char snap[64] = "untouched";
	size_t i;

	(void)state;
	assert_false(zf_parse_progress_line(nul, sizeof(nul) - 1, &bytes, snap,
	    sizeof(snap)));
	for (i = 0; i < ZF_ARRAY_SIZE(bad); i++)
		if (zf_parse_progress_line(bad[i], strlen(bad[i]), &bytes, snap,
		        sizeof(snap)))
			fail_msg("row %zu read as '%s'", i, snap);
	assert_int_equal(bytes, 7);
	assert_string_equal(snap, "untouched");
}

static void
test_progress_line_snapshot_must_fit(void **state)
{
	static const char l[] = "10:00:01\t9\tpool/fs@snap";
	char snap[13];
	uint64_t bytes = 0;

	(void)state;
	/* "pool/fs@snap" is 12 bytes: it needs 13 */
	assert_false(zf_parse_progress_line(l, strlen(l), &bytes, snap, 12));
	assert_true(zf_parse_progress_line(l, strlen(l), &bytes, snap, 13));
	assert_string_equal(snap, "pool/fs@snap");
	assert_true(bytes == 9);
	/* only len bytes are read */
	assert_true(zf_parse_progress_line(l, strlen(l) - 4, &bytes, snap,
	    sizeof(snap)));
	assert_string_equal(snap, "pool/fs@");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usage_zfs_fuse_send),
	    cmocka_unit_test(test_usage_zfs_fuse_receive),
	    cmocka_unit_test(
	        test_usage_openzfs_2_1_send_reads_both_letters_of_i_or_I),
	    cmocka_unit_test(test_usage_openzfs_2_1_receive),
	    cmocka_unit_test(test_usage_openzfs_2_3_send),
	    cmocka_unit_test(test_usage_openzfs_2_3_receive),
	    cmocka_unit_test(test_usage_counts_only_the_lines_of_the_command),
	    cmocka_unit_test(test_usage_edge_shapes),
	    cmocka_unit_test(test_opt_bits),
	    cmocka_unit_test(test_classify_table),
	    cmocka_unit_test(test_classify_reads_exactly_len_bytes),
	    cmocka_unit_test(test_stderr_line_table),
	    cmocka_unit_test(test_stderr_line_keeps_what_follows_a_nul),
	    cmocka_unit_test(test_stderr_line_is_bounded_for_every_size),
	    cmocka_unit_test(test_stderr_line_reads_only_len_bytes),
	    cmocka_unit_test(test_estimate_table),
	    cmocka_unit_test(test_estimate_reads_only_len_bytes),
	    cmocka_unit_test(test_progress_line_table),
	    cmocka_unit_test(test_progress_line_snapshot_must_fit),
	    cmocka_unit_test(
	        test_progress_line_refuses_a_nul_or_control_in_the_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
