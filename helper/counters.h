/*
 * Counters that outlive a run, for `status --prometheus`: API requests and
 * 429 answers.  Kept in <state_dir>/metrics/counters as one line, "requests
 * <n> rate_limited <n>", added to under a lock by every run that made
 * requests (session.c), so that they only ever grow.
 */
#ifndef AO_COUNTERS_H
#define AO_COUNTERS_H

struct ao_counters {
	unsigned long long requests;
	unsigned long long rate_limited;
};

/* What is counted so far (zeros when nothing is). */
void ao_counters_read(const char *state_dir, struct ao_counters *c);

/* Add a run's counts.  AO_OK or the error. */
int ao_counters_add(const char *state_dir, const struct ao_counters *add);

#endif
