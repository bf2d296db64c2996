/* The guest tests' checks: one line per check ("ok" or "FAIL" with the
 * errno), a failure count for the exit status. */
#ifndef QUICBED_GUEST_CHECK_H
#define QUICBED_GUEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                 \
	do {                                                                                        \
		if (cond) {                                                                         \
			printf("ok   %s\n", #cond);                                                \
		} else {                                                                            \
			printf("FAIL %s:%d: %s (errno %d %s)\n", __FILE__, __LINE__, #cond, errno, \
			       strerror(errno));                                                    \
			failures++;                                                                 \
		}                                                                                   \
	} while (0)

/* The call fails with exactly errno `e`. */
#define FAILS_WITH(call, e) CHECK((errno = 0, (call) == -1 && errno == (e)))

/* The exit status: 0 when every check passed. */
static inline int check_summary(void)
{
	printf("%d failures\n", failures);
	return failures ? 1 : 0;
}

#endif
