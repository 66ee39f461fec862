/*
 * libFuzzer harness: ao_stamp_parse(), the moment the PAM module keeps in
 * its records (root's /run/accessowl) and hands to `enqueue --fine-at`.
 * Whatever the text, no crash, and a stamp it takes is one it would write:
 * formatted and parsed again, the same stamp.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_stamp a, b;
	char *text, out[AO_STAMP_MAX];

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ao_stamp_parse(text, &a) == AO_OK) {
		ao_stamp_format(&a, out, sizeof(out));
		if (strlen(out) >= AO_STAMP_MAX - 1 || strchr(out, ' ') != NULL ||
		    ao_stamp_parse(out, &b) != AO_OK || a.wall_ms != b.wall_ms ||
		    a.boot_ms != b.boot_ms || strcmp(a.boot, b.boot) != 0)
			abort();
	}
	free(text);
	return 0;
}
