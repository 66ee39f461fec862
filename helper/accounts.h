/*
 * The account database as the scan sees it: every managed account (uid at
 * least accounts.min_uid, not in accounts.exclude, a name we manage) from
 * passwd and shadow through NSS, each entry read once: getpwent() then
 * getspent(), matched by name, so the cost is that of `getent passwd;
 * getent shadow` (asking getspnam() per account reads the shadow file
 * again each time).  Needs root or CAP_DAC_READ_SEARCH for shadow.
 *
 * Deletion is judged on passwd alone: an account whose shadow entry cannot
 * be read is listed as unknown, never left out (left out, it would look
 * deleted).  Password hashes are wiped as soon as they are judged.
 */
#ifndef AO_ACCOUNTS_H
#define AO_ACCOUNTS_H

#include "config.h"
#include "scanstate.h"

/* Fill out (sorted by name) with the accounts now.  AO_OK, AO_ERR_PERM
 * when shadow cannot be read (logged), AO_ERR_NOMEM. */
int ao_accounts_read(const struct ao_config *cfg, struct ao_scan_list *out);

#endif
