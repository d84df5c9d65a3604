// tsan-swift-mutex.c — shows ThreadSanitizer the happens-before edges of Swift's `Synchronization.Mutex` on
// Linux when the lock is contended. scripts/sanitize.sh builds it into a small shared library and preloads it
// (LD_PRELOAD) for `scripts/sanitize.sh thread` only; nothing else builds or links it.
//
// Why: Mutex's fast paths (one compare-and-exchange to lock, one to unlock) are inlined into our instrumented
// code, so TSan sees them. Its slow paths are not: `_lockSlow` (spin, then FUTEX_LOCK_PI: the kernel hands the
// lock over), `_unlockSlow` (FUTEX_UNLOCK_PI) and `_tryLockSlow` live in libswiftSynchronization.so, which is
// not instrumented, and the hand-over happens in the kernel. Under contention TSan then sees no order between
// one holder's critical section and the next, and reports a race on state that every access reads or writes
// under the same lock (reproduced in 15 lines: four threads updating a Mutex<[Int: Int]> in withLock give a
// "Swift access race" inside the withLock closure; with this library, none).
//
// How: each slow path is defined here under its exported Swift symbol, so the dynamic linker binds the calls
// of the (instrumented) program to these definitions ahead of libswiftSynchronization.so's, and each forwards
// to the original (dlsym RTLD_NEXT) and tells TSan what the lock did: __tsan_acquire on the lock word after
// the lock is taken, __tsan_release before it is given back — the same sync object as the inlined atomics'.
// The lock itself is untouched. The TSan entry points are weak: in a process without TSan (swift-test, curl)
// the definitions only forward.
//
// The signatures are Swift's (swiftcc; `self` is the lock word's address, in the swiftself register):
//   _MutexHandle._lockSlow(_ selfId: UInt32)   $s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF
//   _MutexHandle._unlockSlow()                 $s15Synchronization12_MutexHandleV11_unlockSlowyyF
//   _MutexHandle._tryLockSlow() -> Bool        $s15Synchronization12_MutexHandleV12_tryLockSlowSbyF
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SWIFTCC __attribute__((swiftcall))
#define SWIFTSELF __attribute__((swift_context))

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"

extern void __tsan_acquire(void *address) __attribute__((weak));
extern void __tsan_release(void *address) __attribute__((weak));

typedef SWIFTCC void (*LockSlow)(uint32_t, SWIFTSELF void *);
typedef SWIFTCC void (*UnlockSlow)(SWIFTSELF void *);
typedef SWIFTCC bool (*TryLockSlow)(SWIFTSELF void *);

// Resolved once as the library loads, before any thread of the program runs. In a process without
// libswiftSynchronization.so (curl) they stay NULL and are never called.
static LockSlow next_lock_slow;
static UnlockSlow next_unlock_slow;
static TryLockSlow next_try_lock_slow;

__attribute__((constructor)) static void resolve(void) {
    next_lock_slow = (LockSlow)dlsym(RTLD_NEXT, LOCK_SLOW);
    next_unlock_slow = (UnlockSlow)dlsym(RTLD_NEXT, UNLOCK_SLOW);
    next_try_lock_slow = (TryLockSlow)dlsym(RTLD_NEXT, TRY_LOCK_SLOW);
}

static void missing(const char *name) {
    fprintf(stderr, "tsan-swift-mutex: %s not found after this library\n", name);
    abort();
}

SWIFTCC void descent_lock_slow(uint32_t self_id, SWIFTSELF void *handle) __asm__(LOCK_SLOW);
SWIFTCC void descent_lock_slow(uint32_t self_id, SWIFTSELF void *handle) {
    if (next_lock_slow == NULL) missing(LOCK_SLOW);
    next_lock_slow(self_id, handle);
    if (__tsan_acquire) __tsan_acquire(handle);
}

SWIFTCC void descent_unlock_slow(SWIFTSELF void *handle) __asm__(UNLOCK_SLOW);
SWIFTCC void descent_unlock_slow(SWIFTSELF void *handle) {
    if (next_unlock_slow == NULL) missing(UNLOCK_SLOW);
    if (__tsan_release) __tsan_release(handle);
    next_unlock_slow(handle);
}

SWIFTCC bool descent_try_lock_slow(SWIFTSELF void *handle) __asm__(TRY_LOCK_SLOW);
SWIFTCC bool descent_try_lock_slow(SWIFTSELF void *handle) {
    if (next_try_lock_slow == NULL) missing(TRY_LOCK_SLOW);
    bool locked = next_try_lock_slow(handle);
    if (locked && __tsan_acquire) __tsan_acquire(handle);
    return locked;
}
