#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "text.h"

static void
sanitize_table(void **state)
{
	static const struct { const char *in, *out; size_t size; } cases[] = {
		{ "plain", "plain", 64 },
		{ "a\nb\rc\td", "a?b?c?d", 64 },
		{ "esc\x1b[31mred", "esc?[31mred", 64 },
		{ "del\x7f", "del?", 64 },
		{ "caf\xc3\xa9", "caf\xc3\xa9", 64 },          /* é kept */
		{ "c1\xc2\x85x", "c1?x", 64 },                   /* NEL (C1) */
		{ "bad\xff\xfe", "bad??", 64 },                  /* invalid bytes */
		{ "trunc\xe2\x82", "trunc??", 64 },              /* cut sequence */
		{ "abcdef", "abc", 4 },                          /* fits size */
		{ "ab\xc3\xa9", "ab", 4 },                       /* no half char */
		{ "", "", 8 },
		/* strict UTF-8: an overlong CSI (0x9b) in 2 and 3 bytes, a
		 * surrogate, past U+10FFFF: each byte a '?' */
		{ "o\xc0\x9bx", "o??x", 64 },
		{ "o\xe0\x82\x9bx", "o???x", 64 },
		{ "s\xed\xa0\x80x", "s???x", 64 },
		{ "h\xf4\x90\x80\x80x", "h????x", 64 },
		{ "f\xf8\x88\x80\x80\x80x", "f?????x", 64 },
		/* text that reorders what follows: bidi override, isolate, mark */
		{ "evil\xe2\x80\xaetxt.exe", "evil?txt.exe", 64 },
		{ "a\xe2\x81\xa6" "b\xe2\x80\x8f" "c\xd8\x9c", "a?b?c?", 64 },
		/* what is fine stays */
		{ "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xe2\x80\x94",
		  "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xe2\x80\x94", 64 },
		{ "\xc2\xa0\xed\x9f\xbf", "\xc2\xa0\xed\x9f\xbf", 64 },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ao_sanitize(buf, cases[i].size, cases[i].in);
		assert_string_equal(buf, cases[i].out);
	}
	ao_sanitize(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "");

	/* for the terminal: the layout's tab and newline pass, nothing else
	 * (an OSC 52 clipboard write, a screen clear, an 8-bit CSI) */
	ao_sanitize_keep(buf, sizeof(buf), "a\tb\n\x1b]52;c;eA==\x07\x1b[2J"
	    "\xc2\x9b" "2J\r", "\t\n");
	assert_string_equal(buf, "a\tb\n?]52;c;eA==??[2J?2J?");
}

static void
utf8_cut_table(void **state)
{
	static const struct { const char *s; size_t max, want; } cases[] = {
		{ "hello", 10, 5 },
		{ "hello", 3, 3 },
		{ "h\xc3\xa9llo", 2, 1 },       /* é would straddle the limit */
		{ "h\xc3\xa9llo", 3, 3 },
		{ "\xe2\x82\xac\xe2\x82\xac", 5, 3 },  /* two euro signs */
		{ "\xf0\x9f\xa6\x89x", 3, 0 },  /* owl emoji, 4 bytes */
		{ "\xf0\x9f\xa6\x89x", 4, 4 },
		{ "", 5, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(ao_utf8_cut(cases[i].s, strlen(cases[i].s),
		    cases[i].max), cases[i].want);
}

static void
streq_ci(void **state)
{
	(void)state;
	assert_true(ao_streq_ci("Alice@Example.COM", "alice@example.com"));
	assert_false(ao_streq_ci("alice@example.com", "alice@example.co"));
	assert_false(ao_streq_ci("a", NULL));
	assert_false(ao_streq_ci(NULL, NULL));
}

static void
random_hex(void **state)
{
	char a[33], b[33];
	size_t i;

	(void)state;
	assert_int_equal(ao_random_hex(a, 16), AO_OK);
	assert_int_equal(ao_random_hex(b, 16), AO_OK);
	assert_int_equal(strlen(a), 32);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_not_equal(a, b);
}

static void
exit_codes(void **state)
{
	(void)state;
	assert_int_equal(ao_exit_code(AO_OK), 0);
	assert_int_equal(ao_exit_code(AO_ERR_USAGE), 64);
	assert_int_equal(ao_exit_code(AO_ERR_NOTFOUND), 65);
	assert_int_equal(ao_exit_code(AO_ERR_TLS), 69);
	assert_int_equal(ao_exit_code(AO_ERR_TEMP), 75);
	assert_int_equal(ao_exit_code(AO_ERR_AUTH), 77);
	assert_int_equal(ao_exit_code(AO_ERR_PERM), 77);
	assert_int_equal(ao_exit_code(AO_ERR_CONFIG), 78);
	assert_string_equal(ao_strerror(AO_ERR_TEMP), "temporary failure");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sanitize_table),
		cmocka_unit_test(utf8_cut_table),
		cmocka_unit_test(streq_ci),
		cmocka_unit_test(random_hex),
		cmocka_unit_test(exit_codes),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
