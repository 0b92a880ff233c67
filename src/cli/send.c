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
    "  -R, --replicate      the dataset with its descendants and snapshots\n"
    "  -F, --force          zfs receive -F: roll the target back / overwrite\n"
    "  -s, --resumable      zfs receive -s: keep a partial receive resumable\n"
    "      --origin SNAP    receive as a clone of SNAP\n";

static const char send_exit[] =
    "\n"
    "Exit status: 0 success; 1 the transfer failed; 2 invalid usage or input,\n"
    "or an option a side's zfs does not support (nothing was transferred);\n"
    "75 transient failure, a retry may succeed (host unreachable, connection\n"
    "lost, dataset busy, stalled); 130, 143 interrupted by SIGINT, SIGTERM.\n";

enum {
	OPT_ORIGIN = OPT_OWN,
};

static const struct option send_own[] = {
    {"replicate", no_argument, NULL, 'R'},
    {"force", no_argument, NULL, 'F'},
    {"resumable", no_argument, NULL, 's'},
    {"origin", required_argument, NULL, OPT_ORIGIN},
};

struct send_args {
	struct zf_send_config cfg;
	struct cli_out out;
	struct cli_xfer x;
};

static int
parse_send(int argc, char **argv, struct send_args *a)
{
	struct option *longopts;
	char shortopts[64];
	const char *base = NULL;
	struct zf_error err;
	int c, rc = EXIT_OK;

	zf_send_config_init(&a->cfg);
	zf_error_clear(&err);
	a->x.cfg = &a->cfg;
	a->x.out = &a->out;
	longopts =
	    cli_longopts(send_own, sizeof(send_own) / sizeof(send_own[0]));
	if (longopts == NULL)
		return EXIT_FAILED;
	snprintf(shortopts, sizeof(shortopts), "+:i:I:RFs%s",
	    cli_xfer_shortopts);
	opterr = 0;
	optind = 1;
	while (rc == EXIT_OK &&
	    (c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
		case 'I':
			if (base != NULL) {
				cli_usage_error(
				    "send: give one of -i and -I, once");
				rc = EXIT_USAGE;
				break;
			}
			base = optarg;
			a->cfg.intermediates = c == 'I';
			break;
		case 'R':
			a->cfg.send_flags |= ZF_SEND_REPLICATE;
			break;
		case 'F':
			a->cfg.recv_flags |= ZF_RECV_FORCE;
			break;
		case 's':
			a->cfg.recv_flags |= ZF_RECV_RESUMABLE;
			break;
		case OPT_ORIGIN:
			a->cfg.origin = optarg;
			break;
		case OPT_HELP:
			fputs(send_usage, stdout);
			fputs(cli_xfer_help, stdout);
			fputs(send_exit, stdout);
			rc = -1;
			break;
		default:
			rc = cli_opt_done(cli_xfer_opt(&a->x, c, optarg, &err),
			    argv, c, &err);
		}
	}
	free(longopts);
	if (rc != EXIT_OK)
		return rc;
	if (argc - optind != 2) {
		cli_usage_error(
		    "send: expected SOURCE@SNAP and TARGET, got %d argument%s",
		    argc - optind, argc - optind == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	a->cfg.base = base;
	cli_xfer_finish(&a->x);
	if (zf_location_parse(&a->cfg.source, argv[optind], ZF_NAME_SNAPSHOT,
	        "source", &err) != ZF_OK ||
	    zf_location_parse(&a->cfg.target, argv[optind + 1],
	        ZF_NAME_FS | ZF_NAME_SNAPSHOT, "target", &err) != ZF_OK) {
		cli_error(&err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
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
	} else if (a.out.json) {
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
	cli_out_release(&a.out);
	cli_xfer_release(&a.x);
	return rc < 0 ? EXIT_OK : rc;
}
