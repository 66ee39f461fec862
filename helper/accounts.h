/*
 * The account database as the scan sees it: every managed account (uid at
 * least accounts.min_uid, not in accounts.exclude, a name we manage) from
 * passwd and shadow through NSS, each entry read once: getpwent_r() then
 * getspent_r(), matched by name, so the cost is that of `getent passwd;
 * getent shadow` (asking getspnam() per account reads the shadow file
 * again each time).  Needs root or CAP_DAC_READ_SEARCH for shadow.
 *
 * Never revoke on a doubt: NSS answers "no (more) entries" when a source
 * cannot be read (a file whose open failed with EMFILE or EIO, an sssd or
 * LDAP server away for a second), so a listing that is short is not
 * evidence that accounts are gone.  Hence:
 *  - an error that NSS does report (getpwent_r/getspent_r/getspnam_r
 *    answering other than "found" or "no entry") fails the scan;
 *  - deletion is judged on passwd alone: an account whose shadow entry
 *    cannot be read is listed as unknown, never left out;
 *  - an account the listing misses is deleted only once confirmed one by
 *    one (ao_accounts_confirm_gone()): getpwnam_r() must answer "no such
 *    user" and /etc/passwd itself, read by us, must not name it.
 * Password hashes are wiped as soon as they are judged.
 */
#ifndef AO_ACCOUNTS_H
#define AO_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "scanstate.h"

/* Fill out (sorted by name) with the accounts now.  AO_OK, AO_ERR_PERM
 * when shadow cannot be read for lack of privilege, AO_ERR_SYSTEM when the
 * account database could not be read, AO_ERR_NOMEM (all logged). */
int ao_accounts_read(const struct ao_config *cfg, struct ao_scan_list *out);

/*
 * Confirm that the n accounts names, which the listing no longer has, are
 * really gone: gone[i] is set true for a deleted account, false for one
 * that exists but is no longer managed (its uid or accounts.exclude
 * changed: forgotten, not revoked).  AO_OK when every name was decided;
 * AO_ERR_TEMP when one of them exists and is managed (the listing was
 * incomplete), AO_ERR_SYSTEM when the database or /etc/passwd cannot be
 * read: the scan then queues nothing (all logged).
 */
int ao_accounts_confirm_gone(const struct ao_config *cfg,
    const char *const *names, size_t n, bool *gone);

#endif
