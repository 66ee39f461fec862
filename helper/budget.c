/* The collector's budget per sender: see budget.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "budget.h"

struct seen {
	char *person;
	long long at;        /* last reported */
};

struct sender {
	char *name;
	long long last;      /* last report admitted or refused */
	struct seen *v;
	size_t n, cap;
};

struct ao_budget {
	long limit;
	struct sender *s;
	size_t n, cap;
};

struct ao_budget *
ao_budget_new(long limit)
{
	struct ao_budget *b = calloc(1, sizeof(*b));

	if (b != NULL)
		b->limit = limit < 0 ? 0 : limit;
	return b;
}

static void
sender_free(struct sender *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].person);
	free(s->v);
	free(s->name);
}

void
ao_budget_free(struct ao_budget *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		sender_free(&b->s[i]);
	free(b->s);
	free(b);
}

/* Forget what s saw more than a window ago.  Seen "later" than now, the
 * clock was stepped back: counted from now, so it still goes within the
 * hour rather than once the clock has caught up. */
static void
expire(struct sender *s, long long now)
{
	size_t i, k = 0;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].at > now)
			s->v[i].at = now;
		if (now - s->v[i].at >= AO_BUDGET_WINDOW) {
			free(s->v[i].person);
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
}

/* The sender's slot, made (forgetting the one quiet longest when
 * AO_BUDGET_SENDERS are followed); NULL when out of memory. */
static struct sender *
find(struct ao_budget *b, const char *name)
{
	struct sender *s;
	size_t i, old = 0;

	for (i = 0; i < b->n; i++)
		if (strcasecmp(b->s[i].name, name) == 0)
			return &b->s[i];
	if (b->n == AO_BUDGET_SENDERS) {
		for (i = 1; i < b->n; i++)
			if (b->s[i].last < b->s[old].last)
				old = i;
		sender_free(&b->s[old]);
		b->s[old] = b->s[--b->n];
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;

		if ((s = realloc(b->s, cap * sizeof(*s))) == NULL)
			return NULL;
		b->s = s;
		b->cap = cap;
	}
	s = &b->s[b->n];
	memset(s, 0, sizeof(*s));
	if ((s->name = strdup(name)) == NULL)
		return NULL;
	b->n++;
	return s;
}

bool
ao_budget_admit(struct ao_budget *b, const char *sender, const char *person,
    long long now)
{
	struct sender *s;
	size_t i;

	if (b->limit == 0)
		return true;
	if ((s = find(b, sender)) == NULL)
		return false;
	s->last = now;
	expire(s, now);
	for (i = 0; i < s->n; i++)
		if (strcasecmp(s->v[i].person, person) == 0) {
			s->v[i].at = now;
			return true;
		}
	if (s->n >= (size_t)b->limit)
		return false;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		struct seen *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return false;
		s->v = v;
		s->cap = cap;
	}
	if ((s->v[s->n].person = strdup(person)) == NULL)
		return false;
	s->v[s->n++].at = now;
	return true;
}
