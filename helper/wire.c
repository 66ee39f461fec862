#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "account.h"
#include "api_json.h"
#include "err.h"
#include "event.h"
#include "identity.h"
#include "log.h"
#include "text.h"
#include "wire.h"

/* syslog facility authpriv (10), severity notice (5) */
#define WIRE_PRI 85

/* created: from 2001 to a day ahead of the collector's clock */
#define CREATED_MIN 1000000000LL
#define CREATED_AHEAD 86400LL

bool
ao_wire_host_ok(const char *host)
{
	size_t n = 0;

	if (host == NULL || !((*host >= 'a' && *host <= 'z') ||
	    (*host >= 'A' && *host <= 'Z') || (*host >= '0' && *host <= '9')))
		return false;
	for (; *host; host++, n++) {
		char c = *host;

		if (n >= AO_HOST_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* Printable ASCII of at most AO_WIRE_TEXT_MAX bytes ("" allowed). */
static bool
text_ok(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (n >= AO_WIRE_TEXT_MAX || *s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static bool
id_ok(const char *id)
{
	return strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32;
}

static int
add_str(json_object *o, const char *k, const char *v)
{
	json_object *s = json_object_new_string(v ? v : "");

	return s ? json_object_object_add(o, k, s) : -1;
}

static int
add_int(json_object *o, const char *k, long long v)
{
	json_object *i = json_object_new_int64(v);

	return i ? json_object_object_add(o, k, i) : -1;
}

int
ao_wire_encode(const struct ao_event_rec *ev, long long now, char **out,
    size_t *len)
{
	char service[AO_WIRE_TEXT_MAX + 1], rhost[AO_WIRE_TEXT_MAX + 1];
	char stamp[32];
	json_object *o;
	const char *js;
	struct tm tm;
	time_t t = (time_t)now;
	enum ao_event k;
	int bad = 0, n;

	*out = NULL;
	*len = 0;
	/* what the collector would refuse is not sent: said here, once */
	if (!ao_wire_host_ok(ev->host)) {
		ao_err("event %s: this host's name \"%s\" cannot be reported to "
		    "the collector (letters, digits, '.', '-' and '_', at most "
		    "%d): set a plain host name", ev->id, ev->host, AO_HOST_MAX);
		return AO_ERR_DATA;
	}
	if (!ao_email_ok(ev->email) || ao_event_parse(ev->event, &k) != AO_OK ||
	    !ao_username_ok(ev->user) || !text_ok(ev->email_source)) {
		ao_err("event %s (account %s) cannot be forwarded: its account "
		    "name, event or address is not valid", ev->id, ev->user);
		return AO_ERR_DATA;
	}
	/* what a PAM service calls itself is only for people to read */
	ao_sanitize(service, sizeof(service), ev->service);
	ao_sanitize(rhost, sizeof(rhost), ev->rhost);
	if ((o = json_object_new_object()) == NULL)
		return AO_ERR_NOMEM;
	bad |= add_int(o, "accessowl", AO_WIRE_VERSION);
	bad |= add_str(o, "id", ev->id);
	bad |= add_str(o, "host", ev->host);
	bad |= add_str(o, "user", ev->user);
	bad |= add_int(o, "uid", ev->uid);
	bad |= add_str(o, "event", ev->event);
	bad |= add_str(o, "email", ev->email);
	bad |= add_str(o, "email_source", ev->email_source);
	bad |= add_int(o, "created", ev->created);
	bad |= add_str(o, "service", service);
	bad |= add_str(o, "rhost", rhost);
	js = bad ? NULL : json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (js == NULL || gmtime_r(&t, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		json_object_put(o);
		return AO_ERR_NOMEM;
	}
	n = asprintf(out, "<%d>1 %s %s accessowl - event - %s", WIRE_PRI,
	    stamp, ev->host, js);
	json_object_put(o);
	if (n < 0) {
		*out = NULL;
		return AO_ERR_NOMEM;
	}
	if ((size_t)n > AO_WIRE_MAX) {
		free(*out);
		*out = NULL;
		ao_err("event %s is too big to forward (%d bytes)", ev->id, n);
		return AO_ERR_DATA;
	}
	*len = (size_t)n;
	return AO_OK;
}

static int __attribute__((format(printf, 3, 4)))
refuse(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return AO_ERR_DATA;
}

static bool
get_int(json_object *o, const char *k, long long *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static int
decode(json_object *o, struct ao_event_rec *ev, char *why, size_t whysz)
{
	static const char *const strs[] = { "id", "host", "user", "event",
		"email", "email_source", "service", "rhost" };
	const char *v[sizeof(strs) / sizeof(strs[0])];
	long long ver, uid, created;
	enum ao_event k;
	size_t i;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return refuse(why, whysz, "not a JSON object");
	if (!get_int(o, "accessowl", &ver))
		return refuse(why, whysz, "not an accessowl event (no "
		    "\"accessowl\" version)");
	if (ver != AO_WIRE_VERSION)
		return refuse(why, whysz, "format version %lld; this collector "
		    "reads version %d: upgrade it before its hosts", ver,
		    AO_WIRE_VERSION);
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if ((v[i] = ao_json_str(o, strs[i])) == NULL)
			return refuse(why, whysz, "\"%s\" is missing, not a "
			    "string, or holds a NUL", strs[i]);
	if (!get_int(o, "uid", &uid) || uid < -1 || uid > 4294967294LL)
		return refuse(why, whysz, "\"uid\" is missing or out of range");
	if (!get_int(o, "created", &created))
		return refuse(why, whysz, "\"created\" is missing or not a "
		    "number");
	if (!id_ok(v[0]))
		return refuse(why, whysz, "\"id\" is not 32 hex digits");
	if (!ao_wire_host_ok(v[1]))
		return refuse(why, whysz, "\"host\" is not a host name");
	if (!ao_username_ok(v[2]))
		return refuse(why, whysz, "\"user\" is not an account name");
	if (ao_event_parse(v[3], &k) != AO_OK)
		return refuse(why, whysz, "\"event\" is not one of %s",
		    ao_event_choices());
	if (!ao_email_ok(v[4]))
		return refuse(why, whysz, "\"email\" is not an e-mail address");
	if (!text_ok(v[5]) || !text_ok(v[6]) || !text_ok(v[7]))
		return refuse(why, whysz, "\"email_source\", \"service\" or "
		    "\"rhost\" is not printable text of at most %d bytes",
		    AO_WIRE_TEXT_MAX);
	if (created < CREATED_MIN ||
	    created > (long long)time(NULL) + CREATED_AHEAD)
		return refuse(why, whysz, "\"created\" (%lld) is not a time "
		    "this event can have happened: check the host's clock",
		    created);
	memcpy(ev->id, v[0], 33);
	if ((r = ao_set(&ev->host, v[1])) || (r = ao_set(&ev->user, v[2])) ||
	    (r = ao_set(&ev->event, v[3])) || (r = ao_set(&ev->email, v[4])) ||
	    (r = ao_set(&ev->email_source, v[5])) ||
	    (r = ao_set(&ev->service, v[6])) || (r = ao_set(&ev->rhost, v[7])) ||
	    (r = ao_set(&ev->episode, "")))
		return r;
	ev->uid = (long)uid;
	ev->created = created;
	return AO_OK;
}

int
ao_wire_decode(const char *line, size_t len, struct ao_event_rec *ev,
    char *why, size_t whysz)
{
	const char *brace = memchr(line, '{', len);
	json_object *o;
	int r;

	why[0] = '\0';
	if (len > AO_WIRE_MAX)
		return refuse(why, whysz, "longer than %d bytes", AO_WIRE_MAX);
	if (memchr(line, '\0', len) != NULL)
		return refuse(why, whysz, "contains a NUL byte");
	if (brace == NULL)
		return refuse(why, whysz, "no JSON object (no '{')");
	o = ao_json_parse(brace, len - (size_t)(brace - line));
	if (o == NULL)
		return refuse(why, whysz, "the text from the first '{' is not "
		    "one JSON object");
	r = decode(o, ev, why, whysz);
	json_object_put(o);
	return r;
}
