/*
 * A clean child before execve, shared by the module (starting the helper)
 * and the helper (starting a detached deliverer): default signal
 * dispositions and an empty mask (SIG_IGN would survive exec), stdin,
 * stdout and stderr on /dev/null, and no other file descriptor.
 */
#ifndef AO_SPAWN_H
#define AO_SPAWN_H

/* In a child after fork(): 0, or -1 if /dev/null cannot be set up. */
int ao_child_reset(void);

#endif
