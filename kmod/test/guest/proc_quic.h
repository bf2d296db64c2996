/* The guest tests' reading of /proc/net/quic: one counter by name. */
#ifndef QUICBED_GUEST_PROC_QUIC_H
#define QUICBED_GUEST_PROC_QUIC_H

#include <stdio.h>
#include <string.h>

/* The counter `name` ("Name value" lines), -1 when absent. */
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
