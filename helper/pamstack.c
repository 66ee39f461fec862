#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pamstack.h"

#define MODULE "pam_accessowl.so"
#define DEFAULT_DIR "/etc/pam.d"
#define VENDOR_DIR "/usr/lib/pam.d"
#define MAX_DEPTH 8
#define LINE_MAX_BYTES 4096

enum ptype { T_ACCOUNT, T_SESSION, T_OTHER };

/* One line of a flattened stack. */
struct pline {
	char control[64];
	char module[64];      /* base name */
	bool enforce;
};

struct stack {
	struct pline *v;
	size_t n, cap;
};

struct walk {
	const char *dir;
	struct stack st[2];
	struct ao_pam_service *out;
};

static enum ptype
type_of(const char *t)
{
	if (*t == '-')
		t++;
	return strcmp(t, "account") == 0 ? T_ACCOUNT :
	    strcmp(t, "session") == 0 ? T_SESSION : T_OTHER;
}

/* The next field of *p: a word, or a whole "[...]" control. */
static char *
field(char **p)
{
	char *s = *p, *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return NULL;
	if (*s == '[' && (e = strchr(s, ']')) != NULL)
		e++;
	else
		for (e = s; *e && !isspace((unsigned char)*e); e++)
			;
	if (*e != '\0')
		*e++ = '\0';
	*p = e;
	return s;
}

static FILE *
open_conf(const char *dir, const char *name, char *path, size_t n)
{
	FILE *f;

	if (strchr(name, '/') != NULL) {
		snprintf(path, n, "%s", name);
		return fopen(path, "re");
	}
	snprintf(path, n, "%s/%s", dir, name);
	if ((f = fopen(path, "re")) != NULL || errno != ENOENT ||
	    strcmp(dir, DEFAULT_DIR) != 0)
		return f;
	/* Linux-PAM's vendor directory, where a distribution ships them */
	snprintf(path, n, "%s/%s", VENDOR_DIR, name);
	if ((f = fopen(path, "re")) == NULL)
		snprintf(path, n, "%s/%s", dir, name);
	return f;
}

static int
push(struct stack *s, const char *control, const char *module, char *args)
{
	const char *base = strrchr(module, '/');
	struct pline *l;
	char *a;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		struct pline *nv = reallocarray(s->v, nc, sizeof(*nv));

		if (nv == NULL)
			return AO_ERR_NOMEM;
		s->v = nv;
		s->cap = nc;
	}
	l = &s->v[s->n++];
	memset(l, 0, sizeof(*l));
	snprintf(l->control, sizeof(l->control), "%s", control);
	snprintf(l->module, sizeof(l->module), "%s", base ? base + 1 : module);
	while ((a = field(&args)) != NULL)
		if (strcmp(a, "enforce") == 0)
			l->enforce = true;
	return AO_OK;
}

/* Read one file; only: the one type an `include` control takes, or
 * T_OTHER for every type (@include, the service itself). */
static int
read_conf(struct walk *w, const char *name, enum ptype only, int depth)
{
	char path[512], line[LINE_MAX_BYTES], *p, *t, *c, *m;
	size_t len = 0;
	FILE *f;
	int r = AO_OK;

	if (depth > MAX_DEPTH) {
		snprintf(w->out->error, sizeof(w->out->error), "includes "
		    "nested deeper than %d at %s", MAX_DEPTH, name);
		return AO_OK;
	}
	if ((f = open_conf(w->dir, name, path, sizeof(path))) == NULL) {
		if (depth > 0)
			snprintf(w->out->error, sizeof(w->out->error),
			    "cannot read %s: %s", path, strerror(errno));
		return AO_OK;
	}
	if (depth == 0) {
		w->out->exists = true;
		snprintf(w->out->file, sizeof(w->out->file), "%s", path);
	}
	while (r == AO_OK && fgets(line + len, (int)(sizeof(line) - len),
	    f) != NULL) {
		enum ptype ty;

		line[strcspn(line, "#")] = '\0';
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\\' && len < sizeof(line) - 2) {
			line[len - 1] = ' ';    /* continued on the next line */
			continue;
		}
		len = 0;
		p = line;
		if ((t = field(&p)) == NULL)
			continue;
		if (strcmp(t, "@include") == 0) {
			if ((m = field(&p)) != NULL)
				r = read_conf(w, m, only, depth + 1);
			continue;
		}
		ty = type_of(t);
		if (ty == T_OTHER || (only != T_OTHER && ty != only) ||
		    (c = field(&p)) == NULL || (m = field(&p)) == NULL)
			continue;
		if (strcmp(c, "include") == 0 || strcmp(c, "substack") == 0)
			r = read_conf(w, m, ty, depth + 1);
		else
			r = push(&w->st[ty], c, m, p);
	}
	fclose(f);
	return r;
}

/* The action a bracket control gives value ("" when none). */
static void
action(const char *control, const char *value, char *out, size_t n)
{
	char key[40];
	const char *p;
	size_t kl;

	out[0] = '\0';
	kl = (size_t)snprintf(key, sizeof(key), "%s=", value);
	for (p = control + 1; (p = strstr(p, key)) != NULL; p += kl)
		if (p[-1] == '[' || isspace((unsigned char)p[-1])) {
			snprintf(out, n, "%.*s", (int)strcspn(p + kl, " \t]"),
			    p + kl);
			return;
		}
}

/* What line i does when its module succeeds: goes on (-1), ends the
 * stack (0), or jumps to line (result - 1). */
static long
on_success(const struct pline *l, size_t i)
{
	char act[32], *end;
	long jump;

	if (strcmp(l->control, "sufficient") == 0)
		return 0;
	if (l->control[0] != '[')
		return -1;
	action(l->control, "success", act, sizeof(act));
	if (act[0] == '\0')
		action(l->control, "default", act, sizeof(act));
	if (strcmp(act, "done") == 0)
		return 0;
	errno = 0;
	jump = strtol(act, &end, 10);
	if (act[0] != '\0' && *end == '\0' && errno == 0 && jump > 0)
		return (long)i + jump + 2;
	return -1;
}

/* Would this control make PAM_PERM_DENIED the stack's failure? */
static bool
refuses(const char *control)
{
	char act[32];

	if (strcmp(control, "required") == 0 ||
	    strcmp(control, "requisite") == 0)
		return true;
	if (control[0] != '[')
		return false;
	action(control, "perm_denied", act, sizeof(act));
	if (act[0] == '\0')
		action(control, "default", act, sizeof(act));
	return strcmp(act, "bad") == 0 || strcmp(act, "die") == 0;
}

static void
judge(const struct stack *s, struct ao_pam_stack *out)
{
	size_t i, m;

	memset(out, 0, sizeof(*out));
	for (m = 0; m < s->n && strcmp(s->v[m].module, MODULE) != 0; m++)
		;
	if (m == s->n)
		return;
	out->present = true;
	out->enforce = s->v[m].enforce;
	out->can_refuse = refuses(s->v[m].control);
	snprintf(out->control, sizeof(out->control), "%s", s->v[m].control);
	for (i = 0; i < m && !out->skipped; i++) {
		long to = on_success(&s->v[i], i);

		if (to == 0 || to - 1 > (long)m) {
			out->skipped = true;
			snprintf(out->skipper, sizeof(out->skipper), "%s %s",
			    s->v[i].control, s->v[i].module);
		}
	}
}

int
ao_pam_inspect(const char *dir, const char *service,
    struct ao_pam_service *out)
{
	struct walk w;
	int r, t;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.dir = dir ? dir : DEFAULT_DIR;
	w.out = out;
	r = read_conf(&w, service, T_OTHER, 0);
	if (r == AO_OK) {
		judge(&w.st[T_ACCOUNT], &out->account);
		judge(&w.st[T_SESSION], &out->session);
	}
	for (t = 0; t < 2; t++)
		free(w.st[t].v);
	return r;
}
