/*
 * Events and the revocation reason text.
 */
#ifndef AO_REASON_H
#define AO_REASON_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum ao_event {
	AO_EV_LOCKED,
	AO_EV_EXPIRED,
	AO_EV_FAILLOCK,
	AO_EV_DELETED,
	AO_EV_MANUAL,
	AO_EV_NOLOGIN,
};

/* AccessOwl's limit on `reason`; we count bytes, which is never more than
 * the characters the server might count. */
#define AO_REASON_MAX 255

/* "locked", "expired", ... ; NULL for an unknown value. */
const char *ao_event_name(enum ao_event ev);

/* Parse an event name.  AO_OK or AO_ERR_USAGE. */
int ao_event_parse(const char *name, enum ao_event *ev);

/*
 * The reason AccessOwl records with every revocation pam_accessowl files
 * for a lock, expiry, deletion, lockout or nologin.  It is part of the
 * fleet contract (see ao_fleet_key()): every host and every version files
 * a state with this same body, so that AccessOwl's idempotency check sees
 * one request however many hosts send it.  Change it and hosts running
 * different versions file twice.
 */
#define AO_REASON_FLEET "The person's Linux account was locked, expired " \
	"or deleted (pam_accessowl)"

/* Does this event file with the fleet-wide key and reason? (All but a
 * manual revoke: an administrator's own request is filed as asked.) */
bool ao_event_fleet(enum ao_event ev);

/*
 * The reason for one revocation: AO_REASON_FLEET for a fleet event; for a
 * manual one, naming host, account and time.  At most AO_REASON_MAX bytes
 * cut on a UTF-8 boundary, with control bytes replaced.  out must hold
 * AO_REASON_MAX + 1 bytes.  Returns the length.
 */
size_t ao_reason_build(char *out, const char *host, const char *user,
    enum ao_event ev, time_t when);

#endif
