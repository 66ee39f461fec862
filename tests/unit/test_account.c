#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "account.h"

#define H "$6$saltsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ./0123456789abcdefghij"

static void
lock_marker_table(void **state)
{
	static const struct { const char *pw; bool locked; } cases[] = {
		{ "!" H, true },          /* usermod -L, passwd -l */
		{ "!!" H, true },         /* some passwd -l add two */
		{ "!abcdefghij./Z", true }, /* traditional DES after '!' */
		{ H, false },             /* a normal password */
		{ "!", false },           /* created without a password */
		{ "!!", false },          /* the same, RHEL style */
		{ "*", false },           /* no password login */
		{ "!*", false },          /* locked no-password account */
		{ "", false },
		{ "!$", false },          /* not a hash */
		{ "!abc", false },        /* not 13 DES characters */
		{ "!abcdefghij.:Z", false },
		{ "*" H, false },         /* '*' is not a lock marker */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ao_shadow_locked(cases[i].pw) != cases[i].locked)
			fail_msg("case %zu (%s): want %d", i, cases[i].pw,
			    cases[i].locked);
	assert_false(ao_shadow_locked(NULL));
}

static struct spwd
entry(char *pw, long lstchg, long max, long inact, long expire)
{
	struct spwd sp;

	memset(&sp, 0, sizeof(sp));
	sp.sp_namp = (char *)(uintptr_t)"u";
	sp.sp_pwdp = pw;
	sp.sp_lstchg = lstchg;
	sp.sp_min = 0;
	sp.sp_max = max;
	sp.sp_warn = 7;
	sp.sp_inact = inact;
	sp.sp_expire = expire;
	return sp;
}

static void
conditions(void **state)
{
	char hash[] = H, locked[] = "!" H, bang[] = "!";
	struct ao_account_status st;
	struct spwd sp;
	const long today = 20000;

	(void)state;
	sp = entry(hash, 19990, -1, -1, -1);
	ao_account_inspect(&sp, today, &st);
	assert_int_equal(st.cond, AO_COND_NONE);
	assert_string_equal(st.key, "");

	sp = entry(locked, 19990, -1, -1, -1);
	ao_account_inspect(&sp, today, &st);
	assert_int_equal(st.cond, AO_COND_LOCKED);
	assert_int_equal(st.event, AO_EV_LOCKED);
	assert_null(strstr(st.key, "saltsalt")); /* a digest, not the hash */

	sp = entry(bang, 19990, -1, -1, today); /* expires today */
	ao_account_inspect(&sp, today, &st);
	assert_int_equal(st.cond, AO_COND_EXPIRED);
	assert_int_equal(st.event, AO_EV_EXPIRED);
	assert_string_equal(st.key, "expired:20000");

	sp = entry(hash, 19990, -1, -1, today + 1); /* tomorrow: not yet */
	ao_account_inspect(&sp, today, &st);
	assert_int_equal(st.cond, AO_COND_NONE);

	sp = entry(hash, 19990, -1, -1, 0); /* chage -E 0: pam_unix says expired */
	ao_account_inspect(&sp, today, &st);
	assert_int_equal(st.cond, AO_COND_EXPIRED);

	/* password expired past inactivity: today - lstchg > max + inact */
	sp = entry(hash, 19900, 90, 10, -1);
	ao_account_inspect(&sp, today, &st);     /* 100 > 100: no */
	assert_int_equal(st.cond, AO_COND_NONE);
	ao_account_inspect(&sp, today + 1, &st); /* 101 > 100: yes */
	assert_int_equal(st.cond, AO_COND_INACTIVE);
	assert_int_equal(st.event, AO_EV_EXPIRED);
	sp = entry(hash, 0, 90, 10, -1);         /* lstchg 0: must change, not inactive */
	ao_account_inspect(&sp, today, &st);
	assert_int_equal(st.cond, AO_COND_NONE);
	sp = entry(hash, 19000, 90, -1, -1);     /* no inactivity limit */
	ao_account_inspect(&sp, today, &st);
	assert_int_equal(st.cond, AO_COND_NONE);

	/* locked and expired: one event, the lock */
	sp = entry(locked, 19990, -1, -1, 1);
	ao_account_inspect(&sp, today, &st);
	assert_int_equal(st.cond, AO_COND_LOCKED);
}

/* The same lock seen twice is one episode; a new password is another. */
static void
episode_keys(void **state)
{
	char a[] = "!" H, b[] = "!!" H, c[] = "!$6$other$hash";
	struct ao_account_status s1, s2, s3;
	struct spwd sp;

	(void)state;
	sp = entry(a, 1, -1, -1, -1);
	ao_account_inspect(&sp, 20000, &s1);
	sp = entry(b, 1, -1, -1, -1);
	ao_account_inspect(&sp, 20001, &s2);
	sp = entry(c, 1, -1, -1, -1);
	ao_account_inspect(&sp, 20000, &s3);
	assert_string_equal(s1.key, s2.key);
	assert_string_not_equal(s1.key, s3.key);
}

static void
usernames(void **state)
{
	(void)state;
	assert_true(ao_username_ok("alice"));
	assert_true(ao_username_ok("a.b-c_d"));
	assert_true(ao_username_ok("MACHINE$"));
	assert_true(ao_username_ok("user@realm"));
	assert_false(ao_username_ok(""));
	assert_false(ao_username_ok(NULL));
	assert_false(ao_username_ok(".hidden"));
	assert_false(ao_username_ok("-rf"));
	assert_false(ao_username_ok("a/b"));
	assert_false(ao_username_ok("a b"));
	assert_false(ao_username_ok("a\nb"));
	assert_false(ao_username_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lock_marker_table),
		cmocka_unit_test(conditions),
		cmocka_unit_test(episode_keys),
		cmocka_unit_test(usernames),
	};

	return cmocka_run_group_tests_name("account", tests, NULL, NULL);
}
