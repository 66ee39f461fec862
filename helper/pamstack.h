/*
 * What a PAM service's configuration does with pam_accessowl, for
 * `check`: is the module in the service's account and session stacks, can
 * an account line with `enforce` refuse at all, and does a line before it
 * end the stack (or jump past it) when that line succeeds, so that the
 * module never sees the login.
 *
 * The configuration is read the way Linux-PAM reads it
 * (pam_handlers.c): "type control module [args]" lines, `#` comments,
 * `\` continuations, a leading `-` on the type, `@include FILE` (every
 * type) and the `include` / `substack` controls (one type), followed to a
 * depth of 8; a control is a keyword or `[value=action ...]`.  Only the
 * success path is judged: the modules before pam_accessowl succeed for a
 * locked account that logs in with a key, which is the login the module
 * is there for.  A substack is judged as if it were included (its `done`
 * ends only the substack, so this may warn where nothing is skipped; it
 * never misses a skip).
 */
#ifndef AO_PAMSTACK_H
#define AO_PAMSTACK_H

#include <stdbool.h>

/* One stack (account or session) of one service. */
struct ao_pam_stack {
	bool present;          /* pam_accessowl is in it */
	bool skipped;          /* a line before it ends the stack, or jumps
	                        * past it, on success */
	char skipper[160];      /* that line: "sufficient pam_foo.so" */
	bool enforce;          /* account: pam_accessowl has `enforce` */
	bool can_refuse;       /* ... on a line whose control refuses on
	                        * PAM_PERM_DENIED (required, requisite, or
	                        * perm_denied/default=bad|die) */
	char control[64];      /* pam_accessowl's control, as written */
};

struct ao_pam_service {
	bool exists;           /* a file for the service was found */
	char file[512];        /* which one (dir/service) */
	struct ao_pam_stack account, session;
	char error[640];       /* "" or why the configuration is not read
	                        * whole (an include too deep, unreadable) */
};

/*
 * Read service from dir (NULL: /etc/pam.d, then Linux-PAM's vendor
 * directory /usr/lib/pam.d); included files are looked up the same way.
 * Fills *out; AO_OK, or AO_ERR_NOMEM.  A service without a file gives
 * exists false.
 */
int ao_pam_inspect(const char *dir, const char *service,
    struct ao_pam_service *out);

#endif
