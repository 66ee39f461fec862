/*
 * libFuzzer harness: ao_json_states_page(), one page of
 * GET /api/v1/access_states as the AccessOwl server (untrusted) sends it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "api_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_states states = { 0 };
	struct ao_page page;
	size_t i;

	if (ao_json_states_page((const char *)data, size, &states, &page) == AO_OK) {
		/* every row is kept, and every kept row can be named */
		if (states.n != page.rows)
			abort();
		for (i = 0; i < states.n; i++)
			if (!ao_id_valid(states.v[i].id) ||
			    (states.v[i].active && states.v[i].end_missing))
				abort();
		ao_page_free(&page);
	}
	ao_states_free(&states);
	return 0;
}
