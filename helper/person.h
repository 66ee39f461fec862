/*
 * The address remembered for each account (<state_dir>/people/<user>) and
 * the one rule for using it (a remembered address never changes
 * silently: see the README, "Identity").
 *
 * An event's address is settled against the memory (ao_identity_settle):
 * a first address is remembered; the configuration (identity.map,
 * email_domain), the administrator's word, replaces a remembered one (with
 * a warning); a different address from GECOS is a conflict that waits for
 * the administrator: the event is parked, with the remembered address,
 * never the new one.  `deliver --retry-parked` settles
 * again, so an identity.map entry resolves it.
 *
 * Runs as the service user (after the privilege drop), like everything
 * that touches the state directory.
 */
#ifndef AO_PERSON_H
#define AO_PERSON_H

#include <stdbool.h>

#include "config.h"
#include "identity.h"

struct ao_addr {
	enum ao_settle how;
	char email[AO_EMAIL_MAX];       /* the address to use; "" when none */
	const char *source;             /* AO_SRC_*; static */
	char unconfirmed[AO_EMAIL_MAX]; /* CONFLICT: the address not taken */
	char error[768];                /* CONFLICT: what to do, for status */
};

/*
 * Settle the address for user: now/source as ao_identity_email() gave
 * them ("" and NULL for none), fallback an address the caller remembers
 * itself ("" for none; used when people/<user> has nothing), exists as
 * in ao_identity_settle().  Remembers a NEW or CHANGED address; logs a
 * change and a conflict at WARNING.  AO_OK, or an error when the
 * memory cannot be written.
 */
int ao_person_address(const struct ao_config *cfg, const char *user,
    const char *now, const char *source, const char *fallback, bool exists,
    struct ao_addr *out);

/* As ao_person_address(), remembering nothing: for a dry run. */
int ao_person_peek(const struct ao_config *cfg, const char *user,
    const char *now, const char *source, const char *fallback, bool exists,
    struct ao_addr *out);

#endif
