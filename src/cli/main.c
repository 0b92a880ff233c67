#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: zferry COMMAND [OPTIONS] ...\n"
    "\n"
    "Commands:\n"
    "  send     replicate one snapshot: zferry send [OPTIONS] SOURCE@SNAP TARGET\n"
    "  sync     make a target hold what a source holds: zferry sync [OPTIONS]\n"
    "           SOURCE TARGET\n"
    "  pipe     zferry's relay on its own: zferry pipe [OPTIONS] [-- COMMAND]\n"
    "  token    decode a resume token: zferry token [--json] TOKEN\n"
    "\n"
    "  zferry COMMAND --help   options of a command\n"
    "  zferry --version        the version\n"
    "\n"
    "Exit status: 0 success; 1 failure; 2 invalid usage or input; 75\n"
    "transient failure (a retry may succeed); 130, 143 interrupted.\n";

int
main(int argc, char **argv)
{
	cli_stdio_sanitize();
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("zferry %s\n", zf_version());
		return EXIT_OK;
	}
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(argc - 1, argv + 1);
	if (strcmp(argv[1], "sync") == 0)
		return cmd_sync(argc - 1, argv + 1);
	if (strcmp(argv[1], "pipe") == 0)
		return cmd_pipe(argc - 1, argv + 1);
	if (strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	cli_usage_error("unknown command '%s'", argv[1]);
	return EXIT_USAGE;
}
