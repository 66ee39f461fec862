#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
	char mu[] = "alice", me[] = "a.smith@corp.example", gd[] = "gecos.example";
	char *doms[] = { gd };
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
	c.gecos_email = true;
	c.gecos_domains.v = doms;
	c.gecos_domains.n = 1;
	assert_int_equal(c.gecos_trusted, AO_GECOS_OTHER); /* the default */

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
	c.gecos_domains.v = NULL;
	c.gecos_domains.n = 0;
	ao_config_free(&c);
}

/* CHFN_RESTRICT as chfn reads it: the subfields users may change. */
static void
chfn_table(void **state)
{
	static const struct { const char *text; unsigned want; } cases[] = {
		{ "CHFN_RESTRICT\trwh\n", AO_GECOS_ROOM | AO_GECOS_WORK | AO_GECOS_HOME },
		{ "CHFN_RESTRICT yes\n", AO_GECOS_ROOM | AO_GECOS_WORK | AO_GECOS_HOME },
		{ "CHFN_RESTRICT no\n", AO_GECOS_CHFN },
		{ "CHFN_RESTRICT f\n", AO_GECOS_FULLNAME },
		{ "CHFN_RESTRICT \"wh\"\n", AO_GECOS_WORK | AO_GECOS_HOME },
		{ "CHFN_RESTRICT\n", AO_GECOS_ROOM | AO_GECOS_WORK | AO_GECOS_HOME },
		{ "CHFN_RESTRICT  \n", AO_GECOS_ROOM | AO_GECOS_WORK | AO_GECOS_HOME },
		{ "CHFN_RESTRICT x\n", 0 },
		/* the last one counts, as in shadow's getdef */
		{ "CHFN_RESTRICT f\nCHFN_RESTRICT r\n", AO_GECOS_ROOM },
		{ "# CHFN_RESTRICT no\nUMASK 022\n",
		    AO_GECOS_ROOM | AO_GECOS_WORK | AO_GECOS_HOME },
		{ "CHFN_RESTRICTED no\n",
		    AO_GECOS_ROOM | AO_GECOS_WORK | AO_GECOS_HOME },
		{ "", AO_GECOS_ROOM | AO_GECOS_WORK | AO_GECOS_HOME },
		{ NULL, AO_GECOS_CHFN },        /* unreadable: trust none */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ao_chfn_user_fields(cases[i].text) != cases[i].want)
			fail_msg("case %zu: got %#x, want %#x", i,
			    ao_chfn_user_fields(cases[i].text), cases[i].want);
	/* a login.defs that is not root's is not believed (unit tests may
	 * run as root: then this one, which root owns, is) */
	if (geteuid() != 0)
		assert_int_equal(ao_gecos_trusted_fields(
		    "tests/fuzz/corpus/login_defs/no.defs"), AO_GECOS_OTHER);
	assert_int_equal(ao_gecos_trusted_fields("/nonexistent/login.defs"),
	    AO_GECOS_OTHER);
}

/* The attack of the trust-boundaries issue: chfn -r ceo@example.com. */
static void
trusted_subfields(void **state)
{
	char d1[] = "example.com";
	char *doms[] = { d1 };
	struct ao_strlist domains = { doms, 1 };
	const unsigned debian = AO_GECOS_FULLNAME | AO_GECOS_OTHER; /* rwh */
	static const struct {
		const char *gecos;
		unsigned trusted;
		const char *want;
	} cases[] = {
		/* the room field is the user's: never read on Debian */
		{ "Mallory,ceo@example.com,,,", AO_GECOS_FULLNAME | AO_GECOS_OTHER, NULL },
		{ "Mallory,ceo@example.com,,,mallory@example.com",
		    AO_GECOS_FULLNAME | AO_GECOS_OTHER, "mallory@example.com" },
		{ "Mallory,,ceo@example.com,ceo@example.com", AO_GECOS_OTHER, NULL },
		{ "Mallory <mallory@example.com>,ceo@example.com", AO_GECOS_FULLNAME,
		    "mallory@example.com" },
		/* only listed domains, case-insensitively */
		{ "A,,,,a@evil.example,a@EXAMPLE.com", AO_GECOS_OTHER, "a@EXAMPLE.com" },
		{ "A,,,,a@sub.example.com", AO_GECOS_OTHER, NULL },
		{ "A,,,,a@example.com.evil", AO_GECOS_OTHER, NULL },
		/* other is everything from the fifth subfield on */
		{ "A,,,,x,y,z@example.com", AO_GECOS_OTHER, "z@example.com" },
		{ "a@example.com", AO_GECOS_FULLNAME, "a@example.com" },
		{ "a@example.com", AO_GECOS_OTHER, NULL },
		{ "", AO_GECOS_OTHER, NULL },
		{ NULL, AO_GECOS_OTHER, NULL },
	};
	size_t i;

	(void)state;
	(void)debian;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[320];
		int r = ao_gecos_email_trusted(cases[i].gecos, cases[i].trusted,
		    &domains, out, sizeof(out));

		if (cases[i].want == NULL) {
			if (r != AO_ERR_NOTFOUND)
				fail_msg("case %zu found \"%s\"", i, out);
		} else {
			if (r != AO_OK)
				fail_msg("case %zu: nothing found", i);
			assert_string_equal(out, cases[i].want);
		}
	}
}

/* A remembered address never changes silently. */
static void
settle_table(void **state)
{
	static const struct {
		const char *now, *source, *mem;
		bool exists;
		enum ao_settle how;
		const char *use;
	} cases[] = {
		{ "", NULL, "", true, AO_ADDR_NONE, "" },
		{ "", NULL, "a@x.org", false, AO_ADDR_KEEP, "a@x.org" },
		{ "a@x.org", AO_SRC_GECOS, "", true, AO_ADDR_NEW, "a@x.org" },
		{ "A@X.org", AO_SRC_GECOS, "a@x.org", true, AO_ADDR_KEEP, "A@X.org" },
		{ "ceo@x.org", AO_SRC_GECOS, "a@x.org", true, AO_ADDR_CONFLICT, "a@x.org" },
		{ "b@x.org", AO_SRC_MAP, "a@x.org", true, AO_ADDR_CHANGED, "b@x.org" },
		{ "b@x.org", AO_SRC_MAP, "a@x.org", false, AO_ADDR_CHANGED, "b@x.org" },
		{ "b@x.org", AO_SRC_DOMAIN, "a@x.org", true, AO_ADDR_CHANGED, "b@x.org" },
		/* deleted: the GECOS address remembered beats email_domain */
		{ "b@x.org", AO_SRC_DOMAIN, "a@x.org", false, AO_ADDR_KEEP, "a@x.org" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *use = NULL;
		enum ao_settle how = ao_identity_settle(cases[i].now,
		    cases[i].source, cases[i].mem, cases[i].exists, &use);

		if (how != cases[i].how)
			fail_msg("case %zu: %d, want %d", i, how, cases[i].how);
		assert_non_null(use);
		assert_string_equal(use, cases[i].use);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gecos_table),
		cmocka_unit_test(precedence),
		cmocka_unit_test(chfn_table),
		cmocka_unit_test(trusted_subfields),
		cmocka_unit_test(settle_table),
	};

	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
