/*
 * cache.h -- trust in the compile cache (internal): nothing found in the
 * cache is dlopen()ed before it is verified.
 *
 * The cache's directories (CACHE, CACHE/v1, CACHE/v1/XX, CACHE/v1/tmp) must
 * belong to the effective user and must not be writable by group or others,
 * or nothing is loaded from them (EACCES naming the directory, its owner and
 * mode): whoever can write there could make the host run their code. Each
 * compiled object CACHE/v1/XX/KEY.so has a manifest, KEY.manifest, written by
 * the compile step: the key, the object's size and its SHA-256. An entry is
 * used only when both files are regular files of the user, not writable by
 * group or others, and the object, read through the same descriptor that is
 * then handed to dlopen (as /proc/self/fd/N), hashes to its manifest. The
 * walk from CACHE down uses directory descriptors (openat, O_NOFOLLOW), so a
 * path swapped during the checks cannot redirect it.
 *
 * Compiling a key happens under its lock file, CACHE/v1/XX/KEY.lock (flock),
 * waited for at most a bounded time (ETIMEDOUT naming the lock and the
 * process that holds it). The holder writes its process id into the lock
 * file and unlinks it when done; a waiter that gets the lock of a file that
 * is no longer at the path tries again. A work directory CACHE/v1/tmp/KEY.*
 * exists only while its key's lock is held, so one whose lock is free was
 * left by a process that died: compiles remove those, and lock files whose
 * lock is free, as they find them.
 */
#ifndef WUDF_ENGINE_CACHE_H
#define WUDF_ENGINE_CACHE_H

#include <stdint.h>

#include "../common/common.h"

/* The manifest of a compiled object, written next to it. */
#define WUDF__MANIFEST_NAME "module.manifest"

/*
 * Opens CACHE/v1/XX for `key` (XX: its first two hex digits) and checks
 * CACHE, CACHE/v1 and CACHE/v1/XX on the way. With `create`, makes what is
 * missing (mode 0700), CACHE's parents included. Returns 0 with the
 * directory's descriptor in `*directory`, ENOENT when a directory is missing
 * and not `create` (no message), EACCES when one is not safe, EIO.
 */
int wudf__cache_open_tree(const char* cache_dir, const char* key, int create,
                          int* directory, struct wudf_error* error);

/* Opens CACHE/v1/tmp (making it if missing) and checks it as above. */
int wudf__cache_open_work_parent(const char* cache_dir, int* directory,
                                 struct wudf_error* error);

/* EACCES when `fd` (of CACHE or below) is on a file system mounted noexec,
 * where no compiled object can be loaded; 0 otherwise. */
int wudf__cache_check_exec(int fd, const char* cache_dir,
                           struct wudf_error* error);

/*
 * Opens KEY.so in `directory` (CACHE/v1/XX) if KEY.manifest vouches for it,
 * reading and hashing the object without running any of it. Returns 0 with
 * the object's descriptor (to dlopen through /proc/self/fd) in `*fd`, or
 * ENOENT when there is no usable entry (missing, damaged, tampered with, of
 * another user): the caller compiles it again.
 */
int wudf__cache_open_entry(int directory, const char* key, int* fd);

/* Takes write permission on `work`/module.so from group and others (the
 * compiler honoured the umask), hashes it and writes `work`/module.manifest
 * for `key`. Returns 0 or EIO. */
int wudf__cache_write_manifest(const char* work, const char* key,
                               struct wudf_error* error);

/*
 * Takes the lock file `path`, waiting at most `timeout_ms` (0: one attempt).
 * Returns 0 with its descriptor in `*fd`, ETIMEDOUT (naming the lock and its
 * holder's process id), or EIO.
 */
int wudf__cache_lock(const char* path, uint64_t timeout_ms, int* fd,
                     struct wudf_error* error);

/* Releases a lock taken by wudf__cache_lock: unlinks `path`, closes `fd`. */
void wudf__cache_unlock(const char* path, int fd);

/*
 * Removes what processes that died while compiling left: work directories in
 * CACHE/v1/tmp whose key's lock is free (those of `key`, whose lock the
 * caller holds, too; other names when older than a day), and lock files in
 * `directory` (CACHE/v1/XX) whose lock is free. Best effort, no errors.
 */
void wudf__cache_clean(const char* cache_dir, int work_parent, int directory,
                       const char* key);

#endif /* WUDF_ENGINE_CACHE_H */
