/*
 * libFuzzer harness: ao_config_parse(), accessowl.conf text (libconfig).
 * Defaults first, then the NUL-terminated input on top, then free.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_config cfg;
	char *text, err[768];

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ao_config_defaults(&cfg) == AO_OK &&
	    ao_config_parse(&cfg, "fuzz.conf", text, err, sizeof(err)) == AO_OK) {
		/* what validate() promises the rest of the helper */
		if (strncmp(cfg.api_url, "https://", 8) != 0 ||
		    cfg.token_file[0] != '/' || cfg.spool_dir[0] != '/' ||
		    cfg.state_dir[0] != '/' || cfg.user[0] == '\0' ||
		    cfg.timeout < 1 || cfg.timeout > 300)
			abort();
	} else if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	ao_config_free(&cfg);
	free(text);
	return 0;
}
