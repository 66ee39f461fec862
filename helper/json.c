#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "err.h"
#include "json.h"

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

/* Parse the whole body with the depth cap; NULL if not exactly one value. */
static json_object *
parse(const char *body, size_t len)
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

/* The string at key, or NULL if absent, null or not a string. */
static const char *
get_str(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
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
		return AO_OK;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "data", rows) ||
	    !json_object_is_type(*rows, json_type_array))
		return AO_ERR_DATA;
	if (json_object_object_get_ex(root, "meta", &meta) &&
	    json_object_is_type(meta, json_type_object)) {
		const char *c = get_str(meta, "next_cursor");

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

int
ao_json_users_page(const char *body, size_t len, struct ao_users *users,
    struct ao_page *page)
{
	json_object *root = parse(body, len), *rows = NULL;
	size_t i, n;
	int r;

	memset(page, 0, sizeof(*page));
	if (root == NULL)
		return AO_ERR_DATA;
	if ((r = list_rows(root, &rows, page)) != AO_OK)
		goto out;
	n = json_object_array_length(rows);
	for (i = 0; i < n; i++) {
		json_object *u = json_object_array_get_idx(rows, i);
		const char *id, *email;
		struct ao_user *dst;

		if (!json_object_is_type(u, json_type_object) ||
		    !ao_id_valid(id = get_str(u, "id")) ||
		    (email = get_str(u, "email")) == NULL || *email == '\0' ||
		    strlen(email) > 320) {
			page->skipped++;
			continue;
		}
		if ((r = grow((void **)&users->v, &users->cap, users->n,
		    sizeof(*users->v))) != AO_OK)
			goto out;
		dst = &users->v[users->n];
		if ((r = dup_opt(&dst->id, id)) != AO_OK ||
		    (r = dup_opt(&dst->email, email)) != AO_OK ||
		    (r = dup_opt(&dst->status, get_str(u, "status"))) != AO_OK) {
			users->n++; /* so the free path sees the partial row */
			goto out;
		}
		users->n++;
	}
	r = AO_OK;
out:
	json_object_put(root);
	if (r != AO_OK)
		ao_page_free(page);
	return r;
}

int
ao_json_states_page(const char *body, size_t len, struct ao_states *states,
    struct ao_page *page)
{
	json_object *root = parse(body, len), *rows = NULL;
	size_t i, n;
	int r;

	memset(page, 0, sizeof(*page));
	if (root == NULL)
		return AO_ERR_DATA;
	if ((r = list_rows(root, &rows, page)) != AO_OK)
		goto out;
	n = json_object_array_length(rows);
	for (i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(rows, i), *end, *app;
		const char *id, *grantee, *appid;
		struct ao_state *dst;

		if (!json_object_is_type(s, json_type_object) ||
		    !ao_id_valid(id = get_str(s, "id"))) {
			r = AO_ERR_DATA;
			goto out;
		}
		grantee = get_str(s, "grantee_user_id");
		appid = get_str(s, "application_id");
		if ((grantee && !ao_id_valid(grantee)) ||
		    (appid && !ao_id_valid(appid))) {
			r = AO_ERR_DATA;
			goto out;
		}
		if ((r = grow((void **)&states->v, &states->cap, states->n,
		    sizeof(*states->v))) != AO_OK)
			goto out;
		dst = &states->v[states->n++];
		if (json_object_object_get_ex(s, "effective_end", &end))
			dst->active = json_object_is_type(end, json_type_null);
		else
			dst->end_missing = true;
		if ((r = dup_opt(&dst->id, id)) != AO_OK ||
		    (r = dup_opt(&dst->grantee_user_id, grantee)) != AO_OK ||
		    (r = dup_opt(&dst->application_id, appid)) != AO_OK)
			goto out;
		if (json_object_object_get_ex(s, "application", &app) &&
		    json_object_is_type(app, json_type_object) &&
		    (r = dup_opt(&dst->application_title,
		    get_str(app, "title"))) != AO_OK)
			goto out;
	}
	r = AO_OK;
out:
	json_object_put(root);
	if (r != AO_OK)
		ao_page_free(page);
	return r;
}

int
ao_json_revocation(const char *body, size_t len, struct ao_revocation *out)
{
	json_object *root = parse(body, len), *rec;
	const char *id;
	int r = AO_ERR_DATA;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return AO_ERR_DATA;
	if ((rec = single(root)) == NULL || !ao_id_valid(id = get_str(rec, "id")))
		goto out;
	if ((r = dup_opt(&out->id, id)) != AO_OK ||
	    (r = dup_opt(&out->status, get_str(rec, "status"))) != AO_OK ||
	    (r = dup_opt(&out->application_id,
	    get_str(rec, "application_id"))) != AO_OK)
		goto out;
	r = AO_OK;
out:
	json_object_put(root);
	if (r != AO_OK)
		ao_revocation_free(out);
	return r;
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
	memset(r, 0, sizeof(*r));
}
