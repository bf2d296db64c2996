/* The guest tests' loopback in a network namespace of their own. */
#ifndef QUICBED_GUEST_LO_UP_H
#define QUICBED_GUEST_LO_UP_H

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Loopback up in this namespace (SIOCSIFFLAGS, as `ip link set lo up`). */
static inline int lo_up(void)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP;
	rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return rc;
}

#endif
