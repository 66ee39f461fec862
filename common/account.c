#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "account.h"

/* A crypt(3) hash: "$id$...", or 13 characters of traditional DES. */
static bool
real_hash(const char *h)
{
	size_t n = strlen(h), i;

	if (n == 0)
		return false;
	if (h[0] == '$')
		return n > 3;
	if (n != 13)
		return false;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '/'))
			return false;
	}
	return true;
}

bool
ao_shadow_locked(const char *pwdp)
{
	if (pwdp == NULL || pwdp[0] != '!')
		return false;
	while (*pwdp == '!')
		pwdp++;
	return real_hash(pwdp);
}

/* FNV-1a, 64 bits: a stable digest so keys never carry the hash itself. */
static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static bool
expired(const struct spwd *sp, long today)
{
	return sp->sp_expire >= 0 && today >= sp->sp_expire;
}

static bool
inactive(const struct spwd *sp, long today)
{
	return sp->sp_lstchg > 0 && sp->sp_max >= 0 && sp->sp_inact >= 0 &&
	    today - sp->sp_lstchg > sp->sp_max + sp->sp_inact;
}

bool
ao_account_unix_refuses(const struct spwd *sp, long today)
{
	return expired(sp, today) || inactive(sp, today);
}

void
ao_account_inspect(const struct spwd *sp, long today,
    struct ao_account_status *st)
{
	memset(st, 0, sizeof(*st));
	if (ao_shadow_locked(sp->sp_pwdp)) {
		const char *h = sp->sp_pwdp;

		while (*h == '!')
			h++;
		st->cond = AO_COND_LOCKED;
		st->event = AO_EV_LOCKED;
		snprintf(st->key, sizeof(st->key), "%s:%016llx",
		    ao_event_name(st->event), (unsigned long long)fnv1a(h));
		return;
	}
	if (expired(sp, today)) {
		st->cond = AO_COND_EXPIRED;
		st->event = AO_EV_EXPIRED;
		snprintf(st->key, sizeof(st->key), "%s:%ld",
		    ao_event_name(st->event), (long)sp->sp_expire);
		return;
	}
	if (inactive(sp, today)) {
		st->cond = AO_COND_INACTIVE;
		st->event = AO_EV_EXPIRED;
		snprintf(st->key, sizeof(st->key), "inactive:%ld:%ld:%ld",
		    (long)sp->sp_lstchg, (long)sp->sp_max, (long)sp->sp_inact);
	}
}

bool
ao_shell_nologin(const char *shell)
{
	const char *base;

	if (shell == NULL || *shell == '\0')
		return false;
	base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	return strcmp(base, "nologin") == 0 || strcmp(base, "false") == 0;
}

long
ao_today(void)
{
	return (long)(time(NULL) / 86400);
}

bool
ao_username_ok(const char *name)
{
	size_t n = 0;

	if (name == NULL || name[0] == '\0' || name[0] == '.' || name[0] == '-')
		return false;
	for (; *name; name++, n++) {
		char c = *name;

		if (n >= 64)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == '$' || c == '@'))
			return false;
	}
	return true;
}
