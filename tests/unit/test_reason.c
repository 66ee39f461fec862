#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "reason.h"
#include "text.h"

static void
names(void **state)
{
	static const char *all[] = { "locked", "expired", "faillock",
	    "deleted", "manual", "nologin" };
	enum ao_event ev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_int_equal(ao_event_parse(all[i], &ev), AO_OK);
		assert_string_equal(ao_event_name(ev), all[i]);
	}
	assert_int_equal(ao_event_parse("Locked", &ev), AO_ERR_USAGE);
	assert_int_equal(ao_event_parse("", &ev), AO_ERR_USAGE);
}

static void
names_host_account_event(void **state)
{
	char out[AO_REASON_MAX + 1];
	size_t n;

	(void)state;
	n = ao_reason_build(out, "web1.example.com", "alice", AO_EV_MANUAL,
	    1795000000);
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "Linux account alice on host web1.example.com "
	    "was revoked by an administrator (2026-11-18T11:06:40Z, "
	    "pam_accessowl)");
}

/* Every host files a state with the same body: one key, one request. */
static void
fleet_reason_is_the_same_everywhere(void **state)
{
	static const enum ao_event evs[] = { AO_EV_LOCKED, AO_EV_EXPIRED,
	    AO_EV_FAILLOCK, AO_EV_DELETED, AO_EV_NOLOGIN };
	char a[AO_REASON_MAX + 1], b[AO_REASON_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		assert_true(ao_event_fleet(evs[i]));
		ao_reason_build(a, "web1", "alice", evs[i], 1795000000);
		ao_reason_build(b, "db7", "asmith", AO_EV_LOCKED, 0);
		assert_string_equal(a, b);
		assert_string_equal(a, AO_REASON_FLEET);
	}
	assert_false(ao_event_fleet(AO_EV_MANUAL));
	assert_true(strlen(AO_REASON_FLEET) <= AO_REASON_MAX);
}

/* 255 bytes at most, cut on a UTF-8 boundary, no control bytes. */
static void
long_and_hostile(void **state)
{
	char host[400], user[400], out[AO_REASON_MAX + 1], clean[1024];
	size_t i, n, pad;

	(void)state;
	for (pad = 0; pad < 8; pad++) {
		/* user of 3-byte characters, shifted so the cut lands mid-char */
		memset(host, 'h', pad);
		host[pad] = '\0';
		for (i = 0; i < 100; i++)
			memcpy(user + 3 * i, "\xe2\x82\xac", 3);
		user[300] = '\0';
		n = ao_reason_build(out, host, user, AO_EV_MANUAL, 0);
		assert_true(n <= AO_REASON_MAX);
		assert_int_equal(ao_utf8_cut(out, n, AO_REASON_MAX), n);
		/* the text is valid UTF-8: sanitizing leaves it unchanged */
		ao_sanitize(clean, sizeof(clean), out);
		assert_string_equal(clean, out);
	}
	n = ao_reason_build(out, "evil\nhost\x1b[0m", "a\rb", AO_EV_MANUAL, 0);
	for (i = 0; i < n; i++)
		assert_true((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
	assert_non_null(strstr(out, "a?b on host evil?host?[0m"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(names_host_account_event),
		cmocka_unit_test(fleet_reason_is_the_same_everywhere),
		cmocka_unit_test(long_and_hostile),
	};

	return cmocka_run_group_tests_name("reason", tests, NULL, NULL);
}
