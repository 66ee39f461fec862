/*
 * accessowl-helper deliver [--now] [--retry-parked] [--from SENDER],
 * deliver --drop-parked --from SENDER: parse, set up, and hand over to
 * the delivery engine (deliver.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "deliver.h"
#include "err.h"
#include "out.h"
#include "session.h"
#include "spool.h"

int
cmd_deliver(const struct ao_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "now", no_argument, NULL, 'n' },
		{ "retry-parked", no_argument, NULL, 'p' },
		{ "drop-parked", no_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct ao_spool sp = { .fd = { -1, -1, -1 }, .lockfd = -1, .rootfd = -1 };
	struct ao_session run;
	bool all = false, parked = false, drop = false;
	const char *from = NULL;
	size_t n = 0;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "npdf:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': all = true; break;
		case 'p': parked = all = true; break;
		case 'd': drop = true; break;
		case 'f': from = optarg; break;
		default: return AO_ERR_USAGE;
		}
	}
	if (drop && (from == NULL || parked || all)) {
		fprintf(stderr, "accessowl-helper deliver --drop-parked needs "
		    "--from SENDER (a relay sender's address or host name, as "
		    "status shows it), and nothing else: it removes only the "
		    "parked events that sender reported\n");
		return AO_ERR_USAGE;
	}
	if (from != NULL && !parked && !drop) {
		fprintf(stderr, "accessowl-helper deliver: --from goes with "
		    "--retry-parked or --drop-parked\n");
		return AO_ERR_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "usage: accessowl-helper deliver [--now] "
		    "[--retry-parked] [--from SENDER]\n"
		    "       accessowl-helper deliver --drop-parked --from "
		    "SENDER\n");
		return AO_ERR_USAGE;
	}
	if ((r = ao_session_open(&run, o->config_path, AO_SESSION_API |
	    AO_SESSION_DIRS)) != AO_OK ||
	    (r = ao_session_drop(&run)) != AO_OK ||
	    (r = ao_spool_open(run.cfg.spool_dir, &sp)) != AO_OK)
		goto out;
	if (drop) {
		r = ao_deliver_drop_parked(&run, &sp, from, &n);
		ao_print("deliver: dropped %zu parked events reported by %s\n",
		    n, from);
		goto out;
	}
	if (parked && (r = ao_deliver_requeue_parked(&run, &sp, from, &n)) !=
	    AO_OK)
		goto out;
	if (parked && from != NULL)
		ao_print("deliver: put back %zu parked events reported by %s\n",
		    n, from);
	r = ao_deliver_run(&run, &sp, all);
	/* a person at a terminal sees what happened (the log has it all) */
	if (isatty(STDOUT_FILENO) || o->debug) {
		const struct ao_run_stats *st = &run.stats;

		if (run.cfg.relay)
			ao_print("deliver: %u events forwarded to the collector, "
			    "%u left queued\n", st->forwarded, st->retry);
		else
			ao_print("deliver: %u events delivered, %u left queued, "
			    "%u parked; %u revocations followed up, %u of them "
			    "settled\n", st->delivered, st->retry, st->parked,
			    st->asked, st->settled);
	}
out:
	if (sp.rootfd >= 0)
		ao_spool_close(&sp);
	ao_session_close(&run);
	return r;
}
