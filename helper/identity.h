/*
 * Which AccessOwl person a local account is: an e-mail address, chosen by
 * identity.map (explicit), else an address found in the GECOS field (only
 * with identity.gecos_email), else user@identity.email_domain.
 *
 * Trust: only the administrator decides
 * whose access goes.  Users change parts of their own GECOS field with
 * chfn (login.defs CHFN_RESTRICT): such a subfield never selects a person.
 * With gecos_email on, an address is taken only from a subfield users
 * cannot change on this host, and only in a domain of
 * identity.gecos_domains.  The address resolved for an account is
 * remembered (a deleted account has no GECOS); a different one later is
 * never taken silently: see ao_identity_settle().
 */
#ifndef AO_IDENTITY_H
#define AO_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define AO_LOGIN_DEFS "/etc/login.defs"

/* Room for an e-mail address and its NUL (RFC 5321 allows 254). */
#define AO_EMAIL_MAX 320

/* Is s a plausible e-mail address, local@domain.tld? */
bool ao_email_ok(const char *s);

/* GECOS subfields, as chfn names them: f, r, w, h, and o (the rest). */
#define AO_GECOS_FULLNAME 0x01u
#define AO_GECOS_ROOM     0x02u
#define AO_GECOS_WORK     0x04u
#define AO_GECOS_HOME     0x08u
#define AO_GECOS_OTHER    0x10u
#define AO_GECOS_CHFN     0x0fu  /* the four chfn may let users change */

/*
 * The GECOS subfields users may change about themselves, decided from
 * login.defs text the way chfn does: CHFN_RESTRICT "yes" = rwh, "no" =
 * frwh, else the letters given.  Unset counts as "rwh" (util-linux's
 * default, the more permissive of the two chfn implementations); NULL
 * text (unreadable or unsafe file) as all four.  "other" is never
 * user-changeable.
 */
unsigned ao_chfn_user_fields(const char *login_defs);

/*
 * The subfields identity may trust on this host: not user-changeable
 * according to path (see above), read once.  The file must be root's and
 * not writable by others; otherwise nothing chfn touches is trusted.
 */
unsigned ao_gecos_trusted_fields(const char *path);

/*
 * The first e-mail address in a string ("Alice <alice@x.org>",
 * "alice@x.org"), copied into out.  AO_OK or AO_ERR_NOTFOUND.
 */
int ao_gecos_email(const char *gecos, char *out, size_t outsz);

/*
 * The first address in a subfield of gecos listed in the mask trusted
 * whose domain is one of domains (case-insensitive).  AO_OK or
 * AO_ERR_NOTFOUND.
 */
int ao_gecos_email_trusted(const char *gecos, unsigned trusted,
    const struct ao_strlist *domains, char *out, size_t outsz);

/* Sources ao_identity_email() names. */
#define AO_SRC_MAP "identity.map"
#define AO_SRC_GECOS "GECOS"
#define AO_SRC_DOMAIN "email_domain"
#define AO_SRC_REMEMBERED "remembered"

/*
 * Resolve user's e-mail into out.  gecos may be NULL (account deleted).
 * *source names the rule that matched (AO_SRC_*).  AO_OK, or
 * AO_ERR_NOTFOUND when no rule gives an address.
 */
int ao_identity_email(const struct ao_config *cfg, const char *user,
    const char *gecos, char *out, size_t outsz, const char **source);

enum ao_settle {
	AO_ADDR_NONE,      /* no address now and none remembered */
	AO_ADDR_KEEP,      /* the remembered address (equal, or all we have) */
	AO_ADDR_NEW,       /* first address for the account: remember it */
	AO_ADDR_CHANGED,   /* the configuration (identity.map, email_domain)
	                      now gives another: the admin's word, remember it */
	AO_ADDR_CONFLICT,  /* GECOS now gives another: the admin decides */
};

/*
 * Which address an event for an account uses.  now/source: what
 * ao_identity_email() gives now ("" and NULL when nothing); remembered:
 * the address remembered for the account ("" when none); exists: the
 * account still has a passwd entry.  A different address is taken from
 * the configuration (identity.map; email_domain too while the account
 * exists), never from GECOS: that is a conflict.  A deleted account has no
 * GECOS left to judge, so its remembered address beats email_domain.
 * *use points at now or remembered ("" for NONE; remembered for CONFLICT:
 * never the unconfirmed one).
 */
enum ao_settle ao_identity_settle(const char *now, const char *source,
    const char *remembered, bool exists, const char **use);

#endif
