/*
 * The durable queue and the state files (spool.c).  They refuse to run as
 * root by design: the first group checks that (as root only); main() then
 * drops to uid/gid 65534, for good, and the second group runs as that user
 * in its own temporary directories, made after the drop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "record.h"
#include "spool.h"

#define NOBODY 65534

static char base[64];

/* base/name */
static const char *
at(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", base, name);
	return p[i];
}

static int
fix_mode(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		(void)chmod(p, 0700);
	return 0;
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int
setup(void **state)
{
	(void)state;
	strcpy(base, "/tmp/ao-spool-XXXXXX");
	return mkdtemp(base) == NULL ? -1 : 0;
}

/* modes first: a test may leave a directory we could not empty */
static int
teardown(void **state)
{
	(void)state;
	(void)nftw(base, fix_mode, 16, FTW_PHYS);
	return nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

/* The whole of path (at most 4 KiB) into out; false if unreadable. */
static bool
get_file(const char *path, char *out, size_t n)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t got;

	out[0] = '\0';
	if (fd < 0)
		return false;
	got = read(fd, out, n - 1);
	close(fd);
	if (got < 0)
		return false;
	out[got] = '\0';
	return true;
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static unsigned
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return (unsigned)(st.st_mode & 07777);
}

/* Entries of dir whose name starts with prefix ("" for all). */
static size_t
count(const char *dir, const char *prefix)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

#define GUARD_NAME "test_spool"
#include "guard.h"

/* What the code under test logs to stderr between the two calls. */
static int saved_stderr = -1;

static void
capture_begin(void)
{
	int fd = open(at("stderr"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);

	assert_true(fd >= 0);
	fflush(stderr);
	assert_true((saved_stderr = dup(STDERR_FILENO)) >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

static void
capture_end(char *out, size_t n)
{
	fflush(stderr);
	assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	assert_true(get_file(at("stderr"), out, n));
	assert_int_equal(unlink(at("stderr")), 0);
}

/* Set path's mtime (and atime) to unix time t. */
static void
set_mtime(const char *path, long long t)
{
	struct timespec ts[2] = { { (time_t)t, 0 }, { (time_t)t, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * on: every descriptor taken (a low RLIMIT_NOFILE, filled with /dev/null),
 * so that the next open fails with EMFILE; off: all given back.
 */
static void
out_of_fds(bool on)
{
	static struct rlimit saved;
	static int fds[256];
	static size_t n;
	struct rlimit low;
	int fd;

	if (!on) {
		while (n > 0)
			close(fds[--n]);
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
		return;
	}
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = 256;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < sizeof(fds) / sizeof(fds[0]) &&
	    (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fds[n++] = fd;
}

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210"

static void
mkev(struct ao_event_rec *ev, const char *id, long long created,
    const char *user)
{
	assert_int_equal(ao_event_init(ev), AO_OK);
	memcpy(ev->id, id, 33);
	assert_int_equal(ao_set(&ev->user, user), AO_OK);
	assert_int_equal(ao_set(&ev->event, "locked"), AO_OK);
	assert_int_equal(ao_set(&ev->episode, "locked:1"), AO_OK);
	assert_int_equal(ao_set(&ev->email, "alice@example.com"), AO_OK);
	assert_int_equal(ao_set(&ev->email_source, "identity.map"), AO_OK);
	assert_int_equal(ao_set(&ev->host, "web-1"), AO_OK);
	ev->uid = 1001;
	ev->created = created;
}

static void
add_state(struct ao_event_rec *ev, const char *id, enum ao_st_status st)
{
	char key[AO_KEY_MAX];

	ev->states = calloc(1, sizeof(*ev->states));
	assert_non_null(ev->states);
	ev->nstates = 1;
	ao_event_key(ev, id, key, sizeof(key));
	assert_int_equal(ao_set(&ev->states[0].id, id), AO_OK);
	assert_int_equal(ao_set(&ev->states[0].key, key), AO_OK);
	assert_int_equal(ao_set(&ev->states[0].app_title, "GitHub"), AO_OK);
	ev->states[0].status = st;
}

static void
open_spool(struct ao_spool *sp)
{
	assert_int_equal(ao_dir_prepare(at("spool"), false, 0, 0), AO_OK);
	assert_int_equal(ao_spool_open(at("spool"), sp), AO_OK);
}

/* ---- as root ----------------------------------------------------------- */

/* Root never works by name in the service user's directories. */
static void
root_refused(void **state)
{
	struct ao_state_out o;
	struct ao_spool sp;
	char out[64], *text = (char *)(uintptr_t)1;
	size_t len;
	int q;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(mkdir(at("episodes"), 0700), 0);
	put_file(at("episodes/alice"), "locked:1\n");
	put_file(at("scan.state"), "x\n");

	memset(&sp, 0, sizeof(sp));
	assert_int_equal(ao_spool_open(base, &sp), AO_ERR_PERM);
	for (q = 0; q < AO_Q_COUNT; q++)
		assert_int_equal(sp.fd[q], -1);
	assert_int_equal(sp.lockfd, -1);
	assert_int_equal(sp.rootfd, -1);
	/* nothing made: no queue/, no .lock */
	assert_false(exists(at("queue")));
	assert_false(exists(at(".lock")));

	/* records: not read, not written, not removed */
	strcpy(out, "junk");
	assert_int_not_equal(ao_record_read(base, "episodes", "alice", out,
	    sizeof(out)), AO_OK);
	assert_string_equal(out, "");
	assert_int_not_equal(ao_record_write(base, "episodes", "bob", "x"),
	    AO_OK);
	assert_false(exists(at("episodes/bob")));
	assert_int_not_equal(ao_record_write(base, "people", "bob", "x"),
	    AO_OK);
	assert_false(exists(at("people")));
	(void)ao_record_remove(base, "episodes", "alice");
	assert_true(exists(at("episodes/alice")));

	/* state files likewise */
	assert_int_not_equal(ao_state_read(base, "scan.state", 1024, &text,
	    &len), AO_OK);
	assert_null(text);
	assert_int_not_equal(ao_state_begin(&o, base), AO_OK);
	assert_int_not_equal(ao_state_remove_dir(base, "episodes"), AO_OK);
	assert_true(exists(at("episodes/alice")));
	assert_int_equal(count(base, ""), 2);   /* episodes, scan.state */
}

/*
 * As root, ao_dir_prepare makes the top level for the service user and
 * chowns it, only in a parent nobody but root may write.
 */
static void
dir_prepare_as_root(void **state)
{
	enum setup { NONE, OWNED, ROOTS, GROUPW };
	static const struct {
		mode_t pmode;           /* of the parent, base/p */
		uid_t puid;
		enum setup setup;
		int want;
	} cases[] = {
		{ 0755, 0, NONE, AO_OK },
		{ 0700, 0, OWNED, AO_OK },
		{ 0755, 0, ROOTS, AO_ERR_PERM },   /* not the service user's */
		{ 0755, 0, GROUPW, AO_ERR_PERM },
		{ 0777, 0, NONE, AO_ERR_PERM },    /* others may swap it */
		{ 01777, 0, NONE, AO_ERR_PERM },   /* like /tmp */
		{ 0775, 0, NONE, AO_ERR_PERM },
		{ 0755, NOBODY, NONE, AO_ERR_PERM }, /* not root's */
	};
	size_t i;

	(void)state;
	if (geteuid() != 0)
		skip();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = at("p/spool");
		struct stat st;
		int r;

		assert_int_equal(mkdir(at("p"), 0700), 0);
		switch (cases[i].setup) {
		case NONE:
			break;
		case OWNED:
			assert_int_equal(mkdir(p, 0700), 0);
			assert_int_equal(chown(p, NOBODY, NOBODY), 0);
			break;
		case ROOTS:
			assert_int_equal(mkdir(p, 0700), 0);
			break;
		case GROUPW:
			assert_int_equal(mkdir(p, 0700), 0);
			assert_int_equal(chmod(p, 0770), 0);
			assert_int_equal(chown(p, NOBODY, NOBODY), 0);
			break;
		}
		assert_int_equal(chmod(at("p"), cases[i].pmode), 0);
		assert_int_equal(chown(at("p"), cases[i].puid, 0), 0);
		r = ao_dir_prepare(p, true, NOBODY, NOBODY);
		if (r != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, r,
			    cases[i].want);
		if (cases[i].setup == NONE) {
			if (r != AO_OK) {
				assert_false(exists(p));
			} else {
				assert_int_equal(lstat(p, &st), 0);
				assert_int_equal(st.st_uid, NOBODY);
				assert_int_equal(st.st_gid, NOBODY);
				assert_int_equal(st.st_mode & 07777, 0700);
			}
		}
		(void)rmdir(p);
		assert_int_equal(rmdir(at("p")), 0);
	}
}

/* ---- as the service user ---------------------------------------------- */

static void
dir_prepare_table(void **state)
{
	enum setup { NONE, DIR0700, DIR0755, DIR0770, DIR0702, LINK, FILE_ };
	static const struct {
		const char *name;
		enum setup setup;
		bool as_root;
		int want;
	} cases[] = {
		{ "new", NONE, false, AO_OK },
		{ "d", DIR0700, false, AO_OK },
		{ "d", DIR0755, false, AO_OK },
		{ "d", DIR0770, false, AO_ERR_PERM },   /* group-writable */
		{ "d", DIR0702, false, AO_ERR_PERM },   /* world-writable */
		{ "d", LINK, false, AO_ERR_PERM },      /* symlink to a good one */
		{ "d", FILE_, false, AO_ERR_PERM },
		{ "nope/d", NONE, false, AO_ERR_SYSTEM }, /* no parent */
		/* root makes nothing where others may write (here: not root's) */
		{ "d", NONE, true, AO_ERR_PERM },
		{ "d", DIR0700, true, AO_ERR_PERM },
	};
	static const mode_t modes[] = { 0, 0700, 0755, 0770, 0702 };
	size_t i;

	(void)state;
	assert_int_equal(mkdir(at("good"), 0700), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = at(cases[i].name);
		int r;

		switch (cases[i].setup) {
		case NONE:
			break;
		case LINK:
			assert_int_equal(symlink(at("good"), p), 0);
			break;
		case FILE_:
			put_file(p, "x\n");
			break;
		default:
			assert_int_equal(mkdir(p, 0700), 0);
			assert_int_equal(chmod(p, modes[cases[i].setup]), 0);
		}
		r = ao_dir_prepare(p, cases[i].as_root, NOBODY, NOBODY);
		if (r != cases[i].want)
			fail_msg("case %zu (%s): got %d, want %d", i,
			    cases[i].name, r, cases[i].want);
		if (cases[i].setup == NONE) {
			/* made 0700 exactly when accepted */
			if (r == AO_OK)
				assert_int_equal(mode_of(p), 0700);
			else
				assert_false(exists(p));
		} else if (cases[i].setup != LINK && cases[i].setup != FILE_) {
			/* an existing one is never quietly "fixed" */
			assert_int_equal(mode_of(p), modes[cases[i].setup]);
		}
		(void)rmdir(p);
		(void)unlink(p);
	}
	/* names it cannot take apart */
	assert_int_equal(ao_dir_prepare("relative", false, 0, 0),
	    AO_ERR_CONFIG);
	assert_int_equal(ao_dir_prepare(at("trailing/"), false, 0, 0),
	    AO_ERR_CONFIG);
	/* the spool's top level is the same check */
	assert_int_equal(mkdir(at("spool"), 0770), 0);
	assert_int_equal(chmod(at("spool"), 0770), 0);
	assert_int_equal(ao_spool_prepare(at("spool"), false, 0, 0),
	    AO_ERR_PERM);
}

static void
spool_open_layout(void **state)
{
	static const char *const subs[] = { "spool/queue", "spool/parked",
	    "spool/done" };
	struct ao_spool sp, sp2;
	struct stat st;
	size_t i;
	int q;

	(void)state;
	/* it must exist */
	assert_int_equal(ao_spool_open(at("spool"), &sp), AO_ERR_PERM);
	for (q = 0; q < AO_Q_COUNT; q++)
		assert_int_equal(sp.fd[q], -1);
	assert_false(exists(at("spool")));

	open_spool(&sp);
	for (i = 0; i < 3; i++) {
		assert_int_equal(lstat(at(subs[i]), &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0700);
		assert_int_equal(st.st_uid, geteuid());
	}
	/* .lock is the deliverer's, made when it first locks */
	assert_false(exists(at("spool/.lock")));
	assert_int_equal(ao_spool_lock(&sp, 0), AO_OK);
	assert_int_equal(lstat(at("spool/.lock"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0);
	ao_spool_unlock(&sp);
	/* opened again: the same layout, nothing added */
	assert_int_equal(ao_spool_open(at("spool"), &sp2), AO_OK);
	assert_int_equal(ao_spool_lock(&sp2, 0), AO_OK);
	assert_int_equal(count(at("spool"), ""), 4);
	ao_spool_close(&sp2);
	ao_spool_close(&sp);
	for (q = 0; q < AO_Q_COUNT; q++)
		assert_int_equal(sp.fd[q], -1);
	assert_int_equal(sp.lockfd, -1);
	assert_int_equal(sp.rootfd, -1);

	assert_string_equal(ao_queue_name(AO_Q_QUEUE), "queued");
	assert_string_equal(ao_queue_name(AO_Q_PARKED), "parked");
	assert_string_equal(ao_queue_name(AO_Q_DONE), "delivered");
	assert_string_equal(ao_queue_name(AO_Q_COUNT), "?");
}

/*
 * An entry of the spool that is not what it must be: the error names it,
 * says what it is and how to fix it.  A queue directory stops the spool
 * (every command needs it); .lock stops deliveries only.  Nothing is
 * followed, waited on or made in its place.
 */
static void
spool_odd_entries(void **state)
{
	enum kind { FILE_, DIR_, FIFO_, LINK_ };
	static const struct {
		const char *entry;
		enum kind kind;
		int open_want, lock_want;
		const char *says;
	} cases[] = {
		{ ".lock", DIR_, AO_OK, AO_ERR_SYSTEM, "/.lock: it is a "
		    "directory, not a regular file; move it aside" },
		{ ".lock", FIFO_, AO_OK, AO_ERR_SYSTEM, "/.lock: it is a FIFO, "
		    "not a regular file" },
		{ ".lock", LINK_, AO_OK, AO_ERR_SYSTEM, "/.lock: it is a "
		    "symbolic link, not a regular file" },
		{ "parked", FILE_, AO_ERR_PERM, 0, "/parked is a regular file, "
		    "not a directory; move it aside" },
		{ "parked", FIFO_, AO_ERR_PERM, 0, "/parked is a FIFO, not a "
		    "directory" },
		{ "parked", LINK_, AO_ERR_PERM, 0, "/parked is a symbolic link, "
		    "not a directory" },
		{ "queue", FILE_, AO_ERR_PERM, 0, "/queue is a regular file" },
		{ "done", DIR_, AO_OK, AO_OK, NULL },
	};
	char entry[64], log[2048], text[64];
	struct ao_spool sp;
	size_t i;
	int r;

	(void)state;
	put_file(at("target"), "keep\n");
	assert_int_equal(mkdir(at("target.d"), 0700), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		open_spool(&sp);
		ao_spool_close(&sp);
		snprintf(entry, sizeof(entry), "spool/%s", cases[i].entry);
		(void)rmdir(at(entry));
		(void)unlink(at(entry));
		switch (cases[i].kind) {
		case FILE_: put_file(at(entry), "x\n"); break;
		case DIR_: assert_int_equal(mkdir(at(entry), 0700), 0); break;
		case FIFO_: assert_int_equal(mkfifo(at(entry), 0600), 0); break;
		case LINK_:
			assert_int_equal(symlink(at(cases[i].entry[0] == '.' ?
			    "target" : "target.d"), at(entry)), 0);
			break;
		}
		guard();
		capture_begin();
		r = ao_spool_open(at("spool"), &sp);
		if (r == AO_OK && cases[i].open_want == AO_OK) {
			int l = ao_spool_lock(&sp, 0);

			if (l != cases[i].lock_want)
				fail_msg("case %zu: lock %d, want %d", i, l,
				    cases[i].lock_want);
		}
		capture_end(log, sizeof(log));
		unguard();
		if (r != cases[i].open_want)
			fail_msg("case %zu: open %d, want %d", i, r,
			    cases[i].open_want);
		if (cases[i].says != NULL && strstr(log, cases[i].says) == NULL)
			fail_msg("case %zu: logged \"%s\"", i, log);
		if (cases[i].says == NULL && log[0] != '\0')
			fail_msg("case %zu: logged \"%s\"", i, log);
		if (r == AO_OK)
			ao_spool_close(&sp);
		/* what a link pointed at is untouched */
		assert_int_equal(count(at("target.d"), ""), 0);
		assert_true(get_file(at("target"), text, sizeof(text)));
		assert_string_equal(text, "keep\n");
		(void)rmdir(at(entry));
		(void)unlink(at(entry));
	}
}

static void
put_list_get(void **state)
{
	struct ao_event_rec a, b, got;
	struct ao_spool sp;
	char **names = NULL;
	size_t n = 99;

	(void)state;
	open_spool(&sp);
	mkev(&a, ID_A, 1700000000, "alice");
	add_state(&a, "st_1", AO_ST_FILED);
	mkev(&b, ID_B, 1600000000, "bob");      /* older */
	assert_int_equal(ao_spool_put(&sp, AO_Q_QUEUE, &a), AO_OK);
	assert_int_equal(ao_spool_put(&sp, AO_Q_QUEUE, &b), AO_OK);
	/* neither a temp file, a dot file nor another suffix is listed */
	put_file(at("spool/queue/.tmp-1234.json"), "{}");
	put_file(at("spool/queue/notes.txt"), "x");
	put_file(at("spool/queue/.json"), "x");

	assert_int_equal(ao_spool_list(&sp, AO_Q_QUEUE, &names, &n), AO_OK);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "1600000000-" ID_B ".json");
	assert_string_equal(names[1], "1700000000-" ID_A ".json");
	assert_int_equal(mode_of(at("spool/queue/1700000000-" ID_A ".json")) &
	    077, 0);

	assert_int_equal(ao_spool_get(&sp, AO_Q_QUEUE, names[1], &got), AO_OK);
	assert_string_equal(got.id, ID_A);
	assert_string_equal(got.user, "alice");
	assert_int_equal(got.uid, 1001);
	assert_string_equal(got.event, "locked");
	assert_string_equal(got.episode, "locked:1");
	assert_string_equal(got.email, "alice@example.com");
	assert_string_equal(got.email_source, "identity.map");
	assert_string_equal(got.host, "web-1");
	assert_int_equal(got.created, 1700000000);
	assert_int_equal(got.nstates, 1);
	assert_string_equal(got.states[0].id, "st_1");
	assert_string_equal(got.states[0].key, a.states[0].key);
	assert_string_equal(got.states[0].app_title, "GitHub");
	assert_int_equal(got.states[0].status, AO_ST_FILED);
	ao_event_free(&got);
	assert_int_equal(ao_spool_get(&sp, AO_Q_QUEUE, names[0], &got), AO_OK);
	assert_string_equal(got.user, "bob");
	assert_int_equal(got.nstates, 0);
	ao_event_free(&got);
	ao_names_free(names, n);

	/* an empty queue */
	assert_int_equal(ao_spool_list(&sp, AO_Q_PARKED, &names, &n), AO_OK);
	assert_int_equal(n, 0);
	ao_names_free(names, n);

	ao_event_free(&a);
	ao_event_free(&b);
	ao_spool_close(&sp);
}

static void
move(void **state)
{
	struct ao_event_rec ev, got;
	struct ao_spool sp;
	char **names;
	size_t n;

	(void)state;
	open_spool(&sp);
	mkev(&ev, ID_A, 1700000000, "alice");
	assert_int_equal(ao_spool_put(&sp, AO_Q_QUEUE, &ev), AO_OK);
	ev.attempts = 3;                /* the final state goes along */
	assert_int_equal(ao_spool_move(&sp, AO_Q_QUEUE, AO_Q_DONE, &ev), AO_OK);

	assert_int_equal(ao_spool_list(&sp, AO_Q_QUEUE, &names, &n), AO_OK);
	assert_int_equal(n, 0);
	ao_names_free(names, n);
	assert_int_equal(ao_spool_list(&sp, AO_Q_DONE, &names, &n), AO_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ao_spool_get(&sp, AO_Q_QUEUE, names[0], &got),
	    AO_ERR_NOTFOUND);
	ao_event_free(&got);
	assert_int_equal(ao_spool_get(&sp, AO_Q_DONE, names[0], &got), AO_OK);
	assert_int_equal(got.attempts, 3);
	ao_event_free(&got);
	ao_names_free(names, n);
	assert_int_equal(count(at("spool/queue"), ""), 0);
	assert_int_equal(count(at("spool/done"), ""), 1);
	assert_int_equal(count(at("spool/parked"), ""), 0);

	/* one rename: never in two queues, no temporary file left; a stale
	 * copy where it goes is replaced */
	ev.attempts = 4;
	assert_int_equal(ao_spool_put(&sp, AO_Q_PARKED, &ev), AO_OK);
	ev.attempts = 5;
	assert_int_equal(ao_spool_move(&sp, AO_Q_DONE, AO_Q_PARKED, &ev),
	    AO_OK);
	assert_int_equal(count(at("spool/done"), ""), 0);
	assert_int_equal(count(at("spool/parked"), ""), 1);
	assert_int_equal(ao_spool_list(&sp, AO_Q_PARKED, &names, &n), AO_OK);
	assert_int_equal(ao_spool_get(&sp, AO_Q_PARKED, names[0], &got), AO_OK);
	assert_int_equal(got.attempts, 5);
	ao_event_free(&got);
	ao_names_free(names, n);
	ao_event_free(&ev);
	ao_spool_close(&sp);
}

/*
 * An event in two queues (an older version's interrupted move): the copy
 * of the higher rank is the event (done/, then queue/, then parked/); a
 * lower one is removed only when the higher one can be read.
 */
static void
settle_copies(void **state)
{
	enum { Q = 1 << AO_Q_QUEUE, P = 1 << AO_Q_PARKED, D = 1 << AO_Q_DONE };
	static const struct {
		unsigned in;            /* the queues holding a copy */
		unsigned damaged;       /* ...of which these are damaged */
		enum ao_queue q;        /* the one asked about */
		int want;
		unsigned left;          /* the copies left */
	} cases[] = {
		{ Q, 0, AO_Q_QUEUE, AO_OK, Q },
		{ P, 0, AO_Q_PARKED, AO_OK, P },
		{ D, 0, AO_Q_DONE, AO_OK, D },
		{ Q | D, 0, AO_Q_QUEUE, AO_ERR_NOTFOUND, D },
		{ Q | D, 0, AO_Q_DONE, AO_OK, Q | D },
		{ P | Q, 0, AO_Q_PARKED, AO_ERR_NOTFOUND, Q },  /* re-keyed */
		{ P | Q, 0, AO_Q_QUEUE, AO_OK, P | Q },
		{ P | D, 0, AO_Q_PARKED, AO_ERR_NOTFOUND, D },
		{ P | Q | D, 0, AO_Q_PARKED, AO_ERR_NOTFOUND, Q | D },
		/* in doubt nothing is removed, nor acted on */
		{ Q | D, D, AO_Q_QUEUE, AO_ERR_TEMP, Q | D },
		{ P | Q, Q, AO_Q_PARKED, AO_ERR_TEMP, P | Q },
		/* a damaged lower copy is the higher one's leftover all the same */
		{ Q | D, Q, AO_Q_QUEUE, AO_ERR_NOTFOUND, D },
	};
	struct ao_event_rec ev;
	struct ao_spool sp;
	char name[128], path[192];
	size_t i;
	int q, r;

	(void)state;
	open_spool(&sp);
	mkev(&ev, ID_A, 1700000000, "alice");
	ao_event_filename(&ev, name, sizeof(name));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (q = 0; q < AO_Q_COUNT; q++) {
			if (!(cases[i].in & (1u << q)))
				continue;
			snprintf(path, sizeof(path), "spool/%s/%s",
			    ao_queue_dir(q), name);
			if (cases[i].damaged & (1u << q))
				put_file(at(path), "{ damaged");
			else
				assert_int_equal(ao_spool_put(&sp, q, &ev),
				    AO_OK);
		}
		r = ao_spool_settle_copies(&sp, cases[i].q, name);
		if (r != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, r,
			    cases[i].want);
		for (q = 0; q < AO_Q_COUNT; q++) {
			snprintf(path, sizeof(path), "spool/%s/%s",
			    ao_queue_dir(q), name);
			if (exists(at(path)) != !!(cases[i].left & (1u << q)))
				fail_msg("case %zu: %s %s", i, path,
				    exists(at(path)) ? "left" : "removed");
			(void)unlink(at(path));
		}
	}
	assert_true(ao_queue_rank(AO_Q_DONE) > ao_queue_rank(AO_Q_QUEUE));
	assert_true(ao_queue_rank(AO_Q_QUEUE) > ao_queue_rank(AO_Q_PARKED));
	ao_event_free(&ev);
	ao_spool_close(&sp);
}

static bool
keep_b(const char *id, void *ctx)
{
	(*(int *)ctx)++;
	return strcmp(id, ID_B) == 0;
}

/* Delivered events leave done/ once old by both clocks, unless kept;
 * queued and parked ones never. */
static void
prune_done(void **state)
{
	static const char *const ids[] = {
		ID_A, ID_B, "11111111111111111111111111111111",
		"22222222222222222222222222222222",
		"33333333333333333333333333333333",
	};
	struct ao_event_rec ev;
	struct ao_spool sp;
	struct timespec old[2] = { { 1700000000, 0 }, { 1700000000, 0 } };
	char name[128];
	size_t n, i;
	int asked = 0;

	(void)state;
	open_spool(&sp);
	for (i = 0; i < 5; i++) {
		/* the fourth happened recently; the others long ago */
		mkev(&ev, ids[i], i == 3 ? 1800000000 : 1700000000, "alice");
		assert_int_equal(ao_spool_put(&sp, i == 4 ? AO_Q_QUEUE :
		    AO_Q_DONE, &ev), AO_OK);
		ao_event_filename(&ev, name, sizeof(name));
		/* the third's file was written recently (a follow-up) */
		if (i != 2)
			assert_int_equal(utimensat(sp.fd[i == 4 ? AO_Q_QUEUE :
			    AO_Q_DONE], name, old, 0), 0);
		ao_event_free(&ev);
	}
	mkev(&ev, "44444444444444444444444444444444", 1700000000, "bob");
	assert_int_equal(ao_spool_put(&sp, AO_Q_PARKED, &ev), AO_OK);
	ao_event_free(&ev);
	/* not an event file: left alone */
	assert_int_equal(ao_durable_write(sp.fd[AO_Q_DONE], "notes.txt", "x",
	    1), AO_OK);

	assert_int_equal(ao_spool_prune_done(&sp, 1750000000, keep_b, &asked,
	    &n), AO_OK);
	assert_int_equal(n, 1);                 /* only A */
	assert_int_equal(asked, 2);             /* asked about A and B */
	assert_int_equal(count(at("spool/done"), "1700000000-" ID_A), 0);
	assert_int_equal(count(at("spool/done"), "1700000000-" ID_B), 1);
	assert_int_equal(count(at("spool/done"), "1700000000-1111"), 1);
	assert_int_equal(count(at("spool/done"), "1800000000-2222"), 1);
	assert_int_equal(count(at("spool/done"), "notes.txt"), 1);
	assert_int_equal(count(at("spool/queue"), ""), 1);
	assert_int_equal(count(at("spool/parked"), ""), 1);
	/* with nothing left to follow, B goes too, and only B */
	assert_int_equal(ao_spool_prune_done(&sp, 1750000000, NULL, NULL, &n),
	    AO_OK);
	assert_int_equal(n, 1);
	assert_int_equal(count(at("spool/done"), "1700000000-" ID_B), 0);
	assert_int_equal(count(at("spool/done"), ""), 3);
	ao_spool_close(&sp);
}

/*
 * What the service user (or a crash) may leave in queue/: each says what
 * it is.  Damaged (AO_ERR_DATA) needs a person; "cannot read now"
 * (AO_ERR_SYSTEM) is not damaged.  And made durable where it is (a
 * regular file only, never waited on).
 */
static void
get_hostile(void **state)
{
	static const struct {
		const char *name;
		int want;
		const char *why;
		int sync;
	} cases[] = {
		{ "bad.json", AO_ERR_DATA, "not a JSON object", AO_OK },
		{ "cut.json", AO_ERR_DATA, "not a JSON object", AO_OK },
		{ "wrong.json", AO_ERR_DATA, "a malformed record", AO_OK },
		{ "newer.json", AO_ERR_DATA, "a record of version 2, written "
		    "by a newer pam_accessowl: upgrade this host", AO_OK },
		{ "older.json", AO_ERR_DATA, "a record of version 0, which no "
		    "version writes", AO_OK },
		{ "big.json", AO_ERR_DATA, "larger than 67108864 bytes", AO_OK },
		{ "fifo.json", AO_ERR_DATA, "it is a FIFO, not a regular file",
		    AO_ERR_DATA },
		{ "link.json", AO_ERR_DATA, "it is a symbolic link, not a "
		    "regular file", AO_ERR_DATA },
		{ "dir.json", AO_ERR_DATA, "it is a directory, not a regular "
		    "file", AO_ERR_DATA },
		{ "unreadable.json", AO_ERR_DATA, "the service user may not "
		    "read it (owner uid ", AO_ERR_DATA },
		{ "missing.json", AO_ERR_NOTFOUND, "gone", AO_ERR_NOTFOUND },
	};
	struct ao_event_rec ev, got;
	struct ao_spool sp;
	char good[160], text[4096], *big, *v;
	size_t i;
	int r;

	(void)state;
	open_spool(&sp);
	mkev(&ev, ID_A, 1700000000, "alice");
	assert_int_equal(ao_spool_put(&sp, AO_Q_DONE, &ev), AO_OK);
	ao_event_free(&ev);
	snprintf(good, sizeof(good), "spool/done/1700000000-%s.json", ID_A);
	/* the link's target is good: following it would succeed */
	assert_int_equal(ao_spool_get(&sp, AO_Q_DONE, good + 11, &got), AO_OK);
	ao_event_free(&got);

	assert_true(get_file(at(good), text, sizeof(text)));
	put_file(at("spool/queue/bad.json"), "{not json");
	put_file(at("spool/queue/unreadable.json"), text);
	assert_int_equal(chmod(at("spool/queue/unreadable.json"), 0), 0);
	assert_non_null(v = strstr(text, "\"version\": 1"));
	v[11] = '2';
	put_file(at("spool/queue/newer.json"), text);
	v[11] = '0';
	put_file(at("spool/queue/older.json"), text);
	v[11] = '1';
	text[strlen(text) / 2] = '\0';
	put_file(at("spool/queue/cut.json"), text);
	assert_true(get_file(at(good), text, sizeof(text)));
	assert_non_null(strstr(text, "\"locked\""));
	memcpy(strstr(text, "\"locked\""), "\"lockex\"", 8);
	put_file(at("spool/queue/wrong.json"), text);
	assert_non_null(big = malloc(AO_EVENT_MAX_BYTES + 2));
	memset(big, ' ', AO_EVENT_MAX_BYTES + 1);
	big[AO_EVENT_MAX_BYTES + 1] = '\0';
	put_file(at("spool/queue/big.json"), big);
	free(big);
	assert_int_equal(mkfifo(at("spool/queue/fifo.json"), 0600), 0);
	assert_int_equal(symlink(at(good), at("spool/queue/link.json")), 0);
	assert_int_equal(mkdir(at("spool/queue/dir.json"), 0700), 0);

	guard();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = ao_spool_get(&sp, AO_Q_QUEUE, cases[i].name, &got);
		if (r != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].name, r,
			    cases[i].want);
		if (strstr(sp.why, cases[i].why) == NULL)
			fail_msg("%s: \"%s\"", cases[i].name, sp.why);
		/* ev is initialised whatever the outcome: freed here */
		assert_non_null(got.user);
		ao_event_free(&got);
		r = ao_spool_sync(&sp, AO_Q_QUEUE, cases[i].name);
		if (r != cases[i].sync)
			fail_msg("sync %s: got %d, want %d", cases[i].name, r,
			    cases[i].sync);
	}
	assert_int_equal(ao_spool_sync(&sp, AO_Q_DONE, good + 11), AO_OK);
	unguard();

	/* out of descriptors (EMFILE): a healthy file cannot be read now;
	 * that is not damage */
	out_of_fds(true);
	r = ao_spool_get(&sp, AO_Q_DONE, good + 11, &got);
	out_of_fds(false);
	ao_event_free(&got);
	assert_int_equal(r, AO_ERR_SYSTEM);
	assert_string_equal(sp.why, strerror(EMFILE));
	assert_int_equal(ao_spool_get(&sp, AO_Q_DONE, good + 11, &got), AO_OK);
	assert_string_equal(sp.why, "");
	ao_event_free(&got);
	ao_spool_close(&sp);
}

static void
lock(void **state)
{
	struct ao_spool a, b;
	long long t0;

	(void)state;
	open_spool(&a);
	/* a second open: a second open file description of .lock */
	assert_int_equal(ao_spool_open(at("spool"), &b), AO_OK);
	assert_int_equal(ao_spool_lock(&a, 0), AO_OK);
	t0 = now_ms();
	assert_int_equal(ao_spool_lock(&b, 0), AO_ERR_TEMP);
	assert_true(now_ms() - t0 < 500);       /* 0: try once */
	t0 = now_ms();
	assert_int_equal(ao_spool_lock(&b, 1), AO_ERR_TEMP);
	assert_true(now_ms() - t0 >= 900);      /* waited about a second */
	ao_spool_unlock(&a);
	assert_int_equal(ao_spool_lock(&b, 0), AO_OK);
	assert_int_equal(ao_spool_lock(&a, 0), AO_ERR_TEMP);
	ao_spool_close(&b);                     /* closing releases it */
	assert_int_equal(ao_spool_lock(&a, 0), AO_OK);
	ao_spool_close(&a);
}

static void
hold(void **state)
{
	static const char *const garbage[] = { "soon\n", "", "\n", "12x\n",
	    "-5\n", "99999999999999999999999\n", "0x10\n", "1700000000 1 2\n",
	    "1700000000 x\n", "1700000000  \n" };
	long long now = (long long)time(NULL);
	struct ao_spool sp;
	size_t i;

	(void)state;
	open_spool(&sp);
	assert_int_equal(ao_spool_hold(&sp), 0);
	assert_int_equal(ao_spool_set_hold(&sp, now + 2000), AO_OK);
	assert_int_equal(ao_spool_hold(&sp), now + 2000);
	/* a smaller, later answer does not shorten the hold */
	assert_int_equal(ao_spool_set_hold(&sp, 1000), AO_OK);
	assert_int_equal(ao_spool_hold(&sp), now + 2000);
	assert_int_equal(ao_spool_set_hold(&sp, now + 3000), AO_OK);
	assert_int_equal(ao_spool_hold(&sp), now + 3000);
	assert_int_equal(count(at("spool"), ".tmp-"), 0);

	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		long long h;

		put_file(at("spool/.hold"), garbage[i]);
		if ((h = ao_spool_hold(&sp)) != 0)
			fail_msg("\"%s\": hold %lld", garbage[i], h);
	}
	/* a damaged hold is replaced by the next one */
	assert_int_equal(ao_spool_set_hold(&sp, 1234), AO_OK);
	assert_int_equal(ao_spool_hold(&sp), 1234);

	/* not a regular file: none, never followed, never waited on */
	put_file(at("elsewhere"), "2000000000\n");
	assert_int_equal(unlink(at("spool/.hold")), 0);
	assert_int_equal(symlink(at("elsewhere"), at("spool/.hold")), 0);
	assert_int_equal(ao_spool_hold(&sp), 0);
	assert_int_equal(unlink(at("spool/.hold")), 0);
	assert_int_equal(mkfifo(at("spool/.hold"), 0600), 0);
	guard();
	assert_int_equal(ao_spool_hold(&sp), 0);
	unguard();
	ao_spool_close(&sp);
}

/* ao_durable_write replaces the name itself, never what a link points at. */
static void
durable_write(void **state)
{
	char text[64];
	int dfd;

	(void)state;
	assert_int_equal(mkdir(at("d"), 0700), 0);
	dfd = open(at("d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(ao_durable_write(dfd, "f", "one\n", 4), AO_OK);
	assert_true(get_file(at("d/f"), text, sizeof(text)));
	assert_string_equal(text, "one\n");
	assert_int_equal(mode_of(at("d/f")), 0600);
	assert_int_equal(ao_durable_write(dfd, "f", "two\n", 4), AO_OK);
	assert_true(get_file(at("d/f"), text, sizeof(text)));
	assert_string_equal(text, "two\n");

	put_file(at("victim"), "keep\n");
	assert_int_equal(symlink(at("victim"), at("d/l")), 0);
	assert_int_equal(ao_durable_write(dfd, "l", "new\n", 4), AO_OK);
	assert_true(get_file(at("victim"), text, sizeof(text)));
	assert_string_equal(text, "keep\n");
	assert_true(get_file(at("d/l"), text, sizeof(text)));  /* no link now */
	assert_string_equal(text, "new\n");
	assert_int_equal(count(at("d"), ".tmp-"), 0);
	close(dfd);
}

/*
 * What interrupted writes left: ".tmp-*" regular files older than
 * AO_TMP_STALE that no writer holds, in the spool, its queues, the state
 * directory and its subdirectories.  Nothing else.
 */
static void
clean_tmp(void **state)
{
	static const struct {
		const char *path;
		enum { REG, HELD, FRESH, FIFO_, DIR_, LINK_ } what;
		bool removed;
	} cases[] = {
		{ "spool/queue/.tmp-0000000000000001", REG, true },
		{ "spool/parked/.tmp-0000000000000002", REG, true },
		{ "spool/done/.tmp-0000000000000003", REG, true },
		{ "spool/.tmp-0000000000000004", REG, true },
		{ "state/.tmp-0000000000000005", REG, true },
		{ "state/follow/.tmp-0000000000000006", REG, true },
		{ "spool/queue/.tmp-0000000000000007", HELD, false },  /* live */
		{ "spool/queue/.tmp-0000000000000008", FRESH, false },
		{ "spool/queue/.tmp-0000000000000009", FIFO_, false },
		{ "spool/queue/.tmp-000000000000000a", DIR_, false },
		{ "spool/queue/.tmp-000000000000000b", LINK_, false },
		{ "spool/queue/1700000000-old.json", REG, false },
		{ "state/follow/0123456789abcdef0123456789abcdef", REG, false },
		{ "state/follow/deeper/.tmp-000000000000000c", REG, false },
	};
	long long now = (long long)time(NULL);
	struct ao_spool sp;
	char text[64];
	size_t i, removed = 99;
	int held = -1;

	(void)state;
	open_spool(&sp);
	assert_int_equal(mkdir(at("state"), 0700), 0);
	assert_int_equal(mkdir(at("state/follow"), 0700), 0);
	assert_int_equal(mkdir(at("state/follow/deeper"), 0700), 0);
	put_file(at("target"), "keep\n");
	set_mtime(at("target"), now - 2 * AO_TMP_STALE);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = at(cases[i].path);

		switch (cases[i].what) {
		case FIFO_:
			assert_int_equal(mkfifo(p, 0600), 0);
			break;
		case DIR_:
			assert_int_equal(mkdir(p, 0700), 0);
			break;
		case LINK_:
			assert_int_equal(symlink(at("target"), p), 0);
			break;
		default:
			put_file(p, "half a rec");
		}
		if (cases[i].what == HELD)
			/* what a writer holds from creation to rename */
			assert_true((held = open(p, O_RDONLY | O_CLOEXEC)) >= 0 &&
			    flock(held, LOCK_EX | LOCK_NB) == 0);
		if (cases[i].what != FRESH)
			set_mtime(p, now - AO_TMP_STALE - 60);
	}
	guard();
	assert_int_equal(ao_spool_clean_tmp(&sp, at("state"), now, &removed),
	    AO_OK);
	unguard();
	assert_int_equal(removed, 6);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (exists(at(cases[i].path)) == cases[i].removed)
			fail_msg("%s: %s", cases[i].path, cases[i].removed ?
			    "left" : "removed");
	assert_true(get_file(at("target"), text, sizeof(text)));
	assert_string_equal(text, "keep\n");
	/* once its writer is gone, the held one is a leftover too */
	close(held);
	assert_int_equal(ao_spool_clean_tmp(&sp, at("state"), now, &removed),
	    AO_OK);
	assert_int_equal(removed, 1);
	/* ao_durable_write leaves none, and holds the one it writes */
	assert_int_equal(ao_durable_write(sp.fd[AO_Q_QUEUE], "f", "x", 1),
	    AO_OK);
	assert_int_equal(count(at("spool/queue"), ".tmp-"), 4);
	ao_spool_close(&sp);
}

static void
records(void **state)
{
	char out[64], text[64];
	long long t, now;

	(void)state;
	assert_int_equal(mkdir(at("state"), 0700), 0);
	/* absent: not found, and the subdirectory is not made by a read */
	assert_int_equal(ao_record_read(at("state"), "episodes", "alice", out,
	    sizeof(out)), AO_ERR_NOTFOUND);
	assert_false(exists(at("state/episodes")));

	assert_int_equal(ao_record_write(at("state"), "episodes", "alice",
	    "locked:1"), AO_OK);
	assert_int_equal(mode_of(at("state/episodes")), 0700);
	assert_true(get_file(at("state/episodes/alice"), text, sizeof(text)));
	assert_string_equal(text, "locked:1\n");
	assert_int_equal(mode_of(at("state/episodes/alice")) & 077, 0);
	strcpy(out, "junk");
	assert_int_equal(ao_record_read(at("state"), "episodes", "alice", out,
	    sizeof(out)), AO_OK);
	assert_string_equal(out, "locked:1");

	now = now_ms();
	t = 0;
	assert_int_equal(ao_record_read_at(at("state"), "episodes", "alice",
	    out, sizeof(out), &t), AO_OK);
	assert_string_equal(out, "locked:1");
	if (t < now - 5000 || t > now + 5000)
		fail_msg("mtime %lld ms, now %lld ms", t, now);

	/* replaced; the first line only; cut to the buffer */
	assert_int_equal(ao_record_write(at("state"), "episodes", "alice",
	    "expired:2"), AO_OK);
	assert_int_equal(ao_record_read(at("state"), "episodes", "alice", out,
	    sizeof(out)), AO_OK);
	assert_string_equal(out, "expired:2");
	assert_int_equal(ao_record_read(at("state"), "episodes", "alice", out,
	    4), AO_OK);
	assert_string_equal(out, "exp");
	put_file(at("state/episodes/bob"), "first\nsecond\n");
	assert_int_equal(ao_record_read(at("state"), "episodes", "bob", out,
	    sizeof(out)), AO_OK);
	assert_string_equal(out, "first");
	assert_int_equal(count(at("state/episodes"), ".tmp-"), 0);

	assert_int_equal(ao_record_remove(at("state"), "episodes", "alice"),
	    AO_OK);
	assert_false(exists(at("state/episodes/alice")));
	assert_int_equal(ao_record_read(at("state"), "episodes", "alice", out,
	    sizeof(out)), AO_ERR_NOTFOUND);
	assert_int_equal(ao_record_remove(at("state"), "episodes", "alice"),
	    AO_OK);                         /* already gone */
	assert_int_equal(ao_record_remove(at("state"), "people", "alice"),
	    AO_OK);                         /* no such subdirectory */
	assert_false(exists(at("state/people")));
}

/* Names ao_username_ok refuses: nothing read, written or removed. */
static void
record_bad_names(void **state)
{
	static const char *const names[] = { "../x", ".hidden", "", "a/b",
	    "-x", "x\n", "..", "." };
	char out[64], text[64];
	size_t i;

	(void)state;
	assert_int_equal(mkdir(at("state"), 0700), 0);
	assert_int_equal(mkdir(at("state/episodes"), 0700), 0);
	assert_int_equal(mkdir(at("state/episodes/a"), 0700), 0);
	put_file(at("state/x"), "planted\n");
	put_file(at("state/episodes/.hidden"), "planted\n");
	put_file(at("state/episodes/a/b"), "planted\n");
	put_file(at("state/episodes/-x"), "planted\n");

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int r;

		strcpy(out, "junk");
		r = ao_record_read(at("state"), "episodes", names[i], out,
		    sizeof(out));
		if (r != AO_ERR_NOTFOUND || out[0] != '\0')
			fail_msg("read \"%s\": %d \"%s\"", names[i], r, out);
		if ((r = ao_record_write(at("state"), "episodes", names[i],
		    "evil")) != AO_ERR_DATA)
			fail_msg("write \"%s\": %d", names[i], r);
		(void)ao_record_remove(at("state"), "episodes", names[i]);
	}
	/* every planted file as it was, and nothing new */
	assert_true(get_file(at("state/x"), text, sizeof(text)));
	assert_string_equal(text, "planted\n");
	assert_true(get_file(at("state/episodes/.hidden"), text, sizeof(text)));
	assert_string_equal(text, "planted\n");
	assert_true(get_file(at("state/episodes/a/b"), text, sizeof(text)));
	assert_string_equal(text, "planted\n");
	assert_true(get_file(at("state/episodes/-x"), text, sizeof(text)));
	assert_string_equal(text, "planted\n");
	assert_int_equal(count(at("state"), ""), 2);
	assert_int_equal(count(at("state/episodes"), ""), 3);
}

/* A record that is not a regular file: AO_ERR_DATA, never followed. */
static void
record_not_regular(void **state)
{
	static const char *const names[] = { "fifo", "dir", "link" };
	char out[64];
	size_t i;

	(void)state;
	assert_int_equal(mkdir(at("state"), 0700), 0);
	assert_int_equal(mkdir(at("state/episodes"), 0700), 0);
	put_file(at("state/target"), "locked:1\n");
	assert_int_equal(mkfifo(at("state/episodes/fifo"), 0600), 0);
	assert_int_equal(mkdir(at("state/episodes/dir"), 0700), 0);
	assert_int_equal(symlink(at("state/target"), at("state/episodes/link")),
	    0);
	guard();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int r = ao_record_read(at("state"), "episodes", names[i], out,
		    sizeof(out));

		if (r != AO_ERR_DATA || out[0] != '\0')
			fail_msg("%s: %d \"%s\"", names[i], r, out);
	}
	unguard();
	/* a subdirectory swapped for a symlink is not followed either */
	assert_int_equal(mkdir(at("other"), 0700), 0);
	put_file(at("other/alice"), "locked:9\n");
	assert_int_equal(symlink(at("other"), at("state/people")), 0);
	assert_int_not_equal(ao_record_read(at("state"), "people", "alice", out,
	    sizeof(out)), AO_OK);
	assert_string_equal(out, "");
}

/* A record or state file that cannot be read now (EMFILE) is neither
 * absent nor damaged: a caller that removes damaged ones keeps it. */
static void
records_cannot_read_now(void **state)
{
	char out[64], *text = NULL;
	size_t len = 0;
	int r1, r2, r3;

	(void)state;
	assert_int_equal(mkdir(at("state"), 0700), 0);
	assert_int_equal(ao_record_write(at("state"), "follow", "alice",
	    "1 x.json"), AO_OK);
	put_file(at("state/scan.state"), "x\n");
	out_of_fds(true);
	r1 = ao_record_read(at("state"), "follow", "alice", out, sizeof(out));
	r2 = ao_state_read(at("state"), "scan.state", 1024, &text, &len);
	r3 = ao_record_read(at("state"), "follow", "bob", out, sizeof(out));
	out_of_fds(false);
	assert_int_equal(r1, AO_ERR_SYSTEM);
	assert_int_equal(r2, AO_ERR_SYSTEM);
	assert_int_equal(r3, AO_ERR_SYSTEM);    /* not "there is none" */
	assert_null(text);
	assert_int_equal(ao_record_read(at("state"), "follow", "alice", out,
	    sizeof(out)), AO_OK);
	assert_string_equal(out, "1 x.json");
	assert_int_equal(ao_record_read(at("state"), "follow", "bob", out,
	    sizeof(out)), AO_ERR_NOTFOUND);
}

static void
state_files(void **state)
{
	struct ao_state_out o;
	char *text = (char *)(uintptr_t)1;
	size_t len = 99;

	(void)state;
	assert_int_equal(mkdir(at("state"), 0700), 0);
	assert_int_equal(ao_state_read(at("state"), "scan.state", 1024, &text,
	    &len), AO_ERR_NOTFOUND);
	assert_null(text);

	assert_int_equal(ao_state_begin(&o, at("state")), AO_OK);
	ao_state_put(&o, "hello ", 6);
	ao_state_put(&o, "", 0);
	ao_state_put(&o, "world\n", 6);
	assert_int_equal(ao_state_commit(&o, "scan.state"), AO_OK);
	assert_int_equal(ao_state_read(at("state"), "scan.state", 1024, &text,
	    &len), AO_OK);
	assert_int_equal(len, 12);
	assert_string_equal(text, "hello world\n");
	free(text);
	assert_int_equal(count(at("state"), ""), 1);    /* no temp file */
	assert_int_equal(mode_of(at("state/scan.state")) & 077, 0);

	/* replaced whole */
	assert_int_equal(ao_state_begin(&o, at("state")), AO_OK);
	ao_state_put(&o, "v2\n", 3);
	assert_int_equal(ao_state_commit(&o, "scan.state"), AO_OK);
	assert_int_equal(ao_state_read(at("state"), "scan.state", 1024, &text,
	    &len), AO_OK);
	assert_string_equal(text, "v2\n");
	free(text);

	/* aborted: the old file stays, nothing else left behind */
	assert_int_equal(ao_state_begin(&o, at("state")), AO_OK);
	assert_int_equal(count(at("state"), ".tmp-"), 1);  /* being written */
	ao_state_put(&o, "v3 that never was\n", 18);
	ao_state_abort(&o);
	assert_int_equal(count(at("state"), ""), 1);
	assert_int_equal(ao_state_read(at("state"), "scan.state", 1024, &text,
	    &len), AO_OK);
	assert_string_equal(text, "v2\n");
	free(text);
	/* aborted before anything was put, and for a name never written */
	assert_int_equal(ao_state_begin(&o, at("state")), AO_OK);
	ao_state_abort(&o);
	assert_int_equal(count(at("state"), ""), 1);

	/* larger than max */
	text = (char *)(uintptr_t)1;
	assert_int_equal(ao_state_read(at("state"), "scan.state", 2, &text,
	    &len), AO_ERR_DATA);
	assert_null(text);

	/* not a regular file */
	assert_int_equal(mkfifo(at("state/fifo"), 0600), 0);
	guard();
	assert_int_equal(ao_state_read(at("state"), "fifo", 1024, &text, &len),
	    AO_ERR_DATA);
	unguard();
	assert_null(text);
	assert_int_equal(symlink(at("state/scan.state"), at("state/link")), 0);
	assert_int_equal(ao_state_read(at("state"), "link", 1024, &text, &len),
	    AO_ERR_DATA);
	assert_null(text);

	/* no state directory */
	assert_int_equal(ao_state_read(at("none"), "scan.state", 1024, &text,
	    &len), AO_ERR_NOTFOUND);
	assert_int_equal(ao_state_begin(&o, at("none")), AO_ERR_SYSTEM);
}

static void
remove_dir(void **state)
{
	(void)state;
	assert_int_equal(mkdir(at("state"), 0700), 0);
	assert_int_equal(ao_record_write(at("state"), "episodes", "alice",
	    "locked:1"), AO_OK);
	assert_int_equal(ao_record_write(at("state"), "episodes", "bob",
	    "expired:1"), AO_OK);
	put_file(at("state/episodes/.odd"), "x");
	put_file(at("state/keep"), "x");

	assert_int_equal(ao_state_remove_dir(at("state"), "episodes"), AO_OK);
	assert_false(exists(at("state/episodes")));
	assert_true(exists(at("state/keep")));
	/* gone already: fine */
	assert_int_equal(ao_state_remove_dir(at("state"), "episodes"), AO_OK);

	/* a symlink in its place: what it points at is left alone */
	assert_int_equal(mkdir(at("other"), 0700), 0);
	put_file(at("other/alice"), "x");
	assert_int_equal(symlink(at("other"), at("state/people")), 0);
	(void)ao_state_remove_dir(at("state"), "people");
	assert_true(exists(at("other/alice")));
}

/*
 * Run as uid/gid 65534 (setgroups, then gid, then uid; checked).  Root is
 * kept as the saved uid only so that main() can become root again at the
 * end: valgrind's vgdb FIFOs in /tmp were made as root, and a process that
 * stayed uid 65534 could not remove them when it exits.  spool.c looks at
 * the effective uid alone.
 */
static gid_t groups0[64];
static int ngroups0 = -1;

static int
drop_to_nobody(void)
{
	gid_t g = NOBODY;
	uid_t ru, eu, su;

	if ((ngroups0 = getgroups(64, groups0)) < 0 ||
	    setgroups(1, &g) != 0 || setresgid(g, g, 0) != 0 ||
	    setresuid(NOBODY, NOBODY, 0) != 0 ||
	    getresuid(&ru, &eu, &su) != 0 || ru != NOBODY || eu != NOBODY)
		return -1;
	/* the uid change made us undumpable (fs.suid_dumpable 0): the ASan
	 * build's leak check needs to ptrace its own threads */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return 0;
}

static int
back_to_root(void)
{
	if (setresuid(0, 0, 0) != 0 || setresgid(0, 0, 0) != 0 ||
	    setgroups((size_t)ngroups0, groups0) != 0)
		return -1;
	return 0;
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest as_root[] = {
		T(root_refused),
		T(dir_prepare_as_root),
	};
	const struct CMUnitTest tests[] = {
		T(dir_prepare_table),
		T(spool_open_layout),
		T(spool_odd_entries),
		T(put_list_get),
		T(move),
		T(settle_copies),
		T(prune_done),
		T(get_hostile),
		T(lock),
		T(hold),
		T(durable_write),
		T(clean_tmp),
		T(records),
		T(record_bad_names),
		T(record_not_regular),
		T(records_cannot_read_now),
		T(state_files),
		T(remove_dir),
	};
	bool root = geteuid() == 0;
	int failed;

	failed = cmocka_run_group_tests_name("spool as root", as_root, NULL,
	    NULL);
	if (root && drop_to_nobody() != 0) {
		perror("test_spool: cannot drop to uid 65534");
		return 1;
	}
	failed += cmocka_run_group_tests_name("spool", tests, NULL, NULL);
	if (root && back_to_root() != 0) {
		perror("test_spool: cannot become root again");
		return 1;
	}
	return failed;
}
