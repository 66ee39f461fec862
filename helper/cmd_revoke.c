/*
 * accessowl-helper revoke --user NAME [--dry-run]
 *
 * By hand: resolve the account's person, list the active access states in
 * scope, and file one revocation per state now, printing one line per state.
 * Each state's Idempotency-Key is fixed before its first send and reused by
 * every retry, so a lost answer is resent as a duplicate AccessOwl refuses
 * (409), never as a second revocation.
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
#include "cmd.h"
#include "err.h"
#include "identity.h"
#include "log.h"
#include "reason.h"
#include "run.h"
#include "text.h"

/* "ao1-<event id>-<state id>": unique per (event, state), < 255 bytes. */
#define KEY_MAX (4 + 32 + 1 + AO_ID_MAX + 1)

struct target {
	char user[256];     /* sanitized account name */
	char email[320];
	const char *source; /* which identity rule gave the e-mail */
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
	if (ao_identity_email(cfg, name, pw ? pw->pw_gecos : NULL, t->email,
	    sizeof(t->email), &t->source) != AO_OK) {
		if (pw == NULL)
			ao_err("no local account %s, and identity.map does not "
			    "name it; add { user = \"%s\"; email = \"...\"; } "
			    "to identity.map", name, name);
		else
			ao_err("no e-mail address for account %s: add it to "
			    "identity.map, put the address in its GECOS field, "
			    "or set identity.email_domain", name);
		return AO_ERR_NOTFOUND;
	}
	return AO_OK;
}

static const char *
app_label(const struct ao_state *s)
{
	if (s->application_title != NULL)
		return s->application_title;
	return s->application_id ? s->application_id : "(no application)";
}

/* Worst outcome wins: the exit code reports the most serious problem. */
static int
worse(int a, int b)
{
	static const int order[] = { AO_ERR_AUTH, AO_ERR_TEMP,
	    AO_ERR_RATELIMIT, AO_ERR_REJECTED };
	size_t i;

	if (a == AO_OK)
		return b;
	if (b == AO_OK)
		return a;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return a;
}

static int
file_all(struct ao_run *run, const struct target *t, const char *user_id,
    const struct ao_states *st, int dry_run)
{
	char host[HOST_NAME_MAX + 1] = "localhost", hostc[HOST_NAME_MAX + 1];
	char event_id[33], reason[AO_REASON_MAX + 1], key[KEY_MAX];
	char app[128];
	size_t i, filed = 0, earlier = 0;
	int r, worst = AO_OK;
	bool stop = false;

	(void)gethostname(host, sizeof(host) - 1);
	ao_sanitize(hostc, sizeof(hostc), host);
	if ((r = ao_random_hex(event_id, 16)) != AO_OK)
		return r;
	ao_reason_build(reason, hostc, t->user, AO_EV_MANUAL, time(NULL));
	for (i = 0; i < st->n; i++) {
		const struct ao_state *s = &st->v[i];
		struct ao_revocation rev;
		enum ao_file_result res;

		ao_sanitize(app, sizeof(app), app_label(s));
		if (dry_run) {
			printf("would revoke\t%s\tstate %s\n", app, s->id);
			continue;
		}
		if (stop) {
			printf("not sent\t%s\tstate %s\t(stopped after the "
			    "error above)\n", app, s->id);
			continue;
		}
		snprintf(key, sizeof(key), "ao1-%s-%s", event_id, s->id);
		r = ao_api_file_revocation(&run->api, s->id, reason, key, &res,
		    &rev);
		if (r != AO_OK) {
			printf("failed\t%s\tstate %s\t%s\n", app, s->id,
			    ao_strerror(r));
			worst = worse(worst, r);
			/* the API or the token is down: the rest would fail too */
			stop = r != AO_ERR_REJECTED;
			continue;
		}
		if (res == AO_FILED_EARLIER) {
			printf("filed earlier\t%s\tstate %s\t(AccessOwl had "
			    "received this request already)\n", app, s->id);
			earlier++;
		} else {
			printf("revoked\t%s\tstate %s\trevocation %s (%s)\n",
			    app, s->id, rev.id ? rev.id : "?",
			    rev.status ? rev.status : "?");
			filed++;
		}
		ao_info("revocation for account %s, state %s: %s", t->user,
		    s->id, res == AO_FILED_EARLIER ? "filed earlier" : "filed");
		ao_revocation_free(&rev);
	}
	if (!dry_run)
		ao_info("account %s (%s, AccessOwl user %s): %zu of %zu active "
		    "access states revoked now, %zu earlier", t->user, t->email,
		    user_id, filed, st->n, earlier);
	return worst;
}

int
cmd_revoke(const struct ao_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct ao_run run;
	struct ao_states states = { 0 };
	struct target t;
	const char *user = NULL;
	char *user_id = NULL;
	int dry_run = 0, c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u:n", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': user = optarg; break;
		case 'n': dry_run = 1; break;
		default: return AO_ERR_USAGE;
		}
	}
	if (user == NULL || optind != argc) {
		fprintf(stderr, "usage: accessowl-helper revoke --user NAME "
		    "[--dry-run]\n");
		return AO_ERR_USAGE;
	}
	if ((r = ao_run_open(&run, o->config_path)) != AO_OK)
		goto out;
	if ((r = resolve_account(&run.cfg, user, &t)) != AO_OK)
		goto out;
	if ((r = ao_run_drop(&run)) != AO_OK)
		goto out;
	if ((r = ao_api_find_person(&run.api, t.email, &user_id)) != AO_OK)
		goto out;
	if ((r = ao_api_active_states(&run.api, user_id, &states)) != AO_OK)
		goto out;
	if (states.n == 0) {
		printf("nothing to revoke: %s (%s) has no active access states "
		    "in scope\n", t.user, t.email);
		goto out;
	}
	r = file_all(&run, &t, user_id, &states, dry_run);
out:
	ao_states_free(&states);
	free(user_id);
	ao_run_close(&run);
	return r;
}
