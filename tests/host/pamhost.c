/*
 * Test-only PAM application (never installed): runs a service's account
 * and session stacks like a daemon would, and reports what the modules
 * left behind, as one JSON line:
 *
 *   pamhost CONFDIR SERVICE USER handler|ignore
 *
 * handler: SIGCHLD has a handler of ours; ignore: SIGCHLD is SIG_IGN (as in
 * some daemons).  Reported: the PAM results, the time taken, whether our
 * SIGCHLD disposition is back, how often our handler ran, children left to
 * reap, fds and threads before and after.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pwd.h>
#include <shadow.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

static volatile sig_atomic_t chld_calls;

static void
on_chld(int sig)
{
	(void)sig;
	chld_calls++;
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	(void)n; (void)msg; (void)resp; (void)data;
	return PAM_CONV_ERR;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static int
threads(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int n = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Threads:", 8) == 0)
			n = atoi(line + 8);
	fclose(f);
	return n;
}

int
main(int argc, char **argv)
{
	struct pam_conv pc = { conv, NULL };
	struct sigaction sa, after;
	struct timespec t0, t1;
	pam_handle_t *h = NULL;
	int r_acct, r_open, r_close, fds0, fds1, th, children = 0, st;
	int ign;

	if (argc != 5) {
		fprintf(stderr, "usage: pamhost CONFDIR SERVICE USER "
		    "handler|ignore\n");
		return 64;
	}
	ign = strcmp(argv[4], "ignore") == 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ign ? SIG_IGN : on_chld;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	/* a daemon has done NSS look-ups before: let nss_wrapper open its
	 * files now, so they are not counted against the module */
	(void)getpwnam(argv[3]);
	(void)getspnam(argv[3]);
	fds0 = count_fds();
	if (pam_start_confdir(argv[2], argv[3], &pc, argv[1], &h) != PAM_SUCCESS)
		return 70;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r_acct = pam_acct_mgmt(h, 0);
	r_open = pam_open_session(h, 0);
	r_close = pam_close_session(h, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pam_end(h, r_close);
	fds1 = count_fds();
	th = threads();
	sigaction(SIGCHLD, NULL, &after);
	while (waitpid(-1, &st, WNOHANG) > 0)
		children++;
	printf("{\"acct\": %d, \"open\": %d, \"close\": %d, \"ms\": %.1f, "
	    "\"sigchld_restored\": %s, \"chld_calls\": %d, \"children\": %d, "
	    "\"fds_before\": %d, \"fds_after\": %d, \"threads\": %d}\n",
	    r_acct, r_open, r_close,
	    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
	    after.sa_handler == sa.sa_handler ? "true" : "false",
	    (int)chld_calls, children, fds0, fds1, th);
	return 0;
}
