/*
 * The API client (api.c) against scripted answers (stub_http.c): the
 * retry policy, decisions on status codes, paging and its bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api.h"
#include "retry_after.h"
#include "config.h"
#include "err.h"
#include "stub_http.h"

#define U1 "7488a646-e31f-11e4-aace-600308960662"
#define USERS_U1 "{\"data\":[{\"id\":\"" U1 "\",\"email\":\"A@x.org\"}]," \
	"\"meta\":{\"next_cursor\":null}}"

static struct ao_config cfg;
static struct ao_api api;

static int
setup(void **state)
{
	(void)state;
	stub_http_reset();
	assert_int_equal(ao_config_defaults(&cfg), AO_OK);
	ao_api_init(&api, NULL, &cfg);
	api.backoff_cap_ms = 4;    /* the retries' sleeps, kept short */
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ao_api_free(&api);
	ao_config_free(&cfg);
	return 0;
}

#define R(st, body) { st, body, NULL, 0 }
#define LOST { 0, NULL, NULL, AO_ERR_TEMP }

/* What each status decides, and how many requests it takes. */
static void
retry_policy(void **state)
{
	static const struct {
		struct stub_reply replies[6];
		size_t n;
		int want;
		size_t requests;
	} cases[] = {
		{ { R(200, USERS_U1) }, 1, AO_OK, 1 },
		/* 5xx and lost answers are retried, up to five tries */
		{ { R(503, "x"), LOST, R(200, USERS_U1) }, 3, AO_OK, 3 },
		{ { R(500, NULL), R(502, NULL), LOST, R(504, NULL), R(500, NULL) },
		    5, AO_ERR_TEMP, 5 },
		/* the token refused: never retried */
		{ { R(401, "{}") }, 1, AO_ERR_AUTH, 1 },
		{ { R(403, "{}") }, 1, AO_ERR_AUTH, 1 },
		/* other 4xx: refused, never retried */
		{ { R(400, "{}") }, 1, AO_ERR_REJECTED, 1 },
		{ { R(404, "{}") }, 1, AO_ERR_REJECTED, 1 },
		/* 429 with a wait we will not sleep: later, as asked */
		{ { { 429, "{}", "999", 0 } }, 1, AO_ERR_RATELIMIT, 1 },
		/* 2xx with a body that is not the JSON asked for */
		{ { R(200, "<html>") }, 1, AO_ERR_DATA, 1 },
		/* a TLS failure: retrying cannot help */
		{ { { 0, NULL, NULL, AO_ERR_TLS } }, 1, AO_ERR_TLS, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *id = NULL;
		int r;

		stub_http_reset();
		api.requests = 0;
		stub_http_script(cases[i].replies, cases[i].n);
		r = ao_api_find_person(&api, "a@x.org", &id);
		if (r != cases[i].want || stub_http_count() != cases[i].requests)
			fail_msg("case %zu: %d after %zu requests, want %d after "
			    "%zu", i, r, stub_http_count(), cases[i].want,
			    cases[i].requests);
		assert_int_equal(api.requests, cases[i].requests);
		if (r == AO_OK)
			assert_string_equal(id, U1);
		else
			assert_null(id);
		free(id);
	}
	/* the wait AccessOwl asked for is kept for the queue's backoff */
	assert_int_equal(api.retry_after, 999);
}

/* The waits the client asked for (api->sleep_ms), instead of sleeping. */
static long slept[16];
static size_t nslept;

static void
record_sleep(long ms)
{
	if (nslept < sizeof(slept) / sizeof(slept[0]))
		slept[nslept] = ms;
	nslept++;
}

#define RA(v) { 429, "{}", v, 0 }
#define RFC_DATE "Sun, 06 Nov 1994 08:49:37 GMT"

/*
 * What a 429 asks for (api.h): seconds or a date on the server's clock,
 * a floor of a second, a default for absent or garbage, and the longest
 * wait accepted; a wait above max_wait (120 s) ends the call, and
 * api.retry_after says for how long the host holds.
 */
static void
rate_limit_waits(void **state)
{
	static const struct {
		struct stub_reply replies[7];
		size_t n;
		const char *date;      /* the server's Date header */
		int want;
		size_t requests, waits;
		long min_s, retry_after; /* each wait at least min_s seconds
		                          * (and less than a quarter more plus
		                          * a second); retry_after: when the
		                          * call ends in AO_ERR_RATELIMIT */
	} cases[] = {
		{ { RA("2"), R(200, USERS_U1) }, 2, NULL, AO_OK, 2, 1, 2, 0 },
		/* 0: never a tight loop, and at most five waits */
		{ { RA("0"), RA("0"), RA("0"), RA("0"), RA("0"), RA("0") }, 6,
		    NULL, AO_ERR_RATELIMIT, 6, 5, 1, 1 },
		/* absent, garbage: the default */
		{ { RA(NULL), R(200, USERS_U1) }, 2, NULL, AO_OK, 2, 1, 30, 0 },
		{ { RA("soon"), RA("\x1b[2J-1"), R(200, USERS_U1) }, 3, NULL,
		    AO_OK, 3, 2, 30, 0 },
		/* a date, on the server's clock (ours is decades later) */
		{ { RA("Sun, 06 Nov 1994 08:49:40 GMT"), R(200, USERS_U1) }, 2,
		    RFC_DATE, AO_OK, 2, 1, 3, 0 },
		{ { RA("Sunday, 06-Nov-94 08:49:41 GMT"), R(200, USERS_U1) }, 2,
		    RFC_DATE, AO_OK, 2, 1, 4, 0 },
		{ { RA("Sun Nov  6 08:49:42 1994"), R(200, USERS_U1) }, 2,
		    RFC_DATE, AO_OK, 2, 1, 5, 0 },
		/* without a Date: on our clock, so long past: the floor */
		{ { RA("Sun, 06 Nov 1994 08:49:40 GMT"), R(200, USERS_U1) }, 2,
		    NULL, AO_OK, 2, 1, 1, 0 },
		/* longer than max_wait: the call ends, the host holds */
		{ { RA("120"), R(200, USERS_U1) }, 2, NULL, AO_OK, 2, 1, 120, 0 },
		{ { RA("121") }, 1, NULL, AO_ERR_RATELIMIT, 1, 0, 0, 121 },
		{ { RA("Sun, 06 Nov 1994 11:49:37 GMT") }, 1, RFC_DATE,
		    AO_ERR_RATELIMIT, 1, 0, 0, 10800 },
		{ { RA("604801") }, 1, NULL, AO_ERR_RATELIMIT, 1, 0, 0,
		    AO_RETRY_AFTER_MAX },
		{ { RA("99999999999999999999") }, 1, NULL, AO_ERR_RATELIMIT, 1,
		    0, 0, AO_RETRY_AFTER_MAX },
		{ { RA("Fri, 31 Dec 9999 23:59:59 GMT") }, 1, RFC_DATE,
		    AO_ERR_RATELIMIT, 1, 0, 0, AO_RETRY_AFTER_MAX },
	};
	size_t i, j;

	(void)state;
	api.sleep_ms = record_sleep;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *id = NULL;
		int r;

		stub_http_reset();
		stub_http_date(cases[i].date);
		stub_http_script(cases[i].replies, cases[i].n);
		nslept = 0;
		api.retry_after = 0;
		r = ao_api_find_person(&api, "a@x.org", &id);
		free(id);
		if (r != cases[i].want || stub_http_count() !=
		    cases[i].requests || nslept != cases[i].waits)
			fail_msg("case %zu: %d after %zu requests and %zu waits, "
			    "want %d after %zu and %zu", i, r, stub_http_count(),
			    nslept, cases[i].want, cases[i].requests,
			    cases[i].waits);
		for (j = 0; j < nslept; j++)
			if (slept[j] < cases[i].min_s * 1000 || slept[j] >=
			    cases[i].min_s * 1250 + 1000)
				fail_msg("case %zu: wait %zu of %ld ms, want %ld s "
				    "and up to a quarter more", i, j, slept[j],
				    cases[i].min_s);
		if (r == AO_ERR_RATELIMIT)
			assert_int_equal(api.retry_after, cases[i].retry_after);
	}
}

/* The person is checked by us, case-insensitively; a server that
 * ignores the e-mail filter makes us page the directory. */
static void
find_person(void **state)
{
	static const struct stub_reply ignored[] = {
		R(200, "{\"data\":[{\"id\":\"u9\",\"email\":\"z@x.org\"}],"
		    "\"meta\":{\"next_cursor\":null}}"),
		R(200, "{\"data\":[{\"id\":\"u9\",\"email\":\"z@x.org\"}],"
		    "\"meta\":{\"next_cursor\":\"c2\"}}"),
		R(200, "{\"data\":[{\"id\":\"u1\",\"email\":\"a@X.ORG\"}],"
		    "\"meta\":{\"next_cursor\":null}}"),
	};
	static const struct stub_reply two[] = {
		R(200, "{\"data\":[{\"id\":\"u1\",\"email\":\"a@x.org\"},"
		    "{\"id\":\"u2\",\"email\":\"A@x.org\"}],\"meta\":{}}"),
	};
	static const struct stub_reply none[] = {
		R(200, "{\"data\":[],\"meta\":{\"next_cursor\":null}}"),
	};
	char *id = NULL;

	(void)state;
	stub_http_script(ignored, 3);
	assert_int_equal(ao_api_find_person(&api, "a@x.org", &id), AO_OK);
	assert_string_equal(id, "u1");
	free(id);
	assert_non_null(strstr(stub_http_request(0)->path,
	    "email=a%40x.org"));
	assert_non_null(strstr(stub_http_request(0)->path, "status=all"));
	assert_non_null(strstr(stub_http_request(2)->path, "cursor=c2"));
	/* the directory is cached for the rest of the run */
	stub_http_reset();
	stub_http_script(ignored, 1);
	assert_int_equal(ao_api_find_person(&api, "z@x.org", &id), AO_OK);
	assert_string_equal(id, "u9");
	free(id);
	assert_int_equal(stub_http_count(), 1);

	stub_http_reset();
	stub_http_script(two, 1);
	assert_int_equal(ao_api_find_person(&api, "a@x.org", &id),
	    AO_ERR_AMBIGUOUS);
	stub_http_reset();
	stub_http_script(none, 1);
	assert_int_equal(ao_api_find_person(&api, "a@x.org", &id),
	    AO_ERR_NOTFOUND);
}

/* Active states only: effective_end null, the person's, in scope. */
static void
active_states(void **state)
{
	static const struct stub_reply pages[] = {
		R(200, "{\"data\":[{\"id\":\"s1\",\"application_id\":\"a1\","
		    "\"grantee_user_id\":\"u1\",\"effective_end\":null},"
		    "{\"id\":\"s2\",\"application_id\":\"a1\",\"grantee_user_id\":"
		    "\"u1\",\"effective_end\":\"2024-01-01T00:00:00Z\"},"
		    "{\"id\":\"s3\",\"application_id\":\"a2\",\"grantee_user_id\":"
		    "\"u2\",\"effective_end\":null}],"
		    "\"meta\":{\"next_cursor\":\"+/x\"}}"),
		R(200, "{\"data\":[{\"id\":\"s4\",\"application_id\":\"a2\","
		    "\"grantee_user_id\":\"u1\",\"effective_end\":null},"
		    "{\"id\":\"s5\",\"application_id\":\"a2\","
		    "\"grantee_user_id\":\"u1\"}],\"meta\":{\"next_cursor\":null}}"),
	};
	struct ao_states st;

	(void)state;
	stub_http_script(pages, 2);
	assert_int_equal(ao_api_active_states(&api, "u1", &st), AO_OK);
	assert_int_equal(st.n, 2);
	assert_string_equal(st.v[0].id, "s1");
	assert_string_equal(st.v[1].id, "s4");
	/* the cursor is percent-encoded */
	assert_non_null(strstr(stub_http_request(1)->path, "cursor=%2B%2Fx"));
	ao_states_free(&st);
}

/* What a hostile server sends is bounded (see api.c). */
static struct stub_reply
endless(const struct stub_request *req, size_t n, char *buf, size_t bufsz)
{
	size_t o, i;

	(void)req;
	o = (size_t)snprintf(buf, bufsz, "{\"data\":[");
	for (i = 0; i < 100; i++)
		o += (size_t)snprintf(buf + o, bufsz - o, "%s{\"id\":\"s%zu-%zu\","
		    "\"effective_end\":\"2024-01-01T00:00:00Z\"}", i ? "," : "",
		    n, i);
	snprintf(buf + o, bufsz - o, "],\"meta\":{\"next_cursor\":\"c%zu\"}}",
	    n);
	return (struct stub_reply){ 200, buf, NULL, 0 };
}

static struct stub_reply
same_cursor(const struct stub_request *req, size_t n, char *buf,
    size_t bufsz)
{
	(void)req;
	(void)n;
	snprintf(buf, bufsz, "{\"data\":[],\"meta\":{\"next_cursor\":\"c\"}}");
	return (struct stub_reply){ 200, buf, NULL, 0 };
}

static void
listing_bounds(void **state)
{
	struct ao_states st;

	(void)state;
	stub_http_handler(endless);
	assert_int_equal(ao_api_active_states(&api, "u1", &st), AO_ERR_DATA);
	/* 10,000 rows at most: refused at the 101st page */
	assert_int_equal(stub_http_count(), 101);
	stub_http_reset();
	stub_http_handler(same_cursor);
	assert_int_equal(ao_api_active_states(&api, "u1", &st), AO_ERR_DATA);
	assert_int_equal(stub_http_count(), 2);
}

/* Filing: 201 new, 409 filed before, the key and body as given. */
static void
file_revocation(void **state)
{
	static const struct stub_reply replies[] = {
		R(201, "{\"data\":{\"id\":\"r1\",\"status\":\"processing_access\"}}"),
		R(409, "{\"errors\":{}}"),
		R(422, "{\"errors\":{}}"),
		R(201, "not json"),
	};
	struct ao_revocation rev;
	enum ao_file_result res;

	(void)state;
	stub_http_script(replies, 4);
	assert_int_equal(ao_api_file_revocation(&api, "s1", "why", "ao2-s1",
	    &res, &rev), AO_OK);
	assert_int_equal(res, AO_FILED_NEW);
	assert_string_equal(rev.id, "r1");
	ao_revocation_free(&rev);
	assert_string_equal(stub_http_request(0)->method, "POST");
	assert_string_equal(stub_http_request(0)->key, "ao2-s1");
	assert_string_equal(stub_http_request(0)->body,
	    "{\"access_state_id\":\"s1\",\"reason\":\"why\"}");
	assert_int_equal(ao_api_file_revocation(&api, "s1", "why", "ao2-s1",
	    &res, &rev), AO_OK);
	assert_int_equal(res, AO_FILED_EARLIER);
	assert_int_equal(ao_api_file_revocation(&api, "s1", "why", "ao2-s1",
	    &res, &rev), AO_ERR_REJECTED);
	assert_int_equal(api.last_status, 422);
	/* accepted, answer unreadable: still filed (the key is spent) */
	assert_int_equal(ao_api_file_revocation(&api, "s1", "why", "ao2-s1",
	    &res, &rev), AO_OK);
	assert_int_equal(res, AO_FILED_NEW);
	assert_null(rev.id);
}

/* The pending check: absent on older deployments, said plainly. */
static void
pending(void **state)
{
	static const struct stub_reply missing[] = { R(404, "{}") };
	static const struct stub_reply one[] = {
		R(200, "{\"data\":[{\"id\":\"r1\",\"status\":\"processing_access\","
		    "\"application_id\":\"a1\",\"grantee_user_id\":\"u1\","
		    "\"permission_ids\":[\"p1\"]}],\"meta\":{\"next_cursor\":null}}"),
	};
	struct ao_revocations revs;

	(void)state;
	stub_http_script(missing, 1);
	assert_int_equal(ao_api_pending_revocations(&api, "u1", &revs),
	    AO_ERR_NOTFOUND);
	assert_int_equal(revs.n, 0);
	stub_http_reset();
	stub_http_script(one, 1);
	assert_int_equal(ao_api_pending_revocations(&api, "u1", &revs), AO_OK);
	assert_int_equal(revs.n, 1);
	assert_non_null(strstr(stub_http_request(0)->path,
	    "status=processing_access"));
	assert_non_null(strstr(stub_http_request(0)->path, "user_id=u1"));
	ao_revocations_free(&revs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(retry_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(rate_limit_waits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(find_person, setup, teardown),
		cmocka_unit_test_setup_teardown(active_states, setup, teardown),
		cmocka_unit_test_setup_teardown(listing_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(file_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(pending, setup, teardown),
	};

	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
