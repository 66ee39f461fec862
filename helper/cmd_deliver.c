/*
 * accessowl-helper deliver [--now] [--retry-parked]: parse, set up, and
 * hand over to the delivery engine (deliver.h).
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
		{ NULL, 0, NULL, 0 },
	};
	struct ao_spool sp = { { -1, -1, -1 }, -1, -1 };
	struct ao_session run;
	bool all = false, parked = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "np", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': all = true; break;
		case 'p': parked = all = true; break;
		default: return AO_ERR_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: accessowl-helper deliver [--now] "
		    "[--retry-parked]\n");
		return AO_ERR_USAGE;
	}
	if ((r = ao_session_open(&run, o->config_path, AO_SESSION_API |
	    AO_SESSION_DIRS)) != AO_OK ||
	    (r = ao_session_drop(&run)) != AO_OK ||
	    (r = ao_spool_open(run.cfg.spool_dir, &sp)) != AO_OK)
		goto out;
	if (parked && (r = ao_deliver_requeue_parked(&run, &sp)) != AO_OK)
		goto out;
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
