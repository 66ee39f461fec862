/*
 * What the scan knows of each account, now or at the last scan, and the
 * one file that keeps it between scans: <state_dir>/scan.state, read once
 * and, when anything changed, written once (temporary file, fsync, rename,
 * fsync of the directory) per scan.
 *
 *   accessowl-scan 2
 *   <name> <uid> <none|locked|expired> <key or -> <login|nologin> <email or ->
 *
 * (fields separated by one tab, one account a line, sorted by name).  The
 * file lives in the service user's state directory: it is parsed like any
 * untrusted input.  Damage never costs a lock: a line that does not parse
 * (a cut last line, say) keeps only its name, marked damaged, and that
 * account is judged as by `scan --initial` (whatever is locked or expired
 * now is queued, unless its episode was queued already); a file that is
 * not a scan state at all (empty, say) marks the whole list damaged, and
 * every account is judged so.  Reading it is an I/O error only when it
 * cannot be read: then the scan stops.
 * Before version 2 each account had a file of its own in accounts/; those
 * are read once when scan.state does not exist yet, and removed after it
 * was written.
 *
 * Memory: strings live in one arena per list (a file's lines are parsed in
 * place), so 100,000 accounts take a few megabytes.
 */
#ifndef AO_SCANSTATE_H
#define AO_SCANSTATE_H

#include <stdbool.h>
#include <stddef.h>

enum ao_scan_cond { AO_SCAN_NONE, AO_SCAN_LOCKED, AO_SCAN_EXPIRED };

struct ao_scan_acct {
	const char *name;
	const char *key;        /* episode key, "" for none */
	const char *email;      /* "" when no identity rule gave one */
	const char *source;     /* AO_SRC_* that gave email; NULL in a record */
	long uid;
	enum ao_scan_cond cond;
	bool nologin;
	bool unknown;           /* no shadow entry could be read */
	bool damaged;           /* a record: its line was damaged (only the
	                         * name is known) */
};

struct ao_arena;

struct ao_scan_list {
	struct ao_scan_acct *v;
	size_t n, cap;
	struct ao_arena *arena; /* owns the strings */
	bool damaged;           /* a state file that was not one at all */
};

/* "none", "locked", "expired". */
const char *ao_scan_cond_name(enum ao_scan_cond c);

/* A copy of s kept as long as the list (NULL on out of memory). */
const char *ao_scan_keep(struct ao_scan_list *l, const char *s);

/* A new zeroed account at the end of l (strings ""), or NULL. */
struct ao_scan_acct *ao_scan_add(struct ao_scan_list *l);

/* Sort by name; drop later duplicates of a name (as getpwnam() would). */
void ao_scan_sort(struct ao_scan_list *l);

/* The account called name in a sorted list, or NULL. */
struct ao_scan_acct *ao_scan_find(const struct ao_scan_list *l,
    const char *name);

void ao_scan_list_free(struct ao_scan_list *l);

/*
 * Parse one line of the file (modified in place; its strings then belong
 * to the line) into a.  false when it is not a well-formed record.
 */
bool ao_scan_line_parse(char *line, struct ao_scan_acct *a);

/* The line of a (with its newline) into out; false if it does not fit. */
bool ao_scan_line_format(const struct ao_scan_acct *a, char *out, size_t n);

/*
 * Parse a whole file's text: len bytes in a malloc()ed buffer of at least
 * len + 1, which the list takes over whatever the outcome (it is modified
 * in place and freed with the list).  AO_OK (damaged lines give damaged
 * records), or AO_ERR_DATA for a file that is not a scan state at all.
 */
int ao_scan_text_parse(char *text, size_t len, struct ao_scan_list *out);

/*
 * What the last scan kept (sorted), as the service user.  *exists false
 * on the first scan.  Reads the old accounts/ records when there is no
 * scan.state yet.  A file that is not a scan state gives an empty list
 * marked damaged (logged), not an error.
 */
int ao_scan_state_read(const char *state_dir, struct ao_scan_list *out,
    bool *exists);

/* Replace scan.state with l (sorted; accounts still unknown are left
 * out), durably; then drop accounts/. */
int ao_scan_state_write(const char *state_dir, const struct ao_scan_list *l);

/*
 * The deletions the scan's guard holds (scan.h), in <state_dir>/scan.held
 * until the administrator confirms them or the accounts come back: since
 * when (unix time), how many of how many accounts kept, and the first
 * names (for status and check).  Read: AO_OK, AO_ERR_NOTFOUND when none
 * is held, AO_ERR_DATA (logged) when the file is damaged.
 */
struct ao_scan_held {
	long long since;
	size_t held, kept;
	char names[200];        /* "alice, bob, ..." */
};

int ao_scan_held_write(const char *state_dir, long long since, size_t kept,
    const char *const *names, size_t n);
int ao_scan_held_read(const char *state_dir, struct ao_scan_held *h);
int ao_scan_held_clear(const char *state_dir);

#endif
