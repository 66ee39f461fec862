/*
 * pam_accessowl: tells accessowl-helper when a locked or expired account
 * goes through the PAM account or session stack.
 *
 * Invariants — this code runs inside someone else's process (sshd, cron,
 * sudo, su), as root:
 * - It observes and never decides: every entry point returns PAM_IGNORE,
 *   whatever happens.
 * - It links libpam and libc only, starts no threads, never calls exit(),
 *   leaves no signal handler behind (SIGCHLD is saved, set to SIG_DFL for
 *   the wait and restored), leaves no zombie and leaks no fd or memory.
 * - It never blocks a login on the network: the helper's `enqueue` only
 *   writes to a local spool; the wait for it is bounded (HELPER_TIMEOUT_MS)
 *   and a helper that overstays is killed and reaped.
 * - The child gets a fixed helper path, an empty environment, stdin/out/err
 *   on /dev/null and no other fd.
 * - One episode, one spawn: the helper records each queued episode in
 *   <state_dir>/episodes/<user>; while that record matches the account's
 *   current condition no helper is started.  A failing helper is retried at
 *   most once per SPAWN_INTERVAL per episode (<state_dir>/spawned/<user>).
 *   Seeing the account no longer locked or expired ends the episode
 *   (the record is removed), so a later lock is a new episode.
 * - A pam_faillock lockout is reported as event "faillock" (one episode per
 *   lockout, key "faillock"); the helper files it only when
 *   events.faillock is on, because anyone can cause a lockout.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <shadow.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "account.h"
#include "faillock.h"
#include "spawn.h"
#include "text.h"

#ifndef AO_HELPER_PATH
#define AO_HELPER_PATH "/usr/sbin/accessowl-helper"
#endif
#ifndef AO_CONFIG_PATH
#define AO_CONFIG_PATH "/etc/accessowl/accessowl.conf"
#endif
#ifndef AO_STATE_DIR
#define AO_STATE_DIR "/var/lib/accessowl"
#endif

/* Built with -fvisibility=hidden; the version script lists the same. */
#define AO_EXPORT __attribute__((visibility("default")))

#define HELPER_TIMEOUT_MS 1000
#define SPAWN_INTERVAL 60      /* seconds between spawns for one user */
#define NSS_BUF 16384

struct opts {
	const char *helper;
	const char *config;
	const char *state_dir;
	bool debug;
};

static void
parse_args(pam_handle_t *pamh, int argc, const char **argv, struct opts *o)
{
	int i;

	o->helper = AO_HELPER_PATH;
	o->config = AO_CONFIG_PATH;
	o->state_dir = AO_STATE_DIR;
	o->debug = false;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "helper=", 7) == 0 && argv[i][7] == '/')
			o->helper = argv[i] + 7;
		else if (strncmp(argv[i], "config=", 7) == 0 && argv[i][7] == '/')
			o->config = argv[i] + 7;
		else if (strncmp(argv[i], "state_dir=", 10) == 0 &&
		    argv[i][10] == '/')
			o->state_dir = argv[i] + 10;
		else if (strcmp(argv[i], "debug") == 0)
			o->debug = true;
		else {
			char clean[128];

			pam_syslog(pamh, LOG_WARNING, "unknown or malformed "
			    "argument '%s' ignored (paths must be absolute)",
			    ao_sanitize(clean, sizeof(clean), argv[i]));
		}
	}
}

#define DEBUG(...) do { if (o->debug) pam_syslog(pamh, LOG_DEBUG, __VA_ARGS__); } while (0)

/* Open <state_dir>/<sub> as a directory without following a final link. */
static int
open_subdir(const char *state_dir, const char *sub, bool create)
{
	int dfd, fd;

	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create &&
	    mkdirat(dfd, sub, 0700) == 0)
		fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	close(dfd);
	return fd;
}

/* Does the helper's record say this episode is queued already? */
static bool
episode_recorded(const struct opts *o, const char *user, const char *key)
{
	char buf[AO_EPISODE_KEY_MAX + 2];
	ssize_t n;
	int dfd, fd;
	size_t klen = strlen(key);

	if ((dfd = open_subdir(o->state_dir, "episodes", false)) < 0)
		return false;
	fd = openat(dfd, user, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	if (fd < 0)
		return false;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return (size_t)n >= klen && memcmp(buf, key, klen) == 0 &&
	    (buf[klen] == '\0' || buf[klen] == '\n');
}

/*
 * The account is fine again: the episode, if any, is over, and so is the
 * spawn bound (a relock with the same hash has the same key, yet is new).
 */
static void
episode_end(pam_handle_t *pamh, const struct opts *o, const char *user)
{
	static const char *const subs[] = { "episodes", "spawned" };
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		int dfd = open_subdir(o->state_dir, subs[i], false);

		if (dfd < 0)
			continue;
		if (unlinkat(dfd, user, 0) == 0 && i == 0)
			DEBUG("account %s is no longer locked or expired: "
			    "episode ended", user);
		close(dfd);
	}
}

/*
 * Rate bound for a helper that fails: true (and the stamp renewed) unless
 * the helper was started for this same episode less than SPAWN_INTERVAL
 * seconds ago.  A new episode (another key) is never held back: it takes
 * an administrator's change, so it cannot come in floods.
 */
static bool
spawn_allowed(const struct opts *o, const char *user, const char *key)
{
	char buf[AO_EPISODE_KEY_MAX + 1];
	size_t klen = strlen(key);
	struct stat st;
	ssize_t n = -1;
	int dfd, fd;
	bool ok = true;

	if ((dfd = open_subdir(o->state_dir, "spawned", true)) < 0)
		return true; /* no state dir: the helper will say why */
	fd = openat(dfd, user, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK, 0600);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		do
			n = read(fd, buf, sizeof(buf) - 1);
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)klen && memcmp(buf, key, klen) == 0 &&
		    time(NULL) - st.st_mtime < SPAWN_INTERVAL &&
		    st.st_mtime <= time(NULL))
			ok = false;
	}
	if (ok && ftruncate(fd, 0) == 0 &&
	    pwrite(fd, key, klen, 0) == (ssize_t)klen)
		(void)futimens(fd, NULL);
	close(fd);
out:
	close(dfd);
	return ok;
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
run_helper(pam_handle_t *pamh, const struct opts *o, char *const argv[],
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

static void
observe(pam_handle_t *pamh, int argc, const char **argv, const char *hook)
{
	struct ao_account_status st;
	struct passwd pw, *pwp = NULL;
	struct spwd sp, *spp = NULL;
	struct opts opts, *o = &opts;
	char *buf = NULL, svc[64], rhost[256];
	const char *user, *s;
	struct argv av;
	int status = 0;

	memset(&av, 0, sizeof(av));

	parse_args(pamh, argc, argv, o);
	user = item_str(pamh, PAM_USER);
	if (user == NULL || !ao_username_ok(user)) {
		DEBUG("%s: no user, or a name we do not manage", hook);
		return;
	}
	if (geteuid() != 0) {
		DEBUG("%s: not running as root: cannot read shadow for %s",
		    hook, user);
		return;
	}
	if ((buf = malloc(NSS_BUF)) == NULL)
		return;
	if (getpwnam_r(user, &pw, buf, NSS_BUF / 2, &pwp) != 0 || pwp == NULL ||
	    pw.pw_uid == 0) {
		DEBUG("%s: %s: no such account, or root", hook, user);
		goto out;
	}
	if (getspnam_r(user, &sp, buf + NSS_BUF / 2, NSS_BUF / 2, &spp) != 0 ||
	    spp == NULL) {
		DEBUG("%s: %s: no shadow entry", hook, user);
		goto out;
	}
	ao_account_inspect(&sp, ao_today(), &st);
	explicit_bzero(buf, NSS_BUF); /* the password hash was in there */
	if (st.cond == AO_COND_NONE) {
		struct ao_faillock_conf fc;

		/* the helper files these only with events.faillock on */
		ao_faillock_load(AO_FAILLOCK_CONF, &fc);
		if (ao_faillock_check(&fc, user, (long)pw.pw_uid, time(NULL))) {
			st.cond = AO_COND_FAILLOCK;
			st.event = "faillock";
			snprintf(st.key, sizeof(st.key), "faillock");
		}
	}
	if (st.cond == AO_COND_NONE) {
		episode_end(pamh, o, user);
		DEBUG("%s: %s is neither locked nor expired", hook, user);
		goto out;
	}
	if (episode_recorded(o, user, st.key)) {
		DEBUG("%s: %s is %s; already handed over", hook, user, st.event);
		goto out;
	}
	if (!spawn_allowed(o, user, st.key)) {
		DEBUG("%s: %s is %s; helper started less than %d s ago", hook,
		    user, st.event, SPAWN_INTERVAL);
		goto out;
	}
	/* execve wants writable strings: build argv in one buffer */
	if (argv_add(&av, "accessowl-helper") || argv_add(&av, "-c") ||
	    argv_add(&av, o->config) || argv_add(&av, "enqueue") ||
	    argv_add(&av, "--user") || argv_add(&av, user) ||
	    argv_add(&av, "--event") || argv_add(&av, st.event))
		goto out;
	if ((s = item_str(pamh, PAM_SERVICE)) != NULL &&
	    (argv_add(&av, "--service") ||
	    argv_add(&av, ao_sanitize(svc, sizeof(svc), s))))
		goto out;
	if ((s = item_str(pamh, PAM_RHOST)) != NULL &&
	    (argv_add(&av, "--rhost") ||
	    argv_add(&av, ao_sanitize(rhost, sizeof(rhost), s))))
		goto out;
	if (run_helper(pamh, o, av.v, &status) != 0)
		goto out;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		pam_syslog(pamh, LOG_INFO, "account %s is %s: handed to "
		    "accessowl-helper", user, st.event);
	else
		pam_syslog(pamh, LOG_WARNING, "account %s is %s, but "
		    "accessowl-helper enqueue failed (%s %d); see its log",
		    user, st.event, WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
out:
	explicit_bzero(buf, NSS_BUF);
	free(buf);
}

AO_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	observe(pamh, argc, argv, "account");
	return PAM_IGNORE;
}

AO_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	observe(pamh, argc, argv, "session");
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
