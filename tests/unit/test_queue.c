/*
 * Putting events in the spool (queue.c): one event per episode, a new one
 * after the account was seen fine, and the remembered address that never
 * changes silently (person.c).  Runs as nobody (the spool refuses root).
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
#include <cmocka.h>

#include "err.h"
#include "identity.h"
#include "queue.h"
#include "spool.h"

struct world {
	char dir[64];
	struct ao_config cfg;
};

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	char path[128];

	assert_non_null(w);
	snprintf(w->dir, sizeof(w->dir), "/tmp/ao-queue-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	assert_int_equal(ao_config_defaults(&w->cfg), AO_OK);
	free(w->cfg.spool_dir);
	free(w->cfg.state_dir);
	snprintf(path, sizeof(path), "%s/spool", w->dir);
	w->cfg.spool_dir = strdup(path);
	snprintf(path, sizeof(path), "%s/state", w->dir);
	w->cfg.state_dir = strdup(path);
	assert_int_equal(ao_dir_prepare(w->cfg.spool_dir, false, 0, 0), AO_OK);
	assert_int_equal(ao_dir_prepare(w->cfg.state_dir, false, 0, 0), AO_OK);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char cmd[128];

	ao_config_free(&w->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	assert_int_equal(system(cmd), 0);
	free(w);
	return 0;
}

static size_t
count(struct world *w, enum ao_queue q)
{
	struct ao_spool sp;
	char **names;
	size_t n;

	assert_int_equal(ao_spool_open(w->cfg.spool_dir, &sp), AO_OK);
	assert_int_equal(ao_spool_list(&sp, q, &names, &n), AO_OK);
	ao_names_free(names, n);
	ao_spool_close(&sp);
	return n;
}

static bool
lock(struct world *w, const char *key, const char *email, const char *source,
    const struct ao_stamp *fine_at)
{
	struct ao_new_event ne;
	bool already = true;
	char id[33];

	memset(&ne, 0, sizeof(ne));
	ne.user = "alice";
	ne.event = "locked";
	ne.episode = key;
	ne.email = email;
	ne.source = source;
	ne.exists = true;
	ne.uid = 1001;
	if (fine_at != NULL)
		ne.fine_at = *fine_at;
	assert_int_equal(ao_queue_event(&w->cfg, &ne, &already, id), AO_OK);
	if (!already)
		assert_int_equal(strlen(id), 32);
	return !already;
}

/* Now, moved on the wall clock by wall_ms and on the boot clock by
 * boot_ms (a clock step is the first without the second). */
static struct ao_stamp
moment(long long wall_ms, long long boot_ms)
{
	struct ao_stamp s;

	ao_stamp_now(&s);
	s.wall_ms += wall_ms;
	s.boot_ms += boot_ms;
	return s;
}

#define DAY_MS (86400LL * 1000)

/* One episode, one event; a new one after the account was seen fine. */
static void
episodes(void **state)
{
	struct world *w = *state;
	struct ao_stamp before = moment(-1000, -1000), after;

	(void)state;
	assert_true(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	/* the module says it saw the account fine before the episode was
	 * queued: the same episode still */
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, &before));
	/* ... and after it: a relock with the same hash, a new episode */
	usleep(5000);
	after = moment(0, 0);
	assert_true(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, &after));
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, &after));
	/* another key is another episode */
	assert_true(lock(w, "locked:2", "a@x.org", AO_SRC_GECOS, NULL));
	/* the scan saw it fine: ended */
	ao_episode_end(&w->cfg, "alice");
	assert_true(lock(w, "locked:2", "a@x.org", AO_SRC_GECOS, NULL));
	assert_int_equal(count(w, AO_Q_QUEUE), 4);
}

/*
 * The wall clock stepped: the boot clock decides.  Seen fine after the
 * episode, though the wall clock was set back a day in between: a new
 * episode.  Seen fine before it, though the wall clock was a day fast
 * then: the same.
 */
static void
episodes_across_a_clock_step(void **state)
{
	struct world *w = *state;
	struct ao_stamp early = moment(DAY_MS, -1000), late;

	assert_true(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, &early));
	usleep(5000);
	late = moment(-DAY_MS, 0);
	assert_true(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, &late));
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, &late));
	/* what an older module passes: milliseconds alone, the wall clock */
	late = moment(-DAY_MS, 0);
	late.boot[0] = '\0';
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, &late));
	assert_int_equal(count(w, AO_Q_QUEUE), 2);
}

/* The one event in q (its file name in name), or none. */
static size_t
only(struct world *w, enum ao_queue q, char *name, size_t n)
{
	struct ao_spool sp;
	char **names;
	size_t k;

	assert_int_equal(ao_spool_open(w->cfg.spool_dir, &sp), AO_OK);
	assert_int_equal(ao_spool_list(&sp, q, &names, &k), AO_OK);
	if (k == 1)
		snprintf(name, n, "%s", names[0]);
	ao_names_free(names, k);
	ao_spool_close(&sp);
	return k;
}

static void
move(struct world *w, enum ao_queue from, enum ao_queue to, const char *name)
{
	static const char *const dirs[] = { "queue", "parked", "done" };
	char a[256], b[256];

	snprintf(a, sizeof(a), "%s/%s/%s", w->cfg.spool_dir, dirs[from], name);
	if (to == AO_Q_COUNT) {
		assert_int_equal(unlink(a), 0);
		return;
	}
	snprintf(b, sizeof(b), "%s/%s/%s", w->cfg.spool_dir, dirs[to], name);
	assert_int_equal(rename(a, b), 0);
}

/*
 * A spool lost and restored from a backup that lacks the event, while the
 * episode record stays: queued again (once, however often asked); an
 * event in any queue, or one done/ may have forgotten, holds the claim.
 */
static void
restored_spool_queues_again(void **state)
{
	struct world *w = *state;
	char name[128], line[256];
	int i;

	assert_true(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	assert_int_equal(only(w, AO_Q_QUEUE, name, sizeof(name)), 1);
	/* wherever the event is, it is queued already */
	move(w, AO_Q_QUEUE, AO_Q_PARKED, name);
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	move(w, AO_Q_PARKED, AO_Q_DONE, name);
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	/* gone: queued again, and then once only */
	move(w, AO_Q_DONE, AO_Q_COUNT, name);
	assert_true(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	for (i = 0; i < 1000; i++)
		assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	assert_int_equal(only(w, AO_Q_QUEUE, name, sizeof(name)), 1);
	/* older than paths.keep_delivered_days less a day: done/ may have
	 * forgotten it, and the claim holds */
	move(w, AO_Q_QUEUE, AO_Q_COUNT, name);
	snprintf(line, sizeof(line), "locked:1 %s %lld", name,
	    moment(-(w->cfg.keep_delivered_days - 1) * DAY_MS - 1000, 0).wall_ms);
	assert_int_equal(ao_record_write(w->cfg.state_dir, "episodes", "alice",
	    line), AO_OK);
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	/* a record of an older version names no event: taken at its word */
	assert_int_equal(ao_record_write(w->cfg.state_dir, "episodes", "alice",
	    "locked:1"), AO_OK);
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	/* nothing was queued (not managed then): queued now */
	ao_episode_unmanaged(&w->cfg, "alice", "locked:1");
	assert_true(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, NULL));
	assert_int_equal(count(w, AO_Q_QUEUE), 1);
}

/* The remembered address: GECOS giving another parks the event with
 * the remembered one; the configuration's word replaces it. */
static void
addresses(void **state)
{
	struct world *w = *state;
	char mem[320];

	assert_true(lock(w, "k1", "a@x.org", AO_SRC_GECOS, NULL));
	assert_int_equal(ao_record_read(w->cfg.state_dir, "people", "alice",
	    mem, sizeof(mem)), AO_OK);
	assert_string_equal(mem, "a@x.org");
	assert_true(lock(w, "k2", "ceo@x.org", AO_SRC_GECOS, NULL));
	assert_int_equal(count(w, AO_Q_PARKED), 1);
	assert_int_equal(ao_record_read(w->cfg.state_dir, "people", "alice",
	    mem, sizeof(mem)), AO_OK);
	assert_string_equal(mem, "a@x.org");     /* never the new one */
	assert_true(lock(w, "k3", "b@x.org", AO_SRC_MAP, NULL));
	assert_int_equal(count(w, AO_Q_QUEUE), 2);
	assert_int_equal(ao_record_read(w->cfg.state_dir, "people", "alice",
	    mem, sizeof(mem)), AO_OK);
	assert_string_equal(mem, "b@x.org");
	/* nothing resolved now: the remembered one */
	assert_true(lock(w, "k4", "", NULL, NULL));
	assert_int_equal(count(w, AO_Q_QUEUE), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(episodes, setup, teardown),
		cmocka_unit_test_setup_teardown(episodes_across_a_clock_step,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(restored_spool_queues_again,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(addresses, setup, teardown),
	};
	gid_t nobody = 65534;

	if (geteuid() == 0 && (setgroups(1, &nobody) != 0 ||
	    setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0))
		return 1;
	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
