/* A counter of /proc/net/quic, for the guest tests. */
#ifndef QUICBED_GUEST_QUIC_STAT_H
#define QUICBED_GUEST_QUIC_STAT_H

#include <stdio.h>
#include <string.h>

/* The value of counter `name` (-1 if absent). */
static inline long long quic_stat(const char *name)
{
	char key[64];
	long long v, found = -1;
	FILE *f = fopen("/proc/net/quic", "r");

	while (f && fscanf(f, "%63s %lld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	if (f)
		fclose(f);
	return found;
}

#endif
