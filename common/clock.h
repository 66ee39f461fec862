/*
 * Time that a clock step cannot fool, shared by the PAM module and the
 * helper.
 *
 * The wall clock (CLOCK_REALTIME) jumps: NTP or an administrator corrects a
 * clock a day fast, a virtual machine resumes with last week's time.  Two
 * things depend on it and must not be misled by a jump:
 *
 * Stored deadlines (the host's 429 hold, an event's next try, the next
 * follow-up of a revocation) are read through ao_deadline(): never further
 * from now than the wait they were given, nor than a cap.  A deadline set
 * while the clock was a day fast is then not a day away once the clock is
 * corrected; the deliverer writes it back so, as that wait from now, so
 * that it runs out rather than staying that wait ahead of a moving now.
 * A clock stepped forward makes a deadline due early: a request sooner,
 * never one lost or held for good.
 *
 * Episode order (was the account seen fine after its episode was
 * recorded?) is decided on an ao_stamp, which carries, beside the wall
 * clock, the kernel's boot id and CLOCK_BOOTTIME: no clock step moves that
 * clock, and every process on the host reads the same one.  Two stamps of
 * one boot are ordered by it; of two boots, the current one is the later;
 * only when neither stamp is of the current boot, or one carries no boot
 * clock (written by an older version, or where /proc/sys cannot be read),
 * does the wall clock decide, as it did before.
 *
 * Why not a counter, or the shadow entry's own change date (sp_lstchg)?
 * A counter needs one place that both sides read and write, and there is
 * none: the module is root and never reads the service user's files, the
 * helper's only answer to the module is its exit status, and the module's
 * records in /run are gone after a reboot while the helper's stay.  The
 * change date counts days, and `usermod -L`/`-U` leave it alone, so an
 * unlock and a relock on one day look exactly alike.
 */
#ifndef AO_CLOCK_H
#define AO_CLOCK_H

#include <stdbool.h>
#include <stddef.h>

#define AO_BOOT_ID_LEN 32    /* hex digits of /proc/sys/kernel/random/boot_id */
#define AO_STAMP_MAX 80      /* a formatted stamp, NUL included */

/* A moment, as the wall clock and as this boot's clock saw it. */
struct ao_stamp {
	long long wall_ms;          /* ms since the epoch; 0: unknown */
	long long boot_ms;          /* CLOCK_BOOTTIME, ms; meaningful only
	                             * with boot */
	char boot[AO_BOOT_ID_LEN + 1]; /* the boot's id (lower-case hex);
	                             * "": unknown */
};

/* Now.  A clock that cannot be read leaves its part unknown. */
void ao_stamp_now(struct ao_stamp *s);

/*
 * As text without spaces: "<wall_ms>" or "<wall_ms>:<boot_ms>:<boot id>"
 * (how the module's records and `enqueue --fine-at` carry it).  out has
 * AO_STAMP_MAX bytes or more.
 */
void ao_stamp_format(const struct ao_stamp *s, char *out, size_t n);

/* Read either form (the first is what versions before this wrote).
 * AO_OK, or AO_ERR_DATA (*s cleared) when text is neither. */
int ao_stamp_parse(const char *text, struct ao_stamp *s);

/*
 * Is a known to be later than b?  now (ao_stamp_now()) tells which boot
 * is the current one.  An unknown wall clock is never later.
 */
bool ao_stamp_after(const struct ao_stamp *a, const struct ao_stamp *b,
    const struct ao_stamp *now);

/*
 * A stored deadline as it stands at now (all in the same unit): until,
 * set at set_at (0 or less: unknown) for a wait of until - set_at, is
 * never later than now plus that wait, nor than now plus cap.  until 0
 * or less (no deadline) is returned as it is.
 */
long long ao_deadline(long long until, long long set_at, long long cap,
    long long now);

#endif
