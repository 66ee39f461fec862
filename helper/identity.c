#include <stdio.h>
#include <string.h>

#include "err.h"
#include "identity.h"

static int
local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static int
domain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Is s[0..n) a plausible address: local@domain.tld? */
static int
is_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t i, llen, dlen;
	int dot = 0;

	if (at == NULL || n > 254)
		return 0;
	llen = (size_t)(at - s);
	dlen = n - llen - 1;
	if (llen == 0 || llen > 64 || dlen < 3)
		return 0;
	for (i = 0; i < llen; i++)
		if (!local_char(s[i]))
			return 0;
	for (i = 0; i < dlen; i++) {
		char c = at[1 + i];

		if (!domain_char(c))
			return 0;
		if (c == '.') {
			if (i == 0 || i == dlen - 1 || at[i] == '.')
				return 0;
			dot = 1;
		}
	}
	return dot;
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
			*source = "identity.map";
			return AO_OK;
		}
	}
	if (cfg->gecos_email && ao_gecos_email(gecos, out, outsz) == AO_OK) {
		*source = "GECOS";
		return AO_OK;
	}
	if (cfg->email_domain[0] != '\0') {
		n = snprintf(out, outsz, "%s@%s", user, cfg->email_domain);
		if (n < 0 || (size_t)n >= outsz || !is_email(out, (size_t)n)) {
			out[0] = '\0';
			return AO_ERR_NOTFOUND;
		}
		*source = "email_domain";
		return AO_OK;
	}
	return AO_ERR_NOTFOUND;
}
