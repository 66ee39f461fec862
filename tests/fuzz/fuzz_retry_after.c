/*
 * libFuzzer harness: ao_retry_after(), a Retry-After value and a Date
 * header as a server sends them.  The input is the Retry-After value, then
 * optionally a newline and the Date; `now` is fixed.  Checks that the wait
 * is within its documented bounds and zero unless seconds or a date, and
 * that a date the parser takes reads the same when it comes alone.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "retry_after.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const long long now = 1717200000LL;
	char *buf, *date = NULL, *nl;
	enum ao_retry_after_kind k;
	long long secs = -1, at, base;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		date = nl + 1;
	}
	k = ao_retry_after(buf, date, now, &secs);
	if (secs < 0 || secs > AO_RETRY_AFTER_HUGE ||
	    (k != AO_RA_SECONDS && k != AO_RA_DATE && secs != 0))
		abort();
	if (k == AO_RA_DATE) {
		if (ao_http_date(buf, now, &at) != AO_OK)
			abort();
		if (date == NULL || ao_http_date(date, now, &base) != AO_OK)
			base = now;
		if (at - base > 0 && at - base < AO_RETRY_AFTER_HUGE &&
		    secs != at - base)
			abort();
	}
	free(buf);
	return 0;
}
