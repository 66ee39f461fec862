/*
 * libFuzzer harness: ao_chfn_user_fields(), CHFN_RESTRICT from login.defs
 * text.  Whatever the text, the answer is a subset of the four fields chfn
 * can let users change: "other" is never one of them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if ((ao_chfn_user_fields(text) & ~AO_GECOS_CHFN) != 0)
		abort();
	free(text);
	return 0;
}
