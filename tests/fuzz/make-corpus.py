#!/usr/bin/env python3
"""make-corpus.py: writes the seed corpora of tests/fuzz/corpus/<target>/.

The seeds are real data of the repository (tests/data/listings,
tests/data/tokens, the usage texts of tests/unit/test_zfs.c) and short
hand-written valid and hostile strings.  Each seed is a file named by
what it is; the input format of each target is described at the top of
its fuzz_<target>.c.  Run it again after changing a target's input format
(it replaces the seeds it writes, and leaves other files alone: inputs
that once crashed a target are kept there as regression seeds).

    tests/fuzz/make-corpus.py
"""
import ast
import os
import random
import shutil
import subprocess
import re
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(ROOT, "tests", "data")


def seed(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*path):
    with open(os.path.join(DATA, *path), "rb") as f:
        return f.read()


def c_strings(path):
    """name -> bytes of each 'static const char name[] = "...";' in path."""
    text = open(path, encoding="utf-8").read()
    out = {}
    for m in re.finditer(r"static const char (\w+)\[\] =\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+);", text):
        parts = re.findall(r"\"(?:[^\"\\]|\\.)*\"", m.group(2))
        out[m.group(1)] = "".join(ast.literal_eval(p) for p in parts).encode()
    return out


NAMES = [
    ("fs", "pool/fs"), ("snap", "pool/fs@snap"), ("bookmark", "pool/fs#bm"),
    ("spaces", "tank/my data/x y@snap 1"), ("odd-chars", "p-1_a.b:c/d e@s.1:2-3"),
    ("pool-only", "a"), ("disk-like", "c0t0d0/fs"), ("reserved", "mirror/fs"),
    ("dot", "pool/./x"), ("dotdot", "pool/../x"), ("dotdot-snap", "pool@.."),
    ("dash", "-oProxyCommand=x"), ("semicolon", "pool/a;b"),
    ("newline", "pool/a\nb"), ("percent", "pool/a%recv"), ("two-at", "pool@a@b"),
    ("slash-after-at", "pool@a/b"), ("trailing-slash", "pool/fs/"),
    ("max", "p" * 255), ("too-long", "p/" + "x" * 254),
    ("prop-user", "com.example:note=it's $(x) `y`"), ("prop", "compression=lz4"),
    ("prop-eq", "a=b=c"), ("origin", "origin=pool/x@s"), ("escape", "pool/a\x1b[31m"),
    ("utf8", "pool/caf\u00e9"),
]

LOCATIONS = [
    ("local", "pool/fs@s"), ("host", "host:pool/fs@s"),
    ("user-host", "backup@host.example:tank/a b@s1"),
    ("v6", "[fe80::1%eth0]:pool/fs"), ("user-v6", "root@[::1]:tank/a@x"),
    ("dash-host", "-oProxyCommand=x:pool/a"), ("dash-user", "-l@h:pool/a"),
    ("colon-local", "pool/a:b@s"), ("colon-pool", "po:ol/a"), ("two-at", "a@b@c:pool"),
    ("v6-no-colon", "[::1]pool/a"), ("empty-host", ":pool/a"), ("bad-user", "a b@h:p/a"),
    ("dollar-user", "svc$@h:p/a"), ("v4", "10.0.0.1:p/a"),
]

SSH = [
    ("ciphers", "Ciphers=aes128-gcm@openssh.com,aes256-ctr"), ("timeout", "ConnectTimeout=5"),
    ("space", "Compression yes"), ("strict-yes", "StrictHostKeyChecking=yes"),
    ("strict-no", "StrictHostKeyChecking=no"), ("proxy", "ProxyCommand=nc %h %p"),
    ("local-command", "LocalCommand=touch /tmp/x"), ("alias", "HostKeyAlias=backup"),
    ("rekey", "RekeyLimit=1G"), ("qos", "IPQoS=throughput"), ("loglevel", "LogLevel=ERROR"),
    ("bind", "BindAddress=::1"), ("kex-plus", "KexAlgorithms=+diffie-hellman-group14-sha1"),
    ("match", "Match exec x"), ("include", "Include=/tmp/x"), ("case", "ciphers=AES128-CTR"),
    ("host", "host.example"), ("v6-zone", "fe80::1%eth0"), ("user", "backup$"),
    ("cipher-minus", "-aes128-ctr"), ("cipher-caret", "^chacha20-poly1305@openssh.com"),
    ("newline", "ConnectTimeout=5\nProxyCommand=x"), ("percent", "HostKeyAlias=%h"),
]


def corpus_name():
    for n, s in NAMES:
        for kinds in (1, 2, 7):
            seed("fuzz_name", "%s-%d" % (n, kinds), bytes([kinds]) + s.encode())


def corpus_location():
    for n, s in LOCATIONS:
        for kinds in (1, 3):
            seed("fuzz_location", "%s-%d" % (n, kinds), bytes([kinds]) + s.encode())


def corpus_ssh():
    for n, s in SSH:
        seed("fuzz_ssh", n, b"\xff" + s.encode())
        seed("fuzz_ssh", n + "-small", b"\x08" + s.encode())


LISTINGS = [
    ("openzfs-src.list", "tank/src", 0), ("openzfs-dst.list", "tank/dst", 0),
    ("zfs-fuse-r.get", "zfplan11838/a", 1), ("zfs-fuse-pool.get", "zfplan11838", 1),
    ("zfs-fuse-d1.get", "zfplan11838/a", 1), ("zfs-fuse-clone.get", "zfplan11838/a/clone", 1),
    ("zfs-fuse-target.get", "zfplan11838/t", 1),
]

HOSTILE_LIST = (
    "p\tfilesystem\t1\t1\t-\t0\t-\n"
    "p@s\tsnapshot\t18446744073709551615\t2\t-\t0\t-\n"
    "p#s\tbookmark\t18446744073709551615\t2\t-\t-\t-\n"
    "p/c\tfilesystem\t3\t3\tp@s\t0\t1-abc-10-00\n"
    "p/c@x\tsnapshot\t4\t1\t-\t0\t-\n"
)


def corpus_tree():
    for f, root, fmt in LISTINGS:
        seed("fuzz_tree", f, bytes([fmt]) + root.encode() + b"\n" + read("listings", f))
    seed("fuzz_tree", "hostile.list", b"\x00p\n" + HOSTILE_LIST.encode())
    seed("fuzz_tree", "escape.list", b"\x00p\np\x1b[2J\tfilesystem\t1\t1\t-\t0\t-\n")


def corpus_plan():
    # fuzz_plan generates its listings from bytes: seeds are bytes
    rng = random.Random(1)
    for opts in (0x00, 0x01, 0x03, 0x05, 0x09, 0x11, 0x21, 0x41, 0x81, 0x19):
        seed("fuzz_plan", "gen-%02x" % opts,
             bytes([opts]) + bytes(rng.randrange(256) for _ in range(96)))


ESTIMATES = [
    ("full", "full\tpool/fs@s1\t12345678\nsize\t12345678\n"),
    ("incremental", "incremental\ts1\tpool/fs@s2\t4096\nsize\t4096\n"),
    ("intermediates", "incremental\ts1\tp@s2\t10\nincremental\ts2\tp@s3\t20\nsize\t30\n"),
    ("no-size", "full\tp@a\t100\nincremental\ta\tp@b\t200\n"),
    ("resume-underflow", "resume token contents:\nnvlist version: 0\n\tobject = 0x2\n"
     "full\tpool/fs@s1\t18446744073170717728\nsize\t18446744073170717728\n"),
    ("crlf", "size\t77\r\n"),
    ("progress", "10:00:01\t123456\tpool/fs@s\n10:00:02\t234567\tpool/fs@s\n"),
    ("progress-blocks", "10:00:01\t123456\t7\tpool/fs@s\n"),
    ("progress-spaces", "23:59:59\t1\ttank/my data@snap 1\n"),
    ("progress-huge", "10:00:01\t18446744073709551616\tp@s\n"),
    ("human", "TIME        SENT   SNAPSHOT pool/fs@s\n10:00:01   1.23G   pool/fs@s\n"),
]


def corpus_estimate():
    for n, s in ESTIMATES:
        seed("fuzz_estimate", n, b"\xff" + s.encode())
        seed("fuzz_estimate", n + "-small", b"\x04" + s.encode())


def corpus_usage():
    texts = c_strings(os.path.join(ROOT, "tests", "unit", "test_zfs.c"))
    for n, t in texts.items():
        if re.match(r"(fuse|zfs\d+)_", n):
            seed("fuzz_usage", n, t)
    seed("fuzz_usage", "forged", b"usage:\n\tsend -[abc|DEF] [-ghi] --long -\n\treceive\n")


STDERR = [
    ("host-key", "Host key verification failed.\r\n"),
    ("refused", "ssh: connect to host h port 22: Connection refused\n"),
    ("exists", "cannot receive new filesystem stream: destination 'tank/b' exists\n"
     "must specify -F to overwrite it\n"),
    ("busy", "cannot receive: dataset is busy\n"),
    ("resume", "checksum mismatch or incomplete stream.\nPartially received snapshot is saved.\n"
     "A resuming stream can be generated on the sending system by running:\n    zfs send -t 1-abc\n"),
    ("escapes", "\x1b[2J\x1b]0;title\x07cannot open 'x': \x9b31m\x00hidden\\n"),
    ("nul", "junk\x00Host key verification failed."),
    ("blank", ""),
]


def corpus_stderr():
    for n, s in STDERR:
        for hdr in (b"\x00\x01\xff", b"\x05\xff\x40", b"\x06\x01\x05"):
            seed("fuzz_stderr", "%s-%s" % (n, hdr.hex()), hdr + s.encode("latin-1"))


NUMBERS = ["0", "1", "64k", "10M/s", "4G", "1TiB", "18446744073709551615", "18446744073709551616",
           "17179869184T", "1.5M", "-1", " 1", "1 ", "10ms", "3min", "2d", "366d", "zstd",
           "zstd:19", "zstd:20", "lz4:1", "none", "auto:1", "zstd:", "0x10", "1/s/s", "k"]


def corpus_number():
    for i, s in enumerate(NUMBERS):
        for sel in (0x00, 0x21, 0x13):
            seed("fuzz_number", "%02d-%02x" % (i, sel), bytes([sel]) + s.encode())


def tokens():
    d = os.path.join(DATA, "tokens")
    for f in sorted(os.listdir(d)):
        if f.endswith(".token"):
            yield f[:-6], open(os.path.join(d, f), "rb").read().strip()


def corpus_token():
    for n, t in tokens():
        seed("fuzz_token", n, t)
        payload = t.split(b"-", 3)[3]
        seed("fuzz_token_nvlist", n, zlib.decompress(bytes.fromhex(payload.decode())))
        if n == "openzfs-2.3.2-lec":
            # same-length renames reach the fields real tokens lack
            raw = zlib.decompress(bytes.fromhex(payload.decode()))
            seed("fuzz_token_nvlist", n + "-savedok", raw.replace(b"embedok", b"savedok"))
            seed("fuzz_token_nvlist", n + "-redact",
                 raw.replace(b"largeblockok", b"redact_snaps"))
    seed("fuzz_token", "dash", b"-")
    seed("fuzz_token", "header-only", b"1-0-10-")
    seed("fuzz_token_nvlist", "zfs-fuse-mirror.cache.xdr", read("nvlist", "zfs-fuse-mirror.cache"))


def corpus_shquote():
    words = [b"zfs", b"receive", b"-o", b"com.example:note=it's $(x) `y`\n", b"tank/a b",
             b"'", b"''", b"\\'", b"", b"a\x00", b"\xff\xfe", b"--", b"-n"]
    seed("fuzz_shquote", "zfs-receive", b"\x00" + b"\x00".join(words[:5]))
    seed("fuzz_shquote", "quotes", b"\x00" + b"\x00".join(words[5:9]))
    seed("fuzz_shquote", "all-small", b"\x02" + b"\x00".join(words))
    seed("fuzz_shquote", "ssh-describe", b"\xf8" + b"\x00".join(
        [b"ssh", b"-o", b"BatchMode=yes", b"--", b"host", b"'zfs' 'receive' 'p/a b'"]))


def cmd_seed(name, hdr, fields):
    seed("fuzz_cmd", name, bytes(hdr) + b"\x00".join(f.encode() for f in fields))


def corpus_cmd():
    empty = [""] * 18
    push = list(empty)
    push[0:6] = ["", "", "tank/src@s1", "backup", "host.example", "tank/dst"]
    push[6] = "@s0"
    push[7], push[8], push[9], push[10] = "com.example:note=it's $(x)", "compression=lz4", "mountpoint", "tank/o@s"
    push[11], push[12], push[13] = "ConnectTimeout=5", "Compression=no", "aes128-gcm@openssh.com"
    push[14], push[15] = "/usr/sbin/zfs", "/opt/zferry"
    cmd_seed("push", [0x7f, 0x0f, 0x45], push)
    for wrap in range(4):
        cmd_seed("push-wrap%d" % wrap, [0x01, 0x07 | wrap << 4, 0x00], push)
    pull = list(empty)
    pull[0:6] = ["root", "fe80::1%eth0", "tank/a b@s 2", "", "", "tank/local"]
    pull[6] = "s1"
    cmd_seed("pull", [0x02, 0x08 | 0x40, 0x17], pull)
    local = list(empty)
    local[2], local[5] = "pool/a@s", "pool/b"
    local[16] = "/sbin/zfs"
    cmd_seed("local", [0x00, 0x00, 0x00], local)
    hostile = list(push)
    hostile[4], hostile[11], hostile[14] = "-oProxyCommand=x", "ProxyCommand=x", "X=1"
    cmd_seed("hostile", [0x00, 0x00, 0x00], hostile)


def corpus_codec():
    # frames made by the zstd and lz4 tools, when installed (bench group)
    data = read("listings", "openzfs-src.list") + read("listings", "zfs-fuse-pool.get")
    seed("fuzz_codec", "raw-zstd", b"\x00" + data[:200])
    seed("fuzz_codec", "raw-lz4", b"\x31" + data[:200])
    for bit, tool in ((0, "zstd"), (1, "lz4")):
        if shutil.which(tool) is None:
            continue
        frame = subprocess.run([tool, "-c", "-q"], input=data, stdout=subprocess.PIPE,
                               check=True).stdout
        for sel in (0x00, 0x52, 0xf6):
            seed("fuzz_codec", "%s-frame-%02x" % (tool, sel | bit), bytes([sel | bit]) + frame)


for fn in (corpus_name, corpus_location, corpus_ssh, corpus_tree, corpus_plan,
           corpus_estimate, corpus_usage, corpus_stderr, corpus_number, corpus_token,
           corpus_shquote, corpus_cmd, corpus_codec):
    fn()
