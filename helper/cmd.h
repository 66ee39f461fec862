/* Subcommands of accessowl-helper.  Each returns an ao_err code. */
#ifndef AO_CMD_H
#define AO_CMD_H

struct ao_opts {
	const char *config_path;
	int debug;
};

int cmd_revoke(const struct ao_opts *o, int argc, char **argv);
int cmd_check(const struct ao_opts *o, int argc, char **argv);
int cmd_enqueue(const struct ao_opts *o, int argc, char **argv);
int cmd_deliver(const struct ao_opts *o, int argc, char **argv);
int cmd_status(const struct ao_opts *o, int argc, char **argv);
int cmd_scan(const struct ao_opts *o, int argc, char **argv);
int cmd_ingest(const struct ao_opts *o, int argc, char **argv);

#endif
