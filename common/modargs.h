/*
 * The PAM module's arguments, parsed apart from PAM so that they can be
 * tested: helper=PATH, config=PATH, run_dir=PATH (absolute), debug,
 * enforce (refuse a locked account at the account stage).  An
 * argument not understood is reported (the module logs it at WARNING) and
 * otherwise ignored: a typo on a PAM line must never lock anyone out.
 */
#ifndef AO_MODARGS_H
#define AO_MODARGS_H

#include <stdbool.h>

/* The build sets these for the install layout (see the Makefile). */
#ifndef AO_HELPER_PATH
#define AO_HELPER_PATH "/usr/sbin/accessowl-helper"
#endif
#ifndef AO_CONFIG_PATH
#define AO_CONFIG_PATH "/etc/accessowl/accessowl.conf"
#endif
#ifndef AO_RUN_DIR
#define AO_RUN_DIR "/run/accessowl"
#endif

struct ao_modargs {
	const char *helper;   /* the helper to start */
	const char *config;   /* passed on to the helper */
	const char *run_dir;  /* the module's own records (root's) */
	bool debug;
	bool enforce;         /* refuse a locked, managed account */
};

/* Called once per argument not understood, with what to say about it. */
typedef void (*ao_modargs_warn)(void *ctx, const char *msg);

/*
 * The defaults, then argv in order (a later one wins).  Paths point into
 * argv.  Returns how many arguments were not understood.
 */
int ao_modargs_parse(int argc, const char **argv, struct ao_modargs *o,
    ao_modargs_warn warn, void *ctx);

#endif
