#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "err.h"
#include "log.h"
#include "retry_after.h"
#include "text.h"

/*
 * What one listing may bring in, whatever the server says: the rows kept
 * are bounded by the bytes received, which are bounded here (a hostile or
 * broken server must not make a deliverer, possibly outside its unit's
 * memory limit, allocate gigabytes).  Far above any real person's access
 * states or any real directory.
 */
struct list_limits {
	size_t max_rows;
	size_t max_bytes;
	unsigned max_pages;  /* also a guard against endless empty pages */
};
static const struct list_limits STATES_LIMITS = { 10000, 16u << 20, 1000 };
static const struct list_limits USERS_LIMITS = { 200000, 64u << 20, 10000 };
static const struct list_limits LOOKUP_LIMITS = { 1000, 8u << 20, 1 };
static const struct list_limits PENDING_LIMITS = { 10000, 16u << 20, 1000 };

void
ao_api_init(struct ao_api *api, struct ao_http *http,
    const struct ao_config *cfg)
{
	memset(api, 0, sizeof(*api));
	api->http = http;
	api->cfg = cfg;
	api->max_attempts = 5;
	api->max_waits = 5;
	api->max_wait = 120;
	api->backoff_cap_ms = 30000;
	api->sleep_ms = ao_sleep_ms;
}

void
ao_api_free(struct ao_api *api)
{
	if (api == NULL)
		return;
	ao_users_free(&api->dir);
	api->dir_loaded = false;
}

void
ao_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Attempt n (1-based) waits base*2^(n-1), capped, scaled by [0.5, 1.0). */
static long
backoff_ms(const struct ao_api *api, unsigned n)
{
	return ao_backoff(1000, api->backoff_cap_ms, n);
}

/*
 * The wait, in seconds, a 429 answer asks for, by the policy in api.h.
 * *warned: a garbage or overlong Retry-After was logged in this call
 * already (once a call is enough).
 */
static long
rate_wait(const char *method, const char *path,
    const struct ao_http_resp *resp, bool *warned)
{
	long long secs = 0;

	switch (ao_retry_after(resp->retry_after, resp->date,
	    (long long)time(NULL), &secs)) {
	case AO_RA_ABSENT:
		return AO_RETRY_AFTER_DEFAULT;
	case AO_RA_GARBAGE:
		if (!*warned)
			ao_warn("%s %s: AccessOwl answered 429 with a Retry-After "
			    "that is neither seconds nor an HTTP date (\"%s\"); "
			    "waiting %d s", method, path, resp->retry_after,
			    AO_RETRY_AFTER_DEFAULT);
		*warned = true;
		return AO_RETRY_AFTER_DEFAULT;
	case AO_RA_SECONDS:
	case AO_RA_DATE:
		break;
	}
	if (secs > AO_RETRY_AFTER_MAX) {
		if (!*warned)
			ao_warn("%s %s: AccessOwl answered 429 asking this host to "
			    "wait %lld s (Retry-After \"%s\"); holding for the "
			    "longest wait accepted, %d s", method, path, secs,
			    resp->retry_after, AO_RETRY_AFTER_MAX);
		*warned = true;
		return AO_RETRY_AFTER_MAX;
	}
	return secs < AO_RETRY_AFTER_MIN ? AO_RETRY_AFTER_MIN : (long)secs;
}

/*
 * One API call with the retry policy.  AO_OK leaves a 2xx (or, for POST,
 * a 409) response in resp; everything else is an error code, logged.
 */
/*
 * A refused answer's body, for the log: 200 bytes of it, or none when it
 * may echo our request's credentials (a TLS-intercepting proxy, or an
 * api.url pointing at something that mirrors headers): the token never
 * reaches a log.
 */
static const char *
body_for_log(const struct ao_http_resp *resp, char *buf, size_t n)
{
	const char *b = resp->body ? resp->body : "";

	if (resp->echoes_token || strcasestr(b, "bearer") != NULL ||
	    strcasestr(b, "authorization") != NULL)
		snprintf(buf, n, "(a body of %zu bytes, not logged: it may echo "
		    "the request's Authorization header; check api.url and any "
		    "proxy)", resp->len);
	else
		snprintf(buf, n, "%.200s", b);
	return buf;
}

static int
api_call(struct ao_api *api, const char *method, const char *path,
    const char *body, const char *key, struct ao_http_resp *resp)
{
	unsigned tries = 0, waits = 0;
	bool warned = false;
	int r;

	for (;;) {
		r = ao_http_request(api->http, method, path, body, key, resp);
		api->requests++;
		api->last_status = r == AO_OK ? resp->status : 0;
		if (r == AO_OK && resp->status >= 200 && resp->status < 300)
			return AO_OK;
		if (r == AO_OK && resp->status == 409 &&
		    strcmp(method, "POST") == 0)
			return AO_OK;
		if (r == AO_OK && resp->status == 429) {
			long wait = rate_wait(method, path, resp, &warned);

			api->rate_limited++;
			if (++waits > api->max_waits || wait > api->max_wait) {
				ao_warn("%s %s: rate limited by AccessOwl "
				    "(Retry-After %ld s); will try later",
				    method, path, wait);
				api->retry_after = wait;
				r = AO_ERR_RATELIMIT;
				goto fail;
			}
			/* never sooner than asked; a little later, at random,
			 * so that a fleet told the same does not come back as
			 * one */
			wait = wait * 1000 + ao_random_below(wait * 250 + 1000);
			ao_info("%s %s: rate limited; waiting %ld ms as "
			    "Retry-After asks", method, path, wait);
			ao_http_resp_free(resp);
			api->sleep_ms(wait);
			continue;
		}
		if (r == AO_OK && (resp->status == 401 || resp->status == 403)) {
			ao_err("%s %s: AccessOwl answered HTTP %ld: the token in "
			    "%s is %s; create a new API token in AccessOwl and "
			    "write it to that file", method, path, resp->status,
			    api->cfg->token_file, resp->status == 401 ?
			    "missing, invalid or revoked" :
			    "not allowed to do this");
			r = AO_ERR_AUTH;
			goto fail;
		}
		if (r == AO_OK && resp->status >= 500)
			r = AO_ERR_TEMP;
		else if (r == AO_OK) {
			char shown[256];

			/* the whole URL: with a wrong api.url (a path in
			 * it) the path alone names what was not requested */
			ao_log(api->missing_ok && (resp->status == 404 ||
			    resp->status == 405) ? LOG_DEBUG : LOG_ERR,
			    "%s %s%s: AccessOwl refused the request with HTTP "
			    "%ld: %s%s", method, api->cfg->api_url, path,
			    resp->status, body_for_log(resp, shown,
			    sizeof(shown)), resp->status == 404 &&
			    !api->missing_ok ? " (if every request gets 404, "
			    "api.url is probably wrong: it is the base URL, "
			    "e.g. https://api.accessowl.com, without a path)" :
			    "");
			r = AO_ERR_REJECTED;
			goto fail;
		}
		if (r != AO_ERR_TEMP) {
			/* TLS, oversized body, bad URL: retrying cannot help */
			ao_err("%s %s: %s%s", method, path, resp->error,
			    r == AO_ERR_TLS ? "; check api.url and api.ca_file" :
			    "");
			goto fail;
		}
		if (++tries >= api->max_attempts) {
			/* one try only (check): its caller says what to do */
			if (api->max_attempts > 1)
				ao_warn("%s %s: AccessOwl unavailable after %u "
				    "tries (%s); will try later", method, path,
				    tries, resp->status ? "server error" :
				    resp->error);
			goto fail;
		}
		{
			long ms = backoff_ms(api, tries);

			ao_info("%s %s: %s%s; retry %u in %ld ms", method, path,
			    resp->status ? "HTTP " : "", resp->status ?
			    "5xx" : resp->error, tries, ms);
			ao_http_resp_free(resp);
			api->sleep_ms(ms);
		}
	}
fail:
	ao_http_resp_free(resp);
	return r;
}

/* "path?query" built with an escaped value; caller frees. */
static char *
build_path(struct ao_api *api, const char *fmt_prefix, const char *value,
    const struct ao_page *prev)
{
	char *esc = NULL, *out = NULL, *cur = NULL;
	size_t n;

	if (value != NULL && (esc = ao_http_escape(api->http, value)) == NULL)
		return NULL;
	if (prev != NULL && prev->next_cursor != NULL &&
	    (cur = ao_http_escape(api->http, prev->next_cursor)) == NULL)
		goto out;
	n = strlen(fmt_prefix) + (esc ? strlen(esc) : 0) +
	    (cur ? strlen(cur) : 0) + 64;
	if ((out = malloc(n)) == NULL)
		goto out;
	snprintf(out, n, "%s%s%s%s", fmt_prefix, esc ? esc : "",
	    cur ? "&cursor=" : "", cur ? cur : "");
	if (cur == NULL && prev != NULL && prev->page > 0) {
		size_t l = strlen(out);

		snprintf(out + l, n - l, "&page=%ld", prev->page + 1);
	}
out:
	free(esc);
	free(cur);
	return out;
}

/* Is there another page after prev?  Guards against loops. */
static int
more_pages(const struct ao_page *prev, const char *last_cursor, const char *what)
{
	if (prev->next_cursor != NULL) {
		if (last_cursor != NULL && strcmp(last_cursor,
		    prev->next_cursor) == 0) {
			ao_err("%s: the server repeated a page cursor", what);
			return -1;
		}
		return 1;
	}
	return prev->page > 0 && prev->page < prev->total_pages &&
	    prev->rows > 0;
}

typedef int (*page_parser)(const char *, size_t, void *, struct ao_page *);

static int
parse_users(const char *b, size_t l, void *dst, struct ao_page *p)
{
	return ao_json_users_page(b, l, dst, p);
}

static int
parse_states(const char *b, size_t l, void *dst, struct ao_page *p)
{
	return ao_json_states_page(b, l, dst, p);
}

static int
parse_revocations(const char *b, size_t l, void *dst, struct ao_page *p)
{
	return ao_json_revocations_page(b, l, dst, p);
}

/*
 * GET every page of a list (only the first with first_only): prefix ends in
 * "...=" for value (or is whole).  At most lim rows and bytes in all.
 */
static int
get_all(struct ao_api *api, const char *prefix, const char *value,
    page_parser parse, void *dst, const char *what,
    const struct list_limits *lim, bool first_only)
{
	struct ao_page page = { 0 };
	struct ao_http_resp resp = { 0 };
	char *path = NULL, *last = NULL;
	size_t rows = 0, bytes = 0;
	unsigned pages = 0;
	int r, more = 0;

	do {
		free(path);
		path = build_path(api, prefix, value, pages ? &page : NULL);
		free(last);
		last = page.next_cursor;
		page.next_cursor = NULL;
		if (path == NULL) {
			r = AO_ERR_NOMEM;
			goto out;
		}
		if ((r = api_call(api, "GET", path, NULL, NULL, &resp)) != AO_OK)
			goto out;
		bytes += resp.len;
		if (bytes > lim->max_bytes) {
			ao_http_resp_free(&resp);
			ao_err("%s: AccessOwl sent more than %zu MiB; refusing "
			    "the answer (bounded to protect this host)", what,
			    lim->max_bytes >> 20);
			r = AO_ERR_DATA;
			goto out;
		}
		r = parse(resp.body, resp.len, dst, &page);
		ao_http_resp_free(&resp);
		if (r != AO_OK) {
			ao_err("%s: AccessOwl sent a response that is not the "
			    "expected JSON", what);
			goto out;
		}
		if (page.skipped)
			ao_warn("%s: left out %zu malformed rows", what,
			    page.skipped);
		rows += page.rows;
		if (rows > lim->max_rows) {
			ao_err("%s: AccessOwl sent more than %zu rows; refusing "
			    "the answer (bounded to protect this host)", what,
			    lim->max_rows);
			r = AO_ERR_DATA;
			goto out;
		}
		if (first_only)
			break;
		if ((more = more_pages(&page, last, what)) < 0) {
			r = AO_ERR_DATA;
			goto out;
		}
		if (more && ++pages >= lim->max_pages) {
			ao_err("%s: more than %u pages; refusing the answer",
			    what, lim->max_pages);
			r = AO_ERR_DATA;
			goto out;
		}
	} while (more);
	r = AO_OK;
out:
	ao_page_free(&page);
	free(path);
	free(last);
	return r;
}

/* Rows of u whose e-mail equals email; *idx the last such row. */
static size_t
count_matches(const struct ao_users *u, const char *email, size_t *idx)
{
	size_t i, n = 0;

	for (i = 0; i < u->n; i++)
		if (ao_streq_ci(u->v[i].email, email)) {
			n++;
			*idx = i;
		}
	return n;
}

int
ao_api_find_person(struct ao_api *api, const char *email, char **user_id)
{
	struct ao_users found = { 0 };
	const struct ao_users *from = &found;
	size_t n, idx = 0;
	int r;

	*user_id = NULL;
	r = get_all(api, "/api/v1/users?status=all&limit=100&email=", email,
	    parse_users, &found, "looking up the person", &LOOKUP_LIMITS, true);
	if (r != AO_OK)
		goto out;
	n = count_matches(&found, email, &idx);
	if (n != found.n) {
		/* the server ignored the filter: page the whole directory */
		ao_debug("the e-mail filter was ignored; paging the directory");
		if (!api->dir_loaded) {
			r = get_all(api, "/api/v1/users?status=all&limit=100",
			    NULL, parse_users, &api->dir,
			    "paging the AccessOwl directory", &USERS_LIMITS,
			    false);
			if (r != AO_OK)
				goto out;
			api->dir_loaded = true;
		}
		from = &api->dir;
		n = count_matches(from, email, &idx);
	}
	if (n == 0) {
		ao_err("no AccessOwl person has the e-mail address %s; map the "
		    "account in identity.map if the address differs", email);
		r = AO_ERR_NOTFOUND;
	} else if (n > 1) {
		ao_err("%zu AccessOwl people have the e-mail address %s; "
		    "refusing to guess", n, email);
		r = AO_ERR_AMBIGUOUS;
	} else if ((*user_id = strdup(from->v[idx].id)) == NULL) {
		r = AO_ERR_NOMEM;
	}
out:
	ao_users_free(&found);
	return r;
}

static bool
in_scope(const struct ao_config *cfg, const struct ao_state *s)
{
	if (cfg->applications.n == 0)
		return true;
	return s->application_id != NULL &&
	    ao_strlist_has(&cfg->applications, s->application_id);
}

int
ao_api_active_states(struct ao_api *api, const char *user_id,
    struct ao_states *out)
{
	struct ao_states all = { 0 };
	size_t i, missing = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = get_all(api, "/api/v1/access_states?expand=application&limit=100"
	    "&grantee_user_id=", user_id, parse_states, &all,
	    "listing access states", &STATES_LIMITS, false);
	if (r != AO_OK)
		goto out;
	/* keep the matching rows: move them into out, free the rest */
	for (i = 0; i < all.n; i++) {
		struct ao_state *s = &all.v[i];

		if (s->end_missing)
			missing++;
		if (!s->active || s->grantee_user_id == NULL ||
		    strcmp(s->grantee_user_id, user_id) != 0 ||
		    !in_scope(api->cfg, s))
			continue;
		if (out->n == out->cap) {
			size_t nc = out->cap ? out->cap * 2 : 8;
			struct ao_state *nv = reallocarray(out->v, nc,
			    sizeof(*nv));

			if (nv == NULL) {
				ao_states_free(out);
				r = AO_ERR_NOMEM;
				goto out;
			}
			out->v = nv;
			out->cap = nc;
		}
		out->v[out->n++] = *s;
		memset(s, 0, sizeof(*s));
	}
	if (missing)
		ao_warn("%zu access states had no effective_end field; they "
		    "were treated as ended", missing);
	r = AO_OK;
out:
	ao_states_free(&all);
	return r;
}

int
ao_api_pending_revocations(struct ao_api *api, const char *user_id,
    struct ao_revocations *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	api->missing_ok = true;
	r = get_all(api, "/api/v1/access_revocations?status=processing_access"
	    "&limit=100&user_id=", user_id, parse_revocations, out,
	    "listing pending revocations", &PENDING_LIMITS, false);
	api->missing_ok = false;
	if (r == AO_ERR_REJECTED && (api->last_status == 404 ||
	    api->last_status == 405)) {
		ao_debug("this AccessOwl has no list of revocations: states "
		    "are filed with their fleet-wide keys alone");
		r = AO_ERR_NOTFOUND;
	}
	if (r != AO_OK)
		ao_revocations_free(out);
	return r;
}

static bool
same_id(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Do two id sets hold the same ids (as sets)? */
static bool
same_ids(const struct ao_ids *a, const struct ao_ids *b)
{
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n && strcmp(a->v[i], b->v[j]) != 0; j++)
			;
		if (j == b->n)
			return false;
	}
	for (j = 0; j < b->n; j++) {
		for (i = 0; i < a->n && strcmp(a->v[i], b->v[j]) != 0; i++)
			;
		if (i == a->n)
			return false;
	}
	return true;
}

/* Does pending revocation v match state s of the person? */
static bool
matches(const struct ao_revocation *v, const struct ao_state *s,
    const char *user_id)
{
	return !s->odd && s->application_id != NULL && v->status != NULL &&
	    strcmp(v->status, "processing_access") == 0 &&
	    same_id(v->grantee_user_id, user_id) &&
	    same_id(v->application_id, s->application_id) &&
	    same_id(v->resource_id, s->resource_id) &&
	    same_ids(&v->perms, &s->perms);
}

const struct ao_revocation *
ao_state_covered(const struct ao_states *states, size_t idx,
    const char *user_id, const struct ao_revocations *revs)
{
	size_t i, j, n;

	if (user_id == NULL || idx >= states->n)
		return NULL;
	for (i = 0; i < revs->n; i++) {
		if (!matches(&revs->v[i], &states->v[idx], user_id))
			continue;
		/* a revocation names no state: it covers one only when no
		 * other of the person's states looks the same */
		for (j = 0, n = 0; j < states->n; j++)
			n += matches(&revs->v[i], &states->v[j], user_id);
		if (n == 1)
			return &revs->v[i];
	}
	return NULL;
}

int
ao_api_file_revocation(struct ao_api *api, const char *state_id,
    const char *reason, const char *idem_key, enum ao_file_result *res,
    struct ao_revocation *rev)
{
	struct ao_http_resp resp = { 0 };
	char *body;
	int r;

	memset(rev, 0, sizeof(*rev));
	if ((body = ao_json_revocation_body(state_id, reason)) == NULL)
		return AO_ERR_NOMEM;
	r = api_call(api, "POST", "/api/v1/access_revocations", body, idem_key,
	    &resp);
	free(body);
	if (r != AO_OK)
		return r;
	if (resp.status == 409) {
		*res = AO_FILED_EARLIER;
	} else {
		*res = AO_FILED_NEW;
		if (ao_json_revocation(resp.body, resp.len, rev) != AO_OK)
			ao_warn("revocation of state %s was accepted (HTTP %ld) "
			    "but the answer was not a revocation record",
			    state_id, resp.status);
	}
	ao_http_resp_free(&resp);
	return AO_OK;
}

int
ao_api_get_revocation(struct ao_api *api, const char *id,
    struct ao_revocation *out)
{
	struct ao_http_resp resp = { 0 };
	char path[64 + AO_ID_MAX];
	bool saved = api->missing_ok;
	int r;

	memset(out, 0, sizeof(*out));
	if (!ao_id_valid(id))
		return AO_ERR_DATA;
	snprintf(path, sizeof(path), "/api/v1/access_revocations/%s", id);
	api->missing_ok = true;
	r = api_call(api, "GET", path, NULL, NULL, &resp);
	api->missing_ok = saved;
	if (r == AO_ERR_REJECTED && (api->last_status == 404 ||
	    api->last_status == 405))
		return AO_ERR_NOTFOUND;
	if (r != AO_OK)
		return r;
	r = ao_json_revocation(resp.body, resp.len, out);
	ao_http_resp_free(&resp);
	if (r == AO_OK && (strcmp(out->id, id) != 0 || out->status == NULL)) {
		ao_err("GET %s: the answer is another revocation, or has no "
		    "status", path);
		ao_revocation_free(out);
		r = AO_ERR_DATA;
	}
	return r;
}

int
ao_api_ping(struct ao_api *api, long *status)
{
	struct ao_http_resp resp = { 0 };
	unsigned saved = api->max_attempts, savedw = api->max_waits;
	int r;

	api->max_attempts = 1;
	api->max_waits = 0;
	r = api_call(api, "GET", "/api/v1/users?limit=1", NULL, NULL, &resp);
	*status = resp.status;
	/* one try, no later: say what to check, not "will try later" */
	if (r == AO_ERR_TEMP && resp.status == 0)
		ao_err("cannot reach %s: %s; check api.url (host and port), "
		    "DNS and the firewall", api->cfg->api_url, resp.error);
	else if (r == AO_ERR_TEMP)
		ao_err("%s answered HTTP %ld: AccessOwl is having trouble, or "
		    "api.url points at something that is not AccessOwl",
		    api->cfg->api_url, resp.status);
	else if (r == AO_ERR_RATELIMIT)
		ao_err("%s answered 429: the token's budget is spent for now "
		    "(Retry-After %ld s)", api->cfg->api_url, api->retry_after);
	api->max_attempts = saved;
	api->max_waits = savedw;
	ao_http_resp_free(&resp);
	return r;
}
