#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kick.h"
#include "log.h"
#include "spawn.h"

void
ao_delivery_start(const char *config_path)
{
	static char *const envp[] = { NULL };
	char exe[PATH_MAX];
	ssize_t n;
	pid_t pid;
	int st;

	if (access("/run/systemd/system/", F_OK) == 0) {
		ao_debug("systemd runs: accessowl-deliver.path delivers it");
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		ao_warn("cannot find my own executable; delivery waits for "
		    "the next timer run");
		return;
	}
	exe[n] = '\0';
	pid = fork();
	if (pid < 0) {
		ao_warn("cannot start delivery: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		char a0[] = "accessowl-helper", a1[] = "-c", a3[] = "deliver";
		char *cfg = strdup(config_path);
		char *argv[] = { a0, a1, cfg, a3, NULL };

		if (cfg == NULL)
			_exit(127);
		(void)setsid();
		if (fork() != 0)
			_exit(0);
		if (ao_child_reset() == 0)
			execve(exe, argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

