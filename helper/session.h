/*
 * The one setup every command goes through, in the order the privilege
 * separation needs:
 *
 *   ao_session_open()   as started (root, from the module, cron or by
 *                       hand; or the service user, from a unit): the
 *                       config, the service user, and with AO_SESSION_API
 *                       the token and the CA file, read and made into the
 *                       HTTP client (the caller's copy of the token wiped)
 *   ...                 the caller reads what else needs root (passwd,
 *                       shadow, the faillock tally)
 *   ao_session_drop()   the spool and state directories made if missing
 *                       (AO_SESSION_DIRS; see ao_dir_prepare()), then the
 *                       drop to the service user for good, verified
 *   ...                 everything in the spool and state directory and
 *                       every request, as the service user
 *   ao_session_close()
 */
#ifndef AO_SESSION_H
#define AO_SESSION_H

#include <stdbool.h>
#include <sys/types.h>

#include "api.h"
#include "config.h"
#include "http.h"

#define AO_SESSION_API  0x1   /* read the token, make the HTTP client; on
                               * a relay host (cfg.relay), check the
                               * client certificate's files instead */
#define AO_SESSION_DIRS 0x2   /* make the spool and state directories */

/* What a run did, for the one line a person at a terminal sees. */
struct ao_run_stats {
	unsigned delivered;  /* events filed (or covered) */
	unsigned retry;      /* events left queued for a later try */
	unsigned parked;     /* events refused for good */
	unsigned forwarded;  /* a relay host: events the collector took */
	unsigned asked;      /* revocations followed up */
	unsigned settled;    /* of those, now revoked or rejected */
};

struct ao_session {
	struct ao_config cfg;
	unsigned flags;
	bool root;            /* started as root: the drop changes uid */
	uid_t svc_uid;
	gid_t svc_gid;
	bool have_svc;        /* the service user exists */
	struct ao_http *http; /* AO_SESSION_API only */
	struct ao_api api;
	bool curl_ready;      /* curl_global_init done: clean up on close */
	struct ao_run_stats stats;
};

/*
 * Load config_path (and, with AO_SESSION_API, the token and the CA file,
 * making the client).  AO_OK or an error already logged.  Always pair
 * with ao_session_close(), whatever this returns.
 */
int ao_session_open(struct ao_session *s, const char *config_path,
    unsigned flags);

/*
 * With AO_SESSION_DIRS, make the spool and state directories if missing;
 * then drop to the service user for good (when root; as anyone else, give
 * up capabilities).  AO_OK or an error already logged.
 */
int ao_session_drop(struct ao_session *s);

void ao_session_close(struct ao_session *s);

#endif
