/*
 * What the scan knows of one account, now or at the last scan, and the
 * one-line record it keeps of it in <state_dir>/accounts/<user>:
 *
 *   v1 <uid> <cond> <key or -> <login|nologin> <email or ->   (tab-separated)
 *
 * The record lives in the service user's state directory: it is parsed
 * like any untrusted input (sizes, fields, values checked), and a record
 * that does not parse is treated as damaged.
 */
#ifndef AO_SCANREC_H
#define AO_SCANREC_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"

struct ao_scan_acct {
	char name[65];
	long uid;
	char cond[12];                   /* "none", "locked", "expired" */
	char key[AO_EPISODE_KEY_MAX];    /* episode key, "" for none */
	bool nologin;
	bool unknown;                    /* no shadow entry could be read */
	char email[320];                 /* "" when no identity rule matched */
	const char *source;              /* rule that gave email (AO_SRC_*);
	                                  * NULL in a record */
};

/* The record line of a (without a newline) into out. */
void ao_scanrec_format(const struct ao_scan_acct *a, char *out, size_t n);

/*
 * Parse the record line of account name (line is modified).  a is
 * cleared first.  false when the line is not a well-formed record.
 */
bool ao_scanrec_parse(const char *name, char *line, struct ao_scan_acct *a);

#endif
