#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char sync_usage[] =
    "usage: zferry sync [OPTIONS] SOURCE TARGET\n"
    "\n"
    "Makes TARGET hold what SOURCE holds: the snapshots it lacks are sent,\n"
    "incrementally from the newest snapshot the two share (matched by guid,\n"
    "so renamed snapshots still count).  SOURCE and TARGET are datasets,\n"
    "pool/fs or [user@]host:pool/fs; one side must be this host.  All ssh\n"
    "commands of a run share one connection.\n"
    "\n"
    "Plan:\n"
    "  -r, --recursive      the children too (TARGET/child for SOURCE/child),\n"
    "                       parents before children, origins before clones\n"
    "      --skip-parent    with -r, not SOURCE itself\n"
    "      --exclude REGEX  skip datasets whose name matches (repeatable)\n"
    "      --no-stream      send only the newest snapshot (-i, not -I)\n"
    "      --snapshot       first snapshot SOURCE (with -r: recursive, atomic)\n"
    "                       as zferry_YYYY-MM-DD_HH.MM.SS (UTC)\n"
    "      --snapshot-name NAME  that snapshot's name instead\n"
    "  -n, --dry-run        print the plan, change nothing\n"
    "Safety:\n"
    "  -F, --force          roll back a target that diverged (zfs receive -F)\n"
    "                       and replace one that shares no snapshot\n"
    "      --delete-target-snapshots  destroy target snapshots that are no\n"
    "                       longer on the source\n"
    "Running:\n"
    "  -j, --jobs N         datasets at once, parents first (default 4;\n"
    "                       1: one at a time); --bwlimit is their sum\n"
    "      --retries N      retries of a transient failure (default 3), with\n"
    "                       exponential backoff; a retry resumes from the\n"
    "                       target's resume token where there is one\n"
    "      --no-resumable   no zfs receive -s (it is on where both sides\n"
    "                       support it)\n"
    "      --hold           hold what is being sent on the source until done\n"
    "      --bookmark       bookmark each snapshot sent, on the source\n"
    "      --metrics-file PATH  write Prometheus metrics (textfile collector)\n";

static const char sync_exit[] =
    "\n"
    "Exit status: 0 every dataset in sync or nothing to do; 1 a dataset\n"
    "failed; 2 invalid usage or input; 75 some failed transiently and none\n"
    "fatally (a retry may succeed); 130, 143 interrupted.\n";

enum {
	OPT_SKIP_PARENT = OPT_OWN,
	OPT_EXCLUDE,
	OPT_NO_STREAM,
	OPT_SNAPSHOT,
	OPT_SNAPSHOT_NAME,
	OPT_DELETE_TARGET,
	OPT_RETRIES,
	OPT_NO_RESUMABLE,
	OPT_HOLD,
	OPT_BOOKMARK,
	OPT_METRICS,
};

static const struct option sync_own[] = {
    {"recursive", no_argument, NULL, 'r'},
    {"skip-parent", no_argument, NULL, OPT_SKIP_PARENT},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"no-stream", no_argument, NULL, OPT_NO_STREAM},
    {"snapshot", no_argument, NULL, OPT_SNAPSHOT},
    {"snapshot-name", required_argument, NULL, OPT_SNAPSHOT_NAME},
    {"dry-run", no_argument, NULL, 'n'},
    {"force", no_argument, NULL, 'F'},
    {"delete-target-snapshots", no_argument, NULL, OPT_DELETE_TARGET},
    {"jobs", required_argument, NULL, 'j'},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"no-resumable", no_argument, NULL, OPT_NO_RESUMABLE},
    {"hold", no_argument, NULL, OPT_HOLD},
    {"bookmark", no_argument, NULL, OPT_BOOKMARK},
    {"metrics-file", required_argument, NULL, OPT_METRICS},
};

struct sync_args {
	struct zf_sync_config cfg;
	struct cli_out out;
	struct cli_xfer x;
	struct cli_strlist excludes;
};

static int
sync_opt(struct sync_args *a, int c, const char *arg, struct zf_error *err)
{
	uint64_t v;

	switch (c) {
	case 'r':
		a->cfg.recursive = true;
		return 1;
	case OPT_SKIP_PARENT:
		a->cfg.skip_parent = true;
		return 1;
	case OPT_EXCLUDE:
		return cli_strlist_push(&a->excludes, arg) == 0 ? 1 : -1;
	case OPT_NO_STREAM:
		a->cfg.no_stream = true;
		return 1;
	case OPT_SNAPSHOT:
		a->cfg.take_snapshot = true;
		return 1;
	case OPT_SNAPSHOT_NAME:
		a->cfg.take_snapshot = true;
		a->cfg.snapshot_name = arg;
		return 1;
	case 'n':
		a->cfg.dry_run = true;
		return 1;
	case 'F':
		a->cfg.force = true;
		return 1;
	case OPT_DELETE_TARGET:
		a->cfg.delete_target_snapshots = true;
		return 1;
	case 'j':
		if (zf_parse_u64("--jobs", arg, 1, 64, &v, err) != ZF_OK)
			return -1;
		a->cfg.jobs = (unsigned)v;
		return 1;
	case OPT_RETRIES:
		if (zf_parse_u64("--retries", arg, 0, 100, &v, err) != ZF_OK)
			return -1;
		a->cfg.retries = (unsigned)v;
		return 1;
	case OPT_NO_RESUMABLE:
		a->cfg.no_resumable = true;
		return 1;
	case OPT_HOLD:
		a->cfg.hold = true;
		return 1;
	case OPT_BOOKMARK:
		a->cfg.bookmark = true;
		return 1;
	case OPT_METRICS:
		a->cfg.metrics_file = arg;
		return 1;
	default:
		return cli_xfer_opt(&a->x, c, arg, err);
	}
}

static int
parse_sync(int argc, char **argv, struct sync_args *a)
{
	struct option *longopts;
	char shortopts[64];
	struct zf_error err;
	int c, rc = EXIT_OK;

	zf_sync_config_init(&a->cfg);
	zf_error_clear(&err);
	a->x.cfg = &a->cfg.xfer;
	a->x.out = &a->out;
	longopts =
	    cli_longopts(sync_own, sizeof(sync_own) / sizeof(sync_own[0]));
	if (longopts == NULL)
		return EXIT_FAILED;
	snprintf(shortopts, sizeof(shortopts), "+:rnFj:%s", cli_xfer_shortopts);
	opterr = 0;
	optind = 1;
	while (rc == EXIT_OK &&
	    (c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(sync_usage, stdout);
			fputs(cli_xfer_help, stdout);
			fputs(sync_exit, stdout);
			rc = -1;
			break;
		}
		rc = cli_opt_done(sync_opt(a, c, optarg, &err), argv, c, &err);
	}
	free(longopts);
	if (rc != EXIT_OK)
		return rc;
	if (argc - optind != 2) {
		cli_usage_error(
		    "sync: expected SOURCE and TARGET, got %d argument%s",
		    argc - optind, argc - optind == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	a->cfg.excludes = a->excludes.v;
	cli_xfer_finish(&a->x);
	/*
	 * The size estimate costs a zfs send -nvP per transfer (a round trip
	 * for a pull): only when something shows it.
	 */
	a->cfg.xfer.no_estimate = !a->out.json && !a->out.show_progress;
	if (zf_location_parse(&a->cfg.xfer.source, argv[optind], ZF_NAME_FS,
	        "source", &err) != ZF_OK ||
	    zf_location_parse(&a->cfg.xfer.target, argv[optind + 1], ZF_NAME_FS,
	        "target", &err) != ZF_OK) {
		cli_error(&err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
cmd_sync(int argc, char **argv)
{
	struct sync_args a;
	struct zf_sync *sy = NULL;
	struct zf_sync_counts counts;
	struct zf_error err;
	enum zf_status r;
	int rc;

	memset(&a, 0, sizeof(a));
	cli_out_init(&a.out);
	a.out.sync = true;
	rc = parse_sync(argc, argv, &a);
	if (rc != EXIT_OK)
		goto out;
	a.out.dry_run = a.cfg.dry_run;
	zf_error_clear(&err);
	r = zf_sync_new(&sy, &a.cfg, &err);
	if (r == ZF_OK) {
		zf_sync_set_events(sy, cli_on_event, &a.out);
		cli_signals_install_sync(sy);
		r = zf_sync_run(sy, &err);
		cli_signals_reset();
	} else if (a.out.json) {
		struct zf_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.type = ZF_EV_ERROR;
		ev.error = &err;
		cli_on_event(&ev, &a.out);
	}
	memset(&counts, 0, sizeof(counts));
	if (sy != NULL)
		zf_sync_counts(sy, &counts);
	if (r == ZF_E_CANCELED || counts.failed + counts.transient == 0) {
		/* not one dataset's failure (those had a line each) */
		if (r != ZF_OK)
			cli_error(&err);
		rc = cli_exit_code(r, &err);
	} else {
		rc = counts.failed > 0 ? EXIT_FAILED : EXIT_TRANSIENT;
	}
out:
	zf_sync_free(sy);
	cli_out_release(&a.out);
	cli_xfer_release(&a.x);
	free(a.excludes.v);
	return rc < 0 ? EXIT_OK : rc;
}
