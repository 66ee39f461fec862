/*
 * accessowl-helper enqueue --user NAME --event EVENT [--service S] [--rhost H]
 *
 * Started by pam_accessowl (as root, empty environment, bounded wait) or by
 * the scan.  The caller's word is not trusted: the account is checked here
 * again.  The event is written to the spool durably, the episode recorded
 * (so the module stops starting us for it), a deliverer started detached,
 * and we exit: no network, a few milliseconds.
 *
 * Privileges: the config, passwd, shadow, the faillock tally and
 * login.defs are read as root; the spool and the state directory (the
 * service user's) are touched only after the drop to the service user.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "faillock.h"
#include "cmd.h"
#include "config.h"
#include "err.h"
#include "record.h"
#include "identity.h"
#include "log.h"
#include "person.h"
#include "queue.h"
#include "session.h"
#include "reason.h"
#include "kick.h"
#include "spool.h"
#include "text.h"

struct req {
	const char *user;
	const char *event;
	char service[64];
	char rhost[256];
	struct ao_stamp fine_at; /* --fine-at (clock.h); zeroed if not given */
};

/*
 * Check the account ourselves.  Sets the episode key.  AO_OK when the
 * account really is in the state the caller says; AO_ERR_DATA otherwise.
 */
static int
recheck(const char *user, enum ao_event ev, const struct passwd *pw,
    char *key, size_t keysz)
{
	struct ao_account_status st;
	struct spwd *sp;

	key[0] = '\0';
	switch (ev) {
	case AO_EV_MANUAL:
		return AO_OK;
	case AO_EV_DELETED:
		if (pw != NULL) {
			ao_err("account %s still exists: not a deletion", user);
			return AO_ERR_DATA;
		}
		snprintf(key, keysz, "%s", ao_event_name(ev));
		return AO_OK;
	case AO_EV_FAILLOCK: {
		struct ao_faillock_conf fc;

		ao_faillock_load(AO_FAILLOCK_CONF, &fc);
		if (pw == NULL || !ao_faillock_check(&fc, user,
		    (long)pw->pw_uid, time(NULL))) {
			ao_warn("account %s is not locked out by pam_faillock; "
			    "nothing queued", user);
			return AO_ERR_DATA;
		}
		snprintf(key, keysz, "%s", ao_event_name(ev));
		return AO_OK;
	}
	case AO_EV_NOLOGIN:
		if (pw == NULL || !ao_shell_nologin(pw->pw_shell)) {
			ao_err("account %s does not have a nologin shell", user);
			return AO_ERR_DATA;
		}
		snprintf(key, keysz, "%s", ao_event_name(ev));
		return AO_OK;
	case AO_EV_LOCKED:
	case AO_EV_EXPIRED:
		break;
	case AO_EV_COUNT:
		return AO_ERR_USAGE;
	}
	if (pw == NULL) {
		ao_err("no account %s", user);
		return AO_ERR_DATA;
	}
	errno = 0;
	if ((sp = getspnam(user)) == NULL) {
		ao_err("cannot read the shadow entry of %s%s%s", user,
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return errno == EACCES ? AO_ERR_PERM : AO_ERR_DATA;
	}
	ao_account_inspect(sp, ao_today(), &st);
	explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp));
	if ((ev == AO_EV_LOCKED && st.cond != AO_COND_LOCKED) ||
	    (ev == AO_EV_EXPIRED && st.cond != AO_COND_EXPIRED &&
	    st.cond != AO_COND_INACTIVE)) {
		ao_warn("account %s is not %s (it is %s); nothing queued",
		    user, ao_event_name(ev), st.cond == AO_COND_NONE ? "fine" :
		    ao_event_name(st.event));
		return AO_ERR_DATA;
	}
	snprintf(key, keysz, "%s", st.key);
	return AO_OK;
}

static int
parse(int argc, char **argv, struct req *q)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "event", required_argument, NULL, 'e' },
		{ "service", required_argument, NULL, 's' },
		{ "rhost", required_argument, NULL, 'r' },
		{ "fine-at", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(q, 0, sizeof(*q));
	optind = 1;
	while ((c = getopt_long(argc, argv, "u:e:s:r:f:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (ao_stamp_parse(optarg, &q->fine_at) != AO_OK ||
			    q->fine_at.wall_ms <= 0) {
				ao_err("--fine-at wants the time the account was "
				    "seen fine as pam_accessowl gives it: "
				    "milliseconds since the epoch, optionally "
				    "followed by :<boot clock ms>:<boot id>");
				return AO_ERR_USAGE;
			}
			break;
		case 'u': q->user = optarg; break;
		case 'e': q->event = optarg; break;
		case 's': ao_sanitize(q->service, sizeof(q->service), optarg); break;
		case 'r': ao_sanitize(q->rhost, sizeof(q->rhost), optarg); break;
		default: return AO_ERR_USAGE;
		}
	}
	if (q->user == NULL || q->event == NULL || optind != argc) {
		fprintf(stderr, "usage: accessowl-helper enqueue --user NAME "
		    "--event %s [--service S] [--rhost H] [--fine-at STAMP]\n",
		    ao_event_choices());
		return AO_ERR_USAGE;
	}
	if (!ao_username_ok(q->user)) {
		char clean[128];

		ao_err("account name '%s' is not one pam_accessowl manages",
		    ao_sanitize(clean, sizeof(clean), q->user));
		return AO_ERR_USAGE;
	}
	return AO_OK;
}

/*
 * The PAM module waits ENQUEUE_WAIT_MS for all of enqueue and then lets
 * the login through: the spool's lock is waited for only as long as that
 * leaves, less what writing the event takes.
 */
#define ENQUEUE_WAIT_MS 1000
#define ENQUEUE_AFTER_LOCK_MS 200

static long
lock_budget(const struct timespec *started)
{
	struct timespec now;
	long used, left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	used = (long)(now.tv_sec - started->tv_sec) * 1000 +
	    (now.tv_nsec - started->tv_nsec) / 1000000;
	left = ENQUEUE_WAIT_MS - ENQUEUE_AFTER_LOCK_MS - used;
	return left > 50 ? left : 50;
}

int
cmd_enqueue(const struct ao_opts *o, int argc, char **argv)
{
	struct ao_session ss;
	struct ao_new_event ne;
	struct passwd *pw;
	struct req q;
	enum ao_event evk;
	char key[AO_EPISODE_KEY_MAX], email[AO_EMAIL_MAX], id[33];
	const char *source = NULL;
	const struct ao_config *cfg = &ss.cfg;
	bool already = false, exists, managed = false;
	struct timespec started;
	long uid = -1;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &started);
	memset(&ss, 0, sizeof(ss));
	memset(&ne, 0, sizeof(ne));
	if ((r = parse(argc, argv, &q)) != AO_OK)
		return r;
	if (ao_event_parse(q.event, &evk) != AO_OK) {
		ao_err("unknown event '%s'", q.event);
		return AO_ERR_USAGE;
	}
	/* as root: the config, passwd, shadow and the faillock tally */
	if ((r = ao_session_open(&ss, o->config_path, AO_SESSION_DIRS)) != AO_OK)
		goto out;
	pw = getpwnam(q.user);
	exists = pw != NULL;
	if (pw != NULL)
		uid = (long)pw->pw_uid;
	if ((r = recheck(q.user, evk, pw, key, sizeof(key))) != AO_OK)
		goto out;
	/* identity now, while GECOS is there (settled against the memory
	 * after the drop) */
	if (ao_identity_email(cfg, q.user, pw ? pw->pw_gecos : NULL, email,
	    sizeof(email), &source) != AO_OK)
		email[0] = '\0';
	/*
	 * The verdict, from the root-owned config and what root read: it
	 * needs no spool, so nothing the service user or a full disk does
	 * can talk `enforce` out of it.  Not managed means no event, but
	 * the episode is recorded so the module does not start us again.
	 */
	if (!ao_config_event_on(cfg, evk) ||
	    ao_strlist_has(&cfg->exclude, q.user) ||
	    (uid >= 0 && uid < cfg->min_uid)) {
		ao_info("account %s (%s): not managed (accounts.exclude, "
		    "accounts.min_uid or events.%s); nothing queued", q.user,
		    q.event, q.event);
		if (ao_session_drop(&ss) == AO_OK)
			ao_episode_unmanaged(cfg, q.user, key);
		r = AO_NOT_MANAGED; /* exit 1: the module does not enforce */
		goto out;
	}
	managed = true;
	if ((r = ao_session_drop(&ss)) != AO_OK)
		goto out;
	/* as the service user from here: the spool and the state */
	ne.user = q.user;
	ne.event = q.event;
	ne.episode = key;
	ne.email = email;
	ne.source = source;
	ne.exists = exists;
	ne.uid = uid;
	ne.service = q.service;
	ne.rhost = q.rhost;
	ne.fine_at = q.fine_at;
	ne.lock_ms = lock_budget(&started);
	if ((r = ao_queue_event(cfg, &ne, &already, id)) != AO_OK)
		goto out;
	managed = false;        /* queued: exit 0 */
	if (already) {
		ao_debug("account %s (%s): this episode is queued already",
		    q.user, q.event);
		goto out;
	}
	ao_delivery_start(o->config_path);
out:
	if (managed && r != AO_OK) {
		/* nothing is lost: the scan sees the same lock (or expiry)
		 * and queues it once the spool takes events again */
		ao_err("account %s is %s and managed here, but its event could "
		    "not be queued (%s): the next scan queues it; the PAM "
		    "module still enforces", q.user, q.event, ao_strerror(r));
		r = AO_MANAGED_UNQUEUED;
	}
	ao_session_close(&ss);
	return r;
}
