/*
 * JSON for the AccessOwl API: the wire format (the spool's on-disk record
 * has its own codec, spool_json.h).  api_json.c and spool_json.c are the
 * only files that include json-c.
 *
 * Server text is untrusted: bodies arrive size-capped from http.c, the
 * tokener is depth-capped (AO_JSON_MAX_DEPTH), every field is type-checked,
 * and identifiers must look like identifiers (AO_ID_MAX printable
 * characters from [A-Za-z0-9_-]) because they end up in URLs and
 * Idempotency-Key headers.
 *
 * Accepted shapes: lists as {"data": [...], "meta": {...}} (meta with
 * next_cursor, or the documented page/total_pages form, or absent) or a bare
 * array; single objects bare or wrapped as {"data": {...}}.
 */
#ifndef AO_API_JSON_H
#define AO_API_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define AO_JSON_MAX_DEPTH 20
#define AO_ID_MAX 64

struct ao_user {
	char *id;
	char *email;
	char *status;       /* may be NULL */
};

struct ao_users {
	struct ao_user *v;
	size_t n, cap;
};

/* A set of ids (permission ids), as the API lists them. */
struct ao_ids {
	char **v;
	size_t n;
};

struct ao_state {
	char *id;
	char *application_id;     /* may be NULL */
	char *application_title;  /* only with expand=application; may be NULL */
	char *grantee_user_id;    /* NULL for unlinked accounts */
	char *resource_id;        /* NULL: application-wide */
	struct ao_ids perms;      /* target_permission_ids */
	bool odd;                 /* resource or permissions unreadable: no
	                           * revocation can be shown to cover it */
	bool active;              /* effective_end present and null */
	bool end_missing;         /* no effective_end key at all */
};

struct ao_states {
	struct ao_state *v;
	size_t n, cap;
};

struct ao_page {
	char *next_cursor;  /* non-NULL: another page exists */
	long page;          /* page-based meta: current page, else 0 */
	long total_pages;   /* page-based meta: page count, else 0 */
	size_t rows;        /* rows in this page, valid or not */
	size_t skipped;     /* rows left out as malformed */
};

struct ao_revocation {
	char *id;
	char *status;
	char *application_id;
	char *resource_id;        /* NULL: application-wide */
	char *grantee_user_id;    /* may be NULL */
	struct ao_ids perms;      /* permission_ids (null: none) */
	char *reject_reason;      /* why it was rejected, when AccessOwl
	                           * says (reject_reason); may be NULL */
};

struct ao_revocations {
	struct ao_revocation *v;
	size_t n, cap;
};

/*
 * Parse one page of /users, appending valid rows to users (rows without a
 * usable id or email are skipped and counted in page->skipped).  page is
 * cleared on entry.  AO_OK, AO_ERR_DATA or AO_ERR_NOMEM.
 */
int ao_json_users_page(const char *body, size_t len, struct ao_users *users,
    struct ao_page *page);

/*
 * Parse one page of /access_states, appending every row.  A row without a
 * usable id is AO_ERR_DATA (an active state we cannot name must not be
 * silently dropped).
 */
int ao_json_states_page(const char *body, size_t len,
    struct ao_states *states, struct ao_page *page);

/* Parse an AccessRevocation (bare or {"data": ...}).  out cleared first. */
int ao_json_revocation(const char *body, size_t len,
    struct ao_revocation *out);

/*
 * Parse one page of /access_revocations, appending the rows that can be
 * named (an id) to revs; the others are counted in page->skipped.
 */
int ao_json_revocations_page(const char *body, size_t len,
    struct ao_revocations *revs, struct ao_page *page);

/* {"access_state_id": ..., "reason": ...}; caller frees; NULL on error. */
char *ao_json_revocation_body(const char *state_id, const char *reason);

/*
 * Parse exactly one JSON value from body (len bytes, not NUL-terminated)
 * with the depth cap; trailing white space is allowed.  NULL otherwise.
 * Release with json_object_put().
 */
struct json_object;
struct json_object *ao_json_parse(const char *body, size_t len);

/* The string at key, or NULL if absent, null, not a string, or holding a
 * NUL ("\u0000": the C string would end early and say less). */
const char *ao_json_str(struct json_object *obj, const char *key);

/* Does s look like an identifier we may put in a URL or header? */
bool ao_id_valid(const char *s);

void ao_users_free(struct ao_users *u);
void ao_states_free(struct ao_states *s);
void ao_page_free(struct ao_page *p);
void ao_revocation_free(struct ao_revocation *r);
void ao_revocations_free(struct ao_revocations *r);

#endif
