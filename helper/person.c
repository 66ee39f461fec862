#include <stdio.h>
#include <string.h>

#include "account.h"
#include "err.h"
#include "log.h"
#include "person.h"
#include "spool.h"

static int
settle(const struct ao_config *cfg, const char *user, const char *now,
    const char *source, const char *fallback, bool exists, bool write,
    struct ao_addr *out)
{
	char mem[AO_EMAIL_MAX];
	const char *use = "";

	memset(out, 0, sizeof(*out));
	if (!ao_username_ok(user))
		mem[0] = '\0'; /* not a name we keep records for */
	else if (ao_record_read(cfg->state_dir, "people", user, mem,
	    sizeof(mem)) != AO_OK || mem[0] == '\0')
		snprintf(mem, sizeof(mem), "%s", fallback ? fallback : "");
	out->how = ao_identity_settle(now, source, mem, exists, &use);
	snprintf(out->email, sizeof(out->email), "%s", use);
	out->source = use == mem ? AO_SRC_REMEMBERED : source;
	switch (out->how) {
	case AO_ADDR_NONE:
		out->source = NULL;
		return AO_OK;
	case AO_ADDR_KEEP:
		return AO_OK;
	case AO_ADDR_CHANGED:
		ao_warn("%s changes the address of account %s from %s "
		    "(remembered) to %s", source, user, mem, now);
		/* fall through */
	case AO_ADDR_NEW:
		if (!write || !ao_username_ok(user))
			return AO_OK;
		return ao_record_write(cfg->state_dir, "people", user, now);
	case AO_ADDR_CONFLICT:
		snprintf(out->unconfirmed, sizeof(out->unconfirmed), "%s", now);
		snprintf(out->error, sizeof(out->error), "the address of account "
		    "%s is now %s (%s), but %s is remembered for it: nothing "
		    "is filed until you decide; map the account in "
		    "identity.map ({ user = \"%s\"; email = \"...\"; }), then "
		    "run accessowl-helper deliver --retry-parked", user, now,
		    source ? source : "?", mem, user);
		ao_warn("%s", out->error);
		return AO_OK;
	}
	return AO_OK;
}

int
ao_person_address(const struct ao_config *cfg, const char *user,
    const char *now, const char *source, const char *fallback, bool exists,
    struct ao_addr *out)
{
	return settle(cfg, user, now, source, fallback, exists, true, out);
}

int
ao_person_peek(const struct ao_config *cfg, const char *user,
    const char *now, const char *source, const char *fallback, bool exists,
    struct ao_addr *out)
{
	return settle(cfg, user, now, source, fallback, exists, false, out);
}
