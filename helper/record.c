#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "record.h"
#include "reason.h"

int
ao_set(char **dst, const char *s)
{
	char *c = NULL;

	if (s != NULL && (c = strdup(s)) == NULL)
		return AO_ERR_NOMEM;
	free(*dst);
	*dst = c;
	return AO_OK;
}

int
ao_event_init(struct ao_event_rec *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->uid = -1;
	if (ao_set(&ev->user, "") || ao_set(&ev->event, "") ||
	    ao_set(&ev->episode, "") || ao_set(&ev->email, "") ||
	    ao_set(&ev->email_source, "") || ao_set(&ev->host, "") ||
	    ao_set(&ev->service, "") || ao_set(&ev->rhost, ""))
		return AO_ERR_NOMEM;
	return AO_OK;
}

void
ao_event_states_free(struct ao_event_rec *ev)
{
	size_t i;

	for (i = 0; i < ev->nstates; i++) {
		struct ao_ev_state *s = &ev->states[i];

		free(s->id);
		free(s->app_id);
		free(s->app_title);
		free(s->key);
		free(s->revocation_id);
		free(s->revocation_status);
		free(s->revocation_reason);
		free(s->error);
	}
	free(ev->states);
	ev->states = NULL;
	ev->nstates = 0;
	ev->listed = false;
}

void
ao_event_free(struct ao_event_rec *ev)
{
	if (ev == NULL)
		return;
	ao_event_states_free(ev);
	free(ev->user);
	free(ev->event);
	free(ev->episode);
	free(ev->email);
	free(ev->email_source);
	free(ev->email_unconfirmed);
	free(ev->host);
	free(ev->via);
	free(ev->covered_by);
	free(ev->service);
	free(ev->rhost);
	free(ev->person_id);
	free(ev->error);
	memset(ev, 0, sizeof(*ev));
}

const char *
ao_st_status_name(enum ao_st_status s)
{
	switch (s) {
	case AO_ST_PENDING: return "pending";
	case AO_ST_FILED:   return "filed";
	case AO_ST_EARLIER: return "filed earlier";
	case AO_ST_FAILED:  return "failed";
	case AO_ST_COVERED: return "covered";
	}
	return "?";
}

bool
ao_st_done(enum ao_st_status s)
{
	return s == AO_ST_FILED || s == AO_ST_EARLIER || s == AO_ST_COVERED;
}

void
ao_event_key(const struct ao_event_rec *ev, const char *state_id, char *out,
    size_t n)
{
	enum ao_event k = AO_EV_MANUAL;

	(void)ao_event_parse(ev->event, &k);
	if (ao_event_fleet(k))
		snprintf(out, n, "ao2-%s", state_id);
	else
		snprintf(out, n, "ao1-%s-%s", ev->id, state_id);
}

void
ao_event_filename(const struct ao_event_rec *ev, char *out, size_t n)
{
	snprintf(out, n, "%010lld-%s.json", ev->created, ev->id);
}
