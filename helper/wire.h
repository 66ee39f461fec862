/*
 * The fleet relay's message: one event of a relay host, as one syslog
 * message (RFC 5424) whose MSG is a single-line JSON object.  The one place
 * that writes it (the relay host's `deliver`) and reads it (the collector's
 * `ingest`).
 *
 *   <85>1 2026-11-27T09:00:00Z web01 accessowl - event - {"accessowl":1,
 *   "id":"<32 hex>","host":"web01","user":"alice","uid":1001,
 *   "event":"locked","email":"alice@example.com","email_source":
 *   "email_domain","created":1795000000,"service":"scan","rhost":""}
 *
 * (one line).  The event was checked and its person's address resolved on
 * the host; the collector files it as it is.  "accessowl" is the format's
 * version; keys a later version adds are ignored.
 *
 * Trust: on the collector the message comes from a host, which may be
 * compromised.  Every field is checked as untrusted input; a message that
 * fails is refused as a whole, with the reason.
 */
#ifndef AO_WIRE_H
#define AO_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"

#define AO_WIRE_VERSION 1
#define AO_WIRE_MAX 8192      /* bytes of one message, header included */
#define AO_HOST_MAX 64        /* a host name (HOST_NAME_MAX on Linux) */
#define AO_WIRE_TEXT_MAX 256  /* service, rhost, email_source */

/* A host name as a relay host may report it: letters, digits, '.', '-',
 * '_', starting with a letter or digit, at most AO_HOST_MAX bytes. */
bool ao_wire_host_ok(const char *host);

/*
 * ev as a syslog message, stamped now (unix time).  *out is
 * NUL-terminated, without a line end; caller frees.  AO_OK, AO_ERR_DATA
 * (a field the collector would refuse: the reason is logged) or
 * AO_ERR_NOMEM.
 */
int ao_wire_encode(const struct ao_event_rec *ev, long long now, char **out,
    size_t *len);

/*
 * One message as rsyslog hands it to `ingest` (one line, without its line
 * end): the JSON object starts at the first '{', whatever precedes it is
 * not read.  Fills ev (ao_event_init()ed by the caller).  AO_OK, or
 * AO_ERR_DATA with why (a sentence for the log) set; AO_ERR_NOMEM.
 */
int ao_wire_decode(const char *line, size_t len, struct ao_event_rec *ev,
    char *why, size_t whysz);

#endif
