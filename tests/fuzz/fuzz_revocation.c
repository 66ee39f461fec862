/*
 * libFuzzer harness: ao_json_revocation(), one AccessRevocation record
 * (bare or {"data": ...}) as the AccessOwl server (untrusted) sends it.
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
	struct ao_revocation rev;
	int r;

	r = ao_json_revocation((const char *)data, size, &rev);
	if (r == AO_OK && !ao_id_valid(rev.id))
		abort();
	if (r != AO_OK && (rev.id != NULL || rev.status != NULL ||
	    rev.application_id != NULL))
		abort();    /* a refused record leaves nothing behind */
	ao_revocation_free(&rev);
	return 0;
}
