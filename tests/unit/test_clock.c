/*
 * Time that a clock step cannot fool (common/clock.c): stored deadlines
 * clamped on read.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deadlines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
