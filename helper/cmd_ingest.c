/*
 * accessowl-helper ingest: the collector's end of the fleet relay.  rsyslog
 * receives the relay hosts' events over RELP (imrelp) and hands them to
 * this command through omprog with confirmMessages="on" (see
 * conf/rsyslog/accessowl-collector.conf); it files nothing itself: it puts
 * each event in the spool, where `deliver` takes it like any other.
 *
 * Protocol (omprog's): once set up, one line "OK"; then, for each line on
 * stdin (one message: the JSON object from its first '{', see wire.h), one
 * line on stdout:
 *
 *   OK        the event is durably in the spool, or was already (rsyslog
 *             and relay hosts send a message again after a crash or a
 *             timeout: a host's event is kept once, by its id; the copy
 *             found is synced to disk before this answer);
 *   ERROR: …  rsyslog keeps the message and sends it again later.
 *
 * A message refused for good (malformed, a host not in collector.hosts) is
 * logged, answered with an error, and answered OK when it comes again, so
 * it never stalls the pipeline for good; and never more than one such
 * error answer a minute, so a host sending garbage cannot hold up the
 * others' events (the rest are logged and answered OK).  A failure of our
 * own (the spool cannot be written) is always an error: the message waits
 * in rsyslog's queue, not lost.
 *
 * Trust: a message is what a host says.  A host can only report events;
 * the worst a compromised one can do is report false ones, which are
 * logged with the host name it gave and the address rsyslog saw.  How
 * many different people one sender may name in an hour is bounded
 * (collector.sender_people_per_hour, budget.h): beyond it, its new events
 * are parked for the administrator, kept but not filed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "cmd.h"
#include "err.h"
#include "kick.h"
#include "log.h"
#include "session.h"
#include "spool.h"
#include "text.h"
#include "wire.h"

#define REFUSED_MEMORY 64     /* refused messages remembered (digests) */
#define ERROR_INTERVAL 60     /* seconds between two refusal answers */
#define SHOW_MAX 160          /* bytes of a refused message in the log */

struct ingest {
	struct ao_session run;
	struct ao_spool sp;
	struct ao_budget *budget;
	const char *config_path;
	unsigned long long refused[REFUSED_MEMORY];
	size_t nrefused;
	long long last_error_answer;
	bool queued;          /* something new since the last deliverer kick */
	unsigned long taken, dups, bad, parked;
};

/* FNV-1a, 64 bits: recognises a message sent again. */
static unsigned long long
digest(const char *s, size_t n)
{
	unsigned long long h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
answer(const char *line)
{
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* "ADDR " before the message: the sender's address as rsyslog saw it
 * (the shipped template puts %fromhost-ip% there).  Else "". */
static void
sender(const char *line, size_t len, char *out, size_t outsz)
{
	const char *sp = memchr(line, ' ', len < 64 ? len : 64);
	unsigned char buf[sizeof(struct in6_addr)];
	char a[64];

	out[0] = '\0';
	if (sp == NULL || (size_t)(sp - line) >= sizeof(a) ||
	    (size_t)(sp - line) >= outsz)
		return;
	memcpy(a, line, (size_t)(sp - line));
	a[sp - line] = '\0';
	if (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1)
		snprintf(out, outsz, "%s", a);
}

/* A message refused for good: see the top of the file. */
static void
refuse(struct ingest *in, const char *line, size_t len, const char *via,
    const char *why)
{
	unsigned long long d = digest(line, len);
	long long now = (long long)time(NULL);
	char show[SHOW_MAX + 1], msg[512];
	size_t i;

	for (i = 0; i < in->nrefused && i < REFUSED_MEMORY; i++)
		if (in->refused[i] == d) {
			ao_debug("a refused message came again: answered OK");
			answer("OK");
			return;
		}
	in->refused[in->nrefused++ % REFUSED_MEMORY] = d;
	in->bad++;
	snprintf(show, sizeof(show), "%.*s", (int)(len < SHOW_MAX ? len :
	    SHOW_MAX), line);
	ao_err("refused a relay message%s%s: %s; it is dropped (message: "
	    "\"%s%s\")", via[0] ? " from " : "", via, why, show,
	    len > SHOW_MAX ? "..." : "");
	if (now - in->last_error_answer >= ERROR_INTERVAL) {
		in->last_error_answer = now;
		ao_sanitize(show, sizeof(show), why);
		snprintf(msg, sizeof(msg), "ERROR: refused: %s", show);
		answer(msg);
	} else {
		answer("OK");
	}
}

static bool
host_allowed(const struct ao_config *cfg, const char *host)
{
	size_t i;

	if (cfg->collector_hosts.n == 0)
		return true;
	for (i = 0; i < cfg->collector_hosts.n; i++)
		if (fnmatch(cfg->collector_hosts.v[i], host, FNM_CASEFOLD) == 0)
			return true;
	return false;
}

enum kept { KEPT_NEW, KEPT_ALREADY, KEPT_OTHER_HOST, KEPT_UNSURE };

#define KEPT_TRIES 3  /* looks, when a delivery moves the file meanwhile */

/*
 * Is a host's event with this id in the spool already?  The file name
 * comes from the event itself; another host's event of the same id is a
 * replay or a forgery.  "Already" only once the copy there is durable:
 * the ingest that wrote it may have died after its rename, before its
 * fsync of the directory, and answering OK would let the relay host drop
 * its own copy (KEPT_UNSURE, logged, when it cannot be made durable or
 * its queue cannot be read).  The caller holds the spool's queue lock.
 */
static enum kept
kept(struct ingest *in, const struct ao_event_rec *ev, char *other,
    size_t othersz)
{
	char name[128];
	int q, tries, r;

	ao_event_filename(ev, name, sizeof(name));
	for (tries = 0; tries < KEPT_TRIES; tries++) {
		for (q = 0; q < AO_Q_COUNT; q++) {
			struct ao_event_rec have;
			struct stat st;
			enum kept k = KEPT_ALREADY;

			if (fstatat(in->sp.fd[q], name, &st,
			    AT_SYMLINK_NOFOLLOW) != 0) {
				if (errno == ENOENT)
					continue;
				ao_err("cannot look for event %s from host %s "
				    "in %s/: %s; rsyslog sends it again",
				    ev->id, ev->host, ao_queue_name(
				    (enum ao_queue)q), strerror(errno));
				return KEPT_UNSURE;
			}
			r = ao_spool_get(&in->sp, (enum ao_queue)q, name, &have);
			if (r == AO_OK) {
				k = strcmp(have.host, ev->host) == 0 ?
				    KEPT_ALREADY : KEPT_OTHER_HOST;
				snprintf(other, othersz, "%s", have.host);
			}
			ao_event_free(&have);
			if (r == AO_ERR_NOTFOUND)
				break;  /* moved meanwhile: look again */
			if (k == KEPT_OTHER_HOST)
				return k;
			/* (a damaged copy counts as kept: `deliver` says so) */
			r = ao_spool_sync(&in->sp, (enum ao_queue)q, name);
			if (r == AO_ERR_NOTFOUND)
				break;
			if (r == AO_ERR_SYSTEM) {
				ao_err("event %s from host %s is in %s/, but "
				    "cannot be made durable there: %s; rsyslog "
				    "sends it again", ev->id, ev->host,
				    ao_queue_name((enum ao_queue)q),
				    strerror(errno));
				return KEPT_UNSURE;
			}
			return KEPT_ALREADY;
		}
		if (q == AO_Q_COUNT)
			return KEPT_NEW;
	}
	ao_err("event %s from host %s kept moving between queues while "
	    "ingest looked for it; rsyslog sends it again", ev->id, ev->host);
	return KEPT_UNSURE;
}

/*
 * Within its sender's budget?  The sender: the address rsyslog saw, else
 * the host name the message gives; the person: the address, else the
 * account on that host.  When not, ev is marked for the parked queue.
 */
static enum ao_queue
budget_queue(struct ingest *in, struct ao_event_rec *ev, const char *via)
{
	char sender[AO_HOST_MAX + 8], person[512], why[512];

	if (via[0] != '\0')
		snprintf(sender, sizeof(sender), "%s", via);
	else
		snprintf(sender, sizeof(sender), "host %s", ev->host);
	if (ev->email[0] != '\0')
		snprintf(person, sizeof(person), "%s", ev->email);
	else
		snprintf(person, sizeof(person), "%s@%s", ev->user, ev->host);
	if (ao_budget_admit(in->budget, sender, person, ev->received))
		return AO_Q_QUEUE;
	snprintf(why, sizeof(why), "sender %s reported more than %ld "
	    "different people within an hour (collector."
	    "sender_people_per_hour): parked until an administrator checks "
	    "that host; then: accessowl-helper deliver --retry-parked",
	    sender, in->run.cfg.collector_people_per_hour);
	if (ao_set(&ev->error, why) != AO_OK)
		return AO_Q_COUNT;
	return AO_Q_PARKED;
}

/* One message: refuse, keep once, or fail (then rsyslog sends it again). */
static void
one(struct ingest *in, const char *line, size_t len)
{
	struct ao_event_rec ev;
	char why[256], via[64], other[AO_HOST_MAX + 1];
	enum ao_queue q = AO_Q_QUEUE;
	enum kept k;
	int r;

	sender(line, len, via, sizeof(via));
	if (ao_event_init(&ev) != AO_OK) {
		answer("ERROR: out of memory");
		return;
	}
	if ((r = ao_wire_decode(line, len, &ev, why, sizeof(why))) != AO_OK) {
		if (r == AO_ERR_DATA)
			refuse(in, line, len, via, why);
		else
			answer("ERROR: out of memory");
		goto out;
	}
	if (!host_allowed(&in->run.cfg, ev.host)) {
		snprintf(why, sizeof(why), "host %s is not in collector.hosts",
		    ev.host);
		refuse(in, line, len, via, why);
		goto out;
	}
	ev.received = (long long)time(NULL);
	if (via[0] != '\0' && ao_set(&ev.via, via) != AO_OK) {
		answer("ERROR: out of memory");
		goto out;
	}
	/* one ingest at a time decides and writes (omprog may run several) */
	if (flock(in->sp.rootfd, LOCK_EX) != 0) {
		answer("ERROR: cannot lock the spool");
		goto out;
	}
	k = kept(in, &ev, other, sizeof(other));
	if (k == KEPT_NEW && (q = budget_queue(in, &ev, via)) == AO_Q_COUNT)
		r = AO_ERR_NOMEM;
	else if (k == KEPT_NEW)
		r = ao_spool_put(&in->sp, q, &ev);
	(void)flock(in->sp.rootfd, LOCK_UN);
	if (k == KEPT_UNSURE) {
		answer("ERROR: cannot make sure the event is kept");
		goto out;
	}
	if (k == KEPT_OTHER_HOST) {
		snprintf(why, sizeof(why), "host %s sent event id %s, which "
		    "host %s sent before: a replay or a forgery", ev.host,
		    ev.id, other);
		refuse(in, line, len, via, why);
		goto out;
	}
	if (k == KEPT_ALREADY) {
		in->dups++;
		ao_debug("event %s from host %s is in the spool already",
		    ev.id, ev.host);
		answer("OK");
		goto out;
	}
	if (r != AO_OK) {
		ao_err("cannot put event %s from host %s in the spool: %s; "
		    "rsyslog keeps it and sends it again", ev.id, ev.host,
		    ao_strerror(r));
		answer("ERROR: cannot write the spool");
		goto out;
	}
	if (q == AO_Q_PARKED) {
		in->parked++;
		ao_err("host %s%s%s%s reported account %s %s (person %s): "
		    "event %s parked: %s", ev.host, via[0] ? " (from " : "", via,
		    via[0] ? ")" : "", ev.user, ev.event, ev.email, ev.id,
		    ev.error);
		answer("OK");
		goto out;
	}
	in->taken++;
	in->queued = true;
	ao_info("host %s%s%s%s reported account %s %s (person %s): event %s "
	    "queued", ev.host, via[0] ? " (from " : "", via, via[0] ? ")" :
	    "", ev.user, ev.event, ev.email, ev.id);
	answer("OK");
out:
	ao_event_free(&ev);
}

/*
 * stdin, read with read(2) into our own buffer: a line longer than
 * AO_WIRE_MAX is cut there (the rest skipped, the line refused), and we
 * know when nothing more is waiting.
 */
struct reader {
	char buf[65536];
	size_t start, end;
	bool eof;
};

static bool
fill(struct reader *rd)
{
	ssize_t n;

	if (rd->start > 0) {
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->end -= rd->start;
		rd->start = 0;
	}
	do
		n = read(STDIN_FILENO, rd->buf + rd->end, sizeof(rd->buf) - rd->end);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		rd->eof = true;
		return false;
	}
	rd->end += (size_t)n;
	return true;
}

/* The next line (without its end) into line[AO_WIRE_MAX + 2]; *len is
 * AO_WIRE_MAX + 1 for a longer one.  false at the end of input. */
static bool
next_line(struct reader *rd, char *line, size_t *len)
{
	size_t n = 0;

	for (;;) {
		char *nl;
		size_t take;

		if (rd->start == rd->end && (rd->eof || !fill(rd)))
			break;
		nl = memchr(rd->buf + rd->start, '\n', rd->end - rd->start);
		take = (nl ? (size_t)(nl - rd->buf) : rd->end) - rd->start;
		if (n + take > AO_WIRE_MAX + 1)
			take = n > AO_WIRE_MAX + 1 ? 0 : AO_WIRE_MAX + 1 - n;
		memcpy(line + n, rd->buf + rd->start, take);
		n += take;
		if (nl != NULL) {
			rd->start = (size_t)(nl - rd->buf) + 1;
			goto done;
		}
		rd->start = rd->end;
	}
	if (n == 0)
		return false;
done:
	while (n > 0 && n <= AO_WIRE_MAX && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	*len = n;
	return true;
}

/* Nothing more waiting on stdin right now? */
static bool
idle(const struct reader *rd)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	return rd->start == rd->end && poll(&p, 1, 0) == 0;
}

int
cmd_ingest(const struct ao_opts *o, int argc, char **argv)
{
	struct reader *rd = NULL;
	struct ingest *in;
	char *line = NULL;
	size_t len;
	int r;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: accessowl-helper ingest  (run by "
		    "rsyslog's omprog; see accessowl-helper(8))\n");
		return AO_ERR_USAGE;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (rd = calloc(1, sizeof(*rd))) == NULL ||
	    (line = malloc(AO_WIRE_MAX + 2)) == NULL) {
		free(in);
		free(rd);
		return AO_ERR_NOMEM;
	}
	in->sp = (struct ao_spool){ .fd = { -1, -1, -1 }, .lockfd = -1,
	    .rootfd = -1 };
	in->config_path = o->config_path;
	/* an error here answers nothing: omprog restarts us later */
	if ((r = ao_session_open(&in->run, o->config_path,
	    AO_SESSION_DIRS)) != AO_OK ||
	    (r = ao_session_drop(&in->run)) != AO_OK ||
	    (r = ao_spool_open(in->run.cfg.spool_dir, &in->sp)) != AO_OK)
		goto out;
	if ((in->budget = ao_budget_new(in->run.cfg.collector_people_per_hour))
	    == NULL) {
		r = AO_ERR_NOMEM;
		goto out;
	}
	answer("OK");
	while (next_line(rd, line, &len)) {
		one(in, line, len);
		if (in->queued && idle(rd)) {
			in->queued = false;
			ao_delivery_start(in->config_path);
		}
	}
	if (in->queued)
		ao_delivery_start(in->config_path);
	ao_info("ingest: %lu events taken, %lu parked over a sender's budget, "
	    "%lu already kept, %lu refused", in->taken, in->parked, in->dups,
	    in->bad);
	r = AO_OK;
out:
	free(line);
	free(rd);
	ao_budget_free(in->budget);
	if (in->sp.rootfd >= 0)
		ao_spool_close(&in->sp);
	ao_session_close(&in->run);
	free(in);
	return r;
}
