/*
 * libFuzzer harness: ao_spool_json_load(), a spool event record, plus a
 * round trip: whatever loads must dump, load again and dump identically.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "record.h"
#include "spool_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_event_rec ev, ev2;
	char *dump = NULL, *dump2 = NULL;

	if (ao_event_init(&ev) != AO_OK || ao_event_init(&ev2) != AO_OK)
		abort();
	if (ao_spool_json_load((const char *)data, size, &ev, NULL, 0) == AO_OK) {
		if (ao_spool_json_dump(&ev, &dump) != AO_OK)
			abort();
		if (ao_spool_json_load(dump, strlen(dump), &ev2, NULL, 0) != AO_OK)
			abort();    /* we cannot read back what we wrote */
		if (ao_spool_json_dump(&ev2, &dump2) != AO_OK ||
		    strcmp(dump, dump2) != 0)
			abort();    /* the round trip changed the record */
	}
	free(dump);
	free(dump2);
	ao_event_free(&ev);
	ao_event_free(&ev2);
	return 0;
}
