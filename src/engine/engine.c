/*
 * engine.c -- the public engine and module objects: configuration, module
 * loading (read and check the bytes, enforce the import policy, compile or
 * fetch from the cache, describe the exports, attach the layer above:
 * layer.h), and reference counting.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

#define WUDF__DEFAULT_TIMEOUT_MS 10000u
#define WUDF__DEFAULT_MEMORY_LIMIT ((uint64_t)1 << 30)
#define WUDF__DEFAULT_MODULE_SIZE ((size_t)64 << 20)
#define WUDF__DEFAULT_OUTPUT_LIMIT ((size_t)64 << 10)
#define WUDF__DEFAULT_MAX_TABLES 100u
#define WUDF__DEFAULT_MAX_TABLE_ELEMENTS 10000000u
#define WUDF__DEFAULT_COMPILE_TIMEOUT_MS 300000u
#define WUDF__DEFAULT_COMPILE_CPU_SECONDS 300u
#define WUDF__DEFAULT_COMPILE_MEMORY ((uint64_t)4 << 30)
#define WUDF__DEFAULT_COMPILE_FILE ((uint64_t)1 << 30)

/* Half the machine's physical memory, or 0 (no budget) when it is unknown:
 * guests together may not take more than half of what the host has. */
static uint64_t wudf__default_memory_budget(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return (uint64_t)pages * (uint64_t)page_size / 2;
}

/* The fields of struct wudf_engine_config after struct_size, in order
 * (wudf__versioned_read). */
#define WUDF__ENGINE_FIELD(member) WUDF__FIELD(struct wudf_engine_config, member)
static const struct wudf__field wudf__engine_config_fields[] = {
    WUDF__ENGINE_FIELD(cache_dir),          WUDF__ENGINE_FIELD(cc),
    WUDF__ENGINE_FIELD(cflags),             WUDF__ENGINE_FIELD(wasm2c),
    WUDF__ENGINE_FIELD(timeout_ms),         WUDF__ENGINE_FIELD(memory_limit),
    WUDF__ENGINE_FIELD(max_module_size),    WUDF__ENGINE_FIELD(output_limit),
    WUDF__ENGINE_FIELD(deterministic),      WUDF__ENGINE_FIELD(max_tables),
    WUDF__ENGINE_FIELD(max_table_elements), WUDF__ENGINE_FIELD(memory_budget),
    WUDF__ENGINE_FIELD(compile_timeout_ms), WUDF__ENGINE_FIELD(compile_cpu_seconds),
    WUDF__ENGINE_FIELD(compile_memory_limit), WUDF__ENGINE_FIELD(compile_file_limit),
    WUDF__ENGINE_FIELD(lock_timeout_ms),    WUDF__ENGINE_FIELD(fast_tier),
    WUDF__ENGINE_FIELD(fast_cc)};

void wudf_engine_config_init(struct wudf_engine_config* config) {
  memset(config, 0, sizeof(*config));
  config->struct_size = sizeof(*config);
  config->timeout_ms = WUDF__DEFAULT_TIMEOUT_MS;
  config->memory_limit = WUDF__DEFAULT_MEMORY_LIMIT;
  config->max_module_size = WUDF__DEFAULT_MODULE_SIZE;
  config->output_limit = WUDF__DEFAULT_OUTPUT_LIMIT;
  config->max_tables = WUDF__DEFAULT_MAX_TABLES;
  config->max_table_elements = WUDF__DEFAULT_MAX_TABLE_ELEMENTS;
  config->memory_budget = wudf__default_memory_budget();
  config->compile_timeout_ms = WUDF__DEFAULT_COMPILE_TIMEOUT_MS;
  config->compile_cpu_seconds = WUDF__DEFAULT_COMPILE_CPU_SECONDS;
  config->compile_memory_limit = WUDF__DEFAULT_COMPILE_MEMORY;
  config->compile_file_limit = WUDF__DEFAULT_COMPILE_FILE;
  /* The fast tier is on by default (docs/engine.md, "Tiers");
   * WASMUDF_FAST_TIER=0 turns it off for hosts that do not set the field
   * (the CLI, the Python package). */
  const char* fast_tier = getenv("WASMUDF_FAST_TIER");
  config->fast_tier = !(fast_tier != NULL && strcmp(fast_tier, "0") == 0);
}

/* Resolves the cache directory: the configured one, $WASMUDF_CACHE_DIR,
 * $XDG_CACHE_HOME/wasmudf, $HOME/.cache/wasmudf, in that order. */
static char* wudf__default_cache_dir(void) {
  const char* value = getenv("WASMUDF_CACHE_DIR");
  if (value != NULL && value[0] != '\0') return wudf__strdup(value);
  char path[4096];
  value = getenv("XDG_CACHE_HOME");
  if (value != NULL && value[0] == '/') {
    snprintf(path, sizeof(path), "%s/wasmudf", value);
    return wudf__strdup(path);
  }
  value = getenv("HOME");
  snprintf(path, sizeof(path), "%s/.cache/wasmudf",
           value != NULL && value[0] != '\0' ? value : "/tmp");
  return wudf__strdup(path);
}

/* Splits `flags` at spaces into a NULL-terminated array of funnel strings. */
static char** wudf__split_flags(const char* flags) {
  size_t count = 0;
  const char* p = flags ? flags : "";
  for (const char* q = p; *q;) {
    while (*q == ' ') q++;
    if (!*q) break;
    count++;
    while (*q && *q != ' ') q++;
  }
  char** array = wudf__calloc(count + 1, sizeof(char*));
  if (array == NULL) return NULL;
  size_t i = 0;
  for (const char* q = p; *q;) {
    while (*q == ' ') q++;
    if (!*q) break;
    const char* start = q;
    while (*q && *q != ' ') q++;
    array[i] = wudf__malloc((size_t)(q - start) + 1);
    if (array[i] == NULL) {
      for (size_t j = 0; j < i; j++) wudf__free(array[j]);
      wudf__free(array);
      return NULL;
    }
    memcpy(array[i], start, (size_t)(q - start));
    array[i][q - start] = '\0';
    i++;
  }
  return array;
}

static void wudf__free_flags(char** flags) {
  if (flags == NULL) return;
  for (char** flag = flags; *flag; flag++) wudf__free(*flag);
  wudf__free(flags);
}

/* Frees an engine that wudf_engine_new could not finish. */
static void wudf__engine_discard(struct wudf_engine* engine) {
  pthread_mutex_destroy(&engine->failures_lock);
  pthread_mutex_destroy(&engine->tier_lock);
  pthread_cond_destroy(&engine->tier_done);
  wudf__free(engine->fast_cc);
  wudf__free(engine->cache_dir);
  wudf__free(engine->cc);
  wudf__free(engine->wasm2c);
  wudf__free_flags(engine->cflags);
  wudf__free(engine);
}

int wudf_engine_new(const struct wudf_engine_config* config,
                    struct wudf_engine** out, struct wudf_error* error) {
  if (out == NULL) return wudf__set_error(error, EINVAL, "out is NULL");
  /* The caller's configuration read over the defaults, as far as its
   * struct_size goes (wasmudf.h, "Versioned structs"). */
  struct wudf_engine_config settings;
  wudf_engine_config_init(&settings);
  if (config != NULL) {
    int status = wudf__versioned_read(
        &settings, config, sizeof(settings), wudf__engine_config_fields,
        sizeof(wudf__engine_config_fields) / sizeof(wudf__engine_config_fields[0]),
        "wudf_engine_new: struct wudf_engine_config", error);
    if (status != 0) return status;
  }
  config = &settings;
  struct wudf_engine* engine = wudf__calloc(1, sizeof(*engine));
  if (engine == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  engine->config = *config;
  engine->config.cache_dir = engine->config.cc = NULL;
  engine->config.cflags = engine->config.wasm2c = engine->config.fast_cc = NULL;
  if (engine->config.max_module_size == 0) {
    engine->config.max_module_size = WUDF__DEFAULT_MODULE_SIZE;
  }
  if (engine->config.max_tables == 0) engine->config.max_tables = WUDF__DEFAULT_MAX_TABLES;
  if (engine->config.max_table_elements == 0) {
    engine->config.max_table_elements = WUDF__DEFAULT_MAX_TABLE_ELEMENTS;
  }
  /* A process compiling a module holds its lock for at most the compile's
   * time limit: by default, a waiter gives up a minute after that (21
   * minutes without a compile time limit). */
  engine->lock_timeout_ms =
      engine->config.lock_timeout_ms != 0 ? engine->config.lock_timeout_ms
      : engine->config.compile_timeout_ms != 0 ? engine->config.compile_timeout_ms + 60000u
                                               : 21u * 60u * 1000u;
  wudf__wasm_limits_init(&engine->limits);
  engine->limits.max_module_size = engine->config.max_module_size;
  engine->limits.max_tables = engine->config.max_tables;
  engine->limits.max_table_size = engine->config.max_table_elements;
  atomic_init(&engine->budget.used, 0);
  engine->budget.limit = engine->config.memory_budget;
  pthread_mutex_init(&engine->failures_lock, NULL);
  pthread_mutex_init(&engine->tier_lock, NULL);
  pthread_cond_init(&engine->tier_done, NULL);

  const char* cc = config->cc ? config->cc : getenv("CC");
  const char* wasm2c = config->wasm2c ? config->wasm2c : getenv("WASMUDF_WASM2C");
  engine->cache_dir = config->cache_dir ? wudf__strdup(config->cache_dir)
                                        : wudf__default_cache_dir();
  engine->cc = wudf__strdup(cc && cc[0] ? cc : "cc");
  engine->wasm2c = wudf__strdup(wasm2c && wasm2c[0] ? wasm2c : "wasm2c");
  engine->cflags = wudf__split_flags(config->cflags);
  const char* fast_cc = config->fast_cc ? config->fast_cc : getenv("WASMUDF_FAST_CC");
  engine->fast_cc = wudf__strdup(fast_cc && fast_cc[0] ? fast_cc : "tcc");
  if (engine->cache_dir == NULL || engine->cc == NULL || engine->fast_cc == NULL ||
      engine->wasm2c == NULL || engine->cflags == NULL) {
    wudf__engine_discard(engine);
    return wudf__set_error(error, ENOMEM, "out of memory");
  }
  if (strlen(engine->cache_dir) > WUDF__CACHE_DIR_MAX) {
    wudf__engine_discard(engine);
    return wudf__set_error(error, ENAMETOOLONG,
                           "the cache directory path is longer than %d bytes",
                           WUDF__CACHE_DIR_MAX);
  }
  /* A missing tool is not an error yet: cached modules need no tools. */
  wudf__tool_identify(engine->cc, &engine->cc_identity);
  wudf__tool_identify(engine->wasm2c, &engine->wasm2c_identity);
  /* Without fast_cc (tcc) the fast tier is cc at -O0 (compile.c). */
  if (engine->config.fast_tier &&
      wudf__tool_identify(engine->fast_cc, &engine->fast_cc_identity) != 0) {
    engine->fast_fallback = 1;
  }

  int status = wudf__rt_retain(error);
  if (status != 0) {
    wudf__engine_discard(engine);
    return status;
  }
  wudf__engine_count_add(1);
  *out = engine;
  return 0;
}

void wudf_engine_free(struct wudf_engine* engine) {
  if (engine == NULL) return;
  wudf__tier_join_all(engine);
  wudf__rt_release();
  wudf__failures_free(engine);
  pthread_mutex_destroy(&engine->failures_lock);
  pthread_mutex_destroy(&engine->tier_lock);
  pthread_cond_destroy(&engine->tier_done);
  wudf__free(engine->fast_cc);
  wudf__free(engine->cache_dir);
  wudf__free(engine->cc);
  wudf__free(engine->wasm2c);
  wudf__free_flags(engine->cflags);
  wudf__free(engine);
  wudf__engine_count_add(-1);
}

void wudf_engine_stats(const struct wudf_engine* engine,
                       struct wudf_engine_stats* out) {
  struct wudf_engine_stats full;
  struct wudf_engine_stats* stats = &full;
  stats->struct_size = sizeof(full);
  stats->compiles = atomic_load(&engine->compiles);
  stats->cache_hits = atomic_load(&engine->cache_hits);
  stats->compile_failures_remembered = atomic_load(&engine->failures_remembered);
  stats->memory_in_use = atomic_load(&engine->budget.used);
  stats->fast_compiles = atomic_load(&engine->fast_compiles);
  stats->fast_failures = atomic_load(&engine->fast_failures);
  stats->optimized_ready = atomic_load(&engine->optimized_ready);
  stats->optimized_failures = atomic_load(&engine->optimized_failures);
  wudf__versioned_write(out, &full, sizeof(full),
                        WUDF__SIZE_1(struct wudf_engine_stats, optimized_failures));
}

/* ---------------------------------------------------------------- modules */

/* Refuses any import that is not a WASI preview1 function with its exact
 * signature, naming the import. */
static int wudf__check_imports(const struct wudf__wasm_info* info,
                               struct wudf_error* error) {
  static const char* const kinds[] = {"function", "table", "memory", "global", "tag"};
  for (uint32_t i = 0; i < info->import_count; i++) {
    const struct wudf__wasm_import* import = &info->imports[i];
    const char* kind = import->kind < 5 ? kinds[import->kind] : "unknown";
    if (import->kind != WUDF__EXTERN_FUNC ||
        strcmp(import->module, WUDF__WASI_MODULE) != 0) {
      return wudf__set_error(error, ENOTSUP,
                             "unsupported import %s.%s (a %s): a module may "
                             "import only WASI preview1 functions from %s",
                             import->module, import->name, kind,
                             WUDF__WASI_MODULE);
    }
    int function = wudf__wasi_find(import->name);
    if (function < 0) {
      return wudf__set_error(error, ENOTSUP,
                             "unsupported import %s.%s: not a WASI preview1 "
                             "function", import->module, import->name);
    }
    const struct wudf__wasm_functype* type = &info->types[import->type_index];
    char signature[64];
    size_t n = 0;
    int representable = type->param_count < 20 && type->result_count < 2;
    for (uint32_t p = 0; representable && p < type->param_count; p++) {
      uint8_t t = type->params[p];
      if (t != WUDF__WASM_I32 && t != WUDF__WASM_I64) representable = 0;
      else signature[n++] = t == WUDF__WASM_I32 ? 'i' : 'j';
    }
    if (representable) {
      signature[n++] = ':';
      if (type->result_count == 1) {
        if (type->results[0] != WUDF__WASM_I32) representable = 0;
        signature[n++] = 'i';
      }
      signature[n] = '\0';
    }
    if (!representable || strcmp(signature, wudf__wasi_signature(function)) != 0) {
      return wudf__set_error(error, ENOTSUP,
                             "import %s.%s has the wrong signature (expected %s "
                             "in i32=i, i64=j letters)",
                             import->module, import->name,
                             wudf__wasi_signature(function));
    }
  }
  return 0;
}

/* The public type of a numeric wasm value type (callable exports have no
 * others). */
static wudf_valtype wudf__valtype_of(uint8_t type) {
  switch (type) {
    case WUDF__WASM_I32: return WUDF_I32;
    case WUDF__WASM_I64: return WUDF_I64;
    case WUDF__WASM_F32: return WUDF_F32;
    default: return WUDF_F64;
  }
}

/* Builds the public export descriptions from the module's own export
 * section (the callable exports, in the glue's order) and, when the module
 * was compiled, points each at its trampoline in the glue's table. */
static int wudf__describe_exports(struct wudf_module* module,
                                  struct wudf_error* error) {
  const struct wudf__wasm_info* wasm = &module->info;
  const struct wudf__glue_module* glue = module->glue;
  uint32_t count = 0;
  size_t letters = 0;
  for (uint32_t i = 0; i < wasm->export_count; i++) {
    if (!wudf__callable_export(wasm, &wasm->exports[i])) continue;
    const struct wudf__wasm_functype* type =
        &wasm->types[wasm->function_types[wasm->exports[i].index]];
    letters += type->param_count + type->result_count;
    count++;
  }
  if (glue != NULL && glue->export_count != count) {
    return wudf__set_error(error, ENOEXEC, "the compiled module's export table is corrupt "
                           "(%u exports, the module has %u)", glue->export_count, count);
  }
  module->export_count = count;
  module->exports = wudf__calloc(count + 1, sizeof(*module->exports));
  module->glue_exports = wudf__calloc(count + 1, sizeof(void*));
  module->types = wudf__calloc(letters + 1, sizeof(wudf_valtype));
  if (module->exports == NULL || module->glue_exports == NULL ||
      module->types == NULL) {
    return wudf__set_error(error, ENOMEM, "out of memory");
  }
  wudf_valtype* next = module->types;
  uint32_t number = 0;
  for (uint32_t i = 0; i < wasm->export_count; i++) {
    const struct wudf__wasm_export* export = &wasm->exports[i];
    if (!wudf__callable_export(wasm, export)) continue;
    const struct wudf__wasm_functype* type =
        &wasm->types[wasm->function_types[export->index]];
    struct wudf_export_info* info = &module->exports[number];
    if (glue != NULL) {
      if (strcmp(glue->exports[number].name, export->name) != 0) {
        return wudf__set_error(error, ENOEXEC,
                               "the compiled module's export table is corrupt");
      }
      module->glue_exports[number] = &glue->exports[number];
    }
    info->name = export->name;
    info->params = next;
    for (uint32_t p = 0; p < type->param_count; p++) {
      *next++ = wudf__valtype_of(type->params[p]);
    }
    info->param_count = type->param_count;
    info->results = next;
    for (uint32_t r = 0; r < type->result_count; r++) {
      *next++ = wudf__valtype_of(type->results[r]);
    }
    info->result_count = type->result_count;
    number++;
  }
  return 0;
}

static void wudf__module_destroy(struct wudf_module* module) {
  wudf__tier_release(module);
  wudf__compile_unload(module);
  wudf__wasm_info_release(&module->info);
  wudf__free(module->exports);
  wudf__free(module->glue_exports);
  wudf__free(module->types);
  if (wudf__upper_layer != NULL) wudf__upper_layer->module_detach(module);
  wudf__free(module);
}

int wudf__module_open_with(struct wudf_engine* engine, const uint8_t* bytes, size_t size,
                           int inspect, wudf__object_source artifact, void* closure,
                           struct wudf_module** out, struct wudf_error* error) {
  if (engine == NULL || out == NULL || (bytes == NULL && size != 0)) {
    return wudf__set_error(error, EINVAL, "engine, bytes and out must not be NULL");
  }
  struct wudf_module* module = wudf__calloc(1, sizeof(*module));
  if (module == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  atomic_init(&module->references, 1);
  module->engine = engine;
  int status = wudf__wasm_read(bytes, size, &engine->limits, &module->info, error);
  if (status != 0) {
    wudf__free(module);
    return status;
  }
  status = wudf__check_imports(&module->info, error);
  if (status == 0 && artifact != NULL) {
    module->tier = WUDF__TIER_OPTIMIZED;
    status = artifact(engine, module, closure, error);
  } else if (status == 0 && !inspect) {
    status = wudf__compile_load(engine, bytes, size, module, error);
  }
  if (status == 0) status = wudf__describe_exports(module, error);
  if (status == 0 && wudf__upper_layer != NULL) {
    status = wudf__upper_layer->module_attach(module, bytes, size, error);
  }
  if (status != 0) {
    wudf__module_destroy(module);
    return status;
  }
  if (module->tier == WUDF__TIER_FAST) wudf__tier_start(engine, module, bytes, size);
  *out = module;
  return 0;
}

/* Reads, checks and (unless `inspect`) compiles a module: the body of
 * wudf_module_load and wudf_module_inspect. */
static int wudf__module_open(struct wudf_engine* engine, const uint8_t* bytes,
                             size_t size, int inspect, struct wudf_module** out,
                             struct wudf_error* error) {
  return wudf__module_open_with(engine, bytes, size, inspect, NULL, NULL, out, error);
}

int wudf_module_load(struct wudf_engine* engine, const uint8_t* bytes,
                     size_t size, struct wudf_module** out,
                     struct wudf_error* error) {
  return wudf__module_open(engine, bytes, size, 0, out, error);
}

int wudf_module_inspect(struct wudf_engine* engine, const uint8_t* bytes,
                        size_t size, struct wudf_module** out,
                        struct wudf_error* error) {
  return wudf__module_open(engine, bytes, size, 1, out, error);
}

int wudf_module_validate(struct wudf_engine* engine, const uint8_t* bytes, size_t size,
                         struct wudf_error* error) {
  if (engine == NULL || (bytes == NULL && size != 0)) {
    return wudf__set_error(error, EINVAL, "engine and bytes must not be NULL");
  }
  struct wudf__wasm_info info;
  int status = wudf__wasm_read(bytes, size, &engine->limits, &info, error);
  if (status == 0) wudf__wasm_info_release(&info);
  return status;
}

/* Reads the file at `path` and opens it as wudf__module_open does. */
static int wudf__module_open_file(struct wudf_engine* engine, const char* path,
                                  int inspect, struct wudf_module** out,
                                  struct wudf_error* error) {
  if (engine == NULL || path == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "engine, path and out must not be NULL");
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int saved = errno;
    return wudf__set_error(error, saved == ENOENT ? ENOENT : EIO,
                           "cannot open %s: %s", path, strerror(saved));
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return wudf__set_error(error, EIO, "%s is not a regular file", path);
  }
  if ((uint64_t)info.st_size > engine->config.max_module_size) {
    close(fd);
    return wudf__set_error(error, EFBIG,
                           "module too large: %s has %lld bytes (limit %zu)",
                           path, (long long)info.st_size,
                           engine->config.max_module_size);
  }
  size_t size = (size_t)info.st_size;
  uint8_t* bytes = wudf__malloc(size ? size : 1);
  if (bytes == NULL) {
    close(fd);
    return wudf__set_error(error, ENOMEM, "out of memory reading %s", path);
  }
  size_t done = 0;
  while (done < size) {
    ssize_t got = read(fd, bytes + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      close(fd);
      wudf__free(bytes);
      return wudf__set_error(error, EIO, "cannot read %s", path);
    }
    done += (size_t)got;
  }
  close(fd);
  int status = wudf__module_open(engine, bytes, size, inspect, out, error);
  wudf__free(bytes);
  if (status != 0) wudf__error_prefix(error, status, "%s", path);
  return status;
}

int wudf_module_load_file(struct wudf_engine* engine, const char* path,
                          struct wudf_module** out, struct wudf_error* error) {
  return wudf__module_open_file(engine, path, 0, out, error);
}

int wudf_module_inspect_file(struct wudf_engine* engine, const char* path,
                             struct wudf_module** out, struct wudf_error* error) {
  return wudf__module_open_file(engine, path, 1, out, error);
}

void wudf__module_retain(struct wudf_module* module) {
  atomic_fetch_add(&module->references, 1);
}

void wudf__module_release(struct wudf_module* module) {
  if (atomic_fetch_sub(&module->references, 1) == 1) wudf__module_destroy(module);
}

struct wudf_engine* wudf__module_engine(const struct wudf_module* module) {
  return module->engine;
}

const struct wudf_export_info* wudf__module_export_info(const struct wudf_module* module,
                                                        uint32_t index) {
  return &module->exports[index];
}

int wudf__module_has_memory(const struct wudf_module* module) {
  return module->info.has_memory;
}

int wudf__module_custom_section(const struct wudf_module* module, const char* name,
                                size_t* offset, size_t* size) {
  const struct wudf__wasm_custom* custom = wudf__wasm_find_custom(&module->info, name);
  if (custom == NULL) return 0;
  *offset = custom->offset;
  *size = custom->size;
  return 1;
}

void wudf_module_free(struct wudf_module* module) {
  if (module != NULL) wudf__module_release(module);
}

int wudf_module_tier(const struct wudf_module* module) {
  if (module->glue == NULL) return WUDF_TIER_NONE;
  if (atomic_load_explicit(&module->optimized_glue, memory_order_acquire) != NULL) {
    return WUDF_TIER_OPTIMIZED;
  }
  return module->tier == WUDF__TIER_FAST ? WUDF_TIER_FAST : WUDF_TIER_OPTIMIZED;
}

uint32_t wudf_module_export_count(const struct wudf_module* module) {
  return module->export_count;
}

int wudf_module_export(const struct wudf_module* module, uint32_t index,
                       struct wudf_export_info* info, struct wudf_error* error) {
  if (index >= module->export_count) {
    return wudf__set_error(error, EINVAL, "export index %u out of range (%u exports)",
                           index, module->export_count);
  }
  if (info->struct_size != 0 && info->struct_size < sizeof(size_t)) {
    return wudf__set_error(error, EINVAL, "wudf_module_export: info->struct_size is %zu: set "
                           "it to sizeof(struct wudf_export_info)", info->struct_size);
  }
  struct wudf_export_info full = module->exports[index];
  full.struct_size = sizeof(full);
  wudf__versioned_write(info, &full, sizeof(full),
                        WUDF__SIZE_1(struct wudf_export_info, results));
  return 0;
}

int wudf_module_find_export(const struct wudf_module* module, const char* name,
                            uint32_t* index, struct wudf_error* error) {
  for (uint32_t i = 0; i < module->export_count; i++) {
    if (strcmp(module->exports[i].name, name) == 0) {
      *index = i;
      return 0;
    }
  }
  return wudf__set_error(error, ENOENT, "the module has no function export '%s'", name);
}
