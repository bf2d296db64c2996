/* The guest tests' served files: run.sh puts them under /www. */
#ifndef QUICBED_GUEST_WWW_FILE_H
#define QUICBED_GUEST_WWW_FILE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file at `path` under /www, whole, malloc'ed (NULL if absent). */
static inline char *www_file(const char *path, size_t *len)
{
	char full[300];
	struct stat st;
	char *data;
	int fd;

	snprintf(full, sizeof(full), "/www%s", path);
	fd = open(full, O_RDONLY);
	if (fd < 0)
		return NULL;
	data = fstat(fd, &st) ? NULL : malloc(st.st_size + 1);
	if (data && read(fd, data, st.st_size) != st.st_size) {
		free(data);
		data = NULL;
	}
	close(fd);
	*len = data ? (size_t)st.st_size : 0;
	return data;
}

#endif
