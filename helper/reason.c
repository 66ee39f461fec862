#include <stdio.h>
#include <string.h>

#include "err.h"
#include "reason.h"
#include "text.h"

static const struct {
	enum ao_event ev;
	const char *name;
	const char *phrase;
} events[] = {
	{ AO_EV_LOCKED, "locked", "was locked" },
	{ AO_EV_EXPIRED, "expired", "has expired" },
	{ AO_EV_FAILLOCK, "faillock", "was locked out by failed logins" },
	{ AO_EV_DELETED, "deleted", "was deleted" },
	{ AO_EV_MANUAL, "manual", "was revoked by an administrator" },
	{ AO_EV_NOLOGIN, "nologin", "had its login shell set to nologin" },
};

const char *
ao_event_name(enum ao_event ev)
{
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i].ev == ev)
			return events[i].name;
	return NULL;
}

int
ao_event_parse(const char *name, enum ao_event *ev)
{
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (strcmp(events[i].name, name) == 0) {
			*ev = events[i].ev;
			return AO_OK;
		}
	return AO_ERR_USAGE;
}

bool
ao_event_fleet(enum ao_event ev)
{
	return ev != AO_EV_MANUAL;
}

size_t
ao_reason_build(char *out, const char *host, const char *user,
    enum ao_event ev, time_t when)
{
	char h[256], u[256], ts[32], full[1024];
	const char *phrase = "changed";
	struct tm tm;
	size_t i, len;

	if (ao_event_fleet(ev)) {
		len = strlen(AO_REASON_FLEET);
		memcpy(out, AO_REASON_FLEET, len + 1);
		return len;
	}
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i].ev == ev)
			phrase = events[i].phrase;
	ao_sanitize(h, sizeof(h), host);
	ao_sanitize(u, sizeof(u), user);
	if (gmtime_r(&when, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(ts, sizeof(ts), "?");
	snprintf(full, sizeof(full), "Linux account %s on host %s %s (%s, "
	    "pam_accessowl)", u, h, phrase, ts);
	len = ao_utf8_cut(full, strlen(full), AO_REASON_MAX);
	memcpy(out, full, len);
	out[len] = '\0';
	return len;
}
