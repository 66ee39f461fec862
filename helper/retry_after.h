/*
 * Retry-After (RFC 9110, section 10.2.3) and HTTP-dates (section 5.6.7):
 * what a 429 asks for, parsed without trusting the server to be sane.
 *
 * A Retry-After is delay-seconds (1*DIGIT) or an HTTP-date.  Every
 * recipient must accept three date forms, and so do we:
 *   IMF-fixdate   Sun, 06 Nov 1994 08:49:37 GMT
 *   RFC 850       Sunday, 06-Nov-94 08:49:37 GMT  (two-digit year: the
 *                 one within 50 years of now, as section 5.6.7 says)
 *   asctime       Sun Nov  6 08:49:37 1994
 * Names are taken without regard to case; the weekday is not checked
 * against the date; anything else, or anything after the value but
 * spaces, is garbage.
 *
 * A date is a point on the server's clock: the wait it asks for is the
 * date less the server's own Date header (when that is there and is an
 * HTTP-date), not less our clock, so a host whose clock is wrong still
 * waits what the server meant.
 *
 * Parsing only, no I/O, no allocation: what the helper does with the
 * answer (a default for absent or garbage values, a floor, the longest
 * wait it accepts) is the retry policy, in api_call (api.h), with the
 * limits below; spool.c clamps a stored hold with AO_RETRY_AFTER_MAX.
 */
#ifndef AO_RETRY_AFTER_H
#define AO_RETRY_AFTER_H

/* The policy's numbers (seconds); the README and accessowl-helper(8)
 * say the same. */
#define AO_RETRY_AFTER_DEFAULT 30     /* absent, or garbage (warned) */
#define AO_RETRY_AFTER_MIN 1          /* never sooner: 0 is no tight loop */
#define AO_RETRY_AFTER_MAX 86400      /* longer: the host holds a day */

/* What the parser saturates at: larger waits all look this large. */
#define AO_RETRY_AFTER_HUGE 999999999999LL

enum ao_retry_after_kind {
	AO_RA_ABSENT,    /* no header, or an empty one */
	AO_RA_SECONDS,   /* delay-seconds */
	AO_RA_DATE,      /* an HTTP-date */
	AO_RA_GARBAGE,   /* neither */
};

/*
 * The wait a Retry-After value asks for, in *secs (0 ..
 * AO_RETRY_AFTER_HUGE; 0 unless SECONDS or DATE).  value and date are the
 * header values as received (NULL or "" when absent); now is our clock
 * (unix seconds), used when date is absent or not an HTTP-date, and to
 * read an RFC 850 date's two-digit year.  A date in the past asks for 0.
 */
enum ao_retry_after_kind ao_retry_after(const char *value, const char *date,
    long long now, long long *secs);

/*
 * An HTTP-date in any of the three forms (surrounding spaces allowed) as
 * unix seconds.  now: to read an RFC 850 two-digit year.  AO_OK (*out
 * set), or AO_ERR_DATA when s is not an HTTP-date (*out 0).
 */
int ao_http_date(const char *s, long long now, long long *out);

#endif
