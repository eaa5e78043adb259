/*
 * cache.c -- trust in the compile cache: safe directories, manifests checked
 * before anything is loaded, bounded lock waits, and the cleaning of what
 * crashed processes left. See cache.h for the rules.
 */
#define _GNU_SOURCE
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

/* Work directories with names this library does not make are removed when
 * they are older than this (the previous naming, from before locks vouched
 * for them). */
#define WUDF__STALE_UNKNOWN_SECONDS (24 * 60 * 60)

/* The longest manifest (and then some). */
#define WUDF__MANIFEST_MAX 256

/* ---------------------------------------------------------- directories */

/* Checks that the directory open at `fd` (named `path` in messages) belongs
 * to the effective user and is not writable by group or others. Returns 0,
 * EACCES or EIO. */
static int wudf__check_directory(int fd, const char* path,
                                 struct wudf_error* error) {
  struct stat info;
  if (fstat(fd, &info) != 0) {
    return wudf__set_error(error, EIO, "cannot stat the cache directory %s: %s",
                           path, strerror(errno));
  }
  if (!S_ISDIR(info.st_mode)) {
    return wudf__set_error(error, EIO, "the cache directory %s is not a directory",
                           path);
  }
  uid_t user = geteuid();
  if (info.st_uid != user) {
    return wudf__set_error(
        error, EACCES,
        "the cache directory %s belongs to uid %u, not to the current user "
        "(uid %u): that user could replace the code it holds, so nothing is "
        "loaded from it; use a cache directory of your own (cache_dir or "
        "$WASMUDF_CACHE_DIR)",
        path, (unsigned)info.st_uid, (unsigned)user);
  }
  if (info.st_mode & (S_IWGRP | S_IWOTH)) {
    return wudf__set_error(
        error, EACCES,
        "the cache directory %s (mode %04o, owner uid %u) is writable by %s: "
        "they could replace the code it holds, so nothing is loaded from it; "
        "remove that permission (chmod go-w) or use another cache directory",
        path, (unsigned)(info.st_mode & 07777), (unsigned)info.st_uid,
        (info.st_mode & S_IWGRP) && (info.st_mode & S_IWOTH) ? "its group and others"
        : (info.st_mode & S_IWGRP)                           ? "its group"
                                                             : "others");
  }
  return 0;
}

/* Creates `path` and its missing parents (mode 0700). */
static int wudf__make_directories(const char* path, struct wudf_error* error) {
  char partial[4096];
  size_t length = strlen(path);
  if (length >= sizeof(partial)) {
    return wudf__set_error(error, ENAMETOOLONG, "cache path too long: %s", path);
  }
  memcpy(partial, path, length + 1);
  for (size_t i = 1; i <= length; i++) {
    if (partial[i] == '/' || partial[i] == '\0') {
      char saved = partial[i];
      partial[i] = '\0';
      if (mkdir(partial, 0700) != 0 && errno != EEXIST) {
        return wudf__set_error(error, EIO, "cannot create directory %s: %s",
                               partial, strerror(errno));
      }
      partial[i] = saved;
    }
  }
  return 0;
}

/* Opens (with `create`, makes) the directory `name` in `parent`, named `path`
 * in messages, without following a symbolic link, and checks it. Returns 0
 * with its descriptor, ENOENT (no message), EACCES or EIO. */
static int wudf__open_child(int parent, const char* name, const char* path,
                            int create, int* out, struct wudf_error* error) {
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST) {
      return wudf__set_error(error, EIO, "cannot create directory %s: %s", path,
                             strerror(errno));
    }
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) {
    if (errno == ENOENT && !create) return ENOENT;
    return wudf__set_error(error, EIO, "cannot open the cache directory %s: %s",
                           path, errno == ELOOP || errno == ENOTDIR
                                     ? "not a directory (or a symbolic link)"
                                     : strerror(errno));
  }
  int status = wudf__check_directory(fd, path, error);
  if (status != 0) {
    close(fd);
    return status;
  }
  *out = fd;
  return 0;
}

/* Opens and checks CACHE and CACHE/v1. */
static int wudf__open_version(const char* cache_dir, int create, int* out,
                              struct wudf_error* error) {
  if (create) {
    int status = wudf__make_directories(cache_dir, error);
    if (status != 0) return status;
  }
  int root = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    if (errno == ENOENT && !create) return ENOENT;
    return wudf__set_error(error, EIO, "cannot open the cache directory %s: %s",
                           cache_dir, strerror(errno));
  }
  int status = wudf__check_directory(root, cache_dir, error);
  if (status == 0) {
    char path[4200];
    snprintf(path, sizeof(path), "%s/v1", cache_dir);
    status = wudf__open_child(root, "v1", path, create, out, error);
  }
  close(root);
  return status;
}

int wudf__cache_open_tree(const char* cache_dir, const char* key, int create,
                          int* directory, struct wudf_error* error) {
  int version;
  int status = wudf__open_version(cache_dir, create, &version, error);
  if (status != 0) return status;
  char name[3] = {key[0], key[1], '\0'};
  char path[4200];
  snprintf(path, sizeof(path), "%s/v1/%s", cache_dir, name);
  status = wudf__open_child(version, name, path, create, directory, error);
  close(version);
  return status;
}

int wudf__cache_open_work_parent(const char* cache_dir, int* directory,
                                 struct wudf_error* error) {
  int version;
  int status = wudf__open_version(cache_dir, 1, &version, error);
  if (status != 0) return status;
  char path[4200];
  snprintf(path, sizeof(path), "%s/v1/tmp", cache_dir);
  status = wudf__open_child(version, "tmp", path, 1, directory, error);
  close(version);
  return status;
}

int wudf__cache_check_exec(int fd, const char* cache_dir,
                           struct wudf_error* error) {
  struct statvfs info;
  if (fstatvfs(fd, &info) == 0 && (info.f_flag & ST_NOEXEC)) {
    return wudf__set_error(
        error, EACCES,
        "the cache directory %s is on a file system mounted noexec: compiled "
        "modules cannot be loaded from it; set cache_dir or "
        "$WASMUDF_CACHE_DIR to a directory on a file system that allows "
        "executable mappings",
        cache_dir);
  }
  return 0;
}

/* ------------------------------------------------------------- manifests */

/* Nonzero when the file open at `fd` is a regular file of the effective user
 * that group and others cannot write; sets `*size`. */
static int wudf__trusted_file(int fd, uint64_t* size) {
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) ||
      info.st_uid != geteuid() || (info.st_mode & (S_IWGRP | S_IWOTH))) {
    return 0;
  }
  *size = (uint64_t)info.st_size;
  return 1;
}

/* Hashes the whole file open at `fd` from its start; returns 0 and sets
 * `*size`, or -1. */
static int wudf__hash_file(int fd, char hex[65], uint64_t* size) {
  struct wudf__sha256 hash;
  wudf__sha256_init(&hash);
  unsigned char buffer[16384];
  uint64_t total = 0;
  for (;;) {
    ssize_t got = pread(fd, buffer, sizeof(buffer), (off_t)total);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return -1;
    if (got == 0) break;
    wudf__sha256_update(&hash, buffer, (size_t)got);
    total += (uint64_t)got;
  }
  wudf__sha256_hex(&hash, hex);
  *size = total;
  return 0;
}

/* The text of the manifest of an object of `size` bytes hashing to `hex`. */
static int wudf__manifest_text(char* text, size_t capacity, const char* key,
                               uint64_t size, const char* hex) {
  return snprintf(text, capacity,
                  "wasmudf compiled module 1\nkey %s\nsize %llu\nsha256 %s\n",
                  key, (unsigned long long)size, hex);
}

int wudf__cache_open_entry(int directory, const char* key, int* out) {
  char name[80];
  snprintf(name, sizeof(name), "%s.manifest", key);
  int manifest = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (manifest < 0) return ENOENT;
  char recorded[WUDF__MANIFEST_MAX];
  uint64_t manifest_size = 0;
  ssize_t got = -1;
  if (wudf__trusted_file(manifest, &manifest_size) &&
      manifest_size < sizeof(recorded)) {
    got = pread(manifest, recorded, sizeof(recorded) - 1, 0);
  }
  close(manifest);
  if (got <= 0) return ENOENT;
  recorded[got] = '\0';

  snprintf(name, sizeof(name), "%s.so", key);
  int fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ENOENT;
  uint64_t size, hashed_size;
  char hex[65], expected[WUDF__MANIFEST_MAX];
  if (!wudf__trusted_file(fd, &size) || wudf__hash_file(fd, hex, &hashed_size) != 0 ||
      hashed_size != size) {
    close(fd);
    return ENOENT;
  }
  /* The manifest must be exactly what the compile step writes for this key
   * and these bytes: no parsing, one comparison. */
  wudf__manifest_text(expected, sizeof(expected), key, size, hex);
  if (strcmp(expected, recorded) != 0) {
    close(fd);
    return ENOENT;
  }
  *out = fd;
  return 0;
}

int wudf__cache_write_manifest(const char* work, const char* key,
                               struct wudf_error* error) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/module.so", work);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return wudf__set_error(error, EIO, "cannot open %s: %s", path, strerror(errno));
  }
  /* The compiler made it with the user's umask: group and others must not
   * be able to write it, or loads would not trust it. */
  struct stat info;
  if (fstat(fd, &info) != 0 || fchmod(fd, info.st_mode & 0755) != 0) {
    int saved = errno;
    close(fd);
    return wudf__set_error(error, EIO, "cannot set the mode of %s: %s", path,
                           strerror(saved));
  }
  char hex[65];
  uint64_t size;
  int hashed = wudf__hash_file(fd, hex, &size);
  close(fd);
  if (hashed != 0) {
    return wudf__set_error(error, EIO, "cannot read %s: %s", path, strerror(errno));
  }
  char text[WUDF__MANIFEST_MAX];
  int length = wudf__manifest_text(text, sizeof(text), key, size, hex);
  snprintf(path, sizeof(path), "%s/%s", work, WUDF__MANIFEST_NAME);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return wudf__set_error(error, EIO, "cannot create %s: %s", path, strerror(errno));
  }
  ssize_t written = write(fd, text, (size_t)length);
  int saved = errno;
  if (close(fd) != 0 && written == length) {
    written = -1;
    saved = errno;
  }
  if (written != length) {
    return wudf__set_error(error, EIO, "cannot write %s: %s", path,
                           written < 0 ? strerror(saved) : "short write");
  }
  return 0;
}

/* ----------------------------------------------------------------- locks */

/* Microseconds, so that a wait of `timeout_ms` is never cut short by the
 * rounding of whole milliseconds. */
static uint64_t wudf__now_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

int wudf__cache_lock(const char* path, uint64_t timeout_ms, int* out,
                     struct wudf_error* error) {
  uint64_t start = wudf__now_us();
  uint64_t limit_us = timeout_ms > UINT64_MAX / 1000u ? UINT64_MAX : timeout_ms * 1000u;
  long pause_us = 1000;
  for (;;) {
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      return wudf__set_error(error, EIO, "cannot open the cache lock %s: %s",
                             path, strerror(errno));
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        int saved = errno;
        close(fd);
        return wudf__set_error(error, EIO, "cannot lock %s: %s", path,
                               strerror(saved));
      }
      uint64_t waited_us = wudf__now_us() - start;
      if (waited_us >= limit_us) {
        char holder[32] = "";
        ssize_t got = pread(fd, holder, sizeof(holder) - 1, 0);
        close(fd);
        holder[got > 0 ? got : 0] = '\0';
        long pid = strtol(holder, NULL, 10);
        if (timeout_ms == 0) return ETIMEDOUT;
        return wudf__set_error(
            error, ETIMEDOUT,
            "timed out after %llu ms waiting for the cache lock %s, held by "
            "%s%ld (compiling the same module, or stuck); raise "
            "lock_timeout_ms or end that process",
            (unsigned long long)(waited_us / 1000u), path,
            pid > 0 ? "process " : "an unknown process", pid > 0 ? pid : 0L);
      }
      uint64_t left_us = limit_us - waited_us;
      long step_us = left_us < (uint64_t)pause_us ? (long)left_us : pause_us;
      struct timespec pause = {0, step_us * 1000};
      nanosleep(&pause, NULL);
      if (pause_us < 50000) pause_us *= 2;
    }
    /* The holder before us unlinks the file when done: if it is no longer
     * the file at `path`, we locked a file nobody else will look at. */
    struct stat locked, named;
    if (fstat(fd, &locked) == 0 && stat(path, &named) == 0 &&
        locked.st_dev == named.st_dev && locked.st_ino == named.st_ino) {
      char pid[32];
      int length = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
      if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)length, 0) != length) {
        /* The holder's id is only for messages. */
      }
      *out = fd;
      return 0;
    }
    close(fd);
  }
}

void wudf__cache_unlock(const char* path, int fd) {
  unlink(path);
  close(fd);
}

/* ------------------------------------------------------------- cleaning */

/* Removes the directory `name` in `parent` and the files in it (or `name`
 * itself, when it is not a directory). */
static void wudf__remove_entry(int parent, const char* name) {
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    unlinkat(parent, name, 0);
    return;
  }
  DIR* directory = fdopendir(fd);
  if (directory == NULL) {
    close(fd);
    return;
  }
  struct dirent* entry;
  while ((entry = readdir(directory)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    if (unlinkat(fd, entry->d_name, 0) != 0 && (errno == EISDIR || errno == EPERM)) {
      unlinkat(fd, entry->d_name, AT_REMOVEDIR);
    }
  }
  closedir(directory);
  unlinkat(parent, name, AT_REMOVEDIR);
}

/* Nonzero when `name` starts with a 64-digit key followed by `suffix`;
 * copies the key into `key`. */
static int wudf__keyed_name(const char* name, const char* suffix, char key[65]) {
  for (int i = 0; i < 64; i++) {
    char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  if (strncmp(name + 64, suffix, strlen(suffix)) != 0) return 0;
  memcpy(key, name, 64);
  key[64] = '\0';
  return 1;
}

void wudf__cache_clean(const char* cache_dir, int work_parent, int directory,
                       const char* key) {
  char lock_path[4200];
  /* Work directories. */
  int fd = dup(work_parent);
  DIR* listing = fd >= 0 ? fdopendir(fd) : NULL;
  if (listing == NULL && fd >= 0) close(fd);
  struct dirent* entry;
  while (listing != NULL && (entry = readdir(listing)) != NULL) {
    if (entry->d_name[0] == '.') continue;
    char owner[65];
    if (!wudf__keyed_name(entry->d_name, ".", owner)) {
      struct stat info;
      if (fstatat(work_parent, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
          time(NULL) - info.st_mtime > WUDF__STALE_UNKNOWN_SECONDS) {
        wudf__remove_entry(work_parent, entry->d_name);
      }
      continue;
    }
    if (strcmp(owner, key) == 0) {
      /* Ours: the caller holds this key's lock, so nobody is using it. */
      wudf__remove_entry(work_parent, entry->d_name);
      continue;
    }
    snprintf(lock_path, sizeof(lock_path), "%s/v1/%.2s/%s.lock", cache_dir,
             owner, owner);
    int lock;
    struct stat info;
    char lock_directory[4200];
    snprintf(lock_directory, sizeof(lock_directory), "%s/v1/%.2s", cache_dir, owner);
    if (stat(lock_directory, &info) != 0) {
      /* No directory for its lock: nobody can be compiling it. */
      wudf__remove_entry(work_parent, entry->d_name);
    } else if (wudf__cache_lock(lock_path, 0, &lock, NULL) == 0) {
      wudf__remove_entry(work_parent, entry->d_name);
      wudf__cache_unlock(lock_path, lock);
    }
  }
  if (listing != NULL) closedir(listing);

  /* Lock files of this key's directory whose lock is free. */
  fd = dup(directory);
  listing = fd >= 0 ? fdopendir(fd) : NULL;
  if (listing == NULL && fd >= 0) close(fd);
  while (listing != NULL && (entry = readdir(listing)) != NULL) {
    char owner[65];
    if (!wudf__keyed_name(entry->d_name, ".lock", owner) ||
        entry->d_name[64 + 5] != '\0' || strcmp(owner, key) == 0) {
      continue;
    }
    snprintf(lock_path, sizeof(lock_path), "%s/v1/%.2s/%s", cache_dir, owner,
             entry->d_name);
    int lock;
    if (wudf__cache_lock(lock_path, 0, &lock, NULL) == 0) {
      wudf__cache_unlock(lock_path, lock);
    }
  }
  if (listing != NULL) closedir(listing);
}
