#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_xfer_help[] =
    "zfs send flags:\n"
    "  -w, --raw            raw stream (encrypted data stays encrypted)\n"
    "  -c, --compressed     keep on-disk compression in the stream\n"
    "  -L, --large-block    allow blocks larger than 128 KiB\n"
    "  -e, --embed          embedded-data blocks\n"
    "  -p, --props          send properties\n"
    "  -h, --holds          send holds\n"
    "  -b, --backup         send received properties as received\n"
    "zfs receive flags:\n"
    "  -u, --no-mount       do not mount the received file system\n"
    "  -o PROP=VALUE        set a property on the target (repeatable)\n"
    "  -x PROP              do not receive a property (repeatable)\n"
    "ssh (for a remote side):\n"
    "      --ssh-port N     port of the remote sshd\n"
    "      --ssh-key FILE   private key to log in with\n"
    "      --known-hosts FILE  known_hosts file holding the host's key\n"
    "      --ssh-cipher LIST   ciphers (ssh -c)\n"
    "      --ssh-option KEY=VALUE  an ssh option from the allowlist\n"
    "                       (repeatable): AddressFamily, BindAddress,\n"
    "                       CheckHostIP, Ciphers, Compression,\n"
    "                       ConnectionAttempts, ConnectTimeout,\n"
    "                       HostKeyAlgorithms, HostKeyAlias, IdentitiesOnly,\n"
    "                       IPQoS, KexAlgorithms, LogLevel, MACs,\n"
    "                       PubkeyAcceptedAlgorithms, RekeyLimit,\n"
    "                       ServerAliveCountMax, ServerAliveInterval,\n"
    "                       StrictHostKeyChecking (yes only), TCPKeepAlive\n"
    "      --remote-zfs PATH   zfs program on the remote host (default zfs)\n"
    "      --remote-zferry PATH  zferry on the remote host (default: zferry\n"
    "                       if it is in the remote PATH)\n"
    "Transfer:\n"
    "      --compress ALG   zstd[:LEVEL], lz4[:LEVEL], none or auto (default:\n"
    "                       zstd over ssh, none on this host and for -w/-c)\n"
    "      --bwlimit RATE   at most RATE bytes/s on the wire (k, M, G suffixes)\n"
    "      --buffer SIZE    relay buffer (default 16M; k, M, G suffixes)\n"
    "      --timeout DURATION  give up after this long (s, m, h, d suffixes)\n"
    "      --stall-timeout DURATION  give up when no byte moved for this long\n"
    "                       (default 10m; 0 turns it off); exit 75\n"
    "Output:\n"
    "      --json           events as JSON lines on stdout\n"
    "      --no-progress    no progress line (it is shown only on a terminal)\n"
    "  -q, --quiet          only errors\n"
    "  -v, --verbose        also show the commands zferry runs\n"
    "      --help           this help\n"
    "\n"
    "ssh always runs with BatchMode=yes and StrictHostKeyChecking=yes: an\n"
    "unknown host key is refused, never trusted on first use.\n"
    "Environment: ZFERRY_ZFS, ZFERRY_SSH name the local zfs and ssh programs.\n";

const char cli_xfer_shortopts[] = "wcLepbhuo:x:qv";

static const struct option xfer_longopts[] = {
    {"raw", no_argument, NULL, 'w'},
    {"compressed", no_argument, NULL, 'c'},
    {"large-block", no_argument, NULL, 'L'},
    {"embed", no_argument, NULL, 'e'},
    {"props", no_argument, NULL, 'p'},
    {"holds", no_argument, NULL, 'h'},
    {"backup", no_argument, NULL, 'b'},
    {"no-mount", no_argument, NULL, 'u'},
    {"ssh-port", required_argument, NULL, OPT_SSH_PORT},
    {"ssh-key", required_argument, NULL, OPT_SSH_KEY},
    {"known-hosts", required_argument, NULL, OPT_KNOWN_HOSTS},
    {"ssh-cipher", required_argument, NULL, OPT_SSH_CIPHER},
    {"ssh-option", required_argument, NULL, OPT_SSH_OPTION},
    {"remote-zfs", required_argument, NULL, OPT_REMOTE_ZFS},
    {"remote-zferry", required_argument, NULL, OPT_REMOTE_ZFERRY},
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"bwlimit", required_argument, NULL, OPT_BWLIMIT},
    {"buffer", required_argument, NULL, OPT_BUFFER},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"stall-timeout", required_argument, NULL, OPT_STALL},
    {"json", no_argument, NULL, OPT_JSON},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, OPT_HELP},
};

struct option *
cli_longopts(const struct option *own, size_t n)
{
	size_t m = sizeof(xfer_longopts) / sizeof(xfer_longopts[0]);
	struct option *v = calloc(n + m + 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	memcpy(v, own, n * sizeof(*v));
	memcpy(v + n, xfer_longopts, m * sizeof(*v));
	return v; /* calloc'd: the last entry is all zero */
}

static int
strlist_add(struct cli_strlist *l, const char *s)
{
	const char **v = realloc(l->v, (l->n + 2) * sizeof(*v));

	if (v == NULL)
		return -1;
	l->v = v;
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
	return 0;
}

int
cli_xfer_opt(struct cli_xfer *x, int c, const char *arg, struct zf_error *err)
{
	struct zf_send_config *cfg = x->cfg;
	uint64_t v;

	switch (c) {
	case 'w':
		cfg->send_flags |= ZF_SEND_RAW;
		return 1;
	case 'c':
		cfg->send_flags |= ZF_SEND_COMPRESSED;
		return 1;
	case 'L':
		cfg->send_flags |= ZF_SEND_LARGE_BLOCK;
		return 1;
	case 'e':
		cfg->send_flags |= ZF_SEND_EMBED;
		return 1;
	case 'p':
		cfg->send_flags |= ZF_SEND_PROPS;
		return 1;
	case 'h':
		cfg->send_flags |= ZF_SEND_HOLDS;
		return 1;
	case 'b':
		cfg->send_flags |= ZF_SEND_BACKUP;
		return 1;
	case 'u':
		cfg->recv_flags |= ZF_RECV_NOMOUNT;
		return 1;
	case 'o':
		return strlist_add(&x->props, arg) == 0 ? 1 : -1;
	case 'x':
		return strlist_add(&x->excludes, arg) == 0 ? 1 : -1;
	case OPT_SSH_PORT:
		if (zf_parse_u64("--ssh-port", arg, 1, 65535, &v, err))
			return -1;
		cfg->ssh.port = (unsigned)v;
		return 1;
	case OPT_SSH_KEY:
		cfg->ssh.key_file = arg;
		return 1;
	case OPT_KNOWN_HOSTS:
		cfg->ssh.known_hosts = arg;
		return 1;
	case OPT_SSH_CIPHER:
		cfg->ssh.cipher = arg;
		return 1;
	case OPT_SSH_OPTION:
		return strlist_add(&x->sshopts, arg) == 0 ? 1 : -1;
	case OPT_REMOTE_ZFS:
		cfg->remote_zfs = arg;
		return 1;
	case OPT_REMOTE_ZFERRY:
		cfg->remote_zferry = arg;
		return 1;
	case OPT_COMPRESS:
		return zf_parse_compress("--compress", arg, &cfg->compress,
		           &cfg->compress_level, err) == ZF_OK
		    ? 1
		    : -1;
	case OPT_BWLIMIT:
		return zf_parse_rate("--bwlimit", arg, 1024, UINT64_MAX / 2,
		           &cfg->bwlimit, err) == ZF_OK
		    ? 1
		    : -1;
	case OPT_BUFFER:
		return zf_parse_size("--buffer", arg, 64 * 1024, 4ull << 30,
		           &cfg->buffer_size, err) == ZF_OK
		    ? 1
		    : -1;
	case OPT_TIMEOUT:
		return zf_parse_duration("--timeout", arg, 1, 366ull * 86400000,
		           &cfg->timeout_ms, err) == ZF_OK
		    ? 1
		    : -1;
	case OPT_STALL:
		return zf_parse_duration("--stall-timeout", arg, 0,
		           366ull * 86400000, &cfg->stall_timeout_ms,
		           err) == ZF_OK
		    ? 1
		    : -1;
	case OPT_JSON:
		x->out->json = true;
		return 1;
	case OPT_NO_PROGRESS:
		x->out->progress = false;
		return 1;
	case 'q':
		x->out->quiet = true;
		return 1;
	case 'v':
		x->out->verbose = true;
		return 1;
	default:
		return 0;
	}
}

int
cli_strlist_push(struct cli_strlist *l, const char *s)
{
	return strlist_add(l, s);
}

void
cli_xfer_finish(struct cli_xfer *x)
{
	x->cfg->props = x->props.v;
	x->cfg->excludes = x->excludes.v;
	x->cfg->ssh.options = x->sshopts.v;
	x->cfg->zfs_program = getenv("ZFERRY_ZFS");
	x->cfg->ssh_program = getenv("ZFERRY_SSH");
	x->out->show_progress = cli_progress_wanted(x->out);
	/* a terminal line redrawn five times a second; JSON once a second */
	x->cfg->progress_interval_ms = x->out->show_progress ? 200 : 1000;
}

void
cli_xfer_release(struct cli_xfer *x)
{
	free(x->props.v);
	free(x->excludes.v);
	free(x->sshopts.v);
}

int
cli_opt_done(int got, char **argv, int c, const struct zf_error *err)
{
	if (got == 1)
		return EXIT_OK;
	if (got == 0) {
		if (c == ':')
			cli_usage_error("option '%s' needs a value",
			    argv[optind - 1]);
		else
			cli_usage_error("unknown option '%s'",
			    argv[optind - 1]);
	} else if (err->code == ZF_OK) {
		cli_msg("out of memory");
	} else {
		cli_error(err);
	}
	return EXIT_USAGE;
}
