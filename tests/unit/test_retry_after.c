/*
 * Retry-After and HTTP-dates (retry_after.c): both RFC 9110 forms, the
 * three date forms a recipient must accept, a date taken on the server's
 * clock, and everything else garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "err.h"
#include "retry_after.h"

/* Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example */
#define T0 784111777LL
#define DAY 86400LL

static const char *
kind_name(enum ao_retry_after_kind k)
{
	static const char *const names[] = { "absent", "seconds", "date",
		"garbage" };

	return names[k];
}

static void
values(void **state)
{
	static const struct {
		const char *value, *date;
		long long now;
		enum ao_retry_after_kind kind;
		long long secs;
	} cases[] = {
		{ NULL, NULL, T0, AO_RA_ABSENT, 0 },
		{ "", NULL, T0, AO_RA_ABSENT, 0 },
		{ "  \t", NULL, T0, AO_RA_ABSENT, 0 },
		/* delay-seconds */
		{ "120", NULL, T0, AO_RA_SECONDS, 120 },
		{ " 120 ", NULL, T0, AO_RA_SECONDS, 120 },
		{ "0", NULL, T0, AO_RA_SECONDS, 0 },
		{ "007", NULL, T0, AO_RA_SECONDS, 7 },
		{ "604801", NULL, T0, AO_RA_SECONDS, 604801 },  /* > 7 days */
		{ "99999999999999999999999999", NULL, T0, AO_RA_SECONDS,
		    AO_RETRY_AFTER_HUGE },
		/* a date, relative to now: IMF-fixdate, RFC 850, asctime */
		{ "Sun, 06 Nov 1994 08:50:37 GMT", NULL, T0, AO_RA_DATE, 60 },
		{ "Sunday, 06-Nov-94 08:50:37 GMT", NULL, T0, AO_RA_DATE, 60 },
		{ "Sun Nov  6 08:50:37 1994", NULL, T0, AO_RA_DATE, 60 },
		{ "Sun Nov 06 08:50:37 1994", NULL, T0, AO_RA_DATE, 60 },
		{ "sun, 06 nov 1994 08:50:37 gmt", NULL, T0, AO_RA_DATE, 60 },
		{ "  Sun, 06 Nov 1994 08:50:37 GMT  ", NULL, T0, AO_RA_DATE, 60 },
		/* the weekday is not checked against the date */
		{ "Mon, 06 Nov 1994 08:50:37 GMT", NULL, T0, AO_RA_DATE, 60 },
		/* in the past: now */
		{ "Sun, 06 Nov 1994 08:49:36 GMT", NULL, T0, AO_RA_DATE, 0 },
		{ "Thu, 01 Jan 1970 00:00:00 GMT", NULL, T0, AO_RA_DATE, 0 },
		/* relative to the server's Date, whatever our clock says */
		{ "Sun, 06 Nov 1994 08:50:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT",
		    T0 + DAY, AO_RA_DATE, 60 },
		{ "Sun, 06 Nov 1994 08:50:37 GMT", "Sun Nov  6 08:49:37 1994",
		    T0 - DAY, AO_RA_DATE, 60 },
		/* a Date that is no date: our clock */
		{ "Sun, 06 Nov 1994 09:49:37 GMT", "yesterday", T0, AO_RA_DATE,
		    3600 },
		{ "Fri, 31 Dec 9999 23:59:59 GMT", NULL, T0, AO_RA_DATE,
		    253402300799LL - T0 },
		/* leap days */
		{ "Thu, 29 Feb 1996 00:00:00 GMT", NULL, 825552000LL - 10,
		    AO_RA_DATE, 10 },
		{ "Tue, 29 Feb 2000 00:00:00 GMT", NULL, 951782400LL - 10,
		    AO_RA_DATE, 10 },
		/* garbage */
		{ "-5", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "+5", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "5.5", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "5s", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "1 2", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "0x10", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "soon", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "\x1b[31mred", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 UTC", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 06 Nov 1994 08:49:37", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT x", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 6 Nov 1994 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 06 Nov 94 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 31 Nov 1994 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Mon, 29 Feb 1900 00:00:00 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 00 Nov 1994 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 06 Nov 1994 24:00:00 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 06 Nov 1994 08:60:00 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 06 Nov 1994 08:49:61 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 06 Foo 1994 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sunday, 06 Nov 1994 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun, 06-Nov-94 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sunday, 06-Nov-1994 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun Nov 6 08:49:37 1994", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun Nov  6 08:49:37 94", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Su, 06 Nov 1994 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "Sun,06 Nov 1994 08:49:37 GMT", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "2024-05-01T10:00:00Z", NULL, T0, AO_RA_GARBAGE, 0 },
		{ "12...", NULL, T0, AO_RA_GARBAGE, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long secs = -1;
		enum ao_retry_after_kind k = ao_retry_after(cases[i].value,
		    cases[i].date, cases[i].now, &secs);

		if (k != cases[i].kind || secs != cases[i].secs)
			fail_msg("case %zu (\"%s\"): %s %lld, want %s %lld", i,
			    cases[i].value ? cases[i].value : "(null)",
			    kind_name(k), secs, kind_name(cases[i].kind),
			    cases[i].secs);
	}
}

/* RFC 850's two-digit year: the year with those digits within 50 years
 * of now, never more than 50 years ahead. */
static void
two_digit_years(void **state)
{
	/* 2024-06-01 00:00:00 UTC */
	static const long long now = 1717200000LL;
	static const struct {
		const char *value;
		long long at;
	} cases[] = {
		{ "Saturday, 01-Jun-24 00:00:00 GMT", 1717200000LL },
		{ "Sunday, 01-Jun-25 00:00:00 GMT", 1748736000LL },     /* 2025 */
		{ "Friday, 01-Jun-94 00:00:00 GMT", 770428800LL },      /* 1994 */
		{ "Thursday, 01-Jan-70 00:00:00 GMT", 3155760000LL },   /* 2070 */
		{ "Wednesday, 01-Jan-75 00:00:00 GMT", 157766400LL },   /* 1975 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long at = -1;

		assert_int_equal(ao_http_date(cases[i].value, now, &at), AO_OK);
		if (at != cases[i].at)
			fail_msg("case %zu (%s): %lld, want %lld", i,
			    cases[i].value, at, cases[i].at);
	}
}

/* Every day of 400 years (a whole Gregorian cycle) reads back as the
 * unix time the C library gives it. */
static void
every_day_of_a_cycle(void **state)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	long long t;

	(void)state;
	for (t = -2208988800LL; t < -2208988800LL + 146097 * DAY; t += DAY + 7) {
		time_t tt = (time_t)t;
		struct tm tm;
		char buf[64];
		long long at = -1;

		assert_non_null(gmtime_r(&tt, &tm));
		snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
		    wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		assert_int_equal(ao_http_date(buf, 0, &at), AO_OK);
		if (at != t)
			fail_msg("%s: %lld, want %lld", buf, at, t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(two_digit_years),
		cmocka_unit_test(every_day_of_a_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
