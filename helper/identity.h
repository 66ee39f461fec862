/*
 * Which AccessOwl person a local account is: an e-mail address, chosen by
 * identity.map (explicit), else an address found in the GECOS field (when
 * identity.gecos_email), else user@identity.email_domain.
 */
#ifndef AO_IDENTITY_H
#define AO_IDENTITY_H

#include <stddef.h>

#include "config.h"

/*
 * Resolve user's e-mail into out.  gecos may be NULL (account deleted).
 * *source names the rule that matched ("identity.map", "GECOS",
 * "email_domain").  AO_OK, or AO_ERR_NOTFOUND when no rule gives an address.
 */
int ao_identity_email(const struct ao_config *cfg, const char *user,
    const char *gecos, char *out, size_t outsz, const char **source);

/*
 * The first e-mail address in a GECOS string ("Alice Smith,,,,alice@x.org",
 * "Alice <alice@x.org>"), copied into out.  AO_OK or AO_ERR_NOTFOUND.
 */
int ao_gecos_email(const char *gecos, char *out, size_t outsz);

#endif
