/*
 * Putting a new event in the spool: the one path for `enqueue` and `scan`.
 *
 * An episode (the account's condition, e.g. "locked:<digest>") is queued
 * once: the key is recorded in <state_dir>/episodes/<user> after the event
 * is durably in the spool, under a lock, so two callers racing, or a crash
 * between the two writes, never queue it twice.  It ends when the account
 * is seen fine again: by the scan (which removes the record) or by the PAM
 * module (which says when, as fine_at: root's module never touches the
 * service user's state directory).
 */
#ifndef AO_QUEUE_H
#define AO_QUEUE_H

#include <stdbool.h>

#include "config.h"
#include "record.h"

struct ao_new_event {
	const char *user;
	const char *event;    /* "locked", "expired", ... */
	const char *episode;  /* episode key; "" = always a new event */
	const char *email;    /* resolved now ("" when no rule gives one) */
	const char *source;   /* which identity rule gave it (AO_SRC_*) */
	const char *remembered; /* the caller's own memory of the address
	                         * ("" or NULL: none); people/<user> wins */
	bool exists;          /* the account is still in passwd */
	long long fine_at;    /* the account was seen fine at this time (ms
	                       * since the epoch; 0: not known): an episode
	                       * recorded before it is over, even with the
	                       * same key (a relock with the same hash) */
	long uid;             /* -1 when unknown */
	const char *service;  /* who noticed: PAM service, "scan", ... */
	const char *rhost;
};

/*
 * Queue ne unless its episode is queued already (*already then set).  The
 * address is settled against the remembered one first (person.h): on a
 * conflict the event goes to parked/ with the remembered address and
 * waits for the administrator.  Runs as the service user (after the
 * privilege drop).  On success id (33 bytes) holds the new event's id.
 */
int ao_queue_event(const struct ao_config *cfg, const struct ao_new_event *ne,
    bool *already, char *id);

/*
 * As ao_queue_event(), for a revoke by hand that delivers at once: the
 * event as queued is handed over in *ev (free it); *parked when it went
 * to parked/ instead (an address conflict: ev->error says why).
 */
int ao_queue_event_rec(const struct ao_config *cfg,
    const struct ao_new_event *ne, struct ao_event_rec *ev, bool *parked);

/* The episode is over (the account is fine again): forget its key, so the
 * next lock is a new episode. */
void ao_episode_end(const struct ao_config *cfg, const char *user);

#endif
