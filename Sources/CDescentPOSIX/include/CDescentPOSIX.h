#ifndef CDESCENT_POSIX_H
#define CDESCENT_POSIX_H

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/// accept4(2) is a GNU extension that Swift's Glibc module does not export (it is declared only under
/// _GNU_SOURCE). One accept4 call gives a non-blocking, close-on-exec socket: two fcntl calls saved per accept.
int descent_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// epoll_wait(2), returning each event as a token and its event bits in two plain arrays: `struct epoll_event`
/// is packed on x86-64, a layout better kept on the C side.
int descent_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int capacity, int timeout);

/// epoll_ctl(2) with the event's bits and token passed as plain values, for the same reason.
int descent_epoll_ctl(int epfd, int operation, int fd, uint32_t events, uint64_t token);

/// Sets the calling thread's nice value (Linux: niceness is per thread, named by its kernel thread id, which
/// gettid(2) gives only under _GNU_SOURCE). Returns 0, or -1 with errno.
int descent_set_thread_nice(int nice);

#endif
