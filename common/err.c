#include <sysexits.h>

#include "err.h"

const char *
ao_strerror(int err)
{
	switch (err) {
	case AO_OK:            return "success";
	case AO_NOT_MANAGED:   return "not managed";
	case AO_MANAGED_UNQUEUED: return "managed, but not queued";
	case AO_ERR_SYSTEM:    return "system error";
	case AO_ERR_NOMEM:     return "out of memory";
	case AO_ERR_USAGE:     return "usage error";
	case AO_ERR_CONFIG:    return "configuration error";
	case AO_ERR_PERM:      return "permission error";
	case AO_ERR_DATA:      return "malformed data";
	case AO_ERR_NOTFOUND:  return "not found";
	case AO_ERR_AMBIGUOUS: return "ambiguous match";
	case AO_ERR_AUTH:      return "token refused by AccessOwl";
	case AO_ERR_REJECTED:  return "request refused by AccessOwl";
	case AO_ERR_TEMP:      return "temporary failure";
	case AO_ERR_RATELIMIT: return "rate limited";
	case AO_ERR_TLS:       return "TLS failure";
	}
	return "unknown error";
}

int
ao_exit_code(int err)
{
	switch (err) {
	case AO_OK:
		return EX_OK;
	case AO_NOT_MANAGED:
		return AO_EXIT_NOT_MANAGED;
	case AO_MANAGED_UNQUEUED:
		return AO_EXIT_MANAGED_UNQUEUED;
	case AO_ERR_USAGE:
		return EX_USAGE;
	case AO_ERR_DATA:
	case AO_ERR_NOTFOUND:
	case AO_ERR_AMBIGUOUS:
	case AO_ERR_REJECTED:
		return EX_DATAERR;
	case AO_ERR_TLS:
		return EX_UNAVAILABLE;
	case AO_ERR_TEMP:
	case AO_ERR_RATELIMIT:
		return EX_TEMPFAIL;
	case AO_ERR_AUTH:
	case AO_ERR_PERM:
		return EX_NOPERM;
	case AO_ERR_CONFIG:
		return EX_CONFIG;
	default: /* system errors, out of memory: worth another try later */
		return EX_TEMPFAIL;
	}
}
