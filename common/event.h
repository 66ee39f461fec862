/*
 * The events pam_accessowl knows, shared by the module and the helper.
 * One table (event.c) owns their names (the command line, the spool, the
 * config keys events.<name>), the phrase a reason uses, whether a host
 * files them with the fleet-wide key, and their config default.
 */
#ifndef AO_EVENT_H
#define AO_EVENT_H

#include <stdbool.h>

enum ao_event {
	AO_EV_LOCKED,    /* a password locked: '!' before a real hash */
	AO_EV_EXPIRED,   /* the account (or the password, past inactivity) */
	AO_EV_FAILLOCK,  /* locked out by pam_faillock */
	AO_EV_DELETED,   /* userdel */
	AO_EV_MANUAL,    /* accessowl-helper revoke, by an administrator */
	AO_EV_NOLOGIN,   /* the login shell set to nologin or false */
	AO_EV_COUNT
};

/* "locked", "expired", ...; "?" for a value out of range. */
const char *ao_event_name(enum ao_event ev);

/* The event called name.  AO_OK, or AO_ERR_USAGE for an unknown name. */
int ao_event_parse(const char *name, enum ao_event *ev);

/* How a reason says it: "was locked", ... */
const char *ao_event_phrase(enum ao_event ev);

/* Filed with the fleet-wide key and reason?  (All but a manual revoke: an
 * administrator's own request is filed as asked.) */
bool ao_event_fleet(enum ao_event ev);

/* Has a key events.<name> (all but manual, which is always on)? */
bool ao_event_configurable(enum ao_event ev);

/* Its default in the config: on for locked, expired and deleted. */
bool ao_event_default(enum ao_event ev);

/* "locked|expired|faillock|deleted|manual|nologin", for usage lines. */
const char *ao_event_choices(void);

#endif
