#ifndef CDESCENT_POSIX_H
#define CDESCENT_POSIX_H

#include <sys/socket.h>

/// accept4(2) is a GNU extension that Swift's Glibc module does not export (it is declared only under
/// _GNU_SOURCE). One accept4 call gives a non-blocking, close-on-exec socket: two fcntl calls saved per accept.
int descent_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

#endif
