#include <stdio.h>
#include <string.h>

#include "err.h"
#include "reason.h"
#include "text.h"

size_t
ao_reason_build(char *out, const char *host, const char *user,
    enum ao_event ev, time_t when)
{
	char h[256], u[256], ts[32], full[1024];
	struct tm tm;
	size_t len;

	if (ao_event_fleet(ev)) {
		len = strlen(AO_REASON_FLEET);
		memcpy(out, AO_REASON_FLEET, len + 1);
		return len;
	}
	ao_sanitize(h, sizeof(h), host);
	ao_sanitize(u, sizeof(u), user);
	if (gmtime_r(&when, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(ts, sizeof(ts), "?");
	snprintf(full, sizeof(full), "Linux account %s on host %s %s (%s, "
	    "pam_accessowl)", u, h, ao_event_phrase(ev), ts);
	len = ao_utf8_cut(full, strlen(full), AO_REASON_MAX);
	memcpy(out, full, len);
	out[len] = '\0';
	return len;
}
