/*
 * wasmudf.h -- the public host API of libwasmudf.
 *
 * libwasmudf runs untrusted WebAssembly modules at native speed: a module is
 * validated, translated to C by wasm2c, compiled by the system C compiler into
 * a shared object (cached on disk) and run by the library's own runtime, which
 * isolates each instance in guard-paged linear memory and turns every fault,
 * trap, runaway loop and stack overflow into an error for the caller.
 *
 * The surface follows the usual embedding layers:
 *
 *     wudf_engine   -- configuration, compile cache, defaults for limits
 *       wudf_module   -- one validated, compiled module (shared, immutable)
 *         wudf_instance -- linear memory + globals + tables; one thread at a time
 *
 * Conventions (the same for every function in this header):
 *   - Functions that can fail return an errno-style int: 0 (WUDF_OK) on
 *     success, otherwise one of the codes listed at WUDF_OK below.
 *   - They take a `struct wudf_error*` last. It may be NULL. On failure, when
 *     not NULL, it receives the code and a NUL-terminated message that names
 *     the module export (where there is one) and the cause. On success its
 *     contents are unspecified.
 *   - Output parameters are written only on success.
 *   - Objects created by `..._new` / `..._load` are owned by the caller and
 *     freed with the matching `..._free`, which accepts NULL.
 *
 * Thread safety: engines and modules may be used from any number of threads
 * at once. An instance may be used by one thread at a time; different
 * instances (of the same or different modules) run concurrently. A call on
 * an instance while another thread is in a call on it is refused with EBUSY
 * ("... the instance is in use by another thread", naming the export or
 * function) and changes nothing: misuse never races. (wudf_instance_free
 * and wudf_instance_output are not guarded: never call them during a call.)
 */
#ifndef WASMUDF_WASMUDF_H
#define WASMUDF_WASMUDF_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WUDF_VERSION "0.1.0"

/* Marks the public functions, the only symbols the shared library exports. */
#if defined(__GNUC__)
#define WUDF_API __attribute__((visibility("default")))
#else
#define WUDF_API
#endif

/*
 * Status codes. WUDF_OK is 0; a failure is an errno value with exactly one
 * meaning (wudf_status_string gives it in words; docs/embedding.md, "Errors"):
 *
 *   code             meaning                                     instance after a call
 *   EINVAL           an invalid argument: NULL where not allowed, wrong number
 *                    or type of call arguments, bad configuration or options
 *                    (also a versioned struct's struct_size it cannot read)  usable
 *   ENOMEM           a host allocation failed                             usable
 *   ENOENT           no such file, export or function                     -
 *   ENOEXEC          the bytes are not a valid WebAssembly module         -
 *   ENOTSUP          a feature, import or request the library does not
 *                    support (SIMD, threads, a view a call cannot give);
 *                    an artifact made for another library build,
 *                    wasm2c, wasm-rt.h or target                          usable
 *   EBADMSG          an artifact is damaged or tampered with, or its
 *                    native code fails the checks; nothing of it ran      -
 *   EFBIG            over a configured size limit (module, call input,
 *                    call output, nesting depth); the message names it    usable
 *   EOVERFLOW        a result too large for its Arrow type once its
 *                    chunks are concatenated                              usable
 *   EIO              an external tool (wasm2c, the C compiler) or the
 *                    compile cache failed                                 -
 *   EACCES           the compile cache is not safe to load code from (a
 *                    directory of another user or writable by others,
 *                    or on a noexec file system)                          -
 *   EPERM            a guest call cannot run safely: another handler
 *                    displaced the library's SIGSEGV handler
 *                    (wudf_signal_mode); nothing ran                      usable
 *   EBUSY            the instance is in use by another thread or pinned
 *                    by a live zero-copy view; nothing ran                usable
 *   EPROTO           the guest broke the guest ABI (docs/abi.md): an invalid
 *                    result (the call's instance stays usable), a bad
 *                    metadata record or a missing ABI export (at load)    usable
 *   EREMOTEIO        the UDF itself reported failure with wudf_error(); the
 *                    message is the guest's                               usable
 *   EFAULT           the guest trapped; wudf_error.trap says why          BROKEN
 *   ETIMEDOUT        a deadline passed: a call's (trap WUDF_TRAP_TIMEOUT;
 *                    the instance is broken), or a load's wait for another
 *                    process compiling the same module (lock_timeout_ms)  BROKEN
 *   ECANCELED        the guest called WASI proc_exit; wudf_error.exit_code
 *                    (trap WUDF_TRAP_EXIT)                                BROKEN
 *   ENOTRECOVERABLE  the instance was broken by an earlier EFAULT,
 *                    ETIMEDOUT or ECANCELED: free it, make a new one      BROKEN
 *
 * "BROKEN": every further call on the instance fails with ENOTRECOVERABLE
 * (wudf_instance_reset or a new instance recovers). Every other failure
 * leaves the instance as usable as it was.
 */
#define WUDF_STATUS_GUEST_ERROR EREMOTEIO /* the UDF's own wudf_error() */
#define WUDF_OK 0

/* Why a guest call stopped. */
typedef enum wudf_trap {
  WUDF_TRAP_NONE = 0,
  WUDF_TRAP_OUT_OF_BOUNDS,      /* linear memory or table access out of bounds */
  WUDF_TRAP_INTEGER_OVERFLOW,   /* signed division overflow, float-to-int overflow */
  WUDF_TRAP_DIVIDE_BY_ZERO,     /* integer division or remainder by zero */
  WUDF_TRAP_INVALID_CONVERSION, /* float-to-int conversion of NaN */
  WUDF_TRAP_UNREACHABLE,        /* the `unreachable` instruction (e.g. abort()) */
  WUDF_TRAP_BAD_INDIRECT_CALL,  /* call_indirect: null, out of range, wrong type */
  WUDF_TRAP_STACK_EXHAUSTED,    /* native stack exhausted by deep recursion */
  WUDF_TRAP_TIMEOUT,            /* the call's deadline passed */
  WUDF_TRAP_OUT_OF_MEMORY,      /* memory or table needs more than the limit */
  WUDF_TRAP_EXIT,               /* WASI proc_exit */
  WUDF_TRAP_UNCAUGHT_EXCEPTION  /* wasm exception escaped (not produced today) */
} wudf_trap;

/* The error channel, caller-owned; see the conventions above. */
struct wudf_error {
  int code;         /* the status code returned */
  wudf_trap trap;   /* WUDF_TRAP_NONE unless the guest trapped */
  int exit_code;    /* the code given to proc_exit when trap == WUDF_TRAP_EXIT */
  char message[1024];
};

/* A short English name for a trap kind ("out of bounds memory access", ...).
 * Never NULL; the string is static. */
WUDF_API const char* wudf_trap_name(wudf_trap trap);

/* The meaning of status code `status` as the table above gives it, in a
 * short sentence ("the guest trapped (the instance is broken)", ...), or
 * "unknown status" for a code the library never returns. Never NULL; the
 * string is static. */
WUDF_API const char* wudf_status_string(int status);

/* Nonzero when `status`, returned by a call on an instance, means the
 * instance is broken (EFAULT, ETIMEDOUT, ECANCELED, ENOTRECOVERABLE). */
WUDF_API int wudf_status_breaks_instance(int status);

/*
 * Versioned structs. Every struct the caller allocates and the library
 * reads or fills, except the frozen ones (struct wudf_error, wudf_value,
 * wudf_allocator, wudf_argument, and the Arrow structs, whose layouts are
 * fixed for the life of the WASMUDF_1 symbol version), begins with
 * `size_t struct_size`, the size of the struct the caller was compiled
 * with. New fields are only ever appended, so an older caller's struct is
 * a prefix of the current one:
 *   - Structs the library reads (configurations, options): the _init
 *     function sets struct_size = sizeof. The library reads the fields the
 *     caller's struct_size covers and gives every field beyond it its
 *     default. A struct_size that cuts a field in two, or is smaller than
 *     the first field's end, is refused (EINVAL); a struct_size larger
 *     than the library knows (a caller built against a newer header) is
 *     accepted only when the unknown tail bytes are all zero (EINVAL
 *     otherwise: the caller asked for something this library cannot do).
 *   - Structs the library fills (infos, stats): the caller sets
 *     struct_size (e.g. `struct wudf_engine_stats s = {.struct_size =
 *     sizeof s};`) and the library writes at most that many bytes; it
 *     never writes struct_size. A struct_size of 0 (`= {0}`) stands for
 *     the struct as WASMUDF_1 first published it.
 */

/* ------------------------------------------------------------------------ */
/* Allocation funnel                                                         */
/* ------------------------------------------------------------------------ */

/*
 * Every host-side allocation of the library goes through these functions
 * (guest linear memory is mapped separately with mmap). The defaults are the C
 * library's malloc/realloc/free. Tests use this to fail allocations one by one.
 */
struct wudf_allocator {
  void* (*malloc)(void* user_data, size_t size);
  void* (*realloc)(void* user_data, void* pointer, size_t size);
  void (*free)(void* user_data, void* pointer);
  void* user_data;
};

/* Installs `allocator` (copied), or restores the default when NULL. Must be
 * called while no engine exists; returns EINVAL otherwise (the library does
 * not track ownership per allocator, so switching mid-flight would free memory
 * with the wrong function). */
WUDF_API int wudf_set_allocator(const struct wudf_allocator* allocator);

/* ------------------------------------------------------------------------ */
/* Signals: how the runtime shares them with its host                        */
/* ------------------------------------------------------------------------ */

/*
 * The runtime turns faults of guest code (SIGSEGV from a guard page or from
 * native stack exhaustion; SIGBUS on other systems) into traps, and stops
 * calls at their deadline with a signal sent to the calling thread,
 * SIGRTMAX - 3, which is reserved for the library. Handlers are process-wide,
 * so the host and the library must agree on them (docs/engine.md, "Host
 * cooperation"):
 *
 *   - Signal masks: each guest call unblocks SIGSEGV, SIGBUS and SIGRTMAX - 3
 *     on the calling thread and restores the caller's mask when it returns,
 *     so threads that block every signal still trap and time out.
 *   - fork: a child forked after an engine was made can keep using it
 *     (engines, modules, and instances no other thread was using at the
 *     fork); the watchdog is started again in the child when first needed.
 *   - Handlers installed after the library's, by the modes below.
 */
typedef enum wudf_signal_mode {
  /* The default. The first engine installs the library's SIGSEGV, SIGBUS and
   * SIGRTMAX - 3 handlers; signals that are not the library's go on to the
   * handlers that were installed before. Every guest call first checks (one
   * sigaction query) that the SIGSEGV handler is still the library's: if a
   * handler installed later displaced it, the call fails with EPERM, naming
   * the handler, instead of letting a guest fault crash the process. */
  WUDF_SIGNALS_CHECK = 0,
  /* As CHECK, but a displaced SIGSEGV or SIGBUS handler is installed again by
   * the next guest call, and a fault of host code is then handed back to the
   * handler that displaced the library's, as if the library had never taken
   * the signal back (a handler that passes it back to the library reaches
   * the handlers installed before the library). For hosts that cannot
   * forward, e.g. a crash reporter that a plugin installs later. */
  WUDF_SIGNALS_REINSTALL = 1,
  /* The host owns SIGSEGV and SIGBUS: its handlers, installed with
   * SA_SIGINFO | SA_ONSTACK, call wudf_handle_signal first. Set before the
   * first engine, the library installs no SIGSEGV/SIGBUS handler; set later,
   * the ones it installed stay (still passing on what is not theirs). Guest
   * calls check nothing. */
  WUDF_SIGNALS_FORWARD = 2
} wudf_signal_mode;

/* Sets the signal mode of the process (any time; it applies to the calls that
 * start after). Returns 0, or EINVAL for an unknown mode. */
WUDF_API int wudf_set_signal_mode(wudf_signal_mode mode);

/*
 * For a host's own signal handlers (mode WUDF_SIGNALS_FORWARD, or any
 * handler installed after the library's): call it first, with the handler's
 * three arguments (`info` is the siginfo_t*, `context` the ucontext; void*
 * here so this header needs no POSIX declarations). If the signal is a fault
 * of guest code running on this thread, or the library's deadline signal
 * for a call in progress, it unwinds that call and does not return (the call
 * fails with its trap). Returns nonzero when the signal was the library's
 * and needs nothing more (a deadline signal for a call that has ended, or
 * one that arrived while the guest was in host code: it is delivered when
 * the host code returns), and 0 when the signal is not the library's: the
 * host handles it as it would have. Async-signal-safe. The handler must run
 * on an alternate signal stack (SA_ONSTACK; the library gives every thread
 * that runs guest code one) for native stack exhaustion to become a trap.
 */
WUDF_API int wudf_handle_signal(int signal_number, void* info, void* context);

/* ------------------------------------------------------------------------ */
/* Engine                                                                    */
/* ------------------------------------------------------------------------ */

struct wudf_engine;

/* Engine configuration. Initialise with wudf_engine_config_init, then change
 * fields. Strings are copied by wudf_engine_new; the caller keeps ownership. */
struct wudf_engine_config {
  /* sizeof(struct wudf_engine_config) as the caller was compiled; set by
   * wudf_engine_config_init (see "Versioned structs"). */
  size_t struct_size;
  /* Directory of the compile cache. NULL: $WASMUDF_CACHE_DIR, else
   * $XDG_CACHE_HOME/wasmudf, else $HOME/.cache/wasmudf. It and the
   * directories the library makes in it must belong to the current user and
   * not be writable by group or others: loads refuse (EACCES) to run code
   * from anywhere else. Every compiled object is verified against the
   * manifest written when it was compiled before it is loaded. */
  const char* cache_dir;
  /* The C compiler used for wasm2c output. NULL: $CC, else "cc". */
  const char* cc;
  /* Extra compiler flags, split at spaces and appended after the required
   * ones (they become part of the cache key). NULL: none. */
  const char* cflags;
  /* The wasm2c executable. NULL: $WASMUDF_WASM2C, else "wasm2c". */
  const char* wasm2c;
  /* Default deadline of one call in milliseconds; 0 means no deadline. */
  uint64_t timeout_ms;
  /* Default cap on one instance's linear memory plus tables, in bytes
   * (linear memory rounded down to 64 KiB pages; tables count 24 bytes per
   * funcref element, 8 per externref). 0 means the module's own maximum
   * for memory (at most 4 GiB) and no cap on tables but memory_budget's. */
  uint64_t memory_limit;
  /* Largest module accepted, in bytes. */
  size_t max_module_size;
  /* Bytes of WASI stdout/stderr kept per instance; output beyond is dropped
   * and counted (see wudf_instance_output). */
  size_t output_limit;
  /* Nonzero: WASI clocks and random_get are deterministic (a fixed clock that
   * advances 1 ms per reading, a fixed-seed generator). */
  int deterministic;

  /* ---- Limits (docs/engine.md, "Limits"). Every error a limit gives names
   * the field and its value. ---- */

  /* Tables a module may define; more is refused at load (EFBIG). 0 means
   * the default. */
  uint32_t max_tables;
  /* Elements of one table, at start (refused at load, EFBIG) and after
   * table.grow (which returns -1 beyond). 0 means the default. */
  uint32_t max_table_elements;
  /* Engine-wide cap, in bytes, on the linear memory and tables that all
   * live instances of this engine hold together (tables count the host
   * memory of their elements: 24 bytes per funcref, 8 per externref). An
   * instantiation beyond it fails with WUDF_TRAP_OUT_OF_MEMORY; memory.grow
   * and table.grow beyond it return -1 (a guest that then aborts is
   * reported as out of memory). 0 means none. */
  uint64_t memory_budget;
  /* Compiling a module (wasm2c, then the C compiler; each in its own
   * process group under these limits; a load that hits the cache runs
   * neither). A compile that fails or passes a limit is remembered under
   * the module's cache key -- in memory and in the cache directory -- and
   * the same module is then refused at once with the original message
   * (EIO), until it is loaded under more generous limits (any of these
   * four larger) or wudf_engine_forget_failures is called. 0 means none
   * for each. */
  uint64_t compile_timeout_ms;   /* wall clock of wasm2c and cc together;
                                    the whole process group is killed */
  uint64_t compile_cpu_seconds;  /* CPU time of each tool process
                                    (RLIMIT_CPU) */
  uint64_t compile_memory_limit; /* address space of each tool process in
                                    bytes (RLIMIT_AS and RLIMIT_DATA) */
  uint64_t compile_file_limit;   /* largest file a tool may write, in bytes
                                    (RLIMIT_FSIZE) */
  /* Longest wait, in milliseconds, for another process (or thread) that is
   * compiling the same module into the cache, after which the load fails
   * with ETIMEDOUT naming the lock and the process that holds it. 0 (the
   * default): compile_timeout_ms plus a minute (6 minutes by default; 21
   * minutes when compile_timeout_ms is 0, no limit). */
  uint64_t lock_timeout_ms;

  /* ---- Tiers (docs/engine.md, "Tiers"). ---- */

  /* Nonzero: a load that finds no optimised object (in this process or the
   * cache) compiles the module with fast_cc (tcc: about 100 times faster
   * to compile, code several times slower) so it runs at once, and builds
   * the optimised object (cc -O2, the ordinary compile) on a background
   * thread; instances created after it is ready run it, and instances
   * alive before move to it at their next export call (wudf_module_tier,
   * wudf_instance_tier). Each
   * tier has its own cache key; both are verified by manifest. A fast
   * compile that fails leaves the load to the ordinary compile.
   * wudf_engine_free waits for the background builds (at most half the
   * CPUs' worth compile at once). 1 is the default (unless
   * $WASMUDF_FAST_TIER is "0" when wudf_engine_config_init runs); 0: every
   * load compiles with cc -O2 before it returns. */
  int fast_tier;
  /* The fast tier's compiler (only tcc is supported). NULL:
   * $WASMUDF_FAST_CC, else "tcc". When it is not found, the fast tier is
   * cc at -O0. */
  const char* fast_cc;
};

/* Fills `config` with the defaults: cache and tools from the environment,
 * timeout 10000 ms, memory limit 1 GiB, module size 64 MiB, 64 KiB of output,
 * not deterministic; 100 tables of at most 10,000,000 elements; a memory
 * budget of half the machine's physical memory; compiles of at most 300 s
 * of wall clock, 300 s of CPU time per tool process, 4 GiB of address
 * space per tool process and files of at most 1 GiB; a cache lock wait of
 * 0 (compile_timeout_ms plus a minute); the fast tier on (off when
 * $WASMUDF_FAST_TIER is "0"). */
WUDF_API void wudf_engine_config_init(struct wudf_engine_config* config);

/* Creates an engine. `config` may be NULL for the defaults. The cache
 * directory is created when first needed, not here. On success `*out` is
 * owned by the caller; free it with wudf_engine_free after every module and
 * instance made from it has been freed. */
WUDF_API int wudf_engine_new(const struct wudf_engine_config* config,
                    struct wudf_engine** out, struct wudf_error* error);

/* Frees an engine. NULL is allowed. */
WUDF_API void wudf_engine_free(struct wudf_engine* engine);

/* Counters of the engine's compile pipeline, for tests and tools. */
struct wudf_engine_stats {
  size_t struct_size;   /* set by the caller (see "Versioned structs") */
  uint64_t compiles;    /* modules translated and compiled by this engine */
  uint64_t cache_hits;  /* loads answered from the on-disk cache */
  uint64_t compile_failures_remembered; /* loads refused at once because the
                                           same module failed to compile
                                           before */
  uint64_t memory_in_use; /* bytes of linear memory and tables its live
                             instances hold (what memory_budget caps) */
  uint64_t fast_compiles;      /* modules compiled with fast_cc */
  uint64_t fast_failures;      /* fast compiles that failed (the load then
                                  compiled the optimised object itself) */
  uint64_t optimized_ready;    /* background optimised builds published */
  uint64_t optimized_failures; /* background builds that failed (the module
                                  keeps the fast code) */
};

/* Forgets every compile failure the engine remembers (see
 * wudf_engine_config.compile_timeout_ms), in the engine and in its cache
 * directory (for every process sharing it), so that the next load of such
 * a module compiles it again. 0, or EIO when a marker cannot be removed. */
WUDF_API int wudf_engine_forget_failures(struct wudf_engine* engine,
                                         struct wudf_error* error);

/* Copies the engine's counters into `*stats`. */
WUDF_API void wudf_engine_stats(const struct wudf_engine* engine,
                       struct wudf_engine_stats* stats);

/* ------------------------------------------------------------------------ */
/* Modules                                                                   */
/* ------------------------------------------------------------------------ */

struct wudf_module;

/*
 * Validates and loads a module from `size` bytes at `bytes` (copied; the
 * caller keeps its buffer). Validation runs first: a malformed binary
 * (ENOEXEC), an unsupported feature or import (ENOTSUP) or a size over the
 * limits (EFBIG) is refused with a message, before any external tool sees the
 * bytes. Then the compiled module comes from the cache, or wasm2c and the C
 * compiler make it (EIO with the tool's own message if they fail) and it is
 * added to the cache. On success `*out` is owned by the caller.
 */
WUDF_API int wudf_module_load(struct wudf_engine* engine, const uint8_t* bytes,
                     size_t size, struct wudf_module** out,
                     struct wudf_error* error);

/*
 * Decodes and validates `size` bytes at `bytes` as wudf_module_load does
 * first -- the binary format, the type rules of the WebAssembly core
 * specification, the supported features and the engine's size limits --
 * without compiling anything and without the import policy (a module that
 * imports from elsewhere than WASI validates, though it cannot be loaded).
 * Returns 0, ENOEXEC (malformed or invalid, with the offset), ENOTSUP or
 * EFBIG.
 */
WUDF_API int wudf_module_validate(struct wudf_engine* engine, const uint8_t* bytes,
                         size_t size, struct wudf_error* error);

/* Reads the file at `path` and calls wudf_module_load. */
WUDF_API int wudf_module_load_file(struct wudf_engine* engine, const char* path,
                          struct wudf_module** out, struct wudf_error* error);

/*
 * Reads a module as wudf_module_load does -- validation, the import policy,
 * the callable exports and the functions of its "wasmudf" custom section,
 * with the same errors -- without compiling it: no wasm2c, no C compiler,
 * no cache. The module answers every query (wudf_module_export*,
 * wudf_module_function*) but cannot be instantiated or called
 * (wudf_instance_new fails with EINVAL); free it with wudf_module_free.
 */
WUDF_API int wudf_module_inspect(struct wudf_engine* engine, const uint8_t* bytes,
                                 size_t size, struct wudf_module** out,
                                 struct wudf_error* error);

/* Reads the file at `path` and calls wudf_module_inspect. */
WUDF_API int wudf_module_inspect_file(struct wudf_engine* engine, const char* path,
                                      struct wudf_module** out,
                                      struct wudf_error* error);

/*
 * Artifacts: compile once, run anywhere (docs/embedding.md, "Artifacts").
 *
 * An artifact is one file: a text manifest (the module's SHA-256, the
 * wasm2c version and the SHA-256 of the wasm-rt.h the code was compiled
 * against, the glue ABI version, the target, the sizes and hashes of its
 * parts and a SHA-256 over all of it), the module's own bytes, and the
 * module's optimised native code (a shared object). Loading one runs no
 * compiler and no wasm2c. An artifact is native code: load only artifacts
 * from a source you would take a shared library from (its hashes detect
 * damage and mismatches, they do not authenticate its author).
 */

/*
 * Validates `size` bytes at `bytes` as wudf_module_load does, compiles the
 * module's optimised code (cc -O2, synchronously, whatever the fast tier
 * setting; not through the cache) and returns the artifact in `*artifact`
 * (`*artifact_size` bytes; free it with wudf_artifact_free). Needs wasm2c
 * and the C compiler; refuses (ENOTSUP) when wasm2c's version or its
 * wasm-rt.h is not the one this library was built with. Errors are
 * wudf_module_load's.
 */
WUDF_API int wudf_module_compile_artifact(struct wudf_engine* engine, const uint8_t* bytes,
                                          size_t size, uint8_t** artifact,
                                          size_t* artifact_size, struct wudf_error* error);

/* Reads the module at `module_path`, compiles it as
 * wudf_module_compile_artifact does and writes the artifact to
 * `artifact_path` (replaced atomically, mode 0644 less the umask). */
WUDF_API int wudf_module_compile_artifact_file(struct wudf_engine* engine,
                                               const char* module_path,
                                               const char* artifact_path,
                                               struct wudf_error* error);

/* Frees an artifact returned by wudf_module_compile_artifact. NULL is
 * allowed. */
WUDF_API void wudf_artifact_free(uint8_t* artifact);

/*
 * Loads a module from the artifact of `size` bytes at `bytes` without
 * running wasm2c or any compiler. Before any of its code is mapped it is
 * verified: its SHA-256 over everything, its format, glue ABI, wasm2c and
 * wasm-rt.h against this library's (ENOTSUP on a mismatch: recompile it),
 * its target against this process's (ENOTSUP), the module's bytes against
 * their hash, the module by the engine's validator and import policy (as
 * wudf_module_load), and the native code: an ELF shared object for this
 * machine whose only exported symbol is the glue's entry point, with no
 * initialisers beyond the compiler's one (EBADMSG for a damaged or
 * tampered artifact, naming what does not match). The verified code is
 * then loaded from memory (a sealed memfd) and its export table checked
 * against the module's exports. The module then behaves as one from
 * wudf_module_load (optimised tier).
 */
WUDF_API int wudf_module_load_artifact(struct wudf_engine* engine, const uint8_t* bytes,
                                       size_t size, struct wudf_module** out,
                                       struct wudf_error* error);

/* Reads the file at `path` and calls wudf_module_load_artifact. */
WUDF_API int wudf_module_load_artifact_file(struct wudf_engine* engine, const char* path,
                                            struct wudf_module** out,
                                            struct wudf_error* error);

/* Nonzero when the `size` bytes at `bytes` start like an artifact (its
 * first line), zero otherwise (e.g. a .wasm module): how a tool tells which
 * loader to use. Verifies nothing. */
WUDF_API int wudf_is_artifact(const uint8_t* bytes, size_t size);

/* Releases the caller's reference. The module stays alive while instances of
 * it exist and is unloaded with the last one. NULL is allowed. */
WUDF_API void wudf_module_free(struct wudf_module* module);

/* The compiled code of a module or instance (engine fast_tier). */
#define WUDF_TIER_NONE 0      /* inspected, not compiled */
#define WUDF_TIER_FAST 1      /* compiled by fast_cc (tcc) */
#define WUDF_TIER_OPTIMIZED 2 /* compiled by cc -O2 */

/* The tier new instances of `module` get: WUDF_TIER_OPTIMIZED once the
 * background build of a module loaded with the fast tier is ready. */
WUDF_API int wudf_module_tier(const struct wudf_module* module);

/* Waits until new instances of `module` get the optimised code: until its
 * background build (engine fast_tier) is published, has failed, or
 * `timeout_ms` have passed (0: no limit). Returns wudf_module_tier then;
 * at once for a module that has no build running. For benchmarks and
 * hosts that want the steady-state code before they start. */
WUDF_API int wudf_module_wait_tier(struct wudf_module* module, uint64_t timeout_ms);

/* Stops the engine's background optimised builds: the compilers of those
 * running are killed, those waiting for a turn end, and no new one starts
 * for the rest of the engine's life; modules keep their fast code and stay
 * fully usable, and nothing of a cancelled build is cached or remembered
 * as a failure. For short-lived processes (the CLI calls it before
 * wudf_engine_free, which otherwise waits for the builds). Thread-safe;
 * NULL is allowed. */
WUDF_API void wudf_engine_cancel_builds(struct wudf_engine* engine);

/* WebAssembly value types, as used in export signatures. */
typedef enum wudf_valtype {
  WUDF_I32 = 0,
  WUDF_I64,
  WUDF_F32,
  WUDF_F64
} wudf_valtype;

/* The name of a value type ("i32", ...). Never NULL. */
WUDF_API const char* wudf_valtype_name(wudf_valtype type);

/* A function export: its name and signature. Pointers stay valid while the
 * module lives. */
struct wudf_export_info {
  size_t struct_size;   /* set by the caller (see "Versioned structs") */
  const char* name;
  uint32_t param_count;
  uint32_t result_count;
  const wudf_valtype* params;
  const wudf_valtype* results;
};

/* The number of callable function exports of `module`. */
WUDF_API uint32_t wudf_module_export_count(const struct wudf_module* module);

/* Describes function export `index` (0 <= index < export count). Returns
 * EINVAL when out of range. */
WUDF_API int wudf_module_export(const struct wudf_module* module, uint32_t index,
                       struct wudf_export_info* info, struct wudf_error* error);

/* Finds the function export called `name`; ENOENT when there is none. */
WUDF_API int wudf_module_find_export(const struct wudf_module* module, const char* name,
                            uint32_t* index, struct wudf_error* error);

/* ------------------------------------------------------------------------ */
/* Instances                                                                 */
/* ------------------------------------------------------------------------ */

struct wudf_instance;

/* Per-instance overrides of the engine defaults. Initialise with
 * wudf_instance_config_init, which copies the engine's defaults. */
struct wudf_instance_config {
  size_t struct_size;     /* set by wudf_instance_config_init */
  uint64_t timeout_ms;    /* default deadline of calls, 0 = none */
  uint64_t memory_limit;  /* cap on linear memory + tables in bytes, 0 = module's
                             max (see wudf_engine_config.memory_limit) */
  size_t output_limit;    /* bytes of WASI output kept (one buffer per
                             instance, across calls until cleared) */
  int deterministic;      /* deterministic WASI clock and random */
};

WUDF_API void wudf_instance_config_init(const struct wudf_engine* engine,
                               struct wudf_instance_config* config);

/*
 * Instantiates `module`: maps linear memory (guard-paged; its base never
 * moves), initialises globals, tables and data, and runs the start function
 * (under the instance's deadline). `config` may be NULL for the engine's
 * defaults. Fails (EFAULT) with WUDF_TRAP_OUT_OF_MEMORY when the module's
 * initial memory and tables exceed the instance's memory_limit or the
 * engine's memory_budget (the message names the limit and its value), or
 * with the trap of the start function. On success `*out` is owned by the
 * caller and holds a reference to the module.
 */
WUDF_API int wudf_instance_new(struct wudf_module* module,
                      const struct wudf_instance_config* config,
                      struct wudf_instance** out, struct wudf_error* error);

/* Frees the instance and its memory. NULL is allowed. Must not be called
 * while a call on the instance is running. While a zero-copy view, a table
 * stream or an accumulator of the instance is alive, this only drops the
 * caller's handle: the last of them frees the instance (see
 * wudf_result_mode, wudf_table_call, wudf_aggregate_new). */
WUDF_API void wudf_instance_free(struct wudf_instance* instance);

/* The tier of the code `instance` runs (WUDF_TIER_FAST or
 * WUDF_TIER_OPTIMIZED). A fast-tier instance moves to the optimised object
 * at its first export call after the module's background build is ready
 * (its entry points; indirect calls through tables filled at instantiation
 * still reach the fast code: docs/engine.md, "Tiers"). */
WUDF_API int wudf_instance_tier(const struct wudf_instance* instance);

/* A WebAssembly value. */
struct wudf_value {
  wudf_valtype type;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
  } of;
};

/*
 * Calls function export `index` of the instance's module with `arg_count`
 * arguments and room for `result_count` results. The counts and each
 * argument's type must match the export's signature exactly (EINVAL
 * otherwise, naming expected and given). `timeout_ms` overrides the
 * instance's deadline for this call; pass WUDF_TIMEOUT_DEFAULT to keep it, 0
 * for none.
 *
 * When the guest traps, times out or exits, the call returns EFAULT,
 * ETIMEDOUT or ECANCELED, the error names the export and the cause, and the
 * instance is broken: further calls return ENOTRECOVERABLE and the caller
 * should free it and create a new one. The calling thread is never harmed.
 * EBUSY: another thread is in a call on the instance, or a zero-copy view
 * pins it; nothing ran.
 */
#define WUDF_TIMEOUT_DEFAULT UINT64_MAX
WUDF_API int wudf_instance_call(struct wudf_instance* instance, uint32_t index,
                       const struct wudf_value* args, size_t arg_count,
                       struct wudf_value* results, size_t result_count,
                       uint64_t timeout_ms, struct wudf_error* error);

/* Looks up `name` and calls it as wudf_instance_call does. */
WUDF_API int wudf_instance_call_name(struct wudf_instance* instance, const char* name,
                            const struct wudf_value* args, size_t arg_count,
                            struct wudf_value* results, size_t result_count,
                            uint64_t timeout_ms, struct wudf_error* error);

/* Nonzero when an earlier trap has broken the instance. */
WUDF_API int wudf_instance_is_broken(const struct wudf_instance* instance);

/* The guest's WASI output so far (stdout and stderr interleaved, in order),
 * `*size` bytes, not NUL-terminated; valid until the next call or clear.
 * `*dropped` (may be NULL) receives the number of bytes dropped beyond the
 * output limit. */
WUDF_API const char* wudf_instance_output(const struct wudf_instance* instance,
                                 size_t* size, size_t* dropped);

/* Empties the captured output. */
WUDF_API void wudf_instance_output_clear(struct wudf_instance* instance);

/* The current size of the instance's linear memory in bytes (0 if it has
 * none). */
WUDF_API uint64_t wudf_instance_memory_size(const struct wudf_instance* instance);

/* ------------------------------------------------------------------------ */
/* The Arrow C Data Interface, as its specification defines it              */
/* (https://arrow.apache.org/docs/format/CDataInterface.html).              */
/* ------------------------------------------------------------------------ */

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

/* ------------------------------------------------------------------------ */
/* User-defined functions over Arrow data (guest ABI: docs/abi.md)           */
/* ------------------------------------------------------------------------ */

/*
 * A module that follows the guest ABI declares its functions in a "wasmudf"
 * custom section; wudf_module_load reads and checks them (a module with a
 * malformed record, an unknown kind or a missing export is refused with
 * EPROTO). Functions are numbered 0 .. wudf_module_function_count() - 1.
 */
typedef enum wudf_function_kind {
  WUDF_FUNCTION_SCALAR = 1,   /* one result row per input row */
  WUDF_FUNCTION_BATCH = 2,    /* a batch in, a batch (struct array) out */
  WUDF_FUNCTION_TABLE = 3,    /* each input row yields zero or more rows,
                                 streamed in chunks (wudf_table_call) */
  WUDF_FUNCTION_AGGREGATE = 4 /* grouped, mergeable aggregation
                                 (wudf_aggregate_new) */
} wudf_function_kind;

/* The name of a kind as the metadata spells it ("scalar", "batch", "table",
 * "aggregate"; "unknown" otherwise). Never NULL; the string is static. */
WUDF_API const char* wudf_function_kind_name(wudf_function_kind kind);

/* A function's description. Every pointer is owned by the module and valid
 * until wudf_module_free. */
struct wudf_function_info {
  size_t struct_size;   /* set by the caller (see "Versioned structs") */
  const char* name;
  wudf_function_kind kind;
  /* Canonical, e.g. "gcd(int32, int32) -> int32",
   * "series(int32 start, int32 stop) -> setof int32",
   * "avg(float64) -> float64 STATE struct<sum: float64, count: int64>". */
  const char* signature;
  uint32_t arg_count;
  const char* const* arg_types;    /* canonical type texts, e.g. "list<int32>" */
  const char* const* arg_formats;  /* their top-level Arrow formats, e.g. "+l" */
  /* The canonical text of the result: a type; for a table function
   * "setof T" or "table<NAME: T, ...>". */
  const char* result_type;
  /* The top-level format of what a call returns: the result's, "+s" for
   * batch and table functions. */
  const char* result_format;
  /* The columns of a batch result, or of every chunk of a table function's
   * output (whose first column is "input_row", int64). */
  uint32_t field_count;
  const char* const* field_names;
  const char* const* field_types;
  const char* const* field_formats;
  /* 1: RETURNS NULL ON NULL INPUT (the default; batch functions: 0). A
   * strict scalar function gives null for a row with a null argument, a
   * strict table function no rows, a strict aggregate skips the row. */
  int strict;
  const char* const* arg_names;    /* declared argument names; "" when unnamed */
  const char* state_type;          /* aggregates: the STATE type; else NULL */
  const char* state_format;        /* its top-level format; else NULL */
  int deterministic;               /* 1: declared DETERMINISTIC */
};

/* The number of functions `module` declares (0 for a module without the
 * "wasmudf" section, or NULL). */
WUDF_API uint32_t wudf_module_function_count(const struct wudf_module* module);

/* Describes function `index` into `*out` (whose pointers the module owns).
 * EINVAL when out of range. */
WUDF_API int wudf_module_function(const struct wudf_module* module, uint32_t index,
                         struct wudf_function_info* out, struct wudf_error* error);

/* Which of a function's types wudf_function_schema describes. */
typedef enum wudf_schema_part {
  /* The arguments: a struct (no struct-level nulls) named after the
   * function, one child per argument, named as declared or "argN" (N from
   * 0) when unnamed. What wudf_function_call_batch takes. */
  WUDF_SCHEMA_ARGUMENTS = 1,
  /* What a call returns, named after the function: the result type; for a
   * batch function its struct; for a table function the struct of every
   * chunk of its stream (input_row: int64, never null, then the columns). */
  WUDF_SCHEMA_RESULT = 2,
  /* An aggregate's STATE type (EINVAL for the other kinds). */
  WUDF_SCHEMA_STATE = 3
} wudf_schema_part;

/*
 * The Arrow schema of one part of function `index`'s declared types, as an
 * ArrowSchema tree owned by the caller (release it with its release
 * callback): formats, child names, nullability and dictionaries as the
 * signature declares them, every field nullable except a map's entries and
 * keys and a run-end array's run ends; metadata NULL (the type language
 * declares none). An engine registers a function from these without
 * parsing the type language (with wudf_function_info's kind, strict and
 * deterministic), and calls it with constants by wudf_function_call_args. Failures: EINVAL (index out of
 * range, no such part), ENOMEM.
 */
WUDF_API int wudf_function_schema(const struct wudf_module* module, uint32_t index,
                                  wudf_schema_part part, struct ArrowSchema* out,
                                  struct wudf_error* error);

/* Finds function `name` and stores its index in `*index`; ENOENT when there
 * is none. */
WUDF_API int wudf_module_find_function(const struct wudf_module* module, const char* name,
                              uint32_t* index, struct wudf_error* error);

/* How much of a guest's result is checked before the host uses it. */
typedef enum wudf_validation {
  /* Everything (the default): structure, sizes, offsets, UTF-8, union ids,
   * dictionary indices, run ends, views, null counts (docs/abi.md, 5). */
  WUDF_VALIDATION_FULL = 0,
  /* For guests the caller trusts: everything the host itself follows when
   * reading (pointers, sizes, offsets, union ids, run ends, view buffers)
   * but not UTF-8, view prefixes, null counts against bitmaps or
   * dictionary indices. The host never reads outside guest memory at
   * either level; at this one a lying guest can hand the caller data that
   * is not valid Arrow. */
  WUDF_VALIDATION_STRUCTURE = 1
} wudf_validation;

/* Where a result's buffers live. */
typedef enum wudf_result_mode {
  /* Copied into host memory (the default): independent of the instance. */
  WUDF_RESULT_COPY = 0,
  /*
   * A zero-copy view: after validation, the result's buffers are the
   * guest's own, in the instance's linear memory; only the structs are on
   * the host. The view pins the instance until its last struct (the array,
   * or any child or dictionary moved out of it) is released:
   *   - every call on the pinned instance (wudf_function_call*,
   *     wudf_instance_call*) fails with EBUSY, so guest code cannot change
   *     the viewed bytes;
   *   - wudf_instance_free on a pinned instance only marks it; the last
   *     release of the view frees it (on the releasing thread);
   *   - the guest frees the result's memory at the instance's next function
   *     call after the view is released (no guest code runs inside a
   *     release callback).
   * The schema returned with a view is an ordinary host copy. A view needs
   * the result of exactly one guest call: a scalar call whose rows exceed
   * max_rows_per_call, or a strict function given null arguments, fails
   * with ENOTSUP (use a copy, or pass the rows in one call).
   */
  WUDF_RESULT_VIEW = 1
} wudf_result_mode;

/* Per-call options, owned by the caller and only read during a call (a
 * table stream copies them). Initialise with wudf_call_options_init. */
struct wudf_call_options {
  /* Set by wudf_call_options_init (see "Versioned structs"). */
  size_t struct_size;
  /* Rows given to the guest in one call of a scalar or table function or
   * of an aggregate's update; longer inputs are split into several guest
   * calls. Values below 1 mean 1. */
  int64_t max_rows_per_call;
  /* Bytes of the input block of one guest call (structs and buffers). */
  int64_t max_block_bytes;
  /* Deadline of each guest call; WUDF_TIMEOUT_DEFAULT for the instance's. */
  uint64_t timeout_ms;
  /* Validation of guest results; WUDF_VALIDATION_FULL by default. */
  wudf_validation validation;
  /* Copy or view; WUDF_RESULT_COPY by default. */
  wudf_result_mode result;
  /* Table functions: the most rows of one output chunk (one guest call's
   * output, one ArrowArrayStream batch). Values below 1 mean 1. */
  int64_t max_output_rows;
  /* The most rows, and bytes of buffers (validity, offsets, values, data;
   * dictionaries and children included), of everything one call returns:
   * a scalar call's column, a table function's whole output through
   * wudf_function_call (each chunk of a wudf_table_call stream, which
   * reads output of any size in bounded memory), an aggregate's states or
   * results. Counted as each guest call's result is validated, before it
   * is copied, so an endless table function fails fast (EFBIG, naming the
   * function, the limit and its value; a stream's chunk over the limit
   * ends the stream with that error). A zero-copy view counts rows only (its bytes
   * stay in guest memory, under memory_limit). 0 means no limit. */
  int64_t result_row_limit;
  int64_t result_byte_limit;
  /* The deepest nesting of the call's arguments and of the guest's result,
   * counted in levels: a flat type is 1, list<int32> is 2, a dictionary's
   * values one level below its indices. 1 to 32 (the library's own
   * maximum); 0 means 32. Deeper arguments or results fail with EFBIG
   * naming the function and the limit. */
  int nesting_depth_limit;
  /* Bytes of arguments and result one guest call should work on, for the
   * CPU's cache: a scalar call whose arguments and result are of flat
   * types (fixed-width values other than booleans, strings, binary; also
   * lists of fixed-width values as arguments; no dictionaries), with a
   * copied result, gives the guest about this many
   * bytes per call (rows times the bytes of a row of the arguments and the
   * result -- for strings their average, the result's guessed as large as
   * the arguments'; a multiple of 64 rows, at least 4,096), never more
   * rows than max_rows_per_call. The arguments are then copied into guest
   * memory, computed on and copied out while they are still in the cache,
   * which costs less than passes over megabytes of them (docs/engine.md,
   * "Chunk sizes"). Which rows go into which guest call is not part of a
   * scalar function's meaning; a zero-copy view (one guest call) and the
   * other calls are not split by it. 0 turns it off: guest calls of
   * max_rows_per_call rows. */
  int64_t chunk_bytes;
};

/* Defaults: 1,048,576 rows, 64 MiB, the instance's deadline, full validation,
 * results copied, chunks of at most 65,536 rows; results of at most
 * 2,147,483,647 rows and 1 GiB; nesting up to 32 levels; guest calls of
 * about 512 KiB (chunk_bytes). */
WUDF_API void wudf_call_options_init(struct wudf_call_options* options);

/*
 * Calls function `function` of the instance's module on `arg_count` argument
 * columns: args[i] with schema arg_schemas[i]. The arguments are borrowed:
 * they are read during the call, never released or kept. They must be
 * valid Arrow arrays (the library trusts its caller as every Arrow consumer
 * does; it validates only what guests return). Their types must be the
 * signature's (EINVAL otherwise, naming the argument and the first place
 * where expected and given types differ) and, for a scalar function, their
 * lengths equal. Arrays of any type, sliced (offsets at any level) or not,
 * are accepted. `options` may be NULL for the defaults.
 *
 * On success `*out` and `*out_schema` receive the result -- for a scalar
 * function an array of the result type with as many rows as the arguments,
 * for a batch function a struct array, for a table function its whole
 * output as one struct array (the chunks of wudf_table_call concatenated;
 * use the stream to bound memory), for an aggregate function its result
 * over all rows as one group (one row) -- with the field names, flags and
 * metadata the guest gave below the root (the root is named after the
 * function). By default it is in host memory; with options->result ==
 * WUDF_RESULT_VIEW it is a view of guest memory (see wudf_result_mode for
 * the lifetime rules). The caller owns both and must call their release
 * callbacks. On failure they are left untouched and nothing needs
 * releasing.
 *
 * Failures: a trap (EFAULT, ETIMEDOUT, ECANCELED on proc_exit; the instance
 * is then broken, see wudf_instance_call); the function's own error
 * (EREMOTEIO with the guest's message; the instance stays usable); a result
 * that breaks the ABI (EPROTO, naming the function, the field and the rule;
 * the instance stays usable); input too large for one call (EFBIG); a
 * result too large for its type once the chunks are concatenated
 * (EOVERFLOW); a view that needs several guest calls, or of a table or
 * aggregate function (ENOTSUP); a call on an instance pinned by a live view,
 * or while another thread is in a call on it (EBUSY: nothing ran).
 */
WUDF_API int wudf_function_call(struct wudf_instance* instance, uint32_t function,
                       uint32_t arg_count, const struct ArrowArray* const* args,
                       const struct ArrowSchema* const* arg_schemas,
                       const struct wudf_call_options* options,
                       struct ArrowArray* out, struct ArrowSchema* out_schema,
                       struct wudf_error* error);

/* As wudf_function_call, with the arguments given as the columns of one
 * struct array (a record batch, e.g. from RecordBatch._export_to_c),
 * borrowed likewise. The struct itself must have no nulls (EINVAL). */
WUDF_API int wudf_function_call_batch(struct wudf_instance* instance, uint32_t function,
                             const struct ArrowArray* batch,
                             const struct ArrowSchema* batch_schema,
                             const struct wudf_call_options* options,
                             struct ArrowArray* out, struct ArrowSchema* out_schema,
                             struct wudf_error* error);

/*
 * Arguments with constants, for engines: an argument is either a column of
 * the batch's `rows` rows, or a constant -- one value that stands for every
 * row (DuckDB's constant vectors, DataFusion's ColumnarValue::Scalar,
 * Spark's literals). The layout is frozen (wasmudf.h, "Versioned structs").
 */
#define WUDF_ARGUMENT_CONSTANT 1u /* `array` has 1 row (after its offset): the
                                     value of every row */
struct wudf_argument {
  const struct ArrowArray* array;   /* borrowed, as wudf_function_call's */
  const struct ArrowSchema* schema; /* its type, checked against the signature */
  uint32_t flags;                   /* 0 (a column) or WUDF_ARGUMENT_CONSTANT */
  uint32_t reserved;                /* must be 0 */
};

/*
 * As wudf_function_call (every kind: scalar, batch, table -- whole output
 * -- and aggregate -- one group), on `arg_count` arguments of `rows` rows
 * each: a column must have `rows` rows, a constant exactly 1 (EINVAL
 * otherwise, naming the argument). `rows` is the batch length, also for a
 * call whose arguments are all constants or that has none (a function of
 * no arguments called for N rows). What a constant costs (docs/engine.md,
 * "Constant arguments"): the guest sees ordinary columns, so each constant
 * is broadcast once per call into a host column of `rows` rows (log2(rows)
 * doubling copies, about twice the column's size in copying; the column
 * then goes to the guest as any column would), except that a
 * DETERMINISTIC scalar function whose arguments are all constants runs on
 * one row and only its result is broadcast (a copy; with WUDF_RESULT_VIEW
 * the function runs on every row, as the view must be the guest's).
 */
WUDF_API int wudf_function_call_args(struct wudf_instance* instance, uint32_t function,
                                     uint32_t arg_count, const struct wudf_argument* args,
                                     int64_t rows, const struct wudf_call_options* options,
                                     struct ArrowArray* out, struct ArrowSchema* out_schema,
                                     struct wudf_error* error);

/* ------------------------------------------------------------------------ */
/* Table functions                                                           */
/* ------------------------------------------------------------------------ */

/* The Arrow C stream interface, as its specification defines it
 * (https://arrow.apache.org/docs/format/CStreamInterface.html). */
#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
  const char* (*get_last_error)(struct ArrowArrayStream*);
  void (*release)(struct ArrowArrayStream*);
  void* private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */

/*
 * Starts table function `function` on `arg_count` argument columns (as
 * wudf_function_call takes them: types checked against the signature,
 * lengths equal) and hands its output out as a stream of chunks: `*out`
 * becomes an ArrowArrayStream owned by the caller, who must call its
 * release. Nothing runs in the guest until the first get_next.
 *
 * Every chunk is a struct array (no struct-level nulls) of at most
 * options->max_output_rows rows, copied into host memory and owned by the
 * consumer, whose columns are "input_row" (int64, no nulls: the argument
 * row, 0-based, that produced the output row; non-decreasing through the
 * stream) and the declared columns. get_schema gives that struct's schema.
 * The output of one input row may span any number of chunks, so memory
 * stays bounded however many rows an input row yields. A strict function
 * yields no rows for an input row with a null argument. get_next returns 0
 * with a released array at the end; an error code (as wudf_function_call's
 * failures) with get_last_error's message otherwise, after which the
 * stream only repeats it.
 *
 * Lifetimes. The arguments are borrowed until the stream is released: they
 * must stay valid and unchanged until then. The options are copied. The
 * stream holds the instance: wudf_instance_free before the stream's
 * release only marks the instance, and the stream's release frees it. The
 * instance stays usable for other calls while the stream is open (several
 * streams may be open on one instance), but get_next runs guest code on
 * the calling thread and so follows the instance's one-thread-at-a-time
 * rule. The stream's release runs no guest code (it may come from any
 * thread, e.g. a garbage collector): a stream released before its end lets
 * the guest forget its input at the instance's next call. With
 * options->result == WUDF_RESULT_VIEW the call fails (ENOTSUP): chunks are
 * always copies.
 *
 * Failures of this call: EINVAL (arguments, options), EBUSY,
 * ENOTRECOVERABLE, ENOMEM; `*out` is then untouched.
 */
WUDF_API int wudf_table_call(struct wudf_instance* instance, uint32_t function,
                             uint32_t arg_count, const struct ArrowArray* const* args,
                             const struct ArrowSchema* const* arg_schemas,
                             const struct wudf_call_options* options,
                             struct ArrowArrayStream* out, struct wudf_error* error);

/* As wudf_table_call, with the arguments the columns of a record batch (a
 * struct array without struct-level nulls), borrowed likewise until the
 * stream's release. */
WUDF_API int wudf_table_call_batch(struct wudf_instance* instance, uint32_t function,
                                   const struct ArrowArray* batch,
                                   const struct ArrowSchema* batch_schema,
                                   const struct wudf_call_options* options,
                                   struct ArrowArrayStream* out, struct wudf_error* error);

/* As wudf_table_call, with arguments and constants as
 * wudf_function_call_args takes them. The broadcast columns belong to the
 * stream (freed with it); the caller's arrays are borrowed until the
 * stream's release, as wudf_table_call's. */
WUDF_API int wudf_table_call_args(struct wudf_instance* instance, uint32_t function,
                                  uint32_t arg_count, const struct wudf_argument* args,
                                  int64_t rows, const struct wudf_call_options* options,
                                  struct ArrowArrayStream* out, struct wudf_error* error);

/* ------------------------------------------------------------------------ */
/* Aggregate functions                                                       */
/* ------------------------------------------------------------------------ */

/*
 * An accumulator: the states of one aggregate function for groups 0 .. N-1,
 * kept in the guest (like DataFusion's GroupsAccumulator). Rows are folded
 * into their groups' states many groups per guest call; partial states are
 * taken out as an Arrow array of the STATE type (wudf_aggregate_state, and
 * wudf_array_serialize for bytes) and merged into another accumulator --
 * of the same function, in any instance of any process -- with
 * wudf_aggregate_merge; wudf_aggregate_finish gives every group's result.
 * The number of groups only grows; a group that never saw a row has the
 * guest's empty state (its result is what the function gives an empty
 * group, e.g. null for sum, 0 for count).
 */
struct wudf_aggregate;

/*
 * Creates an empty accumulator of aggregate function `function` on
 * `instance` (no groups yet). The accumulator holds the instance:
 * wudf_instance_free before wudf_aggregate_free only marks the instance,
 * and the last holder frees it. Calls on the accumulator are calls on the
 * instance (one thread at a time; EBUSY while a view pins it;
 * ENOTRECOVERABLE once a trap broke it, which loses the states). On
 * success `*out` is owned by the caller. Failures: EINVAL (not an
 * aggregate function), EBUSY, ENOTRECOVERABLE, ENOMEM.
 */
WUDF_API int wudf_aggregate_new(struct wudf_instance* instance, uint32_t function,
                                struct wudf_aggregate** out, struct wudf_error* error);

/* Frees the accumulator and lets the guest forget its states (at once when
 * the instance can run guest code, otherwise at its next call). NULL is
 * allowed. */
WUDF_API void wudf_aggregate_free(struct wudf_aggregate* aggregate);

/*
 * Folds `arg_count` argument columns (borrowed for the call; types checked
 * against the signature, lengths equal) into the groups' states: row r
 * goes to group group_ids[r]. `group_ids` has one entry per row, each below
 * `group_count`; NULL puts every row into group 0. `group_count` is the
 * number of groups the accumulator has afterwards: at least what it had
 * and at least 1 (EINVAL otherwise, as for an id out of range). A strict
 * function skips rows with a null argument. The rows go to the guest in
 * calls of at most options->max_rows_per_call rows (NULL options: the
 * defaults). Failures are wudf_function_call's; after a failure the states
 * are unspecified (the guest may have folded part of the rows).
 */
WUDF_API int wudf_aggregate_update(struct wudf_aggregate* aggregate, uint32_t arg_count,
                                   const struct ArrowArray* const* args,
                                   const struct ArrowSchema* const* arg_schemas,
                                   const uint32_t* group_ids, int64_t group_count,
                                   const struct wudf_call_options* options,
                                   struct wudf_error* error);

/* As wudf_aggregate_update, with the arguments the columns of a record
 * batch (borrowed for the call). */
WUDF_API int wudf_aggregate_update_batch(struct wudf_aggregate* aggregate,
                                         const struct ArrowArray* batch,
                                         const struct ArrowSchema* batch_schema,
                                         const uint32_t* group_ids, int64_t group_count,
                                         const struct wudf_call_options* options,
                                         struct wudf_error* error);

/* As wudf_aggregate_update, with arguments and constants of `rows` rows as
 * wudf_function_call_args takes them (group_ids, when not NULL, has `rows`
 * entries). */
WUDF_API int wudf_aggregate_update_args(struct wudf_aggregate* aggregate, uint32_t arg_count,
                                        const struct wudf_argument* args, int64_t rows,
                                        const uint32_t* group_ids, int64_t group_count,
                                        const struct wudf_call_options* options,
                                        struct wudf_error* error);

/*
 * Merges partial states into the groups' states: `states` (borrowed; an
 * array of the function's STATE type, from wudf_aggregate_state of any
 * accumulator of this function, or deserialized) row r into group
 * group_ids[r] (NULL: every row into group 0). `group_count` as for
 * wudf_aggregate_update. EINVAL when the states' type is not the STATE
 * type, naming the difference; otherwise as wudf_aggregate_update.
 */
WUDF_API int wudf_aggregate_merge(struct wudf_aggregate* aggregate,
                                  const struct ArrowArray* states,
                                  const struct ArrowSchema* states_schema,
                                  const uint32_t* group_ids, int64_t group_count,
                                  const struct wudf_call_options* options,
                                  struct wudf_error* error);

/*
 * The states of groups 0 .. wudf_aggregate_group_count() - 1 as one array
 * of the STATE type (row g: group g), validated and copied into host
 * memory; the accumulator keeps its states. The caller owns `*out` and
 * `*out_schema` and releases them. Failures: a result that breaks the ABI
 * (EPROTO, naming the function and the rule), a trap, the guest's error
 * (EREMOTEIO), EBUSY, ENOTSUP for a view (states are always copied).
 */
WUDF_API int wudf_aggregate_state(struct wudf_aggregate* aggregate,
                                  const struct wudf_call_options* options,
                                  struct ArrowArray* out, struct ArrowSchema* out_schema,
                                  struct wudf_error* error);

/* The result of every group, groups 0 .. wudf_aggregate_group_count() - 1,
 * as an array of the result type (row g: group g), validated and copied,
 * or viewed with options->result == WUDF_RESULT_VIEW (see wudf_result_mode).
 * The accumulator keeps its states (more rows may be folded in later).
 * Ownership and failures as wudf_aggregate_state. */
WUDF_API int wudf_aggregate_finish(struct wudf_aggregate* aggregate,
                                   const struct wudf_call_options* options,
                                   struct ArrowArray* out, struct ArrowSchema* out_schema,
                                   struct wudf_error* error);

/* The number of groups the accumulator has. */
WUDF_API int64_t wudf_aggregate_group_count(const struct wudf_aggregate* aggregate);

/* ------------------------------------------------------------------------ */
/* Arrays as bytes                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Serializes an array of any type (e.g. aggregate states, for spilling or
 * sending to another worker) into one block of bytes: `*out` (`*size`
 * bytes, owned by the caller, freed with wudf_bytes_free) holds its schema
 * and data, offsets and slices applied. The format is the wasm32 image of
 * the guest ABI (docs/abi.md, section 9): little-endian, self-describing,
 * at most 4 GiB. `array` and `schema` are borrowed and must be valid.
 * Failures: EINVAL (a malformed array), EFBIG (over 4 GiB), ENOMEM.
 */
WUDF_API int wudf_array_serialize(const struct ArrowArray* array,
                                  const struct ArrowSchema* schema, uint8_t** out,
                                  size_t* size, struct wudf_error* error);

/*
 * Reads bytes of wudf_array_serialize back into an independent host array
 * and schema owned by the caller. The bytes are untrusted: they are
 * validated as completely as a guest's result (at `validation`), so
 * corrupt or hostile bytes give EPROTO naming the rule, never a crash.
 */
WUDF_API int wudf_array_deserialize(const uint8_t* bytes, size_t size,
                                    wudf_validation validation, struct ArrowArray* out,
                                    struct ArrowSchema* out_schema, struct wudf_error* error);

/* Frees bytes from wudf_array_serialize. NULL is allowed. */
WUDF_API void wudf_bytes_free(uint8_t* bytes);

/* ------------------------------------------------------------------------ */
/* Instance reset and instance pools                                         */
/* ------------------------------------------------------------------------ */

/*
 * Records the instance's current state -- its linear memory (in a memfd),
 * globals and tables -- as the state wudf_instance_reset returns it to.
 * Call it right after wudf_instance_new to reset to the initial state (the
 * pools do). Must not be called during a call on the instance (EBUSY) or on
 * a broken instance (ENOTRECOVERABLE); a second snapshot replaces the
 * first. Failures: ENOMEM, or the errno of memfd_create/write.
 */
WUDF_API int wudf_instance_snapshot(struct wudf_instance* instance, struct wudf_error* error);

/*
 * Returns the instance to its snapshot without instantiating again: the
 * memory's pages are mapped copy-on-write from the snapshot in one mmap
 * (what the guest wrote since is dropped; pages it grew are returned),
 * globals and tables are copied back, and the instance is usable again
 * even if it was broken by a trap. Much cheaper than a fresh instance
 * (docs/engine.md, "Instance pools and reset"). Failures: EINVAL (no
 * snapshot), EBUSY (a call runs on it, or a zero-copy view, table stream or
 * accumulator of it is alive), or the errno of a failed mapping (the
 * instance is then broken for good: free it).
 */
WUDF_API int wudf_instance_reset(struct wudf_instance* instance, struct wudf_error* error);

/*
 * A pool of instances of one module for many threads. Each thread that
 * acquires an instance has it to itself until it releases it (an instance
 * runs one call at a time); instances are created on demand up to
 * `max_instances` and kept for reuse, so each of N threads calling at the
 * same time gets its own. Every pool instance has a snapshot of its
 * initial state: an instance released broken (a trap, a timeout) is reset
 * to it instead of being thrown away, and with `reset_after_use` every
 * released instance is (no guest state passes from one acquirer to the
 * next). All functions are thread-safe.
 */
struct wudf_pool;

struct wudf_pool_config {
  size_t struct_size;      /* set by wudf_pool_config_init */
  uint32_t max_instances;  /* at most this many at once (0: no limit);
                              wudf_pool_acquire waits when all are in use */
  int reset_after_use;     /* reset every released instance, not only
                              broken ones (default 0) */
  /* The instances' configuration, copied by wudf_pool_new; NULL (the
   * default) for the engine's. A pointer, not an embedded struct, so that
   * either struct can grow on its own. */
  const struct wudf_instance_config* instance;
};

/* The defaults: the engine's instance configuration (instance NULL), no
 * limit, reset only broken instances. */
WUDF_API void wudf_pool_config_init(const struct wudf_engine* engine,
                                    struct wudf_pool_config* config);

/* Makes a pool of instances of `module` (which it holds a reference to;
 * `config` NULL for the defaults). No instance is created yet. */
WUDF_API int wudf_pool_new(struct wudf_module* module, const struct wudf_pool_config* config,
                           struct wudf_pool** out, struct wudf_error* error);

/* Takes an instance for the calling thread: an idle one (the one released
 * last first), else a new one (instantiated and snapshotted), else, at
 * `max_instances`, waits for a release. The instance belongs to the pool:
 * give it back with wudf_pool_release, never wudf_instance_free. */
WUDF_API int wudf_pool_acquire(struct wudf_pool* pool, struct wudf_instance** out,
                               struct wudf_error* error);

/* Gives an instance back. A broken one (or any, with reset_after_use) is
 * reset to its snapshot; one that cannot be reset, or that a zero-copy
 * view, stream or accumulator still holds, is dropped (freed when its last
 * holder goes) and replaced by a new one on a later acquire. */
WUDF_API void wudf_pool_release(struct wudf_pool* pool, struct wudf_instance* instance);

/* wudf_function_call through the pool: acquire, call, release. The result
 * is a host copy (options->result must be WUDF_RESULT_COPY: ENOTSUP
 * otherwise, since a view would pin a pooled instance). */
WUDF_API int wudf_pool_call(struct wudf_pool* pool, uint32_t function, uint32_t arg_count,
                            const struct ArrowArray* const* args,
                            const struct ArrowSchema* const* arg_schemas,
                            const struct wudf_call_options* options, struct ArrowArray* out,
                            struct ArrowSchema* out_schema, struct wudf_error* error);

/* wudf_function_call_args through the pool, as wudf_pool_call. */
WUDF_API int wudf_pool_call_args(struct wudf_pool* pool, uint32_t function,
                                 uint32_t arg_count, const struct wudf_argument* args,
                                 int64_t rows, const struct wudf_call_options* options,
                                 struct ArrowArray* out, struct ArrowSchema* out_schema,
                                 struct wudf_error* error);

/* What a pool did so far. */
struct wudf_pool_stats {
  size_t struct_size; /* set by the caller (see "Versioned structs") */
  uint64_t created;   /* instances instantiated */
  uint64_t resets;    /* instances reset to their snapshot on release */
  uint64_t dropped;   /* instances dropped (could not be reset, or held) */
  uint32_t idle;      /* instances waiting in the pool now */
  uint32_t in_use;    /* instances acquired now */
};
WUDF_API void wudf_pool_stats(struct wudf_pool* pool, struct wudf_pool_stats* out);

/* Frees the pool and its idle instances. Every acquired instance must have
 * been released. NULL is allowed. */
WUDF_API void wudf_pool_free(struct wudf_pool* pool);

/* ------------------------------------------------------------------------ */
/* Arrow IPC files and streams                                               */
/* ------------------------------------------------------------------------ */

/*
 * Reading and writing the Arrow IPC format (the streaming format, ".arrows",
 * and the file format, ".arrow" / Feather v2) as the Arrow columnar format
 * specification defines it: every type of the type language (dictionaries
 * with deltas and replacements, unions, views, run-end encoded, extension
 * types through their field metadata), schema and field metadata, and
 * LZ4-frame or ZSTD body compression. docs/io.md describes the details.
 *
 * Input is untrusted: a truncated, corrupt or hostile file gives EPROTO
 * (malformed) or EFBIG (past a limit below) with a message naming the
 * input, the message and the field, never a crash or an out-of-range read;
 * every buffer is validated (sizes, offsets, union type ids, dictionary
 * indices, run ends, UTF-8, null counts) before an array is handed out.
 */
typedef enum wudf_ipc_format {
  WUDF_IPC_STREAM = 0, /* the streaming format */
  WUDF_IPC_FILE = 1    /* the random-access file format */
} wudf_ipc_format;

typedef enum wudf_ipc_compression {
  WUDF_IPC_UNCOMPRESSED = 0,
  WUDF_IPC_LZ4_FRAME = 1,
  WUDF_IPC_ZSTD = 2
} wudf_ipc_compression;

struct wudf_ipc_read_options {
  /* Set by wudf_ipc_read_options_init (see "Versioned structs"). */
  size_t struct_size;
  /* Largest message (metadata + body) read from an input whose size is
   * not known (a pipe); from a file or memory a message must fit in the
   * input. Default 1 GiB (WUDF_IPC_DEFAULT_MAX_MESSAGE). */
  int64_t max_message_bytes;
  /* Largest total of decompressed buffers of one message. Default 4 GiB
   * (WUDF_IPC_DEFAULT_MAX_DECOMPRESSED). */
  int64_t max_decompressed_bytes;
};
#define WUDF_IPC_DEFAULT_MAX_MESSAGE ((int64_t)1 << 30)
#define WUDF_IPC_DEFAULT_MAX_DECOMPRESSED ((int64_t)1 << 32)

/* Fills `options` with the defaults. */
WUDF_API void wudf_ipc_read_options_init(struct wudf_ipc_read_options* options);

/*
 * Opens an IPC input as an ArrowArrayStream owned by the caller (who must
 * call its release). The format (file or stream) is recognised by the file
 * magic. get_schema gives the schema (a struct whose children are the
 * columns; the schema's metadata on the root); get_next gives one record
 * batch per call as a struct array, and a released array at the end. On an
 * error get_next returns its code and get_last_error the message, and the
 * stream only repeats it. `options` may be NULL (defaults).
 *
 *   wudf_ipc_read_path:   a path; the file is opened here and closed by
 *                         release. "-" reads standard input.
 *   wudf_ipc_read_fd:     an open descriptor, borrowed until release (not
 *                         closed); the file format needs it seekable.
 *   wudf_ipc_read_memory: `size` bytes at `data`, borrowed: arrays point
 *                         into them (zero copy), so they must stay valid
 *                         and unchanged until the stream and every array
 *                         it produced are released.
 *
 * The schema (or, for the file format, the footer) is read by the call, so
 * a file that is not Arrow IPC fails here (EPROTO; ENOENT etc. from open).
 */
WUDF_API int wudf_ipc_read_path(const char* path, const struct wudf_ipc_read_options* options,
                                struct ArrowArrayStream* out, struct wudf_error* error);
WUDF_API int wudf_ipc_read_fd(int fd, const struct wudf_ipc_read_options* options,
                              struct ArrowArrayStream* out, struct wudf_error* error);
WUDF_API int wudf_ipc_read_memory(const uint8_t* data, size_t size,
                                  const struct wudf_ipc_read_options* options,
                                  struct ArrowArrayStream* out, struct wudf_error* error);

struct wudf_ipc_write_options {
  size_t struct_size;               /* set by _init ("Versioned structs") */
  wudf_ipc_format format;           /* default WUDF_IPC_STREAM */
  wudf_ipc_compression compression; /* default WUDF_IPC_UNCOMPRESSED */
  /* The codec's level; 0 means the codec's default. */
  int compression_level;
};

/* Fills `options` with the defaults. */
WUDF_API void wudf_ipc_write_options_init(struct wudf_ipc_write_options* options);

/* A writer of one IPC stream or file. */
struct wudf_ipc_writer;

/*
 * Starts writing to `path` ("-": standard output; the file is created or
 * truncated) or to the open descriptor `fd` (borrowed, not closed), the
 * record batches of `schema` -- a struct schema ("+s") whose children are
 * the columns; names, nullability, flags, metadata (the root's becomes the
 * schema's) and dictionaries are written as they are. The schema is copied.
 * `options` may be NULL. The schema message is written here.
 */
WUDF_API int wudf_ipc_writer_open_path(const char* path, const struct ArrowSchema* schema,
                                       const struct wudf_ipc_write_options* options,
                                       struct wudf_ipc_writer** out, struct wudf_error* error);
WUDF_API int wudf_ipc_writer_open_fd(int fd, const struct ArrowSchema* schema,
                                     const struct wudf_ipc_write_options* options,
                                     struct wudf_ipc_writer** out, struct wudf_error* error);

/*
 * Writes one record batch: `batch`, a struct array of the writer's schema
 * without struct-level nulls, borrowed (not released). Offsets and slices
 * anywhere in the tree are applied. A dictionary that differs from the
 * previous batch's is written before the batch: as a delta when it extends
 * the previous one, otherwise as a replacement (which the file format does
 * not allow: EINVAL there).
 */
WUDF_API int wudf_ipc_writer_write(struct wudf_ipc_writer* writer, const struct ArrowArray* batch,
                                   struct wudf_error* error);

/* Ends the output (the end-of-stream marker; for the file format the
 * footer) and frees the writer, which is freed even on failure. */
WUDF_API int wudf_ipc_writer_close(struct wudf_ipc_writer* writer, struct wudf_error* error);

/* Frees a writer without ending the output (after a failure). NULL is
 * fine. */
WUDF_API void wudf_ipc_writer_abort(struct wudf_ipc_writer* writer);

/* Writes every batch of `stream` to `path` and releases the stream (also on
 * failure). */
WUDF_API int wudf_ipc_write_stream(struct ArrowArrayStream* stream, const char* path,
                                   const struct wudf_ipc_write_options* options,
                                   struct wudf_error* error);

/* ------------------------------------------------------------------------ */
/* CSV input; CSV and JSON-lines output                                      */
/* ------------------------------------------------------------------------ */

/*
 * Reads CSV (RFC 4180: quoted fields with "" escapes, CRLF or LF lines,
 * line breaks inside quotes) as an ArrowArrayStream of record batches.
 * Without a schema, each column's type is inferred from all its values,
 * trying in turn: null (every value empty or a null word), int64, bool
 * (true/false in lower, upper or title case), float64, date32
 * (YYYY-MM-DD), time32[s] (HH:MM:SS), timestamp (YYYY-MM-DD[T ]HH:MM:SS
 * with an optional fraction choosing s/ms/us/ns, and a trailing Z making
 * it UTC), utf8, and binary when not UTF-8. Null words are "", "NA",
 * "N/A", "n/a", "NULL", "null", "NaN", "nan", "#N/A", "-NaN", "-nan"
 * (they are values, not nulls, in utf8 and binary columns). With a schema
 * (a struct whose children are the columns, in order) every value is
 * parsed as its column's type -- integers, floats, bool, utf8 / large
 * utf8, binary, date32, timestamps in any unit and zone, null -- and a
 * value that does not parse is EINVAL naming the line and column.
 * docs/io.md lists the details.
 */
struct wudf_csv_read_options {
  size_t struct_size;               /* set by _init ("Versioned structs") */
  char delimiter;                   /* default ',' */
  int has_header;                   /* default 1: the first line names the columns
                                       (otherwise f0, f1, ...) */
  const struct ArrowSchema* schema; /* default NULL: infer; borrowed during the call */
  int64_t batch_rows;               /* rows per batch, default 65,536 */
  int64_t max_input_bytes;          /* default 4 GiB: larger input is EFBIG */
};
WUDF_API void wudf_csv_read_options_init(struct wudf_csv_read_options* options);

/* Reads the CSV file `path` ("-": standard input), or `size` bytes at
 * `data` (copied), completely during the call; `*out` then owns every
 * value. Errors name the input, line and column. */
WUDF_API int wudf_csv_read_path(const char* path, const struct wudf_csv_read_options* options,
                                struct ArrowArrayStream* out, struct wudf_error* error);
WUDF_API int wudf_csv_read_memory(const char* data, size_t size,
                                  const struct wudf_csv_read_options* options,
                                  struct ArrowArrayStream* out, struct wudf_error* error);

/*
 * How far a stream opened by this library's readers has got, for progress
 * reports (the CLI's progress line and its ETA): `*done` of `*total` units.
 *
 *   wudf_ipc_read_progress: bytes of the input, through the end of the last
 *     message read (the file format: of the last record batch returned);
 *     `*done` is `*total` once the stream has ended.
 *   wudf_csv_read_progress: rows returned of the input's rows (the text is
 *     parsed when the stream is opened, so the total is exact).
 *
 * 0; EINVAL when `stream` was not opened by the matching reader (or has
 * been released) or an out pointer is NULL; ESPIPE from
 * wudf_ipc_read_progress when the input's size is not known (a pipe).
 * Reads the stream's state without changing it: call it between get_next
 * calls, on the thread that calls them. `error` may be NULL.
 */
WUDF_API int wudf_ipc_read_progress(const struct ArrowArrayStream* stream, int64_t* done,
                                    int64_t* total, struct wudf_error* error);
WUDF_API int wudf_csv_read_progress(const struct ArrowArrayStream* stream, int64_t* done,
                                    int64_t* total, struct wudf_error* error);

/*
 * Writes every batch of `stream` (consumed, released also on failure) to
 * `path` ("-": standard output) as CSV (a header line of the column names,
 * then one line per row; fields quoted when they hold the delimiter, a
 * quote or a line break, empty strings as "", nulls as nothing) or as JSON
 * lines (one object per row, nulls as null, lists as arrays, structs as
 * objects, maps as arrays of {"key": ..., "value": ...}). Values: integers
 * and decimals exactly, floats with the fewest digits that read back exactly
 * (NaN and infinities as nan/inf in CSV, null in JSON), dates YYYY-MM-DD,
 * times HH:MM:SS[.fraction], timestamps YYYY-MM-DD HH:MM:SS[.fraction]
 * (with a trailing Z when the type has a time zone), durations as their
 * count, dictionaries as their values. Types with no text form here
 * (unions, intervals, run-end encoded, nested types in CSV, binary in
 * JSON) are ENOTSUP naming the column.
 */
WUDF_API int wudf_csv_write_stream(struct ArrowArrayStream* stream, const char* path,
                                   char delimiter, struct wudf_error* error);
WUDF_API int wudf_jsonl_write_stream(struct ArrowArrayStream* stream, const char* path,
                                     struct wudf_error* error);

#ifdef __cplusplus
}
#endif

#endif /* WASMUDF_WASMUDF_H */
