#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "text.h"

static bool log_debug;
static bool log_stderr = true;
static char *capture;
static size_t capture_n;

/* systemd sets JOURNAL_STREAM=dev:ino when stderr is the journal. */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;
	char want[64];

	if (js == NULL || fstat(STDERR_FILENO, &st) != 0)
		return false;
	snprintf(want, sizeof(want), "%lu:%lu",
	    (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	return strcmp(js, want) == 0;
}

void
ao_log_open(bool debug)
{
	log_debug = debug;
	log_stderr = !stderr_is_journal();
	openlog("accessowl-helper", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void
ao_log_capture(char *buf, size_t n)
{
	capture = n > 0 ? buf : NULL;
	capture_n = n;
	if (capture != NULL)
		capture[0] = '\0';
}

void
ao_log(int prio, const char *fmt, ...)
{
	char msg[1024], clean[1024];
	va_list ap;

	if (prio == LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* last line of defence: nothing with control bytes reaches a log */
	ao_sanitize(clean, sizeof(clean), msg);
	syslog(prio, "%s", clean);
	if (capture != NULL && prio <= LOG_ERR) {
		snprintf(capture, capture_n, "%s", clean);
		if (!log_debug)
			return;
	}
	/* stderr is for the person at the terminal: problems, or everything with -v */
	if (log_stderr && (prio <= LOG_WARNING || log_debug)) {
		const char *tag = prio <= LOG_ERR ? "error: " :
		    prio == LOG_WARNING ? "warning: " : "";
		fprintf(stderr, "accessowl-helper: %s%s\n", tag, clean);
	}
}
