/*
 * accessowl-helper revoke --user NAME [--dry-run]
 *
 * By hand: a "manual" event is queued like any other and delivered now by
 * the same engine as `deliver` (deliver.c), printing one line per access
 * state (a relay host: forwarded to the collector, which files it).  What
 * cannot be filed now stays queued for the next delivery.
 */
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "deliver.h"
#include "forward.h"
#include "record.h"
#include "spool.h"
#include "cmd.h"
#include "err.h"
#include "identity.h"
#include "log.h"
#include "queue.h"
#include "person.h"
#include "out.h"
#include "reason.h"
#include "session.h"
#include "text.h"

struct target {
	char user[256];     /* sanitized account name */
	char email[AO_EMAIL_MAX];
	const char *source; /* which identity rule gave the e-mail */
	bool exists;        /* the account is in passwd */
};

/* Local facts, read before the privilege drop. */
static int
resolve_account(const struct ao_config *cfg, const char *name,
    struct target *t)
{
	struct passwd *pw = getpwnam(name);

	if (strlen(name) >= sizeof(t->user)) {
		ao_err("account name is longer than %zu bytes",
		    sizeof(t->user) - 1);
		return AO_ERR_USAGE;
	}
	ao_sanitize(t->user, sizeof(t->user), name);
	if (strcmp(t->user, name) != 0) {
		ao_err("account name %s has control characters or is not "
		    "valid UTF-8", t->user);
		return AO_ERR_USAGE;
	}
	if (ao_strlist_has(&cfg->exclude, name)) {
		ao_err("account %s is listed in accounts.exclude; nothing is "
		    "revoked for it", name);
		return AO_ERR_DATA;
	}
	if (pw != NULL && (long)pw->pw_uid < cfg->min_uid) {
		ao_err("account %s has uid %lu, below accounts.min_uid (%ld); "
		    "nothing is revoked for it", name,
		    (unsigned long)pw->pw_uid, cfg->min_uid);
		return AO_ERR_DATA;
	}
	t->exists = pw != NULL;
	if (ao_identity_email(cfg, name, pw ? pw->pw_gecos : NULL, t->email,
	    sizeof(t->email), &t->source) != AO_OK)
		t->email[0] = '\0';
	return AO_OK;
}

/*
 * After the drop: settle the address against the one remembered for the
 * account (person.h).  A conflict is refused here: the administrator is
 * at the terminal and decides with identity.map.
 */
static int
settle_address(const struct ao_config *cfg, const char *name, struct target *t,
    bool dry)
{
	struct ao_addr a;
	int r;

	/* a dry run changes nothing: not even the address remembered */
	if ((r = (dry ? ao_person_peek : ao_person_address)(cfg, name,
	    t->email, t->source, "", t->exists, &a)) != AO_OK)
		return r;
	switch (a.how) {
	case AO_ADDR_NONE:
		if (!t->exists)
			ao_err("no local account %s, and neither identity.map "
			    "nor a remembered address names it; add { user = "
			    "\"%s\"; email = \"...\"; } to identity.map", name,
			    name);
		else
			ao_err("no e-mail address for account %s: add it to "
			    "identity.map, or set identity.email_domain", name);
		return AO_ERR_NOTFOUND;
	case AO_ADDR_CONFLICT:
		ao_err("%s", a.error);
		return AO_ERR_DATA;
	default:
		snprintf(t->email, sizeof(t->email), "%s", a.email);
		t->source = a.source;
		return AO_OK;
	}
}

static const char *
app_label(const char *title, const char *id)
{
	if (title != NULL)
		return title;
	return id ? id : "(no application)";
}

/* --dry-run: list what would be revoked, send nothing, queue nothing. */
static int
dry_run(struct ao_session *run, const struct target *t)
{
	struct ao_revocations pending = { 0 };
	struct ao_states st = { 0 };
	char *user_id = NULL, app[128];
	size_t i;
	int r;

	if ((r = ao_api_find_person(&run->api, t->email, &user_id)) != AO_OK)
		return r;
	if ((r = ao_api_active_states(&run->api, user_id, &st)) == AO_OK) {
		if (st.n == 0)
			ao_print("nothing to revoke: %s (%s) has no active access "
			    "states in scope\n", t->user, t->email);
		else if (ao_api_pending_revocations(&run->api, user_id,
		    &pending) != AO_OK)
			ao_revocations_free(&pending);
		for (i = 0; i < st.n; i++) {
			const struct ao_revocation *by = ao_state_covered(&st,
			    i, user_id, &pending);

			ao_sanitize(app, sizeof(app), app_label(
			    st.v[i].application_title, st.v[i].application_id));
			if (by != NULL)
				ao_print("already pending\t%s\tstate %s\t"
				    "revocation %s (pending)\n", app, st.v[i].id,
				    by->id);
			else
				ao_print("would revoke\t%s\tstate %s\n", app,
				    st.v[i].id);
		}
	}
	ao_states_free(&st);
	ao_revocations_free(&pending);
	free(user_id);
	return r;
}

/* One line per access state, from the event's recorded progress. */
static void
print_outcome(const struct ao_event_rec *ev, const struct target *t)
{
	char app[128], err[256], rst[64];
	size_t i;

	if (ev->listed && ev->nstates == 0)
		ao_print("nothing to revoke: %s (%s) has no active access states "
		    "in scope\n", t->user, t->email);
	for (i = 0; i < ev->nstates; i++) {
		const struct ao_ev_state *s = &ev->states[i];

		ao_sanitize(app, sizeof(app), app_label(s->app_title, s->app_id));
		ao_sanitize(err, sizeof(err), s->error ? s->error : "");
		switch (s->status) {
		case AO_ST_FILED:
			ao_print("filed\t%s\tstate %s\trevocation %s (%s)\n", app,
			    s->id, s->revocation_id ? s->revocation_id : "?",
			    ao_sanitize(rst, sizeof(rst), s->revocation_status ?
			    s->revocation_status : "?"));
			break;
		case AO_ST_EARLIER:
			ao_print("filed earlier\t%s\tstate %s\t(AccessOwl had "
			    "received this request already)\n", app, s->id);
			break;
		case AO_ST_COVERED:
			ao_print("already pending\t%s\tstate %s\trevocation %s "
			    "(pending: filed earlier, here or elsewhere)\n",
			    app, s->id, s->revocation_id ? s->revocation_id :
			    "?");
			break;
		case AO_ST_FAILED:
			ao_print("failed\t%s\tstate %s\t%s\n", app, s->id, err);
			break;
		case AO_ST_PENDING:
			if (err[0])
				ao_print("failed\t%s\tstate %s\t%s (queued for "
				    "retry)\n", app, s->id, err);
			else
				ao_print("not sent\t%s\tstate %s\t(stopped after the "
				    "error above; queued for retry)\n", app, s->id);
			break;
		}
	}
}

/* Queue a manual event and deliver it now, holding the deliverer lock. */
static int
revoke_now(struct ao_session *run, const struct target *t, long uid)
{
	struct ao_new_event ne;
	struct ao_spool sp;
	struct ao_event_rec ev;
	enum ao_outcome out;
	bool stop, parked;
	int r;

	memset(&ev, 0, sizeof(ev));
	memset(&ne, 0, sizeof(ne));
	ne.user = t->user;
	ne.event = ao_event_name(AO_EV_MANUAL);
	ne.episode = "";
	ne.email = t->email;
	ne.source = t->source;
	ne.exists = t->exists;
	ne.uid = uid;
	ne.service = "revoke";
	/* the one path into the spool, like any other event */
	if ((r = ao_queue_event_rec(&run->cfg, &ne, &ev, &parked)) != AO_OK)
		return r;
	if (parked) {
		ao_err("%s", ev.error ? ev.error : "event parked");
		ao_event_free(&ev);
		return AO_ERR_DATA;
	}
	if ((r = ao_spool_open(run->cfg.spool_dir, &sp)) != AO_OK)
		goto out_ev;
	/* a background deliverer may be busy; wait for it a while */
	if ((r = ao_spool_lock(&sp, 120)) != AO_OK) {
		if (r == AO_ERR_TEMP)
			ao_err("another delivery holds the spool lock; event "
			    "%s is queued and will be delivered by it or the "
			    "next run", ev.id);
		goto out;
	}
	if (run->cfg.relay) {
		/* the collector files it: forwarded with what else is queued */
		stop = false;
		r = ao_forward_pass(run, &sp, true, &stop);
		ao_spool_unlock(&sp);
		if (r == AO_OK)
			ao_print("forwarded\tevent %s\tto the collector %s, "
			    "which files the revocations\n", ev.id,
			    run->cfg.relay_url);
		else
			ao_print("queued\tevent %s\tnot acknowledged by the "
			    "collector %s; the next delivery sends it again\n",
			    ev.id, run->cfg.relay_url);
		goto out;
	}
	if ((r = ao_deliver_held(&sp, true)) == AO_OK)
		r = ao_deliver_event(run, &sp, &ev, &out, &stop);
	ao_spool_unlock(&sp);
	print_outcome(&ev, t);
out:
	ao_spool_close(&sp);
out_ev:
	ao_event_free(&ev);
	return r;
}

int
cmd_revoke(const struct ao_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct ao_session run;
	struct target t;
	struct passwd *pw;
	const char *user = NULL;
	long uid = -1;
	int dry = 0, c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u:n", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': user = optarg; break;
		case 'n': dry = 1; break;
		default: return AO_ERR_USAGE;
		}
	}
	if (user == NULL || optind != argc) {
		fprintf(stderr, "usage: accessowl-helper revoke --user NAME "
		    "[--dry-run]\n");
		return AO_ERR_USAGE;
	}
	if ((r = ao_session_open(&run, o->config_path, AO_SESSION_API |
	    (dry ? 0 : AO_SESSION_DIRS))) != AO_OK)
		goto out;
	if ((r = resolve_account(&run.cfg, user, &t)) != AO_OK)
		goto out;
	if ((pw = getpwnam(user)) != NULL)
		uid = (long)pw->pw_uid;
	if ((r = ao_session_drop(&run)) != AO_OK ||
	    (r = settle_address(&run.cfg, user, &t, dry)) != AO_OK)
		goto out;
	if (dry && run.cfg.relay) {
		ao_err("a relay host holds no token and cannot look at "
		    "AccessOwl: run revoke --dry-run on the collector");
		r = AO_ERR_USAGE;
		goto out;
	}
	r = dry ? dry_run(&run, &t) : revoke_now(&run, &t, uid);
out:
	ao_session_close(&run);
	return r;
}
