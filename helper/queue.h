/*
 * Putting a new event in the spool: the one path for `enqueue` and `scan`.
 *
 * An episode (the account's condition, e.g. "locked:<digest>") is queued
 * once: the key is recorded in <state_dir>/episodes/<user> after the event
 * is durably in the spool, under a lock, so two callers racing, or a crash
 * between the two writes, never queue it twice.
 */
#ifndef AO_QUEUE_H
#define AO_QUEUE_H

#include <stdbool.h>

#include "config.h"

struct ao_new_event {
	const char *user;
	const char *event;    /* "locked", "expired", ... */
	const char *episode;  /* episode key; "" = always a new event */
	const char *email;    /* "" when unknown: delivery will park it */
	const char *source;   /* which identity rule gave the e-mail */
	long uid;             /* -1 when unknown */
	const char *service;  /* who noticed: PAM service, "scan", ... */
	const char *rhost;
};

/*
 * Queue ne unless its episode is queued already (*already then set).
 * Runs as the service user (after the privilege drop).  On success id
 * (33 bytes) holds the new event's id.
 */
int ao_queue_event(const struct ao_config *cfg, const struct ao_new_event *ne,
    bool *already, char *id);

/* The episode is over (the account is fine again): forget its key and the
 * module's spawn stamp, so the next lock is a new episode. */
void ao_episode_end(const struct ao_config *cfg, const char *user);

#endif
