/*
 * libFuzzer harness: ao_faillock_locked(), raw pam_faillock tally records.
 * The whole input is the tally (so real tally files are seeds); a trailing
 * partial record of 16+ bytes picks the config, within the bounds
 * ao_faillock_parse allows, and `now`.  Otherwise: defaults.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faillock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t tail = size % AO_FAILLOCK_RECORD;
	struct ao_faillock_conf c;
	int64_t now = 1700000000;
	uint32_t w[2];

	ao_faillock_defaults(&c);
	if (tail >= 16) {
		const uint8_t *t = data + size - tail;

		memcpy(w, t, sizeof(w));
		memcpy(&now, t + 8, sizeof(now));
		c.deny = (long)(w[0] % 1000001);
		c.fail_interval = (long)(w[1] % (604800L * 52 + 1));
		c.unlock_time = (long)((w[0] ^ w[1]) % (604800L * 52 + 1));
		c.even_deny_root = (w[1] & 1) != 0;
	}
	if (ao_faillock_locked(&c, data, size, (time_t)now) && c.deny == 0)
		abort();    /* deny = 0 never locks */
	return 0;
}
