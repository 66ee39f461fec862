/*
 * The spool's on-disk record (record.h) as JSON, and `status --json`.
 * A separate codec from the API's (api_json.h): the wire format and the
 * on-disk format change for different reasons.
 *
 * The spool belongs to the service user: a record is parsed like any
 * untrusted input (depth cap, types, ids, a known event name), and a
 * damaged one is refused, never half-read.
 */
#ifndef AO_SPOOL_JSON_H
#define AO_SPOOL_JSON_H

#include <stddef.h>

#include "record.h"
#include "spool.h"

/*
 * What free text a record keeps, in bytes: an application's title, a
 * rejection's reason, an error (control bytes replaced, cut on a UTF-8
 * boundary).  A 4.5 MiB title from a broken or hostile server must not
 * make the event too large to be read back; with these, an event of the
 * most states a listing takes (api.c) stays below EVENT_MAX_BYTES
 * (spool.c).
 */
#define AO_TITLE_KEPT_MAX 200
#define AO_REASON_KEPT_MAX 1000
#define AO_ERROR_KEPT_MAX 800
#define AO_TEXT_KEPT_MAX 1000

/* ev as JSON text (free text cut as above); caller frees.  AO_OK or
 * AO_ERR_NOMEM. */
int ao_spool_json_dump(const struct ao_event_rec *ev, char **out);

/*
 * Parse a record into ev (ao_event_init()ed).  AO_OK, AO_ERR_NOMEM, or
 * AO_ERR_DATA with why (when not NULL) saying what is wrong: not JSON, a
 * record of another version (a newer pam_accessowl wrote it), a malformed
 * record.
 */
int ao_spool_json_load(const char *buf, size_t len, struct ao_event_rec *ev,
    char *why, size_t whysz);

/*
 * `status --json`: an array of events, each with "queue" set to where[i]
 * ("queued", "parked", "delivered"), then the nd damaged spool files,
 * each {"queue", "file", "damaged": why}.  Caller frees *out.
 */
int ao_spool_json_status(const struct ao_event_rec *evs, const char **where,
    size_t n, const struct ao_spool_damaged *d, size_t nd, char **out);

#endif
