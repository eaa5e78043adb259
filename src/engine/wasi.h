/*
 * wasi.h -- the WASI preview1 subset offered to guests (internal).
 *
 * Guests built with wasi-libc import functions from "wasi_snapshot_preview1".
 * The engine accepts an import only if it names a preview1 function with its
 * exact signature (WUDF__WASI_FUNCTIONS), and links it to wudf__wasi_call.
 * What the functions do is deliberately small: stdout and stderr go to a
 * bounded per-instance buffer the host can read; proc_exit ends the call with
 * an error carrying the code; clocks and random_get work (or are
 * deterministic, on request); args and environ are empty; there is no file
 * system and no network: every other descriptor is EBADF, every other
 * function ENOSYS.
 */
#ifndef WUDF_ENGINE_WASI_H
#define WUDF_ENGINE_WASI_H

#include <stddef.h>
#include <stdint.h>

#define WUDF__WASI_MODULE "wasi_snapshot_preview1"

/* Every preview1 function: X(name, signature). Signatures use wasm2c's
 * letters, i = i32 and j = i64, params before the colon, results after. */
#define WUDF__WASI_FUNCTIONS(X)                                   \
  X(args_get, "ii:i") X(args_sizes_get, "ii:i")                   \
  X(clock_res_get, "ii:i") X(clock_time_get, "iji:i")             \
  X(environ_get, "ii:i") X(environ_sizes_get, "ii:i")             \
  X(fd_advise, "ijji:i") X(fd_allocate, "ijj:i")                  \
  X(fd_close, "i:i") X(fd_datasync, "i:i")                        \
  X(fd_fdstat_get, "ii:i") X(fd_fdstat_set_flags, "ii:i")         \
  X(fd_fdstat_set_rights, "ijj:i") X(fd_filestat_get, "ii:i")     \
  X(fd_filestat_set_size, "ij:i") X(fd_filestat_set_times, "ijji:i") \
  X(fd_pread, "iiiji:i") X(fd_prestat_dir_name, "iii:i")          \
  X(fd_prestat_get, "ii:i") X(fd_pwrite, "iiiji:i")               \
  X(fd_read, "iiii:i") X(fd_readdir, "iiiji:i")                   \
  X(fd_renumber, "ii:i") X(fd_seek, "ijii:i") X(fd_sync, "i:i")   \
  X(fd_tell, "ii:i") X(fd_write, "iiii:i")                        \
  X(path_create_directory, "iii:i") X(path_filestat_get, "iiiii:i") \
  X(path_filestat_set_times, "iiiijji:i") X(path_link, "iiiiiii:i") \
  X(path_open, "iiiiijjii:i") X(path_readlink, "iiiiii:i")        \
  X(path_remove_directory, "iii:i") X(path_rename, "iiiiii:i")    \
  X(path_symlink, "iiiii:i") X(path_unlink_file, "iii:i")         \
  X(poll_oneoff, "iiii:i") X(proc_exit, "i:") X(proc_raise, "i:i") \
  X(random_get, "ii:i") X(sched_yield, ":i")                      \
  X(sock_accept, "iii:i") X(sock_recv, "iiiiii:i")                \
  X(sock_send, "iiiii:i") X(sock_shutdown, "ii:i")

enum wudf__wasi_function {
#define WUDF__WASI_ENUM(name, signature) WUDF__WASI_##name,
  WUDF__WASI_FUNCTIONS(WUDF__WASI_ENUM)
#undef WUDF__WASI_ENUM
  WUDF__WASI_FUNCTION_COUNT
};

/* Returns the index of preview1 function `name`, or -1. */
int wudf__wasi_find(const char* name);
/* The signature of function `index` ("iiii:i"). */
const char* wudf__wasi_signature(int index);
/* The name of function `index`. */
const char* wudf__wasi_name(int index);

/* The WASI state of one instance. */
struct wudf__wasi {
  char* output;           /* captured stdout+stderr, funnel memory */
  size_t output_size;
  size_t output_capacity;
  size_t output_limit;
  size_t output_dropped;
  int deterministic;
  uint64_t clock_ns;      /* deterministic clock */
  uint64_t random_state;  /* deterministic generator */
};

void wudf__wasi_init(struct wudf__wasi* wasi, size_t output_limit,
                     int deterministic);
void wudf__wasi_release(struct wudf__wasi* wasi);

/* The entry point compiled modules call (struct wudf__rt_api.wasi_call). Runs
 * as host code on the guest's thread; proc_exit unwinds the call. */
uint32_t wudf__wasi_call(void* wasi_context, uint32_t function,
                         const uint64_t* args);

#endif /* WUDF_ENGINE_WASI_H */
