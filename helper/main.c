/*
 * accessowl-helper: the only process that holds the AccessOwl API token and
 * talks to the API.  See accessowl-helper(8).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "log.h"
#include "privdrop.h"

#ifndef AO_VERSION
#define AO_VERSION "0"
#endif

static const struct {
	const char *name;
	int (*fn)(const struct ao_opts *, int, char **);
} commands[] = {
	{ "enqueue", cmd_enqueue },
	{ "deliver", cmd_deliver },
	{ "scan", cmd_scan },
	{ "revoke", cmd_revoke },
	{ "status", cmd_status },
	{ "check", cmd_check },
	{ "ingest", cmd_ingest },
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: accessowl-helper [-c FILE] [-v] COMMAND [ARGS]\n"
	    "\n"
	    "commands:\n"
	    "  enqueue --user NAME\n"
	    "          --event %s\n"
	    "          [--service S] [--rhost H] [--fine-at MS]\n"
	    "                                  queue an event (the PAM module "
	    "does this)\n"
	    "  deliver [--now] [--retry-parked [--from SENDER]]\n"
	    "                                  deliver what is due (--now: "
	    "everything queued;\n"
	    "                                  --retry-parked: parked events "
	    "too, or those SENDER reported)\n"
	    "  deliver --drop-parked --from SENDER\n"
	    "                                  remove the parked events a "
	    "relay sender reported\n"
	    "  scan [--dry-run] [--initial]    queue lock, expiry and deletion "
	    "seen since the last scan\n"
	    "  scan --confirm-deletions        queue deletions the scan held "
	    "(too many at once)\n"
	    "  revoke --user NAME [--dry-run]  revoke the person's AccessOwl "
	    "access now\n"
	    "  status [--json]                 queued, parked and delivered "
	    "events\n"
	    "  status --prometheus [--output FILE]\n"
	    "                                  the same as metrics (for "
	    "node_exporter)\n"
	    "  check                           check config, permissions, "
	    "token, PAM, units and API\n"
	    "                                  (a relay host: its certificate "
	    "and the collector)\n"
	    "  ingest                          a fleet relay's collector: "
	    "events from rsyslog\n"
	    "                                  (omprog) into the spool\n"
	    "\n"
	    "options:\n"
	    "  -c FILE    config file (default " AO_DEFAULT_CONFIG ")\n"
	    "  -v         debug output\n"
	    "  --version  print the version\n"
	    "\n"
	    "exit status: 0 ok, 64 usage, 65 bad data, 69 API unavailable, "
	    "75 try later,\n"
	    "             77 permission, 78 config\n", ao_event_choices());
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ao_opts o = { AO_DEFAULT_CONFIG, 0 };
	size_t i;
	int c, r;

	ao_harden_process();
	while ((c = getopt_long(argc, argv, "+c:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config_path = optarg; break;
		case 'v': o.debug = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("accessowl-helper %s\n", AO_VERSION); return 0;
		default: usage(stderr); return ao_exit_code(AO_ERR_USAGE);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return ao_exit_code(AO_ERR_USAGE);
	}
	ao_log_open(o.debug);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[optind]) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "accessowl-helper: unknown command '%s'\n",
		    argv[optind]);
		usage(stderr);
		return ao_exit_code(AO_ERR_USAGE);
	}
	r = commands[i].fn(&o, argc - optind, argv + optind);
	fflush(stdout);
	return ao_exit_code(r);
}
