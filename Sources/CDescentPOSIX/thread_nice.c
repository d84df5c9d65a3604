#define _GNU_SOURCE
#include <sys/resource.h>
#include <unistd.h>
#include "CDescentPOSIX.h"

int descent_set_thread_nice(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)gettid(), nice);
}
