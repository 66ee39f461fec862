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
    long long fine_at)
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
	ne.fine_at = fine_at;
	assert_int_equal(ao_queue_event(&w->cfg, &ne, &already, id), AO_OK);
	if (!already)
		assert_int_equal(strlen(id), 32);
	return !already;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One episode, one event; a new one after the account was seen fine. */
static void
episodes(void **state)
{
	struct world *w = *state;
	long long before;

	(void)state;
	before = now_ms() - 1000;
	assert_true(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, 0));
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, 0));
	/* the module says it saw the account fine before the episode was
	 * queued: the same episode still */
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, before));
	/* ... and after it: a relock with the same hash, a new episode */
	usleep(5000);
	assert_true(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, now_ms()));
	assert_false(lock(w, "locked:1", "a@x.org", AO_SRC_GECOS, 0));
	/* another key is another episode */
	assert_true(lock(w, "locked:2", "a@x.org", AO_SRC_GECOS, 0));
	/* the scan saw it fine: ended */
	ao_episode_end(&w->cfg, "alice");
	assert_true(lock(w, "locked:2", "a@x.org", AO_SRC_GECOS, 0));
	assert_int_equal(count(w, AO_Q_QUEUE), 4);
}

/* The remembered address: GECOS giving another parks the event with
 * the remembered one; the configuration's word replaces it. */
static void
addresses(void **state)
{
	struct world *w = *state;
	char mem[320];

	assert_true(lock(w, "k1", "a@x.org", AO_SRC_GECOS, 0));
	assert_int_equal(ao_record_read(w->cfg.state_dir, "people", "alice",
	    mem, sizeof(mem)), AO_OK);
	assert_string_equal(mem, "a@x.org");
	assert_true(lock(w, "k2", "ceo@x.org", AO_SRC_GECOS, 0));
	assert_int_equal(count(w, AO_Q_PARKED), 1);
	assert_int_equal(ao_record_read(w->cfg.state_dir, "people", "alice",
	    mem, sizeof(mem)), AO_OK);
	assert_string_equal(mem, "a@x.org");     /* never the new one */
	assert_true(lock(w, "k3", "b@x.org", AO_SRC_MAP, 0));
	assert_int_equal(count(w, AO_Q_QUEUE), 2);
	assert_int_equal(ao_record_read(w->cfg.state_dir, "people", "alice",
	    mem, sizeof(mem)), AO_OK);
	assert_string_equal(mem, "b@x.org");
	/* nothing resolved now: the remembered one */
	assert_true(lock(w, "k4", "", NULL, 0));
	assert_int_equal(count(w, AO_Q_QUEUE), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(episodes, setup, teardown),
		cmocka_unit_test_setup_teardown(addresses, setup, teardown),
	};
	gid_t nobody = 65534;

	if (geteuid() == 0 && (setgroups(1, &nobody) != 0 ||
	    setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0))
		return 1;
	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
