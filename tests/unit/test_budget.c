/* The collector's budget per sender (budget.h): people, not events, in a
 * sliding hour, each sender on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "budget.h"

#define T0 1800000000LL

static void
people_not_events(void **state)
{
	struct ao_budget *b = ao_budget_new(3);
	int i;

	(void)state;
	assert_non_null(b);
	/* a fleet behind one address reporting one person: never over */
	for (i = 0; i < 500; i++)
		assert_true(ao_budget_admit(b, "10.0.0.1", "alice@example.com",
		    T0 + i));
	assert_true(ao_budget_admit(b, "10.0.0.1", "bob@example.com", T0 + 600));
	assert_true(ao_budget_admit(b, "10.0.0.1", "carol@example.com",
	    T0 + 601));
	/* the fourth different person within the hour is over */
	assert_false(ao_budget_admit(b, "10.0.0.1", "dave@example.com",
	    T0 + 602));
	assert_false(ao_budget_admit(b, "10.0.0.1", "dave@example.com",
	    T0 + 603));
	/* people already counted still pass, whatever the case */
	assert_true(ao_budget_admit(b, "10.0.0.1", "bob@example.com", T0 + 604));
	assert_true(ao_budget_admit(b, "10.0.0.1", "Bob@Example.COM", T0 + 604));
	/* another sender has its own budget */
	assert_true(ao_budget_admit(b, "10.0.0.2", "dave@example.com",
	    T0 + 605));
	ao_budget_free(b);
}

static void
sliding_hour(void **state)
{
	struct ao_budget *b = ao_budget_new(2);

	(void)state;
	assert_true(ao_budget_admit(b, "s", "a", T0));
	assert_true(ao_budget_admit(b, "s", "b", T0 + 1800));
	assert_false(ao_budget_admit(b, "s", "c", T0 + 3599));
	assert_false(ao_budget_admit(b, "S", "c", T0 + 3599));  /* same one */
	/* a's hour is over: room for one */
	assert_true(ao_budget_admit(b, "s", "c", T0 + 3600));
	assert_false(ao_budget_admit(b, "s", "d", T0 + 3601));
	/* b reported again counts from then */
	assert_true(ao_budget_admit(b, "s", "b", T0 + 5000));
	assert_false(ao_budget_admit(b, "s", "d", T0 + 5399));
	assert_true(ao_budget_admit(b, "s", "d", T0 + 7200));
	ao_budget_free(b);
}

/* The clock stepped back a day: what was seen "tomorrow" still leaves
 * within the hour, not a day later. */
static void
clock_stepped_back(void **state)
{
	struct ao_budget *b = ao_budget_new(1);

	(void)state;
	assert_true(ao_budget_admit(b, "s", "a", T0 + 86400));
	assert_false(ao_budget_admit(b, "s", "b", T0));
	assert_false(ao_budget_admit(b, "s", "b", T0 + 3599));
	assert_true(ao_budget_admit(b, "s", "b", T0 + 3600));
	ao_budget_free(b);
}

static void
no_limit(void **state)
{
	struct ao_budget *b = ao_budget_new(0);
	char person[32];
	int i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		snprintf(person, sizeof(person), "p%d@example.com", i);
		assert_true(ao_budget_admit(b, "s", person, T0));
	}
	ao_budget_free(b);
}

/* Many senders: the one quiet longest is forgotten, not the busy one. */
static void
senders_bounded(void **state)
{
	struct ao_budget *b = ao_budget_new(1);
	char sender[32];
	int i;

	(void)state;
	assert_true(ao_budget_admit(b, "busy", "a", T0));
	for (i = 0; i < AO_BUDGET_SENDERS + 100; i++) {
		snprintf(sender, sizeof(sender), "10.1.%d.%d", i / 256, i % 256);
		assert_true(ao_budget_admit(b, sender, "x", T0 + 1 + i));
		/* the busy one keeps reporting its person, and keeps its count */
		assert_true(ao_budget_admit(b, "busy", "a", T0 + 1 + i));
	}
	assert_false(ao_budget_admit(b, "busy", "b", T0 + 9000 - 3600));
	ao_budget_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(people_not_events),
		cmocka_unit_test(sliding_hour),
		cmocka_unit_test(clock_stepped_back),
		cmocka_unit_test(no_limit),
		cmocka_unit_test(senders_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
