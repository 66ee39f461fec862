/*
 * The privilege drop and process hardening (privdrop.c).  Every drop is for
 * good, so each runs in a fork()ed child that checks what it can and exits
 * with the number of the first check that failed (0: all held); the parent
 * asserts on that.  cmocka's asserts are not used in a child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "privdrop.h"

#define NOBODY 65534

/* Run fn in a child; its exit status (or 200 + signal). */
static int
in_child(int (*fn)(const void *), const void *arg)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return 200 + WTERMSIG(st);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Any capability left, effective or permitted? */
static bool
has_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return true;
	return (data[0].effective | data[0].permitted | data[1].effective |
	    data[1].permitted) != 0;
}

struct ids { uid_t uid; gid_t gid; };

static int
child_drop(const void *arg)
{
	const struct ids *to = arg;
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[8], zero = 0;
	int n;

	if (ao_privdrop(to->uid, to->gid) != AO_OK)
		return 1;
	if (getresuid(&ru, &eu, &su) != 0 || ru != to->uid || eu != to->uid ||
	    su != to->uid)
		return 2;
	if (getresgid(&rg, &eg, &sg) != 0 || rg != to->gid || eg != to->gid ||
	    sg != to->gid)
		return 3;
	n = getgroups(8, groups);
	if (n != 1 || groups[0] != to->gid)
		return 4;               /* root's supplementary groups kept */
	if (setuid(0) == 0 || seteuid(0) == 0 || setresuid(0, 0, 0) == 0)
		return 5;
	if (setgid(0) == 0 || setgroups(1, &zero) == 0)
		return 6;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 7;
	if (has_caps())
		return 8;
	return 0;
}

/* As root: every id is the target's, for good, and nothing can be undone. */
static void
drop_table(void **state)
{
	static const struct ids cases[] = {
		{ NOBODY, NOBODY },
		{ 12345, 23456 },       /* uid and gid differ */
		{ 1, 1 },
	};
	size_t i;

	(void)state;
	if (geteuid() != 0)
		skip();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = in_child(child_drop, &cases[i]);

		if (r != 0)
			fail_msg("drop to %lu:%lu: check %d failed",
			    (unsigned long)cases[i].uid,
			    (unsigned long)cases[i].gid, r);
	}
}

static int
child_drop_to_root(const void *arg)
{
	(void)arg;
	/* a "drop" that root can undo is refused */
	return ao_privdrop(0, 0) == AO_ERR_PERM ? 0 : 1;
}

static void
drop_to_root_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(child_drop_to_root, NULL), 0);
}

/*
 * Started as another user (the scan unit: the service user with
 * CAP_DAC_READ_SEARCH): the uid stays, every capability goes.
 */
static int
child_not_root(const void *arg)
{
	uid_t ru, eu, su, before_uid;
	gid_t rg, eg, sg, before_gid;

	(void)arg;
	if (geteuid() == 0) {
		/* become uid 65534 keeping root's permitted capabilities */
		gid_t g = NOBODY;

		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 ||
		    setgroups(1, &g) != 0 || setresgid(g, g, g) != 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) != 0)
			return 100;
		if (!has_caps())
			return 101;     /* nothing to give up: a test bug */
	}
	before_uid = getuid();
	before_gid = getgid();
	if (ao_privdrop(0, 0) != AO_OK)
		return 1;
	if (getresuid(&ru, &eu, &su) != 0 || ru != before_uid ||
	    eu != before_uid || su != before_uid)
		return 2;
	if (getresgid(&rg, &eg, &sg) != 0 || rg != before_gid ||
	    eg != before_gid || sg != before_gid)
		return 3;
	if (has_caps())
		return 4;
	return 0;
}

static void
not_root_keeps_uid(void **state)
{
	(void)state;
	assert_int_equal(in_child(child_not_root, NULL), 0);
}

static void
service_user_table(void **state)
{
	static const struct {
		const char *name;
		int want;
		uid_t uid;
		gid_t gid;
	} cases[] = {
		{ "nobody", AO_OK, NOBODY, NOBODY },
		{ "root", AO_ERR_CONFIG, 0, 0 },        /* uid 0: never */
		{ "no-such-user-xyz", AO_ERR_CONFIG, 0, 0 },
		{ "", AO_ERR_CONFIG, 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uid_t uid = 4242;
		gid_t gid = 4242;
		int r = ao_service_user(cases[i].name, &uid, &gid);

		if (r != cases[i].want)
			fail_msg("'%s': got %d, want %d", cases[i].name, r,
			    cases[i].want);
		if (r == AO_OK) {
			assert_int_equal(uid, cases[i].uid);
			assert_int_equal(gid, cases[i].gid);
		} else {
			/* untouched on failure */
			assert_int_equal(uid, 4242);
			assert_int_equal(gid, 4242);
		}
	}
}

static int
child_harden(const void *arg)
{
	struct rlimit rl;

	(void)arg;
	/* start from the opposite of what is wanted, where we may */
	if (getrlimit(RLIMIT_CORE, &rl) != 0)
		return 100;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
		return 101;
	umask(022);

	ao_harden_process();
	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 ||
	    rl.rlim_max != 0)
		return 1;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 2;
	if (umask(0) != 077)
		return 3;
	return 0;
}

static void
harden(void **state)
{
	(void)state;
	assert_int_equal(in_child(child_harden, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(drop_table),
		cmocka_unit_test(drop_to_root_refused),
		cmocka_unit_test(not_root_keeps_uid),
		cmocka_unit_test(service_user_table),
		cmocka_unit_test(harden),
	};

	return cmocka_run_group_tests_name("privdrop", tests, NULL, NULL);
}
