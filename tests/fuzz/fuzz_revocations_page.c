/*
 * libFuzzer harness: ao_json_revocations_page(), one page of GET
 * /api/v1/access_revocations (the pending check that may skip a state) as
 * the AccessOwl server (untrusted) sends it.  Every row is counted, kept
 * or skipped; every kept row is named, with valid ids throughout.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "api_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_revocations revs = { 0 };
	struct ao_page page;
	size_t i, j;

	if (ao_json_revocations_page((const char *)data, size, &revs,
	    &page) == AO_OK) {
		if (revs.n + page.skipped != page.rows)
			abort();
		for (i = 0; i < revs.n; i++) {
			const struct ao_revocation *r = &revs.v[i];

			if (!ao_id_valid(r->id) ||
			    (r->resource_id && !ao_id_valid(r->resource_id)) ||
			    (r->application_id && !ao_id_valid(r->application_id)))
				abort();
			for (j = 0; j < r->perms.n; j++)
				if (!ao_id_valid(r->perms.v[j]))
					abort();
		}
		ao_page_free(&page);
	}
	ao_revocations_free(&revs);
	return 0;
}
