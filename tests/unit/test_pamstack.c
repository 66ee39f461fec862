/* What check reads of a PAM service's stacks (pamstack.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "pamstack.h"

static char dir[64];

static void
put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* Debian 12's common-account, as pam-auth-update writes it with our
 * profile (an Additional block after the primary one). */
static const char common_account[] =
    "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so\n"
    "account\trequisite\t\t\tpam_deny.so\n"
    "account\trequired\t\t\tpam_permit.so\n"
    "account\toptional\t\t\tpam_accessowl.so\n";

static void
stacks(void **state)
{
	static const struct {
		const char *sshd;
		bool acct, sess, skipped, enforce, refuse;
		const char *skipper;
	} t[] = {
		/* the README's observer lines, before the system's stack */
		{ "account optional pam_accessowl.so\n@include common-account\n"
		  "session optional pam_accessowl.so\n",
		  true, true, false, false, false, NULL },
		/* enforce where it can refuse, and where it cannot */
		{ "account required pam_accessowl.so enforce\n",
		  true, false, false, true, true, NULL },
		{ "account optional pam_accessowl.so enforce\n",
		  true, false, false, true, false, NULL },
		{ "account [default=bad success=ok] /lib/security/pam_accessowl.so"
		  " debug enforce\n", true, false, false, true, true, NULL },
		{ "account [perm_denied=ignore default=bad] pam_accessowl.so "
		  "enforce\n", true, false, false, true, false, NULL },
		/* from the profile, through @include: the jump over pam_deny
		 * lands before it */
		{ "@include common-account\n", true, false, false, false, false,
		  NULL },
		/* a sufficient line before it ends the stack on success */
		{ "account sufficient pam_succeed_if.so uid < 5000\n"
		  "account optional pam_accessowl.so\n", true, false, true, false,
		  false, "sufficient pam_succeed_if.so" },
		/* a jump past it */
		{ "account [success=2 default=ignore] pam_unix.so\n"
		  "account requisite pam_deny.so\n"
		  "account optional pam_accessowl.so\n"
		  "account required pam_permit.so\n", true, false, true, false,
		  false, "[success=2 default=ignore] pam_unix.so" },
		/* ... or a done */
		{ "account [success=done default=ignore] pam_sss.so\n"
		  "account optional pam_accessowl.so\n", true, false, true, false,
		  false, "[success=done default=ignore] pam_sss.so" },
		/* comments, continuations, a leading '-', the include control */
		{ "# account optional pam_accessowl.so\n"
		  "-session optional \\\n pam_accessowl.so\n"
		  "account include common-account\n", true, true, false, false,
		  false, NULL },
		/* another type's sufficient is no skip */
		{ "auth sufficient pam_permit.so\n"
		  "account optional pam_accessowl.so\n", true, false, false,
		  false, false, NULL },
		/* absent */
		{ "account required pam_unix.so\n", false, false, false, false,
		  false, NULL },
	};
	struct ao_pam_service s;
	size_t i;

	(void)state;
	put("common-account", common_account);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		put("sshd", t[i].sshd);
		assert_int_equal(ao_pam_inspect(dir, "sshd", &s), AO_OK);
		assert_true(s.exists);
		assert_string_equal(s.error, "");
		assert_int_equal(s.account.present, t[i].acct);
		assert_int_equal(s.session.present, t[i].sess);
		assert_int_equal(s.account.skipped, t[i].skipped);
		assert_int_equal(s.account.enforce, t[i].enforce);
		assert_int_equal(s.account.can_refuse, t[i].refuse);
		if (t[i].skipper != NULL)
			assert_string_equal(s.account.skipper, t[i].skipper);
	}
	/* no such service; an include that loops */
	assert_int_equal(ao_pam_inspect(dir, "nothere", &s), AO_OK);
	assert_false(s.exists);
	put("loop", "@include loop\n");
	assert_int_equal(ao_pam_inspect(dir, "loop", &s), AO_OK);
	assert_non_null(strstr(s.error, "deeper"));
	put("sshd", "@include missing\naccount optional pam_accessowl.so\n");
	assert_int_equal(ao_pam_inspect(dir, "sshd", &s), AO_OK);
	assert_non_null(strstr(s.error, "missing"));
	assert_true(s.account.present);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_pamstack.XXXXXX");
	return mkdtemp(dir) == NULL;
}

static int
teardown(void **state)
{
	static const char *const files[] = { "sshd", "common-account",
		"loop" };
	char path[128];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stacks),
	};

	return cmocka_run_group_tests_name("pamstack", tests, setup, teardown);
}
