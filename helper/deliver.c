#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "clock.h"
#include "deliver.h"
#include "follow.h"
#include "forward.h"
#include "err.h"
#include "identity.h"
#include "log.h"
#include "person.h"
#include "reason.h"
#include "retry_after.h"
#include "text.h"

#define RETRY_BASE 60      /* seconds */
#define RETRY_CAP 3600
#define MAX_ROUNDS 20      /* a deliverer re-checks the queue this often */
/* the longest delay retry_later() gives: a 429's wait and its jitter */
#define RETRY_LONGEST (AO_RETRY_AFTER_MAX + AO_RETRY_AFTER_MAX / 4 + 2)

long
ao_retry_delay(long attempts)
{
	return ao_backoff(RETRY_BASE, RETRY_CAP,
	    attempts > 0 ? (unsigned)attempts : 1);
}

long long
ao_event_due(const struct ao_event_rec *ev, long long now)
{
	return ao_deadline(ev->next_attempt, ev->last_attempt, RETRY_LONGEST,
	    now);
}

bool
ao_event_is_due(struct ao_spool *sp, struct ao_event_rec *ev, long long now)
{
	long long due = ao_event_due(ev, now);

	if (due < ev->next_attempt && due > now) {
		ao_info("event %s (account %s, %s): its next try was set while "
		    "the clock was %lld s ahead; now in %lld s", ev->id, ev->user,
		    ev->event, ev->next_attempt - due, due - now);
		ev->next_attempt = due;
		(void)ao_spool_put(sp, AO_Q_QUEUE, ev);
	}
	return due <= now;
}

static void __attribute__((format(printf, 2, 3)))
set_error(struct ao_event_rec *ev, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)ao_set(&ev->error, msg);
}

/*
 * Try again later: the event stays queued.  After a 429 never sooner than
 * AccessOwl asked, and the whole host holds off until then.
 */
static int
retry_later(struct ao_session *run, struct ao_spool *sp, struct ao_event_rec *ev,
    int err, enum ao_outcome *out)
{
	long delay = ao_retry_delay(ev->attempts);
	char msg[256];

	if (err == AO_ERR_RATELIMIT) {
		long wait = run->api.retry_after + 1 +
		    ao_random_below(run->api.retry_after / 4 + 1);

		if (delay < wait)
			delay = wait;
		(void)ao_spool_set_hold(sp, (long long)time(NULL) +
		    run->api.retry_after + 1);
	}
	ev->next_attempt = (long long)time(NULL) + delay;
	snprintf(msg, sizeof(msg), "%s; next try in %ld s", ao_strerror(err),
	    delay);
	(void)ao_set(&ev->error, msg);
	/* the cause was logged at WARNING or above where it happened */
	ao_log(LOG_NOTICE, "event %s (account %s, %s): %s", ev->id, ev->user,
	    ev->event, ev->error);
	*out = AO_OUT_RETRY;
	run->stats.retry++;
	(void)ao_spool_put(sp, AO_Q_QUEUE, ev);
	return err;
}

static int
park(struct ao_spool *sp, struct ao_event_rec *ev, int err,
    enum ao_outcome *out)
{
	ao_log(LOG_NOTICE, "event %s (account %s, %s) parked: %s", ev->id,
	    ev->user, ev->event, ev->error ? ev->error : ao_strerror(err));
	*out = AO_OUT_PARKED;
	if (ao_spool_move(sp, AO_Q_QUEUE, AO_Q_PARKED, ev) != AO_OK)
		ao_err("cannot move event %s to parked/", ev->id);
	return err;
}

/* Errors that belong to the event (park it) rather than to the API. */
static bool
event_fault(int err)
{
	return err == AO_ERR_NOTFOUND || err == AO_ERR_AMBIGUOUS ||
	    err == AO_ERR_REJECTED;
}

static int
resolve(struct ao_session *run, struct ao_spool *sp, struct ao_event_rec *ev)
{
	struct ao_revocations pending = { 0 };
	struct ao_states st = { 0 };
	char *pid = NULL;
	size_t i;
	int r;

	if (ev->person_id == NULL) {
		if ((r = ao_api_find_person(&run->api, ev->email, &pid)) != AO_OK) {
			if (r == AO_ERR_NOTFOUND)
				set_error(ev, "no AccessOwl person has the e-mail "
				    "address %s", ev->email);
			else if (r == AO_ERR_AMBIGUOUS)
				set_error(ev, "several AccessOwl people have the "
				    "e-mail address %s", ev->email);
			return r;
		}
		ev->person_id = pid;
		if ((r = ao_spool_put(sp, AO_Q_QUEUE, ev)) != AO_OK)
			return r;
	}
	if (ev->listed)
		return AO_OK;
	if ((r = ao_api_active_states(&run->api, ev->person_id, &st)) != AO_OK)
		return r;
	if (st.n > 0 && (ev->states = calloc(st.n, sizeof(*ev->states))) == NULL) {
		r = AO_ERR_NOMEM;
		goto out;
	}
	/* what another host or a person filed already is not filed again */
	if (st.n > 0 && (r = ao_api_pending_revocations(&run->api,
	    ev->person_id, &pending)) != AO_OK && r != AO_ERR_NOTFOUND)
		goto out;
	for (i = 0; i < st.n; i++) {
		struct ao_ev_state *s = &ev->states[i];
		const struct ao_revocation *by;
		char key[AO_KEY_MAX];

		ao_event_key(ev, st.v[i].id, key, sizeof(key));
		ev->nstates++;
		if ((r = ao_set(&s->id, st.v[i].id)) || (r = ao_set(&s->key, key)) ||
		    (r = ao_set(&s->app_id, st.v[i].application_id)) ||
		    (r = ao_set(&s->app_title, st.v[i].application_title)))
			goto out;
		if ((by = ao_state_covered(&st, i, ev->person_id,
		    &pending)) != NULL) {
			s->status = AO_ST_COVERED;
			if ((r = ao_set(&s->revocation_id, by->id)) ||
			    (r = ao_set(&s->revocation_status, by->status)))
				goto out;
			ao_info("account %s (%s): access state %s has a pending "
			    "revocation already (%s): not filed again",
			    ev->user, ev->event, s->id, by->id);
		}
	}
	ev->listed = true;
	ev->listed_at = (long long)time(NULL);
	/* the keys are on disk before the first POST that uses them */
	r = ao_spool_put(sp, AO_Q_QUEUE, ev);
out:
	ao_states_free(&st);
	ao_revocations_free(&pending);
	return r;
}

/*
 * AccessOwl refused a fleet key's POST with 422, which is also how it
 * answers a key it received before with another body (another version of
 * pam_accessowl, say): covered, if a pending revocation says so.
 */
static bool
covered_after_422(struct ao_session *run, struct ao_event_rec *ev,
    struct ao_ev_state *s)
{
	struct ao_revocations pending = { 0 };
	const struct ao_revocation *by = NULL;
	struct ao_states all = { 0 };
	bool covered;
	size_t i;

	if (run->api.last_status != 422 || strncmp(s->key, "ao2-", 4) != 0 ||
	    ao_api_pending_revocations(&run->api, ev->person_id,
	    &pending) != AO_OK)
		return false;
	/* match on what the listing says of the states: list them again */
	if (ao_api_active_states(&run->api, ev->person_id, &all) == AO_OK)
		for (i = 0; i < all.n && by == NULL; i++)
			if (strcmp(all.v[i].id, s->id) == 0)
				by = ao_state_covered(&all, i, ev->person_id,
				    &pending);
	covered = by != NULL;
	if (covered) {
		s->status = AO_ST_COVERED;
		(void)ao_set(&s->revocation_id, by->id);
		(void)ao_set(&s->revocation_status, by->status);
	}
	ao_states_free(&all);
	ao_revocations_free(&pending);
	return covered;
}

int
ao_deliver_event(struct ao_session *run, struct ao_spool *sp,
    struct ao_event_rec *ev, enum ao_outcome *out, bool *stop)
{
	char reason[AO_REASON_MAX + 1];
	enum ao_event evk = AO_EV_MANUAL;
	size_t i, failed = 0, filed = 0;
	int r;

	*stop = false;
	ev->attempts++;
	ev->last_attempt = (long long)time(NULL);
	if (ev->email[0] == '\0') {
		set_error(ev, "no e-mail address for account %s: add it to "
		    "identity.map (or set identity.email_domain)", ev->user);
		ao_err("event %s: %s", ev->id, ev->error);
		return park(sp, ev, AO_ERR_NOTFOUND, out);
	}
	if ((r = resolve(run, sp, ev)) != AO_OK) {
		if (event_fault(r)) {
			if (r == AO_ERR_REJECTED)
				set_error(ev, "AccessOwl refused a lookup for %s",
				    ev->email);
			return park(sp, ev, r, out);
		}
		*stop = true;
		return retry_later(run, sp, ev, r, out);
	}
	(void)ao_event_parse(ev->event, &evk);
	ao_reason_build(reason, ev->host, ev->user, evk, (time_t)ev->created);
	for (i = 0; i < ev->nstates; i++) {
		struct ao_ev_state *s = &ev->states[i];
		struct ao_revocation rev;
		enum ao_file_result res;

		if (s->status != AO_ST_PENDING)
			continue;
		r = ao_api_file_revocation(&run->api, s->id, reason, s->key,
		    &res, &rev);
		if (r == AO_OK) {
			s->status = res == AO_FILED_NEW ? AO_ST_FILED :
			    AO_ST_EARLIER;
			(void)ao_set(&s->revocation_id, rev.id);
			(void)ao_set(&s->revocation_status, rev.status);
			(void)ao_set(&s->error, NULL);
			ao_revocation_free(&rev);
			/* filed is not revoked: that is for AccessOwl, or an
			 * application's owner, to do (follow.h) */
			ao_info("account %s (%s): access state %s %s (revocation "
			    "%s, %s)", ev->user, ev->event, s->id, res ==
			    AO_FILED_NEW ? "filed" : "was filed earlier",
			    s->revocation_id ? s->revocation_id : "?",
			    s->revocation_status ? s->revocation_status : "?");
		} else if (r == AO_ERR_REJECTED) {
			if (covered_after_422(run, ev, s)) {
				ao_info("account %s (%s): access state %s was "
				    "filed by another host", ev->user,
				    ev->event, s->id);
			} else {
				s->status = AO_ST_FAILED;
				(void)ao_set(&s->error, "refused by AccessOwl "
				    "(4xx)");
			}
		} else {
			(void)ao_set(&s->error, ao_strerror(r));
			*stop = true;
			return retry_later(run, sp, ev, r, out);
		}
		if ((r = ao_spool_put(sp, AO_Q_QUEUE, ev)) != AO_OK) {
			*stop = true;
			return r;
		}
	}
	for (i = 0; i < ev->nstates; i++) {
		if (ev->states[i].status == AO_ST_FAILED)
			failed++;
		else
			filed++;
	}
	if (failed > 0) {
		set_error(ev, "%zu of %zu access states were refused by "
		    "AccessOwl", failed, failed + filed);
		return park(sp, ev, AO_ERR_REJECTED, out);
	}
	(void)ao_set(&ev->error, NULL);
	ev->next_attempt = 0;
	*out = AO_OUT_DELIVERED;
	run->stats.delivered++;
	ao_info("event %s (account %s, %s) delivered: %zu access states",
	    ev->id, ev->user, ev->event, ev->nstates);
	/* what we filed is followed to its end, from done/ */
	(void)ao_follow_start(&run->cfg, ev, (long long)time(NULL));
	return ao_spool_move(sp, AO_Q_QUEUE, AO_Q_DONE, ev);
}

/* Log, on every run, events that have waited too long. */
static void
alarm_old(const struct ao_event_rec *ev, long long now)
{
	if (now - ev->created > AO_ALARM_AGE)
		ao_err("event %s (account %s, %s) is still undelivered after "
		    "%lld days; AccessOwl forgets idempotency keys after 14 "
		    "days, so it must be delivered or resolved by hand now "
		    "(accessowl-helper status)", ev->id, ev->user, ev->event,
		    (now - ev->created) / 86400);
}

/*
 * Settled people: when a fleet event is delivered, <state_dir>/settled/
 * <digest of the address> records when its states were listed and where
 * the event is in done/: "<listed_at> <file name> <address>".
 */
#define SETTLED "settled"

static bool
fleet_event(const struct ao_event_rec *ev)
{
	enum ao_event k;

	return ao_event_parse(ev->event, &k) == AO_OK && ao_event_fleet(k);
}

/* The record's name for an address: FNV-1a of it in lower case. */
static void
settled_name(const char *email, char *out, size_t n)
{
	unsigned long long h = 14695981039346656037ULL;

	for (; *email; email++) {
		h ^= (unsigned char)tolower((unsigned char)*email);
		h *= 1099511628211ULL;
	}
	snprintf(out, n, "p%016llx", h);
}

static void
remember_settled(const struct ao_session *run, const struct ao_event_rec *ev)
{
	char name[24], file[128], line[AO_EMAIL_MAX + 200];

	if (!fleet_event(ev) || ev->listed_at <= 0)
		return;
	settled_name(ev->email, name, sizeof(name));
	ao_event_filename(ev, file, sizeof(file));
	snprintf(line, sizeof(line), "%lld %s %s", ev->listed_at, file,
	    ev->email);
	(void)ao_record_write(run->cfg.state_dir, SETTLED, name, line);
}

/* The delivered event that listed the person's states last, if it listed
 * them after ev happened.  AO_OK with *by filled (free it). */
static int
settled_for(const struct ao_session *run, struct ao_spool *sp,
    const struct ao_event_rec *ev, struct ao_event_rec *by)
{
	char name[24], line[AO_EMAIL_MAX + 200], file[128], email[AO_EMAIL_MAX];
	long long listed_at;
	int r;

	memset(by, 0, sizeof(*by));
	settled_name(ev->email, name, sizeof(name));
	if (ao_record_read(run->cfg.state_dir, SETTLED, name, line,
	    sizeof(line)) != AO_OK ||
	    sscanf(line, "%lld %127s %319s", &listed_at, file, email) != 3 ||
	    strcasecmp(email, ev->email) != 0 || ev->created > listed_at ||
	    strchr(file, '/') != NULL)
		return AO_ERR_NOTFOUND;
	r = ao_spool_get(sp, AO_Q_DONE, file, by);
	if (r == AO_OK && (strcasecmp(by->email, ev->email) != 0 ||
	    by->person_id == NULL || by->listed_at != listed_at))
		r = AO_ERR_NOTFOUND;
	return r;
}

static int
copy_cover(struct ao_event_rec *ev, const struct ao_event_rec *by)
{
	size_t i;
	int r;

	if (by->nstates > 0 &&
	    (ev->states = calloc(by->nstates, sizeof(*ev->states))) == NULL)
		return AO_ERR_NOMEM;
	for (i = 0; i < by->nstates; i++) {
		const struct ao_ev_state *f = &by->states[i];
		struct ao_ev_state *s = &ev->states[i];
		char key[AO_KEY_MAX];

		ev->nstates++;
		ao_event_key(ev, f->id, key, sizeof(key));
		s->status = AO_ST_COVERED;
		if ((r = ao_set(&s->id, f->id)) || (r = ao_set(&s->key, key)) ||
		    (r = ao_set(&s->app_id, f->app_id)) ||
		    (r = ao_set(&s->app_title, f->app_title)) ||
		    (r = ao_set(&s->revocation_id, f->revocation_id)) ||
		    (r = ao_set(&s->revocation_status, f->revocation_status)))
			return r;
	}
	if ((r = ao_set(&ev->person_id, by->person_id)) != AO_OK)
		return r;
	return ao_set(&ev->covered_by, by->id);
}

/*
 * The same person, deprovisioned on another host (a collector) or by
 * another event here, with an event delivered since this one happened:
 * that event listed every state the person had when this one happened,
 * and its revocations cover this one, which goes to done/ without a
 * request.  An event that happened after that listing is delivered as
 * usual (the person may have new access; the pending check keeps it from
 * filing twice what is pending).
 */
static bool
cover(struct ao_session *run, struct ao_spool *sp,
    struct ao_event_rec *ev)
{
	struct ao_event_rec by;
	bool ok = false;

	memset(&by, 0, sizeof(by));
	if (ev->listed || !fleet_event(ev) || ev->email[0] == '\0' ||
	    settled_for(run, sp, ev, &by) != AO_OK)
		goto out;
	if (copy_cover(ev, &by) != AO_OK) {
		/* delivered as usual instead */
		ao_event_states_free(ev);
		goto out;
	}
	ev->listed = true;
	ev->listed_at = by.listed_at;
	ev->attempts++;
	ev->last_attempt = (long long)time(NULL);
	ev->next_attempt = 0;
	(void)ao_set(&ev->error, NULL);
	ao_info("account %s (%s) reported by %s: covered by event %s (reported "
	    "by %s): %zu access states, no request", ev->user, ev->event,
	    ev->host, by.id, by.host, ev->nstates);
	ok = ao_spool_move(sp, AO_Q_QUEUE, AO_Q_DONE, ev) == AO_OK;
	if (ok)
		run->stats.delivered++;
out:
	ao_event_free(&by);
	return ok;
}

/* One pass over the queue.  *attempted counts events tried. */
static int
pass(struct ao_session *run, struct ao_spool *sp, bool all, size_t *attempted,
    bool *stop)
{
	char **names = NULL;
	size_t n = 0, i;
	long long now = (long long)time(NULL);
	int r, worst = AO_OK;

	*attempted = 0;
	if ((r = ao_spool_list(sp, AO_Q_QUEUE, &names, &n)) != AO_OK)
		return r;
	for (i = 0; i < n && !*stop; i++) {
		struct ao_event_rec ev;
		enum ao_outcome out;

		/* one odd file never stops the others */
		if ((r = ao_spool_settle_copies(sp, AO_Q_QUEUE,
		    names[i])) != AO_OK) {
			if (r != AO_ERR_NOTFOUND && worst == AO_OK)
				worst = r;
			continue;
		}
		if ((r = ao_spool_get(sp, AO_Q_QUEUE, names[i], &ev)) != AO_OK) {
			ao_spool_report(sp, AO_Q_QUEUE, names[i], r);
			if (r != AO_ERR_NOTFOUND && worst == AO_OK)
				worst = r == AO_ERR_DATA ? r : AO_ERR_TEMP;
			ao_event_free(&ev);
			continue;
		}
		alarm_old(&ev, now);
		if ((all || ao_event_is_due(sp, &ev, now)) &&
		    !cover(run, sp, &ev)) {
			(*attempted)++;
			r = ao_deliver_event(run, sp, &ev, &out, stop);
			if (r != AO_OK && worst == AO_OK)
				worst = r;
			if (r == AO_OK && out == AO_OUT_DELIVERED)
				remember_settled(run, &ev);
			if (out == AO_OUT_PARKED)
				run->stats.parked++;
		}
		ao_event_free(&ev);
	}
	ao_names_free(names, n);
	return worst;
}

/*
 * Give a parked event another chance, after the admin fixed its cause:
 * the e-mail is resolved again from the current config (when the person
 * was never found), and a state AccessOwl refused gets a new
 * Idempotency-Key, since the old one belongs to a request that was
 * received and refused, and would now only earn a 409.
 *
 * Not the e-mail of an event a relay host reported (received): the
 * account is that host's, resolved by that host's configuration; an
 * account of the same name here, or this host's identity rules, say
 * nothing about who it is.
 */
static int
requeue(struct ao_session *run, struct ao_spool *sp, struct ao_event_rec *ev)
{
	char suffix[9], key[4 + 32 + 1 + AO_ID_MAX + 10];
	size_t i;
	int r;

	if (ev->person_id == NULL && ev->received == 0) {
		struct passwd *pw = getpwnam(ev->user);
		const char *src = NULL;
		char email[AO_EMAIL_MAX];
		struct ao_addr a;

		if (ao_identity_email(&run->cfg, ev->user, pw ? pw->pw_gecos :
		    NULL, email, sizeof(email), &src) != AO_OK)
			email[0] = '\0';
		if ((r = ao_person_address(&run->cfg, ev->user, email, src,
		    ev->email, pw != NULL, &a)) != AO_OK)
			return r;
		if (a.how == AO_ADDR_CONFLICT) {
			/* still undecided: it stays parked, saying why */
			if ((r = ao_set(&ev->email_unconfirmed, a.unconfirmed)) ||
			    (r = ao_set(&ev->error, a.error)))
				return r;
			return ao_spool_put(sp, AO_Q_PARKED, ev);
		}
		if ((r = ao_set(&ev->email, a.email)) != AO_OK ||
		    (r = ao_set(&ev->email_source, a.source ? a.source : "")) ||
		    (r = ao_set(&ev->email_unconfirmed, NULL)))
			return r;
	}
	for (i = 0; i < ev->nstates; i++) {
		struct ao_ev_state *s = &ev->states[i];

		if (s->status != AO_ST_FAILED)
			continue;
		if ((r = ao_random_hex(suffix, 4)) != AO_OK)
			return r;
		snprintf(key, sizeof(key), "ao1-%s-%s-%s", ev->id, s->id, suffix);
		s->status = AO_ST_PENDING;
		if ((r = ao_set(&s->key, key)) != AO_OK ||
		    (r = ao_set(&s->error, NULL)) != AO_OK)
			return r;
	}
	(void)ao_set(&ev->error, NULL);
	ev->next_attempt = 0;
	ao_info("event %s (account %s, %s) taken out of parked/ for another "
	    "try", ev->id, ev->user, ev->event);
	return ao_spool_move(sp, AO_Q_PARKED, AO_Q_QUEUE, ev);
}

/* Did the sender from (address or host name; NULL: any) report ev? */
static bool
reported_by(const struct ao_event_rec *ev, const char *from)
{
	return from == NULL || ao_streq_ci(ev->host, from) ||
	    (ev->via != NULL && ao_streq_ci(ev->via, from));
}

/* Put back (drop false) or remove (drop true) the parked events of from. */
static int
each_parked(struct ao_session *run, struct ao_spool *sp, const char *from,
    bool drop, size_t *done)
{
	char **names = NULL;
	size_t n = 0, i;
	int r;

	*done = 0;
	if ((r = ao_spool_list(sp, AO_Q_PARKED, &names, &n)) != AO_OK)
		return r;
	for (i = 0; i < n && r == AO_OK; i++) {
		struct ao_event_rec ev;
		int g;

		/* never a re-key (nor a drop) of an event found elsewhere */
		if (ao_spool_settle_copies(sp, AO_Q_PARKED, names[i]) != AO_OK)
			continue;
		if ((g = ao_spool_get(sp, AO_Q_PARKED, names[i], &ev)) != AO_OK)
			ao_spool_report(sp, AO_Q_PARKED, names[i], g);
		else if (!reported_by(&ev, from))
			;
		else if (!drop) {
			if ((r = requeue(run, sp, &ev)) == AO_OK)
				(*done)++;
		} else if (unlinkat(sp->fd[AO_Q_PARKED], names[i], 0) == 0) {
			(*done)++;
			ao_warn("dropped parked event %s by the administrator's "
			    "word: account %s %s (person %s), reported by host "
			    "%s%s%s", ev.id, ev.user, ev.event, ev.email,
			    ev.host, ev.via ? " from " : "", ev.via ? ev.via : "");
		} else if (errno != ENOENT)
			r = AO_ERR_SYSTEM;
		ao_event_free(&ev);
	}
	ao_names_free(names, n);
	if (drop && *done > 0 && fsync(sp->fd[AO_Q_PARKED]) != 0 && r == AO_OK)
		r = AO_ERR_SYSTEM;
	return r;
}

/*
 * Is any queued event due now?  *fresh (if given): is one of them a fleet
 * event never tried yet (what other hosts may be filing right now too)?
 */
static bool
any_due(struct ao_spool *sp, bool *fresh)
{
	long long now = (long long)time(NULL);
	char **names = NULL;
	size_t n = 0, i;
	bool due = false;

	if (fresh != NULL)
		*fresh = false;
	if (ao_spool_list(sp, AO_Q_QUEUE, &names, &n) != AO_OK)
		return false;
	for (i = 0; i < n && !(due && (fresh == NULL || *fresh)); i++) {
		struct ao_event_rec ev;
		enum ao_event k;

		if (ao_spool_get(sp, AO_Q_QUEUE, names[i], &ev) == AO_OK &&
		    ao_event_due(&ev, now) <= now) {
			due = true;
			if (fresh != NULL && ev.attempts == 0 &&
			    ao_event_parse(ev.event, &k) == AO_OK &&
			    ao_event_fleet(k))
				*fresh = true;
		}
		ao_event_free(&ev);
	}
	ao_names_free(names, n);
	return due;
}

/*
 * AccessOwl answered 429: nothing is sent before the time it gave, by any
 * run.  AO_OK when free to go; by hand (loud), AO_ERR_RATELIMIT.
 */
int
ao_deliver_held(struct ao_spool *sp, bool loud)
{
	long long until = ao_spool_hold_settle(sp), now = (long long)time(NULL);

	if (until <= now)
		return AO_OK;
	ao_log(loud ? LOG_ERR : LOG_DEBUG, "AccessOwl asked this host to wait "
	    "(429, Retry-After) for %lld s more: nothing is sent before then",
	    until - now);
	return AO_ERR_RATELIMIT;
}

static int
parked_locked(struct ao_session *run, struct ao_spool *sp, const char *from,
    bool drop, size_t *n)
{
	int r;

	*n = 0;
	/* by hand: wait for a running deliverer rather than skip */
	if ((r = ao_spool_lock(sp, 120)) != AO_OK) {
		if (r == AO_ERR_TEMP)
			ao_err("another delivery holds the spool lock; try "
			    "again");
		return r;
	}
	r = each_parked(run, sp, from, drop, n);
	ao_spool_unlock(sp);
	return r;
}

int
ao_deliver_requeue_parked(struct ao_session *run, struct ao_spool *sp,
    const char *from, size_t *n)
{
	return parked_locked(run, sp, from, false, n);
}

int
ao_deliver_drop_parked(struct ao_session *run, struct ao_spool *sp,
    const char *from, size_t *n)
{
	return parked_locked(run, sp, from, true, n);
}

static bool
still_followed(const char *id, void *ctx)
{
	return ao_follow_pending(ctx, id);
}

/* Delivered events older than paths.keep_delivered_days leave done/;
 * those with revocations still followed stay; so do the temporary files
 * of writes a crash interrupted.  Never fails a run. */
static void
forget_delivered(struct ao_session *run, struct ao_spool *sp)
{
	long days = run->cfg.keep_delivered_days;
	size_t n = 0;

	if (ao_spool_clean_tmp(sp, run->cfg.state_dir, (long long)time(NULL),
	    &n) != AO_OK)
		ao_warn("could not look for temporary files left by "
		    "interrupted writes everywhere in %s and %s",
		    run->cfg.spool_dir, run->cfg.state_dir);
	if (n > 0)
		ao_log(LOG_NOTICE, "removed %zu temporary files left by "
		    "interrupted writes (older than %lld minutes)", n,
		    AO_TMP_STALE / 60);
	if (days <= 0)
		return;
	if (ao_spool_prune_done(sp, (long long)time(NULL) - days * 86400LL,
	    still_followed, &run->cfg, &n) != AO_OK)
		ao_warn("could not remove every delivered event older than "
		    "%ld days from %s/done", days, run->cfg.spool_dir);
	if (n > 0)
		ao_info("forgot %zu delivered events (older than "
		    "paths.keep_delivered_days = %ld)", n, days);
}

int
ao_deliver_run(struct ao_session *run, struct ao_spool *sp, bool all)
{
	bool stop = false, fresh = false;
	size_t attempted = 0;
	int r = AO_OK, round, held, l;

	if (!all && !run->cfg.relay && run->cfg.spread > 0 &&
	    any_due(sp, &fresh) && fresh) {
		/* hosts that lock the same person together do not ask
		 * together: the later ones find it filed (one request less
		 * per state) */
		long ms = ao_random_below(run->cfg.spread * 1000L);

		ao_debug("new event: waiting %ld ms (api.spread)", ms);
		ao_sleep_ms(ms);
	}
	/*
	 * One deliverer at a time.  The queue is looked at again after the
	 * lock is released: an event enqueued while we held it (its own
	 * deliverer found the lock taken and left) is due, so we go round
	 * again.  Events that failed are scheduled later and are not due.
	 */
	for (round = 0; round < MAX_ROUNDS; round++) {
		if ((l = ao_spool_lock(sp, 0)) != AO_OK) {
			if (l != AO_ERR_TEMP)
				r = l; /* logged: no delivery without it */
			else
				ao_debug("another delivery is running; it will "
				    "see the queue after us");
			break;
		}
		/* a relay host forwards to the collector, which files */
		held = run->cfg.relay ? AO_OK : ao_deliver_held(sp, all);
		if (held != AO_OK)
			r = all ? held : AO_OK;
		else if (run->cfg.relay)
			r = ao_forward_pass(run, sp, all && round == 0, &stop);
		else {
			r = pass(run, sp, all && round == 0, &attempted, &stop);
			/* once a run: one request per pending revocation */
			if (round == 0 && !stop) {
				int f = ao_follow_pass(run, sp, all, &stop);

				if (r == AO_OK)
					r = f;
			}
		}
		if (round == 0)
			forget_delivered(run, sp);
		ao_spool_unlock(sp);
		if (held != AO_OK || stop || !any_due(sp, NULL))
			break;
	}
	return r;
}
