#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "err.h"
#include "identity.h"
#include "api_json.h"

bool
ao_id_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++, n++) {
		char c = *s;

		if (n >= AO_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

json_object *
ao_json_parse(const char *body, size_t len)
{
	json_tokener *tok;
	json_object *o;

	if (body == NULL || len == 0 || len > (size_t)0x7fffffff)
		return NULL;
	if ((tok = json_tokener_new_ex(AO_JSON_MAX_DEPTH)) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)) {
		/* trailing bytes after the value, other than white space */
		size_t i;

		for (i = json_tokener_get_parse_end(tok); i < len; i++)
			if (body[i] != ' ' && body[i] != '\n' &&
			    body[i] != '\r' && body[i] != '\t')
				break;
		if (i != len) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	return o;
}

const char *
ao_json_str(json_object *obj, const char *key)
{
	const char *s;
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	/* "\u0000" inside: the C string would end early and say less */
	if (s == NULL || strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

static int
dup_opt(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL)
		return AO_OK;
	return (*dst = strdup(s)) ? AO_OK : AO_ERR_NOMEM;
}

static long
get_long(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return (long)json_object_get_int64(v);
}

/* The row array of a list response, and its meta. */
static int
list_rows(json_object *root, json_object **rows, struct ao_page *page)
{
	json_object *meta = NULL;

	memset(page, 0, sizeof(*page));
	if (json_object_is_type(root, json_type_array)) {
		*rows = root;
		page->rows = json_object_array_length(root);
		return AO_OK;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "data", rows) ||
	    !json_object_is_type(*rows, json_type_array))
		return AO_ERR_DATA;
	if (json_object_object_get_ex(root, "meta", &meta) &&
	    json_object_is_type(meta, json_type_object)) {
		const char *c = ao_json_str(meta, "next_cursor");

		if (c != NULL && *c != '\0') {
			if (strlen(c) > 2048)
				return AO_ERR_DATA;
			if ((page->next_cursor = strdup(c)) == NULL)
				return AO_ERR_NOMEM;
		}
		page->page = get_long(meta, "page");
		page->total_pages = get_long(meta, "total_pages");
	}
	page->rows = json_object_array_length(*rows);
	return AO_OK;
}

/* Unwrap {"data": {...}} unless the object is itself the record. */
static json_object *
single(json_object *root)
{
	json_object *d;

	if (!json_object_is_type(root, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(root, "id", NULL) &&
	    json_object_object_get_ex(root, "data", &d) &&
	    json_object_is_type(d, json_type_object))
		return d;
	return root;
}

static int
grow(void **v, size_t *cap, size_t n, size_t elem)
{
	void *nv;
	size_t nc;

	if (n < *cap)
		return AO_OK;
	nc = *cap ? *cap * 2 : 16;
	if ((nv = reallocarray(*v, nc, elem)) == NULL)
		return AO_ERR_NOMEM;
	memset((char *)nv + *cap * elem, 0, (nc - *cap) * elem);
	*v = nv;
	*cap = nc;
	return AO_OK;
}

/* Walk the rows of one list page, calling row() for each. */
typedef int (*row_fn)(json_object *row, void *dst, struct ao_page *page);

static int
parse_page(const char *body, size_t len, row_fn row, void *dst,
    struct ao_page *page)
{
	json_object *root = ao_json_parse(body, len), *rows = NULL;
	size_t i, n;
	int r;

	memset(page, 0, sizeof(*page));
	if (root == NULL)
		return AO_ERR_DATA;
	if ((r = list_rows(root, &rows, page)) != AO_OK)
		goto out;
	n = json_object_array_length(rows);
	for (i = 0; i < n && r == AO_OK; i++)
		r = row(json_object_array_get_idx(rows, i), dst, page);
out:
	json_object_put(root);
	if (r != AO_OK)
		ao_page_free(page);
	return r;
}

/* A user row without a usable id or e-mail is skipped, and counted. */
static int
user_row(json_object *u, void *dst, struct ao_page *page)
{
	struct ao_users *users = dst;
	const char *id, *email;
	struct ao_user *out;
	int r;

	if (!json_object_is_type(u, json_type_object) ||
	    !ao_id_valid(id = ao_json_str(u, "id")) ||
	    (email = ao_json_str(u, "email")) == NULL || *email == '\0' ||
	    strlen(email) >= AO_EMAIL_MAX) {
		page->skipped++;
		return AO_OK;
	}
	if ((r = grow((void **)&users->v, &users->cap, users->n,
	    sizeof(*users->v))) != AO_OK)
		return r;
	out = &users->v[users->n++]; /* counted now: freed even if partial */
	if ((r = dup_opt(&out->id, id)) != AO_OK ||
	    (r = dup_opt(&out->email, email)) != AO_OK)
		return r;
	return dup_opt(&out->status, ao_json_str(u, "status"));
}

/*
 * An optional array of ids at key: absent or null gives none; anything
 * else but an array of valid ids is AO_ERR_DATA.
 */
static int
get_ids(json_object *obj, const char *key, struct ao_ids *out)
{
	json_object *arr;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(obj, key, &arr) ||
	    json_object_is_type(arr, json_type_null))
		return AO_OK;
	if (!json_object_is_type(arr, json_type_array))
		return AO_ERR_DATA;
	n = json_object_array_length(arr);
	if (n > 1000)
		return AO_ERR_DATA;
	if (n > 0 && (out->v = calloc(n, sizeof(*out->v))) == NULL)
		return AO_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *id = json_object_is_type(e, json_type_string) ?
		    json_object_get_string(e) : NULL;

		if (!ao_id_valid(id))
			return AO_ERR_DATA;
		if ((out->v[out->n] = strdup(id)) == NULL)
			return AO_ERR_NOMEM;
		out->n++;
	}
	return AO_OK;
}

static void
ids_free(struct ao_ids *ids)
{
	size_t i;

	for (i = 0; i < ids->n; i++)
		free(ids->v[i]);
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

/* An optional id at key: absent or null is NULL, else it must be valid. */
static int
get_opt_id(json_object *obj, const char *key, char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return AO_OK;
	if (!json_object_is_type(v, json_type_string) ||
	    !ao_id_valid(json_object_get_string(v)))
		return AO_ERR_DATA;
	return dup_opt(out, json_object_get_string(v));
}

/* A state row we cannot name fails the page: it must not vanish. */
static int
state_row(json_object *s, void *dst, struct ao_page *page)
{
	struct ao_states *states = dst;
	json_object *end, *app;
	const char *id, *grantee, *appid;
	struct ao_state *out;
	int r;

	(void)page;
	if (!json_object_is_type(s, json_type_object) ||
	    !ao_id_valid(id = ao_json_str(s, "id")))
		return AO_ERR_DATA;
	grantee = ao_json_str(s, "grantee_user_id");
	appid = ao_json_str(s, "application_id");
	if ((grantee && !ao_id_valid(grantee)) || (appid && !ao_id_valid(appid)))
		return AO_ERR_DATA;
	if ((r = grow((void **)&states->v, &states->cap, states->n,
	    sizeof(*states->v))) != AO_OK)
		return r;
	out = &states->v[states->n++];
	if (json_object_object_get_ex(s, "effective_end", &end))
		out->active = json_object_is_type(end, json_type_null);
	else
		out->end_missing = true;
	if ((r = dup_opt(&out->id, id)) != AO_OK ||
	    (r = dup_opt(&out->grantee_user_id, grantee)) != AO_OK ||
	    (r = dup_opt(&out->application_id, appid)) != AO_OK)
		return r;
	/* what a pending revocation is matched on: unreadable, the state is
	 * filed like any other, never taken for covered */
	if ((r = get_opt_id(s, "resource_id", &out->resource_id)) == AO_OK)
		r = get_ids(s, "target_permission_ids", &out->perms);
	if (r == AO_ERR_DATA) {
		free(out->resource_id);
		out->resource_id = NULL;
		ids_free(&out->perms);
		out->odd = true;
	} else if (r != AO_OK) {
		return r;
	}
	if (json_object_object_get_ex(s, "application", &app) &&
	    json_object_is_type(app, json_type_object))
		return dup_opt(&out->application_title, ao_json_str(app, "title"));
	return AO_OK;
}

int
ao_json_users_page(const char *body, size_t len, struct ao_users *users,
    struct ao_page *page)
{
	return parse_page(body, len, user_row, users, page);
}

int
ao_json_states_page(const char *body, size_t len, struct ao_states *states,
    struct ao_page *page)
{
	return parse_page(body, len, state_row, states, page);
}

/* One AccessRevocation object into out (cleared first); AO_ERR_DATA if
 * it has no usable id or a malformed id field. */
static int
revocation_obj(json_object *rec, struct ao_revocation *out)
{
	const char *id;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(rec, json_type_object) ||
	    !ao_id_valid(id = ao_json_str(rec, "id")))
		return AO_ERR_DATA;
	if ((r = dup_opt(&out->id, id)) != AO_OK ||
	    (r = dup_opt(&out->status, ao_json_str(rec, "status"))) != AO_OK ||
	    (r = get_opt_id(rec, "application_id", &out->application_id)) ||
	    (r = get_opt_id(rec, "resource_id", &out->resource_id)) ||
	    (r = get_opt_id(rec, "grantee_user_id", &out->grantee_user_id)) ||
	    (r = get_ids(rec, "permission_ids", &out->perms)) ||
	    (r = dup_opt(&out->reject_reason, ao_json_str(rec,
	    "reject_reason"))))
		ao_revocation_free(out);
	return r;
}

int
ao_json_revocation(const char *body, size_t len, struct ao_revocation *out)
{
	json_object *root = ao_json_parse(body, len), *rec;
	int r = AO_ERR_DATA;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return AO_ERR_DATA;
	if ((rec = single(root)) != NULL)
		r = revocation_obj(rec, out);
	json_object_put(root);
	return r;
}

/* A revocation row we cannot read is skipped, and counted: it can only
 * make us file, never make us skip a state. */
static int
revocation_row(json_object *row, void *dst, struct ao_page *page)
{
	struct ao_revocations *revs = dst;
	struct ao_revocation one;
	int r;

	if ((r = revocation_obj(row, &one)) == AO_ERR_DATA) {
		page->skipped++;
		return AO_OK;
	}
	if (r != AO_OK)
		return r;
	if ((r = grow((void **)&revs->v, &revs->cap, revs->n,
	    sizeof(*revs->v))) != AO_OK) {
		ao_revocation_free(&one);
		return r;
	}
	revs->v[revs->n++] = one;
	return AO_OK;
}

int
ao_json_revocations_page(const char *body, size_t len,
    struct ao_revocations *revs, struct ao_page *page)
{
	return parse_page(body, len, revocation_row, revs, page);
}

char *
ao_json_revocation_body(const char *state_id, const char *reason)
{
	json_object *o = json_object_new_object();
	char *s = NULL;

	if (o == NULL)
		return NULL;
	if (json_object_object_add(o, "access_state_id",
	    json_object_new_string(state_id)) == 0 &&
	    json_object_object_add(o, "reason",
	    json_object_new_string(reason)) == 0)
		s = strdup(json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

void
ao_users_free(struct ao_users *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++) {
		free(u->v[i].id);
		free(u->v[i].email);
		free(u->v[i].status);
	}
	free(u->v);
	memset(u, 0, sizeof(*u));
}

void
ao_states_free(struct ao_states *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].id);
		free(s->v[i].application_id);
		free(s->v[i].application_title);
		free(s->v[i].grantee_user_id);
		free(s->v[i].resource_id);
		ids_free(&s->v[i].perms);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void
ao_page_free(struct ao_page *p)
{
	if (p == NULL)
		return;
	free(p->next_cursor);
	p->next_cursor = NULL;
}

void
ao_revocation_free(struct ao_revocation *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->status);
	free(r->application_id);
	free(r->resource_id);
	free(r->grantee_user_id);
	free(r->reject_reason);
	ids_free(&r->perms);
	memset(r, 0, sizeof(*r));
}

void
ao_revocations_free(struct ao_revocations *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		ao_revocation_free(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}
