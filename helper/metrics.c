#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "err.h"
#include "follow.h"
#include "metrics.h"
#include "out.h"

static void
head(const char *name, const char *type, const char *help)
{
	ao_print("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
cmp_state(const void *a, const void *b)
{
	const struct ao_ev_state *x = *(const struct ao_ev_state *const *)a;
	const struct ao_ev_state *y = *(const struct ao_ev_state *const *)b;

	return strcmp(x->revocation_id, y->revocation_id);
}

int
ao_rev_index_build(const struct ao_spool_entry *e, size_t n,
    struct ao_rev_index *ix)
{
	const struct ao_ev_state **v = NULL;
	size_t m = 0, cap = 0, i, j, k;

	memset(ix, 0, sizeof(*ix));
	for (i = 0; i < n; i++)
		for (j = 0; j < e[i].ev.nstates; j++) {
			const struct ao_ev_state *s = &e[i].ev.states[j];

			if (s->revocation_id == NULL ||
			    s->revocation_status == NULL)
				continue;
			if (m == cap) {
				size_t nc = cap ? cap * 2 : 64;
				const struct ao_ev_state **nv =
				    reallocarray(v, nc, sizeof(*v));

				if (nv == NULL) {
					free(v);
					return AO_ERR_NOMEM;
				}
				v = nv;
				cap = nc;
			}
			v[m++] = s;
		}
	if (m > 1)
		qsort(v, m, sizeof(*v), cmp_state);
	/* one entry an id: the one with its most settled status */
	for (i = 0, k = 0; i < m; i = j) {
		const struct ao_ev_state *best = v[i];

		for (j = i + 1; j < m && strcmp(v[j]->revocation_id,
		    v[i]->revocation_id) == 0; j++)
			if (ao_follow_settled(v[j]->revocation_status))
				best = v[j];
		v[k++] = best;
	}
	ix->v = v;
	ix->n = k;
	return AO_OK;
}

const char *
ao_rev_index_status(const struct ao_rev_index *ix, const char *id)
{
	struct ao_ev_state key, *kp = &key;
	const struct ao_ev_state *const *hit;

	if (id == NULL || ix->n == 0)
		return NULL;
	key.revocation_id = (char *)(uintptr_t)id;
	hit = bsearch(&kp, ix->v, ix->n, sizeof(*ix->v), cmp_state);
	return hit ? (*hit)->revocation_status : NULL;
}

void
ao_rev_index_free(struct ao_rev_index *ix)
{
	free(ix->v);
	memset(ix, 0, sizeof(*ix));
}

/* Revocations by status, each counted once however many events name it. */
static void
count_revocations(const struct ao_spool_entry *e, size_t n,
    const char *const *statuses, size_t *revs)
{
	struct ao_rev_index ix;
	size_t i, k;

	if (ao_rev_index_build(e, n, &ix) != AO_OK)
		return;
	for (i = 0; i < ix.n; i++)
		for (k = 0; k < 3; k++)
			if (strcmp(ix.v[i]->revocation_status, statuses[k]) == 0)
				revs[k]++;
	ao_rev_index_free(&ix);
}

void
ao_metrics_print(const struct ao_spool_entry *e, size_t n,
    const size_t damaged[AO_Q_COUNT], const struct ao_counters *c,
    long long hold_until, size_t held, long long now)
{
	static const char *const statuses[] = { "processing_access",
		"revoked", "rejected" };
	size_t queued = 0, parked = 0, delivered = 0, forwarded = 0, alarm = 0;
	size_t revs[3] = { 0, 0, 0 }, i, k;
	long long oldest = 0, last = 0;

	for (i = 0; i < n; i++) {
		const struct ao_event_rec *ev = &e[i].ev;

		switch (e[i].q) {
		case AO_Q_QUEUE:
			queued++;
			if (oldest == 0 || ev->created < oldest)
				oldest = ev->created;
			if (now - ev->created > AO_ALARM_AGE)
				alarm++;
			break;
		case AO_Q_PARKED:
			parked++;
			break;
		default:
			if (ev->forwarded > 0)
				forwarded++;
			else
				delivered++;
			if (ev->last_attempt > last)
				last = ev->last_attempt;
			break;
		}
	}
	count_revocations(e, n, statuses, revs);
	head("accessowl_events", "gauge", "Events in the spool, by where they "
	    "are: queued (waiting for delivery), parked (refused for good: "
	    "needs a person), delivered, forwarded (a relay host).");
	ao_print("accessowl_events{queue=\"queued\"} %zu\n", queued);
	ao_print("accessowl_events{queue=\"parked\"} %zu\n", parked);
	ao_print("accessowl_events{queue=\"delivered\"} %zu\n", delivered);
	ao_print("accessowl_events{queue=\"forwarded\"} %zu\n", forwarded);
	head("accessowl_events_damaged", "gauge", "Spool files that are no "
	    "event the helper can take (bad content, a newer version's record, "
	    "not a regular file, unreadable), by queue: skipped, a person must "
	    "look.");
	for (k = 0; k < AO_Q_COUNT; k++)
		ao_print("accessowl_events_damaged{queue=\"%s\"} %zu\n",
		    ao_queue_name((enum ao_queue)k), damaged[k]);
	head("accessowl_oldest_queued_age_seconds", "gauge", "Age of the "
	    "oldest queued event; 0 when none is queued.");
	ao_print("accessowl_oldest_queued_age_seconds %lld\n",
	    oldest > 0 && now > oldest ? now - oldest : 0);
	head("accessowl_events_past_alarm_age", "gauge", "Queued events older "
	    "than 13 days: AccessOwl forgets idempotency keys after 14.");
	ao_print("accessowl_events_past_alarm_age %zu\n", alarm);
	head("accessowl_revocations", "gauge", "Revocations of the events in "
	    "the spool, by their last known status.");
	for (k = 0; k < 3; k++)
		ao_print("accessowl_revocations{status=\"%s\"} %zu\n",
		    statuses[k], revs[k]);
	head("accessowl_last_delivery_timestamp_seconds", "gauge", "When an "
	    "event was last delivered or forwarded (unix time); 0: never.");
	ao_print("accessowl_last_delivery_timestamp_seconds %lld\n", last);
	head("accessowl_api_requests_total", "counter", "Requests sent to the "
	    "AccessOwl API (the budget is 1,000 an hour per token).");
	ao_print("accessowl_api_requests_total %llu\n", c->requests);
	head("accessowl_api_rate_limited_total", "counter", "429 answers from "
	    "the AccessOwl API.");
	ao_print("accessowl_api_rate_limited_total %llu\n", c->rate_limited);
	head("accessowl_rate_limit_hold_until_timestamp_seconds", "gauge",
	    "Until when the host sends no request because AccessOwl asked it "
	    "to wait (unix time); 0: no hold.");
	ao_print("accessowl_rate_limit_hold_until_timestamp_seconds %lld\n",
	    hold_until > now ? hold_until : 0);
	head("accessowl_scan_deletions_held", "gauge", "Accounts that "
	    "vanished from the account database in one scan, too many at "
	    "once (accounts.max_deletions): their deletions wait for "
	    "`accessowl-helper scan --confirm-deletions`.");
	ao_print("accessowl_scan_deletions_held %zu\n", held);
}
