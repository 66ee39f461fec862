#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "identity.h"

static void
gecos_table(void **state)
{
	static const struct { const char *gecos, *want; } cases[] = {
		{ "Alice Smith,,,,alice@example.com", "alice@example.com" },
		{ "Alice Smith <alice.smith@example.com>", "alice.smith@example.com" },
		{ "alice@example.com", "alice@example.com" },
		{ "Bob,Room 1,555-1234,,bob+ops@corp.example.org", "bob+ops@corp.example.org" },
		{ "x@y@z.com,real@ok.com", "real@ok.com" },
		{ "Alice Smith", NULL },
		{ "alice@localhost", NULL },          /* no dot in the domain */
		{ "@example.com", NULL },
		{ "alice@.com", NULL },
		{ "alice@example..com", NULL },
		{ "alice@example.com.", NULL },
		{ "", NULL },
		{ NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[320];
		int r = ao_gecos_email(cases[i].gecos, out, sizeof(out));

		if (cases[i].want == NULL) {
			if (r != AO_ERR_NOTFOUND)
				fail_msg("case %zu found \"%s\"", i, out);
		} else {
			if (r != AO_OK)
				fail_msg("case %zu: nothing found in \"%s\"", i,
				    cases[i].gecos);
			assert_string_equal(out, cases[i].want);
		}
	}
}

static void
precedence(void **state)
{
	char mu[] = "alice", me[] = "a.smith@corp.example";
	struct ao_map_entry map[] = { { mu, me } };
	struct ao_config c;
	const char *src;
	char out[320];

	(void)state;
	assert_int_equal(ao_config_defaults(&c), AO_OK);
	free(c.email_domain);
	c.email_domain = strdup("example.com");
	c.map = map;
	c.nmap = 1;

	/* map beats GECOS beats domain */
	assert_int_equal(ao_identity_email(&c, "alice", "A,,,,alice@gecos.example",
	    out, sizeof(out), &src), AO_OK);
	assert_string_equal(out, "a.smith@corp.example");
	assert_string_equal(src, "identity.map");

	assert_int_equal(ao_identity_email(&c, "bob", "Bob,,,,bob@gecos.example",
	    out, sizeof(out), &src), AO_OK);
	assert_string_equal(out, "bob@gecos.example");
	assert_string_equal(src, "GECOS");

	assert_int_equal(ao_identity_email(&c, "carol", "Carol", out,
	    sizeof(out), &src), AO_OK);
	assert_string_equal(out, "carol@example.com");
	assert_string_equal(src, "email_domain");

	/* deleted account: no GECOS, still mapped */
	assert_int_equal(ao_identity_email(&c, "alice", NULL, out, sizeof(out),
	    &src), AO_OK);
	assert_string_equal(out, "a.smith@corp.example");

	/* gecos_email off: GECOS ignored */
	c.gecos_email = false;
	assert_int_equal(ao_identity_email(&c, "bob", "Bob,,,,bob@gecos.example",
	    out, sizeof(out), &src), AO_OK);
	assert_string_equal(out, "bob@example.com");

	/* no domain, no map, no GECOS: nothing */
	c.email_domain[0] = '\0';
	assert_int_equal(ao_identity_email(&c, "dave", "Dave", out, sizeof(out),
	    &src), AO_ERR_NOTFOUND);
	assert_null(src);

	c.map = NULL;
	c.nmap = 0;
	ao_config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gecos_table),
		cmocka_unit_test(precedence),
	};

	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
