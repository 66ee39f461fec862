/*
 * accessowl.conf (libconfig syntax).  The only file that includes libconfig
 * is config.c.  Every key, its type, range and default is in the table in
 * config.c and documented in conf/accessowl.conf and accessowl.conf(5).
 *
 * A config that cannot be read, has an unknown key, a wrong type or an
 * out-of-range value is an error (exit 78) naming file, line and the
 * problem: never a quiet default.
 */
#ifndef AO_CONFIG_H
#define AO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

#define AO_DEFAULT_CONFIG "/etc/accessowl/accessowl.conf"

struct ao_map_entry {
	char *user;
	char *email;
};

struct ao_strlist {
	char **v;
	size_t n;
};

struct ao_config {
	char *path;
	/* api */
	char *api_url;        /* https://host[:port], no trailing slash */
	char *token_file;
	char *ca_file;        /* "" = system CA store */
	long timeout;         /* seconds, per request */
	long spread;          /* seconds: a new event's first request waits
	                       * a random 0..spread (a fleet acting at once) */
	/* identity */
	char *email_domain;   /* "" = none */
	bool gecos_email;
	struct ao_strlist gecos_domains; /* domains GECOS addresses may have */
	unsigned gecos_trusted; /* AO_GECOS_* bits users cannot change here:
	                         * set by ao_config_load() from login.defs */
	struct ao_map_entry *map;
	size_t nmap;
	/* scope */
	struct ao_strlist applications; /* empty = every application */
	/* events: events[AO_EV_...]; manual is always on */
	bool events[AO_EV_COUNT];
	/* accounts */
	long min_uid;
	struct ao_strlist exclude;
	long max_deletions;   /* the scan's guard (scan.h): more than this */
	long max_deletions_percent; /* and more than this share vanishing
	                             * at once wait for the administrator */
	/* paths */
	char *spool_dir;
	char *state_dir;
	long keep_delivered_days; /* delivered events kept in done/ (for
	                           * status); 0: for ever */
	/* service user */
	char *user;
	/* relay: a fleet host without the token forwards its events to a
	 * collector over RELP (relay.h) instead of filing them itself */
	bool relay;           /* the relay group is set */
	char *relay_url;      /* relp://HOST[:PORT] */
	char *relay_host;     /* from relay_url (no brackets for IPv6) */
	char *relay_port;     /* from relay_url; "2514" when not given */
	bool relay_tls;
	char *relay_ca_file;
	char *relay_cert_file;
	char *relay_key_file;
	long relay_timeout;   /* seconds to wait for the collector */
	/* collector: what `ingest` accepts from relay hosts */
	bool collector;       /* the collector group is set */
	struct ao_strlist collector_hosts; /* host name patterns (fnmatch);
	                                    * empty = any host rsyslog let in */
	long collector_people_per_hour; /* different people one sender may
	                                 * report in an hour (budget.h); 0:
	                                 * no limit */
};

/* Fill cfg with the built-in defaults.  AO_OK or AO_ERR_NOMEM. */
int ao_config_defaults(struct ao_config *cfg);

/*
 * Parse config text (already read from path, which is used in messages) on
 * top of the defaults in cfg.  On error, err holds "FILE:LINE: problem" and
 * AO_ERR_CONFIG is returned; cfg then still needs ao_config_free().
 */
int ao_config_parse(struct ao_config *cfg, const char *path,
    const char *text, char *err, size_t errsz);

/*
 * Defaults, then read path (checked as a trusted file: see secfile.h) and
 * parse it.  Logs what is wrong and returns AO_ERR_CONFIG/AO_ERR_PERM.
 */
int ao_config_load(struct ao_config *cfg, const char *path);

/* Release everything cfg owns.  Accepts a zeroed or NULL cfg. */
void ao_config_free(struct ao_config *cfg);

/* Does the config turn event ev on (events.<name>; manual always)? */
bool ao_config_event_on(const struct ao_config *cfg, enum ao_event ev);

/* Is name in the list (exact match)? */
bool ao_strlist_has(const struct ao_strlist *l, const char *name);

#endif
