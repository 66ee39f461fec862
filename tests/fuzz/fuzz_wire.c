/*
 * libFuzzer harness: ao_wire_decode(), a relay message as `ingest` reads
 * it from a host, plus a round trip: whatever is taken must encode, and
 * decode again to the same event.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "record.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const char *a, const char *b)
{
	if (strcmp(a, b) != 0)
		abort();    /* the round trip changed the event */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_event_rec ev, ev2;
	char why[256], *msg = NULL;
	size_t len;

	if (ao_event_init(&ev) != AO_OK || ao_event_init(&ev2) != AO_OK)
		abort();
	if (ao_wire_decode((const char *)data, size, &ev, why,
	    sizeof(why)) == AO_OK) {
		if (ao_wire_encode(&ev, 1795000000, &msg, &len) != AO_OK ||
		    strlen(msg) != len)
			abort();    /* we cannot send what we would take */
		if (ao_wire_decode(msg, len, &ev2, why, sizeof(why)) != AO_OK)
			abort();
		same(ev.id, ev2.id);
		same(ev.host, ev2.host);
		same(ev.user, ev2.user);
		same(ev.event, ev2.event);
		same(ev.email, ev2.email);
		same(ev.email_source, ev2.email_source);
		same(ev.service, ev2.service);
		same(ev.rhost, ev2.rhost);
		if (ev.uid != ev2.uid || ev.created != ev2.created)
			abort();
	} else if (why[0] == '\0') {
		abort();    /* refused without saying why */
	}
	free(msg);
	ao_event_free(&ev);
	ao_event_free(&ev2);
	return 0;
}
