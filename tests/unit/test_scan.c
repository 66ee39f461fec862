/* The scan's comparison (scan.c): what it queues, ends and keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "identity.h"
#include "scan.h"

/* One account: name, cond, key, nologin, email (source GECOS), unknown. */
struct a {
	const char *name;
	enum ao_scan_cond cond;
	const char *key;
	bool nologin;
	const char *email;
	bool unknown;
};

static void
fill(struct ao_scan_list *l, const struct a *v)
{
	for (; v != NULL && v->name != NULL; v++) {
		struct ao_scan_acct *x = ao_scan_add(l);

		assert_non_null(x);
		x->name = v->name;
		x->cond = v->cond;
		x->key = v->key ? v->key : "";
		x->nologin = v->nologin;
		x->email = v->email ? v->email : "";
		x->source = v->email ? AO_SRC_GECOS : NULL;
		x->unknown = v->unknown;
		x->uid = 1000;
	}
	ao_scan_sort(l);
}

/* "queue:alice:locked end:bob:expired ..." of the actions. */
static void
actions(const struct ao_scan_result *res, char *out, size_t n)
{
	static const char *const what[] = { "queue", "end", "conflict", "gone",
		"held" };
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < res->n && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s:%s:%s", i ? " " : "",
		    what[res->v[i].what], res->v[i].acct->name,
		    res->v[i].event == AO_EV_COUNT ? "-" :
		    ao_event_name(res->v[i].event));
}

/* The lists compared must outlive the result: kept here until done(). */
static struct ao_scan_list lp, lc;

static void
done(struct ao_scan_result *res)
{
	ao_scan_result_free(res);
	ao_scan_list_free(&lp);
	ao_scan_list_free(&lc);
}

static void
run(const struct ao_config *cfg, const struct a *prev, const struct a *cur,
    bool baseline, bool initial, const char *want, struct ao_scan_result *res)
{
	char got[512];

	fill(&lp, prev);
	fill(&lc, cur);
	assert_int_equal(ao_scan_compare(cfg, &lp, &lc, baseline, initial, res),
	    AO_OK);
	actions(res, got, sizeof(got));
	assert_string_equal(got, want);
}

#define L(k) AO_SCAN_LOCKED, k
#define F AO_SCAN_NONE, NULL

static void
transitions(void **state)
{
	struct ao_config cfg;
	struct ao_scan_result r;
	const struct a fine[] = { { "alice", F, false, "a@x.org", false },
	    { "bob", F, false, "b@x.org", false }, { NULL } };
	const struct a alice_locked[] = {
	    { "alice", L("locked:1"), false, "a@x.org", false },
	    { "bob", F, false, "b@x.org", false }, { NULL } };

	(void)state;
	assert_int_equal(ao_config_defaults(&cfg), AO_OK);

	/* the first scan is a baseline: nothing queued, all kept */
	run(&cfg, NULL, alice_locked, true, false, "", &r);
	assert_true(r.changed);
	assert_int_equal(lc.n, 2);
	done(&r);
	/* ... unless --initial */
	run(&cfg, NULL, alice_locked, true, true, "queue:alice:locked", &r);
	done(&r);

	/* fine -> locked, with the address kept and the episode key */
	run(&cfg, fine, alice_locked, false, false, "queue:alice:locked", &r);
	assert_string_equal(r.v[0].key, "locked:1");
	assert_string_equal(r.v[0].remembered, "a@x.org");
	assert_true(r.v[0].exists);
	assert_int_equal(r.queued, 1);
	done(&r);

	/* locked -> fine: the episode ends */
	run(&cfg, alice_locked, fine, false, false, "end:alice:locked", &r);
	assert_int_equal(r.ended, 1);
	done(&r);

	/* nothing changed: nothing to write */
	run(&cfg, alice_locked, alice_locked, false, false, "", &r);
	assert_false(r.changed);
	done(&r);

	/* --initial after the baseline: what it took in is queued now (the
	 * episode key keeps a queued one from being queued twice) */
	run(&cfg, alice_locked, alice_locked, false, true, "queue:alice:locked",
	    &r);
	assert_string_equal(r.v[0].key, "locked:1");
	done(&r);
	/* ... and a new account that is locked already */
	run(&cfg, fine + 1, alice_locked, false, true, "queue:alice:locked",
	    &r);
	done(&r);

	/* events.locked off: not queued, yet recorded */
	cfg.events[AO_EV_LOCKED] = false;
	run(&cfg, fine, alice_locked, false, false, "", &r);
	assert_true(r.changed);
	done(&r);
	ao_config_free(&cfg);
}

static void
deletion_and_unknown(void **state)
{
	struct ao_config cfg;
	struct ao_scan_result r;
	const struct a both[] = { { "alice", F, false, "a@x.org", false },
	    { "bob", F, false, "b@x.org", false }, { NULL } };
	const struct a bob[] = { { "bob", F, false, "b@x.org", false },
	    { NULL } };
	const struct a alice_unknown[] = { { "alice", F, false, NULL, true },
	    { "bob", F, false, "b@x.org", false }, { NULL } };

	(void)state;
	assert_int_equal(ao_config_defaults(&cfg), AO_OK);
	/* gone: deleted, for the address kept (GECOS went with it) */
	run(&cfg, both, bob, false, false, "gone:alice:- queue:alice:deleted",
	    &r);
	assert_int_equal(r.gone, 1);
	assert_string_equal(r.v[1].remembered, "a@x.org");
	assert_string_equal(r.v[1].email, "");
	assert_false(r.v[1].exists);
	assert_int_equal(lc.n, 1);
	assert_string_equal(lc.v[0].name, "bob");
	done(&r);

	/* a shadow entry we could not read: no verdict, the record stays */
	run(&cfg, both, alice_unknown, false, false, "", &r);
	assert_int_equal(lc.n, 2);
	assert_string_equal(lc.v[0].email, "a@x.org");
	done(&r);

	/* a new name (not a baseline): any old episode of it is forgotten,
	 * quietly, and nothing counted as ended */
	run(&cfg, bob, both, false, false, "end:alice:-", &r);
	assert_int_equal(r.ended, 0);
	done(&r);
	ao_config_free(&cfg);
}

/* A record whose line was damaged: never a lost lock, never a verdict. */
static void
damaged_records(void **state)
{
	struct ao_config cfg;
	struct ao_scan_result r;
	const struct a now[] = {
	    { "alice", L("locked:1"), false, "a@x.org", false },
	    { "bob", F, false, "b@x.org", false }, { NULL } };
	size_t i;

	(void)state;
	assert_int_equal(ao_config_defaults(&cfg), AO_OK);
	/* alice's and carol's lines were cut: alice is locked now (queued,
	 * as by --initial; the episode key keeps it once), carol is gone
	 * (nothing is known of her but a name: no deletion) */
	fill(&lp, now + 1);
	for (i = 0; i < 2; i++) {
		struct ao_scan_acct *x = ao_scan_add(&lp);

		x->name = i ? "carol" : "alice";
		x->key = x->email = "";
		x->damaged = true;
	}
	ao_scan_sort(&lp);
	fill(&lc, now);
	assert_int_equal(ao_scan_compare(&cfg, &lp, &lc, false, false, &r),
	    AO_OK);
	{
		char got[256];

		actions(&r, got, sizeof(got));
		assert_string_equal(got, "queue:alice:locked");
	}
	assert_true(r.changed);
	done(&r);
	ao_config_free(&cfg);
}

static void
nologin_and_addresses(void **state)
{
	struct ao_config cfg;
	struct ao_scan_result r;
	const struct a shell[] = { { "erin", F, false, "e@x.org", false },
	    { NULL } };
	const struct a nologin[] = { { "erin", F, true, "e@x.org", false },
	    { NULL } };
	const struct a other[] = { { "erin", F, false, "ceo@x.org", false },
	    { NULL } };
	const struct a lost[] = { { "erin", F, false, NULL, false },
	    { NULL } };

	(void)state;
	assert_int_equal(ao_config_defaults(&cfg), AO_OK);
	run(&cfg, shell, nologin, false, false, "", &r);  /* off by default */
	done(&r);
	cfg.events[AO_EV_NOLOGIN] = true;
	run(&cfg, shell, nologin, false, false, "queue:erin:nologin", &r);
	done(&r);
	run(&cfg, nologin, shell, false, false, "end:erin:nologin", &r);
	done(&r);

	/* GECOS gives another address: kept, never taken silently */
	run(&cfg, shell, other, false, false, "conflict:erin:-", &r);
	assert_string_equal(lc.v[0].email, "e@x.org");
	assert_false(r.changed);
	done(&r);
	/* GECOS lost it: kept too */
	run(&cfg, shell, lost, false, false, "", &r);
	assert_string_equal(lc.v[0].email, "e@x.org");
	done(&r);
	ao_config_free(&cfg);
}

/* n accounts u000..: the first `from` of them left out of cur. */
static void
fill_n(struct ao_scan_list *l, size_t n, size_t from)
{
	size_t i;

	for (i = from; i < n; i++) {
		struct ao_scan_acct *x = ao_scan_add(l);
		char name[16];

		assert_non_null(x);
		snprintf(name, sizeof(name), "u%03zu", i);
		x->name = ao_scan_keep(l, name);
		x->key = x->email = "";
		x->uid = 1000 + (long)i;
	}
	ao_scan_sort(l);
}

/* The guard against a mass vanishing, and accounts that left management. */
static void
guard(void **state)
{
	static const struct {
		size_t kept, gone;
		long max, pct;
		bool confirm;
		size_t held;
	} t[] = {
		{ 50, 10, 10, 20, false, 0 },   /* 10: not more than 10 */
		{ 50, 11, 10, 20, false, 11 },  /* 11 and 22 %: held */
		{ 100, 11, 10, 20, false, 0 },  /* 11 %: a real userdel */
		{ 55, 11, 10, 20, false, 0 },   /* exactly 20 %: through */
		{ 54, 11, 10, 20, false, 11 },  /* 20.4 %: held */
		{ 12, 12, 10, 20, false, 12 },  /* everyone gone */
		{ 12, 12, 10, 20, true, 0 },    /* the administrator's word */
		{ 12, 12, 10, 100, false, 0 },  /* turned off */
		{ 3, 3, 0, 0, false, 3 },       /* the strictest */
		{ 3, 3, 10, 20, false, 0 },     /* a small host: each one is
		                                 * confirmed, no guard */
	};
	struct ao_config cfg;
	bool gone[100];
	size_t i, k;

	(void)state;
	assert_int_equal(ao_config_defaults(&cfg), AO_OK);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ao_scan_result r;
		size_t queued = 0, held = 0;

		cfg.max_deletions = t[i].max;
		cfg.max_deletions_percent = t[i].pct;
		fill_n(&lp, t[i].kept, 0);
		fill_n(&lc, t[i].kept, t[i].gone);
		assert_int_equal(ao_scan_compare(&cfg, &lp, &lc, false, false,
		    &r), AO_OK);
		assert_int_equal(r.gone, t[i].gone);
		for (k = 0; k < r.gone; k++)
			gone[k] = true;
		assert_int_equal(ao_scan_settle_gone(&cfg, t[i].kept, gone,
		    t[i].confirm, &r), t[i].held);
		for (k = 0; k < r.n; k++) {
			queued += r.v[k].what == AO_SCAN_QUEUE &&
			    r.v[k].event == AO_EV_DELETED;
			held += r.v[k].what == AO_SCAN_HELD;
		}
		assert_int_equal(held, t[i].held);
		assert_int_equal(queued, t[i].held ? 0 : t[i].gone);
		assert_int_equal(r.queued, queued);
		done(&r);
	}

	/* gone from the listing, but it exists and is no longer managed
	 * (uid or accounts.exclude changed): forgotten, never "deleted" */
	cfg.max_deletions = 10;
	cfg.max_deletions_percent = 20;
	{
		struct ao_scan_result r;
		char got[512];

		fill_n(&lp, 3, 0);
		fill_n(&lc, 3, 2);
		assert_int_equal(ao_scan_compare(&cfg, &lp, &lc, false, false,
		    &r), AO_OK);
		gone[0] = false;    /* u000 left management */
		gone[1] = true;     /* u001 was deleted */
		assert_int_equal(ao_scan_settle_gone(&cfg, 3, gone, false, &r),
		    0);
		actions(&r, got, sizeof(got));
		assert_string_equal(got, "gone:u000:- gone:u001:- "
		    "queue:u001:deleted");
		assert_int_equal(r.queued, 1);
		done(&r);
	}
	ao_config_free(&cfg);
}

/* The file: what is written reads back the same; damage is left out. */
static void
state_text(void **state)
{
	static const char text[] = "accessowl-scan 2\n"
	    "bob\t1002\tnone\t-\tnologin\t-\n"
	    "alice\t1001\tlocked\tlocked:1\tlogin\ta@x.org\n"
	    "eve\t1\tlocked\tk\e[2J\tlogin\t-\n"     /* an escape: damaged */
	    "carol\t1003\texpired\texpired:9\tlogin\tc@x.org";  /* cut */
	struct ao_scan_list l = { 0 };
	char *t = strdup(text), line[256];

	(void)state;
	assert_int_equal(ao_scan_text_parse(t, strlen(text), &l), AO_OK);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].name, "alice");     /* sorted */
	assert_int_equal(l.v[0].cond, AO_SCAN_LOCKED);
	assert_false(l.v[0].damaged);
	assert_string_equal(l.v[1].email, "");
	assert_true(l.v[1].nologin);
	assert_true(ao_scan_line_format(&l.v[0], line, sizeof(line)));
	assert_string_equal(line, "alice\t1001\tlocked\tlocked:1\tlogin\ta@x.org\n");
	assert_non_null(ao_scan_find(&l, "bob"));
	/* damaged lines keep their names, marked: judged as by --initial */
	assert_true(ao_scan_find(&l, "carol")->damaged);
	assert_true(ao_scan_find(&l, "eve")->damaged);
	assert_false(l.damaged);
	ao_scan_list_free(&l);
	t = strdup("not a scan state\n");
	assert_int_equal(ao_scan_text_parse(t, strlen("not a scan state\n"), &l),
	    AO_ERR_DATA);
	ao_scan_list_free(&l);
	t = strdup("");
	assert_int_equal(ao_scan_text_parse(t, 0, &l), AO_ERR_DATA);
	ao_scan_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transitions),
		cmocka_unit_test(deletion_and_unknown),
		cmocka_unit_test(nologin_and_addresses),
		cmocka_unit_test(guard),
		cmocka_unit_test(damaged_records),
		cmocka_unit_test(state_text),
	};

	return cmocka_run_group_tests_name("scan", tests, NULL, NULL);
}
