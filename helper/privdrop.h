/*
 * Privilege separation inside the helper.
 *
 * Invariant: when started as root, the helper reads what needs root (the
 * config, the token, the CA file, shadow data), then calls ao_privdrop()
 * before it opens a socket or parses anything a server wrote.  The drop is
 * permanent (setgroups, setresgid, setresuid) and verified: regaining root
 * must fail, or the helper exits.  The process is made undumpable again
 * after the uid change (which resets it to fs.suid_dumpable), so the
 * service user cannot ptrace it.  Started as another user, the helper keeps
 * that user (nothing to drop) and says so in a debug line.
 */
#ifndef AO_PRIVDROP_H
#define AO_PRIVDROP_H

#include <sys/types.h>

/* Process-wide hardening done first thing: no core dumps, no ptrace by
 * others (PR_SET_DUMPABLE 0), umask 077. */
void ao_harden_process(void);

/*
 * Look up a user by name (NSS).  AO_OK and uid/gid; AO_ERR_NOTFOUND when
 * NSS answers that there is none; AO_ERR_TEMP (logged) when it cannot
 * answer (EMFILE, ENFILE, EIO, ENOMEM, a source down): that is no answer,
 * never taken for absence.  uid/gid are set on success only.
 */
int ao_user_lookup(const char *name, uid_t *uid, gid_t *gid);

/*
 * Look up the service user.  AO_OK and uid/gid; AO_ERR_CONFIG (logged)
 * when the user does not exist or has uid 0; AO_ERR_TEMP (logged) when it
 * cannot be looked up now.
 */
int ao_service_user(const char *name, uid_t *uid, gid_t *gid);

/*
 * Drop to uid/gid for good if running as root; as another user, give up
 * all capabilities.  AO_OK, or AO_ERR_PERM (logged) if the drop failed or
 * could be undone.
 */
int ao_privdrop(uid_t uid, gid_t gid);

#endif
