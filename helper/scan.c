#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "identity.h"
#include "scan.h"

static int
act(struct ao_scan_result *res, enum ao_scan_do what,
    const struct ao_scan_acct *a, enum ao_event ev, const char *key,
    const char *email, const char *source, const char *remembered,
    bool exists)
{
	struct ao_scan_action *x;

	if (res->n == res->cap) {
		size_t nc = res->cap ? res->cap * 2 : 16;
		struct ao_scan_action *nv = reallocarray(res->v, nc, sizeof(*nv));

		if (nv == NULL)
			return AO_ERR_NOMEM;
		res->v = nv;
		res->cap = nc;
	}
	x = &res->v[res->n++];
	x->what = what;
	x->acct = a;
	x->event = ev;
	x->key = key;
	x->email = email;
	x->source = source;
	x->remembered = remembered;
	x->exists = exists;
	if (what == AO_SCAN_QUEUE)
		res->queued++;
	else if (what == AO_SCAN_END && ev != AO_EV_COUNT)
		res->ended++;
	else if (what == AO_SCAN_GONE)
		res->gone++;
	return AO_OK;
}

/* A transition to queue, if the config turns its event on. */
static int
queue(const struct ao_config *cfg, struct ao_scan_result *res,
    const struct ao_scan_acct *a, enum ao_event ev, const char *key,
    const char *email, const char *source, const char *remembered,
    bool exists)
{
	if (!ao_config_event_on(cfg, ev))
		return AO_OK;
	return act(res, AO_SCAN_QUEUE, a, ev, key, email, source, remembered,
	    exists);
}

static enum ao_event
cond_event(enum ao_scan_cond c)
{
	return c == AO_SCAN_LOCKED ? AO_EV_LOCKED : AO_EV_EXPIRED;
}

/* One account present now; prev is its record or NULL.  cur becomes
 * the record to keep. */
static int
present(const struct ao_config *cfg, struct ao_scan_result *res,
    struct ao_scan_acct *cur, const struct ao_scan_acct *prev,
    bool baseline, bool initial)
{
	bool bad_now = cur->cond != AO_SCAN_NONE;
	const char *mem, *use = "";
	int r = AO_OK;

	if (prev != NULL && prev->damaged) {
		/* its record was lost: judged as by --initial */
		prev = NULL;
		initial = true;
		res->changed = true;
	}
	mem = prev ? prev->email : "";

	if (cur->unknown) {
		/* nothing to judge: the record stays as it was */
		if (prev != NULL) {
			*cur = *prev;
			cur->unknown = false;
		}
		return AO_OK;
	}
	if (prev == NULL) {
		if (initial && bad_now)
			r = queue(cfg, res, cur, cond_event(cur->cond), cur->key,
			    cur->email, cur->source, "", true);
		else if (!baseline) /* a name used again: any old episode */
			r = act(res, AO_SCAN_END, cur, AO_EV_COUNT, "", "", NULL,
			    "", true);
	} else {
		bool bad_then = prev->cond != AO_SCAN_NONE;

		/* --initial: what is locked or expired now, also what an
		 * earlier baseline took in (a queued episode stays once) */
		if (bad_then && bad_now && initial)
			r = queue(cfg, res, cur, cond_event(cur->cond), cur->key,
			    cur->email, cur->source, mem, true);
		else if (!bad_then && bad_now)
			r = queue(cfg, res, cur, cond_event(cur->cond), cur->key,
			    cur->email, cur->source, mem, true);
		else if (bad_then && !bad_now)
			r = act(res, AO_SCAN_END, cur, cond_event(prev->cond),
			    "", "", NULL, mem, true);
		if (r == AO_OK && !prev->nologin && cur->nologin && !bad_now)
			r = queue(cfg, res, cur, AO_EV_NOLOGIN,
			    ao_event_name(AO_EV_NOLOGIN), cur->email,
			    cur->source, mem, true);
		if (r == AO_OK && prev->nologin && !cur->nologin && !bad_now)
			r = act(res, AO_SCAN_END, cur, AO_EV_NOLOGIN, "", "",
			    NULL, mem, true);
	}
	if (r != AO_OK)
		return r;
	/* the address kept never changes silently (identity.h) */
	if (ao_identity_settle(cur->email, cur->source, mem, true, &use) ==
	    AO_ADDR_CONFLICT && (r = act(res, AO_SCAN_CONFLICT, cur,
	    AO_EV_COUNT, "", cur->email, cur->source, mem, true)) != AO_OK)
		return r;
	cur->email = use;       /* the actions above hold the address now */
	if (prev == NULL || prev->cond != cur->cond || prev->uid != cur->uid ||
	    prev->nologin != cur->nologin || strcmp(prev->key, cur->key) != 0 ||
	    strcmp(prev->email, cur->email) != 0)
		res->changed = true;
	return AO_OK;
}

/* An account kept that is gone now. */
static int
gone(const struct ao_config *cfg, struct ao_scan_result *res,
    struct ao_scan_list *cur, const struct ao_scan_acct *prev)
{
	const char *src = NULL, *now;
	char email[AO_EMAIL_MAX];
	int r;

	res->changed = true;
	if (prev->damaged)
		return AO_OK;   /* nothing known of it but a name: no verdict */
	/* no GECOS any more: identity.map (or email_domain) only */
	if (ao_identity_email(cfg, prev->name, NULL, email, sizeof(email),
	    &src) != AO_OK)
		email[0] = '\0';
	if ((now = ao_scan_keep(cur, email)) == NULL)
		return AO_ERR_NOMEM;
	if ((r = act(res, AO_SCAN_GONE, prev, AO_EV_COUNT, "", "", NULL,
	    prev->email, false)) != AO_OK)
		return r;
	return queue(cfg, res, prev, AO_EV_DELETED,
	    ao_event_name(AO_EV_DELETED), now, src, prev->email, false);
}

int
ao_scan_compare(const struct ao_config *cfg, const struct ao_scan_list *prev,
    struct ao_scan_list *cur, bool baseline, bool initial,
    struct ao_scan_result *res)
{
	size_t i = 0, j = 0;
	int r = AO_OK;

	memset(res, 0, sizeof(*res));
	res->changed = baseline;
	/* walk both sorted lists together */
	while (r == AO_OK && (i < cur->n || j < prev->n)) {
		int d = i == cur->n ? 1 : j == prev->n ? -1 :
		    strcmp(cur->v[i].name, prev->v[j].name);

		if (d < 0)
			r = present(cfg, res, &cur->v[i++], NULL, baseline,
			    initial);
		else if (d == 0)
			r = present(cfg, res, &cur->v[i++], &prev->v[j++],
			    baseline, initial);
		else
			r = gone(cfg, res, cur, &prev->v[j++]);
	}
	if (r != AO_OK)
		ao_scan_result_free(res);
	return r;
}

/* Is the share gone of kept beyond what the guard lets through? */
static bool
too_many(const struct ao_config *cfg, size_t gone, size_t kept)
{
	return gone > (size_t)cfg->max_deletions &&
	    (unsigned long long)gone * 100 >
	    (unsigned long long)cfg->max_deletions_percent * kept;
}

size_t
ao_scan_settle_gone(const struct ao_config *cfg, size_t kept,
    const bool *gone, bool confirm, struct ao_scan_result *res)
{
	const struct ao_scan_acct *dropped = NULL;
	size_t i, k = 0, o = 0, really = 0;
	bool hold;

	for (i = 0; i < res->gone; i++)
		really += gone[i];
	hold = !confirm && too_many(cfg, really, kept);
	for (i = 0; i < res->n; i++) {
		struct ao_scan_action x = res->v[i];

		if (x.what == AO_SCAN_GONE) {
			dropped = NULL;
			if (!gone[k++])
				dropped = x.acct;   /* not deleted: forgotten */
			else if (hold) {
				x.what = AO_SCAN_HELD;
				res->held++;
				dropped = x.acct;   /* nothing queued for it */
			}
		} else if (x.acct == dropped && x.what == AO_SCAN_QUEUE &&
		    x.event == AO_EV_DELETED) {
			res->queued--;
			continue;
		}
		res->v[o++] = x;
	}
	res->n = o;
	return res->held;
}

void
ao_scan_result_free(struct ao_scan_result *res)
{
	if (res == NULL)
		return;
	free(res->v);
	memset(res, 0, sizeof(*res));
}
