/*
 * Delivery of spool events to AccessOwl: the one path that files
 * revocations, used by `deliver` (every due event) and `revoke` (one event,
 * now).  See event.h for the exactly-once invariant.
 */
#ifndef AO_DELIVER_H
#define AO_DELIVER_H

#include <stdbool.h>

#include "record.h"
#include "session.h"
#include "spool.h"

/* Events older than this raise an error on every run: AccessOwl forgets
 * idempotency keys after 14 days. */
#define AO_ALARM_AGE (13LL * 86400)

enum ao_outcome {
	AO_OUT_DELIVERED,  /* every state filed: moved to done/ */
	AO_OUT_RETRY,      /* stays queued with a later next_attempt */
	AO_OUT_PARKED,     /* refused for good: moved to parked/ */
};

/*
 * Deliver one queued event (ev is its current content; updated in place
 * and written back after every step).  *stop is set when the failure is
 * not the event's own (API down, token refused): the caller should not try
 * further events now.  Returns AO_OK or the error that decided the
 * outcome.
 */
int ao_deliver_event(struct ao_session *run, struct ao_spool *sp,
    struct ao_event_rec *ev, enum ao_outcome *out, bool *stop);

/*
 * Is the host holding off because AccessOwl answered 429?  AO_OK when
 * free to send; else AO_ERR_RATELIMIT, logged as an error when loud (a
 * run by hand) and at debug otherwise.
 */
int ao_deliver_held(struct ao_spool *sp, bool loud);

/*
 * Deliver what is due (everything queued with all, as `deliver --now`),
 * as the one deliverer (the spool lock; see deliver.c), honouring the
 * host's 429 hold and, for a new fleet event, api.spread.  Returns the
 * error that decided the last event that failed, or AO_OK.
 */
int ao_deliver_run(struct ao_session *run, struct ao_spool *sp, bool all);

/*
 * Put parked events back in the queue once their cause is fixed (see
 * `deliver --retry-parked`): the address settled again, refused states
 * given new keys; an address still in conflict stays parked.  from: only
 * the events a relay sender reported (its address, or the host name it
 * gave; NULL: all).  *n: how many were put back.
 */
int ao_deliver_requeue_parked(struct ao_session *run, struct ao_spool *sp,
    const char *from, size_t *n);

/*
 * Remove the parked events from (a relay sender's address, or the host
 * name it gave) reported, each logged: the administrator judged them
 * false (`deliver --drop-parked --from`).  *n: how many.
 */
int ao_deliver_drop_parked(struct ao_session *run, struct ao_spool *sp,
    const char *from, size_t *n);

/* Seconds to wait before attempt n+1 after n failed ones (capped, jittered). */
long ao_retry_delay(long attempts);

/*
 * When ev is due, as it stands at now: its next_attempt, but never further
 * from now than the delay it was given at its last attempt, nor than the
 * longest delay a retry is ever given (the longest Retry-After accepted and
 * its jitter): an event that failed while the clock was a day fast is not
 * held back a day once the clock is right (clock.h).
 */
long long ao_event_due(const struct ao_event_rec *ev, long long now);

/*
 * Is queued event ev due at now?  For the deliverer, under the spool
 * lock: a next try that ao_event_due() brings closer is written back so
 * (ev and queue/), so that it runs out instead of staying that far ahead.
 */
bool ao_event_is_due(struct ao_spool *sp, struct ao_event_rec *ev,
    long long now);

#endif
