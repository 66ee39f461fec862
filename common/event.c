#include <stdio.h>
#include <string.h>

#include "err.h"
#include "event.h"

static const struct {
	const char *name;
	const char *phrase;
	bool fleet, configurable, on;
} events[AO_EV_COUNT] = {
	[AO_EV_LOCKED] = { "locked", "was locked", true, true, true },
	[AO_EV_EXPIRED] = { "expired", "has expired", true, true, true },
	/* anyone who types wrong passwords causes a lockout: off */
	[AO_EV_FAILLOCK] = { "faillock", "was locked out by failed logins",
	    true, true, false },
	[AO_EV_DELETED] = { "deleted", "was deleted", true, true, true },
	[AO_EV_MANUAL] = { "manual", "was revoked by an administrator",
	    false, false, true },
	/* some sites park accounts that way without deprovisioning: off */
	[AO_EV_NOLOGIN] = { "nologin", "had its login shell set to nologin",
	    true, true, false },
};

const char *
ao_event_name(enum ao_event ev)
{
	return (unsigned)ev < AO_EV_COUNT ? events[ev].name : "?";
}

int
ao_event_parse(const char *name, enum ao_event *ev)
{
	unsigned i;

	for (i = 0; name != NULL && i < AO_EV_COUNT; i++)
		if (strcmp(events[i].name, name) == 0) {
			*ev = (enum ao_event)i;
			return AO_OK;
		}
	return AO_ERR_USAGE;
}

const char *
ao_event_phrase(enum ao_event ev)
{
	return (unsigned)ev < AO_EV_COUNT ? events[ev].phrase : "changed";
}

bool
ao_event_fleet(enum ao_event ev)
{
	return (unsigned)ev < AO_EV_COUNT && events[ev].fleet;
}

bool
ao_event_configurable(enum ao_event ev)
{
	return (unsigned)ev < AO_EV_COUNT && events[ev].configurable;
}

bool
ao_event_default(enum ao_event ev)
{
	return (unsigned)ev < AO_EV_COUNT && events[ev].on;
}

const char *
ao_event_choices(void)
{
	static char buf[128];
	size_t o = 0;
	unsigned i;

	if (buf[0] == '\0')
		for (i = 0; i < AO_EV_COUNT && o < sizeof(buf); i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
			    i ? "|" : "", events[i].name);
	return buf;
}
