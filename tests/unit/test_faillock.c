#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "faillock.h"

/* Craft pam_faillock tally records: source[52], reserved, status, time. */
static size_t
put(unsigned char *buf, size_t i, uint16_t status, uint64_t t)
{
	unsigned char *r = buf + i * AO_FAILLOCK_RECORD;

	memset(r, 0, AO_FAILLOCK_RECORD);
	memcpy(r, "192.0.2.1", 9);
	memcpy(r + 54, &status, sizeof(status));
	memcpy(r + 56, &t, sizeof(t));
	return (i + 1) * AO_FAILLOCK_RECORD;
}

static void
deny_count_within_interval(void **state)
{
	struct ao_faillock_conf c;
	unsigned char buf[16 * AO_FAILLOCK_RECORD];
	const time_t now = 1800000000;
	size_t len;

	(void)state;
	ao_faillock_defaults(&c);  /* deny 3, fail_interval 900, unlock 600 */
	len = put(buf, 0, AO_FAILLOCK_VALID, now - 100);
	len = put(buf, 1, AO_FAILLOCK_VALID, now - 50);
	assert_false(ao_faillock_locked(&c, buf, len, now));   /* 2 < deny */
	len = put(buf, 2, AO_FAILLOCK_VALID, now - 10);
	assert_true(ao_faillock_locked(&c, buf, len, now));    /* exactly 3 */
	/* an invalid record does not count */
	put(buf, 2, 0, now - 10);
	assert_false(ao_faillock_locked(&c, buf, len, now));
	/* three failures spread wider than fail_interval */
	len = put(buf, 0, AO_FAILLOCK_VALID, now - 2000);
	len = put(buf, 1, AO_FAILLOCK_VALID, now - 1000);
	len = put(buf, 2, AO_FAILLOCK_VALID, now - 10);
	assert_false(ao_faillock_locked(&c, buf, len, now));
	/* fail_interval is measured from the latest failure, strictly */
	len = put(buf, 0, AO_FAILLOCK_VALID, now - 910);
	len = put(buf, 1, AO_FAILLOCK_VALID, now - 500);
	len = put(buf, 2, AO_FAILLOCK_VALID, now - 10);
	assert_false(ao_faillock_locked(&c, buf, len, now));   /* 900: not < */
	put(buf, 0, AO_FAILLOCK_VALID, now - 909);      /* len stays 3 */
	assert_true(ao_faillock_locked(&c, buf, len, now));
	/* deny 0: never */
	c.deny = 0;
	assert_false(ao_faillock_locked(&c, buf, len, now));
}

static void
unlock_time(void **state)
{
	struct ao_faillock_conf c;
	unsigned char buf[4 * AO_FAILLOCK_RECORD];
	const time_t t = 1800000000;
	size_t len;

	(void)state;
	ao_faillock_defaults(&c);
	len = put(buf, 0, AO_FAILLOCK_VALID, t);
	len = put(buf, 1, AO_FAILLOCK_VALID, t + 1);
	len = put(buf, 2, AO_FAILLOCK_VALID, t + 2);
	assert_true(ao_faillock_locked(&c, buf, len, t + 2));
	assert_true(ao_faillock_locked(&c, buf, len, t + 2 + 600)); /* == */
	assert_false(ao_faillock_locked(&c, buf, len, t + 2 + 601)); /* after */
	c.unlock_time = 0;                                    /* never */
	assert_true(ao_faillock_locked(&c, buf, len, t + 86400 * 30));
	/* a truncated trailing record is ignored */
	assert_true(ao_faillock_locked(&c, buf, len + 10, t + 3));
	assert_false(ao_faillock_locked(&c, buf, 0, t));
}

static void
conf_parsing(void **state)
{
	struct ao_faillock_conf c;

	(void)state;
	ao_faillock_defaults(&c);
	ao_faillock_parse(
	    "# comment\n"
	    "deny = 5\n"
	    "  fail_interval=60  # trailing comment\n"
	    "unlock_time = never\n"
	    "even_deny_root\n"
	    "dir = /run/tallies\n"
	    "silent\n"
	    "admin_group = wheel\n"
	    "deny = -4\n"
	    "fail_interval = 12x\n", &c);
	assert_int_equal(c.deny, 5);
	assert_int_equal(c.fail_interval, 60);
	assert_int_equal(c.unlock_time, 0);
	assert_true(c.even_deny_root);
	assert_string_equal(c.dir, "/run/tallies");
	ao_faillock_defaults(&c);
	ao_faillock_parse("unlock_time = 30\ndir = relative\n", &c);
	assert_int_equal(c.unlock_time, 30);
	assert_string_equal(c.dir, "/var/run/faillock");
	assert_int_equal(c.deny, 3);
	assert_false(c.even_deny_root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deny_count_within_interval),
		cmocka_unit_test(unlock_time),
		cmocka_unit_test(conf_parsing),
	};

	return cmocka_run_group_tests_name("faillock", tests, NULL, NULL);
}
