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
 *
 * The record is "<key> <event file> <stamp>": which event was queued, and
 * when, as a stamp a clock step cannot fool (clock.h): a fine_at later on
 * the boot clock ends the episode even when the wall clock was stepped
 * back between.  ("<key>" alone, with the file's mtime as the time, is
 * what versions before this wrote; "-" as the file: nothing was queued,
 * the account was not managed then.)
 *
 * "Queued already" is checked against the spool, so that a spool lost and
 * restored from a backup that lacks the event does not silence the
 * episode for good: the claim holds when the event named is in queue/,
 * parked/ or done/; when the record is older than paths.keep_delivered_days
 * less a day (done/ may have forgotten it; the day keeps a clock a day
 * wrong from calling a forgotten event missing); when the spool cannot say
 * (an I/O error is no evidence); and for a record that names no event.
 * Otherwise the event is queued again, with a warning.  The cost on the
 * login path, where enqueue runs for every attempt of a locked account the
 * module has no record of (after a reboot, say): one fstatat() while the
 * event is queued, at most six when it is not.
 */
#ifndef AO_QUEUE_H
#define AO_QUEUE_H

#include <stdbool.h>

#include "clock.h"
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
	struct ao_stamp fine_at; /* the account was seen fine then (zeroed:
	                       * not known): an episode recorded before it
	                       * is over, even with the same key (a relock
	                       * with the same hash) */
	long uid;             /* -1 when unknown */
	const char *service;  /* who noticed: PAM service, "scan", ... */
	const char *rhost;
	long lock_ms;         /* wait at most this long for the spool's
	                       * lock (enqueue: what is left of the PAM
	                       * module's wait); 0: as long as it takes */
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

/* The helper saw the episode but queued nothing (the account is not
 * managed): recorded, so that the module is not told to start it again;
 * queued should the account be managed by the time it comes again. */
void ao_episode_unmanaged(const struct ao_config *cfg, const char *user,
    const char *key);

#endif
