#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char pipe_usage[] =
    "usage: zferry pipe [OPTIONS] [-- COMMAND [ARG...]]\n"
    "\n"
    "zferry's relay on its own.  Without a command it copies stdin to\n"
    "stdout (with splice(2) when both are pipes), compressing or\n"
    "decompressing on the way when asked.  With --decompress and a command,\n"
    "it decompresses stdin into the command; with --compress and a command,\n"
    "it compresses the command's output to stdout.  The command's stderr is\n"
    "zferry's; its exit status becomes zferry's.  zferry send runs this on\n"
    "the far side of ssh.\n"
    "\n"
    "  --compress ALG[:LEVEL]  zstd (levels 1-19) or lz4 (1-12)\n"
    "  --decompress ALG        zstd or lz4\n"
    "  --threads N             zstd worker threads (default 2)\n"
    "  --bwlimit RATE          at most RATE bytes/s out (k, M, G suffixes)\n"
    "  --buffer SIZE           a ring buffer of SIZE instead of splice\n"
    "  --stall-timeout DURATION  fail when no byte moved for this long\n"
    "  --stats                 print bytes in and out to stderr at the end\n"
    "  --probe                 print the pipe protocol version and exit\n"
    "\n"
    "Exit status: the command's, else 0 success; 1 failure (a corrupt\n"
    "compressed stream, say); 2 invalid usage; 75 stalled; 130, 143\n"
    "interrupted.\n";

enum {
	OPT_DECOMPRESS = OPT_OWN,
	OPT_THREADS,
	OPT_STATS,
	OPT_PROBE,
};

static const struct option pipe_longopts[] = {
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"decompress", required_argument, NULL, OPT_DECOMPRESS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"bwlimit", required_argument, NULL, OPT_BWLIMIT},
    {"buffer", required_argument, NULL, OPT_BUFFER},
    {"stall-timeout", required_argument, NULL, OPT_STALL},
    {"stats", no_argument, NULL, OPT_STATS},
    {"probe", no_argument, NULL, OPT_PROBE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int
cmd_pipe(int argc, char **argv)
{
	struct zf_pipe_config cfg;
	struct zf_error err;
	enum zf_status r;
	bool stats = false;
	uint64_t v;
	int c, level = 0, sig;

	memset(&cfg, 0, sizeof(cfg));
	cfg.threads = 2;
	cfg.in_fd = STDIN_FILENO;
	cfg.out_fd = STDOUT_FILENO;
	zf_error_clear(&err);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", pipe_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_COMPRESS:
			if (zf_parse_compress("--compress", optarg,
			        &cfg.compress, &level, &err) != ZF_OK)
				goto bad;
			cfg.level = level;
			break;
		case OPT_DECOMPRESS:
			if (zf_parse_compress("--decompress", optarg,
			        &cfg.decompress, &level, &err) != ZF_OK)
				goto bad;
			break;
		case OPT_THREADS:
			if (zf_parse_u64("--threads", optarg, 0, 64, &v, &err))
				goto bad;
			cfg.threads = (int)v;
			break;
		case OPT_BWLIMIT:
			if (zf_parse_rate("--bwlimit", optarg, 1024,
			        UINT64_MAX / 2, &cfg.bwlimit, &err) != ZF_OK)
				goto bad;
			break;
		case OPT_BUFFER:
			if (zf_parse_size("--buffer", optarg, 64 * 1024,
			        4ull << 30, &cfg.buffer_size, &err) != ZF_OK)
				goto bad;
			break;
		case OPT_STALL:
			if (zf_parse_duration("--stall-timeout", optarg, 0,
			        366ull * 86400000, &cfg.stall_timeout_ms,
			        &err) != ZF_OK)
				goto bad;
			break;
		case OPT_STATS:
			stats = true;
			break;
		case OPT_PROBE:
			puts(ZF_PIPE_PROTOCOL);
			return EXIT_OK;
		case OPT_HELP:
			fputs(pipe_usage, stdout);
			return EXIT_OK;
		default:
			cli_usage_error("pipe: unknown option '%s'",
			    argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		cfg.argv = argv + optind;
	cfg.cancel_fd = cli_signals_install_fd();
	r = zf_pipe_run(&cfg, &err);
	cli_signals_reset();
	if (cfg.cancel_fd >= 0)
		close(cfg.cancel_fd);
	if (stats)
		fprintf(stderr,
		    "zferry pipe: %" PRIu64 " bytes in, %" PRIu64
		    " bytes out\n",
		    cfg.bytes_in, cfg.bytes_out);
	if (r == ZF_OK)
		return EXIT_OK;
	sig = cli_signal_caught();
	if (r == ZF_E_CANCELED)
		return 128 + (sig > 0 ? sig : 2);
	if (r == ZF_E_CHILD)
		return err.child_status > 0 ? err.child_status : EXIT_FAILED;
	fprintf(stderr, "zferry pipe: error: %s\n", err.msg);
	if (r == ZF_E_INVALID)
		return EXIT_USAGE;
	return r == ZF_E_TIMEOUT ? EXIT_TRANSIENT : EXIT_FAILED;
bad:
	cli_error(&err);
	return EXIT_USAGE;
}
