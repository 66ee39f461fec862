/*
 * accessowl-helper check: config, permissions, token, service user and one
 * cheap authenticated GET (a relay host: its certificate's files and a
 * RELP session with the collector).  Says exactly what is wrong; exit code as for
 * any other command.
 *
 * Started as root, it checks twice: as root (what the module's enqueue and
 * cron runs read), then, after the drop, as the service user, which is
 * what the systemd units and every background delivery run as: it must be
 * able to read the config, the token and the CA file, and to write the
 * spool and the state directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "cmd.h"
#include "err.h"
#include "log.h"
#include "out.h"
#include "relay.h"
#include "scanstate.h"
#include "session.h"

/* Can we (the service user, after the drop) read path? */
static int
check_read(const char *what, const char *path, const char *who,
    const char *group)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		ao_print("ok: %s %s is readable by %s\n", what, path, who);
		return AO_OK;
	}
	ao_print("FAILED: %s cannot read %s %s (%s): background deliveries "
	    "will fail; fix: chgrp %s %s && chmod g+r %s\n", who, what, path,
	    strerror(errno), group, path, path);
	return AO_ERR_PERM;
}

/* Can we write dir?  Missing is not a failure: root makes it. */
static int
check_write(const char *what, const char *dir, const char *who,
    const char *user)
{
	if (access(dir, W_OK | X_OK) == 0) {
		ao_print("ok: %s %s is writable by %s\n", what, dir, who);
		return AO_OK;
	}
	if (errno == ENOENT) {
		ao_print("note: %s %s does not exist yet; the first run as root "
		    "makes it, or: install -d -m 0700 -o %s -g %s %s\n", what,
		    dir, user, user, dir);
		return AO_OK;
	}
	ao_print("FAILED: %s cannot write %s %s (%s); fix: chown -R %s:%s %s "
	    "&& chmod 0700 %s\n", who, what, dir, strerror(errno), user,
	    user, dir, dir);
	return AO_ERR_PERM;
}

/* A relay host: a RELP session with the collector, opened and closed. */
static int
check_collector(const struct ao_config *cfg)
{
	struct ao_relay *rl = NULL;
	int r;

	if ((r = ao_relay_open(cfg, &rl)) == AO_OK)
		r = ao_relay_close(rl);
	if (r == AO_OK)
		ao_print("ok: the collector at %s %s (a RELP session opened "
		    "and closed)\n", cfg->relay_url, cfg->relay_tls ?
		    "proved its name and accepted this host's certificate" :
		    "answered, without TLS");
	else
		ao_print("FAILED: the collector at %s: see the error above\n",
		    cfg->relay_url);
	return r;
}

/* The scan's guard holds deletions (scan.h): not fine until decided. */
static int
check_scan(const struct ao_config *cfg)
{
	struct ao_scan_held h;

	if (ao_scan_held_read(cfg->state_dir, &h) != AO_OK || h.held == 0)
		return AO_OK;
	ao_print("FAILED: the scan holds the deletions of %zu of %zu managed "
	    "accounts that vanished at once (%s): check the account "
	    "database; if they really were deleted, run: accessowl-helper "
	    "scan --confirm-deletions\n", h.held, h.kept, h.names);
	return AO_ERR_DATA;
}

int
cmd_check(const struct ao_opts *o, int argc, char **argv)
{
	struct ao_session run;
	long status = 0;
	char who[128];
	int r, worst = AO_OK;
	const char *u;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: accessowl-helper check\n");
		return AO_ERR_USAGE;
	}
	if ((r = ao_session_open(&run, o->config_path, AO_SESSION_API)) != AO_OK)
		goto out;
	ao_print("ok: config %s\n", run.cfg.path);
	if (run.cfg.relay && run.cfg.relay_tls)
		ao_print("ok: private key %s (owner and mode safe)\n",
		    run.cfg.relay_key_file);
	else if (!run.cfg.relay)
		ao_print("ok: token file %s (owner and mode safe, token "
		    "well-formed)\n", run.cfg.token_file);
	if (run.have_svc)
		ao_print("ok: service user %s (uid %lu)\n", run.cfg.user,
		    (unsigned long)run.svc_uid);
	if ((r = ao_session_drop(&run)) != AO_OK)
		goto out;
	u = run.cfg.user;
	if (run.root)
		snprintf(who, sizeof(who), "the service user %s", u);
	else
		snprintf(who, sizeof(who), "uid %lu", (unsigned long)geteuid());
	if ((r = check_read("config", run.cfg.path, who, u)) != AO_OK)
		worst = r;
	if (run.cfg.relay) {
		if (run.cfg.relay_tls &&
		    (((r = check_read("private key", run.cfg.relay_key_file, who,
		    u)) != AO_OK) ||
		    ((r = check_read("certificate", run.cfg.relay_cert_file, who,
		    u)) != AO_OK) ||
		    ((r = check_read("CA file", run.cfg.relay_ca_file, who,
		    u)) != AO_OK)))
			worst = r;
	} else {
		if ((r = check_read("token file", run.cfg.token_file, who,
		    u)) != AO_OK)
			worst = r;
		if (run.cfg.ca_file[0] != '\0' &&
		    (r = check_read("CA file", run.cfg.ca_file, who, u)) != AO_OK)
			worst = r;
	}
	if ((r = check_write("spool", run.cfg.spool_dir, who, u)) != AO_OK)
		worst = r;
	if ((r = check_write("state directory", run.cfg.state_dir, who,
	    u)) != AO_OK)
		worst = r;
	if ((r = check_scan(&run.cfg)) != AO_OK)
		worst = r;
	if (run.cfg.relay)
		r = check_collector(&run.cfg);
	else if ((r = ao_api_ping(&run.api, &status)) == AO_OK)
		ao_print("ok: AccessOwl API at %s accepted the token (HTTP %ld)\n",
		    run.cfg.api_url, status);
	else
		ao_print("FAILED: AccessOwl API at %s: %s\n", run.cfg.api_url,
		    ao_strerror(r));
	if (r == AO_OK)
		r = worst;
out:
	ao_session_close(&run);
	return r;
}
