#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "counters.h"
#include "err.h"
#include "spool.h"

#define SUB "metrics"
#define NAME "counters"

static void
parse(const char *line, struct ao_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (sscanf(line, "requests %llu rate_limited %llu", &c->requests,
	    &c->rate_limited) != 2)
		memset(c, 0, sizeof(*c));
}

void
ao_counters_read(const char *state_dir, struct ao_counters *c)
{
	char line[256];

	if (ao_record_read(state_dir, SUB, NAME, line, sizeof(line)) != AO_OK)
		line[0] = '\0';
	parse(line, c);
}

static void
add(char *line, size_t size, void *ctx)
{
	const struct ao_counters *a = ctx;
	struct ao_counters c;

	parse(line, &c);
	snprintf(line, size, "requests %llu rate_limited %llu",
	    c.requests + a->requests, c.rate_limited + a->rate_limited);
}

int
ao_counters_add(const char *state_dir, const struct ao_counters *a)
{
	return ao_record_update(state_dir, SUB, NAME, add,
	    (void *)(uintptr_t)a);
}
