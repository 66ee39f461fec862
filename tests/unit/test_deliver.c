/*
 * The delivery engine (deliver.c) driven directly, against scripted
 * answers (stub_http.c) and a real spool in a temporary directory:
 * keys on disk before the first POST, resumption after a lost answer,
 * the pending check, parking, the 429 hold, covering another report of
 * the same person.
 *
 * The spool refuses root: run as root (as CI does), the test first drops
 * to nobody for good.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <fcntl.h>
#include <cmocka.h>

#include "deliver.h"
#include "follow.h"
#include "err.h"
#include "queue.h"
#include "reason.h"
#include "retry_after.h"
#include "session.h"
#include "spool.h"
#include "stub_http.h"

#define R(st, body) { st, body, NULL, 0 }
#define LOST { 0, NULL, NULL, AO_ERR_TEMP }
#define USER "{\"data\":[{\"id\":\"u1\",\"email\":\"a@x.org\"}],\"meta\":{}}"
#define STATES "{\"data\":[" \
	"{\"id\":\"s1\",\"application_id\":\"a1\",\"grantee_user_id\":\"u1\"," \
	"\"effective_end\":null,\"target_permission_ids\":[\"p1\"]}," \
	"{\"id\":\"s2\",\"application_id\":\"a1\",\"grantee_user_id\":\"u1\"," \
	"\"effective_end\":null,\"target_permission_ids\":[\"p2\"]}]," \
	"\"meta\":{\"next_cursor\":null}}"
#define NONE "{\"data\":[],\"meta\":{\"next_cursor\":null}}"
#define PENDING_S1 "{\"data\":[{\"id\":\"r9\",\"status\":\"processing_access\"," \
	"\"application_id\":\"a1\",\"grantee_user_id\":\"u1\"," \
	"\"resource_id\":null,\"permission_ids\":[\"p1\"]}]," \
	"\"meta\":{\"next_cursor\":null}}"
#define CREATED "{\"data\":{\"id\":\"r1\",\"status\":\"processing_access\"}}"
#define REVOKED_R1 "{\"data\":{\"id\":\"r1\",\"status\":\"revoked\"}}"
#define ODD_R1 "{\"data\":{\"id\":\"r1\",\"status\":\"paused\"}}"
#define OTHER_R9 "{\"data\":{\"id\":\"r9\",\"status\":\"revoked\"}}"

struct world {
	char dir[64];
	struct ao_session s;
	struct ao_spool sp;
};

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	char path[128];

	assert_non_null(w);
	stub_http_reset();
	snprintf(w->dir, sizeof(w->dir), "/tmp/ao-deliver-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	assert_int_equal(ao_config_defaults(&w->s.cfg), AO_OK);
	free(w->s.cfg.spool_dir);
	free(w->s.cfg.state_dir);
	snprintf(path, sizeof(path), "%s/spool", w->dir);
	w->s.cfg.spool_dir = strdup(path);
	snprintf(path, sizeof(path), "%s/state", w->dir);
	w->s.cfg.state_dir = strdup(path);
	assert_int_equal(ao_dir_prepare(w->s.cfg.spool_dir, false, 0, 0), AO_OK);
	assert_int_equal(ao_dir_prepare(w->s.cfg.state_dir, false, 0, 0), AO_OK);
	ao_api_init(&w->s.api, NULL, &w->s.cfg);
	w->s.api.backoff_cap_ms = 4;
	assert_int_equal(ao_spool_open(w->s.cfg.spool_dir, &w->sp), AO_OK);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char cmd[128];

	ao_spool_close(&w->sp);
	ao_api_free(&w->s.api);
	ao_config_free(&w->s.cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	assert_int_equal(system(cmd), 0);
	free(w);
	return 0;
}

/* A lock of alice, queued as enqueue queues it, handed back. */
static void
queued(struct world *w, const char *event, struct ao_event_rec *ev)
{
	struct ao_new_event ne;
	bool parked;

	memset(&ne, 0, sizeof(ne));
	ne.user = "alice";
	ne.event = event;
	ne.episode = "";
	ne.email = "a@x.org";
	ne.source = "email_domain";
	ne.exists = true;
	ne.uid = 1001;
	assert_int_equal(ao_queue_event_rec(&w->s.cfg, &ne, ev, &parked), AO_OK);
	assert_false(parked);
}

/* An event of alice queued and delivered: two states filed (five
 * requests). */
static void
delivered(struct world *w, const char *event, struct ao_event_rec *ev)
{
	static const struct stub_reply file[] = {
		R(200, USER), R(200, STATES), R(200, NONE), R(201, CREATED),
		R(201, CREATED),
	};
	enum ao_outcome out;
	bool stop = false;

	queued(w, event, ev);
	stub_http_script(file, 5);
	assert_int_equal(ao_deliver_event(&w->s, &w->sp, ev, &out, &stop),
	    AO_OK);
	assert_int_equal(out, AO_OUT_DELIVERED);
}

static size_t
count(struct world *w, enum ao_queue q)
{
	char **names;
	size_t n;

	assert_int_equal(ao_spool_list(&w->sp, q, &names, &n), AO_OK);
	ao_names_free(names, n);
	return n;
}

static void
filed_once_each(void **state)
{
	static const struct stub_reply replies[] = {
		R(200, USER), R(200, STATES), R(200, NONE), R(201, CREATED),
		R(201, CREATED),
	};
	struct world *w = *state;
	struct ao_event_rec ev;
	enum ao_outcome out;
	bool stop;

	queued(w, "locked", &ev);
	stub_http_script(replies, 5);
	assert_int_equal(ao_deliver_event(&w->s, &w->sp, &ev, &out, &stop),
	    AO_OK);
	assert_int_equal(out, AO_OUT_DELIVERED);
	assert_int_equal(stub_http_count(), 5);
	/* the fleet-wide key and body of each state */
	assert_string_equal(stub_http_request(3)->key, "ao2-s1");
	assert_string_equal(stub_http_request(4)->key, "ao2-s2");
	assert_non_null(strstr(stub_http_request(3)->body, AO_REASON_FLEET));
	assert_int_equal(count(w, AO_Q_QUEUE), 0);
	assert_int_equal(count(w, AO_Q_DONE), 1);
	ao_event_free(&ev);
}

/* An answer lost after AccessOwl executed the POST: the same key goes
 * again, from what is on disk, and 409 counts as filed. */
static void
lost_answer_resumes_with_the_same_key(void **state)
{
	static const struct stub_reply first[] = {
		R(200, USER), R(200, STATES), R(200, NONE), R(201, CREATED),
		LOST, LOST, LOST, LOST, LOST,
	};
	static const struct stub_reply second[] = { R(409, "{}") };
	struct world *w = *state;
	struct ao_event_rec ev, again;
	enum ao_outcome out;
	char name[128];
	bool stop;

	queued(w, "locked", &ev);
	stub_http_script(first, 9);
	assert_int_equal(ao_deliver_event(&w->s, &w->sp, &ev, &out, &stop),
	    AO_ERR_TEMP);
	assert_int_equal(out, AO_OUT_RETRY);
	assert_true(stop);
	assert_true(ev.next_attempt > time(NULL));
	/* what the next run finds on disk */
	ao_event_filename(&ev, name, sizeof(name));
	assert_int_equal(ao_spool_get(&w->sp, AO_Q_QUEUE, name, &again), AO_OK);
	assert_true(again.listed);
	assert_int_equal(again.nstates, 2);
	assert_int_equal(again.states[0].status, AO_ST_FILED);
	assert_int_equal(again.states[1].status, AO_ST_PENDING);
	assert_string_equal(again.states[1].key, "ao2-s2");
	stub_http_reset();
	stub_http_script(second, 1);
	assert_int_equal(ao_deliver_event(&w->s, &w->sp, &again, &out, &stop),
	    AO_OK);
	assert_int_equal(out, AO_OUT_DELIVERED);
	assert_int_equal(stub_http_count(), 1);   /* nothing listed again */
	assert_string_equal(stub_http_request(0)->key, "ao2-s2");
	assert_int_equal(again.states[1].status, AO_ST_EARLIER);
	ao_event_free(&ev);
	ao_event_free(&again);
}

/* A pending revocation (another host's, a person's) is not filed again. */
static void
pending_is_not_filed_again(void **state)
{
	static const struct stub_reply replies[] = {
		R(200, USER), R(200, STATES), R(200, PENDING_S1), R(201, CREATED),
	};
	struct world *w = *state;
	struct ao_event_rec ev;
	enum ao_outcome out;
	bool stop;

	queued(w, "deleted", &ev);
	stub_http_script(replies, 4);
	assert_int_equal(ao_deliver_event(&w->s, &w->sp, &ev, &out, &stop),
	    AO_OK);
	assert_int_equal(out, AO_OUT_DELIVERED);
	assert_int_equal(stub_http_count(), 4);
	assert_string_equal(stub_http_request(3)->key, "ao2-s2");
	assert_int_equal(ev.states[0].status, AO_ST_COVERED);
	assert_string_equal(ev.states[0].revocation_id, "r9");
	ao_event_free(&ev);
}

/* 422 on a fleet key: another body under it; the pending list says. */
static void
another_body_counts_as_filed(void **state)
{
	static const struct stub_reply replies[] = {
		R(200, USER), R(200, STATES), R(200, NONE), R(422, "{}"),
		R(200, PENDING_S1), R(200, STATES), R(201, CREATED),
	};
	struct world *w = *state;
	struct ao_event_rec ev;
	enum ao_outcome out;
	bool stop;

	queued(w, "locked", &ev);
	stub_http_script(replies, 7);
	assert_int_equal(ao_deliver_event(&w->s, &w->sp, &ev, &out, &stop),
	    AO_OK);
	assert_int_equal(out, AO_OUT_DELIVERED);
	assert_int_equal(ev.states[0].status, AO_ST_COVERED);
	assert_int_equal(ev.states[1].status, AO_ST_FILED);
	ao_event_free(&ev);
}

/* A manual revoke files with keys of its own, the reason names the host. */
static void
manual_keys(void **state)
{
	struct world *w = *state;
	struct ao_event_rec ev;
	char want[128];

	delivered(w, "manual", &ev);
	snprintf(want, sizeof(want), "ao1-%s-s1", ev.id);
	assert_string_equal(stub_http_request(3)->key, want);
	assert_non_null(strstr(stub_http_request(3)->body, "by an administrator"));
	ao_event_free(&ev);
}

/* Nobody in AccessOwl has the address: parked, saying so. */
static void
unknown_person_is_parked(void **state)
{
	static const struct stub_reply replies[] = { R(200, NONE) };
	struct world *w = *state;
	struct ao_event_rec ev;
	enum ao_outcome out;
	bool stop;

	queued(w, "locked", &ev);
	stub_http_script(replies, 1);
	assert_int_equal(ao_deliver_event(&w->s, &w->sp, &ev, &out, &stop),
	    AO_ERR_NOTFOUND);
	assert_int_equal(out, AO_OUT_PARKED);
	assert_false(stop);
	assert_non_null(strstr(ev.error, "a@x.org"));
	assert_int_equal(count(w, AO_Q_PARKED), 1);
	assert_int_equal(count(w, AO_Q_QUEUE), 0);
	ao_event_free(&ev);
}

/* 429 with a long Retry-After: never sooner, the whole host holds. */
static void
rate_limit_holds_the_host(void **state)
{
	static const struct stub_reply replies[] = {
		R(200, USER), { 429, "{}", "1800", 0 },
	};
	struct world *w = *state;
	struct ao_event_rec ev;
	enum ao_outcome out;
	time_t now = time(NULL);
	bool stop;

	queued(w, "locked", &ev);
	assert_int_equal(ao_deliver_held(&w->sp, false), AO_OK);
	stub_http_script(replies, 2);
	assert_int_equal(ao_deliver_event(&w->s, &w->sp, &ev, &out, &stop),
	    AO_ERR_RATELIMIT);
	assert_int_equal(out, AO_OUT_RETRY);
	assert_true(stop);
	assert_true(ev.next_attempt >= now + 1800);
	assert_true(ao_spool_hold(&w->sp) >= now + 1800);
	assert_int_equal(ao_deliver_held(&w->sp, false), AO_ERR_RATELIMIT);
	ao_event_free(&ev);
}

/* The .hold file as it is on disk: until, set at. */
static void
hold_file(struct world *w, long long *until, long long *set_at)
{
	char buf[64] = "", *end;
	int fd = openat(w->sp.rootfd, ".hold", O_RDONLY);

	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	*until = strtoll(buf, &end, 10);
	assert_true(*end == ' ');
	*set_at = strtoll(end + 1, &end, 10);
	assert_true(*end == '\n');
}

/*
 * A 429 hold set while the clock was a day fast: once the clock is right,
 * what it asked for from now, not a day more; the deliverer writes it back
 * so, and it runs out.  A hold of an older version (no set-at) is a day at
 * most.
 */
static void
hold_set_while_the_clock_was_fast(void **state)
{
	struct world *w = *state;
	long long now = (long long)time(NULL), until, set_at;
	char buf[64];

	snprintf(buf, sizeof(buf), "%lld %lld\n", now + 86400 + 600,
	    now + 86400);
	assert_int_equal(ao_durable_write(w->sp.rootfd, ".hold", buf,
	    strlen(buf)), AO_OK);
	until = ao_spool_hold(&w->sp);
	assert_true(until >= now + 600 && until <= now + 601);
	assert_int_equal(ao_deliver_held(&w->sp, false), AO_ERR_RATELIMIT);
	hold_file(w, &until, &set_at);
	assert_true(until >= now + 600 && until <= now + 602);
	assert_true(set_at >= now && set_at <= now + 2);
	/* a shorter hold asked for now changes nothing; a longer one does */
	assert_int_equal(ao_spool_set_hold(&w->sp, now + 30), AO_OK);
	hold_file(w, &until, &set_at);
	assert_true(until <= now + 602);
	assert_int_equal(ao_spool_set_hold(&w->sp, now + 900), AO_OK);
	assert_true(ao_spool_hold(&w->sp) == now + 900);
	/* as an older version wrote it: a day at most */
	snprintf(buf, sizeof(buf), "%lld\n", now + 5 * 86400);
	assert_int_equal(ao_durable_write(w->sp.rootfd, ".hold", buf,
	    strlen(buf)), AO_OK);
	until = ao_spool_hold(&w->sp);
	assert_true(until >= now + AO_RETRY_AFTER_MAX &&
	    until <= now + AO_RETRY_AFTER_MAX + 2);
}

/*
 * A retry scheduled while the clock was a day fast: due after the delay
 * it was given, from now; a deliverer's run writes it back so and sends
 * nothing before then.  Without a last attempt: the longest delay at most.
 */
static void
retry_set_while_the_clock_was_fast(void **state)
{
	struct world *w = *state;
	struct ao_event_rec ev, back;
	long long now = (long long)time(NULL);
	char name[128];

	queued(w, "locked", &ev);
	ev.attempts = 1;
	ev.last_attempt = now + 86400;
	ev.next_attempt = now + 86400 + 60;
	assert_int_equal(ao_spool_put(&w->sp, AO_Q_QUEUE, &ev), AO_OK);
	assert_true(ao_event_due(&ev, now) == now + 60);
	assert_true(ao_event_due(&ev, now + 59) == now + 59 + 60);
	/* a run: not due yet (the stub aborts on any request), written back */
	assert_int_equal(ao_deliver_run(&w->s, &w->sp, false), AO_OK);
	assert_int_equal(stub_http_count(), 0);
	ao_event_filename(&ev, name, sizeof(name));
	assert_int_equal(ao_spool_get(&w->sp, AO_Q_QUEUE, name, &back), AO_OK);
	assert_true(back.next_attempt >= now + 60 && back.next_attempt <= now + 62);
	/* ... so that it runs out */
	assert_true(ao_event_due(&back, now + 62) <= now + 62);
	ao_event_free(&back);
	/* no last attempt to go by: the longest delay a retry is given */
	ev.last_attempt = 0;
	ev.next_attempt = now + 30 * 86400;
	assert_true(ao_event_due(&ev, now) < now + 2 * 86400);
	assert_true(ao_event_due(&ev, now) > now + 86400);
	ao_event_free(&ev);
}

/*
 * Revocations filed while the clock was a day fast: their follow-ups are
 * not a day out once the clock is right (the first one ten minutes after
 * now), and the run that sees it writes them back so.
 */
static void
follow_set_while_the_clock_was_fast(void **state)
{
	struct world *w = *state;
	struct ao_event_rec ev, got;
	char name[128], line[200];
	long long now = (long long)time(NULL);
	bool stop = false;
	size_t i;

	delivered(w, "locked", &ev);
	ao_event_filename(&ev, name, sizeof(name));
	assert_int_equal(ao_spool_get(&w->sp, AO_Q_DONE, name, &got), AO_OK);
	for (i = 0; i < got.nstates; i++)
		got.states[i].next_check = now + 86400 + AO_FOLLOW_FIRST;
	assert_int_equal(ao_spool_put(&w->sp, AO_Q_DONE, &got), AO_OK);
	ao_event_free(&got);
	snprintf(line, sizeof(line), "%lld %s %lld", now + 86400 +
	    AO_FOLLOW_FIRST, name, now + 86400);
	assert_int_equal(ao_record_write(w->s.cfg.state_dir, "follow", ev.id,
	    line), AO_OK);
	stub_http_reset();
	assert_int_equal(ao_follow_pass(&w->s, &w->sp, false, &stop), AO_OK);
	assert_int_equal(stub_http_count(), 0);
	assert_int_equal(ao_spool_get(&w->sp, AO_Q_DONE, name, &got), AO_OK);
	for (i = 0; i < got.nstates; i++)
		assert_true(got.states[i].next_check >= now + AO_FOLLOW_FIRST &&
		    got.states[i].next_check <= now + AO_FOLLOW_FIRST + 2);
	ao_event_free(&got);
	assert_int_equal(ao_record_read(w->s.cfg.state_dir, "follow", ev.id,
	    line, sizeof(line)), AO_OK);
	assert_true(strtoll(line, NULL, 10) <= now + AO_FOLLOW_FIRST + 2);
	ao_event_free(&ev);
}

/* Put ev back in the queue as if it had happened at `created`. */
static void
happened_at(struct world *w, struct ao_event_rec *ev, long long created)
{
	char old[128];

	ao_event_filename(ev, old, sizeof(old));
	ev->created = created;
	assert_int_equal(ao_spool_put(&w->sp, AO_Q_QUEUE, ev), AO_OK);
	assert_int_equal(unlinkat(w->sp.fd[AO_Q_QUEUE], old, 0), 0);
}

/*
 * Another report of the same person (another host's, on a collector) that
 * happened before the states were listed for a delivered event is covered
 * by it, with no request; one that happened after is delivered as usual.
 */
static void
earlier_report_is_covered(void **state)
{
	static const struct stub_reply replies[] = {
		R(200, USER), R(200, STATES), R(200, NONE), R(201, CREATED),
		R(201, CREATED),
		/* the later report: listed again */
		R(200, USER), R(200, STATES), R(200, NONE), R(409, "{}"),
		R(409, "{}"),
		/* --now: what the first filed is asked about (r1, twice) */
		R(200, REVOKED_R1), R(200, REVOKED_R1),
	};
	struct world *w = *state;
	struct ao_event_rec e1, e2, e3, got;
	long long now = (long long)time(NULL);
	char name[128];

	queued(w, "locked", &e1);
	happened_at(w, &e1, now - 10);
	queued(w, "deleted", &e2);
	assert_int_equal(ao_set(&e2.host, "web07"), AO_OK);
	e2.received = now - 2;
	happened_at(w, &e2, now - 5);
	queued(w, "expired", &e3);
	happened_at(w, &e3, now + 100);
	stub_http_script(replies, 12);
	assert_int_equal(ao_deliver_run(&w->s, &w->sp, true), AO_OK);
	assert_int_equal(stub_http_count(), 12);
	assert_int_equal(count(w, AO_Q_DONE), 3);
	ao_event_filename(&e2, name, sizeof(name));
	assert_int_equal(ao_spool_get(&w->sp, AO_Q_DONE, name, &got), AO_OK);
	assert_non_null(got.covered_by);
	assert_string_equal(got.covered_by, e1.id);
	assert_true(got.listed);
	assert_int_equal(got.nstates, 2);
	assert_int_equal(got.states[0].status, AO_ST_COVERED);
	assert_string_equal(got.states[0].revocation_id, "r1");
	assert_string_equal(got.states[1].key, "ao2-s2");
	assert_string_equal(got.person_id, "u1");
	ao_event_free(&got);
	ao_event_filename(&e3, name, sizeof(name));
	assert_int_equal(ao_spool_get(&w->sp, AO_Q_DONE, name, &got), AO_OK);
	assert_null(got.covered_by);
	assert_int_equal(got.states[0].status, AO_ST_EARLIER);
	ao_event_free(&got);
	ao_event_free(&e1);
	ao_event_free(&e2);
	ao_event_free(&e3);
}

/*
 * What was filed is followed: a revocation AccessOwl does not know (404)
 * and one it settled are never asked about again; an answer naming
 * another revocation, or an unknown status, settles nothing.
 */
static void
followed_until_settled(void **state)
{
	static const struct stub_reply first[] = {
		R(200, OTHER_R9), R(200, ODD_R1),
	};
	static const struct stub_reply second[] = {
		R(404, "{}"), R(200, REVOKED_R1),
	};
	struct world *w = *state;
	struct ao_event_rec ev, got;
	char name[128];
	bool stop = false;

	delivered(w, "locked", &ev);
	ao_event_filename(&ev, name, sizeof(name));
	assert_int_equal(ao_spool_get(&w->sp, AO_Q_DONE, name, &got), AO_OK);
	assert_true(got.states[0].next_check > time(NULL));
	ao_event_free(&got);
	/* not due yet: nothing asked */
	stub_http_reset();
	assert_int_equal(ao_follow_pass(&w->s, &w->sp, false, &stop), AO_OK);
	assert_int_equal(stub_http_count(), 0);
	/* --now: one request each */
	stub_http_script(first, 2);
	assert_int_equal(ao_follow_pass(&w->s, &w->sp, true, &stop), AO_OK);
	assert_int_equal(stub_http_count(), 2);
	assert_string_equal(stub_http_request(0)->path,
	    "/api/v1/access_revocations/r1");
	assert_int_equal(ao_spool_get(&w->sp, AO_Q_DONE, name, &got), AO_OK);
	assert_string_equal(got.states[0].revocation_status,
	    "processing_access");     /* r9's answer is not r1's */
	assert_string_equal(got.states[1].revocation_status, "paused");
	assert_true(got.states[1].next_check > 0);
	ao_event_free(&got);
	stub_http_reset();
	stub_http_script(second, 2);
	assert_int_equal(ao_follow_pass(&w->s, &w->sp, true, &stop), AO_OK);
	assert_int_equal(stub_http_count(), 2);
	assert_int_equal(ao_spool_get(&w->sp, AO_Q_DONE, name, &got), AO_OK);
	assert_int_equal(got.states[0].next_check, 0);
	assert_int_equal(got.states[1].next_check, 0);
	assert_string_equal(got.states[1].revocation_status, "revoked");
	ao_event_free(&got);
	/* nothing left to follow: no request, however often asked */
	stub_http_reset();
	assert_int_equal(ao_follow_pass(&w->s, &w->sp, true, &stop), AO_OK);
	assert_int_equal(ao_follow_pass(&w->s, &w->sp, true, &stop), AO_OK);
	assert_int_equal(stub_http_count(), 0);
	ao_event_free(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(filed_once_each, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    lost_answer_resumes_with_the_same_key, setup, teardown),
		cmocka_unit_test_setup_teardown(pending_is_not_filed_again,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(another_body_counts_as_filed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(manual_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_person_is_parked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(rate_limit_holds_the_host, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(hold_set_while_the_clock_was_fast,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(retry_set_while_the_clock_was_fast,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(follow_set_while_the_clock_was_fast,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(earlier_report_is_covered,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(followed_until_settled, setup,
		    teardown),
	};
	gid_t nobody = 65534;

	/* the spool is the service user's: never touched as root */
	if (geteuid() == 0 && (setgroups(1, &nobody) != 0 ||
	    setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0))
		return 1;
	return cmocka_run_group_tests_name("deliver", tests, NULL, NULL);
}
