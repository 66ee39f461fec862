/*
 * The revocation reason text.
 */
#ifndef AO_REASON_H
#define AO_REASON_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "event.h"

/* AccessOwl's limit on `reason`; we count bytes, which is never more than
 * the characters the server might count. */
#define AO_REASON_MAX 255

/*
 * The reason AccessOwl records with every revocation pam_accessowl files
 * for a lock, expiry, deletion, lockout or nologin.  It is part of the
 * fleet contract (the fleet invariant in record.h): every host and every version files
 * a state with this same body, so that AccessOwl's idempotency check sees
 * one request however many hosts send it.  Change it and hosts running
 * different versions file twice.
 */
#define AO_REASON_FLEET "The person's Linux account was locked, expired " \
	"or deleted (pam_accessowl)"

/*
 * The reason for one revocation: AO_REASON_FLEET for a fleet event; for a
 * manual one, naming host, account and time.  At most AO_REASON_MAX bytes
 * cut on a UTF-8 boundary, with control bytes replaced.  out must hold
 * AO_REASON_MAX + 1 bytes.  Returns the length.
 */
size_t ao_reason_build(char *out, const char *host, const char *user,
    enum ao_event ev, time_t when);

#endif
