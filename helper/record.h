/*
 * One event in the spool: who, what happened, and the delivery progress
 * per access state.
 *
 * Exactly-once invariant: an access state's Idempotency-Key is written to
 * the spool, durably, before the first POST for it; every later attempt,
 * after a crash or kill -9 too, resends with that key, so AccessOwl
 * executes it at most once (a duplicate gets 409, which counts as filed).
 * Progress is written after every state's outcome.
 *
 * Fleet invariant: for every event but a manual revoke the key is
 * "ao2-<state id>" and the body carries AO_REASON_FLEET, the same on every
 * host, for every kind of event: however many hosts lock, expire or delete
 * the same person at the same moment, AccessOwl executes one revocation per
 * state (for the 14 days it keeps keys; after that, and against a
 * revocation a person filed, the pending check in deliver.c).  A manual
 * revoke files as asked: "ao1-<event id>-<state id>".
 */
#ifndef AO_RECORD_H
#define AO_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#define AO_EVENT_VERSION 1

/* Room for an Idempotency-Key: "ao1-" + event id + "-" + state id + a
 * retry suffix. */
#define AO_KEY_MAX 128

enum ao_st_status {
	AO_ST_PENDING,
	AO_ST_FILED,     /* 201: created by us */
	AO_ST_EARLIER,   /* 409: AccessOwl had this key already */
	AO_ST_FAILED,    /* refused for good (4xx) */
	AO_ST_COVERED,   /* a pending revocation, filed by another host or a
	                  * person, covers it: not sent */
};

struct ao_ev_state {
	char *id;
	char *app_id;             /* may be NULL */
	char *app_title;          /* may be NULL */
	char *key;
	enum ao_st_status status;
	char *revocation_id;      /* may be NULL */
	char *revocation_status;  /* may be NULL */
	char *revocation_reason;  /* why AccessOwl rejected it; may be NULL */
	char *error;              /* may be NULL */
	/* following a revocation we filed to its end (follow.h) */
	long long checked;        /* last asked (0: never) */
	long long next_check;     /* when to ask next (0: not followed) */
	long checks;              /* how often asked */
};

struct ao_event_rec {
	char id[33];              /* 32 hex digits */
	char *user;
	long uid;                 /* -1 when unknown (deleted account) */
	char *event;              /* "locked", "expired", ... */
	char *episode;            /* episode key, "" for manual events */
	char *email;              /* "" when no identity rule matched */
	char *email_source;
	char *email_unconfirmed;  /* a differing address waiting for the
	                           * administrator (person.h); may be NULL */
	char *host;
	char *service;            /* PAM service or command, may be "" */
	char *rhost;              /* may be "" */
	long long created;        /* unix time */
	long long next_attempt;   /* unix time; 0 = now */
	long long last_attempt;
	long attempts;
	char *person_id;          /* AccessOwl user id once resolved */
	bool listed;              /* states below are the complete list */
	struct ao_ev_state *states;
	size_t nstates;
	char *error;              /* last problem, for `status` */
	long long listed_at;      /* when the states were listed (0: not) */
	/* fleet relay (relay.h); all optional in the record */
	long long forwarded;      /* a relay host: when the collector
	                           * acknowledged it (0: not forwarded) */
	long long received;       /* a collector: when ingest took it from a
	                           * relay host (0: an event of this host) */
	char *via;                /* a collector: the sender's address as
	                           * rsyslog gave it; may be NULL */
	char *covered_by;         /* id of the event whose revocations covered
	                           * this one (another host reported the same
	                           * person first); may be NULL */
};

/* Set the strings to "" and the numbers to their neutral values. */
int ao_event_init(struct ao_event_rec *ev);
void ao_event_free(struct ao_event_rec *ev);

/* Forget the states (not listed any more). */
void ao_event_states_free(struct ao_event_rec *ev);

/* Replace *dst with a copy of s (NULL stays NULL).  AO_OK/AO_ERR_NOMEM. */
int ao_set(char **dst, const char *s);

const char *ao_st_status_name(enum ao_st_status s);

/* Is the state settled (filed by us, earlier, or elsewhere)? */
bool ao_st_done(enum ao_st_status s);

/* The Idempotency-Key for state_id of ev (see the fleet invariant). */
void ao_event_key(const struct ao_event_rec *ev, const char *state_id,
    char *out, size_t n);

/* Spool file name of an event: "<created>-<id>.json". */
void ao_event_filename(const struct ao_event_rec *ev, char *out, size_t n);

#endif
