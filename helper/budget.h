/*
 * The collector's budget per sender: how many different people one relay
 * sender may report in any hour before its further reports wait for the
 * administrator (collector.sender_people_per_hour).
 *
 * Why people and not events: a fleet locking one person sends one event
 * per host, all of the same person, and those cost almost nothing (the
 * first is filed, the others are covered).  A compromised host reporting
 * false locks must name many people to do harm, and each new person costs
 * API requests from the organization's shared budget.  So the count is of
 * people, in a sliding hour.
 *
 * Why the sender's address: rsyslog passes omprog no certificate name, so
 * a host can claim any host name in its messages, but not the address
 * rsyslog saw (%fromhost-ip%, before the message in the shipped template).
 * The caller keys by that address when it has one, else by the claimed
 * host name.  Hosts behind one NAT address share one budget.
 *
 * Kept in memory by the one ingest process rsyslog runs: when ingest is
 * restarted (rsyslog restarted), the count starts again.  A person seen at
 * a time later than now (the clock was stepped back) counts from now.  At most
 * AO_BUDGET_SENDERS senders are followed; beyond, the one quiet longest is
 * forgotten.
 */
#ifndef AO_BUDGET_H
#define AO_BUDGET_H
#include <stdbool.h>

#define AO_BUDGET_SENDERS 4096
#define AO_BUDGET_WINDOW 3600   /* seconds */

struct ao_budget;

/* A budget of `limit` people per sender an hour; 0: no limit (every
 * report admitted).  NULL when out of memory. */
struct ao_budget *ao_budget_new(long limit);
void ao_budget_free(struct ao_budget *b);

/*
 * May sender report person at time now (both compared without regard to
 * case)?  true: admitted (a person the
 * sender reported within the hour, or a new one within the limit; it is
 * counted from now).  false: over the limit (not counted).  Also false,
 * and nothing counted, when out of memory.
 */
bool ao_budget_admit(struct ao_budget *b, const char *sender,
    const char *person, long long now);

#endif
