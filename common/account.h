/*
 * What a shadow entry says about an account, shared by the PAM module and
 * the helper so that both agree on what an event and an episode are.
 *
 * Invariants (each one sank a project of this kind before us):
 * - '!', '!!', '*', '!*' or an empty field alone mean "never had a
 *   password", not a lock.  A lock is one or more '!' in front of a real
 *   hash.
 * - Expiry follows pam_unix: expired when sp_expire >= 0 and today >=
 *   sp_expire; a password expired past inactivity when sp_max and sp_inact
 *   are set and today - sp_lstchg > sp_max + sp_inact (sp_lstchg > 0).
 * - An episode is identified by a key derived from the fields that define
 *   the condition; the same lock seen a thousand times has one key.  The
 *   key never contains the password hash, only a digest of it.
 */
#ifndef AO_ACCOUNT_H
#define AO_ACCOUNT_H

#include <shadow.h>
#include <stdbool.h>
#include <stddef.h>

#include "event.h"

enum ao_condition {
	AO_COND_NONE = 0,
	AO_COND_LOCKED,      /* password locked: AO_EV_LOCKED */
	AO_COND_EXPIRED,     /* account expired: AO_EV_EXPIRED */
	AO_COND_INACTIVE,    /* password expired past inactivity: expired */
	AO_COND_FAILLOCK,    /* locked out by pam_faillock: AO_EV_FAILLOCK */
};

/* where the files NSS backend keeps shadow entries */
#define AO_SHADOW_FILE "/etc/shadow"

#define AO_EPISODE_KEY_MAX 96

struct ao_account_status {
	enum ao_condition cond;
	enum ao_event event;               /* unless cond is AO_COND_NONE */
	char key[AO_EPISODE_KEY_MAX];      /* episode key, "" when NONE */
};

/* Is the password field a lock ('!' before a real hash)? */
bool ao_shadow_locked(const char *pwdp);

/*
 * Inspect a shadow entry on day `today` (days since the epoch).  A locked
 * account reports LOCKED even when also expired (one event per episode).
 */
void ao_account_inspect(const struct spwd *sp, long today,
    struct ao_account_status *st);

/* Does pam_unix's account stage refuse it itself: expired, or the
 * password expired past inactivity?  (Whatever the password field.) */
bool ao_account_unix_refuses(const struct spwd *sp, long today);

/* Is this login shell one that refuses logins (nologin, false)? */
bool ao_shell_nologin(const char *shell);

/* Today in days since the epoch (UTC), as shadow counts them. */
long ao_today(void);

/*
 * Is name safe to use as a file name and on a command line: 1..64 bytes of
 * [A-Za-z0-9._-] plus '$' and '@', not starting with '.' or '-'?  Names
 * outside this set are not managed.
 */
bool ao_username_ok(const char *name);

#endif
