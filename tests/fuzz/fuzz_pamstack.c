/*
 * libFuzzer harness: ao_pam_inspect() over a PAM service file (which may
 * @include itself, or a second file with the same text).  Whatever the
 * text, no crash, and what it reports is consistent: a stack judged
 * skipped or enforcing has the module in it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pamstack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void
put(const char *name, const uint8_t *data, size_t size)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

static void
cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/sshd", dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/common-account", dir);
	(void)unlink(path);
	(void)rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_pam_service s;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_pamstack.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(cleanup);
	}
	put("sshd", data, size);
	put("common-account", data, size / 2);
	if (ao_pam_inspect(dir, "sshd", &s) != 0 || !s.exists)
		abort();
	if ((s.account.skipped || s.account.enforce || s.account.can_refuse) &&
	    !s.account.present)
		abort();
	if (s.session.skipped && !s.session.present)
		abort();
	return 0;
}
