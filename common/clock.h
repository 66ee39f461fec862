/*
 * Time that a clock step cannot fool, shared by the PAM module and the
 * helper.
 *
 * The wall clock (CLOCK_REALTIME) jumps: NTP or an administrator corrects a
 * clock a day fast, a virtual machine resumes with last week's time.
 * Stored deadlines (the host's 429 hold, an event's next try, the next
 * follow-up of a revocation) depend on it and must not be misled by a
 * jump: they are read through ao_deadline(): never further from now than
 * the wait they were given, nor than a cap.  A deadline set while the
 * clock was a day fast is then not a day away once the clock is
 * corrected; the deliverer writes it back so, as that wait from now, so
 * that it runs out rather than staying that wait ahead of a moving now.
 * A clock stepped forward makes a deadline due early: a request sooner,
 * never one lost or held for good.
 */
#ifndef AO_CLOCK_H
#define AO_CLOCK_H

/*
 * A stored deadline as it stands at now (all in the same unit): until,
 * set at set_at (0 or less: unknown) for a wait of until - set_at, is
 * never later than now plus that wait, nor than now plus cap.  until 0
 * or less (no deadline) is returned as it is.
 */
long long ao_deadline(long long until, long long set_at, long long cap,
    long long now);

#endif
