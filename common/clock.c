/* Time that a clock step cannot fool: see clock.h. */
#include "clock.h"

long long
ao_deadline(long long until, long long set_at, long long cap, long long now)
{
	if (until <= 0)
		return until;
	if (set_at > 0 && until >= set_at && until - set_at < cap)
		cap = until - set_at;
	return until - now > cap ? now + cap : until;
}
