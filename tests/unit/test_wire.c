/* The fleet relay's message (wire.h): what a host sends is what the
 * collector reads, and whatever else a host may send is refused with a
 * reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "err.h"
#include "record.h"
#include "wire.h"

static void
sample(struct ao_event_rec *ev)
{
	assert_int_equal(ao_event_init(ev), AO_OK);
	memcpy(ev->id, "0123456789abcdef0123456789abcdef", 33);
	assert_int_equal(ao_set(&ev->user, "alice"), AO_OK);
	assert_int_equal(ao_set(&ev->event, "locked"), AO_OK);
	assert_int_equal(ao_set(&ev->email, "alice@example.com"), AO_OK);
	assert_int_equal(ao_set(&ev->email_source, "identity.map"), AO_OK);
	assert_int_equal(ao_set(&ev->host, "web01.example.com"), AO_OK);
	assert_int_equal(ao_set(&ev->service, "sshd"), AO_OK);
	assert_int_equal(ao_set(&ev->rhost, "192.0.2.7"), AO_OK);
	assert_int_equal(ao_set(&ev->episode, "locked:abc"), AO_OK);
	ev->uid = 1001;
	ev->created = (long long)time(NULL) - 60;
	ev->attempts = 3;
}

static void
round_trip(void **state)
{
	struct ao_event_rec ev, back;
	char *msg = NULL, why[256];
	size_t len;

	(void)state;
	sample(&ev);
	assert_int_equal(ao_wire_encode(&ev, 1795000000, &msg, &len), AO_OK);
	assert_int_equal(strlen(msg), len);
	assert_null(strchr(msg, '\n'));
	/* RFC 5424: PRI, version, time, host, app, procid, msgid, SD, MSG */
	assert_true(strncmp(msg, "<85>1 2026-11-18T11:06:40Z ", 27) == 0);
	assert_non_null(strstr(msg, "Z web01.example.com accessowl - event - {"));
	assert_int_equal(ao_event_init(&back), AO_OK);
	assert_int_equal(ao_wire_decode(msg, len, &back, why, sizeof(why)),
	    AO_OK);
	assert_string_equal(back.id, ev.id);
	assert_string_equal(back.user, "alice");
	assert_string_equal(back.event, "locked");
	assert_string_equal(back.email, "alice@example.com");
	assert_string_equal(back.email_source, "identity.map");
	assert_string_equal(back.host, "web01.example.com");
	assert_string_equal(back.service, "sshd");
	assert_string_equal(back.rhost, "192.0.2.7");
	assert_int_equal(back.uid, 1001);
	assert_int_equal(back.created, ev.created);
	/* the host's delivery state does not travel */
	assert_string_equal(back.episode, "");
	assert_int_equal(back.attempts, 0);
	ao_event_free(&back);
	free(msg);
	ao_event_free(&ev);
}

/* What the host would be refused for is not sent at all. */
static void
encode_refuses(void **state)
{
	struct ao_event_rec ev;
	char *msg = NULL;
	size_t len;

	(void)state;
	sample(&ev);
	assert_int_equal(ao_set(&ev.host, "bad host"), AO_OK);
	assert_int_equal(ao_wire_encode(&ev, 1795000000, &msg, &len),
	    AO_ERR_DATA);
	assert_null(msg);
	assert_int_equal(ao_set(&ev.host, "h"), AO_OK);
	assert_int_equal(ao_set(&ev.email, ""), AO_OK);
	assert_int_equal(ao_wire_encode(&ev, 1795000000, &msg, &len),
	    AO_ERR_DATA);
	/* control bytes in what PAM said are made printable, not sent */
	assert_int_equal(ao_set(&ev.email, "a@example.com"), AO_OK);
	assert_int_equal(ao_set(&ev.rhost, "x\n<85>1 forged"), AO_OK);
	assert_int_equal(ao_wire_encode(&ev, 1795000000, &msg, &len), AO_OK);
	assert_null(strchr(msg, '\n'));
	free(msg);
	ao_event_free(&ev);
}

static const char *const GOOD = "{\"accessowl\":1,"
    "\"id\":\"0123456789abcdef0123456789abcdef\",\"host\":\"h1\","
    "\"user\":\"bob\",\"uid\":-1,\"event\":\"deleted\","
    "\"email\":\"bob@example.com\",\"email_source\":\"\","
    "\"created\":1700000000,\"service\":\"\",\"rhost\":\"\"}";

static int
decode(const char *line, char *why, size_t whysz)
{
	struct ao_event_rec ev;
	int r;

	assert_int_equal(ao_event_init(&ev), AO_OK);
	r = ao_wire_decode(line, strlen(line), &ev, why, whysz);
	ao_event_free(&ev);
	return r;
}

/* Whatever precedes the first '{' is not read: %msg% and %rawmsg%. */
static void
prefix_ignored(void **state)
{
	char line[2048], why[256];

	(void)state;
	assert_int_equal(decode(GOOD, why, sizeof(why)), AO_OK);
	snprintf(line, sizeof(line), "10.0.0.1 %s", GOOD);
	assert_int_equal(decode(line, why, sizeof(why)), AO_OK);
	snprintf(line, sizeof(line), "<85>1 - h1 accessowl - event - %s", GOOD);
	assert_int_equal(decode(line, why, sizeof(why)), AO_OK);
	/* a later version adds keys: ignored */
	snprintf(line, sizeof(line), "{\"extra\":[1,2],%s", GOOD + 1);
	assert_int_equal(decode(line, why, sizeof(why)), AO_OK);
}

/* Replace the first occurrence of from in GOOD by to. */
static void
mutate(char *out, size_t n, const char *from, const char *to)
{
	const char *at = strstr(GOOD, from);

	assert_non_null(at);
	snprintf(out, n, "%.*s%s%s", (int)(at - GOOD), GOOD, to,
	    at + strlen(from));
}

static void
refusals(void **state)
{
	static const struct { const char *from, *to, *want; } cases[] = {
		{ "\"accessowl\":1", "\"accessowl\":2", "format version 2" },
		{ "\"accessowl\":1,", "", "not an accessowl event" },
		{ "\"id\":\"0123456789abcdef0123456789abcdef\"",
		  "\"id\":\"0123456789ABCDEF0123456789abcdef\"",
		  "\"id\" is not 32 hex digits" },
		{ "\"id\":\"0123456789abcdef0123456789abcdef\"", "\"id\":7",
		  "\"id\" is missing, not a string" },
		{ "\"host\":\"h1\"", "\"host\":\"-h\"", "\"host\" is not a host" },
		{ "\"host\":\"h1\"", "\"host\":\"h/1\"", "\"host\" is not a host" },
		{ "\"user\":\"bob\"", "\"user\":\"../bob\"", "not an account name" },
		{ "\"uid\":-1", "\"uid\":-2", "\"uid\" is missing or out of range" },
		{ "\"uid\":-1", "\"uid\":\"0\"", "\"uid\" is missing" },
		{ "\"event\":\"deleted\"", "\"event\":\"hacked\"",
		  "\"event\" is not one of" },
		{ "\"email\":\"bob@example.com\"", "\"email\":\"bob\"",
		  "not an e-mail address" },
		{ "\"email\":\"bob@example.com\"",
		  "\"email\":\"bob@example.com\\u0000x\"", "holds a NUL" },
		{ "\"service\":\"\"", "\"service\":\"a\\nb\"", "printable text" },
		{ "\"created\":1700000000", "\"created\":99",
		  "\"created\" (99) is not a time" },
		{ "\"created\":1700000000", "\"created\":99999999999",
		  "check the host's clock" },
		{ "\"created\":1700000000", "\"created\":1.5e9",
		  "\"created\" is missing or not a number" },
		{ "}", "} trailing", "not one JSON object" },
	};
	char line[4096], why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mutate(line, sizeof(line), cases[i].from, cases[i].to);
		if (decode(line, why, sizeof(why)) != AO_ERR_DATA)
			fail_msg("case %zu accepted: %s", i, line);
		if (strstr(why, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, why,
			    cases[i].want);
	}
	assert_int_equal(decode("no brace", why, sizeof(why)), AO_ERR_DATA);
	assert_non_null(strstr(why, "no JSON object"));
	assert_int_equal(decode("[1]{", why, sizeof(why)), AO_ERR_DATA);
	assert_int_equal(decode("x {\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]"
	    "]]]]]]]]]]]]]]]]}", why, sizeof(why)), AO_ERR_DATA);
}

static void
limits(void **state)
{
	struct ao_event_rec ev;
	char *big, why[256];

	(void)state;
	assert_non_null(big = malloc(AO_WIRE_MAX + 2));
	memset(big, ' ', AO_WIRE_MAX + 1);
	memcpy(big, GOOD, strlen(GOOD));
	big[AO_WIRE_MAX + 1] = '\0';
	assert_int_equal(ao_event_init(&ev), AO_OK);
	assert_int_equal(ao_wire_decode(big, AO_WIRE_MAX + 1, &ev, why,
	    sizeof(why)), AO_ERR_DATA);
	assert_non_null(strstr(why, "longer than"));
	/* exactly the limit is fine */
	assert_int_equal(ao_wire_decode(big, AO_WIRE_MAX, &ev, why,
	    sizeof(why)), AO_OK);
	ao_event_free(&ev);
	assert_int_equal(ao_event_init(&ev), AO_OK);
	/* a NUL inside the line */
	big[10] = '\0';
	assert_int_equal(ao_wire_decode(big, 100, &ev, why, sizeof(why)),
	    AO_ERR_DATA);
	assert_non_null(strstr(why, "NUL"));
	ao_event_free(&ev);
	free(big);
	assert_true(ao_wire_host_ok("a"));
	assert_true(ao_wire_host_ok("web-01.prod_2.example.com"));
	assert_false(ao_wire_host_ok(""));
	assert_false(ao_wire_host_ok(".x"));
	assert_false(ao_wire_host_ok("a b"));
	memset(why, 'a', sizeof(why));
	why[AO_HOST_MAX] = '\0';
	assert_true(ao_wire_host_ok(why));
	why[AO_HOST_MAX] = 'a';
	why[AO_HOST_MAX + 1] = '\0';
	assert_false(ao_wire_host_ok(why));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(encode_refuses),
		cmocka_unit_test(prefix_ignored),
		cmocka_unit_test(refusals),
		cmocka_unit_test(limits),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
