/*
 * pam_accessowl: tells accessowl-helper when a locked or expired account
 * goes through the PAM account or session stack.
 *
 * Invariants — this code runs inside someone else's process (sshd, cron,
 * sudo, su), as root:
 * - It observes and never decides: every entry point returns PAM_IGNORE,
 *   whatever happens.  The one exception is opt-in: with `enforce`, the
 *   account hook refuses (PAM_PERM_DENIED) an account whose password is
 *   locked ('!' before a real hash) once the helper has queued the event
 *   and said the account is managed (not excluded by the administrator).
 *   Everything else is let through: an unlocked or key-only account, a
 *   faillock lockout (anyone can cause one), an entry that cannot be read,
 *   a helper that fails or gives no answer in time.
 * - It links libpam and libc only, starts no threads, never calls exit(),
 *   leaves no signal handler behind (SIGCHLD is saved, set to SIG_DFL for
 *   the wait and restored), leaves no zombie and leaks no fd or memory.
 * - It never blocks a login on the network: the helper's `enqueue` only
 *   writes to a local spool; the wait for it is bounded (HELPER_TIMEOUT_MS)
 *   and a helper that overstays is killed and reaped.
 * - The child gets the helper path from the PAM line (helper=, absolute;
 *   /usr/sbin/accessowl-helper by default: the admin's file, never the
 *   caller's), an empty environment, stdin/out/err
 *   on /dev/null and no other fd.
 * - One episode, one spawn: the module keeps its own record per account in
 *   run_dir (default /run/accessowl: root's, made by tmpfiles.d or here,
 *   and never a directory the service user can write; see record_get()).
 *   While it says the helper took this episode, no helper is started; a
 *   failing helper is retried at most once per SPAWN_INTERVAL.  Seeing the
 *   account neither locked nor expired ends the episode; the next lock is
 *   handed over with --fine-at, so the helper knows it is new even when it
 *   has the same key (the same hash): a stamp of the boot clock as well as
 *   the wall clock (clock.h), so that a wall clock stepped back in between
 *   does not make the unlock look older than the episode.  /run is empty
 *   after a reboot: the first attempt then starts the helper once, which
 *   knows the episode.
 * - Root never opens anything in the helper's spool or state directories:
 *   those belong to the service user, which talks to the network and is
 *   assumed compromisable.
 * - A pam_faillock lockout is reported as AO_EV_FAILLOCK (one episode per
 *   lockout, its name as the key); the helper files it only when
 *   events.faillock is on, because anyone can cause a lockout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <shadow.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "account.h"
#include "clock.h"
#include "err.h"
#include "faillock.h"
#include "modargs.h"
#include "spawn.h"
#include "text.h"

/* Built with -fvisibility=hidden; the version script lists the same. */
#define AO_EXPORT __attribute__((visibility("default")))

#define HELPER_TIMEOUT_MS 1000
#define SPAWN_INTERVAL 60      /* seconds between spawns for one episode */
#define NSS_BUF 16384


static void
warn_arg(void *pamh, const char *msg)
{
	pam_syslog(pamh, LOG_WARNING, "%s", msg);
}

static void
parse_args(pam_handle_t *pamh, int argc, const char **argv, struct ao_modargs *o)
{
	(void)ao_modargs_parse(argc, argv, o, warn_arg, pamh);
}

#define DEBUG(...) do { if (o->debug) pam_syslog(pamh, LOG_DEBUG, __VA_ARGS__); } while (0)

/*
 * The uid this process really runs as: root in every PAM host that gets
 * past observe()'s geteuid() check.  Read from the kernel's auxiliary
 * vector so that the no-root test harness (uid_wrapper fakes geteuid())
 * checks ownership against the user it really is.
 */
static uid_t
self_uid(void)
{
	return (uid_t)getauxval(AT_EUID);
}

/* A directory only we may change: ours, not writable by group or others. */
static bool
dir_private(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == self_uid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/*
 * Open run_dir, making it (0700) if missing and create is set.  Both it
 * and its parent must be ours and not writable by anyone else, so that
 * nobody can plant, link or swap what we then open, write and unlink by
 * name.  -1 when it cannot be used (logged when create is set).
 */
static int
open_run_dir(pam_handle_t *pamh, const struct ao_modargs *o, bool create)
{
	char parent[PATH_MAX];
	const char *base = strrchr(o->run_dir, '/');
	size_t plen = (size_t)(base - o->run_dir);
	int pfd = -1, fd = -1;

	if (plen >= sizeof(parent) || base[1] == '\0')
		goto bad;
	memcpy(parent, o->run_dir, plen);
	parent[plen] = '\0';
	pfd = open(plen ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || !dir_private(pfd))
		goto bad;
	fd = openat(pfd, base + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !create)
		goto out;
	if (fd < 0 && errno == ENOENT &&
	    (mkdirat(pfd, base + 1, 0700) == 0 || errno == EEXIST))
		fd = openat(pfd, base + 1, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && dir_private(fd))
		goto out;
bad:
	/* quiet for fine accounts: that would be every login */
	if (create)
		pam_syslog(pamh, LOG_WARNING, "cannot use %s for the module's "
		    "records (it and its parent must be root's and not "
		    "writable by group or others): the helper is started at "
		    "every attempt of a locked account", o->run_dir);
	if (fd >= 0)
		close(fd);
	fd = -1;
out:
	if (pfd >= 0)
		close(pfd);
	return fd;
}

/*
 * One record per account: "<key> <state> <fine_at>\n".  state "managed":
 * the helper took episode key (queued it, or had it already); "unmanaged":
 * the helper said the account is not managed (accounts.exclude,
 * accounts.min_uid, the event turned off): nothing queued, never refused;
 * "queued": what versions before `enforce` wrote for both (no verdict);
 * "tried": the helper was started for key at the file's mtime and failed;
 * "unqueued": the helper said the account is managed, but could not
 * queue its event (a full disk, say): enforced on, and the helper is
 * started again at most once per SPAWN_INTERVAL;
 * "fine" (key "-"): the account was seen neither locked nor expired.
 * fine_at: when it was last seen fine after an episode, as a stamp of the
 * wall clock and the boot clock (clock.h; "0" if not since the records
 * began; milliseconds alone in records of older versions), which tells
 * the helper that a lock with an old key is a new episode, even when the
 * wall clock was stepped back since (see `enqueue --fine-at`).
 */
enum rec_state { REC_NONE, REC_FINE, REC_TRIED, REC_QUEUED, REC_MANAGED,
	REC_UNMANAGED, REC_UNQUEUED };

struct rec {
	enum rec_state state;
	char key[AO_EPISODE_KEY_MAX];
	struct ao_stamp fine_at;
	time_t mtime;
};

/* The record of user; state REC_NONE when absent or unreadable. */
static void
record_get(int dfd, const char *user, struct rec *rc)
{
	static const char *const names[] = { "", "fine", "tried", "queued",
		"managed", "unmanaged", "unqueued" };
	char buf[AO_EPISODE_KEY_MAX + AO_STAMP_MAX + 16], *sp1, *sp2;
	struct stat st;
	ssize_t n;
	size_t i;
	int fd;

	memset(rc, 0, sizeof(*rc));
	fd = openat(dfd, user, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || buf[n - 1] != '\n')
		goto out;
	buf[n - 1] = '\0';
	if ((sp1 = strchr(buf, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
	    (size_t)(sp1 - buf) >= sizeof(rc->key))
		goto out;
	*sp1 = *sp2 = '\0';
	if (ao_stamp_parse(sp2 + 1, &rc->fine_at) != AO_OK)
		goto out;
	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(sp1 + 1, names[i]) == 0)
			rc->state = (enum rec_state)i;
	memcpy(rc->key, buf, (size_t)(sp1 - buf) + 1);
	rc->mtime = st.st_mtime;
out:
	close(fd);
}

/* Replace user's record (temp file, then rename). */
static void
record_put(int dfd, const char *user, const char *key, const char *state,
    const struct ao_stamp *fine_at)
{
	char tmp[128], line[AO_EPISODE_KEY_MAX + AO_STAMP_MAX + 16];
	char stamp[AO_STAMP_MAX] = "0";
	int fd, n;

	if (fine_at != NULL)
		ao_stamp_format(fine_at, stamp, sizeof(stamp));
	n = snprintf(line, sizeof(line), "%s %s %s\n", key, state, stamp);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	snprintf(tmp, sizeof(tmp), ".%s.%ld", user, (long)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n || close(fd) != 0 ||
	    renameat(dfd, tmp, dfd, user) != 0)
		(void)unlinkat(dfd, tmp, 0);
}

/*
 * The account is fine again: an episode we knew of is over.  Recorded,
 * not just forgotten: a relock often has the same key (the same hash), and
 * the helper must learn that it is a new episode.  Accounts we never saw
 * locked or expired have no record and cost one failed open.
 */
static void
episode_end(pam_handle_t *pamh, const struct ao_modargs *o, const char *user)
{
	struct ao_stamp now;
	struct rec rc;
	int dfd;

	if ((dfd = open_run_dir(pamh, o, false)) < 0)
		return;
	record_get(dfd, user, &rc);
	if (rc.state != REC_NONE && rc.state != REC_FINE) {
		ao_stamp_now(&now);
		record_put(dfd, user, "-", "fine", &now);
		DEBUG("account %s is no longer locked or expired: episode "
		    "ended", user);
	}
	close(dfd);
}

/* In the child: clean state, then exec the helper.  Never returns. */
static void __attribute__((noreturn))
child_exec(const char *path, char *const argv[])
{
	static char *const envp[] = { NULL };

	if (ao_child_reset() == 0)
		execve(path, argv, envp);
	_exit(127);
}

/* Start the helper and wait for it, at most HELPER_TIMEOUT_MS. */
static int
run_helper(pam_handle_t *pamh, const struct ao_modargs *o, char *const argv[],
    int *status)
{
	struct sigaction dfl, saved;
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	pid_t pid, w = 0;
	int waited = 0, r = -1;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	/* SIG_IGN for SIGCHLD would make the kernel reap our child for us */
	if (sigaction(SIGCHLD, &dfl, &saved) != 0)
		return -1;
	pid = fork();
	if (pid == 0)
		child_exec(o->helper, argv);
	if (pid < 0) {
		pam_syslog(pamh, LOG_WARNING, "cannot start %s: %s",
		    o->helper, strerror(errno));
		goto out;
	}
	for (;;) {
		w = waitpid(pid, status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (waited >= HELPER_TIMEOUT_MS) {
			pam_syslog(pamh, LOG_WARNING, "%s did not finish in %d "
			    "ms; killed", o->helper, HELPER_TIMEOUT_MS);
			(void)kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			w = -1;
			break;
		}
		(void)nanosleep(&tick, NULL);
		waited += 5;
	}
	r = w == pid ? 0 : -1;
out:
	(void)sigaction(SIGCHLD, &saved, NULL);
	return r;
}

/* A small argv: strings copied into one fixed buffer. */
struct argv {
	char *v[16];
	char buf[1536];
	size_t n, used;
};

static int
argv_add(struct argv *a, const char *s)
{
	size_t len = strlen(s) + 1;

	if (a->n + 1 >= sizeof(a->v) / sizeof(a->v[0]) ||
	    a->used + len > sizeof(a->buf))
		return -1;
	a->v[a->n] = memcpy(a->buf + a->used, s, len);
	a->used += len;
	a->v[++a->n] = NULL;
	return 0;
}

static const char *
item_str(pam_handle_t *pamh, int type)
{
	const void *v = NULL;

	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || v == NULL)
		return NULL;
	return v;
}

/*
 * No shadow entry for an account that exists: normal for an account from
 * a directory that has no shadow data.  But when the file itself cannot
 * be opened, though we are root (an SELinux policy that does not let this
 * service read it: the accessowl_pam_read_shadow boolean), no lock can be
 * seen at all, for anyone: said at every attempt.  NSS cannot tell us
 * (the next source answers "not found"), so we look.
 */
static void
no_shadow_entry(pam_handle_t *pamh, const struct ao_modargs *o,
    const char *hook, const char *user, bool enforcing)
{
	int fd, e;

	fd = open(AO_SHADOW_FILE, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	e = errno;
	if (fd >= 0)
		close(fd);
	if (fd < 0 && (e == EACCES || e == EPERM))
		pam_syslog(pamh, LOG_WARNING, "cannot read %s (%s): no lock or "
		    "expiry of %s can be seen%s (under SELinux: the "
		    "accessowl_pam_read_shadow boolean; see pam_accessowl(8))",
		    AO_SHADOW_FILE, strerror(e), user,
		    enforcing ? ", nothing refused" : "");
	else if (enforcing)
		pam_syslog(pamh, LOG_WARNING, "cannot read the shadow "
		    "entry of %s: not checked, not refused", user);
	DEBUG("%s: %s: no shadow entry", hook, user);
}

/* What the helper said of the account, for `enforce`. */
enum verdict { V_UNKNOWN, V_MANAGED, V_UNMANAGED };

/*
 * Look at the account and hand a locked or expired one to the helper.
 * true only when it is to be refused: enforcing (the account hook with
 * `enforce`), its password locked, and the helper's verdict "managed".
 */
static bool
observe(pam_handle_t *pamh, int argc, const char **argv, const char *hook,
    bool account)
{
	struct ao_account_status st;
	struct passwd pw, *pwp = NULL;
	struct spwd sp, *spp = NULL;
	struct ao_modargs opts, *o = &opts;
	char *buf = NULL, svc[64], rhost[256];
	const char *user, *s;
	struct argv av;
	struct rec rc;
	struct ao_stamp fine_at;
	enum verdict verdict = V_UNKNOWN;
	bool enforcing, unix_refuses = false, refuse = false;
	int status = 0, dfd = -1;

	memset(&av, 0, sizeof(av));
	memset(&fine_at, 0, sizeof(fine_at));

	parse_args(pamh, argc, argv, o);
	enforcing = account && o->enforce;
	user = item_str(pamh, PAM_USER);
	if (user == NULL || !ao_username_ok(user)) {
		DEBUG("%s: no user, or a name we do not manage", hook);
		return false;
	}
	if (geteuid() != 0) {
		DEBUG("%s: not running as root: cannot read shadow for %s",
		    hook, user);
		return false;
	}
	if ((buf = malloc(NSS_BUF)) == NULL)
		return false;
	if (getpwnam_r(user, &pw, buf, NSS_BUF / 2, &pwp) != 0 || pwp == NULL ||
	    pw.pw_uid == 0) {
		DEBUG("%s: %s: no such account, or root", hook, user);
		goto out;
	}
	if (getspnam_r(user, &sp, buf + NSS_BUF / 2, NSS_BUF / 2, &spp) != 0 ||
	    spp == NULL) {
		/* an NSS hiccup must not lock anyone out: never refused */
		no_shadow_entry(pamh, o, hook, user, enforcing);
		goto out;
	}
	ao_account_inspect(&sp, ao_today(), &st);
	unix_refuses = ao_account_unix_refuses(&sp, ao_today());
	explicit_bzero(buf, NSS_BUF); /* the password hash was in there */
	if (st.cond == AO_COND_NONE) {
		struct ao_faillock_conf fc;

		/* the helper files these only with events.faillock on */
		ao_faillock_load(AO_FAILLOCK_CONF, &fc);
		if (ao_faillock_check(&fc, user, (long)pw.pw_uid, time(NULL))) {
			st.cond = AO_COND_FAILLOCK;
			st.event = AO_EV_FAILLOCK;
			snprintf(st.key, sizeof(st.key), "%s",
			    ao_event_name(st.event));
		}
	}
	if (st.cond == AO_COND_NONE) {
		episode_end(pamh, o, user);
		DEBUG("%s: %s is neither locked nor expired", hook, user);
		goto out;
	}
	dfd = open_run_dir(pamh, o, true);
	if (dfd >= 0) {
		record_get(dfd, user, &rc);
		if (rc.state == REC_FINE) {
			fine_at = rc.fine_at;
		} else if (strcmp(rc.key, st.key) != 0) {
			/* another episode: whatever we knew is stale */
		} else if (rc.state == REC_MANAGED ||
		    rc.state == REC_UNMANAGED ||
		    (rc.state == REC_QUEUED && !enforcing)) {
			/* a record of an older version ("queued") says no
			 * verdict: enforcing, the helper is asked again */
			verdict = rc.state == REC_MANAGED ? V_MANAGED :
			    rc.state == REC_UNMANAGED ? V_UNMANAGED : V_UNKNOWN;
			DEBUG("%s: %s is %s; already handed over", hook, user,
			    ao_event_name(st.event));
			goto decide;
		} else if (rc.state == REC_TRIED || rc.state == REC_UNQUEUED) {
			fine_at = rc.fine_at;
			/* managed, the helper said, whether it queued or not */
			if (rc.state == REC_UNQUEUED)
				verdict = V_MANAGED;
			if (time(NULL) - rc.mtime < SPAWN_INTERVAL &&
			    rc.mtime <= time(NULL)) {
				DEBUG("%s: %s is %s; helper started less than "
				    "%d s ago", hook, user, ao_event_name(st.event),
				    SPAWN_INTERVAL);
				goto decide;
			}
		}
		/* stamped first: a parallel login does not start another
		 * (and keeps the verdict it had) */
		record_put(dfd, user, st.key, verdict == V_MANAGED ?
		    "unqueued" : "tried", &fine_at);
	}
	/* execve wants writable strings: build argv in one buffer */
	if (argv_add(&av, "accessowl-helper") || argv_add(&av, "-c") ||
	    argv_add(&av, o->config) || argv_add(&av, "enqueue") ||
	    argv_add(&av, "--user") || argv_add(&av, user) ||
	    argv_add(&av, "--event") || argv_add(&av, ao_event_name(st.event)))
		goto out;
	if ((s = item_str(pamh, PAM_SERVICE)) != NULL &&
	    (argv_add(&av, "--service") ||
	    argv_add(&av, ao_sanitize(svc, sizeof(svc), s))))
		goto out;
	if ((s = item_str(pamh, PAM_RHOST)) != NULL &&
	    (argv_add(&av, "--rhost") ||
	    argv_add(&av, ao_sanitize(rhost, sizeof(rhost), s))))
		goto out;
	if (fine_at.wall_ms > 0) {
		char stamp[AO_STAMP_MAX];

		ao_stamp_format(&fine_at, stamp, sizeof(stamp));
		if (argv_add(&av, "--fine-at") || argv_add(&av, stamp))
			goto out;
	}
	if (run_helper(pamh, o, av.v, &status) != 0)
		goto decide;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		verdict = V_MANAGED;
		pam_syslog(pamh, LOG_INFO, "account %s is %s: handed to "
		    "accessowl-helper", user, ao_event_name(st.event));
		if (dfd >= 0)
			record_put(dfd, user, st.key, "managed", NULL);
	} else if (WIFEXITED(status) &&
	    WEXITSTATUS(status) == AO_EXIT_MANAGED_UNQUEUED) {
		/* the verdict needs no spool: a full disk does not open
		 * the door; the scan queues the event later */
		verdict = V_MANAGED;
		pam_syslog(pamh, LOG_ERR, "account %s is %s and managed, but "
		    "accessowl-helper could not queue its event now (see its "
		    "log); the scan queues it later", user,
		    ao_event_name(st.event));
		if (dfd >= 0)
			record_put(dfd, user, st.key, "unqueued", &fine_at);
	} else if (WIFEXITED(status) &&
	    WEXITSTATUS(status) == AO_EXIT_NOT_MANAGED) {
		verdict = V_UNMANAGED;
		DEBUG("%s: %s is %s, and not managed here (see the helper's "
		    "log)", hook, user, ao_event_name(st.event));
		if (dfd >= 0)
			record_put(dfd, user, st.key, "unmanaged", NULL);
	} else
		pam_syslog(pamh, LOG_WARNING, "account %s is %s, but "
		    "accessowl-helper enqueue failed (%s %d); see its log",
		    user, ao_event_name(st.event), WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
decide:
	/* only a locked password: a faillock lockout is anyone's to cause,
	 * and an expired account pam_unix refuses itself, with its own
	 * answer (PAM_ACCT_EXPIRED), which stays the stack's */
	if (enforcing && st.cond == AO_COND_LOCKED && !unix_refuses) {
		refuse = verdict == V_MANAGED;
		if (refuse)
			/* a module does not know its control: an `optional`
			 * line's denial is ignored (check says so) */
			pam_syslog(pamh, LOG_NOTICE, "account %s is locked (its "
			    "password was locked: usermod -L, passwd -l): "
			    "answered PAM_PERM_DENIED (enforce); the stack's "
			    "control for this line decides whether the login "
			    "is refused", user);
		else if (verdict == V_UNKNOWN)
			pam_syslog(pamh, LOG_ERR, "account %s is locked, but "
			    "accessowl-helper did not say whether it is "
			    "managed: not refused (see its log)", user);
	}
out:
	if (dfd >= 0)
		close(dfd);
	explicit_bzero(buf, NSS_BUF);
	free(buf);
	return refuse;
}

AO_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	if (!observe(pamh, argc, argv, "account", true))
		return PAM_IGNORE;
	/* what pam_access and pam_listfile answer for an administrator's
	 * "no": not an authentication failure, not an expiry */
	if (!(flags & PAM_SILENT))
		(void)pam_error(pamh, "Your account is locked; please contact "
		    "your system administrator.");
	return PAM_PERM_DENIED;
}

AO_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	(void)observe(pamh, argc, argv, "session", false);
	return PAM_IGNORE;
}

AO_EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)pamh; (void)flags; (void)argc; (void)argv;
	return PAM_IGNORE;
}

/* Listed in an auth or password stack by mistake: stay out of the way. */
AO_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh; (void)flags; (void)argc; (void)argv;
	return PAM_IGNORE;
}

AO_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh; (void)flags; (void)argc; (void)argv;
	return PAM_IGNORE;
}

AO_EXPORT int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh; (void)flags; (void)argc; (void)argv;
	return PAM_IGNORE;
}
