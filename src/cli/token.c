#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "zferry/token.h"

static const char token_usage[] =
    "usage: zferry token [--json] TOKEN\n"
    "\n"
    "Decodes a receive_resume_token (zfs get receive_resume_token) and\n"
    "prints what it asks the sending side for, one field a line, like\n"
    "zstream token.  zferry checks the token in the same way before it\n"
    "resumes a send with it: the checksum, the compressed nvlist, and the\n"
    "fields zfs send -t reads.\n"
    "\n"
    "  --json     print one JSON object (guids as decimal strings)\n"
    "  --help     this help\n"
    "\n"
    "Exit status: 0 the token is valid; 1 it is not; 2 invalid usage.\n";

static const struct option token_longopts[] = {
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *
yesno(bool b)
{
	return b ? "yes" : "no";
}

static void
print_text(const struct zf_resume_token *t)
{
	printf("version: %u\n", t->version);
	printf("toname: %s\n", t->toname);
	printf("toguid: %" PRIu64 "\n", t->toguid);
	printf("fromguid: %" PRIu64 "\n", t->fromguid);
	printf("object: %" PRIu64 "\n", t->object);
	printf("offset: %" PRIu64 "\n", t->offset);
	printf("bytes: %" PRIu64 "\n", t->bytes);
	printf("largeblockok: %s\n", yesno(t->largeblockok));
	printf("embedok: %s\n", yesno(t->embedok));
	printf("compressok: %s\n", yesno(t->compressok));
	printf("rawok: %s\n", yesno(t->rawok));
	printf("savedok: %s\n", yesno(t->savedok));
	printf("redacted: %s\n", yesno(t->redacted));
}

/* A JSON string; toname is a checked ZFS name, but escape what JSON needs. */
static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
print_json(const struct zf_resume_token *t)
{
	printf("{\"version\": %u, \"toname\": ", t->version);
	json_string(t->toname);
	printf(", \"toguid\": \"%" PRIu64 "\", \"fromguid\": \"%" PRIu64 "\"",
	    t->toguid, t->fromguid);
	printf(", \"object\": %" PRIu64 ", \"offset\": %" PRIu64
	       ", \"bytes\": %" PRIu64,
	    t->object, t->offset, t->bytes);
	printf(", \"largeblockok\": %s, \"embedok\": %s, \"compressok\": %s"
	       ", \"rawok\": %s, \"savedok\": %s, \"redacted\": %s}\n",
	    t->largeblockok ? "true" : "false", t->embedok ? "true" : "false",
	    t->compressok ? "true" : "false", t->rawok ? "true" : "false",
	    t->savedok ? "true" : "false", t->redacted ? "true" : "false");
}

int
cmd_token(int argc, char **argv)
{
	struct zf_resume_token tok;
	struct zf_error err;
	enum zf_status r;
	bool json = false;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", token_longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(token_usage, stdout);
			return EXIT_OK;
		default:
			cli_usage_error("token: unknown option '%s'",
			    argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_usage_error("token: expected one TOKEN, got %d arguments",
		    argc - optind);
		return EXIT_USAGE;
	}
	zf_error_clear(&err);
	r = zf_token_decode(argv[optind], &tok, &err);
	if (r != ZF_OK) {
		cli_error(&err);
		return r == ZF_E_INVALID ? EXIT_USAGE : EXIT_FAILED;
	}
	if (json)
		print_json(&tok);
	else
		print_text(&tok);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_msg("token: cannot write the output");
		return EXIT_FAILED;
	}
	return EXIT_OK;
}
