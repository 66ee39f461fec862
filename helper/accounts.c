#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "accounts.h"
#include "err.h"
#include "identity.h"
#include "log.h"

/* The scan's condition for what a shadow entry says. */
static enum ao_scan_cond
cond_of(enum ao_condition c)
{
	return c == AO_COND_LOCKED ? AO_SCAN_LOCKED :
	    (c == AO_COND_EXPIRED || c == AO_COND_INACTIVE) ? AO_SCAN_EXPIRED :
	    AO_SCAN_NONE;
}

/* Judge one shadow entry for the account it belongs to. */
static int
judge(struct ao_scan_list *l, struct ao_scan_acct *a, const struct spwd *sp,
    long today)
{
	struct ao_account_status st;

	ao_account_inspect(sp, today, &st);
	a->cond = cond_of(st.cond);
	if ((a->key = ao_scan_keep(l, st.key)) == NULL)
		return AO_ERR_NOMEM;
	a->unknown = false;
	return AO_OK;
}

/*
 * Which account has a name: an open-addressing table of list indices, so
 * that each shadow entry finds its account in constant time (the list is
 * in passwd's order while shadow is read).
 */
struct index {
	unsigned *slot;       /* index + 1; 0 is empty */
	size_t mask;
};

static size_t
name_hash(const char *s)
{
	size_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int
index_build(struct index *ix, const struct ao_scan_list *l)
{
	size_t size = 16, i, h;

	while (size < 2 * l->n)
		size *= 2;
	if ((ix->slot = calloc(size, sizeof(*ix->slot))) == NULL)
		return AO_ERR_NOMEM;
	ix->mask = size - 1;
	for (i = 0; i < l->n; i++) {
		for (h = name_hash(l->v[i].name) & ix->mask; ix->slot[h] != 0;
		    h = (h + 1) & ix->mask)
			if (strcmp(l->v[ix->slot[h] - 1].name, l->v[i].name) == 0)
				break;  /* a name twice: the first counts */
		if (ix->slot[h] == 0)
			ix->slot[h] = (unsigned)i + 1;
	}
	return AO_OK;
}

static struct ao_scan_acct *
index_find(const struct index *ix, const struct ao_scan_list *l,
    const char *name)
{
	size_t h;

	for (h = name_hash(name) & ix->mask; ix->slot[h] != 0;
	    h = (h + 1) & ix->mask)
		if (strcmp(l->v[ix->slot[h] - 1].name, name) == 0)
			return &l->v[ix->slot[h] - 1];
	return NULL;
}

int
ao_accounts_read(const struct ao_config *cfg, struct ao_scan_list *out)
{
	struct index ix = { NULL, 0 };
	struct passwd *pw;
	struct spwd *sp;
	char email[AO_EMAIL_MAX];
	long today = ao_today();
	size_t i;
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
	while (r == AO_OK && (pw = getpwent()) != NULL) {
		struct ao_scan_acct *a;
		const char *src = NULL;

		if ((long)pw->pw_uid < cfg->min_uid ||
		    ao_strlist_has(&cfg->exclude, pw->pw_name) ||
		    !ao_username_ok(pw->pw_name))
			continue;
		if (ao_identity_email(cfg, pw->pw_name, pw->pw_gecos, email,
		    sizeof(email), &src) != AO_OK)
			email[0] = '\0';
		if ((a = ao_scan_add(out)) == NULL ||
		    (a->name = ao_scan_keep(out, pw->pw_name)) == NULL ||
		    (a->email = ao_scan_keep(out, email)) == NULL) {
			r = AO_ERR_NOMEM;
			break;
		}
		a->uid = (long)pw->pw_uid;
		a->source = src;
		a->nologin = ao_shell_nologin(pw->pw_shell);
		a->unknown = true;      /* until its shadow entry is seen */
	}
	endpwent();
	if (r != AO_OK || (r = index_build(&ix, out)) != AO_OK)
		return r;
	setspent();
	while (r == AO_OK && (sp = getspent()) != NULL) {
		struct ao_scan_acct *a = index_find(&ix, out, sp->sp_namp);

		if (a != NULL && a->unknown)
			r = judge(out, a, sp, today);
		explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp));
	}
	endspent();
	free(ix.slot);
	if (r != AO_OK)
		return r;
	ao_scan_sort(out);
	/* sources that do not list their shadow entries: ask one by one */
	for (i = 0; r == AO_OK && i < out->n; i++) {
		if (!out->v[i].unknown || (sp = getspnam(out->v[i].name)) == NULL)
			continue;
		r = judge(out, &out->v[i], sp, today);
		explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp));
	}
	return r;
}
