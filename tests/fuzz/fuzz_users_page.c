/*
 * libFuzzer harness: ao_json_users_page(), one page of GET /api/v1/users
 * as the AccessOwl server (untrusted) sends it.  See tests/fuzz/fuzz.mk.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "api_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ao_users users = { 0 };
	struct ao_page page;
	size_t i;

	/* the body is length-delimited, not NUL-terminated */
	if (ao_json_users_page((const char *)data, size, &users, &page) == AO_OK) {
		for (i = 0; i < users.n; i++)
			if (!ao_id_valid(users.v[i].id) || users.v[i].email == NULL ||
			    users.v[i].email[0] == '\0')
				abort();
		/* every row is counted, kept or skipped (the listing bounds
		 * in api.c rely on it), bare arrays included */
		if (users.n + page.skipped != page.rows)
			abort();
		ao_page_free(&page);
	}
	ao_users_free(&users);
	return 0;
}
