/*
 * The durable queue and the helper's small state files.
 *
 * Layout:
 *   <spool_dir>/queue/<created>-<id>.json    events waiting for delivery
 *   <spool_dir>/parked/...                  refused for good; need a person
 *   <spool_dir>/done/...                    delivered, kept for `status`
 *   <spool_dir>/.lock                       held by the one deliverer
 *   <spool_dir>/.hold                       no request before this time
 *                                           (AccessOwl's Retry-After):
 *                                           "<until> <set at>\n"
 *   <state_dir>/episodes/<user>             key of the episode queued last
 *   <state_dir>/people/<user>               e-mail remembered for the account
 *                                           (a deleted account has no GECOS)
 *
 * Every write is temp file (O_EXCL|O_NOFOLLOW) + fsync + rename + fsync of
 * the directory, relative to a directory fd opened with O_NOFOLLOW, so a
 * crash leaves the old or the new file, never a torn one, and no symlink
 * planted in the directory is followed.  The writer holds an flock on its
 * temporary file ".tmp-<random>" from creation to rename: the deliverer
 * removes what crashed writers left (ao_spool_clean_tmp), never a live
 * one's.  A directory made here is fsynced in its parent.  Reads take
 * regular files only and never block (O_NONBLOCK: a planted FIFO is
 * refused, not waited on).
 *
 * A move between queues is one rename: the final content is first written
 * under the same name where the event is, then renamed into the other
 * queue, so an event is in one queue at every moment and a crash leaves it
 * where it was (with its final content) or where it went.  Older versions
 * wrote the new copy before removing the old one; for such leftovers see
 * ao_spool_settle_copies().
 *
 * Trust: these directories belong to the service user, which talks to the
 * network and may be compromised.  Everything here runs after the privilege
 * drop; opening the spool or a record as root is refused.
 */
#ifndef AO_SPOOL_H
#define AO_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "record.h"

enum ao_queue { AO_Q_QUEUE, AO_Q_PARKED, AO_Q_DONE, AO_Q_COUNT };

/* An event is read back up to this size, and never written larger: 10,000
 * states (what a listing takes) at their largest (spool_json.h) fit. */
#define AO_EVENT_MAX_BYTES (64u * 1024 * 1024)

#define AO_SPOOL_WHY 200

struct ao_spool {
	int fd[AO_Q_COUNT];
	int lockfd;              /* opened by the first ao_spool_lock() */
	int rootfd;
	char dir[4096];          /* as given to ao_spool_open(), for messages */
	/* like an error buffer: what the last failed ao_spool_get() found */
	char why[AO_SPOOL_WHY];
};

/* A spool file that is not an event it can take (ao_spool_get()'s
 * AO_ERR_DATA), for `status`. */
struct ao_spool_damaged {
	enum ao_queue q;
	char name[256];
	char why[AO_SPOOL_WHY];
};

/* "queued", "parked", "delivered" */
const char *ao_queue_name(enum ao_queue q);
/* "queue", "parked", "done": the directory */
const char *ao_queue_dir(enum ao_queue q);

/*
 * Which copy of an event in two queues is the event: the one of the higher
 * rank.  done/ wins over the others; queue/ wins over parked/, since a
 * parked event reaches queue/ only through a re-key (`deliver
 * --retry-parked`), so the queue copy is the newer one and may have been
 * sent, while one parked from queue/ holds the same states and keys.
 */
int ao_queue_rank(enum ao_queue q);

/*
 * Make dir if missing (mode 0700; as root, owned by uid/gid), or check it:
 * owned by uid when as_root, not writable by group or others.  As root,
 * only where the parent is root's and writable by nobody else; it is made
 * under a temporary name, chowned through its descriptor and renamed into
 * place, so a run racing this one never finds it root's.  Only the
 * top level: subdirectories are made after the privilege drop, as the
 * service user (ao_spool_open, the record functions).  Logs and returns
 * an error with the fix when dir cannot be made or used.
 */
int ao_dir_prepare(const char *dir, bool as_root, uid_t uid, gid_t gid);
int ao_spool_prepare(const char *dir, bool as_root, uid_t uid, gid_t gid);

/*
 * Open the spool (it must exist), making queue/, parked/ and done/ if
 * missing.  Refused as root: root never works by name in a directory the
 * service user owns.  An entry that is not what it must be is named in
 * the error, with what it is and the fix.  Pair with ao_spool_close().
 */
int ao_spool_open(const char *dir, struct ao_spool *sp);
void ao_spool_close(struct ao_spool *sp);

/*
 * The deliverer's lock, <spool>/.lock (made if missing; no other command
 * needs it, so a .lock that is not a regular file stops deliveries only).
 * wait_s 0: try once.  AO_OK; AO_ERR_TEMP when another process holds it;
 * AO_ERR_SYSTEM (logged, naming .lock and the fix) when it cannot be
 * taken at all.
 */
int ao_spool_lock(struct ao_spool *sp, int wait_s);
void ao_spool_unlock(struct ao_spool *sp);

/*
 * flock(fd, LOCK_EX), waiting at most ms milliseconds: a lock the service
 * user (assumed compromisable) holds never blocks a caller for long.
 * AO_OK, AO_ERR_TEMP when still held, AO_ERR_SYSTEM (errno set).
 */
int ao_flock_within(int fd, long ms);

/*
 * The host-wide hold: AccessOwl answered 429 and asked to wait until
 * `until` (unix time).  No request is sent before then, by any run.
 * ao_spool_hold() gives 0 when there is none (or it cannot be read), and
 * never a time further from now than the wait was when it was set, nor
 * than AO_RETRY_AFTER_MAX (retry_after.h): a hold set while the clock was
 * a day fast is not a day long once the clock is right (clock.h).
 * ao_spool_hold_settle(), for the deliverer under the spool lock, also
 * writes such a hold back as that wait from now, so that it runs out.
 */
long long ao_spool_hold(struct ao_spool *sp);
long long ao_spool_hold_settle(struct ao_spool *sp);
int ao_spool_set_hold(struct ao_spool *sp, long long until);

/* Write an event (logged when it fails). */
int ao_spool_put(struct ao_spool *sp, enum ao_queue q,
    const struct ao_event_rec *ev);

/*
 * Read an event; ev is always initialised (free it).  AO_OK;
 * AO_ERR_NOTFOUND when it is gone (moved or removed meanwhile);
 * AO_ERR_DATA when it is damaged: bad content (not JSON, a malformed
 * record, a record of a newer version, too large) or no file it takes (a
 * symlink, a FIFO, a directory, one the service user may not read): it
 * needs a person, and is skipped, counted and reported, never removed;
 * AO_ERR_SYSTEM (or AO_ERR_NOMEM) when it cannot be read now (EMFILE,
 * ENFILE, EIO, ENOMEM): try later, it is not damaged.  On failure
 * sp->why says what was found.
 */
int ao_spool_get(struct ao_spool *sp, enum ao_queue q, const char *name,
    struct ao_event_rec *ev);

/* Log what ao_spool_get() returned (r, not AO_OK) for q/name, the same
 * way everywhere: damaged (an error) or unreadable now (a warning). */
void ao_spool_report(const struct ao_spool *sp, enum ao_queue q,
    const char *name, int r);

/* Move an event with its final content ev from one queue to another: see
 * the top of the file.  Logged when it fails. */
int ao_spool_move(struct ao_spool *sp, enum ao_queue from, enum ao_queue to,
    const struct ao_event_rec *ev);

/*
 * Make q/name durable as it is: fsync the file, then its directory (the
 * run that wrote it may have died between its rename and its fsync of the
 * directory).  AO_OK; AO_ERR_NOTFOUND when it is gone; AO_ERR_DATA when
 * it is no file it takes, as for ao_spool_get(); AO_ERR_SYSTEM when it
 * cannot be opened or synced now (errno says why).
 */
int ao_spool_sync(struct ao_spool *sp, enum ao_queue q, const char *name);

/*
 * Before acting on q/name, as the deliverer (under its lock): is it the
 * event, or a leftover copy (see ao_queue_rank())?  AO_OK: no copy of
 * higher rank exists, act on it.  AO_ERR_NOTFOUND: a readable copy of
 * higher rank exists; q/name was removed as a leftover (logged).
 * AO_ERR_TEMP: a copy of higher rank exists but cannot be read (damaged,
 * or not now); in doubt q/name is left alone and not acted on (logged).
 */
int ao_spool_settle_copies(struct ao_spool *sp, enum ao_queue q,
    const char *name);

/*
 * Forget delivered events: remove from done/ each event that happened
 * before `before` (unix time) and whose file was last written before it
 * too, unless keep(id, ctx) says something is left to do with it.  Queued
 * and parked events are never touched.  *removed: how many.
 */
int ao_spool_prune_done(struct ao_spool *sp, long long before,
    bool (*keep)(const char *id, void *ctx), void *ctx, size_t *removed);

/* Sorted names of *.json in q (oldest first).  Free with ao_names_free. */
int ao_spool_list(struct ao_spool *sp, enum ao_queue q, char ***names,
    size_t *n);
void ao_names_free(char **names, size_t n);

/* Durably replace dirfd/name with data.  AO_OK, or AO_ERR_SYSTEM with
 * errno saying what failed (never overwritten by the clean-up). */
int ao_durable_write(int dirfd, const char *name, const char *data,
    size_t len);

/*
 * Temporary files (".tmp-*", regular) left by interrupted writes are
 * removed once older than this (by their mtime) and held by no writer (a
 * writer holds an flock on its temporary file until it renames it).
 */
#define AO_TMP_STALE (60LL * 60)

/*
 * Remove those in the spool, its queues, state_dir and state_dir's
 * subdirectories, as of now (unix time): the deliverer does, under its
 * lock.  *removed: how many.  AO_OK, or AO_ERR_SYSTEM when a directory
 * could not be looked at (the rest are cleaned all the same).
 */
int ao_spool_clean_tmp(struct ao_spool *sp, const char *state_dir,
    long long now, size_t *removed);

/*
 * Small records in <state_dir>/<sub>/<user>: read the first line into out
 * (AO_ERR_NOTFOUND when absent, AO_ERR_DATA when not a regular file or
 * not readable by the service user, AO_ERR_SYSTEM when it cannot be read
 * now: EMFILE, EIO...), write, remove.
 */
int ao_record_read(const char *state_dir, const char *sub, const char *user,
    char *out, size_t outsz);
/* As ao_record_read(); also when it was written (ms since the epoch). */
int ao_record_read_at(const char *state_dir, const char *sub,
    const char *user, char *out, size_t outsz, long long *mtime_ms);
int ao_record_write(const char *state_dir, const char *sub, const char *user,
    const char *line);
int ao_record_remove(const char *state_dir, const char *sub,
    const char *user);
/* Read, change (fn, given the first line, "" when none) and write back a
 * record, under a lock: concurrent updates are never lost. */
int ao_record_update(const char *state_dir, const char *sub,
    const char *name, void (*fn)(char *line, size_t size, void *ctx),
    void *ctx);
/* The names of the records in <state_dir>/<sub>, sorted (none when it
 * does not exist).  Free with ao_names_free(). */
int ao_record_list(const char *state_dir, const char *sub, char ***names,
    size_t *n);

/*
 * Whole files in the state directory (after the privilege drop, like
 * everything here): read <state_dir>/<name> (a regular file of at most max
 * bytes; AO_ERR_NOTFOUND when absent, AO_ERR_DATA and AO_ERR_SYSTEM as for
 * records), and replace it durably, written as
 * a stream: ao_state_begin(), ao_state_put() as often as needed, then
 * ao_state_commit() (flush, fsync, rename into place, fsync of the
 * directory) or ao_state_abort().  Remove a whole subdirectory of records.
 */
int ao_state_read(const char *state_dir, const char *name, size_t max,
    char **out, size_t *len);

struct ao_state_out {
	int dirfd;
	FILE *f;
	int err;                 /* the first write's errno, 0: none */
	char tmp[32];
};

int ao_state_begin(struct ao_state_out *o, const char *state_dir);
void ao_state_put(struct ao_state_out *o, const char *s, size_t n);
int ao_state_commit(struct ao_state_out *o, const char *name);
void ao_state_abort(struct ao_state_out *o);
int ao_state_remove_dir(const char *state_dir, const char *sub);
/* Remove <state_dir>/name durably; AO_OK when it is not there. */
int ao_state_remove(const char *state_dir, const char *name);

#endif
