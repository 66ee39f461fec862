/*
 * libFuzzer harness: ao_faillock_parse(), /etc/security/faillock.conf
 * text, with the bounds the parser promises checked afterwards.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faillock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXSECS (604800L * 52)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_faillock_conf c;
	char *text;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ao_faillock_defaults(&c);
	ao_faillock_parse(text, &c);
	if (memchr(c.dir, '\0', sizeof(c.dir)) == NULL ||
	    c.dir[0] != '/')    /* absolute, as the default is */
		abort();
	if (c.deny < 0 || c.deny > 1000000 ||
	    c.fail_interval < 0 || c.fail_interval > MAXSECS ||
	    c.unlock_time < 0 || c.unlock_time > MAXSECS)
		abort();
	free(text);
	return 0;
}
