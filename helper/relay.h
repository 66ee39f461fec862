/*
 * The relay host's end of the fleet relay: events go to the collector's
 * rsyslog over RELP (librelp), with TLS and this host's client certificate
 * unless relay.tls = false.  The only file that includes librelp.
 *
 * When an event counts as forwarded: librelp sends a message without
 * waiting for its answer; answers are read while it sends more and when
 * the session closes.  A batch of messages goes in one session, which
 * ends with RELP's close; the collector answers the close after every
 * message before it.  A batch is acknowledged only when every send
 * succeeded, the close was answered, and librelp reported no error in
 * between (a refused message, a timeout, a broken connection, a failed
 * TLS check).  Otherwise none of it counts: it is all sent again later,
 * and the collector keeps each host's event once (ingest).
 */
#ifndef AO_RELAY_H
#define AO_RELAY_H

#include <stddef.h>

#include "config.h"

/* Messages in one session: below librelp's window of unanswered ones. */
#define AO_RELAY_BATCH 100

struct ao_relay;

/*
 * Connect to relay.url, checking the collector's certificate against
 * relay.ca_file and its name against the host in relay.url.  AO_OK, or
 * AO_ERR_TEMP (logged: what failed and, where known, how to fix it).
 */
int ao_relay_open(const struct ao_config *cfg, struct ao_relay **out);

/* Send one message.  AO_OK or AO_ERR_TEMP (the session is then broken). */
int ao_relay_send(struct ao_relay *r, const char *msg, size_t len);

/*
 * Close the session and free r.  AO_OK only when every message sent on it
 * was acknowledged (see above); AO_ERR_TEMP otherwise.
 */
int ao_relay_close(struct ao_relay *r);

#endif
