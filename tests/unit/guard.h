/*
 * For unit tests that open what a hostile service user may plant (a
 * FIFO): an open or read that blocks must fail the run, not hang it.
 * Define GUARD_NAME (the test's name) and declare the group's
 * teardown(void **) before including this; guard() arms a 5-second alarm
 * that says what blocked, cleans up and exits 3, unguard() disarms it.
 */
#ifndef AO_TEST_GUARD_H
#define AO_TEST_GUARD_H
#include <signal.h>
#include <unistd.h>

static int teardown(void **state);

static void
on_alarm(int sig)
{
	static const char msg[] = GUARD_NAME ": blocked on a FIFO\n";

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	/* the test is stuck in a system call, not in malloc: clean up */
	(void)teardown(NULL);
	_exit(3);
}

static void
guard(void)
{
	signal(SIGALRM, on_alarm);
	alarm(5);
}

static void
unguard(void)
{
	alarm(0);
	signal(SIGALRM, SIG_DFL);
}

#endif
