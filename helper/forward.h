/*
 * A relay host's delivery: its queued events go to the collector (relay.h)
 * instead of AccessOwl.  Each event is sent as it is (wire.h), in batches
 * of one RELP session; an acknowledged event moves to done/, marked
 * forwarded; a batch not acknowledged stays queued, with the usual backoff,
 * and is sent again whole (the collector keeps each event once).
 */
#ifndef AO_FORWARD_H
#define AO_FORWARD_H

#include <stdbool.h>

#include "session.h"
#include "spool.h"

/*
 * One pass over the queue, as the one deliverer (the caller holds the
 * spool lock): forward what is due (everything with all).  *stop is set
 * when the collector could not be reached or did not acknowledge.
 * Returns AO_OK or the error of the last failure.
 */
int ao_forward_pass(struct ao_session *run, struct ao_spool *sp, bool all,
    bool *stop);

#endif
