/*
 * libFuzzer harness: ao_scan_text_parse(), the scan's state file in the
 * service user's state directory.  What parses is sorted, holds only names
 * we manage and no control byte, and formats back to a file that parses
 * to the same accounts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "err.h"
#include "scanstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same(const struct ao_scan_acct *a, const struct ao_scan_acct *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->key, b->key) == 0 &&
	    strcmp(a->email, b->email) == 0 && a->uid == b->uid &&
	    a->cond == b->cond && a->nologin == b->nologin;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_scan_list l = { 0 }, again = { 0 };
	static const char header[] = "accessowl-scan 2\n";
	char *text = malloc(size + 1), *out = NULL, line[1024];
	size_t i, o = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	if (ao_scan_text_parse(text, size, &l) == AO_OK) {
		out = malloc(sizeof(header) + l.n * sizeof(line));
		if (out == NULL)
			goto done;
		memcpy(out, header, sizeof(header) - 1);
		o = sizeof(header) - 1;
		for (i = 0; i < l.n; i++) {
			if (!ao_username_ok(l.v[i].name) ||
			    (i > 0 && strcmp(l.v[i - 1].name, l.v[i].name) >= 0) ||
			    !ao_scan_line_format(&l.v[i], line, sizeof(line)))
				abort();
			memcpy(out + o, line, strlen(line));
			o += strlen(line);
		}
		if (ao_scan_text_parse(out, o, &again) != AO_OK ||
		    again.n != l.n)
			abort();
		out = NULL;     /* again owns it */
		for (i = 0; i < l.n; i++)
			if (!same(&l.v[i], &again.v[i]))
				abort();
	}
done:
	free(out);
	ao_scan_list_free(&again);
	ao_scan_list_free(&l);
	return 0;
}
