#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "identity.h"
#include "secfile.h"
#include "text.h"

#define LOGIN_DEFS_MAX (256 * 1024)

static int
local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int
domain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Is local[0..llen) @ dom[0..dlen) a plausible address: local@domain.tld? */
static int
is_email_parts(const char *local, size_t llen, const char *dom, size_t dlen)
{
	size_t i;
	int dot = 0;

	if (llen == 0 || llen > 64 || dlen < 3 || llen + 1 + dlen > 254)
		return 0;
	for (i = 0; i < llen; i++)
		if (!local_char(local[i]))
			return 0;
	for (i = 0; i < dlen; i++) {
		char c = dom[i];

		if (!domain_char(c))
			return 0;
		if (c == '.') {
			if (i == 0 || i == dlen - 1 || dom[i - 1] == '.')
				return 0;
			dot = 1;
		}
	}
	return dot;
}

/* Is s[0..n) a plausible address: local@domain.tld? */
static int
is_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);

	if (at == NULL)
		return 0;
	return is_email_parts(s, (size_t)(at - s), at + 1,
	    n - (size_t)(at - s) - 1);
}

bool
ao_email_ok(const char *s)
{
	return s != NULL && is_email(s, strlen(s));
}

int
ao_gecos_email(const char *gecos, char *out, size_t outsz)
{
	const char *p = gecos;

	if (outsz)
		out[0] = '\0';
	if (gecos == NULL)
		return AO_ERR_NOTFOUND;
	while (*p) {
		size_t n;

		while (*p && strchr(", \t<>()[];:\"", *p))
			p++;
		n = strcspn(p, ", \t<>()[];:\"");
		if (n > 0 && is_email(p, n) && n < outsz) {
			memcpy(out, p, n);
			out[n] = '\0';
			return AO_OK;
		}
		p += n;
	}
	return AO_ERR_NOTFOUND;
}

/* The value of key in login.defs text ("KEY value" lines); NULL if unset. */
static bool
login_defs_value(const char *text, const char *key, char *out, size_t outsz)
{
	size_t klen = strlen(key);
	bool found = false;

	while (*text) {
		const char *line = text, *v;
		size_t n = strcspn(text, "\n"), vlen;

		text += n + (text[n] == '\n');
		while (n > 0 && (*line == ' ' || *line == '\t')) {
			line++;
			n--;
		}
		if (n <= klen || strncmp(line, key, klen) != 0 ||
		    (line[klen] != ' ' && line[klen] != '\t'))
			continue;
		for (v = line + klen; v < line + n && (*v == ' ' || *v == '\t');
		    v++)
			;
		vlen = (size_t)(line + n - v);
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' ||
		    v[vlen - 1] == '\r'))
			vlen--;
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
			v++;
			vlen -= 2;
		}
		if (vlen >= outsz)
			vlen = outsz - 1;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		found = true; /* the last one counts, as in shadow's getdef */
	}
	return found;
}

unsigned
ao_chfn_user_fields(const char *login_defs)
{
	static const struct { char letter; unsigned bit; } fields[] = {
		{ 'f', AO_GECOS_FULLNAME }, { 'r', AO_GECOS_ROOM },
		{ 'w', AO_GECOS_WORK }, { 'h', AO_GECOS_HOME },
	};
	char v[64];
	unsigned m = 0;
	size_t i;

	if (login_defs == NULL)
		return AO_GECOS_CHFN;
	/* unset or empty: in doubt, as permissive as either chfn can be */
	if (!login_defs_value(login_defs, "CHFN_RESTRICT", v, sizeof(v)) ||
	    v[0] == '\0')
		return AO_GECOS_ROOM | AO_GECOS_WORK | AO_GECOS_HOME;
	if (strcmp(v, "yes") == 0)
		return AO_GECOS_ROOM | AO_GECOS_WORK | AO_GECOS_HOME;
	if (strcmp(v, "no") == 0)
		return AO_GECOS_CHFN;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strchr(v, fields[i].letter) != NULL)
			m |= fields[i].bit;
	return m;
}

unsigned
ao_gecos_trusted_fields(const char *path)
{
	char *text = NULL;
	unsigned user;

	/* root's, not writable by others; anything else: trust no chfn field */
	if (ao_file_read_checked(path, AO_FILE_SYSTEM, LOGIN_DEFS_MAX, &text,
	    NULL) != AO_OK)
		text = NULL;
	user = ao_chfn_user_fields(text);
	free(text);
	return (AO_GECOS_CHFN | AO_GECOS_OTHER) & ~user;
}

static bool
domain_listed(const char *addr, const struct ao_strlist *domains)
{
	const char *at = strrchr(addr, '@');
	size_t i;

	for (i = 0; at != NULL && i < domains->n; i++)
		if (ao_streq_ci(at + 1, domains->v[i]))
			return true;
	return false;
}

int
ao_gecos_email_trusted(const char *gecos, unsigned trusted,
    const struct ao_strlist *domains, char *out, size_t outsz)
{
	static const unsigned order[] = { AO_GECOS_FULLNAME, AO_GECOS_ROOM,
	    AO_GECOS_WORK, AO_GECOS_HOME };
	char field[1024];
	size_t idx = 0;

	if (outsz)
		out[0] = '\0';
	while (gecos != NULL) {
		size_t n = strcspn(gecos, ",");
		unsigned bit = idx < 4 ? order[idx] : AO_GECOS_OTHER;
		const char *p = field;

		if ((trusted & bit) && n < sizeof(field)) {
			memcpy(field, gecos, n);
			field[n] = '\0';
			/* every address in the field, until one is in a domain */
			while (ao_gecos_email(p, out, outsz) == AO_OK) {
				if (domain_listed(out, domains))
					return AO_OK;
				p = strstr(p, out) + strlen(out);
			}
			out[0] = '\0';
		}
		if (gecos[n] == '\0')
			break;
		gecos += n + 1;
		idx++;
	}
	return AO_ERR_NOTFOUND;
}

int
ao_identity_email(const struct ao_config *cfg, const char *user,
    const char *gecos, char *out, size_t outsz, const char **source)
{
	size_t i;
	int n;

	if (outsz)
		out[0] = '\0';
	*source = NULL;
	for (i = 0; i < cfg->nmap; i++) {
		if (strcmp(cfg->map[i].user, user) == 0) {
			n = snprintf(out, outsz, "%s", cfg->map[i].email);
			if (n < 0 || (size_t)n >= outsz)
				return AO_ERR_NOTFOUND;
			*source = AO_SRC_MAP;
			return AO_OK;
		}
	}
	if (cfg->gecos_email && ao_gecos_email_trusted(gecos, cfg->gecos_trusted,
	    &cfg->gecos_domains, out, outsz) == AO_OK) {
		*source = AO_SRC_GECOS;
		return AO_OK;
	}
	if (cfg->email_domain[0] != '\0') {
		/* the scan asks for every account: no printf here */
		size_t ul = strlen(user), dl = strlen(cfg->email_domain);

		if (ul + 1 + dl >= outsz || !is_email_parts(user, ul,
		    cfg->email_domain, dl))
			return AO_ERR_NOTFOUND;
		memcpy(out, user, ul);
		out[ul] = '@';
		memcpy(out + ul + 1, cfg->email_domain, dl + 1);
		*source = AO_SRC_DOMAIN;
		return AO_OK;
	}
	return AO_ERR_NOTFOUND;
}

enum ao_settle
ao_identity_settle(const char *now, const char *source, const char *remembered,
    bool exists, const char **use)
{
	bool gecos = source != NULL && strcmp(source, AO_SRC_GECOS) == 0;
	bool mapped = source != NULL && strcmp(source, AO_SRC_MAP) == 0;

	if (now == NULL)
		now = "";
	if (remembered == NULL)
		remembered = "";
	*use = remembered;
	if (now[0] == '\0')
		return remembered[0] ? AO_ADDR_KEEP : AO_ADDR_NONE;
	if (remembered[0] == '\0') {
		*use = now;
		return AO_ADDR_NEW;
	}
	if (strcmp(now, remembered) == 0 || ao_streq_ci(now, remembered)) {
		*use = now;
		return AO_ADDR_KEEP;
	}
	/* deleted: the GECOS field the address may have come from is gone,
	 * and email_domain ranks below it; only identity.map overrides */
	if (!exists && !mapped)
		return AO_ADDR_KEEP;
	if (gecos)
		return AO_ADDR_CONFLICT;
	*use = now;
	return AO_ADDR_CHANGED;
}
