/* The PAM module's arguments (common/modargs.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "modargs.h"

static char said[1024];

static void
collect(void *ctx, const char *msg)
{
	size_t n = strlen(said);

	(*(int *)ctx)++;
	snprintf(said + n, sizeof(said) - n, "%s|", msg);
}

static void
table(void **state)
{
	static const struct {
		const char *argv[4];
		const char *helper, *config, *run_dir;
		int debug, bad;
		const char *says;       /* in what is reported, or NULL */
		int enforce;
	} cases[] = {
		{ { NULL }, AO_HELPER_PATH, AO_CONFIG_PATH, AO_RUN_DIR, 0, 0, NULL, 0 },
		{ { "helper=/opt/h", "config=/c/a.conf", "run_dir=/run/x", "debug" },
		    "/opt/h", "/c/a.conf", "/run/x", 1, 0, NULL, 0 },
		/* opt-in, and only spelled exactly so */
		{ { "enforce", NULL }, AO_HELPER_PATH, AO_CONFIG_PATH,
		    AO_RUN_DIR, 0, 0, NULL, 1 },
		{ { "enforce=yes", "Enforce", NULL }, AO_HELPER_PATH,
		    AO_CONFIG_PATH, AO_RUN_DIR, 0, 2, "'enforce=yes'", 0 },
		/* paths must be absolute: relative ones are refused */
		{ { "helper=h", "config=", "run_dir=/", NULL }, AO_HELPER_PATH,
		    AO_CONFIG_PATH, AO_RUN_DIR, 0, 3, "paths must be absolute", 0 },
		/* the former argument: obsolete, said so */
		{ { "state_dir=/var/lib/accessowl", NULL }, AO_HELPER_PATH,
		    AO_CONFIG_PATH, AO_RUN_DIR, 0, 1, "state_dir= is obsolete", 0 },
		/* a typo is reported, never fatal; control bytes defused */
		{ { "degub", "helper\x1b[2J=/x", NULL }, AO_HELPER_PATH,
		    AO_CONFIG_PATH, AO_RUN_DIR, 0, 2, "'helper?[2J=/x'", 0 },
		/* the later one wins */
		{ { "helper=/a", "helper=/b", NULL }, "/b", AO_CONFIG_PATH,
		    AO_RUN_DIR, 0, 0, NULL, 0 },
		{ { "helperx=/a", "DEBUG", NULL }, AO_HELPER_PATH,
		    AO_CONFIG_PATH, AO_RUN_DIR, 0, 2, NULL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ao_modargs o;
		const char *av[4];
		int argc = 0, n = 0, bad;

		while (argc < 4 && cases[i].argv[argc] != NULL) {
			av[argc] = cases[i].argv[argc];
			argc++;
		}
		said[0] = '\0';
		memset(&o, 0xa5, sizeof(o));
		bad = ao_modargs_parse(argc, av, &o, collect, &n);
		if (bad != cases[i].bad || n != bad)
			fail_msg("case %zu: %d bad, %d reported, want %d", i, bad,
			    n, cases[i].bad);
		assert_string_equal(o.helper, cases[i].helper);
		assert_string_equal(o.config, cases[i].config);
		assert_string_equal(o.run_dir, cases[i].run_dir);
		assert_int_equal(o.debug, cases[i].debug);
		assert_int_equal(o.enforce, cases[i].enforce);
		if (cases[i].says != NULL && strstr(said, cases[i].says) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, said,
			    cases[i].says);
		assert_null(strchr(said, '\x1b'));
	}
	/* no reporter: still parsed */
	{
		const char *argv[] = { "bogus", "debug" };
		struct ao_modargs o;

		assert_int_equal(ao_modargs_parse(2, argv, &o, NULL, NULL), 1);
		assert_true(o.debug);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
	};

	return cmocka_run_group_tests_name("modargs", tests, NULL, NULL);
}
