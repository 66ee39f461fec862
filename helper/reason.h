/*
 * Events and the revocation reason text.
 */
#ifndef AO_REASON_H
#define AO_REASON_H

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
 * The reason for one revocation, naming host, account and event, at most
 * AO_REASON_MAX bytes cut on a UTF-8 boundary, with control bytes replaced.
 * out must hold AO_REASON_MAX + 1 bytes.  Returns the length.
 */
size_t ao_reason_build(char *out, const char *host, const char *user,
    enum ao_event ev, time_t when);

#endif
