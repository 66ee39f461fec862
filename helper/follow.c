#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "clock.h"
#include "err.h"
#include "follow.h"
#include "log.h"
#include "text.h"

#define FOLLOW "follow"

bool
ao_follow_pending(const struct ao_config *cfg, const char *id)
{
	char line[200];

	/* when in doubt (unreadable), it is kept */
	return ao_record_read(cfg->state_dir, FOLLOW, id, line,
	    sizeof(line)) != AO_ERR_NOTFOUND;
}

bool
ao_follow_settled(const char *status)
{
	return status != NULL && (strcmp(status, "revoked") == 0 ||
	    strcmp(status, "rejected") == 0);
}

/* Is the state one to follow: filed by us, pending? */
static bool
followable(const struct ao_ev_state *s)
{
	return s->status == AO_ST_FILED && s->revocation_id != NULL &&
	    !ao_follow_settled(s->revocation_status);
}

/* Seconds to the next check after n checks. */
static long long
delay(long n)
{
	long long d = AO_FOLLOW_FIRST;

	while (n-- > 0 && d < AO_FOLLOW_CAP)
		d *= 2;
	return d < AO_FOLLOW_CAP ? d : AO_FOLLOW_CAP;
}

/* The earliest next check of ev's followed states, 0 when none. */
static long long
earliest(const struct ao_event_rec *ev)
{
	long long t = 0;
	size_t i;

	for (i = 0; i < ev->nstates; i++)
		if (ev->states[i].next_check > 0 &&
		    (t == 0 || ev->states[i].next_check < t))
			t = ev->states[i].next_check;
	return t;
}

/* Write or remove ev's index record: "<next check> <file> <written at>"
 * (the last field is newer: older records have two). */
static int
index_put(const struct ao_config *cfg, const struct ao_event_rec *ev)
{
	char file[128], line[200];
	long long t = earliest(ev);

	if (t == 0)
		return ao_record_remove(cfg->state_dir, FOLLOW, ev->id);
	ao_event_filename(ev, file, sizeof(file));
	snprintf(line, sizeof(line), "%lld %s %lld", t, file,
	    (long long)time(NULL));
	return ao_record_write(cfg->state_dir, FOLLOW, ev->id, line);
}

/* When an index record was written (its third field), 0 if it does not
 * say. */
static long long
written_at(const char *line)
{
	const char *p = strchr(line, ' ');
	char *end;
	long long t;

	if (p == NULL || (p = strchr(p + 1, ' ')) == NULL || p[1] < '0' ||
	    p[1] > '9')
		return 0;
	t = strtoll(p + 1, &end, 10);
	return *end == '\0' ? t : 0;
}

/* When a state's next check is due, as it stands at now: never further
 * off than the wait its checks give (clock.h). */
static long long
check_due(const struct ao_ev_state *s, long long now)
{
	return ao_deadline(s->next_check, 0, delay(s->checks), now);
}

int
ao_follow_start(const struct ao_config *cfg, struct ao_event_rec *ev,
    long long now)
{
	size_t i;

	for (i = 0; i < ev->nstates; i++)
		if (followable(&ev->states[i]))
			ev->states[i].next_check = now + delay(0);
	return earliest(ev) > 0 ? index_put(cfg, ev) : AO_OK;
}

/* What AccessOwl said of s's revocation now. */
static void
settle(const struct ao_event_rec *ev, struct ao_ev_state *s,
    const struct ao_revocation *rev, long long now)
{
	const char *app = s->app_title ? s->app_title : s->app_id ?
	    s->app_id : "?";

	s->checked = now;
	s->checks++;
	(void)ao_set(&s->revocation_status, rev->status);
	if (strcmp(rev->status, "revoked") == 0) {
		s->next_check = 0;
		ao_info("account %s (%s): the access to %s is revoked "
		    "(revocation %s)", ev->user, ev->email, app,
		    s->revocation_id);
	} else if (strcmp(rev->status, "rejected") == 0) {
		s->next_check = 0;
		(void)ao_set(&s->revocation_reason, rev->reject_reason);
		ao_err("account %s (%s): AccessOwl REJECTED the revocation of "
		    "the access to %s (revocation %s)%s%s: the person keeps "
		    "it; see the revocation in AccessOwl", ev->user, ev->email,
		    app, s->revocation_id, rev->reject_reason ? ": " : "",
		    rev->reject_reason ? rev->reject_reason : "");
	} else {
		if (strcmp(rev->status, "processing_access") != 0)
			ao_warn("revocation %s has a status this version does "
			    "not know, \"%s\"; it is asked about again later",
			    s->revocation_id, rev->status);
		s->next_check = now + delay(s->checks);
	}
}

/*
 * One event of the index: ask about its due revocations, write what was
 * learnt, keep the index true.  *stop when AccessOwl cannot be asked.
 */
static int
follow_event(struct ao_session *run, struct ao_spool *sp, const char *id,
    bool all, long long now, bool *stop)
{
	char line[200], file[128];
	struct ao_event_rec ev;
	long long next;
	bool changed = false;
	size_t i;
	int r = AO_OK;

	/* a record goes for what it says, never for a failed read: the
	 * rejection it would catch later must not go unnoticed */
	r = ao_record_read(run->cfg.state_dir, FOLLOW, id, line, sizeof(line));
	if (r == AO_ERR_NOTFOUND)
		return AO_OK;
	if (r != AO_OK && r != AO_ERR_DATA) {
		ao_warn("cannot read follow record %s now (%s); kept, for the "
		    "next run", id, ao_strerror(r));
		return r;
	}
	if (r == AO_ERR_DATA || sscanf(line, "%lld %127s", &next, file) != 2 ||
	    strchr(file, '/') != NULL) {
		ao_warn("follow record %s is damaged; removed", id);
		return ao_record_remove(run->cfg.state_dir, FOLLOW, id);
	}
	/* written while the clock was ahead: the event says (below) */
	if (!all && next > now &&
	    ao_deadline(next, written_at(line), AO_FOLLOW_CAP, now) == next)
		return AO_OK;
	if ((r = ao_spool_get(sp, AO_Q_DONE, file, &ev)) != AO_OK) {
		ao_event_free(&ev);
		if (r != AO_ERR_NOTFOUND) {
			ao_warn("cannot read done/%s to follow its revocations "
			    "(%s); the next run tries again", file,
			    ao_strerror(r));
			return r;
		}
		/* written before the move to done/: a crash between the two
		 * leaves it queued, and its delivery writes it again */
		r = ao_spool_get(sp, AO_Q_QUEUE, file, &ev);
		ao_event_free(&ev);
		if (r == AO_ERR_NOTFOUND)
			(void)ao_record_remove(run->cfg.state_dir, FOLLOW, id);
		return AO_OK;
	}
	r = AO_OK;
	for (i = 0; i < ev.nstates && !*stop; i++) {
		struct ao_ev_state *s = &ev.states[i];
		struct ao_revocation rev;

		if (s->next_check <= 0)
			continue;
		if (!all && s->next_check > now) {
			/* set while the clock was ahead: the wait again from
			 * now, written, so that it runs out */
			if (check_due(s, now) < s->next_check) {
				s->next_check = check_due(s, now);
				changed = true;
			}
			continue;
		}
		if (!followable(s)) {
			s->next_check = 0;
			changed = true;
			continue;
		}
		r = ao_api_get_revocation(&run->api, s->revocation_id, &rev);
		run->stats.asked++;
		if (r == AO_OK) {
			settle(&ev, s, &rev, now);
			if (ao_follow_settled(s->revocation_status))
				run->stats.settled++;
			changed = true;
		} else if (r == AO_ERR_NOTFOUND) {
			ao_log(LOG_NOTICE, "revocation %s (account %s) cannot be "
			    "followed: AccessOwl has no such revocation (or no "
			    "such endpoint); it is not asked about again",
			    s->revocation_id, ev.user);
			s->next_check = 0;
			s->checked = now;
			changed = true;
			r = AO_OK;
		} else if (r == AO_ERR_DATA) {
			/* an answer we cannot use (logged): later, as planned */
			s->checked = now;
			s->checks++;
			s->next_check = now + delay(s->checks);
			changed = true;
			r = AO_OK;
		} else {
			if (r == AO_ERR_RATELIMIT)
				(void)ao_spool_set_hold(sp, now +
				    run->api.retry_after + 1);
			*stop = true;
		}
		ao_revocation_free(&rev);
	}
	if (changed && ao_spool_put(sp, AO_Q_DONE, &ev) != AO_OK)
		ao_err("cannot write event %s back to done/", ev.id);
	(void)index_put(&run->cfg, &ev);
	ao_event_free(&ev);
	return r;
}

int
ao_follow_pass(struct ao_session *run, struct ao_spool *sp, bool all,
    bool *stop)
{
	long long now = (long long)time(NULL);
	char **ids = NULL;
	size_t n = 0, i;
	int r, worst = AO_OK;

	if ((r = ao_record_list(run->cfg.state_dir, FOLLOW, &ids, &n)) != AO_OK)
		return r;
	for (i = 0; i < n && !*stop; i++)
		if ((r = follow_event(run, sp, ids[i], all, now, stop)) != AO_OK)
			worst = r;
	ao_names_free(ids, n);
	return worst;
}
