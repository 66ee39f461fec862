/*
 * Starting a deliverer after something was queued (`enqueue`, `ingest`).
 *
 * Where systemd runs, accessowl-deliver.path starts the deliverer in its
 * sandboxed unit (with its memory limit) as soon as the event lands in
 * queue/, and this does nothing.  Elsewhere it starts `deliver` itself, in
 * a new session, detached, and does not wait for it: a deliverer started
 * from here would otherwise run in the caller's cgroup (a login service,
 * rsyslog), without the unit's limits.  One deliverer runs at a time (the
 * spool lock): starting one too many is harmless.
 */
#ifndef AO_KICK_H
#define AO_KICK_H

void ao_delivery_start(const char *config_path);

#endif
