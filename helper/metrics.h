/*
 * `status --prometheus`: the spool and the counters in Prometheus's text
 * format, for node_exporter's textfile collector (see accessowl-helper(8)
 * for the metrics and the alert rules they are meant for).
 */
#ifndef AO_METRICS_H
#define AO_METRICS_H

#include <stddef.h>

#include "counters.h"
#include "record.h"
#include "spool.h"

/* An event and where it is. */
struct ao_spool_entry {
	struct ao_event_rec ev;
	enum ao_queue q;
};

/*
 * Print the metrics for the n events e (every queue), the damaged spool
 * files of each queue, the counters, the host's 429 hold (0: none), the
 * deletions the scan's guard holds, at time now.
 */
void ao_metrics_print(const struct ao_spool_entry *e, size_t n,
    const size_t damaged[AO_Q_COUNT], const struct ao_counters *c,
    long long hold_until, size_t held, long long now);

/*
 * Each revocation the events name, once, with its most settled status: a
 * covered event names another event's revocation, which may have been
 * revoked or rejected since (status shows that, not what was copied).
 */
struct ao_rev_index {
	const struct ao_ev_state **v;   /* sorted by revocation id */
	size_t n;
};

int ao_rev_index_build(const struct ao_spool_entry *e, size_t n,
    struct ao_rev_index *ix);
/* The most settled status known for revocation id, or NULL. */
const char *ao_rev_index_status(const struct ao_rev_index *ix,
    const char *id);
void ao_rev_index_free(struct ao_rev_index *ix);

#endif
