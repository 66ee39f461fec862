#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "json.h"

#define U1 "7488a646-e31f-11e4-aace-600308960662"
#define U2 "11111111-2222-4333-8444-555555555555"
#define S1 "7488a646-e31f-11e4-aace-600308960663"

static int
users(const char *body, struct ao_users *u, struct ao_page *p)
{
	memset(u, 0, sizeof(*u));
	return ao_json_users_page(body, strlen(body), u, p);
}

static void
users_cursor_shape(void **state)
{
	struct ao_users u;
	struct ao_page p;

	(void)state;
	assert_int_equal(users("{\"data\":[{\"id\":\"" U1 "\",\"email\":"
	    "\"john@example.com\",\"status\":\"active\",\"first_name\":null}],"
	    "\"meta\":{\"limit\":100,\"next_cursor\":\"abc==\"}}", &u, &p), AO_OK);
	assert_int_equal(u.n, 1);
	assert_string_equal(u.v[0].id, U1);
	assert_string_equal(u.v[0].email, "john@example.com");
	assert_string_equal(u.v[0].status, "active");
	assert_string_equal(p.next_cursor, "abc==");
	assert_int_equal(p.rows, 1);
	ao_page_free(&p);
	ao_users_free(&u);

	/* last page: explicit null, or absent */
	assert_int_equal(users("{\"data\":[],\"meta\":{\"limit\":100,"
	    "\"next_cursor\":null}}", &u, &p), AO_OK);
	assert_null(p.next_cursor);
	assert_int_equal(users("{\"data\":[],\"meta\":{}}", &u, &p), AO_OK);
	assert_null(p.next_cursor);
	assert_int_equal(users("{\"data\":[]}", &u, &p), AO_OK);
	assert_null(p.next_cursor);
	ao_users_free(&u);
}

static void
users_page_shape(void **state)
{
	struct ao_users u;
	struct ao_page p;

	(void)state;
	assert_int_equal(users("{\"data\":[{\"id\":\"" U1 "\",\"email\":\"a@b.c\","
	    "\"status\":\"active\"}],\"meta\":{\"page\":1,\"page_size\":20,"
	    "\"total_count\":100,\"total_pages\":5}}", &u, &p), AO_OK);
	assert_null(p.next_cursor);
	assert_int_equal(p.page, 1);
	assert_int_equal(p.total_pages, 5);
	ao_users_free(&u);
	/* a bare array is a list too */
	assert_int_equal(users("[{\"id\":\"" U1 "\",\"email\":\"a@b.c\"}]", &u, &p),
	    AO_OK);
	assert_int_equal(u.n, 1);
	assert_null(u.v[0].status);
	ao_users_free(&u);
}

static void
users_malformed_rows_skipped(void **state)
{
	struct ao_users u;
	struct ao_page p;

	(void)state;
	assert_int_equal(users("{\"data\":[{\"id\":\"" U1 "\"},"
	    "{\"id\":5,\"email\":\"x@y.z\"},"
	    "{\"id\":\"a b\",\"email\":\"x@y.z\"},"
	    "{\"id\":\"../../admin\",\"email\":\"x@y.z\"},"
	    "\"str\","
	    "{\"id\":\"" U2 "\",\"email\":\"ok@y.z\"}],\"meta\":{}}", &u, &p),
	    AO_OK);
	assert_int_equal(u.n, 1);
	assert_string_equal(u.v[0].id, U2);
	assert_int_equal(p.skipped, 5);
	ao_users_free(&u);
}

/* Whole responses that are not what we asked for. */
static void
bad_documents(void **state)
{
	static const char *bad[] = {
		"", "not json", "{", "null", "42", "\"data\"",
		"{\"data\":{}}", "{\"data\":\"x\"}", "{\"items\":[]}",
		"{\"data\":[]} trailing", "{\"data\":[]}{\"data\":[]}",
	};
	struct ao_users u;
	struct ao_page p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (users(bad[i], &u, &p) != AO_ERR_DATA)
			fail_msg("accepted: %s", bad[i]);
		ao_users_free(&u);
	}
	/* trailing white space is fine */
	assert_int_equal(users("{\"data\":[]}\r\n ", &u, &p), AO_OK);
}

static void
depth_cap(void **state)
{
	char *deep = malloc(20000);
	struct ao_users u;
	struct ao_page p;
	size_t i;

	(void)state;
	assert_non_null(deep);
	for (i = 0; i < 5000; i++)
		deep[i] = '[';
	for (i = 0; i < 5000; i++)
		deep[5000 + i] = ']';
	deep[10000] = '\0';
	assert_int_equal(users(deep, &u, &p), AO_ERR_DATA);
	free(deep);
}

static void
states_rows(void **state)
{
	struct ao_states s = { 0 };
	struct ao_page p;
	const char *body =
	    "{\"data\":["
	    "{\"id\":\"s1\",\"application_id\":\"app1\",\"grantee_user_id\":\"" U1 "\","
	    " \"effective_end\":null,\"application\":{\"title\":\"Slack\"}},"
	    "{\"id\":\"s2\",\"application_id\":\"app1\",\"grantee_user_id\":\"" U1 "\","
	    " \"effective_end\":\"2024-01-01T00:00:00Z\"},"
	    "{\"id\":\"s3\",\"application_id\":\"app2\",\"grantee_user_id\":null,"
	    " \"effective_end\":null},"
	    "{\"id\":\"s4\",\"application_id\":\"app2\"}"
	    "],\"meta\":{\"limit\":100,\"next_cursor\":null}}";

	(void)state;
	assert_int_equal(ao_json_states_page(body, strlen(body), &s, &p), AO_OK);
	assert_int_equal(s.n, 4);
	assert_true(s.v[0].active);
	assert_string_equal(s.v[0].application_title, "Slack");
	assert_false(s.v[1].active);
	assert_true(s.v[2].active);
	assert_null(s.v[2].grantee_user_id);
	assert_false(s.v[3].active);
	assert_true(s.v[3].end_missing);
	assert_null(p.next_cursor);
	ao_states_free(&s);
}

/* A state we cannot name must fail the page, not vanish. */
static void
states_bad_id_fails(void **state)
{
	static const char *bad[] = {
		"{\"data\":[{\"id\":null,\"effective_end\":null}]}",
		"{\"data\":[{\"effective_end\":null}]}",
		"{\"data\":[{\"id\":\"x\\ny\",\"effective_end\":null}]}",
		"{\"data\":[{\"id\":\"s1\",\"grantee_user_id\":\"a/b\"}]}",
		"{\"data\":[7]}",
	};
	struct ao_states s = { 0 };
	struct ao_page p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ao_json_states_page(bad[i], strlen(bad[i]), &s, &p) !=
		    AO_ERR_DATA)
			fail_msg("accepted: %s", bad[i]);
		ao_states_free(&s);
	}
}

static void
revocation_shapes(void **state)
{
	static const char *ok[] = {
		"{\"id\":\"" U1 "\",\"status\":\"processing_access\","
		    "\"application_id\":\"app1\",\"reason\":\"r\"}",
		"{\"data\":{\"id\":\"" U1 "\",\"status\":\"processing_access\","
		    "\"application_id\":\"app1\",\"permission_ids\":null}}",
	};
	struct ao_revocation r;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(ao_json_revocation(ok[i], strlen(ok[i]), &r),
		    AO_OK);
		assert_string_equal(r.id, U1);
		assert_string_equal(r.status, "processing_access");
		assert_string_equal(r.application_id, "app1");
		ao_revocation_free(&r);
	}
	assert_int_equal(ao_json_revocation("{\"data\":{}}", 11, &r),
	    AO_ERR_DATA);
	assert_int_equal(ao_json_revocation("[]", 2, &r), AO_ERR_DATA);
	assert_int_equal(ao_json_revocation("{\"id\":1}", 8, &r), AO_ERR_DATA);
}

static void
revocation_body(void **state)
{
	char *b = ao_json_revocation_body(S1, "quote \" slash / nl \n \xc3\xa9");

	(void)state;
	assert_non_null(b);
	assert_string_equal(b, "{\"access_state_id\":\"" S1 "\",\"reason\":"
	    "\"quote \\\" slash / nl \\n \xc3\xa9\"}");
	free(b);
}

static void
ids(void **state)
{
	(void)state;
	assert_true(ao_id_valid(U1));
	assert_true(ao_id_valid("abc_DEF-123"));
	assert_false(ao_id_valid(""));
	assert_false(ao_id_valid(NULL));
	assert_false(ao_id_valid("a b"));
	assert_false(ao_id_valid("a/b"));
	assert_false(ao_id_valid("a%2f"));
	assert_false(ao_id_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(users_cursor_shape),
		cmocka_unit_test(users_page_shape),
		cmocka_unit_test(users_malformed_rows_skipped),
		cmocka_unit_test(bad_documents),
		cmocka_unit_test(depth_cap),
		cmocka_unit_test(states_rows),
		cmocka_unit_test(states_bad_id_fails),
		cmocka_unit_test(revocation_shapes),
		cmocka_unit_test(revocation_body),
		cmocka_unit_test(ids),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
