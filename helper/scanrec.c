#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanrec.h"

void
ao_scanrec_format(const struct ao_scan_acct *a, char *out, size_t n)
{
	snprintf(out, n, "v1\t%ld\t%s\t%s\t%s\t%s", a->uid, a->cond,
	    a->key[0] ? a->key : "-", a->nologin ? "nologin" : "login",
	    a->email[0] ? a->email : "-");
}

/* Split s on tabs into at most n fields; returns how many. */
static size_t
split_tabs(char *s, char **f, size_t n)
{
	size_t k = 0;

	while (k < n) {
		f[k++] = s;
		if ((s = strchr(s, '\t')) == NULL)
			break;
		*s++ = '\0';
	}
	return k;
}

/* A field that must fit dst and hold no control byte (it may be printed). */
static bool
copy_field(char *dst, size_t dstsz, const char *f)
{
	size_t n = strlen(f), i;

	if (n >= dstsz)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)f[i] < 0x20 || f[i] == 0x7f)
			return false;
	memcpy(dst, f, n + 1);
	return true;
}

bool
ao_scanrec_parse(const char *name, char *line, struct ao_scan_acct *a)
{
	char *f[7], *end;

	memset(a, 0, sizeof(*a));
	if (!copy_field(a->name, sizeof(a->name), name) ||
	    split_tabs(line, f, 7) != 6 || strcmp(f[0], "v1") != 0)
		return false;
	errno = 0;
	a->uid = strtol(f[1], &end, 10);
	if (errno != 0 || end == f[1] || *end != '\0' || a->uid < -1)
		return false;
	if (strcmp(f[2], "none") != 0 && strcmp(f[2], "locked") != 0 &&
	    strcmp(f[2], "expired") != 0)
		return false;
	memcpy(a->cond, f[2], strlen(f[2]) + 1);
	if (strcmp(f[4], "login") != 0 && strcmp(f[4], "nologin") != 0)
		return false;
	a->nologin = f[4][0] == 'n';
	if (!copy_field(a->key, sizeof(a->key), strcmp(f[3], "-") ? f[3] : "") ||
	    !copy_field(a->email, sizeof(a->email), strcmp(f[5], "-") ? f[5] :
	    ""))
		return false;
	return true;
}
