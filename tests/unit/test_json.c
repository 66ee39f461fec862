#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "api.h"
#include "api_json.h"

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
	    /* the C string would end at the NUL and match x@y.z */
	    "{\"id\":\"" U1 "\",\"email\":\"x@y.z\\u0000.evil.org\"},"
	    "{\"id\":\"" U2 "\",\"email\":\"ok@y.z\"}],\"meta\":{}}", &u, &p),
	    AO_OK);
	assert_int_equal(u.n, 1);
	assert_string_equal(u.v[0].id, U2);
	assert_int_equal(p.skipped, 6);
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

/* Pending revocations: what is matched on, and what a bad row does. */
static void
revocations_page(void **state)
{
	static const char page[] = "{\"data\":["
	    "{\"id\":\"r1\",\"status\":\"processing_access\","
	    "\"application_id\":\"app1\",\"resource_id\":null,"
	    "\"grantee_user_id\":\"u1\",\"permission_ids\":[\"p1\",\"p2\"]},"
	    "{\"id\":\"r2\",\"status\":\"processing_access\","
	    "\"application_id\":\"app1\",\"permission_ids\":\"p1\"},"
	    "{\"id\":\"bad id\"},"
	    "{\"id\":\"r3\",\"resource_id\":\"res1\",\"permission_ids\":null}"
	    "],\"meta\":{\"next_cursor\":null}}";
	struct ao_revocations revs = { 0 };
	struct ao_page pg;

	(void)state;
	assert_int_equal(ao_json_revocations_page(page, strlen(page), &revs,
	    &pg), AO_OK);
	assert_int_equal(pg.rows, 4);
	assert_int_equal(pg.skipped, 2);        /* a string of ids, a bad id */
	assert_int_equal(revs.n, 2);
	assert_string_equal(revs.v[0].id, "r1");
	assert_null(revs.v[0].resource_id);
	assert_string_equal(revs.v[0].grantee_user_id, "u1");
	assert_int_equal(revs.v[0].perms.n, 2);
	assert_string_equal(revs.v[0].perms.v[1], "p2");
	assert_string_equal(revs.v[1].resource_id, "res1");
	assert_int_equal(revs.v[1].perms.n, 0);
	ao_revocations_free(&revs);
	ao_page_free(&pg);
}

/* A pending revocation covers a state only when nothing is in doubt. */
static void
coverage_table(void **state)
{
	char app[] = "app1", app2[] = "app2", res[] = "res1", u1[] = "u1";
	char u2[] = "u2", p1[] = "p1", p2[] = "p2", proc[] = "processing_access";
	char rej[] = "rejected", s1[] = "s1", s2[] = "s2";
	char *p12[] = { p1, p2 }, *p21[] = { p2, p1 }, *p1only[] = { p1 };
	struct ao_state st[2];
	struct ao_states states = { st, 2, 2 };
	struct ao_revocation rv;
	struct ao_revocations revs = { &rv, 1, 1 };
	static const struct {
		const char *what;
		int perm_set;    /* revocation: 0 = {p1,p2} reordered, 1 = {p1} */
		int app2, res, grantee2, status_rejected, odd, twin;
		bool covered;
	} cases[] = {
		{ "same app, resource and permissions", 0, 0, 0, 0, 0, 0, 0, true },
		{ "other permissions", 1, 0, 0, 0, 0, 0, 0, false },
		{ "other application", 0, 1, 0, 0, 0, 0, 0, false },
		{ "a resource where the state has none", 0, 0, 1, 0, 0, 0, 0, false },
		{ "someone else's", 0, 0, 0, 1, 0, 0, 0, false },
		{ "rejected, not pending", 0, 0, 0, 0, 1, 0, 0, false },
		{ "a state we could not read", 0, 0, 0, 0, 0, 1, 0, false },
		{ "two states it could be", 0, 0, 0, 0, 0, 0, 1, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(st, 0, sizeof(st));
		st[0].id = s1;
		st[0].application_id = app;
		st[0].perms.v = p12;
		st[0].perms.n = 2;
		st[0].odd = cases[i].odd;
		st[1] = st[0];
		st[1].id = s2;
		if (!cases[i].twin) {
			st[1].perms.v = p1only;
			st[1].perms.n = 1;
			st[1].odd = false;
		}
		memset(&rv, 0, sizeof(rv));
		rv.id = s2;
		rv.status = cases[i].status_rejected ? rej : proc;
		rv.application_id = cases[i].app2 ? app2 : app;
		rv.resource_id = cases[i].res ? res : NULL;
		rv.grantee_user_id = cases[i].grantee2 ? u2 : u1;
		rv.perms.v = cases[i].perm_set ? p1only : p21;
		rv.perms.n = cases[i].perm_set ? 1 : 2;
		if ((ao_state_covered(&states, 0, u1, &revs) != NULL) !=
		    cases[i].covered)
			fail_msg("case %zu (%s)", i, cases[i].what);
	}
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
		cmocka_unit_test(revocations_page),
		cmocka_unit_test(coverage_table),
		cmocka_unit_test(revocation_body),
		cmocka_unit_test(ids),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
