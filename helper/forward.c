#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deliver.h"
#include "err.h"
#include "forward.h"
#include "log.h"
#include "relay.h"
#include "wire.h"

struct batch {
	struct ao_event_rec ev[AO_RELAY_BATCH];
	char *msg[AO_RELAY_BATCH];
	size_t len[AO_RELAY_BATCH];
	size_t n;
};

static void
batch_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		ao_event_free(&b->ev[i]);
		free(b->msg[i]);
	}
	b->n = 0;
}

/* Refused here for good: the collector would refuse it too. */
static void
park(struct ao_spool *sp, struct ao_event_rec *ev, const char *why)
{
	(void)ao_set(&ev->error, why);
	ao_err("event %s (account %s, %s) parked: %s", ev->id, ev->user,
	    ev->event, why);
	if (ao_spool_move(sp, AO_Q_QUEUE, AO_Q_PARKED, ev) != AO_OK)
		ao_err("cannot move event %s to parked/", ev->id);
}

/* Send b in one session; on success each event goes to done/. */
static int
send_batch(struct ao_session *run, struct ao_spool *sp, struct batch *b)
{
	struct ao_relay *rl = NULL;
	long long now = (long long)time(NULL);
	char msg[512];
	size_t i;
	int r;

	if ((r = ao_relay_open(&run->cfg, &rl)) == AO_OK) {
		for (i = 0; i < b->n && r == AO_OK; i++)
			r = ao_relay_send(rl, b->msg[i], b->len[i]);
		/* the close is what says the collector has them all */
		if (ao_relay_close(rl) != AO_OK && r == AO_OK)
			r = AO_ERR_TEMP;
	}
	for (i = 0; i < b->n; i++) {
		struct ao_event_rec *ev = &b->ev[i];

		ev->attempts++;
		ev->last_attempt = now;
		if (r == AO_OK) {
			ev->forwarded = now;
			ev->next_attempt = 0;
			(void)ao_set(&ev->error, NULL);
			ao_info("event %s (account %s, %s) forwarded to the "
			    "collector %s", ev->id, ev->user, ev->event,
			    run->cfg.relay_url);
			run->stats.forwarded++;
			if (ao_spool_move(sp, AO_Q_QUEUE, AO_Q_DONE, ev) != AO_OK)
				ao_err("cannot move event %s to done/; it will "
				    "be forwarded again (the collector keeps "
				    "it once)", ev->id);
			continue;
		}
		ev->next_attempt = now + ao_retry_delay(ev->attempts);
		snprintf(msg, sizeof(msg), "not acknowledged by the collector "
		    "%s; next try in %lld s", run->cfg.relay_url,
		    ev->next_attempt - now);
		(void)ao_set(&ev->error, msg);
		ao_log(LOG_NOTICE, "event %s (account %s, %s): %s", ev->id,
		    ev->user, ev->event, msg);
		(void)ao_spool_put(sp, AO_Q_QUEUE, ev);
		run->stats.retry++;
	}
	batch_clear(b);
	return r;
}

int
ao_forward_pass(struct ao_session *run, struct ao_spool *sp, bool all,
    bool *stop)
{
	struct batch *b;
	char **names = NULL;
	size_t n = 0, i;
	long long now = (long long)time(NULL);
	int r, worst = AO_OK;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return AO_ERR_NOMEM;
	if ((r = ao_spool_list(sp, AO_Q_QUEUE, &names, &n)) != AO_OK) {
		free(b);
		return r;
	}
	for (i = 0; i < n && !*stop; i++) {
		struct ao_event_rec *ev = &b->ev[b->n];

		/* one odd file never stops the others */
		if ((r = ao_spool_settle_copies(sp, AO_Q_QUEUE,
		    names[i])) != AO_OK) {
			if (r != AO_ERR_NOTFOUND && worst == AO_OK)
				worst = r;
			continue;
		}
		if ((r = ao_spool_get(sp, AO_Q_QUEUE, names[i], ev)) != AO_OK) {
			ao_spool_report(sp, AO_Q_QUEUE, names[i], r);
			if (r != AO_ERR_NOTFOUND && worst == AO_OK)
				worst = r == AO_ERR_DATA ? r : AO_ERR_TEMP;
			ao_event_free(ev);
			continue;
		}
		if (!all && !ao_event_is_due(sp, ev, now)) {
			ao_event_free(ev);
			continue;
		}
		if (ev->email[0] == '\0') {
			park(sp, ev, "no e-mail address for the account: add "
			    "it to identity.map (or set identity.email_domain)");
			ao_event_free(ev);
			worst = AO_ERR_NOTFOUND;
			continue;
		}
		r = ao_wire_encode(ev, now, &b->msg[b->n], &b->len[b->n]);
		if (r == AO_ERR_DATA) {
			park(sp, ev, "cannot be forwarded (see the log)");
			ao_event_free(ev);
			worst = r;
			continue;
		}
		if (r != AO_OK) {
			ao_event_free(ev);
			worst = r;
			break;
		}
		if (++b->n == AO_RELAY_BATCH &&
		    (r = send_batch(run, sp, b)) != AO_OK) {
			worst = r;
			*stop = true;
		}
	}
	if (b->n > 0 && !*stop && (r = send_batch(run, sp, b)) != AO_OK) {
		worst = r;
		*stop = true;
	}
	batch_clear(b);
	free(b);
	ao_names_free(names, n);
	return worst;
}
