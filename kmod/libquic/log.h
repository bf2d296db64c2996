/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libquic's messages (quic_set_log_func / quic_set_log_level). */
#ifndef QUICBED_LIBQUIC_LOG_H
#define QUICBED_LIBQUIC_LOG_H

#include <syslog.h>

#pragma GCC visibility push(hidden)

/* A message at a syslog level (LOG_ERR .. LOG_DEBUG), printf-style; it
 * goes out when the level is at or below quic_set_log_level's. */
void quic_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#pragma GCC visibility pop

#endif
