/*
 * libFuzzer harness: ao_gecos_email(), an address from a GECOS field any
 * user may set with chfn.  The first input byte is the output size (0..255:
 * a buffer of exactly that size, so ASan sees any overrun); the rest is the
 * GECOS string.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *gecos, *out, *at;
	size_t outsz;

	if (size < 1)
		return 0;
	outsz = data[0];
	gecos = malloc(size);
	out = malloc(outsz);
	if (gecos != NULL && out != NULL) {
		memcpy(gecos, data + 1, size - 1);
		gecos[size - 1] = '\0';
		if (ao_gecos_email(gecos, out, outsz) == AO_OK) {
			if (memchr(out, '\0', outsz) == NULL ||
			    (at = strchr(out, '@')) == NULL ||
			    strchr(at + 1, '@') != NULL || strstr(gecos, out) == NULL)
				abort();
		} else if (outsz > 0 && out[0] != '\0')
			abort();
	}
	free(out);
	free(gecos);
	return 0;
}
