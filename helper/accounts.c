#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "accounts.h"
#include "err.h"
#include "identity.h"
#include "log.h"
#include "secfile.h"

#define PASSWD_FILE "/etc/passwd"
#define SHADOW_FILE AO_SHADOW_FILE
#define ENTRY_BUF_MIN 16384
#define ENTRY_BUF_MAX (1024 * 1024)
#define PASSWD_MAX_BYTES (64u * 1024 * 1024)

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
 * Which name is where: an open-addressing table of indices (+ 1; 0 is
 * empty) into an array of names, so that each lookup takes constant time.
 */
struct index {
	unsigned *slot;
	size_t mask;
};

static size_t
name_hash(const char *s, size_t len)
{
	size_t h = 0xcbf29ce484222325ULL, i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* name(i, ctx, &len): the i-th name (not NUL-terminated). */
typedef const char *(*name_fn)(size_t i, const void *ctx, size_t *len);

static int
index_build(struct index *ix, size_t n, name_fn name, const void *ctx)
{
	size_t size = 16, i, h, len, l2;

	while (size < 2 * n)
		size *= 2;
	if ((ix->slot = calloc(size, sizeof(*ix->slot))) == NULL)
		return AO_ERR_NOMEM;
	ix->mask = size - 1;
	for (i = 0; i < n; i++) {
		const char *s = name(i, ctx, &len);

		for (h = name_hash(s, len) & ix->mask; ix->slot[h] != 0;
		    h = (h + 1) & ix->mask) {
			const char *o = name(ix->slot[h] - 1, ctx, &l2);

			if (l2 == len && memcmp(o, s, len) == 0)
				break;  /* a name twice: the first counts */
		}
		if (ix->slot[h] == 0)
			ix->slot[h] = (unsigned)i + 1;
	}
	return AO_OK;
}

/* The index of name, or -1. */
static long
index_find(const struct index *ix, name_fn fn, const void *ctx,
    const char *name)
{
	size_t h, len = strlen(name), l2;

	for (h = name_hash(name, len) & ix->mask; ix->slot[h] != 0;
	    h = (h + 1) & ix->mask) {
		const char *o = fn(ix->slot[h] - 1, ctx, &l2);

		if (l2 == len && memcmp(o, name, len) == 0)
			return (long)ix->slot[h] - 1;
	}
	return -1;
}

static const char *
list_name(size_t i, const void *ctx, size_t *len)
{
	const struct ao_scan_list *l = ctx;

	*len = strlen(l->v[i].name);
	return l->v[i].name;
}

/* A buffer for the reentrant NSS calls, grown on ERANGE. */
struct nssbuf {
	char *p;
	size_t n;
};

static int
nssbuf_grow(struct nssbuf *b)
{
	size_t n = b->n ? b->n * 2 : ENTRY_BUF_MIN;
	char *p;

	if (n > ENTRY_BUF_MAX)
		return AO_ERR_NOMEM;
	if (b->p != NULL)
		explicit_bzero(b->p, b->n);  /* shadow entries were in it */
	free(b->p);
	b->p = NULL;
	b->n = 0;
	if ((p = malloc(n)) == NULL)
		return AO_ERR_NOMEM;
	b->p = p;
	b->n = n;
	return AO_OK;
}

static void
nssbuf_free(struct nssbuf *b)
{
	if (b->p != NULL)
		explicit_bzero(b->p, b->n);
	free(b->p);
	b->p = NULL;
	b->n = 0;
}

/*
 * What an NSS call answered: AO_OK with an entry, AO_ERR_NOTFOUND for
 * "no (more) entries", or an error already logged (what names the
 * database, for the message).
 */
static int
nss_answer(int e, const void *res, const char *what)
{
	if (e == 0 && res != NULL)
		return AO_OK;
	if (e == 0 || e == ENOENT)
		return AO_ERR_NOTFOUND;
	ao_err("cannot read the account database (%s): %s; the scan queues "
	    "nothing and tries again at its next run", what, strerror(e));
	return AO_ERR_SYSTEM;
}

/*
 * After an NSS call answered e: true to ask again, with b grown (it was
 * too small: ERANGE); else the answer in *r.  Before the first call
 * (e < 0): true once b has its first size (glibc takes no NULL buffer).
 */
static bool
nss_again(struct nssbuf *b, int e, const void *res, const char *what, int *r)
{
	if (e < 0 && b->p != NULL)
		return true;
	if (e < 0 || e == ERANGE)
		return (*r = nssbuf_grow(b)) == AO_OK;
	*r = nss_answer(e, res, what);
	return false;
}

static int
next_pw(struct passwd *pw, struct nssbuf *b, struct passwd **res)
{
	int e = -1, r;

	*res = NULL;
	while (nss_again(b, e, *res, "passwd", &r))
		e = getpwent_r(pw, b->p, b->n, res);
	return r;
}

static int
next_sp(struct spwd *sp, struct nssbuf *b, struct spwd **res)
{
	int e = -1, r;

	*res = NULL;
	while (nss_again(b, e, *res, "shadow", &r))
		e = getspent_r(sp, b->p, b->n, res);
	return r;
}

static int
pw_by_name(const char *name, struct passwd *pw, struct nssbuf *b,
    struct passwd **res)
{
	int e = -1, r;

	*res = NULL;
	while (nss_again(b, e, *res, "passwd", &r))
		e = getpwnam_r(name, pw, b->p, b->n, res);
	return r;
}

static int
sp_by_name(const char *name, struct spwd *sp, struct nssbuf *b,
    struct spwd **res)
{
	int e = -1, r;

	*res = NULL;
	while (nss_again(b, e, *res, "shadow", &r))
		e = getspnam_r(name, sp, b->p, b->n, res);
	return r;
}

/* Would the scan manage pw (the policy of read_passwd())? */
static bool
managed(const struct ao_config *cfg, const struct passwd *pw)
{
	return (long)pw->pw_uid >= cfg->min_uid &&
	    !ao_strlist_has(&cfg->exclude, pw->pw_name) &&
	    ao_username_ok(pw->pw_name);
}

/* Every managed account in passwd, in out (unsorted, all unknown). */
static int
read_passwd(const struct ao_config *cfg, struct ao_scan_list *out)
{
	struct nssbuf b = { NULL, 0 };
	struct passwd pw, *res;
	char email[AO_EMAIL_MAX];
	int r;

	setpwent();
	while ((r = next_pw(&pw, &b, &res)) == AO_OK) {
		struct ao_scan_acct *a;
		const char *src = NULL;

		if (!managed(cfg, &pw))
			continue;
		if (ao_identity_email(cfg, pw.pw_name, pw.pw_gecos, email,
		    sizeof(email), &src) != AO_OK)
			email[0] = '\0';
		if ((a = ao_scan_add(out)) == NULL ||
		    (a->name = ao_scan_keep(out, pw.pw_name)) == NULL ||
		    (a->email = ao_scan_keep(out, email)) == NULL) {
			r = AO_ERR_NOMEM;
			break;
		}
		a->uid = (long)pw.pw_uid;
		a->source = src;
		a->nologin = ao_shell_nologin(pw.pw_shell);
		a->unknown = true;      /* until its shadow entry is seen */
	}
	endpwent();
	nssbuf_free(&b);
	return r == AO_ERR_NOTFOUND ? AO_OK : r;
}

/* Judge every account of l (sorted) that shadow lists. */
static int
read_shadow(struct ao_scan_list *l, long today)
{
	struct nssbuf b = { NULL, 0 };
	struct index ix = { NULL, 0 };
	struct spwd sp, *res;
	long i;
	int r;

	if ((r = index_build(&ix, l->n, list_name, l)) != AO_OK)
		return r;
	setspent();
	while ((r = next_sp(&sp, &b, &res)) == AO_OK) {
		if ((i = index_find(&ix, list_name, l, sp.sp_namp)) >= 0 &&
		    l->v[i].unknown)
			r = judge(l, &l->v[i], &sp, today);
		explicit_bzero(sp.sp_pwdp, strlen(sp.sp_pwdp));
		if (r != AO_OK)
			break;
	}
	endspent();
	free(ix.slot);
	nssbuf_free(&b);
	return r == AO_ERR_NOTFOUND ? AO_OK : r;
}

int
ao_accounts_read(const struct ao_config *cfg, struct ao_scan_list *out)
{
	struct nssbuf b = { NULL, 0 };
	struct spwd sp, *res;
	long today = ao_today();
	size_t i, unknown = 0;
	const char *first = NULL;
	int fd, r;

	/* NSS answers "no entry" when it cannot read the file, and
	 * nss-systemd makes up entries for root and nobody: ask the file */
	if ((fd = open(SHADOW_FILE, O_RDONLY | O_CLOEXEC)) < 0 &&
	    (errno == EACCES || errno == EPERM)) {
		ao_err("cannot read " SHADOW_FILE ": run the scan as root or "
		    "with CAP_DAC_READ_SEARCH");
		return AO_ERR_PERM;
	}
	if (fd < 0 && errno != ENOENT) {
		ao_err("cannot read " SHADOW_FILE ": %s; the scan queues "
		    "nothing and tries again at its next run", strerror(errno));
		return AO_ERR_SYSTEM;
	}
	if (fd >= 0)
		close(fd);
	if ((r = read_passwd(cfg, out)) != AO_OK)
		return r;
	ao_scan_sort(out);
	if ((r = read_shadow(out, today)) != AO_OK)
		return r;
	/* sources that do not list their shadow entries: ask one by one */
	for (i = 0; r == AO_OK && i < out->n; i++) {
		if (!out->v[i].unknown)
			continue;
		if ((r = sp_by_name(out->v[i].name, &sp, &b, &res)) == AO_OK) {
			r = judge(out, &out->v[i], &sp, today);
			explicit_bzero(sp.sp_pwdp, strlen(sp.sp_pwdp));
		} else if (r == AO_ERR_NOTFOUND) {
			r = AO_OK;
			if (unknown++ == 0)
				first = out->v[i].name;
		}
	}
	nssbuf_free(&b);
	if (r == AO_OK && unknown > 0)
		ao_warn("%zu accounts (%s%s) have no shadow entry that could be "
		    "read: their locks and expiry are not judged by this scan",
		    unknown, first, unknown > 1 ? ", ..." : "");
	return r;
}

/* The names in the text of a passwd file: each line up to its ':'. */
struct passwd_names {
	const char **name;
	size_t *len;
	size_t n;
};

static const char *
file_name(size_t i, const void *ctx, size_t *len)
{
	const struct passwd_names *p = ctx;

	*len = p->len[i];
	return p->name[i];
}

static int
passwd_names(char *text, size_t tlen, struct passwd_names *p)
{
	size_t lines = 1, i;
	char *s = text, *end = text + tlen, *nl, *colon;

	for (i = 0; i < tlen; i++)
		lines += text[i] == '\n';
	p->n = 0;
	if ((p->name = calloc(lines, sizeof(*p->name))) == NULL ||
	    (p->len = calloc(lines, sizeof(*p->len))) == NULL)
		return AO_ERR_NOMEM;
	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		colon = memchr(s, ':', (size_t)(nl - s));
		/* "+name" and "-name" (compat) are not accounts of the file */
		if (colon != NULL && colon > s && *s != '+' && *s != '-') {
			p->name[p->n] = s;
			p->len[p->n++] = (size_t)(colon - s);
		}
	}
	return AO_OK;
}

int
ao_accounts_confirm_gone(const struct ao_config *cfg,
    const char *const *names, size_t n, bool *gone)
{
	struct passwd_names pn = { NULL, NULL, 0 };
	struct index ix = { NULL, 0 };
	struct nssbuf b = { NULL, 0 };
	struct passwd pw, *res;
	char *text = NULL;
	size_t len = 0, i;
	int fd, r = AO_OK;

	if (n == 0)
		return AO_OK;
	/* a file NSS could not read looks empty to it: read it ourselves */
	if ((fd = open(PASSWD_FILE, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		ao_err("cannot read " PASSWD_FILE " to confirm that %zu "
		    "accounts were deleted: %s; the scan queues nothing and "
		    "tries again at its next run", n, strerror(errno));
		return AO_ERR_SYSTEM;
	}
	r = ao_file_read_fd(fd, PASSWD_MAX_BYTES, &text, &len);
	close(fd);
	if (r != AO_OK) {
		ao_err("cannot read " PASSWD_FILE " to confirm that %zu "
		    "accounts were deleted; the scan queues nothing and tries "
		    "again at its next run", n);
		goto out;
	}
	if ((r = passwd_names(text, len, &pn)) != AO_OK ||
	    (r = index_build(&ix, pn.n, file_name, &pn)) != AO_OK)
		goto out;
	for (i = 0; i < n && r == AO_OK; i++) {
		gone[i] = false;
		r = pw_by_name(names[i], &pw, &b, &res);
		if (r == AO_OK && !managed(cfg, &pw)) {
			ao_info("account %s is no longer managed (accounts."
			    "min_uid, accounts.exclude): forgotten, not "
			    "revoked", names[i]);
			continue;
		}
		if (r == AO_OK || (r == AO_ERR_NOTFOUND &&
		    index_find(&ix, file_name, &pn, names[i]) >= 0)) {
			ao_err("account %s was not listed by the account "
			    "database, but it exists: the database answered "
			    "only in part (a file that could not be read, an "
			    "NSS source failing for a moment?); the scan "
			    "queues nothing and tries again at its next run",
			    names[i]);
			r = AO_ERR_TEMP;
		} else if (r == AO_ERR_NOTFOUND) {
			gone[i] = true;
			r = AO_OK;
		}
	}
out:
	nssbuf_free(&b);
	free(ix.slot);
	free(pn.name);
	free(pn.len);
	free(text);
	return r;
}
