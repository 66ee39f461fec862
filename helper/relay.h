/*
 * The relay host's end of the fleet relay: events go to the collector's
 * rsyslog over RELP (librelp), with TLS and this host's client certificate
 * unless relay.tls = false.  The only file that includes librelp.
 *
 * When an event counts as forwarded (librelp 1.11 and imrelp, read in
 * their source): librelp sends a message without waiting for its answer,
 * and tells us of a refused message (an answer other than 200), a
 * timeout, a broken connection or a failed TLS check, but not of a
 * collector that ends the session before answering: a stopping rsyslogd
 * sends RELP's "serverclose" instead of the answers it owes, which
 * librelp takes quietly, also while it waits for the answer to our close.
 * So neither the close nor the absence of errors proves anything.  What
 * does: the session's window is 2 (librelp sends a message only while
 * fewer than 2 are unanswered, and waits up to relay.timeout for that),
 * the collector answers in order, and after the batch its last message
 * is sent twice more (the collector keeps each event once, see ingest):
 * once the second of those has left, every message before it was
 * answered 200.  A batch is acknowledged only then, and when librelp
 * reported no error on the way; otherwise none of it counts: it is all
 * sent again later.
 */
#ifndef AO_RELAY_H
#define AO_RELAY_H

#include <stddef.h>

#include "config.h"

/* Messages in one session (the batch; see above for the window). */
#define AO_RELAY_BATCH 100

struct ao_relay;

/*
 * Connect to relay.url, checking the collector's certificate against
 * relay.ca_file and its name against the host in relay.url.  AO_OK, or
 * AO_ERR_TEMP (logged: what failed and, where known, how to fix it).
 */
int ao_relay_open(const struct ao_config *cfg, struct ao_relay **out);

/* Send one message (waiting, if need be, for the answer to the one before
 * the last).  AO_OK, AO_ERR_TEMP (the session is then broken) or
 * AO_ERR_NOMEM. */
int ao_relay_send(struct ao_relay *r, const char *msg, size_t len);

/*
 * Close the session and free r.  AO_OK only when every message sent on it
 * was acknowledged (see above; with none sent: when the collector answered
 * the session's opening and close); AO_ERR_TEMP otherwise.
 */
int ao_relay_close(struct ao_relay *r);

#endif
