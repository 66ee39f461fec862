/*
 * accessowl-helper status [--json | --prometheus] [--output FILE]: queued,
 * parked and delivered events per account, with their reasons and each
 * revocation's status (a relay host: forwarded ones; a collector: the
 * hosts that reported them), or metrics (metrics.h).  Reads the spool
 * only; no network.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "deliver.h"
#include "err.h"
#include "spool_json.h"
#include "log.h"
#include "metrics.h"
#include "out.h"
#include "scanstate.h"
#include "session.h"
#include "spool.h"
#include "text.h"
#include "wire.h"

#define entry ao_spool_entry

/* Where an event is, for people: a relay host's done/ is "forwarded". */
static const char *
where(const struct entry *e)
{
	return e->q == AO_Q_DONE && e->ev.forwarded > 0 ? "forwarded" :
	    ao_queue_name(e->q);
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->ev.user, y->ev.user);

	if (c != 0)
		return c;
	return x->ev.created < y->ev.created ? -1 : x->ev.created > y->ev.created;
}

/* By id, and for one id the copy that is the event (ao_queue_rank()) first. */
static int
cmp_id(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->ev.id, y->ev.id);

	return c != 0 ? c : ao_queue_rank(y->q) - ao_queue_rank(x->q);
}

/*
 * An interrupted move of an older version left an event in two queues
 * (spool.h): list it once, as the copy the deliverer acts on.  Returns the
 * new count.
 */
static size_t
once_each(struct entry *e, size_t n)
{
	size_t i, k = 0;

	if (n < 2)
		return n;
	qsort(e, n, sizeof(*e), cmp_id);
	for (i = 0; i < n; i++) {
		if (k > 0 && strcmp(e[k - 1].ev.id, e[i].ev.id) == 0) {
			ao_event_free(&e[i].ev);
			continue;
		}
		e[k++] = e[i];
	}
	return k;
}

static void
fmt_time(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, n, "-");
}

/* One line per access state: application, what we did, the revocation
 * and where it stands. */
static void
print_states(const struct ao_event_rec *ev, const struct ao_rev_index *ix)
{
	static const char *const did[] = {
		[AO_ST_PENDING] = "not filed yet", [AO_ST_FILED] = "filed",
		[AO_ST_EARLIER] = "filed earlier", [AO_ST_FAILED] = "refused",
		[AO_ST_COVERED] = "already pending",
	};
	size_t i;

	for (i = 0; i < ev->nstates; i++) {
		const struct ao_ev_state *s = &ev->states[i];
		char app[48], rid[80], st[40], why[300], next[32];
		const char *known;

		ao_sanitize(app, sizeof(app), s->app_title ? s->app_title :
		    s->app_id ? s->app_id : "?");
		ao_sanitize(rid, sizeof(rid), s->revocation_id ?
		    s->revocation_id : "-");
		/* what the revocation became, also when another event of
		 * the spool learnt it (this one was covered by it) */
		known = ao_rev_index_status(ix, s->revocation_id);
		ao_sanitize(st, sizeof(st), known ? known :
		    s->revocation_status ? s->revocation_status : "");
		ao_sanitize(why, sizeof(why), s->revocation_reason ?
		    s->revocation_reason : s->error ? s->error : "");
		ao_print("    %-24s %-15s revocation %s%s%s%s%s", app,
		    did[s->status], rid, st[0] ? " " : "", st,
		    why[0] ? ": " : "", why);
		if (s->next_check > 0) {
			fmt_time(s->next_check, next, sizeof(next));
			ao_print(" (asked %ld times; next %s)", s->checks, next);
		}
		ao_print("\n");
	}
}

static void
print_text(const struct entry *e, size_t n)
{
	long long now = (long long)time(NULL);
	struct ao_rev_index ix;
	size_t i, j;

	if (n == 0) {
		ao_print("no events\n");
		return;
	}
	if (ao_rev_index_build(e, n, &ix) != AO_OK)
		memset(&ix, 0, sizeof(ix));  /* each event's own view, then */
	ao_print("%-16s %-9s %-9s %-19s %-7s %s\n", "ACCOUNT", "EVENT", "QUEUE",
	    "SINCE", "STATES", "DETAIL");
	for (i = 0; i < n; i++) {
		const struct ao_event_rec *ev = &e[i].ev;
		char since[32], next[32], user[64], evname[32], err[800];
		char states[32];
		size_t done = 0, rejected;

		for (j = 0; j < ev->nstates; j++)
			if (ao_st_done(ev->states[j].status))
				done++;
		if (ev->listed)
			snprintf(states, sizeof(states), "%zu/%zu", done,
			    ev->nstates);
		else
			snprintf(states, sizeof(states), "-");
		fmt_time(ev->created, since, sizeof(since));
		ao_sanitize(user, sizeof(user), ev->user);
		ao_sanitize(evname, sizeof(evname), ev->event);
		ao_sanitize(err, sizeof(err), ev->error ? ev->error : "");
		ao_print("%-16s %-9s %-9s %-19s %-7s ", user, evname,
		    where(&e[i]), since, states);
		if (ev->received > 0) {
			char host[AO_HOST_MAX + 1];

			ao_sanitize(host, sizeof(host), ev->host);
			ao_print("from %s: ", host);
		}
		if (e[i].q == AO_Q_QUEUE) {
			long long due = ao_event_due(ev, now);

			fmt_time(due, next, sizeof(next));
			ao_print("attempts %ld%s%s%s%s", ev->attempts,
			    due > now ? ", next " : "", due > now ? next : "",
			    err[0] ? ": " : "", err);
			if (now - ev->created > AO_ALARM_AGE)
				ao_print(" [ALARM: older than 13 days]");
		} else if (ev->covered_by != NULL) {
			ao_print("covered by event %.32s", ev->covered_by);
		} else {
			ao_print("%s", err);
		}
		for (j = 0, rejected = 0; j < ev->nstates; j++) {
			const char *st = ao_rev_index_status(&ix,
			    ev->states[j].revocation_id);

			if (st == NULL)
				st = ev->states[j].revocation_status;
			rejected += st != NULL && strcmp(st, "rejected") == 0;
		}
		if (rejected > 0)
			ao_print("%s[%zu REJECTED by AccessOwl]", err[0] ? " " :
			    "", rejected);
		ao_print("\n");
		print_states(ev, &ix);
	}
	ao_rev_index_free(&ix);
}

/* The scan's guard holds deletions (scanstate.h): say so first. */
static void
print_held(const struct ao_scan_held *h)
{
	char since[32];

	if (h->held == 0)
		return;
	fmt_time(h->since, since, sizeof(since));
	ao_print("HELD: %zu of %zu managed accounts vanished from the account "
	    "database at once (since %s: %s); none of their deletions is "
	    "queued.  Check the account database; if they really were "
	    "deleted, run: accessowl-helper scan --confirm-deletions\n",
	    h->held, h->kept, since, h->names);
}

struct host_sum {
	const char *host;
	size_t events;
	long long last;
	const char *via;
};

/*
 * A collector: which relay hosts reported, how often, when last and from
 * which address.  Nothing when no event came through the relay.
 */
static void
print_hosts(const struct entry *e, size_t n)
{
	struct host_sum *h = NULL;
	size_t nh = 0, i, j;

	for (i = 0; i < n; i++) {
		const struct ao_event_rec *ev = &e[i].ev;
		struct host_sum *nv;

		if (ev->received <= 0)
			continue;
		for (j = 0; j < nh && strcmp(h[j].host, ev->host) != 0; j++)
			;
		if (j == nh) {
			if ((nv = reallocarray(h, nh + 1, sizeof(*h))) == NULL)
				break;
			h = nv;
			h[nh++] = (struct host_sum){ ev->host, 0, 0, NULL };
		}
		h[j].events++;
		if (ev->received >= h[j].last) {
			h[j].last = ev->received;
			h[j].via = ev->via;
		}
	}
	if (nh == 0) {
		free(h);
		return;
	}
	ao_print("\n%-32s %-7s %-19s %s\n", "REPORTING HOST", "EVENTS",
	    "LAST", "FROM");
	for (j = 0; j < nh; j++) {
		char last[32], host[AO_HOST_MAX + 1], via[64];

		fmt_time(h[j].last, last, sizeof(last));
		ao_sanitize(host, sizeof(host), h[j].host);
		ao_sanitize(via, sizeof(via), h[j].via ? h[j].via : "-");
		ao_print("%-32s %-7zu %-19s %s\n", host, h[j].events, last, via);
	}
	free(h);
}

/* The spool files that are no events it can take: deliver skips them. */
static void
print_damaged(const struct ao_spool_damaged *d, size_t nd)
{
	size_t i;

	if (nd == 0)
		return;
	ao_print("\nDAMAGED SPOOL FILES (%zu; skipped: move each aside and "
	    "check it by hand)\n", nd);
	for (i = 0; i < nd; i++) {
		char name[256], why[AO_SPOOL_WHY];

		ao_sanitize(name, sizeof(name), d[i].name);
		ao_sanitize(why, sizeof(why), d[i].why);
		ao_print("%s/%s: %s\n", ao_queue_dir(d[i].q), name, why);
	}
}

/* Remember q/name as damaged, and why.  AO_OK or AO_ERR_NOMEM. */
static int
add_damaged(struct ao_spool_damaged **d, size_t *nd, enum ao_queue q,
    const char *name, const char *why)
{
	struct ao_spool_damaged *nv = reallocarray(*d, *nd + 1, sizeof(**d));

	if (nv == NULL)
		return AO_ERR_NOMEM;
	*d = nv;
	nv[*nd].q = q;
	snprintf(nv[*nd].name, sizeof(nv[*nd].name), "%s", name);
	snprintf(nv[*nd].why, sizeof(nv[*nd].why), "%s", why);
	(*nd)++;
	return AO_OK;
}

enum format { FMT_TEXT, FMT_JSON, FMT_PROMETHEUS };

/* Read the spool, print it as fmt. */
static int
report(const struct ao_opts *o, enum format fmt)
{
	struct ao_spool sp = { .fd = { -1, -1, -1 }, .lockfd = -1, .rootfd = -1 };
	struct ao_session ss;
	struct entry *e = NULL;
	struct ao_spool_damaged *d = NULL;
	struct ao_counters cnt;
	struct ao_scan_held held;
	long long hold = 0;
	size_t n = 0, cap = 0, i, nd = 0, damaged[AO_Q_COUNT] = { 0 };
	int q, r, g, later = AO_OK;

	memset(&ss, 0, sizeof(ss));
	memset(&cnt, 0, sizeof(cnt));
	if ((r = ao_session_open(&ss, o->config_path, 0)) != AO_OK ||
	    (r = ao_session_drop(&ss)) != AO_OK)
		goto out;
	ao_counters_read(ss.cfg.state_dir, &cnt);
	if (ao_scan_held_read(ss.cfg.state_dir, &held) != AO_OK)
		memset(&held, 0, sizeof(held));
	/* no spool yet (nothing ever queued): an empty list, not an error */
	if (access(ss.cfg.spool_dir, F_OK) != 0 && errno == ENOENT)
		goto print;
	if ((r = ao_spool_open(ss.cfg.spool_dir, &sp)) != AO_OK)
		goto out;
	hold = ao_spool_hold(&sp);
	for (q = 0; q < AO_Q_COUNT; q++) {
		char **names = NULL;
		size_t k = 0;

		if ((r = ao_spool_list(&sp, q, &names, &k)) != AO_OK)
			goto out;
		for (i = 0; i < k; i++) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 32;
				struct entry *ne = reallocarray(e, nc, sizeof(*e));

				if (ne == NULL) {
					ao_names_free(names, k);
					r = AO_ERR_NOMEM;
					goto out;
				}
				e = ne;
				cap = nc;
			}
			if ((g = ao_spool_get(&sp, q, names[i],
			    &e[n].ev)) != AO_OK) {
				ao_event_free(&e[n].ev);
				/* damaged: listed; unreadable now: this
				 * report is incomplete, and says so */
				if (g == AO_ERR_DATA) {
					damaged[q]++;
					g = add_damaged(&d, &nd, q, names[i],
					    sp.why);
				} else if (g != AO_ERR_NOTFOUND) {
					ao_spool_report(&sp, q, names[i], g);
					later = AO_ERR_TEMP;
					g = AO_OK;
				}
				if (g == AO_ERR_NOMEM) {
					ao_names_free(names, k);
					r = g;
					goto out;
				}
				continue;
			}
			e[n++].q = q;
		}
		ao_names_free(names, k);
	}
	n = once_each(e, n);
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_entry);
print:
	if (fmt == FMT_JSON) {
		struct ao_event_rec *evs = calloc(n ? n : 1, sizeof(*evs));
		const char **wh = calloc(n ? n : 1, sizeof(*wh));
		char *text = NULL;

		for (i = 0; evs && wh && i < n; i++) {
			evs[i] = e[i].ev;
			wh[i] = where(&e[i]);
		}
		r = evs && wh ? ao_spool_json_status(evs, wh, n, d, nd,
		    &text) : AO_ERR_NOMEM;
		if (r == AO_OK)
			ao_print("%s\n", text);
		free(text);
		free(evs);
		free(wh);
	} else if (fmt == FMT_PROMETHEUS) {
		ao_metrics_print(e, n, damaged, &cnt, hold, held.held,
		    (long long)time(NULL));
	} else {
		print_held(&held);
		print_text(e, n);
		print_hosts(e, n);
		print_damaged(d, nd);
	}
	if (r == AO_OK)
		r = later;
out:
	for (i = 0; i < n; i++)
		ao_event_free(&e[i].ev);
	free(e);
	free(d);
	if (sp.rootfd >= 0)
		ao_spool_close(&sp);
	ao_session_close(&ss);
	return r;
}

#define OUTPUT_MAX (16u * 1024 * 1024)

/*
 * --output FILE: the report replaces FILE atomically (a temporary file in
 * its directory, fsync, rename), so node_exporter never reads half of it;
 * FILE is mode 0644, for node_exporter's user.
 * The report is made by a child, which drops privileges as any command
 * does; this process keeps what it was started with only to write FILE
 * (the textfile directory is often not the service user's).
 */
/*
 * The directory of --output, opened one component at a time from "/": a
 * symbolic link is followed only where the directory holding it is
 * root's, so that a user who owns a directory on the way (node_exporter's
 * textfile directory is often another user's) cannot send root's write
 * somewhere else.  An fd, or -1 (logged).
 */
static int
open_output_dir(const char *dir)
{
	char copy[4096], *c, *next;
	struct stat st;
	bool mine;
	int fd, nfd;

	snprintf(copy, sizeof(copy), "%s", dir);
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	for (c = copy; *c != '\0'; c = next) {
		if ((next = strchr(c, '/')) != NULL)
			*next++ = '\0';
		else
			next = c + strlen(c);
		if (*c == '\0' || strcmp(c, ".") == 0)
			continue;
		if (fstat(fd, &st) != 0)
			goto fail;
		/* root's and writable by no one else (not /tmp): its
		 * links are the administrator's */
		mine = st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH));
		nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		    (mine ? 0 : O_NOFOLLOW));
		if (nfd < 0 && (errno == ELOOP || errno == ENOTDIR) && !mine) {
			ao_err("cannot write into %s: %s is a symbolic link (or "
			    "no directory) in a directory that others than root "
			    "can write (uid %lu, mode %04o): name the real "
			    "directory", dir, c, (unsigned long)st.st_uid,
			    (unsigned)(st.st_mode & 07777));
			close(fd);
			return -1;
		}
		close(fd);
		if ((fd = nfd) < 0)
			goto fail;
	}
	return fd;
fail:
	ao_err("cannot open %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
report_to(const struct ao_opts *o, enum format fmt, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096], tmp[64], *buf = NULL;
	size_t len = 0, cap = 0;
	int p[2], dfd = -1, fd = -1, st = 0, r = AO_ERR_SYSTEM;
	pid_t pid;

	if (slash == NULL || slash[1] == '\0' ||
	    (size_t)(slash - path) >= sizeof(dir)) {
		ao_err("--output wants an absolute file name, e.g. "
		    "/var/lib/prometheus/node-exporter/accessowl.prom");
		return AO_ERR_USAGE;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if ((dfd = open_output_dir(dir)) < 0)
		return AO_ERR_CONFIG;
	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		ao_err("cannot start the report: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(ao_exit_code(AO_ERR_SYSTEM));
		r = report(o, fmt);
		fflush(stdout);
		_exit(ao_exit_code(r));
	}
	close(p[1]);
	for (;;) {
		ssize_t k;

		if (len == cap) {
			char *nb = cap < OUTPUT_MAX ? realloc(buf, cap ? cap * 2 :
			    65536) : NULL;

			if (nb == NULL)
				break;
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		k = read(p[0], buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		ao_err("the report failed; %s is left as it was", path);
		r = AO_ERR_TEMP;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), ".accessowl-%ld.tmp", (long)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	/* 0644 whatever the umask (the helper's is 077): node_exporter reads
	 * the file as its own user */
	if (fd < 0 || fchmod(fd, 0644) != 0 ||
	    (len > 0 && write(fd, buf, len) != (ssize_t)len) ||
	    fsync(fd) != 0 || close(fd) != 0 ||
	    renameat(dfd, tmp, dfd, slash + 1) != 0) {
		ao_err("cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			(void)unlinkat(dfd, tmp, 0);
		goto out;
	}
	(void)fsync(dfd);
	r = AO_OK;
out:
	free(buf);
	close(dfd);
	return r;
}

int
cmd_status(const struct ao_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	enum format fmt = FMT_TEXT;
	const char *output = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jpo:", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': fmt = FMT_JSON; break;
		case 'p': fmt = FMT_PROMETHEUS; break;
		case 'o': output = optarg; break;
		default: return AO_ERR_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: accessowl-helper status [--json | "
		    "--prometheus] [--output FILE]\n");
		return AO_ERR_USAGE;
	}
	return output ? report_to(o, fmt, output) : report(o, fmt);
}
