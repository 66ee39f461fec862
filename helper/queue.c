#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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

#define EPISODES "episodes"
#define NOT_QUEUED "-"
#define EPISODE_LINE (AO_EPISODE_KEY_MAX + 128 + AO_STAMP_MAX + 8)

/* An episode record (queue.h). */
struct episode {
	char key[AO_EPISODE_KEY_MAX];
	char file[128];        /* the event's file; "" when the record does
	                        * not say, NOT_QUEUED when nothing was */
	struct ao_stamp at;    /* when it was recorded */
};

/* The record's next field at *p (up to a space), into out; false if it
 * does not fit or is empty. */
static bool
field(const char **p, char *out, size_t n)
{
	size_t len = strcspn(*p, " ");

	if (len == 0 || len >= n)
		return false;
	memcpy(out, *p, len);
	out[len] = '\0';
	*p += len;
	if (**p == ' ')
		(*p)++;
	return true;
}

/* user's episode record.  AO_OK, AO_ERR_NOTFOUND, or another error. */
static int
episode_read(const struct ao_config *cfg, const char *user,
    struct episode *ep)
{
	char line[EPISODE_LINE], stamp[AO_STAMP_MAX];
	const char *p = line;
	long long mtime = 0;
	int r;

	memset(ep, 0, sizeof(*ep));
	if ((r = ao_record_read_at(cfg->state_dir, EPISODES, user, line,
	    sizeof(line), &mtime)) != AO_OK)
		return r;
	if (!field(&p, ep->key, sizeof(ep->key)))
		return AO_ERR_DATA;
	/* a record of an older version, or a damaged one: the key, and the
	 * time the file says */
	if (*p == '\0' || !field(&p, ep->file, sizeof(ep->file)) ||
	    strchr(ep->file, '/') != NULL || ep->file[0] == '.' ||
	    !field(&p, stamp, sizeof(stamp)) || *p != '\0' ||
	    ao_stamp_parse(stamp, &ep->at) != AO_OK) {
		ep->file[0] = '\0';
		memset(&ep->at, 0, sizeof(ep->at));
		ep->at.wall_ms = mtime;
	}
	return AO_OK;
}

static int
episode_write(const struct ao_config *cfg, const char *user, const char *key,
    const char *file)
{
	char line[EPISODE_LINE], stamp[AO_STAMP_MAX];
	struct ao_stamp now;

	ao_stamp_now(&now);
	ao_stamp_format(&now, stamp, sizeof(stamp));
	snprintf(line, sizeof(line), "%s %s %s", key, file, stamp);
	return ao_record_write(cfg->state_dir, EPISODES, user, line);
}

/*
 * Does the record's "queued already" hold (queue.h)?  Each queue is looked
 * at twice, in both orders: an event moved between two of them while we
 * look is seen in one of the passes.
 */
static bool
episode_kept(const struct ao_config *cfg, struct ao_spool *sp,
    const char *user, const struct episode *ep, const struct ao_stamp *now)
{
	static const enum ao_queue order[2][AO_Q_COUNT] = {
		{ AO_Q_QUEUE, AO_Q_PARKED, AO_Q_DONE },
		{ AO_Q_DONE, AO_Q_PARKED, AO_Q_QUEUE },
	};
	long long keep = cfg->keep_delivered_days;
	struct stat st;
	size_t i, j;

	if (ep->file[0] == '\0')
		return true;
	if (strcmp(ep->file, NOT_QUEUED) == 0)
		return false;
	if (keep > 0 && ep->at.wall_ms < now->wall_ms - (keep - 1) * 86400000LL)
		return true;
	for (i = 0; i < 2; i++)
		for (j = 0; j < AO_Q_COUNT; j++) {
			enum ao_queue q = order[i][j];

			if (fstatat(sp->fd[q], ep->file, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
				return true;
			if (errno != ENOENT) {
				ao_warn("account %s: cannot tell whether event %s "
				    "of episode %s is still in %s: %s; taken as "
				    "queued already", user, ep->file, ep->key,
				    ao_queue_name(q), strerror(errno));
				return true;
			}
		}
	ao_warn("account %s: episode %s was queued as %s, which is in none of "
	    "queue/, parked/ and done/ (was the spool lost, or restored from a "
	    "backup?); queuing it again", user, ep->key, ep->file);
	return false;
}

/* The one path: queue ne, handing the event over in *out when given. */
static int
queue(const struct ao_config *cfg, const struct ao_new_event *ne,
    bool *already, char *id, struct ao_event_rec *out, bool *parked)
{
	struct ao_event_rec ev;
	struct ao_spool sp;
	struct ao_addr addr;
	struct ao_stamp now;
	struct episode ep;
	enum ao_queue q = AO_Q_QUEUE;
	char host[HOST_NAME_MAX + 1] = "", file[128];
	bool opened = false, locked = false;
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
	/* serialise: check-then-write of the episode is atomic; for a
	 * login, within what is left of the module's wait, so that whoever
	 * holds the lock (the service user) cannot hold the login up */
	if ((r = ne->lock_ms > 0 ? ao_flock_within(sp.rootfd, ne->lock_ms) :
	    flock(sp.rootfd, LOCK_EX) == 0 ? AO_OK : AO_ERR_SYSTEM) != AO_OK) {
		ao_err("cannot lock the spool %s to queue an event (%s): %s",
		    cfg->spool_dir, ne->user, r == AO_ERR_TEMP ? "another "
		    "process held its lock for as long as a login may wait" :
		    strerror(errno));
		goto out;
	}
	locked = true;
	ao_stamp_now(&now);
	if (ne->episode[0] != '\0' &&
	    episode_read(cfg, ne->user, &ep) == AO_OK &&
	    strcmp(ep.key, ne->episode) == 0 &&
	    !ao_stamp_after(&ne->fine_at, &ep.at, &now) &&
	    episode_kept(cfg, &sp, ne->user, &ep, &now)) {
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
	ao_event_filename(&ev, file, sizeof(file));
	if (ne->episode[0] != '\0')
		r = episode_write(cfg, ne->user, ne->episode, file);
	if (r == AO_OK) {
		memcpy(id, ev.id, sizeof(ev.id));
		ao_info("account %s %s (seen by %s%s%s): event %s %s "
		    "(person %s)", ne->user, ne->event,
		    ne->service && ne->service[0] ? ne->service : "-",
		    ne->rhost && ne->rhost[0] ? ", from " : "",
		    ne->rhost ? ne->rhost : "", ev.id,
		    q == AO_Q_PARKED ? "parked until the administrator "
		    "confirms the address" : cfg->relay ? "queued for the "
		    "collector" : "queued for AccessOwl",
		    ev.email[0] ? ev.email : "unknown: will be parked");
	}
	if (r == AO_OK && out != NULL) {
		*out = ev;
		memset(&ev, 0, sizeof(ev));
		*parked = q == AO_Q_PARKED;
	}
out:
	if (locked)
		(void)flock(sp.rootfd, LOCK_UN);
	if (opened)
		ao_spool_close(&sp);
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
	(void)ao_record_remove(cfg->state_dir, EPISODES, user);
}

void
ao_episode_unmanaged(const struct ao_config *cfg, const char *user,
    const char *key)
{
	if (key[0] != '\0')
		(void)episode_write(cfg, user, key, NOT_QUEUED);
}
