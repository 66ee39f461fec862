#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "out.h"
#include "text.h"

void
ao_print(const char *fmt, ...)
{
	char *text = NULL, *clean;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* sanitising never makes text longer */
	if ((clean = malloc((size_t)n + 1)) != NULL) {
		fputs(ao_sanitize_keep(clean, (size_t)n + 1, text, "\t\n"),
		    stdout);
		free(clean);
	}
	free(text);
}
