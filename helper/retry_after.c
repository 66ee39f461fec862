/* Retry-After and HTTP-dates: see retry_after.h. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "retry_after.h"

static const char *const WDAY[7] = { "Mon", "Tue", "Wed", "Thu", "Fri",
	"Sat", "Sun" };
static const char *const WDAY_LONG[7] = { "Monday", "Tuesday", "Wednesday",
	"Thursday", "Friday", "Saturday", "Sunday" };
static const char *const MONTH[12] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool
digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The word at *p (letters only) if it is one of names: its index, *p past
 * it; else -1 and *p unchanged. */
static int
word(const char **p, const char *const *names, int n)
{
	size_t len = 0;
	int i;

	while (alpha((*p)[len]))
		len++;
	for (i = 0; i < n && len > 0; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(*p, names[i], len) == 0) {
			*p += len;
			return i;
		}
	return -1;
}

/* Exactly n digits at *p as a number; -1 (and *p unchanged) otherwise. */
static int
digits(const char **p, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!digit((*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

/* The literal text (case-insensitive) at *p, *p past it. */
static bool
lit(const char **p, const char *text)
{
	size_t n = strlen(text);

	if (strncasecmp(*p, text, n) != 0)
		return false;
	*p += n;
	return true;
}

/* HH:MM:SS (second 60: a leap second) as seconds of the day; -1 if bad. */
static long
time_of_day(const char **p)
{
	int h, m, s;

	if ((h = digits(p, 2)) < 0 || h > 23 || !lit(p, ":") ||
	    (m = digits(p, 2)) < 0 || m > 59 || !lit(p, ":") ||
	    (s = digits(p, 2)) < 0 || s > 60)
		return -1;
	return h * 3600L + m * 60L + s;
}

static bool
leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(long y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };

	return m == 1 && leap(y) ? 29 : days[m];
}

/* Days from 1970-01-01 to y-m-d (m 0-based), proleptic Gregorian. */
static long long
days_from_civil(long y, int m, int d)
{
	long long era, yoe, doy, doe;
	int mp = m >= 2 ? m - 2 : m + 10;

	y -= m < 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153LL * mp + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The year of unix time t (for the two-digit years of RFC 850). */
static long
year_of(long long t)
{
	long long z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;

	return (long)(yoe + era * 400 + (mp >= 10));
}

int
ao_http_date(const char *s, long long now, long long *out)
{
	const char *p = s;
	long year, tod;
	int mon, day, wd;

	*out = 0;
	if (s == NULL)
		return AO_ERR_DATA;
	while (ows(*p))
		p++;
	if ((wd = word(&p, WDAY, 7)) >= 0 && lit(&p, ", ")) {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		if ((day = digits(&p, 2)) < 0 || !lit(&p, " ") ||
		    (mon = word(&p, MONTH, 12)) < 0 || !lit(&p, " ") ||
		    (year = digits(&p, 4)) < 0 || !lit(&p, " ") ||
		    (tod = time_of_day(&p)) < 0 || !lit(&p, " GMT"))
			return AO_ERR_DATA;
	} else if (wd >= 0 && lit(&p, " ")) {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		if ((mon = word(&p, MONTH, 12)) < 0 || !lit(&p, " "))
			return AO_ERR_DATA;
		if (lit(&p, " "))
			day = digits(&p, 1);
		else
			day = digits(&p, 2);
		if (day < 0 || !lit(&p, " ") || (tod = time_of_day(&p)) < 0 ||
		    !lit(&p, " ") || (year = digits(&p, 4)) < 0)
			return AO_ERR_DATA;
	} else if (wd < 0 && word(&p, WDAY_LONG, 7) >= 0 && lit(&p, ", ")) {
		/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
		long now_year = year_of(now);

		if ((day = digits(&p, 2)) < 0 || !lit(&p, "-") ||
		    (mon = word(&p, MONTH, 12)) < 0 || !lit(&p, "-") ||
		    (year = digits(&p, 2)) < 0 || !lit(&p, " ") ||
		    (tod = time_of_day(&p)) < 0 || !lit(&p, " GMT"))
			return AO_ERR_DATA;
		/* the year with those last two digits within 50 years of
		 * now: never more than 50 years ahead */
		year += now_year - now_year % 100;
		if (year > now_year + 50)
			year -= 100;
		else if (year <= now_year - 50)
			year += 100;
	} else {
		return AO_ERR_DATA;
	}
	while (ows(*p))
		p++;
	if (*p != '\0' || day < 1 || day > month_days(year, mon))
		return AO_ERR_DATA;
	*out = days_from_civil(year, mon, day) * 86400 + tod;
	return AO_OK;
}

enum ao_retry_after_kind
ao_retry_after(const char *value, const char *date, long long now,
    long long *secs)
{
	const char *p = value, *end;
	long long v = 0, at, base = now;

	*secs = 0;
	if (p == NULL)
		return AO_RA_ABSENT;
	while (ows(*p))
		p++;
	if (*p == '\0')
		return AO_RA_ABSENT;
	for (end = p; digit(*end); end++)
		if (v < AO_RETRY_AFTER_HUGE)
			v = v * 10 + (*end - '0');
	if (end > p) {
		while (ows(*end))
			end++;
		if (*end != '\0')
			return AO_RA_GARBAGE;
		*secs = v < AO_RETRY_AFTER_HUGE ? v : AO_RETRY_AFTER_HUGE;
		return AO_RA_SECONDS;
	}
	if (ao_http_date(p, now, &at) != AO_OK)
		return AO_RA_GARBAGE;
	/* the server's clock, when it says what it is */
	if (date != NULL && ao_http_date(date, now, &v) == AO_OK)
		base = v;
	if (at > base) {
		v = at - base;
		*secs = v < AO_RETRY_AFTER_HUGE ? v : AO_RETRY_AFTER_HUGE;
	}
	return AO_RA_DATE;
}
