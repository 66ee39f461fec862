/*
 * The scan's comparison: what the account database says now against what
 * the last scan kept, as a list of actions and the state to keep next.
 * No I/O: cmd_scan.c reads both lists, carries the actions out (events
 * queued first, then the state written, so a crash in between finds the
 * same transitions again, which the episode keys deduplicate) and writes
 * the next state.
 *
 * Transitions, per account:
 *   fine -> locked | expired     queue "locked" / "expired" (also an expiry
 *                                date reached by the passing of time)
 *   kept -> gone                 queue "deleted", for the address kept
 *                                (userdel removed the GECOS field), once
 *                                confirmed (below)
 *   shell -> nologin/false       queue "nologin" (events.nologin)
 *   locked/expired -> fine       the episode ends: a later lock is new
 *   nologin -> a shell           the episode ends
 *   new account                  recorded, not queued; its name may be
 *                                reused, so any old episode ends
 * The first scan (no state yet) is a baseline: it queues nothing.  With
 * initial, any scan queues every account locked or expired now, also
 * those an earlier baseline took in (episodes queued already stay once).
 * An account whose shadow entry cannot be read keeps its record and
 * queues nothing.  Events turned off in the config are not queued.
 *
 * The address kept never changes silently (identity.h): GECOS losing it
 * or giving another keeps it; the configuration giving another replaces
 * it.
 *
 * Deletions are never taken on the listing's word (accounts.h): every
 * account gone from it is an AO_SCAN_GONE action, which the caller
 * confirms one by one and hands to ao_scan_settle_gone().  That drops
 * the "deleted" of an account that exists but is no longer managed, and
 * guards against the improbable but catastrophic: when more than
 * accounts.max_deletions accounts and more than
 * accounts.max_deletions_percent of the accounts kept vanish in one
 * scan, far likelier a fault of the account database than a real mass
 * userdel, none of their deletions is queued and their records are kept
 * (AO_SCAN_HELD) until the administrator confirms (scan
 * --confirm-deletions).
 */
#ifndef AO_SCAN_H
#define AO_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"
#include "scanstate.h"

enum ao_scan_do {
	AO_SCAN_QUEUE,      /* queue event for acct */
	AO_SCAN_END,        /* the episode of acct is over */
	AO_SCAN_CONFLICT,   /* GECOS gives another address: kept the old */
	AO_SCAN_GONE,       /* acct (as kept) is gone from the listing: its
	                     * record is dropped */
	AO_SCAN_HELD,       /* acct is gone, but held by the guard: its
	                     * record is kept, nothing is queued */
};

struct ao_scan_action {
	enum ao_scan_do what;
	const struct ao_scan_acct *acct;  /* now, or as kept (deleted) */
	enum ao_event event;     /* AO_EV_COUNT for the END of a new account
	                          * (a name used again: forget, quietly) */
	const char *key;         /* episode key */
	const char *email;       /* the address now ("" none) */
	const char *source;      /* its rule, AO_SRC_* or NULL */
	const char *remembered;  /* the address kept ("" none) */
	bool exists;             /* the account is still in passwd */
};

struct ao_scan_result {
	struct ao_scan_action *v; /* point into the lists compared, which
	                           * must outlive it */
	size_t n, cap;
	bool changed;             /* what to keep differs from what was */
	size_t queued, ended;
	size_t gone;              /* AO_SCAN_GONE actions */
	size_t held;              /* AO_SCAN_HELD actions */
};

/*
 * Compare cur (now) with prev (kept; both sorted).  baseline: nothing was
 * kept yet.  cur then becomes what to keep: each account with the address
 * kept for it, an account whose shadow entry could not be read with its
 * old record (one without a record stays unknown: ao_scan_state_write()
 * leaves those out).  Nothing is copied: 100,000 accounts are compared in
 * the memory their two lists take.  res is cleared first; free it with
 * ao_scan_result_free().  AO_OK or AO_ERR_NOMEM.
 */
int ao_scan_compare(const struct ao_config *cfg, const struct ao_scan_list *prev,
    struct ao_scan_list *cur, bool baseline, bool initial,
    struct ao_scan_result *res);

/*
 * The deletions confirmed: gone[k] for the k-th AO_SCAN_GONE action
 * (accounts.h: false for an account that exists but is no longer
 * managed, whose "deleted" is dropped).  Then, unless confirm (the
 * administrator's word), the guard: when more than cfg->max_deletions
 * and more than cfg->max_deletions_percent of the kept accounts (kept,
 * the length of the list compared against) are gone, each of them
 * becomes AO_SCAN_HELD and its "deleted" is dropped.  Returns how many
 * are held (also res->held).
 */
size_t ao_scan_settle_gone(const struct ao_config *cfg, size_t kept,
    const bool *gone, bool confirm, struct ao_scan_result *res);

void ao_scan_result_free(struct ao_scan_result *res);

#endif
