// SPDX-License-Identifier: LGPL-2.1-or-later
/* libquic's messages: to stderr, or to the function the program set. The
 * settings are the process's, as in the existing libquic. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "netinet/quic.h"

static quic_set_log_func_t log_func;	/* NULL: stderr */
static int log_level = LOG_ERR;

quic_set_log_func_t quic_set_log_func(quic_set_log_func_t func)
{
	quic_set_log_func_t old = log_func;

	log_func = func;
	return old;
}

int quic_set_log_level(int level)
{
	int old = log_level;

	log_level = level;
	return old;
}

void quic_log(int level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_func)
		log_func(level, msg);
	else
		fprintf(stderr, "libquic: %s\n", msg);
}
