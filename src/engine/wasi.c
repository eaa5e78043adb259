/*
 * wasi.c -- the WASI preview1 subset (see wasi.h for what is offered).
 *
 * Every function runs as host code called from the guest: it is bracketed by
 * wudf__rt_hostcall_enter/leave (so a timeout is deferred until it returns),
 * and every guest pointer it is given is checked against the current size of
 * linear memory before it is read or written. A bad pointer is the guest's
 * error: it gets WASI's EFAULT, and the host carries on.
 */
#define _GNU_SOURCE
#include "wasi.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "runtime.h"

/* WASI errno values used here. */
enum {
  WUDF__WASI_SUCCESS = 0,
  WUDF__WASI_EBADF = 8,
  WUDF__WASI_EFAULT = 21,
  WUDF__WASI_EINVAL = 28,
  WUDF__WASI_EIO = 29,
  WUDF__WASI_ENOSYS = 52,
  WUDF__WASI_ESPIPE = 70
};

/* WASI file type and rights bits used for the standard descriptors. */
#define WUDF__WASI_FILETYPE_CHARACTER_DEVICE 2
#define WUDF__WASI_RIGHT_FD_READ (1ull << 1)
#define WUDF__WASI_RIGHT_FD_WRITE (1ull << 6)

/* Cap on scatter/gather vectors per fd_write, as POSIX's IOV_MAX. */
#define WUDF__WASI_MAX_IOVS 1024u

/* The deterministic clock starts at 2023-11-14T22:13:20Z. */
#define WUDF__WASI_DETERMINISTIC_EPOCH_NS 1700000000000000000ull

static const struct {
  const char* name;
  const char* signature;
} wudf__wasi_table[WUDF__WASI_FUNCTION_COUNT] = {
#define WUDF__WASI_ROW(name, signature) {#name, signature},
    WUDF__WASI_FUNCTIONS(WUDF__WASI_ROW)
#undef WUDF__WASI_ROW
};

int wudf__wasi_find(const char* name) {
  for (int i = 0; i < WUDF__WASI_FUNCTION_COUNT; i++) {
    if (strcmp(wudf__wasi_table[i].name, name) == 0) return i;
  }
  return -1;
}

const char* wudf__wasi_signature(int index) {
  return wudf__wasi_table[index].signature;
}

const char* wudf__wasi_name(int index) { return wudf__wasi_table[index].name; }

void wudf__wasi_init(struct wudf__wasi* wasi, size_t output_limit,
                     int deterministic) {
  memset(wasi, 0, sizeof(*wasi));
  wasi->output_limit = output_limit;
  wasi->deterministic = deterministic;
  wasi->random_state = 0x5745444620554446ull;
}

void wudf__wasi_release(struct wudf__wasi* wasi) {
  wudf__free(wasi->output);
  wasi->output = NULL;
  wasi->output_size = wasi->output_capacity = 0;
}

/* Returns a host pointer to `length` bytes at guest address `address`, or
 * NULL when any of them lies outside linear memory. */
static uint8_t* wudf__guest_bytes(uint64_t address, uint64_t length) {
  struct wudf__rt_instance* instance = wudf__rt_current();
  if (instance == NULL || instance->memory == NULL) return NULL;
  wasm_rt_memory_t* memory = instance->memory;
  if (address > memory->size || length > memory->size - address) return NULL;
  return memory->data + address;
}

static int wudf__store_u32(uint64_t address, uint32_t value) {
  uint8_t* target = wudf__guest_bytes(address, sizeof(value));
  if (target == NULL) return WUDF__WASI_EFAULT;
  memcpy(target, &value, sizeof(value));
  return WUDF__WASI_SUCCESS;
}

static int wudf__store_u64(uint64_t address, uint64_t value) {
  uint8_t* target = wudf__guest_bytes(address, sizeof(value));
  if (target == NULL) return WUDF__WASI_EFAULT;
  memcpy(target, &value, sizeof(value));
  return WUDF__WASI_SUCCESS;
}

/* Appends to the captured output, dropping (and counting) what exceeds the
 * limit or cannot be allocated. */
static void wudf__capture(struct wudf__wasi* wasi, const uint8_t* bytes,
                          size_t length) {
  size_t room = wasi->output_limit - wasi->output_size;
  size_t kept = length < room ? length : room;
  if (wasi->output_size + kept > wasi->output_capacity) {
    size_t capacity = wasi->output_capacity ? wasi->output_capacity : 256;
    while (capacity < wasi->output_size + kept) capacity *= 2;
    if (capacity > wasi->output_limit) capacity = wasi->output_limit;
    char* grown = wudf__realloc(wasi->output, capacity);
    if (grown == NULL) {
      kept = 0;
    } else {
      wasi->output = grown;
      wasi->output_capacity = capacity;
    }
  }
  if (kept != 0) memcpy(wasi->output + wasi->output_size, bytes, kept);
  wasi->output_size += kept;
  wasi->output_dropped += length - kept;
}

static int wudf__fd_write(struct wudf__wasi* wasi, uint32_t fd, uint32_t iovs,
                          uint32_t iov_count, uint32_t written_address) {
  if (fd != 1 && fd != 2) return WUDF__WASI_EBADF;
  if (iov_count > WUDF__WASI_MAX_IOVS) return WUDF__WASI_EINVAL;
  const uint8_t* vectors = wudf__guest_bytes(iovs, (uint64_t)iov_count * 8);
  if (vectors == NULL) return WUDF__WASI_EFAULT;
  uint64_t total = 0;
  for (uint32_t i = 0; i < iov_count; i++) {
    uint32_t buffer, length;
    memcpy(&buffer, vectors + 8 * i, 4);
    memcpy(&length, vectors + 8 * i + 4, 4);
    const uint8_t* bytes = wudf__guest_bytes(buffer, length);
    if (bytes == NULL) return WUDF__WASI_EFAULT;
    total += length;
    if (total > UINT32_MAX) return WUDF__WASI_EINVAL;
  }
  for (uint32_t i = 0; i < iov_count; i++) {
    uint32_t buffer, length;
    memcpy(&buffer, vectors + 8 * i, 4);
    memcpy(&length, vectors + 8 * i + 4, 4);
    wudf__capture(wasi, wudf__guest_bytes(buffer, length), length);
  }
  return wudf__store_u32(written_address, (uint32_t)total);
}

static int wudf__fd_fdstat_get(uint32_t fd, uint32_t address) {
  if (fd > 2) return WUDF__WASI_EBADF;
  uint8_t* stat = wudf__guest_bytes(address, 24);
  if (stat == NULL) return WUDF__WASI_EFAULT;
  /* A character device without seek/tell rights: wasi-libc treats it as a
   * terminal and line-buffers stdout, so output shows up without fflush. */
  uint64_t rights = fd == 0 ? WUDF__WASI_RIGHT_FD_READ : WUDF__WASI_RIGHT_FD_WRITE;
  uint64_t inheriting = 0;
  memset(stat, 0, 24);
  stat[0] = WUDF__WASI_FILETYPE_CHARACTER_DEVICE;
  memcpy(stat + 8, &rights, 8);
  memcpy(stat + 16, &inheriting, 8);
  return WUDF__WASI_SUCCESS;
}

static uint64_t wudf__next_random(struct wudf__wasi* wasi) {
  /* splitmix64 */
  uint64_t z = (wasi->random_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int wudf__random_get(struct wudf__wasi* wasi, uint32_t address,
                            uint32_t length) {
  uint8_t* target = wudf__guest_bytes(address, length);
  if (target == NULL) return WUDF__WASI_EFAULT;
  if (wasi->deterministic) {
    for (uint32_t i = 0; i < length; i += 8) {
      uint64_t word = wudf__next_random(wasi);
      memcpy(target + i, &word, length - i < 8 ? length - i : 8);
    }
    return WUDF__WASI_SUCCESS;
  }
  size_t done = 0;
  while (done < length) {
    ssize_t got = getrandom(target + done, length - done, 0);
    if (got <= 0) return WUDF__WASI_EIO;
    done += (size_t)got;
  }
  return WUDF__WASI_SUCCESS;
}

static int wudf__clock_time_get(struct wudf__wasi* wasi, uint32_t clock_id,
                                uint32_t address) {
  static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC,
                                     CLOCK_PROCESS_CPUTIME_ID,
                                     CLOCK_THREAD_CPUTIME_ID};
  if (clock_id >= sizeof(clocks) / sizeof(clocks[0])) return WUDF__WASI_EINVAL;
  uint64_t now;
  if (wasi->deterministic) {
    wasi->clock_ns += 1000000;
    now = WUDF__WASI_DETERMINISTIC_EPOCH_NS + wasi->clock_ns;
  } else {
    struct timespec value;
    if (clock_gettime(clocks[clock_id], &value) != 0) return WUDF__WASI_EIO;
    now = (uint64_t)value.tv_sec * 1000000000ull + (uint64_t)value.tv_nsec;
  }
  return wudf__store_u64(address, now);
}

/* Functions whose first argument is a file descriptor and that the subset
 * does not implement: ENOSYS on the standard descriptors, EBADF elsewhere. */
static int wudf__unsupported_on_fd(uint32_t fd) {
  return fd <= 2 ? WUDF__WASI_ENOSYS : WUDF__WASI_EBADF;
}

static int wudf__wasi_dispatch(struct wudf__wasi* wasi, uint32_t function,
                               const uint64_t* args) {
  uint32_t a0 = (uint32_t)args[0], a1 = (uint32_t)args[1];
  switch ((enum wudf__wasi_function)function) {
    case WUDF__WASI_fd_write:
      return wudf__fd_write(wasi, a0, a1, (uint32_t)args[2], (uint32_t)args[3]);
    case WUDF__WASI_fd_read:
      if (a0 != 0) return WUDF__WASI_EBADF;
      return wudf__store_u32((uint32_t)args[3], 0); /* stdin is empty */
    case WUDF__WASI_fd_fdstat_get:
      return wudf__fd_fdstat_get(a0, a1);
    case WUDF__WASI_fd_close:
      return a0 <= 2 ? WUDF__WASI_SUCCESS : WUDF__WASI_EBADF;
    case WUDF__WASI_fd_seek:
    case WUDF__WASI_fd_tell:
      return a0 <= 2 ? WUDF__WASI_ESPIPE : WUDF__WASI_EBADF;
    case WUDF__WASI_fd_prestat_get:
    case WUDF__WASI_fd_prestat_dir_name:
      return WUDF__WASI_EBADF; /* no preopened directories */
    case WUDF__WASI_args_sizes_get:
    case WUDF__WASI_environ_sizes_get: {
      int status = wudf__store_u32(a0, 0);
      return status != 0 ? status : wudf__store_u32(a1, 0);
    }
    case WUDF__WASI_args_get:
    case WUDF__WASI_environ_get:
      return WUDF__WASI_SUCCESS;
    case WUDF__WASI_clock_res_get:
      if (a0 > 3) return WUDF__WASI_EINVAL;
      return wudf__store_u64(a1, 1);
    case WUDF__WASI_clock_time_get:
      return wudf__clock_time_get(wasi, a0, (uint32_t)args[2]);
    case WUDF__WASI_random_get:
      return wudf__random_get(wasi, a0, a1);
    case WUDF__WASI_sched_yield:
      return WUDF__WASI_SUCCESS;
    case WUDF__WASI_proc_exit: {
      struct wudf__rt_instance* instance = wudf__rt_current();
      if (instance != NULL) instance->exit_code = (int)a0;
      wudf__rt_trap(WUDF_TRAP_EXIT);
    }
    case WUDF__WASI_fd_advise:
    case WUDF__WASI_fd_allocate:
    case WUDF__WASI_fd_datasync:
    case WUDF__WASI_fd_fdstat_set_flags:
    case WUDF__WASI_fd_fdstat_set_rights:
    case WUDF__WASI_fd_filestat_get:
    case WUDF__WASI_fd_filestat_set_size:
    case WUDF__WASI_fd_filestat_set_times:
    case WUDF__WASI_fd_pread:
    case WUDF__WASI_fd_pwrite:
    case WUDF__WASI_fd_readdir:
    case WUDF__WASI_fd_renumber:
    case WUDF__WASI_fd_sync:
      return wudf__unsupported_on_fd(a0);
    case WUDF__WASI_path_create_directory:
    case WUDF__WASI_path_filestat_get:
    case WUDF__WASI_path_filestat_set_times:
    case WUDF__WASI_path_link:
    case WUDF__WASI_path_open:
    case WUDF__WASI_path_readlink:
    case WUDF__WASI_path_remove_directory:
    case WUDF__WASI_path_rename:
    case WUDF__WASI_path_symlink:
    case WUDF__WASI_path_unlink_file:
    case WUDF__WASI_sock_accept:
    case WUDF__WASI_sock_recv:
    case WUDF__WASI_sock_send:
    case WUDF__WASI_sock_shutdown:
      return WUDF__WASI_EBADF; /* no directories, no sockets */
    case WUDF__WASI_poll_oneoff:
    case WUDF__WASI_proc_raise:
    case WUDF__WASI_FUNCTION_COUNT:
      break;
  }
  return WUDF__WASI_ENOSYS;
}

uint32_t wudf__wasi_call(void* wasi_context, uint32_t function,
                         const uint64_t* args) {
  int saved = wudf__rt_hostcall_enter();
  int result = wudf__wasi_dispatch(wasi_context, function, args);
  wudf__rt_hostcall_leave(saved);
  return (uint32_t)result;
}
