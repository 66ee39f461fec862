#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "clock.h"
#include "err.h"
#include "spool_json.h"
#include "log.h"
#include "retry_after.h"
#include "secfile.h"
#include "spool.h"
#include "text.h"


static const char *const qdir[AO_Q_COUNT] = { "queue", "parked", "done" };

const char *
ao_queue_name(enum ao_queue q)
{
	static const char *const names[AO_Q_COUNT] = { "queued", "parked",
	    "delivered" };

	return q < AO_Q_COUNT ? names[q] : "?";
}

const char *
ao_queue_dir(enum ao_queue q)
{
	return q < AO_Q_COUNT ? qdir[q] : "?";
}

int
ao_queue_rank(enum ao_queue q)
{
	static const int rank[AO_Q_COUNT] = { [AO_Q_PARKED] = 0,
	    [AO_Q_QUEUE] = 1, [AO_Q_DONE] = 2 };

	return q < AO_Q_COUNT ? rank[q] : -1;
}

/* "a FIFO", ...: what a file that should be something else is. */
static const char *
kind_of(mode_t m)
{
	return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" :
	    S_ISLNK(m) ? "a symbolic link" : S_ISFIFO(m) ? "a FIFO" :
	    S_ISSOCK(m) ? "a socket" : "a device";
}

/* What dfd/name is, for a message; "missing" when there is nothing. */
static const char *
kind_at(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ?
	    kind_of(st.st_mode) : "missing";
}

/*
 * A directory was made in pfd (it may be O_PATH): fsync pfd, so that a
 * crash cannot forget it.  0, or -1 with errno.
 */
static int
sync_parent(int pfd)
{
	int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r, e;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/*
 * Root must never act by name inside a directory the service user can
 * write (it could plant links or FIFOs there, or swap directories).
 */
static int
refuse_root(const char *what)
{
	if (geteuid() != 0)
		return AO_OK;
	ao_err("refusing to open %s as root: the helper drops to the service "
	    "user first (this is a bug)", what);
	return AO_ERR_PERM;
}

/*
 * As root: make pfd/name owned by uid:gid.  It is made under a temporary
 * name, chowned through its descriptor, and renamed into place only if
 * nothing is there yet, so that a run racing us (two first logins at once)
 * never finds it still root's.  0, or -1 with errno (EEXIST: it exists).
 */
static int
make_owned(int pfd, const char *name, uid_t uid, gid_t gid)
{
	struct stat st;
	char tmp[64];
	int fd, e;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), ".accessowl-new-%ld", (long)getpid());
	/* one a crashed run of the same pid left: empty, never renamed */
	if (mkdirat(pfd, tmp, 0700) != 0 && (errno != EEXIST ||
	    unlinkat(pfd, tmp, AT_REMOVEDIR) != 0 || mkdirat(pfd, tmp, 0700) != 0))
		return -1;
	fd = openat(pfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, uid, gid) != 0 || fsync(fd) != 0 ||
	    renameat2(pfd, tmp, pfd, name, RENAME_NOREPLACE) != 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		(void)unlinkat(pfd, tmp, AT_REMOVEDIR);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

int
ao_dir_prepare(const char *dir, bool as_root, uid_t uid, gid_t gid)
{
	const char *slash = strrchr(dir, '/');
	char parent[4096];
	struct stat pst, st;
	int pfd = -1, fd = -1, r = AO_ERR_PERM;

	if (slash == NULL || strlen(dir) >= sizeof(parent) || slash[1] == '\0')
		return AO_ERR_CONFIG;
	memcpy(parent, dir, (size_t)(slash - dir));
	parent[slash - dir] = '\0';
	if (parent[0] == '\0')
		snprintf(parent, sizeof(parent), "/");
	/* O_PATH: the service user may traverse but not list the parent */
	pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || fstat(pfd, &pst) != 0) {
		ao_err("cannot open %s (parent of %s): %s", parent, dir,
		    strerror(errno));
		r = AO_ERR_SYSTEM;
		goto out;
	}
	/* root makes and chowns a directory only where nobody else can swap
	 * it between the two steps: in a parent only root may write */
	if (as_root && (pst.st_uid != 0 ||
	    (pst.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
		ao_err("%s (parent of %s) is writable by others than root; "
		    "put %s under a directory only root may write, such as "
		    "/var/lib", parent, dir, dir);
		goto out;
	}
	if ((as_root ? make_owned(pfd, slash + 1, uid, gid) :
	    mkdirat(pfd, slash + 1, 0700)) == 0) {
		if (sync_parent(pfd) != 0 && errno != EACCES) {
			ao_err("made %s, but cannot sync %s: %s", dir, parent,
			    strerror(errno));
			r = AO_ERR_SYSTEM;
			goto out;
		}
		/* (a parent this user may not read, it cannot sync either) */
	} else if (errno != EEXIST) {
		ao_err("cannot create %s: %s; create it (mode 0700, owned by "
		    "the service user)", dir, strerror(errno));
		r = errno == EACCES ? AO_ERR_PERM : AO_ERR_SYSTEM;
		goto out;
	}
	fd = openat(pfd, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		ao_err("%s is not a usable directory: %s", dir, strerror(errno));
		goto out;
	}
	if (as_root && st.st_uid != uid) {
		ao_err("%s is owned by uid %lu, not the service user (uid %lu); "
		    "fix: chown -R %lu:%lu %s", dir, (unsigned long)st.st_uid,
		    (unsigned long)uid, (unsigned long)uid, (unsigned long)gid,
		    dir);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		ao_err("%s is writable by group or others; fix: chmod 0700 %s",
		    dir, dir);
		goto out;
	}
	r = AO_OK;
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return r;
}

int
ao_spool_prepare(const char *dir, bool as_root, uid_t uid, gid_t gid)
{
	/* queue/, parked/ and done/ are made by ao_spool_open(), after the
	 * privilege drop */
	return ao_dir_prepare(dir, as_root, uid, gid);
}

/* dfd/name as a directory, made (0700, synced in dfd) if missing and
 * create; or -1 with errno. */
static int
open_sub(int dfd, const char *name, bool create)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	if (mkdirat(dfd, name, 0700) == 0) {
		if (sync_parent(dfd) != 0)
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

/* The spool's name for messages. */
static const char *
spool_path(const struct ao_spool *sp)
{
	return sp->dir[0] != '\0' ? sp->dir : "the spool";
}

/* Errors that are the spool's shape or ownership (AO_ERR_PERM), not a
 * passing failure (EMFILE, EIO: AO_ERR_SYSTEM, try later). */
static int
open_error(int e)
{
	return e == ENOENT || e == ENOTDIR || e == ELOOP || e == EACCES ||
	    e == EPERM ? AO_ERR_PERM : AO_ERR_SYSTEM;
}

int
ao_spool_open(const char *dir, struct ao_spool *sp)
{
	const char *kind;
	int q, r = AO_ERR_PERM;

	memset(sp, 0, sizeof(*sp));
	for (q = 0; q < AO_Q_COUNT; q++)
		sp->fd[q] = -1;
	sp->lockfd = -1;
	sp->rootfd = -1;
	snprintf(sp->dir, sizeof(sp->dir), "%s", dir);
	if (refuse_root(dir) != AO_OK)
		return AO_ERR_PERM;
	sp->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sp->rootfd < 0) {
		if ((r = open_error(errno)) == AO_ERR_PERM)
			ao_err("cannot open the spool %s: %s; check that it "
			    "exists and belongs to the service user", dir,
			    strerror(errno));
		else
			ao_err("cannot open the spool %s now: %s", dir,
			    strerror(errno));
		goto fail;
	}
	for (q = 0; q < AO_Q_COUNT; q++) {
		if ((sp->fd[q] = open_sub(sp->rootfd, qdir[q], true)) >= 0)
			continue;
		r = open_error(errno);
		kind = kind_at(sp->rootfd, qdir[q]);
		if (errno != EACCES && strcmp(kind, "a directory") != 0 &&
		    strcmp(kind, "missing") != 0)
			ao_err("cannot open the spool %s: %s/%s is %s, not a "
			    "directory; move it aside (a new one is made)",
			    dir, dir, qdir[q], kind);
		else if (r == AO_ERR_PERM)
			ao_err("cannot open the spool %s: %s/%s: %s; it must be "
			    "a directory of the service user", dir, dir,
			    qdir[q], strerror(errno));
		else
			ao_err("cannot open the spool %s now: %s/%s: %s", dir,
			    dir, qdir[q], strerror(errno));
		goto fail;
	}
	return AO_OK;
fail:
	ao_spool_close(sp);
	return r;
}

void
ao_spool_close(struct ao_spool *sp)
{
	int q;

	for (q = 0; q < AO_Q_COUNT; q++)
		if (sp->fd[q] >= 0)
			close(sp->fd[q]);
	if (sp->lockfd >= 0)
		close(sp->lockfd);
	if (sp->rootfd >= 0)
		close(sp->rootfd);
	for (q = 0; q < AO_Q_COUNT; q++)
		sp->fd[q] = -1;
	sp->lockfd = -1;
	sp->rootfd = -1;
}

/* <spool>/.lock, made if missing: a regular file, never followed or
 * waited on.  AO_OK, or AO_ERR_SYSTEM (logged). */
static int
open_lock(struct ao_spool *sp)
{
	struct stat st;
	int fd, e;

	fd = openat(sp->rootfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		sp->lockfd = fd;
		return AO_OK;
	}
	e = errno;
	if (fd >= 0)
		close(fd);
	if (fd >= 0 || e == EISDIR || e == ELOOP || e == ENXIO)
		ao_err("cannot take the deliverer's lock %s/.lock: it is %s, "
		    "not a regular file; move it aside (only deliveries use "
		    "it, and a new one is made)", spool_path(sp),
		    kind_at(sp->rootfd, ".lock"));
	else
		ao_err("cannot take the deliverer's lock %s/.lock: %s",
		    spool_path(sp), strerror(e));
	return AO_ERR_SYSTEM;
}

int
ao_flock_within(int fd, long ms)
{
	long waited = 0;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return AO_OK;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return AO_ERR_SYSTEM;
		if (waited >= ms)
			return AO_ERR_TEMP;
		usleep(10000);
		waited += 10;
	}
}

int
ao_spool_lock(struct ao_spool *sp, int wait_s)
{
	int i;

	if (sp->lockfd < 0 && open_lock(sp) != AO_OK)
		return AO_ERR_SYSTEM;
	for (i = 0; ; i++) {
		if (flock(sp->lockfd, LOCK_EX | LOCK_NB) == 0)
			return AO_OK;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ao_err("cannot take the deliverer's lock %s/.lock: %s",
			    spool_path(sp), strerror(errno));
			return AO_ERR_SYSTEM;
		}
		if (i >= wait_s * 10)
			return AO_ERR_TEMP;
		usleep(100000);
	}
}

void
ao_spool_unlock(struct ao_spool *sp)
{
	if (sp->lockfd >= 0)
		(void)flock(sp->lockfd, LOCK_UN);
}

/* A new temporary file in dirfd, held (flock) until it is closed: see
 * ao_spool_clean_tmp().  The fd, or -1 with errno. */
static int
tmp_create(int dirfd, char *tmp, size_t n)
{
	char rnd[17];
	int fd;

	if (ao_random_hex(rnd, 8) != AO_OK) {
		errno = EIO;
		return -1;
	}
	snprintf(tmp, n, ".tmp-%s", rnd);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	/* a fresh name nobody else has: this cannot fail but by a cleaner
	 * that thinks it stale, whose removal then fails the rename */
	if (fd >= 0)
		(void)flock(fd, LOCK_EX | LOCK_NB);
	return fd;
}

int
ao_durable_write(int dirfd, const char *name, const char *data, size_t len)
{
	char tmp[32];
	size_t off = 0;
	int fd, e = 0, r = AO_ERR_SYSTEM;

	if ((fd = tmp_create(dirfd, tmp, sizeof(tmp))) < 0)
		return AO_ERR_SYSTEM;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			goto out;
		}
		off += (size_t)n;
	}
	/* renamed while still held: the lock is what tells a live writer's
	 * file from a leftover */
	if (fsync(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0 ||
	    fsync(dirfd) != 0) {
		e = errno;
		goto out;
	}
	r = AO_OK;
out:
	close(fd); /* after a good fsync its result says nothing more */
	if (r != AO_OK) {
		(void)unlinkat(dirfd, tmp, 0);
		errno = e; /* what failed, not the clean-up */
	}
	return r;
}

/* Open dfd/name for reading if it is a regular file; never blocks. */
static int
open_regular(int dfd, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* The hold as stored: "<until> <set at>", or "<until>" as versions
 * before this wrote it (set_at 0).  AO_ERR_NOTFOUND when none or not
 * readable. */
static int
hold_read(struct ao_spool *sp, long long *until, long long *set_at)
{
	char buf[64], *end;
	ssize_t n;
	int fd;

	*until = *set_at = 0;
	if ((fd = open_regular(sp->rootfd, ".hold")) < 0)
		return AO_ERR_NOTFOUND;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return AO_ERR_NOTFOUND;
	buf[n] = '\0';
	errno = 0;
	*until = strtoll(buf, &end, 10);
	if (errno == 0 && end != buf && *end == ' ')
		*set_at = strtoll(end + 1, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    *until < 0) {
		*until = *set_at = 0;
		return AO_ERR_NOTFOUND;
	}
	return AO_OK;
}

static int
hold_write(struct ao_spool *sp, long long until, long long now)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%lld %lld\n", until, now);
	return ao_durable_write(sp->rootfd, ".hold", buf, strlen(buf));
}

long long
ao_spool_hold(struct ao_spool *sp)
{
	long long until, set_at;

	if (hold_read(sp, &until, &set_at) != AO_OK)
		return 0;
	return ao_deadline(until, set_at, AO_RETRY_AFTER_MAX + 1,
	    (long long)time(NULL));
}

long long
ao_spool_hold_settle(struct ao_spool *sp)
{
	long long until, set_at, h, now = (long long)time(NULL);

	if (hold_read(sp, &until, &set_at) != AO_OK)
		return 0;
	h = ao_deadline(until, set_at, AO_RETRY_AFTER_MAX + 1, now);
	/* set while the clock was ahead: the wait again from now, written,
	 * so that it runs out */
	if (h < until && h > now && hold_write(sp, h, now) != AO_OK)
		ao_warn("cannot write the 429 hold (.hold in the spool): %s",
		    strerror(errno));
	return h;
}

int
ao_spool_set_hold(struct ao_spool *sp, long long until)
{
	if (until <= ao_spool_hold(sp))
		return AO_OK;
	return hold_write(sp, until, (long long)time(NULL));
}

int
ao_spool_put(struct ao_spool *sp, enum ao_queue q,
    const struct ao_event_rec *ev)
{
	char name[128], *text = NULL;
	int r;

	ao_event_filename(ev, name, sizeof(name));
	if ((r = ao_spool_json_dump(ev, &text)) != AO_OK)
		return r;
	if (strlen(text) > AO_EVENT_MAX_BYTES) {
		/* never write what could not be read back */
		ao_err("event %s (account %s) would take %zu bytes, more than "
		    "the %u an event may have; not written", ev->id, ev->user,
		    strlen(text), AO_EVENT_MAX_BYTES);
		free(text);
		return AO_ERR_DATA;
	}
	r = ao_durable_write(sp->fd[q], name, text, strlen(text));
	if (r != AO_OK)
		ao_err("cannot write event %s to the spool (%s): %s", ev->id,
		    qdir[q], strerror(errno));
	free(text);
	return r;
}

/*
 * open_regular(dfd, name) failed with errno e: gone (AO_ERR_NOTFOUND), no
 * file we take (AO_ERR_DATA: a symlink, a FIFO, a directory, one we may
 * not read), or not now (AO_ERR_SYSTEM: EMFILE, ENFILE, EIO, ENOMEM...).
 * why (when not NULL) says which.
 */
static int
open_failed(int dfd, const char *name, int e, char *why, size_t n)
{
	struct stat st;
	bool seen = why != NULL &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;

	switch (e) {
	case ENOENT:
		if (why != NULL)
			snprintf(why, n, "gone");
		return AO_ERR_NOTFOUND;
	case EINVAL: /* open_regular: not a regular file */
	case ELOOP:  /* a symlink (O_NOFOLLOW) */
	case ENOTDIR: /* a record directory that is none */
	case ENXIO:  /* a socket */
	case ENODEV:
		if (why != NULL)
			snprintf(why, n, "it is %s, not a regular file", seen ?
			    kind_of(st.st_mode) : "not a regular file");
		return AO_ERR_DATA;
	case EACCES:
	case EPERM:
		if (seen)
			snprintf(why, n, "the service user may not read it "
			    "(owner uid %lu, mode %04o): give it back to the "
			    "service user, mode 0600", (unsigned long)st.st_uid,
			    (unsigned)(st.st_mode & 07777));
		else if (why != NULL)
			snprintf(why, n, "the service user may not read it: %s",
			    strerror(e));
		return AO_ERR_DATA;
	default:
		if (why != NULL)
			snprintf(why, n, "%s", strerror(e));
		return AO_ERR_SYSTEM;
	}
}

int
ao_spool_get(struct ao_spool *sp, enum ao_queue q, const char *name,
    struct ao_event_rec *ev)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	sp->why[0] = '\0';
	/* ev is always initialised: callers free it whatever we return */
	if ((r = ao_event_init(ev)) != AO_OK) {
		snprintf(sp->why, sizeof(sp->why), "out of memory");
		return r;
	}
	if ((fd = open_regular(sp->fd[q], name)) < 0)
		return open_failed(sp->fd[q], name, errno, sp->why,
		    sizeof(sp->why));
	r = ao_file_read_fd(fd, AO_EVENT_MAX_BYTES, &buf, &len);
	if (r == AO_ERR_SYSTEM)
		snprintf(sp->why, sizeof(sp->why), "%s", strerror(errno));
	else if (r == AO_ERR_NOMEM)
		snprintf(sp->why, sizeof(sp->why), "out of memory");
	else if (r == AO_ERR_DATA)
		snprintf(sp->why, sizeof(sp->why), "larger than %u bytes",
		    AO_EVENT_MAX_BYTES);
	else
		r = ao_spool_json_load(buf, len, ev, sp->why, sizeof(sp->why));
	free(buf);
	close(fd);
	return r;
}

void
ao_spool_report(const struct ao_spool *sp, enum ao_queue q, const char *name,
    int r)
{
	if (r == AO_OK || r == AO_ERR_NOTFOUND)
		return;
	if (r == AO_ERR_DATA)
		ao_err("spool file %s/%s/%s is damaged: %s; it is skipped (and "
		    "counted by status): move it aside and check it by hand",
		    spool_path(sp), qdir[q], name, sp->why);
	else
		ao_warn("cannot read spool file %s/%s/%s now: %s; it is not "
		    "damaged, and is tried again on the next run",
		    spool_path(sp), qdir[q], name,
		    sp->why[0] ? sp->why : ao_strerror(r));
}

int
ao_spool_move(struct ao_spool *sp, enum ao_queue from, enum ao_queue to,
    const struct ao_event_rec *ev)
{
	char name[128];
	int r;

	/* the final content where it is, then one rename (spool.h) */
	if ((r = ao_spool_put(sp, from, ev)) != AO_OK)
		return r;
	ao_event_filename(ev, name, sizeof(name));
	if (renameat(sp->fd[from], name, sp->fd[to], name) != 0 ||
	    fsync(sp->fd[to]) != 0 || fsync(sp->fd[from]) != 0) {
		ao_err("cannot move event %s from %s/ to %s/ in %s: %s", ev->id,
		    qdir[from], qdir[to], spool_path(sp), strerror(errno));
		return AO_ERR_SYSTEM;
	}
	return AO_OK;
}

int
ao_spool_settle_copies(struct ao_spool *sp, enum ao_queue q, const char *name)
{
	struct ao_event_rec other;
	struct stat st;
	int k, r;

	for (k = 0; k < AO_Q_COUNT; k++) {
		if (ao_queue_rank(k) <= ao_queue_rank(q))
			continue;
		if (fstatat(sp->fd[k], name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			snprintf(sp->why, sizeof(sp->why), "%s",
			    strerror(errno));
			r = AO_ERR_SYSTEM;
		} else {
			r = ao_spool_get(sp, k, name, &other);
			ao_event_free(&other);
			if (r == AO_ERR_NOTFOUND)
				continue;
		}
		if (r != AO_OK) {
			ao_warn("spool file %s/%s/%s is also in %s/, which "
			    "cannot be read (%s): neither is acted on until "
			    "that is settled", spool_path(sp), qdir[q], name,
			    qdir[k], sp->why);
			return AO_ERR_TEMP;
		}
		if (unlinkat(sp->fd[q], name, 0) != 0 && errno != ENOENT) {
			ao_err("cannot remove %s/%s/%s, a leftover copy of an "
			    "event in %s/: %s", spool_path(sp), qdir[q], name,
			    qdir[k], strerror(errno));
			return AO_ERR_TEMP;
		}
		(void)fsync(sp->fd[q]);
		ao_warn("spool file %s/%s/%s was a leftover copy of the event "
		    "in %s/ (a move interrupted in an older version): removed",
		    spool_path(sp), qdir[q], name, qdir[k]);
		return AO_ERR_NOTFOUND;
	}
	return AO_OK;
}

int
ao_spool_sync(struct ao_spool *sp, enum ao_queue q, const char *name)
{
	int fd, r = AO_OK, e = 0;

	if ((fd = open_regular(sp->fd[q], name)) < 0)
		return open_failed(sp->fd[q], name, errno, NULL, 0);
	if (fsync(fd) != 0 || fsync(sp->fd[q]) != 0) {
		e = errno;
		r = AO_ERR_SYSTEM;
	}
	close(fd);
	errno = e;
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A spool file name: "<created>-<id>.json", no dot file. */
static bool
is_event_file(const char *name)
{
	size_t l = strlen(name);

	return name[0] != '.' && l >= 6 && strcmp(name + l - 5, ".json") == 0;
}

/* The sorted names in directory fd (taken over) that want accepts. */
static int
list_dir(int fd, bool (*want)(const char *), char ***names, size_t *n)
{
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	int r = AO_ERR_NOMEM;
	DIR *d;

	*names = NULL;
	*n = 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return AO_ERR_SYSTEM;
	}
	rewinddir(d); /* a dup()ed descriptor shares its offset */
	for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
		if (!want(de->d_name))
			continue;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **nv = reallocarray(v, nc, sizeof(*v));

			if (nv == NULL)
				goto out;
			v = nv;
			cap = nc;
		}
		if ((v[cnt] = strdup(de->d_name)) == NULL)
			goto out;
		cnt++;
	}
	if (errno != 0) { /* a listing cut short is no listing */
		r = AO_ERR_SYSTEM;
		goto out;
	}
	if (cnt > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(v, cnt, sizeof(*v), cmp_names);
	*names = v;
	*n = cnt;
	v = NULL;
	r = AO_OK;
out:
	closedir(d);
	if (v != NULL)
		ao_names_free(v, cnt);
	return r;
}

int
ao_spool_list(struct ao_spool *sp, enum ao_queue q, char ***names, size_t *n)
{
	int fd, r;

	*names = NULL;
	*n = 0;
	if ((fd = dup(sp->fd[q])) < 0 ||
	    (r = list_dir(fd, is_event_file, names, n)) == AO_ERR_SYSTEM) {
		ao_warn("cannot list %s/%s now: %s", spool_path(sp), qdir[q],
		    strerror(errno));
		return AO_ERR_SYSTEM;
	}
	return r;
}

int
ao_spool_prune_done(struct ao_spool *sp, long long before,
    bool (*keep)(const char *id, void *ctx), void *ctx, size_t *removed)
{
	int fd = sp->fd[AO_Q_DONE], r;
	char **names;
	size_t n, i;

	*removed = 0;
	if ((r = ao_spool_list(sp, AO_Q_DONE, &names, &n)) != AO_OK)
		return r;
	for (i = 0; i < n; i++) {
		const char *name = names[i];
		char id[33], *end;
		long long created;
		struct stat st;

		/* "<created>-<32 hex digits>.json" */
		created = strtoll(name, &end, 10);
		if (end == name || *end != '-' || strlen(end + 1) != 32 + 5 ||
		    created >= before)
			continue;
		memcpy(id, end + 1, 32);
		id[32] = '\0';
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || (long long)st.st_mtime >= before ||
		    (keep != NULL && keep(id, ctx)))
			continue;
		if (unlinkat(fd, name, 0) == 0)
			(*removed)++;
		else if (errno != ENOENT)
			r = AO_ERR_SYSTEM;
	}
	ao_names_free(names, n);
	if (*removed > 0 && fsync(fd) != 0)
		r = AO_ERR_SYSTEM;
	return r;
}

void
ao_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
record_dir(const char *state_dir, const char *sub, bool create)
{
	int sfd, fd;

	if (refuse_root(state_dir) != AO_OK) {
		errno = EPERM;
		return -1;
	}
	if ((sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return -1;
	fd = open_sub(sfd, sub, create);
	close(sfd);
	return fd;
}

int
ao_record_read(const char *state_dir, const char *sub, const char *user,
    char *out, size_t outsz)
{
	return ao_record_read_at(state_dir, sub, user, out, outsz, NULL);
}

int
ao_record_read_at(const char *state_dir, const char *sub, const char *user,
    char *out, size_t outsz, long long *mtime_ms)
{
	struct stat st;
	ssize_t n;
	int dfd, fd;

	out[0] = '\0';
	if (!ao_username_ok(user))
		return AO_ERR_NOTFOUND;
	if ((dfd = record_dir(state_dir, sub, false)) < 0)
		return open_failed(-1, sub, errno, NULL, 0);
	fd = open_regular(dfd, user);
	close(dfd);
	if (fd < 0)
		return open_failed(-1, user, errno, NULL, 0);
	if (mtime_ms != NULL) {
		if (fstat(fd, &st) != 0) {
			close(fd);
			return AO_ERR_SYSTEM;
		}
		*mtime_ms = (long long)st.st_mtim.tv_sec * 1000 +
		    st.st_mtim.tv_nsec / 1000000;
	}
	do
		n = read(fd, out, outsz - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return AO_ERR_SYSTEM;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return AO_OK;
}

int
ao_record_write(const char *state_dir, const char *sub, const char *user,
    const char *line)
{
	char buf[1024];
	int dfd, r;

	if (!ao_username_ok(user)) {
		ao_err("cannot keep a record for an account named like that");
		return AO_ERR_DATA;
	}
	if ((dfd = record_dir(state_dir, sub, true)) < 0) {
		ao_err("cannot open %s/%s: %s", state_dir, sub, strerror(errno));
		return AO_ERR_SYSTEM;
	}
	snprintf(buf, sizeof(buf), "%s\n", line);
	r = ao_durable_write(dfd, user, buf, strlen(buf));
	if (r != AO_OK)
		ao_err("cannot write %s/%s/%s: %s", state_dir, sub, user,
		    strerror(errno));
	close(dfd);
	return r;
}

int
ao_record_update(const char *state_dir, const char *sub, const char *name,
    void (*fn)(char *line, size_t size, void *ctx), void *ctx)
{
	char line[1024];
	int dfd, r;

	if (!ao_username_ok(name))
		return AO_ERR_DATA;
	if ((dfd = record_dir(state_dir, sub, true)) < 0)
		return AO_ERR_SYSTEM;
	/* the directory's lock: one updater at a time */
	if (flock(dfd, LOCK_EX) != 0) {
		close(dfd);
		return AO_ERR_SYSTEM;
	}
	if (ao_record_read(state_dir, sub, name, line, sizeof(line)) != AO_OK)
		line[0] = '\0';
	fn(line, sizeof(line), ctx);
	r = ao_record_write(state_dir, sub, name, line);
	(void)flock(dfd, LOCK_UN);
	close(dfd);
	return r;
}

static bool
is_record(const char *name)
{
	return ao_username_ok(name); /* not ".", "..", temporary files */
}

int
ao_record_list(const char *state_dir, const char *sub, char ***names,
    size_t *n)
{
	int fd;

	*names = NULL;
	*n = 0;
	if ((fd = record_dir(state_dir, sub, false)) < 0)
		return errno == ENOENT ? AO_OK : AO_ERR_SYSTEM;
	return list_dir(fd, is_record, names, n);
}

int
ao_record_remove(const char *state_dir, const char *sub, const char *user)
{
	int dfd, r = AO_OK;

	if (!ao_username_ok(user) ||
	    (dfd = record_dir(state_dir, sub, false)) < 0)
		return AO_OK;
	if (unlinkat(dfd, user, 0) != 0 && errno != ENOENT)
		r = AO_ERR_SYSTEM;
	else
		(void)fsync(dfd);
	close(dfd);
	return r;
}

/* The state directory, as the service user; -1 (errno set) if unusable. */
static int
state_dir_open(const char *state_dir)
{
	if (refuse_root(state_dir) != AO_OK) {
		errno = EPERM;
		return -1;
	}
	return open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
ao_state_read(const char *state_dir, const char *name, size_t max,
    char **out, size_t *len)
{
	int dfd, fd, r;

	*out = NULL;
	*len = 0;
	if ((dfd = state_dir_open(state_dir)) < 0)
		return errno == ENOENT ? AO_ERR_NOTFOUND : AO_ERR_SYSTEM;
	fd = open_regular(dfd, name);
	close(dfd);
	if (fd < 0)
		return open_failed(-1, name, errno, NULL, 0);
	r = ao_file_read_fd(fd, max, out, len);
	close(fd);
	return r;
}

int
ao_state_begin(struct ao_state_out *o, const char *state_dir)
{
	int fd, e;

	o->f = NULL;
	if ((o->dirfd = state_dir_open(state_dir)) < 0) {
		ao_err("cannot open %s: %s", state_dir, strerror(errno));
		return AO_ERR_SYSTEM;
	}
	o->err = 0;
	if ((fd = tmp_create(o->dirfd, o->tmp, sizeof(o->tmp))) < 0)
		goto fail;
	if ((o->f = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		(void)unlinkat(o->dirfd, o->tmp, 0);
		errno = e;
		goto fail;
	}
	(void)setvbuf(o->f, NULL, _IOFBF, 1 << 16);
	return AO_OK;
fail:
	ao_err("cannot write in %s: %s", state_dir, strerror(errno));
	close(o->dirfd);
	o->dirfd = -1;
	return AO_ERR_SYSTEM;
}

void
ao_state_put(struct ao_state_out *o, const char *s, size_t n)
{
	if (o->f != NULL && n > 0 && fwrite(s, 1, n, o->f) != n &&
	    o->err == 0)
		o->err = errno;
}

int
ao_state_commit(struct ao_state_out *o, const char *name)
{
	int r = AO_ERR_SYSTEM, bad;

	if (o->f == NULL)
		return AO_ERR_SYSTEM;
	/* renamed while the temporary file is still held (tmp_create()) */
	errno = o->err != 0 ? o->err : EIO; /* a write's, or ferror()'s */
	bad = o->err != 0 || fflush(o->f) != 0 || ferror(o->f) ||
	    fsync(fileno(o->f)) != 0;
	if (!bad && renameat(o->dirfd, o->tmp, o->dirfd, name) == 0 &&
	    fsync(o->dirfd) == 0)
		r = AO_OK;
	if (r != AO_OK)
		ao_err("cannot write %s: %s", name, strerror(errno));
	(void)fclose(o->f); /* after a good fsync it says nothing more */
	o->f = NULL;
	if (r != AO_OK)
		(void)unlinkat(o->dirfd, o->tmp, 0);
	close(o->dirfd);
	o->dirfd = -1;
	return r;
}

void
ao_state_abort(struct ao_state_out *o)
{
	if (o->f != NULL) {
		fclose(o->f);
		o->f = NULL;
		(void)unlinkat(o->dirfd, o->tmp, 0);
	}
	if (o->dirfd >= 0)
		close(o->dirfd);
	o->dirfd = -1;
}

int
ao_state_remove_dir(const char *state_dir, const char *sub)
{
	struct dirent *de;
	DIR *d;
	int dfd, fd;

	if ((dfd = state_dir_open(state_dir)) < 0)
		return AO_ERR_SYSTEM;
	fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		close(dfd);
		return errno == ENOENT ? AO_OK : AO_ERR_SYSTEM;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	(void)unlinkat(dfd, sub, AT_REMOVEDIR);
	(void)fsync(dfd);
	close(dfd);
	return AO_OK;
}

int
ao_state_remove(const char *state_dir, const char *name)
{
	int dfd, r = AO_OK;

	if ((dfd = state_dir_open(state_dir)) < 0)
		return errno == ENOENT ? AO_OK : AO_ERR_SYSTEM;
	if (unlinkat(dfd, name, 0) != 0)
		r = errno == ENOENT ? AO_OK : AO_ERR_SYSTEM;
	else if (fsync(dfd) != 0)
		r = AO_ERR_SYSTEM;
	close(dfd);
	return r;
}

static bool
is_tmp(const char *name)
{
	return strncmp(name, ".tmp-", 5) == 0;
}

static bool
is_plain(const char *name)
{
	return name[0] != '.';
}

/*
 * dfd/name, if it is a temporary file a crashed writer left: ".tmp-*",
 * regular, last written before now - AO_TMP_STALE, and held by no writer
 * (tmp_create()).  Removed: 1; not: 0.
 */
static int
clean_one(int dfd, const char *name, long long now)
{
	struct stat st;
	int fd, r = 0;

	if (!is_tmp(name) ||
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode) || (long long)st.st_mtime > now - AO_TMP_STALE)
		return 0;
	if ((fd = open_regular(dfd, name)) < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dfd, name, 0) == 0)
		r = 1;
	close(fd);
	return r;
}

/* clean_one() in directory dfd. */
static int
clean_dir(int dfd, long long now, size_t *removed)
{
	char **names = NULL;
	size_t n = 0, i, k = 0;
	int fd, r;

	if ((fd = dup(dfd)) < 0)
		return AO_ERR_SYSTEM;
	if ((r = list_dir(fd, is_tmp, &names, &n)) != AO_OK)
		return r;
	for (i = 0; i < n; i++)
		if (clean_one(dfd, names[i], now)) {
			ao_debug("removed %s, left by an interrupted write",
			    names[i]);
			k++;
		}
	ao_names_free(names, n);
	*removed += k;
	return k > 0 && fsync(dfd) != 0 ? AO_ERR_SYSTEM : AO_OK;
}

int
ao_spool_clean_tmp(struct ao_spool *sp, const char *state_dir, long long now,
    size_t *removed)
{
	char **subs = NULL;
	size_t n = 0, i;
	int q, sfd = -1, fd, r = AO_OK;

	*removed = 0;
	if (clean_dir(sp->rootfd, now, removed) != AO_OK)
		r = AO_ERR_SYSTEM;
	for (q = 0; q < AO_Q_COUNT; q++)
		if (clean_dir(sp->fd[q], now, removed) != AO_OK)
			r = AO_ERR_SYSTEM;
	/* the state directory and its record directories */
	if ((sfd = state_dir_open(state_dir)) < 0 ||
	    clean_dir(sfd, now, removed) != AO_OK ||
	    (fd = dup(sfd)) < 0 || list_dir(fd, is_plain, &subs, &n) != AO_OK)
		r = AO_ERR_SYSTEM;
	for (i = 0; i < n; i++) {
		fd = openat(sfd, subs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd >= 0 && clean_dir(fd, now, removed) != AO_OK)
			r = AO_ERR_SYSTEM;
		if (fd >= 0)
			close(fd);
	}
	ao_names_free(subs, n);
	if (sfd >= 0)
		close(sfd);
	return r;
}
