#include <stdio.h>
#include <string.h>

#include "modargs.h"
#include "text.h"

/* "name=/absolute/path": the path, or NULL. */
static const char *
path_arg(const char *arg, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0 || arg[n] != '=' || arg[n + 1] != '/' ||
	    arg[n + 2] == '\0')
		return NULL;
	return arg + n + 1;
}

int
ao_modargs_parse(int argc, const char **argv, struct ao_modargs *o,
    ao_modargs_warn warn, void *ctx)
{
	char msg[256], clean[128];
	const char *v;
	int i, bad = 0;

	o->helper = AO_HELPER_PATH;
	o->config = AO_CONFIG_PATH;
	o->run_dir = AO_RUN_DIR;
	o->debug = false;
	o->enforce = false;
	for (i = 0; i < argc; i++) {
		if ((v = path_arg(argv[i], "helper")) != NULL)
			o->helper = v;
		else if ((v = path_arg(argv[i], "config")) != NULL)
			o->config = v;
		else if ((v = path_arg(argv[i], "run_dir")) != NULL)
			o->run_dir = v;
		else if (strcmp(argv[i], "debug") == 0)
			o->debug = true;
		else if (strcmp(argv[i], "enforce") == 0)
			o->enforce = true;
		else {
			if (strncmp(argv[i], "state_dir=", 10) == 0)
				snprintf(msg, sizeof(msg), "state_dir= is "
				    "obsolete and ignored (the module keeps its "
				    "records in run_dir, %s); remove it from the "
				    "PAM line", AO_RUN_DIR);
			else
				snprintf(msg, sizeof(msg), "unknown or malformed "
				    "argument '%s' ignored (paths must be "
				    "absolute)", ao_sanitize(clean, sizeof(clean),
				    argv[i]));
			bad++;
			if (warn != NULL)
				warn(ctx, msg);
		}
	}
	return bad;
}
