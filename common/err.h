/*
 * One error vocabulary for pam_accessowl.
 *
 * Every function that can fail returns AO_OK (0) or one of these negative
 * codes.  ao_strerror() names a code for a log line; ao_exit_code() maps a
 * code to the helper's sysexits exit status, and is the only place that
 * mapping is made.
 */
#ifndef AO_ERR_H
#define AO_ERR_H

enum ao_err {
	AO_OK = 0,
	AO_ERR_SYSTEM = -1,     /* a system call failed; errno-level detail logged */
	AO_ERR_NOMEM = -2,      /* out of memory */
	AO_ERR_USAGE = -3,      /* bad command line */
	AO_ERR_CONFIG = -4,     /* configuration missing or invalid */
	AO_ERR_PERM = -5,       /* unsafe file ownership/mode, or privileges */
	AO_ERR_DATA = -6,       /* malformed input or server response */
	AO_ERR_NOTFOUND = -7,   /* no such account or AccessOwl person */
	AO_ERR_AMBIGUOUS = -8,  /* more than one AccessOwl person matches */
	AO_ERR_AUTH = -9,       /* the API refused the token (401/403) */
	AO_ERR_REJECTED = -10,  /* the API refused the request (other 4xx) */
	AO_ERR_TEMP = -11,      /* 5xx, timeout, connection: try again later */
	AO_ERR_RATELIMIT = -12, /* 429 with a wait longer than we will sleep */
	AO_ERR_TLS = -13,       /* certificate or TLS failure */
};

/*
 * Not an error: `enqueue` leaves an account alone by policy
 * (accounts.exclude, accounts.min_uid, the event turned off) and exits
 * AO_EXIT_NOT_MANAGED, which tells the PAM module not to enforce.
 */
#define AO_NOT_MANAGED 1
#define AO_EXIT_NOT_MANAGED 1

/*
 * `enqueue`: the account is in the state claimed and managed here, but
 * its event could not be queued now (a full disk, the spool's lock held,
 * an I/O error: logged at LOG_ERR; the scan queues it later).  The verdict
 * does not need the spool: the PAM module enforces on it as on exit 0.
 */
#define AO_MANAGED_UNQUEUED 2
#define AO_EXIT_MANAGED_UNQUEUED 2

/* Static text for a code; never NULL. */
const char *ao_strerror(int err);

/* The exit status for a code: 0, AO_EXIT_NOT_MANAGED,
 * AO_EXIT_MANAGED_UNQUEUED, or sysexits(3)'s
 * 64, 65, 69, 75, 77 or 78. */
int ao_exit_code(int err);

#endif
