#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_json.h"
#include "err.h"
#include "event.h"
#include "record.h"
#include "spool_json.h"
#include "text.h"

static int
add_str(json_object *o, const char *k, const char *v)
{
	json_object *s = v ? json_object_new_string(v) : NULL;

	if (v != NULL && s == NULL)
		return -1;
	return json_object_object_add(o, k, s);
}

/*
 * Free text that came from a server or a person (an application's title,
 * a rejection's reason, an error): kept as what is useful for people, at
 * most max bytes, cut on a UTF-8 boundary and with control bytes
 * replaced, so that an event can always be read back (spool.h).
 */
static int
add_text(json_object *o, const char *k, const char *v, size_t max)
{
	char buf[AO_TEXT_KEPT_MAX + 1];

	if (v == NULL)
		return add_str(o, k, NULL);
	if (max > AO_TEXT_KEPT_MAX)
		max = AO_TEXT_KEPT_MAX;
	ao_sanitize(buf, max + 1, v);
	return add_str(o, k, buf);
}

static int
add_int(json_object *o, const char *k, long long v)
{
	json_object *i = json_object_new_int64(v);

	return i ? json_object_object_add(o, k, i) : -1;
}

static json_object *
event_obj(const struct ao_event_rec *ev)
{
	json_object *o = json_object_new_object(), *arr = NULL;
	size_t i;
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= add_int(o, "version", AO_EVENT_VERSION);
	bad |= add_str(o, "id", ev->id);
	bad |= add_str(o, "user", ev->user);
	bad |= add_int(o, "uid", ev->uid);
	bad |= add_str(o, "event", ev->event);
	bad |= add_str(o, "episode", ev->episode);
	bad |= add_str(o, "email", ev->email);
	bad |= add_str(o, "email_source", ev->email_source);
	if (ev->email_unconfirmed != NULL)
		bad |= add_str(o, "email_unconfirmed", ev->email_unconfirmed);
	bad |= add_str(o, "host", ev->host);
	bad |= add_str(o, "service", ev->service);
	bad |= add_str(o, "rhost", ev->rhost);
	bad |= add_int(o, "created", ev->created);
	bad |= add_int(o, "next_attempt", ev->next_attempt);
	bad |= add_int(o, "last_attempt", ev->last_attempt);
	bad |= add_int(o, "attempts", ev->attempts);
	bad |= add_str(o, "person_id", ev->person_id);
	bad |= json_object_object_add(o, "listed",
	    json_object_new_boolean(ev->listed));
	bad |= add_text(o, "error", ev->error, AO_ERROR_KEPT_MAX);
	/* optional: only where they mean something */
	if (ev->listed_at > 0)
		bad |= add_int(o, "listed_at", ev->listed_at);
	if (ev->forwarded > 0)
		bad |= add_int(o, "forwarded", ev->forwarded);
	if (ev->received > 0)
		bad |= add_int(o, "received", ev->received);
	if (ev->via != NULL)
		bad |= add_str(o, "via", ev->via);
	if (ev->covered_by != NULL)
		bad |= add_str(o, "covered_by", ev->covered_by);
	if ((arr = json_object_new_array()) == NULL ||
	    json_object_object_add(o, "states", arr) != 0) {
		json_object_put(arr);
		bad = 1;
	}
	for (i = 0; !bad && i < ev->nstates; i++) {
		const struct ao_ev_state *s = &ev->states[i];
		json_object *so = json_object_new_object();

		if (so == NULL || json_object_array_add(arr, so) != 0) {
			json_object_put(so);
			bad = 1;
			break;
		}
		bad |= add_str(so, "id", s->id);
		bad |= add_str(so, "application_id", s->app_id);
		bad |= add_text(so, "application_title", s->app_title,
		    AO_TITLE_KEPT_MAX);
		bad |= add_str(so, "idempotency_key", s->key);
		bad |= add_str(so, "status", ao_st_status_name(s->status));
		bad |= add_str(so, "revocation_id", s->revocation_id);
		bad |= add_str(so, "revocation_status", s->revocation_status);
		if (s->revocation_reason != NULL)
			bad |= add_text(so, "revocation_reason",
			    s->revocation_reason, AO_REASON_KEPT_MAX);
		bad |= add_text(so, "error", s->error, AO_ERROR_KEPT_MAX);
		if (s->checked > 0)
			bad |= add_int(so, "checked", s->checked);
		if (s->next_check > 0)
			bad |= add_int(so, "next_check", s->next_check);
		if (s->checks > 0)
			bad |= add_int(so, "checks", s->checks);
	}
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int
to_text(json_object *o, int flags, char **out)
{
	const char *t = json_object_to_json_string_ext(o, flags |
	    JSON_C_TO_STRING_NOSLASHESCAPE);

	*out = t ? strdup(t) : NULL;
	json_object_put(o);
	return *out ? AO_OK : AO_ERR_NOMEM;
}

int
ao_spool_json_dump(const struct ao_event_rec *ev, char **out)
{
	json_object *o = event_obj(ev);

	*out = NULL;
	if (o == NULL)
		return AO_ERR_NOMEM;
	return to_text(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, out);
}

/* {"queue", "file", "damaged"}: a spool file that is no event. */
static json_object *
damaged_obj(const struct ao_spool_damaged *x)
{
	json_object *o = json_object_new_object();

	if (o != NULL && (add_str(o, "queue", ao_queue_name(x->q)) != 0 ||
	    add_str(o, "file", x->name) != 0 ||
	    add_str(o, "damaged", x->why) != 0)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

int
ao_spool_json_status(const struct ao_event_rec *evs, const char **where,
    size_t n, const struct ao_spool_damaged *d, size_t nd, char **out)
{
	json_object *arr = json_object_new_array();
	size_t i;

	*out = NULL;
	if (arr == NULL)
		return AO_ERR_NOMEM;
	for (i = 0; i < n + nd; i++) {
		json_object *o = i < n ? event_obj(&evs[i]) :
		    damaged_obj(&d[i - n]);

		if (o == NULL || (i < n && add_str(o, "queue", where[i]) != 0) ||
		    json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			json_object_put(arr);
			return AO_ERR_NOMEM;
		}
	}
	return to_text(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED,
	    out);
}

/* Required string field; "" allowed. */
static int
load_str(json_object *o, const char *k, char **dst, bool nullable)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		return nullable ? AO_OK : AO_ERR_DATA;
	if (json_object_is_type(v, json_type_null))
		return nullable ? ao_set(dst, NULL) : AO_ERR_DATA;
	if (!json_object_is_type(v, json_type_string))
		return AO_ERR_DATA;
	return ao_set(dst, json_object_get_string(v));
}

static int
load_int(json_object *o, const char *k, long long *dst)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_int))
		return AO_ERR_DATA;
	*dst = json_object_get_int64(v);
	return AO_OK;
}

/* Optional integer field: 0 when absent. */
static int
load_int_opt(json_object *o, const char *k, long long *dst)
{
	*dst = 0;
	return json_object_object_get_ex(o, k, NULL) ? load_int(o, k, dst) :
	    AO_OK;
}

static int
load_state(json_object *so, struct ao_ev_state *s)
{
	long long checks = 0;
	char *status = NULL;
	int r;

	if (!json_object_is_type(so, json_type_object))
		return AO_ERR_DATA;
	if ((r = load_str(so, "id", &s->id, false)) ||
	    (r = load_str(so, "application_id", &s->app_id, true)) ||
	    (r = load_str(so, "application_title", &s->app_title, true)) ||
	    (r = load_str(so, "idempotency_key", &s->key, false)) ||
	    (r = load_str(so, "revocation_id", &s->revocation_id, true)) ||
	    (r = load_str(so, "revocation_status", &s->revocation_status, true)) ||
	    (r = load_str(so, "revocation_reason", &s->revocation_reason,
	    true)) ||
	    (r = load_str(so, "error", &s->error, true)) ||
	    (r = load_str(so, "status", &status, false)) ||
	    (r = load_int_opt(so, "checked", &s->checked)) ||
	    (r = load_int_opt(so, "next_check", &s->next_check)) ||
	    (r = load_int_opt(so, "checks", &checks)))
		goto out;
	s->checks = (long)checks;
	r = AO_ERR_DATA;
	if (!ao_id_valid(s->id) || strlen(s->key) == 0 || strlen(s->key) > 255)
		goto out;
	if (strcmp(status, "pending") == 0)
		s->status = AO_ST_PENDING;
	else if (strcmp(status, "filed") == 0)
		s->status = AO_ST_FILED;
	else if (strcmp(status, "filed earlier") == 0)
		s->status = AO_ST_EARLIER;
	else if (strcmp(status, "failed") == 0)
		s->status = AO_ST_FAILED;
	else if (strcmp(status, "covered") == 0)
		s->status = AO_ST_COVERED;
	else
		goto out;
	r = AO_OK;
out:
	free(status);
	return r;
}

/* Say why a record is refused, when the caller asked. */
static void __attribute__((format(printf, 3, 4)))
set_why(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

int
ao_spool_json_load(const char *buf, size_t len, struct ao_event_rec *ev,
    char *why, size_t whysz)
{
	json_object *o = ao_json_parse(buf, len), *v, *arr;
	long long ver = 0, uid = 0, attempts = 0;
	enum ao_event evk;
	char *id = NULL;
	size_t i, n;
	int r = AO_ERR_DATA;

	set_why(why, whysz, "a malformed record (a field missing, of the "
	    "wrong type or invalid)");
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		set_why(why, whysz, "not a JSON object (cut short, or not "
		    "written by pam_accessowl)");
		goto out;
	}
	if (load_int(o, "version", &ver))
		goto out;
	if (ver != AO_EVENT_VERSION) {
		set_why(why, whysz, "a record of version %lld, %s (this one "
		    "reads version %d)", ver, ver > AO_EVENT_VERSION ?
		    "written by a newer pam_accessowl: upgrade this host" :
		    "which no version writes", AO_EVENT_VERSION);
		goto out;
	}
	if ((r = load_str(o, "id", &id, false)) ||
	    (r = load_str(o, "user", &ev->user, false)) ||
	    (r = load_str(o, "event", &ev->event, false)) ||
	    (r = load_str(o, "episode", &ev->episode, false)) ||
	    (r = load_str(o, "email", &ev->email, false)) ||
	    (r = load_str(o, "email_source", &ev->email_source, false)) ||
	    (r = load_str(o, "email_unconfirmed", &ev->email_unconfirmed,
	    true)) ||
	    (r = load_str(o, "host", &ev->host, false)) ||
	    (r = load_str(o, "service", &ev->service, false)) ||
	    (r = load_str(o, "rhost", &ev->rhost, false)) ||
	    (r = load_str(o, "person_id", &ev->person_id, true)) ||
	    (r = load_str(o, "error", &ev->error, true)) ||
	    (r = load_int(o, "uid", &uid)) ||
	    (r = load_int(o, "created", &ev->created)) ||
	    (r = load_int(o, "next_attempt", &ev->next_attempt)) ||
	    (r = load_int(o, "last_attempt", &ev->last_attempt)) ||
	    (r = load_int(o, "attempts", &attempts)) ||
	    (r = load_int_opt(o, "listed_at", &ev->listed_at)) ||
	    (r = load_int_opt(o, "forwarded", &ev->forwarded)) ||
	    (r = load_int_opt(o, "received", &ev->received)) ||
	    (r = load_str(o, "via", &ev->via, true)) ||
	    (r = load_str(o, "covered_by", &ev->covered_by, true)))
		goto out;
	r = AO_ERR_DATA;
	if (ev->covered_by != NULL && (strlen(ev->covered_by) != 32 ||
	    strspn(ev->covered_by, "0123456789abcdef") != 32))
		goto out;
	if (strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32 ||
	    ao_event_parse(ev->event, &evk) != AO_OK)
		goto out;
	memcpy(ev->id, id, 33);
	ev->uid = (long)uid;
	ev->attempts = (long)attempts;
	if (ev->person_id != NULL && !ao_id_valid(ev->person_id))
		goto out;
	if (!json_object_object_get_ex(o, "listed", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		goto out;
	ev->listed = json_object_get_boolean(v);
	if (!json_object_object_get_ex(o, "states", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		goto out;
	n = json_object_array_length(arr);
	if (n > 0 && (ev->states = calloc(n, sizeof(*ev->states))) == NULL) {
		r = AO_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		ev->nstates++;
		if ((r = load_state(json_object_array_get_idx(arr, i),
		    &ev->states[i])) != AO_OK)
			goto out;
	}
	r = AO_OK;
out:
	if (r != AO_ERR_DATA)
		set_why(why, whysz, "%s", "");
	free(id);
	json_object_put(o);
	return r;
}
