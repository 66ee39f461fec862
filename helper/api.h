/*
 * The AccessOwl flow (the README, "The helper" and "Fleets"):
 * person by e-mail -> active access states -> one revocation per state.
 *
 * Retry policy, in one place (api_call): 5xx, timeouts and connection
 * errors are retried with capped, jittered exponential backoff; 429 waits
 * Retry-After (bounded by max_wait, else AO_ERR_RATELIMIT); 401/403 are
 * AO_ERR_AUTH and other 4xx AO_ERR_REJECTED, never retried.  Decisions are
 * made on status codes only; error bodies are logged, sanitized, never
 * parsed.
 *
 * What a 429 asks for (retry_after.h parses it): seconds or an HTTP-date
 * (relative to the server's Date header); absent or garbage (a warning,
 * once a call) is AO_RETRY_AFTER_DEFAULT; never less than
 * AO_RETRY_AFTER_MIN, so that 0 is no tight loop; more than
 * AO_RETRY_AFTER_MAX is that (a warning): the call ends, and the caller
 * holds the whole host (deliver.c, follow.c) for api->retry_after.  At
 * most max_waits waits a call, each at most max_wait.
 */
#ifndef AO_API_H
#define AO_API_H

#include <stdbool.h>

#include "config.h"
#include "http.h"
#include "api_json.h"

struct ao_api {
	struct ao_http *http;
	const struct ao_config *cfg;
	unsigned max_attempts;   /* tries per request for 5xx/transport */
	unsigned max_waits;      /* 429 waits per request */
	long max_wait;           /* longest Retry-After we sleep, seconds */
	long backoff_cap_ms;
	unsigned requests;       /* sent this run (budget: 1,000/hour) */
	unsigned rate_limited;   /* 429 answers this run */
	long last_status;        /* HTTP status of the last answer, 0: none */
	long retry_after;        /* the wait AccessOwl asked for when a call
	                          * ended in AO_ERR_RATELIMIT, seconds */
	bool missing_ok;         /* a 404/405 answer is expected: not an
	                          * error worth a log line */
	struct ao_users dir;     /* directory cache for the paging fallback */
	bool dir_loaded;
	void (*sleep_ms)(long ms); /* how the client waits: ao_sleep_ms (a
	                            * test may count the waits instead) */
};

/* Defaults for the policy fields; http and cfg are borrowed. */
void ao_api_init(struct ao_api *api, struct ao_http *http,
    const struct ao_config *cfg);
void ao_api_free(struct ao_api *api);

/*
 * The AccessOwl user id for an e-mail address (case-insensitive match,
 * checked here even when the server filtered).  *user_id set on success;
 * caller frees.  AO_ERR_NOTFOUND, AO_ERR_AMBIGUOUS, or a transport error.
 */
int ao_api_find_person(struct ao_api *api, const char *email,
    char **user_id);

/*
 * The person's active access states (effective_end null, grantee matches,
 * in scope.applications when that is set), every page.  out is cleared on
 * entry and filled only on success.
 */
int ao_api_active_states(struct ao_api *api, const char *user_id,
    struct ao_states *out);

enum ao_file_result {
	AO_FILED_NEW,       /* 200/201: created now */
	AO_FILED_EARLIER,   /* 409: this key was received before */
};

/*
 * POST one revocation with idem_key (the same key on every retry).  On
 * AO_OK, *res says how; rev holds the server's record for AO_FILED_NEW
 * (fields may be NULL if the body was not parseable).
 */
int ao_api_file_revocation(struct ao_api *api, const char *state_id,
    const char *reason, const char *idem_key, enum ao_file_result *res,
    struct ao_revocation *rev);

/*
 * The person's revocations still being processed (GET
 * /access_revocations?user_id=...&status=processing_access, every page),
 * filed by any host or by a person.  AO_ERR_NOTFOUND when the server has
 * no such listing (older deployments: 404 or 405); out is cleared on
 * entry and filled only on success.
 */
int ao_api_pending_revocations(struct ao_api *api, const char *user_id,
    struct ao_revocations *out);

/*
 * The pending revocation in revs that covers states->v[idx], a state of
 * person user_id, or NULL.  A revocation covers a state when both belong to
 * the person and name the same application, the same resource (or none)
 * and the same set of permissions (a revocation always takes the whole
 * state), and no other of the person's states matches it as well: a
 * revocation does not name its state.  Anything unknown, unreadable or
 * ambiguous covers nothing: in doubt a state is filed (a duplicate is an
 * annoyance, a state left out is access that stays).
 */
const struct ao_revocation *ao_state_covered(const struct ao_states *states,
    size_t idx, const char *user_id, const struct ao_revocations *revs);

/*
 * One revocation as it stands now (GET /access_revocations/{id}): its
 * status and, when rejected, the reason if AccessOwl gives one.
 * AO_ERR_NOTFOUND when the server has no such revocation or no such
 * endpoint (404, 405: not logged as an error).
 */
int ao_api_get_revocation(struct ao_api *api, const char *id,
    struct ao_revocation *out);

/* Sleep ms milliseconds (EINTR resumes): how the client paces itself. */
void ao_sleep_ms(long ms);

/* One cheap authenticated GET, no retries, for `check`. */
int ao_api_ping(struct ao_api *api, long *status);

#endif
