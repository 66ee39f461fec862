/*
 * Time that a clock step cannot fool (common/clock.c): stored deadlines
 * clamped on read, and episode stamps ordered by the boot clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "err.h"

#define DAY 86400LL

/* A deadline is never further from now than its wait, nor than the cap. */
static void
deadlines(void **state)
{
	static const long long T = 1700000000LL;
	static const struct {
		long long until, set_at, cap, now, want;
	} cases[] = {
		/* no deadline */
		{ 0, 0, 3600, T, 0 },
		{ 0, T, 3600, T, 0 },
		/* the clock as it was: untouched */
		{ T + 60, T, 3600, T, T + 60 },
		{ T + 60, T, 3600, T + 30, T + 60 },
		{ T + 60, T, 3600, T + 90, T + 60 },    /* due, and stays so */
		/* set while a day fast, read after the correction: the wait
		 * again, from now */
		{ T + DAY + 60, T + DAY, 3600, T, T + 60 },
		/* set at an unknown time: the cap */
		{ T + DAY, 0, 3600, T, T + 3600 },
		{ T + DAY, -5, 3600, T, T + 3600 },
		/* a wait longer than the cap is the cap */
		{ T + DAY, T, 3600, T, T + 3600 },
		/* nonsense (due before it was set): the cap */
		{ T + 10, T + 100, 3600, T - DAY, T - DAY + 3600 },
		/* a clock stepped forward: due early, never later */
		{ T + 60, T, 3600, T + DAY, T + 60 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long got = ao_deadline(cases[i].until, cases[i].set_at,
		    cases[i].cap, cases[i].now);

		if (got != cases[i].want)
			fail_msg("case %zu: %lld, want %lld", i, got, cases[i].want);
	}
}

#define B1 "0123456789abcdef0123456789abcdef"
#define B2 "fedcba9876543210fedcba9876543210"

static struct ao_stamp
st(long long wall, long long boot_ms, const char *boot)
{
	struct ao_stamp s;

	memset(&s, 0, sizeof(s));
	s.wall_ms = wall;
	s.boot_ms = boot_ms;
	snprintf(s.boot, sizeof(s.boot), "%s", boot);
	return s;
}

static void
stamps_text(void **state)
{
	static const char *const bad[] = { "", "x", "-1", "12x", "12:", "12:5",
		"12:5:", "12:5:" B1 "0", "12:5:0123", "12:-5:" B1,
		"12:5:0123456789ABCDEF0123456789abcdef", " 12", "12 ",
		"99999999999999999999999" };
	struct ao_stamp s = st(1, 2, B1), back;
	char text[AO_STAMP_MAX];
	size_t i;

	(void)state;
	ao_stamp_format(&s, text, sizeof(text));
	assert_string_equal(text, "1:2:" B1);
	assert_int_equal(ao_stamp_parse(text, &back), AO_OK);
	assert_memory_equal(&s, &back, sizeof(s));
	/* what versions before this wrote: milliseconds alone */
	assert_int_equal(ao_stamp_parse("1712345678901", &back), AO_OK);
	assert_true(back.wall_ms == 1712345678901LL && back.boot[0] == '\0');
	s = st(1712345678901LL, 0, "");
	ao_stamp_format(&s, text, sizeof(text));
	assert_string_equal(text, "1712345678901");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ao_stamp_parse(bad[i], &back) != AO_ERR_DATA ||
		    back.wall_ms != 0 || back.boot[0] != '\0')
			fail_msg("\"%s\" was taken", bad[i]);
}

/* The boot clock orders two stamps of one boot whatever the wall clock
 * did; the current boot is later than any other; else the wall clock. */
static void
stamps_order(void **state)
{
	static const long long T = 1700000000000LL;
	const struct ao_stamp now = st(T, 500000, B1);
	static const struct {
		struct ao_stamp a, b;
		bool after;
	} cases[] = {
		/* one boot: the wall clock was stepped back a day between */
		{ { T - DAY * 1000, 400000, B1 }, { T, 300000, B1 }, true },
		{ { T, 300000, B1 }, { T - DAY * 1000, 400000, B1 }, false },
		/* ... or forward */
		{ { T + DAY * 1000, 300000, B1 }, { T, 400000, B1 }, false },
		{ { T, 400000, B1 }, { T, 400000, B1 }, false },
		/* another boot, before this one */
		{ { T - DAY * 1000, 10, B1 }, { T, 900000, B2 }, true },
		{ { T, 900000, B2 }, { T - DAY * 1000, 10, B1 }, false },
		/* neither of this boot, or one without a boot clock: wall */
		{ { T, 10, B2 }, { T - 1, 900000, "ffffffffffffffffffffffffffffffff" },
		    true },
		{ { T - 1, 10, B1 }, { T, 0, "" }, false },
		{ { T + 1, 10, B1 }, { T, 0, "" }, true },
		{ { T, 0, "" }, { T - 1, 10, B1 }, true },
		/* an unknown wall clock is never later */
		{ { 0, 0, "" }, { 0, 0, "" }, false },
		{ { 0, 0, "" }, { -5, 0, "" }, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ao_stamp_after(&cases[i].a, &cases[i].b, &now) !=
		    cases[i].after)
			fail_msg("case %zu: want %s", i, cases[i].after ? "after" :
			    "not after");
}

/* Now, twice: the second is later, and of this boot. */
static void
stamps_now(void **state)
{
	struct ao_stamp a, b;
	char text[AO_STAMP_MAX];

	(void)state;
	ao_stamp_now(&a);
	ao_stamp_now(&b);
	b.boot_ms += 1;
	assert_true(a.wall_ms > 1600000000000LL);
	/* /proc/sys is there wherever these tests run */
	assert_int_equal(strlen(a.boot), AO_BOOT_ID_LEN);
	assert_string_equal(a.boot, b.boot);
	assert_true(ao_stamp_after(&b, &a, &b));
	assert_false(ao_stamp_after(&a, &b, &b));
	ao_stamp_format(&a, text, sizeof(text));
	assert_int_equal(ao_stamp_parse(text, &b), AO_OK);
	assert_memory_equal(&a, &b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deadlines),
		cmocka_unit_test(stamps_text),
		cmocka_unit_test(stamps_order),
		cmocka_unit_test(stamps_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
