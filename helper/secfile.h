/*
 * Files that hold trust: the config, the API token, a relay host's key.
 *
 * Invariants: a file is checked on the descriptor that is then read
 * (open O_NOFOLLOW|O_CLOEXEC, fstat, checks, read the same fd); a file that
 * fails a check is refused with a message that says how to fix it, never
 * replaced by a quiet default.  The token is read with read(2) (no stdio
 * buffer holds a copy) into a locked buffer that ao_secret_wipe() clears.
 */
#ifndef AO_SECFILE_H
#define AO_SECFILE_H

#include <stddef.h>
#include <sys/types.h>

enum ao_file_kind {
	AO_FILE_CONFIG, /* owner root (or us), not group/world-writable */
	AO_FILE_TOKEN,  /* as CONFIG, and not readable by others than root and
	                   the service user's group */
	AO_FILE_CA,     /* any owner, not group/world-writable */
	AO_FILE_SYSTEM, /* a system file we trust (login.defs): owner root,
	                   not group/world-writable */
	AO_FILE_KEY,    /* a relay host's TLS key: as TOKEN */
};

#define AO_SECRET_MAX 4096

struct ao_secret {
	char buf[AO_SECRET_MAX];
	size_t len;
};

/*
 * Open path for reading and check it for kind.  service_gid is the service
 * user's group (token only; (gid_t)-1 when unknown: then a group-readable
 * token is refused).  On success *fdp is the open fd.  On failure the reason
 * and its fix are logged and AO_ERR_PERM, AO_ERR_CONFIG (missing) or
 * AO_ERR_SYSTEM is returned.
 */
int ao_file_open_checked(const char *path, enum ao_file_kind kind,
    gid_t service_gid, int *fdp);

/*
 * Read all of fd (at most max bytes, else AO_ERR_DATA) into a new
 * NUL-terminated buffer.  *out is set only on success; caller frees.
 */
int ao_file_read_fd(int fd, size_t max, char **out, size_t *lenp);

/* Open, check and read a whole file of kind (see above). */
int ao_file_read_checked(const char *path, enum ao_file_kind kind,
    size_t max, char **out, size_t *lenp);

/*
 * Read the API token from path into tok, checked as AO_FILE_TOKEN.  Trailing
 * white space is dropped; the token must be non-empty printable ASCII with
 * no spaces.  tok is wiped on every failure.
 */
int ao_token_read(const char *path, gid_t service_gid, struct ao_secret *tok);

/* Wipe and unlock a secret.  Accepts NULL. */
void ao_secret_wipe(struct ao_secret *tok);

#endif
