/*
 * Following the revocations this host filed to their end.  A revocation
 * stays processing_access until AccessOwl, or an application's owner,
 * acts; then it is revoked, or rejected (with a reason, when AccessOwl
 * gives one).  A rejection is an error in the log and in `status`: it
 * means the person keeps that access.
 *
 * Which: a state this host filed (201: AO_ST_FILED) whose revocation is
 * still processing_access.  A revocation another host or a person filed
 * (covered, 409) is theirs to follow: a fleet asks once per revocation,
 * not once per host.
 *
 * When: FOLLOW_FIRST after filing, then twice as long each time, at most
 * FOLLOW_CAP (about a day); one request per revocation per run, at most;
 * never again once it is settled, or once AccessOwl says it has no such
 * revocation.  `deliver --now` asks about every pending one at once.
 *
 * Index: <state_dir>/follow/<event id> says "<next check> <done/ file>
 * <written at>", so a run reads only the events that have something to
 * follow.  A state's next check is never further off than the wait its
 * checks give (clock.h): one set while the clock was a day fast is written
 * back as that wait from now, and an index record further off than it can
 * be sends the run to the event to see.
 */
#ifndef AO_FOLLOW_H
#define AO_FOLLOW_H

#include <stdbool.h>

#include "record.h"
#include "session.h"
#include "spool.h"

#define AO_FOLLOW_FIRST 600      /* seconds after filing */
#define AO_FOLLOW_CAP 86400      /* the longest wait between two checks */

/*
 * ev is delivered: schedule its revocations to follow (next_check set on
 * each) and put it in the index, before the caller moves it to done/.
 * Nothing to follow: nothing done.  AO_OK or the error (logged).
 */
int ao_follow_start(const struct ao_config *cfg, struct ao_event_rec *ev,
    long long now);

/*
 * Ask about the revocations due (all pending ones with all), as the one
 * deliverer (the caller holds the spool lock and has checked the 429
 * hold).  *stop is set when AccessOwl cannot be asked now.  AO_OK or the
 * error that stopped it.
 */
int ao_follow_pass(struct ao_session *run, struct ao_spool *sp, bool all,
    bool *stop);

/* Is something of event id still to follow (it is in the index)? */
bool ao_follow_pending(const struct ao_config *cfg, const char *id);

/* Is the status one a revocation ends in: revoked or rejected? */
bool ao_follow_settled(const char *status);

#endif
