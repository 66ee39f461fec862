/*
 * accessowl-helper scan [--dry-run] [--initial]
 *
 * Deprovisioning nobody logs in after: compare the account database
 * (passwd and shadow through NSS, accounts.min_uid and accounts.exclude
 * applied) with what the last scan recorded in <state_dir>/accounts/, and
 * queue the transitions:
 *   fine -> locked | expired     event "locked" / "expired" (expiry that
 *                                arrives by the passing of time included)
 *   recorded -> gone             event "deleted", for the person resolved
 *                                earlier (userdel removed the GECOS field)
 *   login shell -> nologin/false event "nologin" (events.nologin, off by
 *                                default)
 *   locked/expired -> fine       the episode ends: a later lock is new
 *
 * First run: there is nothing to compare with, so the scan records a
 * baseline and queues nothing; accounts locked or expired before pam_accessowl
 * was installed are left alone unless --initial is given, which queues
 * them too.  Accounts seen for the first time later are recorded, not
 * queued.
 *
 * Crash safety: an event is queued (durably, deduplicated by its episode
 * key, see queue.h) before the account's record is rewritten, so a crash
 * between the two makes the next scan find the same transition and the
 * same episode, which is queued already.  Reads need root or
 * CAP_DAC_READ_SEARCH (shadow); writes happen as the service user.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "cmd.h"
#include "config.h"
#include "err.h"
#include "identity.h"
#include "log.h"
#include "out.h"
#include "privdrop.h"
#include "queue.h"
#include "scanrec.h"
#include "spool.h"
#include "text.h"

/* Accounts (scanrec.h), sorted by name. */
struct accts {
	struct ao_scan_acct *v;
	size_t n, cap;
};

struct scan {
	const struct ao_config *cfg;
	bool dry, initial, baseline;
	size_t queued, ended;
	int worst;
};

static int
accts_add(struct accts *a, struct ao_scan_acct **out)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 256;
		struct ao_scan_acct *nv = reallocarray(a->v, nc, sizeof(*nv));

		if (nv == NULL)
			return AO_ERR_NOMEM;
		a->v = nv;
		a->cap = nc;
	}
	*out = &a->v[a->n++];
	memset(*out, 0, sizeof(**out));
	return AO_OK;
}

static int
cmp_acct(const void *x, const void *y)
{
	return strcmp(((const struct ao_scan_acct *)x)->name,
	    ((const struct ao_scan_acct *)y)->name);
}

static const char *
cond_name(enum ao_condition c)
{
	return c == AO_COND_LOCKED ? "locked" :
	    (c == AO_COND_EXPIRED || c == AO_COND_INACTIVE) ? "expired" : "none";
}

/*
 * Every managed account, now.  Needs to read shadow.  Deletion is judged on
 * passwd alone: an account whose shadow entry cannot be read is listed as
 * unknown, never left out (left out, it would look deleted).
 */
static int
read_accounts(const struct ao_config *cfg, struct accts *out)
{
	struct passwd *pw;
	long today = ao_today();
	int fd, r = AO_OK;

	/* NSS answers "no entry" when it cannot read the file, and
	 * nss-systemd makes up entries for root and nobody: ask the file */
	if ((fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC)) < 0 &&
	    (errno == EACCES || errno == EPERM)) {
		ao_err("cannot read /etc/shadow: run the scan as root or with "
		    "CAP_DAC_READ_SEARCH");
		return AO_ERR_PERM;
	}
	if (fd >= 0)
		close(fd);
	setpwent();
	while ((pw = getpwent()) != NULL) {
		struct ao_account_status st;
		struct spwd *sp;
		struct ao_scan_acct *a;
		const char *src;

		if ((long)pw->pw_uid < cfg->min_uid ||
		    ao_strlist_has(&cfg->exclude, pw->pw_name) ||
		    !ao_username_ok(pw->pw_name))
			continue;
		if ((r = accts_add(out, &a)) != AO_OK)
			break;
		snprintf(a->name, sizeof(a->name), "%s", pw->pw_name);
		if ((sp = getspnam(pw->pw_name)) == NULL) {
			a->unknown = true; /* nothing to judge; keep the record */
			continue;
		}
		ao_account_inspect(sp, today, &st);
		explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp));
		a->uid = (long)pw->pw_uid;
		snprintf(a->cond, sizeof(a->cond), "%s", cond_name(st.cond));
		snprintf(a->key, sizeof(a->key), "%s", st.key);
		a->nologin = ao_shell_nologin(pw->pw_shell);
		if (ao_identity_email(cfg, pw->pw_name, pw->pw_gecos, a->email,
		    sizeof(a->email), &src) != AO_OK)
			a->email[0] = '\0';
		a->source = src;
	}
	endpwent();
	if (r == AO_OK && out->n > 1)
		qsort(out->v, out->n, sizeof(out->v[0]), cmp_acct);
	return r;
}

/* What the last scan recorded; *exists false on the first run. */
static int
read_records(const struct ao_config *cfg, struct accts *out, bool *exists)
{
	char path[4200], line[1024];
	struct dirent *de;
	DIR *d;
	int r = AO_OK;

	snprintf(path, sizeof(path), "%s/accounts", cfg->state_dir);
	*exists = false;
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? AO_OK : AO_ERR_SYSTEM;
	*exists = true;
	while ((de = readdir(d)) != NULL) {
		struct ao_scan_acct *a;

		if (!ao_username_ok(de->d_name))
			continue;
		if (ao_record_read(cfg->state_dir, "accounts", de->d_name, line,
		    sizeof(line)) != AO_OK)
			continue;
		if ((r = accts_add(out, &a)) != AO_OK)
			break;
		if (!ao_scanrec_parse(de->d_name, line, a)) {
			ao_warn("%s/%s is damaged; the account is treated as "
			    "new", path, de->d_name);
			out->n--;
		}
	}
	closedir(d);
	if (r == AO_OK && out->n > 1)
		qsort(out->v, out->n, sizeof(out->v[0]), cmp_acct);
	return r;
}

static bool
enabled(const struct ao_config *cfg, const char *event)
{
	return (strcmp(event, "locked") == 0 && cfg->ev_locked) ||
	    (strcmp(event, "expired") == 0 && cfg->ev_expired) ||
	    (strcmp(event, "deleted") == 0 && cfg->ev_deleted) ||
	    (strcmp(event, "nologin") == 0 && cfg->ev_nologin);
}

/*
 * Queue (or, dry, print) one transition.  email/source: the address now;
 * remembered: the one the record holds.  AO_OK unless the spool failed.
 */
static int
transition(struct scan *s, const struct ao_scan_acct *a, const char *event,
    const char *key, const char *email, const char *source,
    const char *remembered, bool exists)
{
	struct ao_new_event ne;
	bool already = false;
	char id[33], name[128], ev[32];
	int r;

	if (!enabled(s->cfg, event))
		return AO_OK;
	if (s->dry) {
		ao_print("would queue\t%s\t%s\n", ao_sanitize(name,
		    sizeof(name), a->name), ao_sanitize(ev, sizeof(ev), event));
		s->queued++;
		return AO_OK;
	}
	memset(&ne, 0, sizeof(ne));
	ne.user = a->name;
	ne.event = event;
	ne.episode = key;
	ne.email = email;
	ne.source = source;
	ne.remembered = remembered;
	ne.exists = exists;
	ne.uid = a->uid;
	ne.service = "scan";
	if ((r = ao_queue_event(s->cfg, &ne, &already, id)) != AO_OK)
		return r;
	if (!already)
		s->queued++;
	return AO_OK;
}

static int
save(struct scan *s, const struct ao_scan_acct *a)
{
	char line[1024];

	if (s->dry)
		return AO_OK;
	ao_scanrec_format(a, line, sizeof(line));
	return ao_record_write(s->cfg->state_dir, "accounts", a->name, line);
}

/* One account present now; prev is its record or NULL. */
static int
compare(struct scan *s, const struct ao_scan_acct *cur, const struct ao_scan_acct *prev)
{
	bool bad_now = strcmp(cur->cond, "none") != 0;
	const char *mem = prev ? prev->email : "", *use = "";
	struct ao_scan_acct keep;
	char name[128], cond[32];
	int r = AO_OK;

	if (cur->unknown) {
		ao_debug("%s: no shadow entry; its record is kept", cur->name);
		return AO_OK;
	}
	if (prev == NULL) {
		if (s->baseline && s->initial && bad_now)
			r = transition(s, cur, cur->cond, cur->key, cur->email,
			    cur->source, "", true);
		else if (!s->baseline && !s->dry)
			ao_episode_end(s->cfg, cur->name); /* a reused name */
	} else {
		bool bad_then = strcmp(prev->cond, "none") != 0;

		if (!bad_then && bad_now)
			r = transition(s, cur, cur->cond, cur->key, cur->email,
			    cur->source, mem, true);
		else if (bad_then && !bad_now) {
			if (s->dry)
				ao_print("episode ends\t%s\t%s\n",
				    ao_sanitize(name, sizeof(name), cur->name),
				    ao_sanitize(cond, sizeof(cond), prev->cond));
			else
				ao_episode_end(s->cfg, cur->name);
			s->ended++;
		}
		if (r == AO_OK && !prev->nologin && cur->nologin && !bad_now)
			r = transition(s, cur, "nologin", "nologin", cur->email,
			    cur->source, mem, true);
		if (r == AO_OK && prev->nologin && !cur->nologin && !bad_now &&
		    !s->dry)
			ao_episode_end(s->cfg, cur->name);
	}
	if (r != AO_OK)
		return r;
	/*
	 * The address the record keeps never changes silently: GECOS losing
	 * it keeps it, GECOS giving another keeps it too (the event, if any,
	 * waits for the administrator: see person.h).
	 */
	keep = *cur;
	switch (ao_identity_settle(cur->email, cur->source, mem, true, &use)) {
	case AO_ADDR_CONFLICT:
		ao_log(LOG_NOTICE, "account %s: GECOS now gives %s, but %s is "
		    "remembered; kept until identity.map decides", cur->name,
		    cur->email, mem);
		/* fall through */
	default:
		snprintf(keep.email, sizeof(keep.email), "%s", use);
	}
	if (prev == NULL || strcmp(prev->cond, keep.cond) != 0 ||
	    strcmp(prev->key, keep.key) != 0 || prev->nologin != keep.nologin ||
	    strcmp(prev->email, keep.email) != 0 || prev->uid != keep.uid)
		return save(s, &keep);
	return AO_OK;
}

static int
gone(struct scan *s, const struct ao_scan_acct *prev)
{
	const char *src = NULL;
	char now[320];
	int r;

	/* no GECOS any more: identity.map (or email_domain) only */
	if (ao_identity_email(s->cfg, prev->name, NULL, now, sizeof(now),
	    &src) != AO_OK)
		now[0] = '\0';
	if ((r = transition(s, prev, "deleted", "deleted", now, src,
	    prev->email, false)) != AO_OK)
		return r;
	if (!s->dry)
		(void)ao_record_remove(s->cfg->state_dir, "accounts", prev->name);
	return AO_OK;
}

int
cmd_scan(const struct ao_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "initial", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct accts cur = { 0 }, prev = { 0 };
	struct ao_config cfg;
	struct scan s;
	bool root = geteuid() == 0, exists;
	uid_t su = 0;
	gid_t sg = 0;
	size_t i = 0, j = 0;
	int c, r;

	memset(&s, 0, sizeof(s));
	memset(&cfg, 0, sizeof(cfg));
	optind = 1;
	while ((c = getopt_long(argc, argv, "ni", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': s.dry = true; break;
		case 'i': s.initial = true; break;
		default: return AO_ERR_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: accessowl-helper scan [--dry-run] "
		    "[--initial]\n");
		return AO_ERR_USAGE;
	}
	if ((r = ao_config_load(&cfg, o->config_path)) != AO_OK)
		goto out;
	s.cfg = &cfg;
	if (root && (r = ao_service_user(cfg.user, &su, &sg)) != AO_OK)
		goto out;
	if ((r = read_accounts(&cfg, &cur)) != AO_OK)
		goto out;
	if (!s.dry && ((r = ao_spool_prepare(cfg.spool_dir, root, su, sg)) ||
	    (r = ao_dir_prepare(cfg.state_dir, root, su, sg))))
		goto out;
	if ((r = ao_privdrop(su, sg)) != AO_OK)
		goto out;
	if ((r = read_records(&cfg, &prev, &exists)) != AO_OK) {
		ao_err("cannot read %s/accounts: %s", cfg.state_dir,
		    ao_strerror(r));
		goto out;
	}
	s.baseline = !exists;
	/* walk both sorted lists together */
	while (r == AO_OK && (i < cur.n || j < prev.n)) {
		int d = i == cur.n ? 1 : j == prev.n ? -1 :
		    strcmp(cur.v[i].name, prev.v[j].name);

		if (d < 0)
			r = compare(&s, &cur.v[i++], NULL);
		else if (d == 0)
			r = compare(&s, &cur.v[i++], &prev.v[j++]);
		else
			r = gone(&s, &prev.v[j++]);
	}
	if (r != AO_OK)
		goto out;
	if (s.baseline && !s.dry)
		ao_info("first scan: baseline of %zu accounts recorded%s",
		    cur.n, s.initial ? "" : "; accounts locked or expired "
		    "already were left alone (use --initial to queue them)");
	ao_info("scan: %zu accounts, %zu events %s, %zu episodes ended", cur.n,
	    s.queued, s.dry ? "would be queued" : "queued", s.ended);
	if (s.dry)
		ao_print("%zu accounts scanned; %zu events would be queued%s\n",
		    cur.n, s.queued, s.baseline ? " (first scan: baseline)" :
		    "");
out:
	free(cur.v);
	free(prev.v);
	ao_config_free(&cfg);
	return r;
}
