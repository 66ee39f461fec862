/*
 * libFuzzer harness: ao_scanrec_parse(), the scan's per-account record in
 * the service user's state directory.  The first line of input is the
 * account name, the rest the record.  A record that parses formats back
 * to a record that parses to the same account.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scanrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_scan_acct a, b;
	char *buf, *nl, line[1024];

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		if (ao_scanrec_parse(buf, nl + 1, &a)) {
			ao_scanrec_format(&a, line, sizeof(line));
			if (!ao_scanrec_parse(a.name, line, &b) ||
			    memcmp(&a, &b, sizeof(a)) != 0)
				abort();
		}
	}
	free(buf);
	return 0;
}
