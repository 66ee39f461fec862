/*
 * libFuzzer harness: ao_gecos_email_trusted(), the address identity takes
 * from a GECOS field (users may write parts of it with chfn).  Byte 0: the
 * trusted-subfield mask; byte 1: the output size; the rest: GECOS.  The
 * address found must be in a trusted subfield and a listed domain.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "identity.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The subfields (AO_GECOS_* bits) of gecos in which out occurs. */
static unsigned
fields_of(const char *gecos, const char *out)
{
	static const unsigned bits[] = { AO_GECOS_FULLNAME, AO_GECOS_ROOM,
	    AO_GECOS_WORK, AO_GECOS_HOME };
	const char *p, *hit;
	unsigned m = 0;
	size_t commas = 0;

	for (p = gecos; (hit = strstr(p, out)) != NULL; p = hit + 1) {
		for (; p < hit; p++)
			commas += *p == ',';
		m |= commas < 4 ? bits[commas] : AO_GECOS_OTHER;
		if (*hit == ',')
			commas++;
	}
	return m;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char d1[] = "example.com", d2[] = "corp.example.org";
	char *doms[] = { d1, d2 };
	struct ao_strlist domains = { doms, 2 };
	char *gecos, *out, *at;
	unsigned mask;
	size_t outsz;

	if (size < 2)
		return 0;
	mask = data[0] & 0x1f;
	outsz = data[1];
	gecos = malloc(size - 1);
	out = malloc(outsz);
	if (gecos != NULL && out != NULL) {
		memcpy(gecos, data + 2, size - 2);
		gecos[size - 2] = '\0';
		if (ao_gecos_email_trusted(gecos, mask, &domains, out,
		    outsz) == AO_OK) {
			if (memchr(out, '\0', outsz) == NULL ||
			    (at = strchr(out, '@')) == NULL ||
			    (!ao_streq_ci(at + 1, d1) && !ao_streq_ci(at + 1, d2)) ||
			    (fields_of(gecos, out) & mask) == 0)
				abort();
		}
	}
	free(out);
	free(gecos);
	return 0;
}
