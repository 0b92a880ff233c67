#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char send_usage[] =
    "usage: zferry send [OPTIONS] SOURCE@SNAP TARGET\n"
    "\n"
    "Replicates one snapshot: zfs send on one host, zfs receive on this or\n"
    "another host, with zferry relaying the stream.  SOURCE and TARGET are\n"
    "pool/fs (this host) or [user@]host:pool/fs (over ssh); one side must be\n"
    "this host.\n"
    "\n"
    "Incremental:\n"
    "  -i BASE              incremental from BASE (@snap, snap, pool/fs@snap\n"
    "                       or a bookmark #bm)\n"
    "  -I BASE              like -i, and send every snapshot in between\n"
    "zfs send flags:\n"
    "  -w, --raw            raw stream (encrypted data stays encrypted)\n"
    "  -c, --compressed     keep on-disk compression in the stream\n"
    "  -L, --large-block    allow blocks larger than 128 KiB\n"
    "  -e, --embed          embedded-data blocks\n"
    "  -p, --props          send properties\n"
    "  -h, --holds          send holds\n"
    "  -b, --backup         send received properties as received\n"
    "  -R, --replicate      the dataset with its descendants and snapshots\n"
    "zfs receive flags:\n"
    "  -F, --force          roll the target back / overwrite it\n"
    "  -u, --no-mount       do not mount the received file system\n"
    "  -s, --resumable      keep a partial receive resumable\n"
    "  -o PROP=VALUE        set a property on the target (repeatable)\n"
    "  -x PROP              do not receive a property (repeatable)\n"
    "      --origin SNAP    receive as a clone of SNAP\n"
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
    "      --json           events as JSON lines on stdout (start, progress,\n"
    "                       done, error)\n"
    "      --no-progress    no progress line (it is shown only on a terminal)\n"
    "  -q, --quiet          only errors\n"
    "  -v, --verbose        also show the commands zferry runs\n"
    "      --help           this help\n"
    "\n"
    "ssh always runs with BatchMode=yes and StrictHostKeyChecking=yes: an\n"
    "unknown host key is refused, never trusted on first use.\n"
    "Environment: ZFERRY_ZFS, ZFERRY_SSH name the local zfs and ssh programs.\n"
    "\n"
    "Exit status: 0 success; 1 the transfer failed; 2 invalid usage or input,\n"
    "or an option a side's zfs does not support (nothing was transferred);\n"
    "75 transient failure, a retry may succeed (host unreachable, connection\n"
    "lost, dataset busy); 130, 143 interrupted by SIGINT, SIGTERM.\n";

enum {
	OPT_ORIGIN = 256,
	OPT_SSH_PORT,
	OPT_SSH_KEY,
	OPT_KNOWN_HOSTS,
	OPT_SSH_CIPHER,
	OPT_SSH_OPTION,
	OPT_REMOTE_ZFS,
	OPT_REMOTE_ZFERRY,
	OPT_COMPRESS,
	OPT_BWLIMIT,
	OPT_BUFFER,
	OPT_TIMEOUT,
	OPT_STALL,
	OPT_JSON,
	OPT_NO_PROGRESS,
	OPT_HELP,
};

static const struct option send_longopts[] = {
    {"raw", no_argument, NULL, 'w'},
    {"compressed", no_argument, NULL, 'c'},
    {"large-block", no_argument, NULL, 'L'},
    {"embed", no_argument, NULL, 'e'},
    {"props", no_argument, NULL, 'p'},
    {"holds", no_argument, NULL, 'h'},
    {"backup", no_argument, NULL, 'b'},
    {"replicate", no_argument, NULL, 'R'},
    {"force", no_argument, NULL, 'F'},
    {"no-mount", no_argument, NULL, 'u'},
    {"resumable", no_argument, NULL, 's'},
    {"origin", required_argument, NULL, OPT_ORIGIN},
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
    {NULL, 0, NULL, 0},
};

/* A growing NULL-terminated list of pointers into argv (not copied). */
struct strlist {
	const char **v;
	size_t n;
};

static int
strlist_add(struct strlist *l, const char *s)
{
	const char **v = realloc(l->v, (l->n + 2) * sizeof(*v));

	if (v == NULL)
		return -1;
	l->v = v;
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
	return 0;
}

struct send_args {
	struct zf_send_config cfg;
	struct cli_out out;
	struct strlist props, excludes, sshopts;
};

static int
parse_send(int argc, char **argv, struct send_args *a)
{
	int c;
	const char *base = NULL;
	struct zf_error err;

	zf_send_config_init(&a->cfg);
	zf_error_clear(&err);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:i:I:wcLephbRFuso:x:qv",
	            send_longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
		case 'I':
			if (base != NULL) {
				cli_usage_error(
				    "send: give one of -i and -I, once");
				return EXIT_USAGE;
			}
			base = optarg;
			a->cfg.intermediates = c == 'I';
			break;
		case 'w':
			a->cfg.send_flags |= ZF_SEND_RAW;
			break;
		case 'c':
			a->cfg.send_flags |= ZF_SEND_COMPRESSED;
			break;
		case 'L':
			a->cfg.send_flags |= ZF_SEND_LARGE_BLOCK;
			break;
		case 'e':
			a->cfg.send_flags |= ZF_SEND_EMBED;
			break;
		case 'p':
			a->cfg.send_flags |= ZF_SEND_PROPS;
			break;
		case 'h':
			a->cfg.send_flags |= ZF_SEND_HOLDS;
			break;
		case 'b':
			a->cfg.send_flags |= ZF_SEND_BACKUP;
			break;
		case 'R':
			a->cfg.send_flags |= ZF_SEND_REPLICATE;
			break;
		case 'F':
			a->cfg.recv_flags |= ZF_RECV_FORCE;
			break;
		case 'u':
			a->cfg.recv_flags |= ZF_RECV_NOMOUNT;
			break;
		case 's':
			a->cfg.recv_flags |= ZF_RECV_RESUMABLE;
			break;
		case 'o':
			if (strlist_add(&a->props, optarg) != 0)
				return EXIT_FAILED;
			break;
		case 'x':
			if (strlist_add(&a->excludes, optarg) != 0)
				return EXIT_FAILED;
			break;
		case OPT_ORIGIN:
			a->cfg.origin = optarg;
			break;
		case OPT_SSH_PORT: {
			uint64_t port;

			if (zf_parse_u64("--ssh-port", optarg, 1, 65535, &port,
			        &err) != ZF_OK)
				goto bad;
			a->cfg.ssh.port = (unsigned)port;
			break;
		}
		case OPT_SSH_KEY:
			a->cfg.ssh.key_file = optarg;
			break;
		case OPT_KNOWN_HOSTS:
			a->cfg.ssh.known_hosts = optarg;
			break;
		case OPT_SSH_CIPHER:
			a->cfg.ssh.cipher = optarg;
			break;
		case OPT_SSH_OPTION:
			if (strlist_add(&a->sshopts, optarg) != 0)
				return EXIT_FAILED;
			break;
		case OPT_REMOTE_ZFS:
			a->cfg.remote_zfs = optarg;
			break;
		case OPT_REMOTE_ZFERRY:
			a->cfg.remote_zferry = optarg;
			break;
		case OPT_COMPRESS:
			if (zf_parse_compress("--compress", optarg,
			        &a->cfg.compress, &a->cfg.compress_level,
			        &err) != ZF_OK)
				goto bad;
			break;
		case OPT_BWLIMIT:
			if (zf_parse_rate("--bwlimit", optarg, 1024,
			        UINT64_MAX / 2, &a->cfg.bwlimit, &err) != ZF_OK)
				goto bad;
			break;
		case OPT_BUFFER:
			if (zf_parse_size("--buffer", optarg, 64 * 1024,
			        4ull << 30, &a->cfg.buffer_size, &err) != ZF_OK)
				goto bad;
			break;
		case OPT_TIMEOUT:
			if (zf_parse_duration("--timeout", optarg, 1,
			        366ull * 86400000, &a->cfg.timeout_ms,
			        &err) != ZF_OK)
				goto bad;
			break;
		case OPT_STALL:
			if (zf_parse_duration("--stall-timeout", optarg, 0,
			        366ull * 86400000, &a->cfg.stall_timeout_ms,
			        &err) != ZF_OK)
				goto bad;
			break;
		case OPT_JSON:
			a->out.json = true;
			break;
		case OPT_NO_PROGRESS:
			a->out.progress = false;
			break;
		case 'q':
			a->out.quiet = true;
			break;
		case 'v':
			a->out.verbose = true;
			break;
		case OPT_HELP:
			fputs(send_usage, stdout);
			return -1;
		case ':':
			cli_usage_error("send: option '%s' needs a value",
			    argv[optind - 1]);
			return EXIT_USAGE;
		default:
			cli_usage_error("send: unknown option '%s'",
			    argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		cli_usage_error(
		    "send: expected SOURCE@SNAP and TARGET, got %d argument%s",
		    argc - optind, argc - optind == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	a->cfg.base = base;
	a->cfg.props = a->props.v;
	a->cfg.excludes = a->excludes.v;
	a->cfg.ssh.options = a->sshopts.v;
	a->cfg.zfs_program = getenv("ZFERRY_ZFS");
	a->cfg.ssh_program = getenv("ZFERRY_SSH");
	if (zf_location_parse(&a->cfg.source, argv[optind], ZF_NAME_SNAPSHOT,
	        "source", &err) != ZF_OK ||
	    zf_location_parse(&a->cfg.target, argv[optind + 1],
	        ZF_NAME_FS | ZF_NAME_SNAPSHOT, "target", &err) != ZF_OK)
		goto bad;
	a->out.show_progress = cli_progress_wanted(&a->out);
	/* a terminal line redrawn five times a second; JSON once a second */
	a->cfg.progress_interval_ms = a->out.show_progress ? 200 : 1000;
	return EXIT_OK;
bad:
	cli_error(&err);
	return EXIT_USAGE;
}

int
cmd_send(int argc, char **argv)
{
	struct send_args a;
	struct zf_job *job = NULL;
	struct zf_error err;
	enum zf_status r;
	int rc;

	memset(&a, 0, sizeof(a));
	cli_out_init(&a.out);
	rc = parse_send(argc, argv, &a);
	if (rc != EXIT_OK)
		goto out;
	zf_error_clear(&err);
	r = zf_job_new(&job, &a.cfg, &err);
	if (r == ZF_OK) {
		zf_job_set_events(job, cli_on_event, &a.out);
		cli_signals_install(job);
		r = zf_job_run(job, &err);
		cli_signals_reset();
	}
	if (r != ZF_OK && r == ZF_E_INVALID && a.out.json) {
		/* the job never started: say it in JSON too */
		struct zf_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_ERROR;
		ev.error = &err;
		cli_on_event(&ev, &a.out);
	}
	if (r != ZF_OK)
		cli_error(&err);
	rc = cli_exit_code(r, &err);
out:
	zf_job_free(job);
	free(a.props.v);
	free(a.excludes.v);
	free(a.sshopts.v);
	return rc < 0 ? EXIT_OK : rc;
}
