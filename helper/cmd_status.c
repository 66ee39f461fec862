/*
 * accessowl-helper status [--json]: queued, parked and delivered events per
 * account, with their reasons (a relay host: forwarded ones; a collector:
 * the hosts that reported them).  Reads the spool only; no network.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "deliver.h"
#include "err.h"
#include "spool_json.h"
#include "log.h"
#include "out.h"
#include "session.h"
#include "spool.h"
#include "text.h"
#include "wire.h"

struct entry {
	struct ao_event_rec ev;
	enum ao_queue q;
};

/* Where an event is, for people: a relay host's done/ is "forwarded". */
static const char *
where(const struct entry *e)
{
	return e->q == AO_Q_DONE && e->ev.forwarded > 0 ? "forwarded" :
	    ao_queue_name(e->q);
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->ev.user, y->ev.user);

	if (c != 0)
		return c;
	return x->ev.created < y->ev.created ? -1 : x->ev.created > y->ev.created;
}

static void
fmt_time(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, n, "-");
}

static void
print_text(const struct entry *e, size_t n)
{
	long long now = (long long)time(NULL);
	size_t i, j;

	if (n == 0) {
		ao_print("no events\n");
		return;
	}
	ao_print("%-16s %-9s %-9s %-19s %-7s %s\n", "ACCOUNT", "EVENT", "QUEUE",
	    "SINCE", "STATES", "DETAIL");
	for (i = 0; i < n; i++) {
		const struct ao_event_rec *ev = &e[i].ev;
		char since[32], next[32], user[64], evname[32], err[800];
		char states[32];
		size_t done = 0;

		for (j = 0; j < ev->nstates; j++)
			if (ao_st_done(ev->states[j].status))
				done++;
		if (ev->listed)
			snprintf(states, sizeof(states), "%zu/%zu", done,
			    ev->nstates);
		else
			snprintf(states, sizeof(states), "-");
		fmt_time(ev->created, since, sizeof(since));
		ao_sanitize(user, sizeof(user), ev->user);
		ao_sanitize(evname, sizeof(evname), ev->event);
		ao_sanitize(err, sizeof(err), ev->error ? ev->error : "");
		ao_print("%-16s %-9s %-9s %-19s %-7s ", user, evname,
		    where(&e[i]), since, states);
		if (ev->received > 0) {
			char host[AO_HOST_MAX + 1];

			ao_sanitize(host, sizeof(host), ev->host);
			ao_print("from %s: ", host);
		}
		if (e[i].q == AO_Q_QUEUE) {
			fmt_time(ev->next_attempt, next, sizeof(next));
			ao_print("attempts %ld%s%s%s%s", ev->attempts,
			    ev->next_attempt > now ? ", next " : "",
			    ev->next_attempt > now ? next : "",
			    err[0] ? ": " : "", err);
			if (now - ev->created > AO_ALARM_AGE)
				ao_print(" [ALARM: older than 13 days]");
		} else if (ev->covered_by != NULL) {
			ao_print("covered by event %.32s", ev->covered_by);
		} else {
			ao_print("%s", err);
		}
		ao_print("\n");
	}
}

struct host_sum {
	const char *host;
	size_t events;
	long long last;
	const char *via;
};

/*
 * A collector: which relay hosts reported, how often, when last and from
 * which address.  Nothing when no event came through the relay.
 */
static void
print_hosts(const struct entry *e, size_t n)
{
	struct host_sum *h = NULL;
	size_t nh = 0, i, j;

	for (i = 0; i < n; i++) {
		const struct ao_event_rec *ev = &e[i].ev;
		struct host_sum *nv;

		if (ev->received <= 0)
			continue;
		for (j = 0; j < nh && strcmp(h[j].host, ev->host) != 0; j++)
			;
		if (j == nh) {
			if ((nv = reallocarray(h, nh + 1, sizeof(*h))) == NULL)
				break;
			h = nv;
			h[nh++] = (struct host_sum){ ev->host, 0, 0, NULL };
		}
		h[j].events++;
		if (ev->received >= h[j].last) {
			h[j].last = ev->received;
			h[j].via = ev->via;
		}
	}
	if (nh == 0) {
		free(h);
		return;
	}
	ao_print("\n%-32s %-7s %-19s %s\n", "REPORTING HOST", "EVENTS",
	    "LAST", "FROM");
	for (j = 0; j < nh; j++) {
		char last[32], host[AO_HOST_MAX + 1], via[64];

		fmt_time(h[j].last, last, sizeof(last));
		ao_sanitize(host, sizeof(host), h[j].host);
		ao_sanitize(via, sizeof(via), h[j].via ? h[j].via : "-");
		ao_print("%-32s %-7zu %-19s %s\n", host, h[j].events, last, via);
	}
	free(h);
}

int
cmd_status(const struct ao_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ao_spool sp = { { -1, -1, -1 }, -1, -1 };
	struct ao_session ss;
	struct entry *e = NULL;
	size_t n = 0, cap = 0, i;
	bool json = false;
	int c, q, r;

	memset(&ss, 0, sizeof(ss));
	optind = 1;
	while ((c = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		if (c != 'j')
			return AO_ERR_USAGE;
		json = true;
	}
	if (optind != argc) {
		fprintf(stderr, "usage: accessowl-helper status [--json]\n");
		return AO_ERR_USAGE;
	}
	if ((r = ao_session_open(&ss, o->config_path, 0)) != AO_OK ||
	    (r = ao_session_drop(&ss)) != AO_OK)
		goto out;
	/* no spool yet (nothing ever queued): an empty list, not an error */
	if (access(ss.cfg.spool_dir, F_OK) != 0 && errno == ENOENT)
		goto print;
	if ((r = ao_spool_open(ss.cfg.spool_dir, &sp)) != AO_OK)
		goto out;
	for (q = 0; q < AO_Q_COUNT; q++) {
		char **names = NULL;
		size_t k = 0;

		if ((r = ao_spool_list(&sp, q, &names, &k)) != AO_OK)
			goto out;
		for (i = 0; i < k; i++) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 32;
				struct entry *ne = reallocarray(e, nc, sizeof(*e));

				if (ne == NULL) {
					ao_names_free(names, k);
					r = AO_ERR_NOMEM;
					goto out;
				}
				e = ne;
				cap = nc;
			}
			if (ao_spool_get(&sp, q, names[i], &e[n].ev) != AO_OK) {
				ao_warn("spool file %s/%s is damaged", 
				    ao_queue_name(q), names[i]);
				ao_event_free(&e[n].ev);
				continue;
			}
			e[n++].q = q;
		}
		ao_names_free(names, k);
	}
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_entry);
print:
	if (json) {
		struct ao_event_rec *evs = calloc(n ? n : 1, sizeof(*evs));
		const char **wh = calloc(n ? n : 1, sizeof(*wh));
		char *text = NULL;

		for (i = 0; evs && wh && i < n; i++) {
			evs[i] = e[i].ev;
			wh[i] = where(&e[i]);
		}
		r = evs && wh ? ao_spool_json_status(evs, wh, n, &text) :
		    AO_ERR_NOMEM;
		if (r == AO_OK)
			ao_print("%s\n", text);
		free(text);
		free(evs);
		free(wh);
	} else {
		print_text(e, n);
		print_hosts(e, n);
	}
out:
	for (i = 0; i < n; i++)
		ao_event_free(&e[i].ev);
	free(e);
	if (sp.rootfd >= 0)
		ao_spool_close(&sp);
	ao_session_close(&ss);
	return r;
}
