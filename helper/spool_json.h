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

/* ev as JSON text; caller frees.  AO_OK or AO_ERR_NOMEM. */
int ao_spool_json_dump(const struct ao_event_rec *ev, char **out);

/* Parse a record into ev (ao_event_init()ed).  AO_OK or AO_ERR_DATA. */
int ao_spool_json_load(const char *buf, size_t len, struct ao_event_rec *ev);

/*
 * `status --json`: an array of events, each with "queue" set to where[i]
 * ("queued", "parked", "delivered").  Caller frees *out.
 */
int ao_spool_json_status(const struct ao_event_rec *evs, const char **where,
    size_t n, char **out);

#endif
