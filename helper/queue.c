#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "err.h"
#include "record.h"
#include "log.h"
#include "person.h"
#include "queue.h"
#include "spool.h"
#include "text.h"

/* The one path: queue ne, handing the event over in *out when given. */
static int
queue(const struct ao_config *cfg, const struct ao_new_event *ne,
    bool *already, char *id, struct ao_event_rec *out, bool *parked)
{
	struct ao_event_rec ev;
	struct ao_spool sp;
	struct ao_addr addr;
	enum ao_queue q = AO_Q_QUEUE;
	char rec[AO_EPISODE_KEY_MAX + 8], host[HOST_NAME_MAX + 1] = "";
	long long at = 0;
	bool opened = false;
	int r;

	*already = false;
	id[0] = '\0';
	if ((r = ao_event_init(&ev)) != AO_OK)
		return r;
	(void)gethostname(host, sizeof(host) - 1);
	if ((r = ao_random_hex(ev.id, 16)) || (r = ao_set(&ev.user, ne->user)) ||
	    (r = ao_set(&ev.event, ne->event)) ||
	    (r = ao_set(&ev.episode, ne->episode)) ||
	    (r = ao_set(&ev.host, host)) ||
	    (r = ao_set(&ev.service, ne->service ? ne->service : "")) ||
	    (r = ao_set(&ev.rhost, ne->rhost ? ne->rhost : "")))
		goto out;
	ev.uid = ne->uid;
	ev.created = (long long)time(NULL);
	if ((r = ao_spool_open(cfg->spool_dir, &sp)) != AO_OK)
		goto out;
	opened = true;
	/* serialise: check-then-write of the episode is atomic */
	if (flock(sp.rootfd, LOCK_EX) != 0) {
		r = AO_ERR_SYSTEM;
		goto out;
	}
	if (ne->episode[0] != '\0' &&
	    ao_record_read_at(cfg->state_dir, "episodes", ne->user, rec,
	    sizeof(rec), &at) == AO_OK && strcmp(rec, ne->episode) == 0 &&
	    ne->fine_at <= at) {
		*already = true;
		goto out;
	}
	if ((r = ao_person_address(cfg, ne->user, ne->email, ne->source,
	    ne->remembered, ne->exists, &addr)) != AO_OK)
		goto out;
	if ((r = ao_set(&ev.email, addr.email)) ||
	    (r = ao_set(&ev.email_source, addr.source ? addr.source : "")))
		goto out;
	if (addr.how == AO_ADDR_CONFLICT) {
		q = AO_Q_PARKED;
		if ((r = ao_set(&ev.email_unconfirmed, addr.unconfirmed)) ||
		    (r = ao_set(&ev.error, addr.error)))
			goto out;
	}
	if ((r = ao_spool_put(&sp, q, &ev)) != AO_OK)
		goto out;
	if (ne->episode[0] != '\0')
		r = ao_record_write(cfg->state_dir, "episodes", ne->user,
		    ne->episode);
	if (r == AO_OK) {
		memcpy(id, ev.id, sizeof(ev.id));
		ao_info("account %s %s (seen by %s%s%s): event %s %s "
		    "(person %s)", ne->user, ne->event,
		    ne->service && ne->service[0] ? ne->service : "-",
		    ne->rhost && ne->rhost[0] ? ", from " : "",
		    ne->rhost ? ne->rhost : "", ev.id,
		    q == AO_Q_PARKED ? "parked until the administrator "
		    "confirms the address" : "queued for AccessOwl",
		    ev.email[0] ? ev.email : "unknown: will be parked");
	}
	if (r == AO_OK && out != NULL) {
		*out = ev;
		memset(&ev, 0, sizeof(ev));
		*parked = q == AO_Q_PARKED;
	}
out:
	if (opened) {
		(void)flock(sp.rootfd, LOCK_UN);
		ao_spool_close(&sp);
	}
	ao_event_free(&ev);
	return r;
}

int
ao_queue_event(const struct ao_config *cfg, const struct ao_new_event *ne,
    bool *already, char *id)
{
	return queue(cfg, ne, already, id, NULL, NULL);
}

int
ao_queue_event_rec(const struct ao_config *cfg, const struct ao_new_event *ne,
    struct ao_event_rec *ev, bool *parked)
{
	bool already = false;
	char id[33];
	int r;

	memset(ev, 0, sizeof(*ev));
	*parked = false;
	if ((r = queue(cfg, ne, &already, id, ev, parked)) == AO_OK &&
	    already) /* an episode key: manual events have none */
		r = AO_ERR_DATA;
	return r;
}

void
ao_episode_end(const struct ao_config *cfg, const char *user)
{
	(void)ao_record_remove(cfg->state_dir, "episodes", user);
}
