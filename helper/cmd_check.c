/*
 * accessowl-helper check: everything a host needs to revoke anything,
 * each on a line of its own: `ok:`, `FAILED:` with the fix, or `note:`
 * for what works but may not be what was meant.  Every check runs, one
 * failing does not hide the next (a check that needs an earlier one says
 * it was skipped); the exit status is that of the first failure.
 *
 *   config            it loads (else nothing else can be checked)
 *   identity          some rule can give an account an AccessOwl person
 *   service user      it exists
 *   secrets           token and CA file (a relay host: its certificate's
 *                     key, certificate and CA), owner, mode and content
 *   PAM               the stacks of the services the README names: the
 *                     module present, `enforce` where it can refuse, no
 *                     line before it that skips it
 *   runners           something starts scan and deliver (systemd units
 *                     enabled, or cron)
 *   as the service    after the drop: it can read the config and secrets
 *   user              and write the spool and state directory; the scan
 *                     holds no deletions
 *   AccessOwl         one cheap authenticated GET (a relay host: a RELP
 *                     session with the collector)
 *
 * Started as root, it checks twice: as root (what the module's enqueue and
 * cron runs read), then, after the drop, as the service user, which is
 * what the systemd units and every background delivery run as.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "cmd.h"
#include "err.h"
#include "log.h"
#include "out.h"
#include "pamstack.h"
#include "privdrop.h"
#include "relay.h"
#include "scanstate.h"
#include "secfile.h"
#include "session.h"

#define CA_MAX_BYTES (4u * 1024 * 1024)

struct chk {
	int first;            /* the first failure's code */
	char why[1024];       /* the last error logged (log.h capture) */
};

static void __attribute__((format(printf, 3, 4)))
failed(struct chk *c, int code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ao_print("FAILED: %s\n", msg);
	if (c->first == AO_OK)
		c->first = code != AO_OK ? code : AO_ERR_CONFIG;
}

/* What was logged last, for a FAILED line ("see the log" when nothing). */
static const char *
why(struct chk *c)
{
	return c->why[0] ? c->why : "see the log (authpriv)";
}

/* Can we (the service user, after the drop) read path? */
static void
check_read(struct chk *c, const char *what, const char *path,
    const char *who, const char *group)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		ao_print("ok: %s %s is readable by %s\n", what, path, who);
		return;
	}
	failed(c, AO_ERR_PERM, "%s cannot read %s %s (%s): background "
	    "deliveries will fail; fix: chgrp %s %s && chmod g+r %s", who,
	    what, path, strerror(errno), group, path, path);
}

/* Can we write dir?  Missing is not a failure: root makes it. */
static void
check_write(struct chk *c, const char *what, const char *dir,
    const char *who, const char *user)
{
	if (access(dir, W_OK | X_OK) == 0) {
		ao_print("ok: %s %s is writable by %s\n", what, dir, who);
		return;
	}
	if (errno == ENOENT) {
		ao_print("note: %s %s does not exist yet; the first run as root "
		    "makes it, or: install -d -m 0700 -o %s -g %s %s\n", what,
		    dir, user, user, dir);
		return;
	}
	failed(c, AO_ERR_PERM, "%s cannot write %s %s (%s); fix: chown -R "
	    "%s:%s %s && chmod 0700 %s", who, what, dir, strerror(errno), user,
	    user, dir, dir);
}

/* Some identity rule can give an account an AccessOwl person. */
static void
check_identity(struct chk *c, const struct ao_config *cfg)
{
	if (cfg->email_domain[0] != '\0')
		ao_print("ok: identity: each account is <name>@%s%s\n",
		    cfg->email_domain, cfg->nmap ? ", but for identity.map" :
		    "");
	else if (cfg->nmap > 0)
		ao_print("%s: identity: only the %zu accounts in identity.map "
		    "have an AccessOwl person%s\n", cfg->gecos_email ? "ok" :
		    "note", cfg->nmap, cfg->gecos_email ? ", or an address in "
		    "GECOS" : "; the events of any other account are parked");
	else if (cfg->gecos_email)
		ao_print("note: identity: only accounts with an address in a "
		    "GECOS field users cannot change have an AccessOwl person; "
		    "the events of the others are parked\n");
	else if (cfg->collector)
		ao_print("note: identity: no rule: this collector's own accounts "
		    "have no AccessOwl person (events from relay hosts carry "
		    "their own)\n");
	else
		failed(c, AO_ERR_CONFIG, "identity: no rule gives an account an "
		    "AccessOwl person, so nothing can ever be revoked (every "
		    "event is parked); add one to the identity group of %s: "
		    "email_domain = \"example.com\"; (every account is "
		    "<name>@example.com), or map = ( { user = \"alice\"; email "
		    "= \"alice@example.com\"; } );", cfg->path);
}

/* The secrets and certificates, as started (root's view). */
static bool
check_secrets(struct chk *c, const struct ao_config *cfg, gid_t gid)
{
	static const struct {
		const char *what;
		enum ao_file_kind kind;
	} relay[] = {
		{ "private key", AO_FILE_KEY },
		{ "certificate", AO_FILE_CA },
		{ "CA file", AO_FILE_CA },
	};
	const char *files[3] = { cfg->relay_key_file, cfg->relay_cert_file,
		cfg->relay_ca_file };
	struct ao_secret tok;
	char *ca = NULL;
	size_t len, i;
	bool good = true;
	int r, fd;

	if (cfg->relay) {
		if (!cfg->relay_tls) {
			ao_print("note: relay.tls = false: events cross the "
			    "network in clear text and anyone can pose as the "
			    "collector\n");
			return true;
		}
		for (i = 0; i < 3; i++) {
			c->why[0] = '\0';
			if ((r = ao_file_open_checked(files[i], relay[i].kind,
			    relay[i].kind == AO_FILE_KEY ? gid : 0, &fd)) !=
			    AO_OK) {
				failed(c, r, "%s", why(c));
				good = false;
				continue;
			}
			close(fd);
			ao_print("ok: %s %s (owner and mode safe)\n",
			    relay[i].what, files[i]);
		}
		return good;
	}
	c->why[0] = '\0';
	memset(&tok, 0, sizeof(tok));
	if ((r = ao_token_read(cfg->token_file, gid, &tok)) == AO_OK)
		ao_print("ok: token file %s (owner and mode safe, token "
		    "well-formed)\n", cfg->token_file);
	else {
		failed(c, r, "%s", why(c));
		good = false;
	}
	ao_secret_wipe(&tok);
	if (cfg->ca_file[0] == '\0')
		return good;
	c->why[0] = '\0';
	if ((r = ao_file_read_checked(cfg->ca_file, AO_FILE_CA, CA_MAX_BYTES,
	    &ca, &len)) == AO_OK)
		ao_print("ok: CA file %s\n", cfg->ca_file);
	else {
		failed(c, r, "%s", why(c));
		good = false;
	}
	free(ca);
	return good;
}

/* The PAM stacks of the services the README names. */
static void
check_pam(struct chk *c)
{
	static const char *const services[] = { "sshd", "login", "su",
		"sudo", "cron" };
	struct ao_pam_service s;
	size_t i, seen = 0;

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		const char *n = services[i];

		if (ao_pam_inspect(NULL, n, &s) != AO_OK || !s.exists)
			continue;
		if (s.error[0] != '\0')
			ao_print("note: PAM service %s: %s\n", n, s.error);
		if (s.account.present && s.account.enforce &&
		    !s.account.can_refuse)
			failed(c, AO_ERR_CONFIG, "PAM service %s: `enforce` on "
			    "an account line with control `%s` cannot refuse a "
			    "locked account; fix: make it `account required "
			    "pam_accessowl.so enforce` in %s", n,
			    s.account.control, s.file);
		if (s.account.present && s.account.skipped && s.account.enforce)
			failed(c, AO_ERR_CONFIG, "PAM service %s: `%s` comes "
			    "before pam_accessowl in the account stack and ends "
			    "it (or jumps past it) when it succeeds, so `enforce` "
			    "never refuses those logins; fix: move the "
			    "pam_accessowl line above it in %s", n,
			    s.account.skipper, s.file);
		else if (s.account.present && s.account.skipped)
			ao_print("note: PAM service %s: `%s` comes before "
			    "pam_accessowl in the account stack and ends it (or "
			    "jumps past it) when it succeeds: those logins are "
			    "not seen (the scan still catches the locks); move "
			    "the pam_accessowl line above it in %s\n", n,
			    s.account.skipper, s.file);
		if (s.session.present && s.session.skipped)
			ao_print("note: PAM service %s: `%s` comes before "
			    "pam_accessowl in the session stack and ends it when "
			    "it succeeds\n", n, s.session.skipper);
		if (s.account.present || s.session.present) {
			seen++;
			ao_print("%s: PAM service %s: pam_accessowl in the %s%s%s "
			    "stack%s%s\n", s.account.present &&
			    s.session.present ? "ok" : "note", n,
			    s.account.present ? "account" : "",
			    s.account.present && s.session.present ? " and " :
			    "", s.session.present ? "session" : "",
			    s.account.present && s.session.present ? "s" : "",
			    s.account.enforce ? " (enforce)" : "");
		}
	}
	if (seen == 0)
		ao_print("note: pam_accessowl is in the PAM stack of none of "
		    "sshd, login, su, sudo, cron: logins are not observed, and "
		    "only the scan catches locks (see pam_accessowl(8))\n");
}

/* Is unit enabled (a link in /etc/systemd/system/<target>.target.wants)? */
static bool
unit_enabled(const char *target, const char *unit)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "/etc/systemd/system/%s.target.wants/%s",
	    target, unit);
	return lstat(path, &st) == 0;
}

/* Something starts scan and deliver: systemd's units, or cron. */
static void
check_runners(struct chk *c)
{
	static const struct {
		const char *unit, *target;
	} units[] = {
		{ "accessowl-scan.path", "paths" },
		{ "accessowl-scan.timer", "timers" },
		{ "accessowl-deliver.path", "paths" },
		{ "accessowl-deliver.timer", "timers" },
	};
	char off[256] = "";
	size_t i, k = 0;
	struct stat st;
	bool cron;

	if (access("/run/systemd/system", F_OK) == 0) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!unit_enabled(units[i].target, units[i].unit))
				k += (size_t)snprintf(off + k, sizeof(off) - k,
				    " %s", units[i].unit);
		if (k == 0)
			ao_print("ok: systemd starts scan and deliver "
			    "(accessowl-scan.path and .timer, "
			    "accessowl-deliver.path and .timer enabled)\n");
		else
			failed(c, AO_ERR_CONFIG, "systemd runs here, but "
			    "these units are not enabled:%s: locks nobody "
			    "logs in after, retries or new events are not "
			    "handled; fix: systemctl enable --now%s", off, off);
		return;
	}
	cron = stat("/usr/sbin/cron", &st) == 0 ||
	    stat("/usr/sbin/crond", &st) == 0;
	if (cron && stat("/etc/cron.d/accessowl", &st) == 0)
		ao_print("ok: no systemd: cron starts scan and deliver "
		    "(/etc/cron.d/accessowl)\n");
	else if (!cron)
		failed(c, AO_ERR_CONFIG, "nothing starts scan and deliver: no "
		    "systemd, and no cron daemon; locks nobody logs in after "
		    "and retries are never handled; fix: install cron "
		    "(apt-get install cron, or dnf install cronie)");
	else
		failed(c, AO_ERR_CONFIG, "nothing starts scan and deliver: no "
		    "systemd, and /etc/cron.d/accessowl is missing; fix: "
		    "reinstall the package, or copy conf/cron/accessowl there");
}

/* A relay host: a RELP session with the collector, opened and closed. */
static void
check_collector(struct chk *c, const struct ao_config *cfg)
{
	struct ao_relay *rl = NULL;
	int r;

	c->why[0] = '\0';
	if ((r = ao_relay_open(cfg, &rl)) == AO_OK)
		r = ao_relay_close(rl);
	if (r == AO_OK)
		ao_print("ok: the collector at %s %s (a RELP session opened "
		    "and closed)\n", cfg->relay_url, cfg->relay_tls ?
		    "proved its name and accepted this host's certificate" :
		    "answered, without TLS");
	else
		failed(c, r, "the collector at %s: %s", cfg->relay_url, why(c));
}

/* After the drop, as the service user: what background runs need. */
static void
as_service_user(struct chk *c, struct ao_session *run)
{
	const struct ao_config *cfg = &run->cfg;
	const char *u = cfg->user;
	struct ao_scan_held h;
	char who[128];

	if (run->root)
		snprintf(who, sizeof(who), "the service user %s", u);
	else
		snprintf(who, sizeof(who), "uid %lu", (unsigned long)geteuid());
	check_read(c, "config", cfg->path, who, u);
	if (cfg->relay && cfg->relay_tls) {
		check_read(c, "private key", cfg->relay_key_file, who, u);
		check_read(c, "certificate", cfg->relay_cert_file, who, u);
		check_read(c, "CA file", cfg->relay_ca_file, who, u);
	} else if (!cfg->relay) {
		check_read(c, "token file", cfg->token_file, who, u);
		if (cfg->ca_file[0] != '\0')
			check_read(c, "CA file", cfg->ca_file, who, u);
	}
	check_write(c, "spool", cfg->spool_dir, who, u);
	check_write(c, "state directory", cfg->state_dir, who, u);
	/* the scan's guard holds deletions (scan.h): not fine until decided */
	if (ao_scan_held_read(cfg->state_dir, &h) == AO_OK && h.held > 0)
		failed(c, AO_ERR_DATA, "the scan holds the deletions of %zu of "
		    "%zu managed accounts that vanished at once (%s): check the "
		    "account database; if they really were deleted, run: "
		    "accessowl-helper scan --confirm-deletions", h.held,
		    h.kept, h.names);
}

int
cmd_check(const struct ao_opts *o, int argc, char **argv)
{
	struct ao_config cfg;
	struct ao_session run;
	struct chk c;
	bool svc = false, secrets;
	uid_t uid = 0;
	gid_t gid = (gid_t)-1;
	long status = 0;
	int r;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: accessowl-helper check\n");
		return AO_ERR_USAGE;
	}
	memset(&c, 0, sizeof(c));
	memset(&run, 0, sizeof(run));
	memset(&cfg, 0, sizeof(cfg));
	ao_log_capture(c.why, sizeof(c.why));
	if ((r = ao_config_load(&cfg, o->config_path)) != AO_OK) {
		failed(&c, r, "%s; nothing else can be checked until the "
		    "config loads", why(&c));
		ao_config_free(&cfg);
		goto out;
	}
	ao_print("ok: config %s\n", cfg.path);
	check_identity(&c, &cfg);
	c.why[0] = '\0';
	if (geteuid() == 0) {
		if ((r = ao_service_user(cfg.user, &uid, &gid)) == AO_OK)
			svc = true;
		else
			failed(&c, r, "%s", why(&c));
	} else if (ao_service_user(cfg.user, &uid, &gid) == AO_OK)
		svc = true;     /* for the token's group check only */
	if (svc)
		ao_print("ok: service user %s (uid %lu)\n", cfg.user,
		    (unsigned long)uid);
	secrets = check_secrets(&c, &cfg, svc ? gid : (gid_t)-1);
	check_pam(&c);
	check_runners(&c);
	ao_config_free(&cfg);
	if (geteuid() == 0 && !svc) {
		ao_print("skipped: what the service user can read and write, "
		    "and AccessOwl (no service user)\n");
		goto out;
	}
	c.why[0] = '\0';
	if (!secrets ||
	    (r = ao_session_open(&run, o->config_path, AO_SESSION_API)) !=
	    AO_OK || (r = ao_session_drop(&run)) != AO_OK) {
		if (secrets)
			failed(&c, r, "%s", why(&c));
		ao_print("skipped: what the service user can read and write, "
		    "and %s (the failures above first)\n", run.cfg.relay ?
		    "the collector" : "AccessOwl");
		goto out;
	}
	as_service_user(&c, &run);
	c.why[0] = '\0';
	if (run.cfg.relay)
		check_collector(&c, &run.cfg);
	else if ((r = ao_api_ping(&run.api, &status)) == AO_OK)
		ao_print("ok: AccessOwl API at %s accepted the token (HTTP %ld)\n",
		    run.cfg.api_url, status);
	else
		failed(&c, r, "AccessOwl API at %s: %s", run.cfg.api_url,
		    why(&c));
out:
	ao_log_capture(NULL, 0);
	ao_session_close(&run);
	return c.first;
}
