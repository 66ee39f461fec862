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

#endif
