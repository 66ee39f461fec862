#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "err.h"
#include "identity.h"
#include "log.h"
#include "secfile.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

enum kind { K_STR, K_BOOL, K_INT, K_STRLIST, K_GROUP, K_MAP, K_EVENTS };

struct key {
	const char *name;
	enum kind kind;
	size_t off;             /* offset in struct ao_config */
	long min, max;          /* K_INT range */
	const struct key *sub;  /* K_GROUP members */
};

#define F(field) offsetof(struct ao_config, field)

static const struct key api_keys[] = {
	{ "url", K_STR, F(api_url), 0, 0, NULL },
	{ "token_file", K_STR, F(token_file), 0, 0, NULL },
	{ "ca_file", K_STR, F(ca_file), 0, 0, NULL },
	{ "timeout", K_INT, F(timeout), 1, 300, NULL },
	{ "spread", K_INT, F(spread), 0, 3600, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const struct key identity_keys[] = {
	{ "email_domain", K_STR, F(email_domain), 0, 0, NULL },
	{ "gecos_email", K_BOOL, F(gecos_email), 0, 0, NULL },
	{ "gecos_domains", K_STRLIST, F(gecos_domains), 0, 0, NULL },
	{ "map", K_MAP, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const struct key scope_keys[] = {
	{ "applications", K_STRLIST, F(applications), 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct key accounts_keys[] = {
	{ "min_uid", K_INT, F(min_uid), 0, 4294967294L, NULL },
	{ "exclude", K_STRLIST, F(exclude), 0, 0, NULL },
	{ "max_deletions", K_INT, F(max_deletions), 0, 1000000, NULL },
	{ "max_deletions_percent", K_INT, F(max_deletions_percent), 0, 100,
	  NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const struct key paths_keys[] = {
	{ "spool_dir", K_STR, F(spool_dir), 0, 0, NULL },
	{ "state_dir", K_STR, F(state_dir), 0, 0, NULL },
	{ "keep_delivered_days", K_INT, F(keep_delivered_days), 0, 36500,
	  NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const struct key relay_keys[] = {
	{ "url", K_STR, F(relay_url), 0, 0, NULL },
	{ "tls", K_BOOL, F(relay_tls), 0, 0, NULL },
	{ "ca_file", K_STR, F(relay_ca_file), 0, 0, NULL },
	{ "cert_file", K_STR, F(relay_cert_file), 0, 0, NULL },
	{ "key_file", K_STR, F(relay_key_file), 0, 0, NULL },
	{ "timeout", K_INT, F(relay_timeout), 1, 300, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const struct key collector_keys[] = {
	{ "hosts", K_STRLIST, F(collector_hosts), 0, 0, NULL },
	{ "sender_people_per_hour", K_INT, F(collector_people_per_hour), 0,
	  1000, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const struct key root_keys[] = {
	{ "api", K_GROUP, 0, 0, 0, api_keys },
	{ "relay", K_GROUP, 0, 0, 0, relay_keys },
	{ "collector", K_GROUP, 0, 0, 0, collector_keys },
	{ "identity", K_GROUP, 0, 0, 0, identity_keys },
	{ "scope", K_GROUP, 0, 0, 0, scope_keys },
	{ "events", K_EVENTS, 0, 0, 0, NULL },
	{ "accounts", K_GROUP, 0, 0, 0, accounts_keys },
	{ "paths", K_GROUP, 0, 0, 0, paths_keys },
	{ "user", K_STR, F(user), 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

/* Parse state: where messages go. */
struct pctx {
	struct ao_config *cfg;
	const char *path;
	char *err;
	size_t errsz;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct pctx *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s != NULL)
		snprintf(p->err, p->errsz, "%s:%u: %s", p->path,
		    (unsigned)config_setting_source_line(s), msg);
	else
		snprintf(p->err, p->errsz, "%s: %s", p->path, msg);
	return AO_ERR_CONFIG;
}

static const char *
type_name(enum kind k)
{
	switch (k) {
	case K_STR: return "a string in double quotes";
	case K_BOOL: return "true or false";
	case K_INT: return "a whole number";
	case K_STRLIST: return "a list of strings, [ \"a\", \"b\" ]";
	case K_GROUP: return "a group, { ... }";
	case K_MAP: return "a list of groups, ( { user = \"...\"; email = \"...\"; } )";
	case K_EVENTS: return "a group, { locked = true; ... }";
	}
	return "?";
}

static int
set_str(char **dst, const char *v)
{
	char *c = strdup(v);

	if (c == NULL)
		return AO_ERR_NOMEM;
	free(*dst);
	*dst = c;
	return AO_OK;
}

static void
strlist_free(struct ao_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
parse_strlist(struct pctx *p, const config_setting_t *s, const char *dotted,
    struct ao_strlist *out)
{
	int n = config_setting_length(s), i;

	strlist_free(out);
	if (n == 0)
		return AO_OK;
	if ((out->v = calloc((size_t)n, sizeof(char *))) == NULL)
		return AO_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v;

		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    (v = config_setting_get_string(e)) == NULL)
			return fail(p, e, "%s: element %d must be a string",
			    dotted, i + 1);
		if (*v == '\0')
			return fail(p, e, "%s: element %d is empty", dotted,
			    i + 1);
		if ((out->v[out->n] = strdup(v)) == NULL)
			return AO_ERR_NOMEM;
		out->n++;
	}
	return AO_OK;
}

static int
parse_map(struct pctx *p, const config_setting_t *s)
{
	struct ao_config *cfg = p->cfg;
	int n = config_setting_length(s), i;

	if (n == 0)
		return AO_OK;
	if ((cfg->map = calloc((size_t)n, sizeof(*cfg->map))) == NULL)
		return AO_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *user = NULL, *email = NULL;
		int j, m;

		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return fail(p, e, "identity.map: entry %d must be "
			    "{ user = \"...\"; email = \"...\"; }", i + 1);
		m = config_setting_length(e);
		for (j = 0; j < m; j++) {
			config_setting_t *f = config_setting_get_elem(e, (unsigned)j);
			const char *name = config_setting_name(f);

			if (strcmp(name, "user") != 0 && strcmp(name, "email") != 0)
				return fail(p, f, "identity.map: unknown key "
				    "'%s' (known: user, email)", name);
			if (config_setting_type(f) != CONFIG_TYPE_STRING)
				return fail(p, f, "identity.map.%s must be %s",
				    name, type_name(K_STR));
		}
		if (!config_setting_lookup_string(e, "user", &user) || !*user)
			return fail(p, e, "identity.map: entry %d has no user",
			    i + 1);
		if (!config_setting_lookup_string(e, "email", &email) ||
		    strchr(email, '@') == NULL)
			return fail(p, e, "identity.map: entry %d (user %s) "
			    "needs an email with an @", i + 1, user);
		if ((cfg->map[i].user = strdup(user)) == NULL ||
		    (cfg->map[i].email = strdup(email)) == NULL)
			return AO_ERR_NOMEM;
		cfg->nmap++;
	}
	return AO_OK;
}

/* events: { <event name> = true|false; ... }, the names from event.h. */
static int
parse_events(struct pctx *p, const config_setting_t *grp)
{
	int n = config_setting_length(grp), i;

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		enum ao_event ev;

		if (ao_event_parse(name, &ev) != AO_OK ||
		    !ao_event_configurable(ev))
			return fail(p, s, "unknown key 'events.%s'; see "
			    "accessowl.conf(5) for the keys", name);
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return fail(p, s, "events.%s must be %s", name,
			    type_name(K_BOOL));
		p->cfg->events[ev] = config_setting_get_bool(s) != 0;
	}
	return AO_OK;
}

static int
parse_group(struct pctx *p, const config_setting_t *grp,
    const struct key *keys, const char *prefix)
{
	int n = config_setting_length(grp), i, r;

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct key *k;
		char dotted[128];
		int t = config_setting_type(s);
		void *dst;

		snprintf(dotted, sizeof(dotted), "%s%s", prefix, name);
		for (k = keys; k->name != NULL; k++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name == NULL)
			return fail(p, s, "unknown key '%s'; see "
			    "accessowl.conf(5) for the keys", dotted);
		dst = (char *)p->cfg + k->off;
		switch (k->kind) {
		case K_STR:
			if (t != CONFIG_TYPE_STRING)
				goto badtype;
			r = set_str(dst, config_setting_get_string(s));
			break;
		case K_BOOL:
			if (t != CONFIG_TYPE_BOOL)
				goto badtype;
			*(bool *)dst = config_setting_get_bool(s) != 0;
			r = AO_OK;
			break;
		case K_INT: {
			long long v;

			if (t == CONFIG_TYPE_INT)
				v = config_setting_get_int(s);
			else if (t == CONFIG_TYPE_INT64)
				v = config_setting_get_int64(s);
			else
				goto badtype;
			if (v < k->min || v > k->max)
				return fail(p, s, "%s = %lld is out of range "
				    "(%ld to %ld)", dotted, v, k->min, k->max);
			*(long *)dst = (long)v;
			r = AO_OK;
			break;
		}
		case K_STRLIST:
			if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
				goto badtype;
			r = parse_strlist(p, s, dotted, dst);
			break;
		case K_MAP:
			if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
				goto badtype;
			r = parse_map(p, s);
			break;
		case K_EVENTS:
			if (t != CONFIG_TYPE_GROUP)
				goto badtype;
			r = parse_events(p, s);
			break;
		case K_GROUP: {
			char sub[sizeof(dotted) + 1];

			if (t != CONFIG_TYPE_GROUP)
				goto badtype;
			snprintf(sub, sizeof(sub), "%s.", dotted);
			r = parse_group(p, s, k->sub, sub);
			break;
		}
		default:
			r = AO_ERR_CONFIG;
		}
		if (r != AO_OK)
			return r;
		continue;
badtype:
		return fail(p, s, "%s must be %s", dotted, type_name(k->kind));
	}
	return AO_OK;
}

/* "example.com": no '@', blank or '/'; "" only when allowed. */
static bool
bare_domain(const char *d, bool empty_ok)
{
	if (*d == '\0')
		return empty_ok;
	return strchr(d, '@') == NULL && strpbrk(d, " \t/") == NULL &&
	    strchr(d, '.') != NULL;
}

/* Absolute path, or "" when empty_ok. */
static bool
abs_path(const char *f, bool empty_ok)
{
	return f[0] == '/' || (empty_ok && f[0] == '\0');
}

/* relay.url = "relp://HOST[:PORT]" into relay_host and relay_port. */
static int
parse_relay_url(struct pctx *p)
{
	struct ao_config *c = p->cfg;
	const char *h = c->relay_url + 7, *end, *port = NULL;
	char *endp;
	long n;
	size_t hl;

	if (strncmp(c->relay_url, "relp://", 7) != 0)
		return fail(p, NULL, "relay.url must look like "
		    "\"relp://collector.example:2514\" (got \"%.100s\")",
		    c->relay_url);
	if (strpbrk(h, " \t\r\n/?#@") != NULL)
		return fail(p, NULL, "relay.url must be relp://HOST[:PORT], "
		    "without path, user name or spaces");
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return fail(p, NULL, "relay.url: '[' without ']'");
		h++;
		hl = (size_t)(end - h);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return fail(p, NULL, "relay.url: junk after ']'");
	} else {
		end = strchr(h, ':');
		hl = end ? (size_t)(end - h) : strlen(h);
		if (end != NULL)
			port = end + 1;
	}
	if (hl == 0 || hl > 253)
		return fail(p, NULL, "relay.url has no host name");
	if (port != NULL) {
		errno = 0;
		n = strtol(port, &endp, 10);
		if (errno != 0 || endp == port || *endp != '\0' || n < 1 ||
		    n > 65535)
			return fail(p, NULL, "relay.url: the port must be a "
			    "number from 1 to 65535");
	}
	free(c->relay_host);
	free(c->relay_port);
	c->relay_host = strndup(h, hl);
	c->relay_port = strdup(port ? port : "2514");
	return c->relay_host && c->relay_port ? AO_OK : AO_ERR_NOMEM;
}

static int
validate_relay(struct pctx *p)
{
	struct ao_config *c = p->cfg;
	int r;

	if ((r = parse_relay_url(p)) != AO_OK)
		return r;
	if (!abs_path(c->relay_ca_file, !c->relay_tls) ||
	    !abs_path(c->relay_cert_file, !c->relay_tls) ||
	    !abs_path(c->relay_key_file, !c->relay_tls))
		return fail(p, NULL, c->relay_tls ?
		    "relay.tls = true (the default) needs relay.ca_file (the "
		    "CA that signed the collector's certificate), "
		    "relay.cert_file and relay.key_file (this host's client "
		    "certificate and its key), each an absolute path" :
		    "relay.ca_file, relay.cert_file and relay.key_file must "
		    "be absolute paths or \"\"");
	return AO_OK;
}

/* Checks that need more than a type: URLs, paths, names. */
static int
validate(struct pctx *p)
{
	struct ao_config *c = p->cfg;
	const char *host;
	size_t len, i;

	if (strncmp(c->api_url, "https://", 8) != 0)
		return fail(p, NULL, "api.url must start with https:// "
		    "(got \"%.100s\"); the token is never sent in clear text",
		    c->api_url);
	host = c->api_url + 8;
	if (*host == '\0' || *host == '/')
		return fail(p, NULL, "api.url has no host name");
	if (strpbrk(c->api_url, " \t\r\n?#@") != NULL)
		return fail(p, NULL, "api.url must be a plain https://host[:port] "
		    "base URL, without spaces, query, fragment or user name");
	len = strlen(c->api_url);
	while (len > 8 && c->api_url[len - 1] == '/')
		c->api_url[--len] = '\0';
	/* the base is asked for; the API's own prefix is what people paste */
	if (len > 8 + 7 && strcmp(c->api_url + len - 7, "/api/v1") == 0) {
		len -= 7;
		c->api_url[len] = '\0';
		while (len > 8 && c->api_url[len - 1] == '/')
			c->api_url[--len] = '\0';
	}
	if (c->token_file[0] != '/')
		return fail(p, NULL, "api.token_file must be an absolute path");
	if (c->ca_file[0] != '\0' && c->ca_file[0] != '/')
		return fail(p, NULL, "api.ca_file must be an absolute path or "
		    "\"\" for the system's CA store");
	if (c->spool_dir[0] != '/' || c->state_dir[0] != '/')
		return fail(p, NULL, "paths.spool_dir and paths.state_dir must "
		    "be absolute paths");
	if (c->user[0] == '\0')
		return fail(p, NULL, "user must name the service user, e.g. "
		    "\"accessowl\"");
	if (!bare_domain(c->email_domain, true))
		return fail(p, NULL, "identity.email_domain must be a bare "
		    "domain such as \"example.com\"");
	for (i = 0; i < c->gecos_domains.n; i++)
		if (!bare_domain(c->gecos_domains.v[i], false))
			return fail(p, NULL, "identity.gecos_domains: \"%.100s\" "
			    "is not a bare domain such as \"example.com\"",
			    c->gecos_domains.v[i]);
	if (c->gecos_email && c->gecos_domains.n == 0)
		return fail(p, NULL, "identity.gecos_email = true needs "
		    "identity.gecos_domains, the domains whose addresses may "
		    "be taken from GECOS, e.g. [ \"example.com\" ]");
	for (i = 0; i < c->collector_hosts.n; i++)
		if (strpbrk(c->collector_hosts.v[i], " \t/") != NULL)
			return fail(p, NULL, "collector.hosts: \"%.100s\" is "
			    "not a host name or pattern such as "
			    "\"*.example.com\"", c->collector_hosts.v[i]);
	return c->relay ? validate_relay(p) : AO_OK;
}

int
ao_config_defaults(struct ao_config *cfg)
{
	unsigned i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout = 10;
	cfg->spread = 30;
	cfg->gecos_email = false;
	cfg->gecos_trusted = AO_GECOS_OTHER; /* until login.defs says more */
	for (i = 0; i < AO_EV_COUNT; i++)
		cfg->events[i] = ao_event_default((enum ao_event)i);
	cfg->min_uid = 1000;
	cfg->max_deletions = 10;
	cfg->max_deletions_percent = 20;
	cfg->relay_tls = true;
	cfg->relay_timeout = 10;
	cfg->collector_people_per_hour = 50;
	cfg->keep_delivered_days = 90;
	if ((cfg->relay_url = strdup("")) == NULL ||
	    (cfg->relay_ca_file = strdup("")) == NULL ||
	    (cfg->relay_cert_file = strdup("")) == NULL ||
	    (cfg->relay_key_file = strdup("")) == NULL)
		return AO_ERR_NOMEM;
	if ((cfg->api_url = strdup("https://api.accessowl.com")) == NULL ||
	    (cfg->token_file = strdup("/etc/accessowl/token")) == NULL ||
	    (cfg->ca_file = strdup("")) == NULL ||
	    (cfg->email_domain = strdup("")) == NULL ||
	    (cfg->spool_dir = strdup("/var/spool/accessowl")) == NULL ||
	    (cfg->state_dir = strdup("/var/lib/accessowl")) == NULL ||
	    (cfg->user = strdup("accessowl")) == NULL)
		return AO_ERR_NOMEM;
	if ((cfg->exclude.v = calloc(1, sizeof(char *))) == NULL ||
	    (cfg->exclude.v[0] = strdup("root")) == NULL)
		return AO_ERR_NOMEM;
	cfg->exclude.n = 1;
	return AO_OK;
}

/*
 * What libconfig does not say.  Its grammar has no dotted names: the docs'
 * `events.faillock = true` typed as it is written gives "syntax error" or
 * "duplicate setting name", and a string or group left open is reported
 * where the parser gave up, many lines later.  A small scanner of the
 * same text (strings, # and // comments, braces) finds the line meant.
 */
struct scan_pos {
	const char *p;
	int line;
	bool in_str;
};

/* The next byte outside strings and comments, or 0 at the end; the
 * position moves past it.  Newlines are returned (strings do not span
 * lines in libconfig: one left open ends with its line). */
static char
next_code(struct scan_pos *s, int *open_str_line)
{
	for (; *s->p; s->p++) {
		char c = *s->p;

		if (c == '\n') {
			if (s->in_str && *open_str_line == 0)
				*open_str_line = s->line;
			s->in_str = false;
			s->line++;
			s->p++;
			return '\n';
		}
		if (s->in_str) {
			if (c == '\\' && s->p[1] != '\0' && s->p[1] != '\n')
				s->p++;
			else if (c == '"')
				s->in_str = false;
			continue;
		}
		if (c == '"') {
			s->in_str = true;
			continue;
		}
		if (c == '#' || (c == '/' && s->p[1] == '/')) {
			while (s->p[1] != '\0' && s->p[1] != '\n')
				s->p++;
			continue;
		}
		s->p++;
		return c;
	}
	if (s->in_str && *open_str_line == 0)
		*open_str_line = s->line;
	return 0;
}

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* A line "group.key = value": say where the setting belongs. */
static int
dotted_name(struct pctx *p, const char *text)
{
	struct scan_pos s = { text, 1, false };
	int open_str = 0, line = 1;
	bool start = true;
	char c;

	while ((c = next_code(&s, &open_str)) != 0) {
		const char *n, *dot = NULL, *e;

		if (c == '\n') {
			start = true;
			line = s.line;
			continue;
		}
		if (c == ' ' || c == '\t' || c == ';' || c == '{' || c == ',')
			continue;
		if (!start || !name_char(c)) {
			start = false;
			continue;
		}
		start = false;
		for (n = e = s.p - 1; name_char(*e) || *e == '.'; e++)
			if (*e == '.' && dot == NULL)
				dot = e;
		if (dot == NULL || e[strspn(e, " \t")] == '\0' ||
		    strchr("=:", e[strspn(e, " \t")]) == NULL)
			continue;
		snprintf(p->err, p->errsz, "%s:%d: `%.*s` is not a name here: a "
		    "setting is written inside its group, as in %.*s: { %.*s = "
		    "...; };", p->path, line, (int)(e - n), n, (int)(dot - n), n,
		    (int)(e - dot - 1), dot + 1);
		return AO_ERR_CONFIG;
	}
	return AO_OK;
}

/* For a syntax error at line: a string left open, or the group opened
 * last (and not closed) before it; "" when neither. */
static void
explain_syntax(const char *text, int line, char *out, size_t n)
{
	struct { char name[40]; int line; } open[16];
	struct scan_pos s = { text, 1, false };
	char name[40] = "", c;
	int open_str = 0, depth = 0;
	size_t k = 0;

	out[0] = '\0';
	while (s.line <= line && (c = next_code(&s, &open_str)) != 0) {
		if (name_char(c)) {
			if (k == 0 || !name_char(s.p[-2]))
				k = 0;
			if (k < sizeof(name) - 1)
				name[k++] = c;
			name[k] = '\0';
			continue;
		}
		if (c == '{' || c == '(' || c == '[') {
			if (depth < 16) {
				snprintf(open[depth].name, sizeof(open[depth].name),
				    "%s", c == '{' ? name : "");
				open[depth].line = s.line;
			}
			depth++;
		} else if ((c == '}' || c == ')' || c == ']') && depth > 0)
			depth--;
		if (c != ' ' && c != '\t' && c != ':' && c != '=')
			k = 0;
	}
	if (open_str > 0 && open_str <= line)
		snprintf(out, n, " (near here, or before: the string opened at "
		    "line %d has no closing \")", open_str);
	else if (depth > 0 && depth <= 16 && open[depth - 1].name[0] != '\0')
		snprintf(out, n, " (near here, or before: the group `%s` opened "
		    "at line %d is still open here: a missing `};`?)",
		    open[depth - 1].name, open[depth - 1].line);
	else
		snprintf(out, n, " (near here, or on a line before)");
}

int
ao_config_parse(struct ao_config *cfg, const char *path, const char *text,
    char *err, size_t errsz)
{
	struct pctx p = { cfg, path, err, errsz };
	config_t lc;
	const char *t;
	int r;

	err[0] = '\0';
	if ((r = set_str(&cfg->path, path)) != AO_OK)
		return r;
	/* @include would read files nobody checked */
	for (t = text; (t = strstr(t, "@include")) != NULL; t++)
		if (t == text || t[-1] == '\n' || t[-1] == ' ' || t[-1] == '\t')
			return fail(&p, NULL, "@include is not supported; keep "
			    "the whole configuration in this file");
	if ((r = dotted_name(&p, text)) != AO_OK)
		return r;
	config_init(&lc);
	config_set_options(&lc, 0); /* no auto-conversion of types */
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		char why[300];

		explain_syntax(text, config_error_line(&lc), why, sizeof(why));
		snprintf(err, errsz, "%s:%d: %s%s", path, config_error_line(&lc),
		    config_error_text(&lc), why);
		r = AO_ERR_CONFIG;
		goto out;
	}
	if ((r = parse_group(&p, config_root_setting(&lc), root_keys, "")) != AO_OK)
		goto out;
	/* a host either files (it has the token) or forwards: not both */
	cfg->relay = config_lookup(&lc, "relay") != NULL;
	cfg->collector = config_lookup(&lc, "collector") != NULL;
	if (cfg->relay && config_lookup(&lc, "api") != NULL) {
		r = fail(&p, config_lookup(&lc, "api"), "a relay host forwards "
		    "its events to the collector, which alone holds the token: "
		    "remove the api group (or the relay group, to file from "
		    "this host)");
		goto out;
	}
	r = validate(&p);
out:
	config_destroy(&lc);
	if (r == AO_ERR_NOMEM && err[0] == '\0')
		snprintf(err, errsz, "%s: out of memory", path);
	return r;
}

int
ao_config_load(struct ao_config *cfg, const char *path)
{
	char *text = NULL, err[768];
	int r;

	if ((r = ao_config_defaults(cfg)) != AO_OK)
		return r;
	r = ao_file_read_checked(path, AO_FILE_CONFIG, CONFIG_MAX_BYTES, &text,
	    NULL);
	if (r == AO_ERR_DATA)
		r = AO_ERR_CONFIG;
	if (r != AO_OK)
		return r;
	r = ao_config_parse(cfg, path, text, err, sizeof(err));
	if (r != AO_OK)
		ao_err("%s", err);
	else if (cfg->gecos_email)
		cfg->gecos_trusted = ao_gecos_trusted_fields(AO_LOGIN_DEFS);
	free(text);
	return r;
}

void
ao_config_free(struct ao_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->api_url);
	free(cfg->token_file);
	free(cfg->ca_file);
	free(cfg->email_domain);
	for (i = 0; i < cfg->nmap; i++) {
		free(cfg->map[i].user);
		free(cfg->map[i].email);
	}
	free(cfg->map);
	strlist_free(&cfg->gecos_domains);
	strlist_free(&cfg->applications);
	strlist_free(&cfg->exclude);
	free(cfg->spool_dir);
	free(cfg->state_dir);
	free(cfg->user);
	free(cfg->relay_url);
	free(cfg->relay_host);
	free(cfg->relay_port);
	free(cfg->relay_ca_file);
	free(cfg->relay_cert_file);
	free(cfg->relay_key_file);
	strlist_free(&cfg->collector_hosts);
	memset(cfg, 0, sizeof(*cfg));
}

bool
ao_config_event_on(const struct ao_config *cfg, enum ao_event ev)
{
	return (unsigned)ev < AO_EV_COUNT &&
	    (cfg->events[ev] || !ao_event_configurable(ev));
}

bool
ao_strlist_has(const struct ao_strlist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}
