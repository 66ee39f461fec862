/*
 * libFuzzer harness, a property: whatever bytes go into ao_sanitize_keep(),
 * what comes out is strict UTF-8 (RFC 3629) with no control character (C0
 * but the kept tab and newline, DEL, C1, bidi controls), fits the buffer,
 * and is the input itself when the input was already clean and fits.  The
 * checker below is written apart from text.c on purpose.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the clean character at s, or 0. */
static size_t
clean_char(const unsigned char *s, bool keep_tab_nl)
{
	unsigned long cp;
	size_t n, i;

	if (s[0] < 0x80) {
		if (s[0] == 0x7f || (s[0] < 0x20 && !(keep_tab_nl &&
		    (s[0] == '\t' || s[0] == '\n'))))
			return 0;
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

static bool
clean(const char *s, bool keep)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p) {
		if ((n = clean_char(p, keep)) == 0)
			return false;
		p += n;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, out[256];
	size_t outsz;
	bool keep;

	if (size < 1)
		return 0;
	keep = data[0] & 1;
	outsz = 1 + data[0] % sizeof(out);
	if ((in = malloc(size)) == NULL)
		return 0;
	memcpy(in, data + 1, size - 1);
	in[size - 1] = '\0';
	ao_sanitize_keep(out, outsz, in, keep ? "\t\n" : "");
	if (strlen(out) >= outsz || !clean(out, keep))
		abort();
	if (clean(in, keep) && strlen(in) < outsz && strcmp(in, out) != 0)
		abort();
	free(in);
	return 0;
}
