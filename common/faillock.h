/*
 * pam_faillock lockouts, read the way pam_faillock itself decides them:
 * the per-user tally file (<dir>/<user>, 64-byte records) and
 * /etc/security/faillock.conf (deny, fail_interval, unlock_time, dir,
 * even_deny_root).  Shared by the module and the helper so both agree.
 *
 * Anyone who types wrong passwords can cause a lockout, so a revocation on
 * lockout lets a stranger revoke a colleague's access: the helper files
 * these events only when events.faillock is on (off by default).
 */
#ifndef AO_FAILLOCK_H
#define AO_FAILLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define AO_FAILLOCK_CONF "/etc/security/faillock.conf"
#define AO_FAILLOCK_RECORD 64      /* bytes per tally record */
#define AO_FAILLOCK_VALID 0x1      /* record status: valid */

struct ao_faillock_conf {
	char dir[256];
	long deny;             /* 0: never locks */
	long fail_interval;    /* seconds */
	long unlock_time;      /* seconds; 0: never unlocks by itself */
	bool even_deny_root;
};

/* pam_faillock's defaults: deny 3, fail_interval 900, unlock_time 600. */
void ao_faillock_defaults(struct ao_faillock_conf *c);

/* Parse faillock.conf text over the defaults; unknown keys are ignored,
 * bad numbers keep the default. */
void ao_faillock_parse(const char *text, struct ao_faillock_conf *c);

/* Read path (absent: defaults).  Always leaves a usable c. */
void ao_faillock_load(const char *path, struct ao_faillock_conf *c);

/* Decide on raw tally records (len bytes) at time now. */
bool ao_faillock_locked(const struct ao_faillock_conf *c,
    const unsigned char *recs, size_t len, time_t now);

/* Is user locked out now?  No tally file: false.  uid 0 only with
 * even_deny_root. */
bool ao_faillock_check(const struct ao_faillock_conf *c, const char *user,
    long uid, time_t now);

#endif
