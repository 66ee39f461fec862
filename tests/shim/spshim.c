/*
 * Test-only preload (never installed): nss_wrapper wraps getspnam() but not
 * getspnam_r(), which pam_accessowl uses.  This getspnam_r() answers from
 * the wrapped getspnam(), so the module can be run without root against a
 * fake shadow file (NSS_WRAPPER_SHADOW).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <shadow.h>
#include <string.h>

int getspnam_r(const char *name, struct spwd *sp, char *buf, size_t buflen,
    struct spwd **result);

static char *
put(char **p, size_t *left, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = *p;

	if (n > *left)
		return NULL;
	memcpy(d, s, n);
	*p += n;
	*left -= n;
	return d;
}

int
getspnam_r(const char *name, struct spwd *sp, char *buf, size_t buflen,
    struct spwd **result)
{
	struct spwd *(*real)(const char *);
	struct spwd *s;

	*result = NULL;
	real = (struct spwd *(*)(const char *))dlsym(RTLD_NEXT, "getspnam");
	if (real == NULL || (s = real(name)) == NULL)
		return 0;
	*sp = *s;
	if ((sp->sp_namp = put(&buf, &buflen, s->sp_namp)) == NULL ||
	    (sp->sp_pwdp = put(&buf, &buflen, s->sp_pwdp)) == NULL)
		return ERANGE;
	*result = sp;
	return 0;
}
