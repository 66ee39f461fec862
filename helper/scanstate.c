#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "err.h"
#include "identity.h"
#include "log.h"
#include "scanstate.h"
#include "spool.h"

#define STATE_FILE "scan.state"
#define STATE_HEADER "accessowl-scan 2\n"
#define STATE_MAX ((size_t)1 << 30)   /* 1 GiB: millions of accounts */
#define OLD_DIR "accounts"            /* before version 2 */
#define ARENA_BLOCK ((size_t)64 << 10)

/* Strings of a list: blocks that are freed together (a block may hold a
 * buffer taken over instead, ext). */
struct ao_arena {
	struct ao_arena *next;
	char *ext;
	size_t used, size;
	char data[];
};

static const char *const cond_names[] = { "none", "locked", "expired" };

const char *
ao_scan_cond_name(enum ao_scan_cond c)
{
	return (unsigned)c < 3 ? cond_names[c] : "?";
}

static char *
arena_alloc(struct ao_scan_list *l, size_t n)
{
	struct ao_arena *a = l->arena;

	if (a == NULL || a->size - a->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		if ((a = malloc(sizeof(*a) + size)) == NULL)
			return NULL;
		a->ext = NULL;
		a->next = l->arena;
		a->used = 0;
		a->size = size;
		l->arena = a;
	}
	a->used += n;
	return a->data + a->used - n;
}

const char *
ao_scan_keep(struct ao_scan_list *l, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n == 1)
		return "";
	if ((p = arena_alloc(l, n)) == NULL)
		return NULL;
	return memcpy(p, s, n);
}

struct ao_scan_acct *
ao_scan_add(struct ao_scan_list *l)
{
	struct ao_scan_acct *a;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 1024;
		struct ao_scan_acct *nv = reallocarray(l->v, nc, sizeof(*nv));

		if (nv == NULL)
			return NULL;
		l->v = nv;
		l->cap = nc;
	}
	a = &l->v[l->n++];
	memset(a, 0, sizeof(*a));
	a->name = a->key = a->email = "";
	return a;
}

static int
cmp_name(const void *x, const void *y)
{
	return strcmp(((const struct ao_scan_acct *)x)->name,
	    ((const struct ao_scan_acct *)y)->name);
}

void
ao_scan_sort(struct ao_scan_list *l)
{
	size_t i, o;

	if (l->n < 2)
		return;
	/* the state file is written sorted: no need to sort it again */
	for (i = 1; i < l->n && strcmp(l->v[i - 1].name, l->v[i].name) < 0; i++)
		;
	if (i == l->n)
		return;
	/* stable enough: the first of equal names was added first */
	qsort(l->v, l->n, sizeof(l->v[0]), cmp_name);
	for (i = 1, o = 1; i < l->n; i++)
		if (strcmp(l->v[i].name, l->v[o - 1].name) != 0)
			l->v[o++] = l->v[i];
	l->n = o;
}

struct ao_scan_acct *
ao_scan_find(const struct ao_scan_list *l, const char *name)
{
	struct ao_scan_acct key;

	if (l->n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = name;
	return bsearch(&key, l->v, l->n, sizeof(l->v[0]), cmp_name);
}

void
ao_scan_list_free(struct ao_scan_list *l)
{
	struct ao_arena *a, *next;

	if (l == NULL)
		return;
	for (a = l->arena; a != NULL; a = next) {
		next = a->next;
		free(a->ext);
		free(a);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* A field that holds no control byte (it may be printed) and fits max. */
static bool
clean_field(const char *f, size_t max)
{
	size_t n = 0;

	for (; *f; f++, n++)
		if ((unsigned char)*f < 0x20 || *f == 0x7f || n >= max)
			return false;
	return true;
}

/* A uid: digits (at most 10), or -1. */
static bool
parse_uid(const char *s, long *out)
{
	long v = 0;
	size_t n;

	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return true;
	}
	for (n = 0; s[n] >= '0' && s[n] <= '9' && n < 10; n++)
		v = v * 10 + (s[n] - '0');
	if (n == 0 || s[n] != '\0')
		return false;
	*out = v;
	return true;
}

bool
ao_scan_line_parse(char *line, struct ao_scan_acct *a)
{
	char *f[6], *s = line;
	size_t k = 0;
	int i;

	memset(a, 0, sizeof(*a));
	while (k < 6) {
		f[k++] = s;
		if ((s = strchr(s, '\t')) == NULL)
			break;
		*s++ = '\0';
	}
	if (k != 6 || s != NULL || !ao_username_ok(f[0]))
		return false;
	if (!parse_uid(f[1], &a->uid))
		return false;
	for (i = 0; i < 3 && strcmp(f[2], cond_names[i]) != 0; i++)
		;
	if (i == 3)
		return false;
	a->cond = (enum ao_scan_cond)i;
	if (strcmp(f[4], "login") != 0 && strcmp(f[4], "nologin") != 0)
		return false;
	a->nologin = f[4][0] == 'n';
	if (!clean_field(f[3], AO_EPISODE_KEY_MAX - 1) ||
	    !clean_field(f[5], AO_EMAIL_MAX - 1))
		return false;
	a->name = f[0];
	a->key = strcmp(f[3], "-") ? f[3] : "";
	a->email = strcmp(f[5], "-") ? f[5] : "";
	return true;
}

/* Append s and a separator to out[*o..n); false if it does not fit. */
static bool
put(char *out, size_t n, size_t *o, const char *s, char sep)
{
	size_t l = strlen(s);

	if (*o + l + 2 > n)
		return false;
	memcpy(out + *o, s, l);
	out[*o + l] = sep;
	*o += l + 1;
	return true;
}

bool
ao_scan_line_format(const struct ao_scan_acct *a, char *out, size_t n)
{
	char uid[24], *u = uid + sizeof(uid) - 1;
	unsigned long v = a->uid < 0 ? (unsigned long)-a->uid :
	    (unsigned long)a->uid;
	size_t o = 0;

	/* no printf: the scan writes 100,000 of these */
	*u = '\0';
	do
		*--u = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (a->uid < 0)
		*--u = '-';
	if (!put(out, n, &o, a->name, '\t') || !put(out, n, &o, u, '\t') ||
	    !put(out, n, &o, ao_scan_cond_name(a->cond), '\t') ||
	    !put(out, n, &o, a->key[0] ? a->key : "-", '\t') ||
	    !put(out, n, &o, a->nologin ? "nologin" : "login", '\t') ||
	    !put(out, n, &o, a->email[0] ? a->email : "-", '\n'))
		return false;
	out[o] = '\0';
	return true;
}

/* Hand text over to the list: it is freed with the list's strings. */
static int
adopt(struct ao_scan_list *l, char *text)
{
	struct ao_arena *a = malloc(sizeof(*a));

	if (a == NULL)
		return AO_ERR_NOMEM;
	a->ext = text;
	a->used = a->size = 0;   /* nothing to allocate from */
	a->next = l->arena;
	l->arena = a;
	return AO_OK;
}

int
ao_scan_text_parse(char *text, size_t len, struct ao_scan_list *out)
{
	size_t hl = strlen(STATE_HEADER), bad = 0;
	char *p, *nl;
	int r;

	if ((r = adopt(out, text)) != AO_OK) {
		free(text);
		return r;
	}
	if (len < hl || memcmp(text, STATE_HEADER, hl) != 0 ||
	    memchr(text, '\0', len) != NULL)
		return AO_ERR_DATA;
	text[len] = '\0';
	for (p = text + hl; *p; p = nl + 1) {
		struct ao_scan_acct a, *d;
		bool cut = (nl = strchr(p, '\n')) == NULL;

		if (!cut)
			*nl = '\0';
		if (cut || !ao_scan_line_parse(p, &a)) {
			/* its name, if it has one: judged as by --initial */
			bad++;
			p[strcspn(p, "\t")] = '\0';
			if (ao_username_ok(p)) {
				if ((d = ao_scan_add(out)) == NULL)
					return AO_ERR_NOMEM;
				d->name = p;
				d->damaged = true;
			}
			if (cut)
				break;
			continue;
		}
		if ((d = ao_scan_add(out)) == NULL)
			return AO_ERR_NOMEM;
		*d = a;
	}
	if (bad)
		ao_warn("%s: %zu damaged lines; those accounts are judged as "
		    "by scan --initial (what is locked or expired now is "
		    "queued, unless its episode was queued already)",
		    STATE_FILE, bad);
	ao_scan_sort(out);
	return AO_OK;
}

/* Version 1: one file per account in accounts/, "v1\t<the rest>". */
static int
read_old(const char *state_dir, struct ao_scan_list *out, bool *exists)
{
	char path[4200], rec[1024], line[1200];
	struct dirent *de;
	DIR *d;
	int w;

	snprintf(path, sizeof(path), "%s/%s", state_dir, OLD_DIR);
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? AO_OK : AO_ERR_SYSTEM;
	*exists = true;
	while ((de = readdir(d)) != NULL) {
		struct ao_scan_acct a, *dst;
		char *l;

		if (!ao_username_ok(de->d_name) ||
		    ao_record_read(state_dir, OLD_DIR, de->d_name, rec,
		    sizeof(rec)) != AO_OK || strncmp(rec, "v1\t", 3) != 0)
			continue;
		w = snprintf(line, sizeof(line), "%.64s\t%.1000s", de->d_name,
		    rec + 3);
		if (w < 0 || (size_t)w >= sizeof(line))
			continue;
		if ((l = arena_alloc(out, (size_t)w + 1)) == NULL) {
			closedir(d);
			return AO_ERR_NOMEM;
		}
		memcpy(l, line, (size_t)w + 1);
		if (!ao_scan_line_parse(l, &a))
			continue;
		if ((dst = ao_scan_add(out)) == NULL) {
			closedir(d);
			return AO_ERR_NOMEM;
		}
		*dst = a;
	}
	closedir(d);
	ao_scan_sort(out);
	return AO_OK;
}

int
ao_scan_state_read(const char *state_dir, struct ao_scan_list *out,
    bool *exists)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*exists = false;
	r = ao_state_read(state_dir, STATE_FILE, STATE_MAX, &text, &len);
	if (r == AO_ERR_NOTFOUND)
		return read_old(state_dir, out, exists);
	if (r != AO_OK)
		return r;
	*exists = true;
	if ((r = ao_scan_text_parse(text, len, out)) == AO_ERR_DATA) {
		/* a baseline now would lose every lock since the last scan */
		ao_warn("%s/%s is damaged (empty, or not a scan state): every "
		    "account is judged as by scan --initial (what is locked or "
		    "expired now is queued, unless its episode was queued "
		    "already); deletions since the last good scan cannot be "
		    "seen", state_dir, STATE_FILE);
		ao_scan_list_free(out);
		out->damaged = true;
		r = AO_OK;
	}
	return r;
}

int
ao_scan_state_write(const char *state_dir, const struct ao_scan_list *l)
{
	struct ao_state_out o;
	char line[1024];
	size_t i;
	int r;

	if ((r = ao_state_begin(&o, state_dir)) != AO_OK)
		return r;
	ao_state_put(&o, STATE_HEADER, strlen(STATE_HEADER));
	for (i = 0; i < l->n; i++)
		if (!l->v[i].unknown &&
		    ao_scan_line_format(&l->v[i], line, sizeof(line)))
			ao_state_put(&o, line, strlen(line));
	if ((r = ao_state_commit(&o, STATE_FILE)) != AO_OK)
		return r;
	return ao_state_remove_dir(state_dir, OLD_DIR);
}

/*
 * The deletions the guard holds (scan.h): <state_dir>/scan.held,
 *   accessowl-scan-held 1
 *   <since> <held> <kept>
 *   <name>            one line an account held
 */
#define HELD_FILE "scan.held"
#define HELD_HEADER "accessowl-scan-held 1\n"
#define HELD_MAX ((size_t)64 << 20)

int
ao_scan_held_write(const char *state_dir, long long since, size_t kept,
    const char *const *names, size_t n)
{
	struct ao_state_out o;
	char line[128];
	size_t i;
	int r;

	if ((r = ao_state_begin(&o, state_dir)) != AO_OK)
		return r;
	ao_state_put(&o, HELD_HEADER, strlen(HELD_HEADER));
	snprintf(line, sizeof(line), "%lld %zu %zu\n", since, n, kept);
	ao_state_put(&o, line, strlen(line));
	for (i = 0; i < n; i++) {
		ao_state_put(&o, names[i], strlen(names[i]));
		ao_state_put(&o, "\n", 1);
	}
	return ao_state_commit(&o, HELD_FILE);
}

int
ao_scan_held_read(const char *state_dir, struct ao_scan_held *h)
{
	size_t hl = strlen(HELD_HEADER), len = 0, k = 0;
	char *text = NULL, *p, *nl, *end;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = ao_state_read(state_dir, HELD_FILE, HELD_MAX, &text,
	    &len)) != AO_OK)
		return r;
	r = AO_ERR_DATA;
	if (len < hl || memcmp(text, HELD_HEADER, hl) != 0)
		goto out;
	errno = 0;
	h->since = strtoll(text + hl, &end, 10);
	if (errno != 0 || *end != ' ' || h->since < 0)
		goto out;
	h->held = (size_t)strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != ' ')
		goto out;
	h->kept = (size_t)strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\n')
		goto out;
	/* the first few names, for people */
	for (p = end + 1; *p && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (!ao_username_ok(p))
			continue;
		if (k + strlen(p) + 6 >= sizeof(h->names)) {
			snprintf(h->names + k, sizeof(h->names) - k, ", ...");
			break;
		}
		k += (size_t)snprintf(h->names + k, sizeof(h->names) - k,
		    "%s%s", k ? ", " : "", p);
	}
	r = AO_OK;
out:
	free(text);
	if (r == AO_ERR_DATA)
		ao_warn("%s/%s is damaged: the scan rewrites it at its next "
		    "run", state_dir, HELD_FILE);
	return r;
}

int
ao_scan_held_clear(const char *state_dir)
{
	return ao_state_remove(state_dir, HELD_FILE);
}
