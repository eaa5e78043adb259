/*
 * compile.c -- from validated wasm bytes to a loaded shared object.
 *
 * The pipeline: cache key -> cache lookup -> (on a miss, under a per-key file
 * lock) wasm2c -> generated glue -> C compiler -> atomic rename into the cache
 * -> dlopen(RTLD_NOW | RTLD_LOCAL) -> bind.
 *
 * The cache key is the SHA-256 of everything that determines the compiled
 * code: the module bytes, the generated glue, the shim texts and ABI version, the identities of
 * wasm2c and the compiler (path, size, modification time: no process is run
 * on a cache hit) and the flags. Entries live at CACHE/v1/XX/KEY.so, each
 * with its manifest KEY.manifest (cache.h: nothing is loaded before it is
 * verified, from directories only the user can write). A miss takes the
 * lock CACHE/v1/XX/KEY.lock (waiting a bounded time), looks again (another
 * process may have just finished), compiles in a private temporary directory
 * CACHE/v1/tmp/KEY.XXXXXX and renames the manifest and the result into
 * place, so readers only ever see complete files and two processes compiling
 * the same module at once do the work once.
 *
 * A verified object is dlopen()ed through /proc/self/fd/N of the descriptor
 * it was hashed through, so the file loaded is the file checked. The objects
 * loaded in the process are kept in a table by key (struct wudf__loaded):
 * a second module of the same key shares the object without reading the
 * cache again, and each object's descriptor stays open while it is loaded,
 * because glibc knows the object by that /proc/self/fd name and would hand
 * it out again for another file opened under the same number.
 *
 * The glue (see glue_abi.h) is one C file that #includes wasm2c's output and
 * the runtime shim, defines the WASI imports as forwarders to the host, and
 * describes the module in a `struct wudf__glue_module`.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "engine.h"
#include "sha256.h"

/* Flags every module is compiled with, before the user's. wasm2c's output
 * needs IEEE-exact floating point (-frounding-math -fsignaling-nans) and no
 * sibling-call optimisation; -fstack-clash-protection makes every frame touch
 * each page it allocates, so deep recursion always faults on the stack guard
 * (which the runtime turns into a stack-exhaustion trap). */
static const char* const wudf__required_cflags[] = {
    "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
    "-fno-optimize-sibling-calls", "-frounding-math", "-fsignaling-nans",
    "-fstack-clash-protection", "-fno-strict-aliasing", "-w",
    "-Wl,-Bsymbolic", "-Wl,-z,now", NULL};

/* Flags of the fast tier's compiler (tcc: docs/engine.md, "Tiers"); the
 * user's cflags are not passed to it. glue_abi.h supplies what tcc lacks
 * (the GCC builtins, stack probes instead of -fstack-clash-protection);
 * -Wl,-Bsymbolic binds the object's references to its own definitions
 * (tcc ignores -fvisibility=hidden), -lm links the math functions gcc
 * does not inline (linked for both tiers). */
static const char* const wudf__fast_cflags[] = {
    "-fPIC", "-shared", "-w", "-Wl,-Bsymbolic", NULL};

/* Linked after the glue, for both tiers: unoptimised code (tcc, -O0) calls
 * libm's ceil, floor, trunc, ..., and gcc -O2 calls sqrtf/sqrt for the
 * cases it does not inline (errno), so the object must not rely on the host
 * process having loaded libm. */
static const char wudf__link_libraries[] = "-lm";

/* The fast tier when fast_cc is not found: cc at -O0 (3-6 times faster to
 * compile than -O2, code 1.1-4 times slower: docs/engine.md, "Tiers"),
 * with the required flags otherwise. */
static const char* const wudf__fallback_cflags[] = {
    "-O0", "-fPIC", "-shared", "-fvisibility=hidden",
    "-fno-optimize-sibling-calls", "-frounding-math", "-fsignaling-nans",
    "-fstack-clash-protection", "-fno-strict-aliasing", "-w",
    "-Wl,-Bsymbolic", "-Wl,-z,now", NULL};

static const char* const* wudf__tier_cflags(const struct wudf_engine* engine, int tier) {
  if (tier != WUDF__TIER_FAST) return wudf__required_cflags;
  return engine->fast_fallback ? wudf__fallback_cflags : wudf__fast_cflags;
}

/* The compiler of `tier`. */
static char* wudf__tier_compiler(const struct wudf_engine* engine, int tier) {
  return tier == WUDF__TIER_FAST && !engine->fast_fallback ? engine->fast_cc : engine->cc;
}

/* ------------------------------------------------------------- text builder */

struct wudf__text {
  char* data;
  size_t size;
  size_t capacity;
  int failed;
};

static void wudf__text_append(struct wudf__text* text, const char* format, ...)
    WUDF__PRINTF(2, 3);

static void wudf__text_append(struct wudf__text* text, const char* format, ...) {
  if (text->failed) return;
  for (;;) {
    va_list args;
    va_start(args, format);
    size_t room = text->capacity - text->size;
    int needed = vsnprintf(text->data ? text->data + text->size : NULL, room,
                           format, args);
    va_end(args);
    if (needed < 0) {
      text->failed = 1;
      return;
    }
    if ((size_t)needed < room) {
      text->size += (size_t)needed;
      return;
    }
    size_t capacity = text->capacity ? text->capacity * 2 : 4096;
    while (capacity - text->size <= (size_t)needed) capacity *= 2;
    char* grown = wudf__realloc(text->data, capacity);
    if (grown == NULL) {
      text->failed = 1;
      return;
    }
    text->data = grown;
    text->capacity = capacity;
  }
}

/* ---------------------------------------------------------------- naming */

int wudf__mangle(const char* name, char* out, size_t capacity) {
  /* wasm2c 1.0.32's CWriter::MangleName: "Z_", then letters and digits other
   * than 'Z' and underscores as they are, any other byte as 'Z' and two
   * uppercase hex digits. */
  size_t used = 0;
  if (capacity < 3) return ENAMETOOLONG;
  out[used++] = 'Z';
  out[used++] = '_';
  for (const unsigned char* c = (const unsigned char*)name; *c != '\0'; c++) {
    int plain = ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z' && *c != 'Z') ||
                 (*c >= '0' && *c <= '9') || *c == '_');
    if (used + (plain ? 1 : 3) >= capacity) return ENAMETOOLONG;
    if (plain) {
      out[used++] = (char)*c;
    } else {
      snprintf(out + used, 4, "Z%02X", *c);
      used += 3;
    }
  }
  out[used] = '\0';
  return 0;
}

/* The letter wasm2c uses for a value type in multi-value struct names, or 0
 * for types an export trampoline cannot carry (references). */
static char wudf__type_letter(uint8_t type) {
  switch (type) {
    case WUDF__WASM_I32: return 'i';
    case WUDF__WASM_I64: return 'j';
    case WUDF__WASM_F32: return 'f';
    case WUDF__WASM_F64: return 'd';
    default: return 0;
  }
}

static const char* wudf__c_type(uint8_t type) {
  switch (type) {
    case WUDF__WASM_I32: return "u32";
    case WUDF__WASM_I64: return "u64";
    case WUDF__WASM_F32: return "f32";
    default: return "f64";
  }
}

/* Appends `name` as a C string literal, every byte outside [A-Za-z0-9_ ]
 * octal-escaped. */
static void wudf__append_c_string(struct wudf__text* text, const char* name) {
  wudf__text_append(text, "\"");
  for (const unsigned char* c = (const unsigned char*)name; *c != '\0'; c++) {
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
        (*c >= '0' && *c <= '9') || *c == '_' || *c == ' ') {
      wudf__text_append(text, "%c", *c);
    } else {
      wudf__text_append(text, "\\%03o", *c);
    }
  }
  wudf__text_append(text, "\"");
}

int wudf__callable_export(const struct wudf__wasm_info* info,
                                 const struct wudf__wasm_export* export) {
  if (export->kind != WUDF__EXTERN_FUNC) return 0;
  const struct wudf__wasm_functype* type =
      &info->types[info->function_types[export->index]];
  for (uint32_t i = 0; i < type->param_count; i++) {
    if (!wudf__type_letter(type->params[i])) return 0;
  }
  for (uint32_t i = 0; i < type->result_count; i++) {
    if (!wudf__type_letter(type->results[i])) return 0;
  }
  return 1;
}

/* ------------------------------------------------------------------ glue */

/* Emits the forwarder of one WASI import (the engine checked, when the module
 * was read, that it names a preview1 function with the right signature). */
static void wudf__emit_wasi_import(struct wudf__text* text, int function) {
  const char* signature = wudf__wasi_signature(function);
  const char* colon = strchr(signature, ':');
  int returns = colon[1] != '\0';
  char mangled[256];
  wudf__mangle(wudf__wasi_name(function), mangled, sizeof(mangled));
  wudf__text_append(text, "%s Z_wasi_snapshot_preview1%s(struct Z_wasi_snapshot_preview1_instance_t* context",
                    returns ? "u32" : "void", mangled);
  for (const char* p = signature; p < colon; p++) {
    wudf__text_append(text, ", %s a%d", *p == 'j' ? "u64" : "u32",
                      (int)(p - signature));
  }
  /* Room for the longest preview1 signature (path_open: 9), zero-filled. */
  wudf__text_append(text, ") {\n  uint64_t args[10] = {");
  for (const char* p = signature; p < colon; p++) {
    wudf__text_append(text, "%sa%d", p == signature ? "" : ", ", (int)(p - signature));
  }
  wudf__text_append(text, "%s};\n  %swudf__rt->wasi_call(context, %d, args);\n}\n\n",
                    colon == signature ? "0" : "",
                    returns ? "return " : "(void)", function);
}

/* Emits the trampoline of export `number` (index `export_index`). */
static void wudf__emit_export(struct wudf__text* text,
                              const struct wudf__wasm_info* info,
                              const struct wudf__wasm_export* export,
                              uint32_t number) {
  const struct wudf__wasm_functype* type =
      &info->types[info->function_types[export->index]];
  char mangled[1024];
  wudf__mangle(export->name, mangled, sizeof(mangled));
  wudf__text_append(text,
                    "static void wudf__export_%u(void* instance, const uint64_t* args, uint64_t* results) {\n  ",
                    number);
  if (type->result_count == 1) {
    wudf__text_append(text, "%s result = ", wudf__c_type(type->results[0]));
  } else if (type->result_count > 1) {
    wudf__text_append(text, "struct wasm_multi_");
    for (uint32_t i = 0; i < type->result_count; i++) {
      wudf__text_append(text, "%c", wudf__type_letter(type->results[i]));
    }
    wudf__text_append(text, " result = ");
  }
  wudf__text_append(text, "Z_m%s((Z_m_instance_t*)instance", mangled);
  for (uint32_t i = 0; i < type->param_count; i++) {
    switch (type->params[i]) {
      case WUDF__WASM_I32: wudf__text_append(text, ", (u32)args[%u]", i); break;
      case WUDF__WASM_I64: wudf__text_append(text, ", (u64)args[%u]", i); break;
      case WUDF__WASM_F32: wudf__text_append(text, ", wudf__f32_from_bits(args[%u])", i); break;
      default: wudf__text_append(text, ", wudf__f64_from_bits(args[%u])", i); break;
    }
  }
  wudf__text_append(text, ");\n");
  for (uint32_t i = 0; i < type->result_count; i++) {
    char field[32];
    if (type->result_count == 1) {
      snprintf(field, sizeof(field), "result");
    } else {
      snprintf(field, sizeof(field), "result.%c%u", wudf__type_letter(type->results[i]), i);
    }
    switch (type->results[i]) {
      case WUDF__WASM_I32: wudf__text_append(text, "  results[%u] = (uint64_t)%s;\n", i, field); break;
      case WUDF__WASM_I64: wudf__text_append(text, "  results[%u] = %s;\n", i, field); break;
      case WUDF__WASM_F32: wudf__text_append(text, "  results[%u] = wudf__f32_bits(%s);\n", i, field); break;
      default: wudf__text_append(text, "  results[%u] = wudf__f64_bits(%s);\n", i, field); break;
    }
  }
  wudf__text_append(text, "  (void)args;\n  (void)results;\n}\n\n");
}

/* Writes the glue translation unit for `info` into `text`. */
static void wudf__generate_glue(struct wudf__text* text,
                                const struct wudf__wasm_info* info,
                                const char* key) {
  int imports_wasi = 0;
  wudf__text_append(text,
                    "/* Generated by libwasmudf: the glue of one compiled module. */\n"
                    "#include \"glue_abi.h\"\n#include \"module.c\"\n#include \"glue_shim.c\"\n\n");
  /* WASI forwarders, once per distinct function. */
  unsigned char emitted[WUDF__WASI_FUNCTION_COUNT] = {0};
  for (uint32_t i = 0; i < info->import_count; i++) {
    const struct wudf__wasm_import* import = &info->imports[i];
    if (import->kind != WUDF__EXTERN_FUNC) continue;
    imports_wasi = 1;
    int function = wudf__wasi_find(import->name);
    if (function < 0 || emitted[function]) continue;
    emitted[function] = 1;
    wudf__emit_wasi_import(text, function);
  }
  uint32_t callable = 0;
  for (uint32_t i = 0; i < info->export_count; i++) {
    if (wudf__callable_export(info, &info->exports[i])) {
      wudf__emit_export(text, info, &info->exports[i], callable++);
    }
  }
  wudf__text_append(text, "static const struct wudf__glue_export wudf__exports[%u] = {\n",
                    callable ? callable : 1);
  callable = 0;
  for (uint32_t i = 0; i < info->export_count; i++) {
    const struct wudf__wasm_export* export = &info->exports[i];
    if (!wudf__callable_export(info, export)) continue;
    const struct wudf__wasm_functype* type =
        &info->types[info->function_types[export->index]];
    wudf__text_append(text, "  {");
    wudf__append_c_string(text, export->name);
    wudf__text_append(text, ", \"");
    for (uint32_t p = 0; p < type->param_count; p++) {
      wudf__text_append(text, "%c", wudf__type_letter(type->params[p]));
    }
    wudf__text_append(text, ":");
    for (uint32_t r = 0; r < type->result_count; r++) {
      wudf__text_append(text, "%c", wudf__type_letter(type->results[r]));
    }
    wudf__text_append(text, "\", wudf__export_%u},\n", callable++);
  }
  if (callable == 0) wudf__text_append(text, "  {0, 0, 0},\n");
  wudf__text_append(text, "};\n\n");
  /* Every defined function's address, by index (wasm_prepare.c names
   * function i "wudf_f<i>", which wasm2c writes as w2c_wudf_f<i>). */
  uint32_t defined = info->function_count - info->imported_function_count;
  wudf__text_append(text, "static const wasm_rt_function_ptr_t wudf__functions[%u] = {\n",
                    defined ? defined : 1);
  for (uint32_t i = info->imported_function_count; i < info->function_count; i++) {
    wudf__text_append(text, "  (wasm_rt_function_ptr_t)&w2c_wudf_f%u,\n", i);
  }
  if (defined == 0) wudf__text_append(text, "  0,\n");
  wudf__text_append(text, "};\n\n");
  wudf__text_append(text,
                    "static void wudf__instantiate(void* instance, void* wasi) {\n"
                    "  (void)wasi;\n  Z_m_instantiate((Z_m_instance_t*)instance%s);\n}\n\n",
                    imports_wasi ? ", (struct Z_wasi_snapshot_preview1_instance_t*)wasi" : "");
  wudf__text_append(text,
                    "static void wudf__free_instance(void* instance) {\n"
                    "  Z_m_free((Z_m_instance_t*)instance);\n}\n\n"
                    "static const struct wudf__glue_module wudf__module = {\n"
                    "  WUDF__GLUE_ABI_VERSION, \"%s\", sizeof(Z_m_instance_t),\n"
                    "  Z_m_init_module, wudf__instantiate, wudf__free_instance,\n"
                    "  %u, wudf__exports, %u, %u, wudf__functions};\n\n"
                    "__attribute__((visibility(\"default\")))\n"
                    "const struct wudf__glue_module* wudf_glue_bind(const struct wudf__rt_api* runtime) {\n"
                    "  if (runtime->abi_version != WUDF__GLUE_ABI_VERSION) return NULL;\n"
                    "  wudf__rt = runtime;\n  return &wudf__module;\n}\n",
                    key, callable, info->imported_function_count, defined);
}

/* ----------------------------------------------------------------- files */

static int wudf__write_file(const char* path, const void* data, size_t size,
                            struct wudf_error* error) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return wudf__set_error(error, EIO, "cannot create %s: %s", path,
                           strerror(errno));
  }
  const char* bytes = data;
  while (size > 0) {
    ssize_t written = write(fd, bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      return wudf__set_error(error, EIO, "cannot write %s: %s", path,
                             strerror(saved));
    }
    bytes += written;
    size -= (size_t)written;
  }
  if (close(fd) != 0) {
    return wudf__set_error(error, EIO, "cannot write %s: %s", path,
                           strerror(errno));
  }
  return 0;
}

/* Makes wasm2c's output at `path` right under tcc: tcc compiles a float's
 * unary minus as a subtraction from zero, which leaves a NaN's sign as it
 * is, where f32.neg and f64.neg flip it (the spec tests check). wasm2c
 * writes both as "x = -(y);", and nothing else in its output has " = -(",
 * so each is patched in place, same length, to " =W_(", a call of
 * glue_abi.h's sign-flipping W_ under __TINYC__. */
static int wudf__patch_for_tcc(const char* path, struct wudf_error* error) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  struct stat info;
  if (fd < 0 || fstat(fd, &info) != 0) {
    if (fd >= 0) close(fd);
    return wudf__set_error(error, EIO, "cannot open %s: %s", path, strerror(errno));
  }
  size_t size = (size_t)info.st_size;
  if (size == 0) {
    close(fd);
    return 0;
  }
  char* text = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (text == MAP_FAILED) {
    return wudf__set_error(error, EIO, "cannot map %s: %s", path, strerror(errno));
  }
  static const char pattern[] = " = -(";
  const size_t length = sizeof(pattern) - 1;
  for (char* at = text; (at = memmem(at, size - (size_t)(at - text), pattern, length)) != NULL;
       at += length) {
    memcpy(at, " =W_(", length);
  }
  munmap(text, size);
  return 0;
}

/* Removes the temporary directory and the files the pipeline put in it. */
static void wudf__remove_work_directory(const char* directory) {
  static const char* const names[] = {"module.wasm", "module.c", "module.h",
                                      "glue.c", "glue_abi.h", "glue_shim.c",
                                      "module.so", WUDF__MANIFEST_NAME,
                                      "wasm2c.log", "cc.log", "deps.d",
                                      "wasm2c.version"};
  char path[WUDF__PATH_MAX + 32];
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s", directory, names[i]);
    unlink(path);
  }
  rmdir(directory);
}

/* ------------------------------------------------------------ key and load */

static void wudf__hash_identity(struct wudf__sha256* hash,
                                const struct wudf__tool_identity* identity) {
  wudf__sha256_update(hash, identity->path, strlen(identity->path) + 1);
  int64_t numbers[3] = {(int64_t)identity->size,
                        (int64_t)identity->modified.tv_sec,
                        (int64_t)identity->modified.tv_nsec};
  wudf__sha256_update(hash, numbers, sizeof(numbers));
}

/* Computes the key of `bytes` (read into `info`). The glue is part of the
 * input: it is generated here with an empty key field and hashed, so any
 * change to the generator invalidates the entries it made. Returns 0 or
 * ENOMEM. */
static int wudf__cache_key(const struct wudf_engine* engine, int tier,
                           const uint8_t* bytes, size_t size,
                           const struct wudf__wasm_info* info, char key[65]) {
  struct wudf__text glue = {0};
  wudf__generate_glue(&glue, info, "");
  if (glue.failed) {
    wudf__free(glue.data);
    return ENOMEM;
  }
  struct wudf__sha256 hash;
  wudf__sha256_init(&hash);
  static const char domain[] = "wasmudf compile cache v1";
  wudf__sha256_update(&hash, domain, sizeof(domain));
  wudf__sha256_update(&hash, WUDF_VERSION, sizeof(WUDF_VERSION));
  uint32_t abi = WUDF__GLUE_ABI_VERSION;
  wudf__sha256_update(&hash, &abi, sizeof(abi));
  wudf__sha256_update(&hash, wudf__glue_abi_text, strlen(wudf__glue_abi_text) + 1);
  wudf__sha256_update(&hash, wudf__glue_shim_text, strlen(wudf__glue_shim_text) + 1);
  wudf__hash_identity(&hash, &engine->wasm2c_identity);
  if (tier == WUDF__TIER_FAST) {
    /* A separate key: another compiler, other flags, a tier of its own. */
    static const char fast[] = "fast tier";
    wudf__sha256_update(&hash, fast, sizeof(fast));
    wudf__hash_identity(&hash, engine->fast_fallback ? &engine->cc_identity
                                                     : &engine->fast_cc_identity);
  } else {
    wudf__hash_identity(&hash, &engine->cc_identity);
  }
  for (const char* const* flag = wudf__tier_cflags(engine, tier); *flag; flag++) {
    wudf__sha256_update(&hash, *flag, strlen(*flag) + 1);
  }
  for (char** flag = engine->cflags; tier == WUDF__TIER_OPTIMIZED && *flag; flag++) {
    wudf__sha256_update(&hash, *flag, strlen(*flag) + 1);
  }
  wudf__sha256_update(&hash, wudf__link_libraries, sizeof(wudf__link_libraries));
  uint64_t length = glue.size;
  wudf__sha256_update(&hash, &length, sizeof(length));
  wudf__sha256_update(&hash, glue.data, glue.size);
  wudf__free(glue.data);
  length = size;
  wudf__sha256_update(&hash, &length, sizeof(length));
  wudf__sha256_update(&hash, bytes, size);
  wudf__sha256_hex(&hash, key);
  return 0;
}

/* A compiled object loaded in this process. */
struct wudf__loaded {
  char key[65];
  int fd;            /* the verified file, open while the object is loaded */
  void* library;     /* dlopen handle */
  const struct wudf__glue_module* glue;
  unsigned references; /* modules using it */
  struct wudf__loaded* next;
};

/* Guards the table of loaded objects and the binding of new ones (which
 * runs their type registration). */
static pthread_mutex_t wudf__bind_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wudf__loaded* wudf__loaded_objects;

void wudf__loader_fork(int stage) {
  if (stage == WUDF__FORK_PREPARE) {
    pthread_mutex_lock(&wudf__bind_lock);
  } else {
    pthread_mutex_unlock(&wudf__bind_lock);
  }
}

static void wudf__run_init_module(void* closure) {
  const struct wudf__glue_module* glue = closure;
  glue->init_module();
}

/* Gives `module` the object of `key` if this process has it loaded. Called
 * with the bind lock held. */
static int wudf__attach_loaded(const char* key, struct wudf_module* module) {
  for (struct wudf__loaded* loaded = wudf__loaded_objects; loaded != NULL;
       loaded = loaded->next) {
    if (strcmp(loaded->key, key) == 0) {
      loaded->references++;
      module->loaded = loaded;
      module->glue = loaded->glue;
      return 1;
    }
  }
  return 0;
}

/* Gives `module` the object of `key` if another module of this process has
 * it loaded: nothing to read from the cache. */
static int wudf__find_loaded(const char* key, struct wudf_module* module) {
  pthread_mutex_lock(&wudf__bind_lock);
  int found = wudf__attach_loaded(key, module);
  pthread_mutex_unlock(&wudf__bind_lock);
  return found;
}

/* Loads and binds the verified object open at `fd` (`path` in messages),
 * which it takes: kept open while the object is loaded, closed otherwise.
 * Returns 0; ENOEXEC when it is not a usable object for `key` (the caller
 * compiles it again); EACCES when the system refuses to map it for
 * execution (a noexec mount: no compile would help); ENOMEM. */
static int wudf__load_verified(int fd, const char* path, const char* cache_dir,
                               const char* key, struct wudf_module* module,
                               struct wudf_error* error) {
  pthread_mutex_lock(&wudf__bind_lock);
  if (wudf__attach_loaded(key, module)) {
    pthread_mutex_unlock(&wudf__bind_lock);
    close(fd);
    return 0;
  }
  struct wudf__loaded* loaded = wudf__calloc(1, sizeof(*loaded));
  if (loaded == NULL) {
    pthread_mutex_unlock(&wudf__bind_lock);
    close(fd);
    return wudf__set_error(error, ENOMEM, "out of memory loading %s", path);
  }
  char name[64];
  snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
  void* library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL && access("/proc/self/fd", X_OK) != 0) {
    /* No /proc: load by path. The directories were checked to be writable by
     * this user only, so the file cannot have been swapped by anyone else
     * since it was verified. */
    library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  }
  int status = 0;
  if (library == NULL) {
    const char* reason = dlerror();
    if (reason == NULL) reason = "unknown error";
    status = wudf__cache_check_exec(fd, cache_dir, error);
    if (status == 0 && strstr(reason, "failed to map segment") != NULL &&
        (strstr(reason, "Operation not permitted") != NULL ||
         strstr(reason, "Permission denied") != NULL)) {
      status = wudf__set_error(error, EACCES,
                               "the system refuses to map %s for execution (a "
                               "noexec mount or a security policy): %s",
                               path, reason);
    }
    if (status == 0) {
      status = wudf__set_error(error, ENOEXEC, "cannot load %s: %s", path, reason);
    }
  } else {
    wudf__glue_bind_fn bind;
    *(void**)&bind = dlsym(library, WUDF__GLUE_BIND_SYMBOL);
    const struct wudf__glue_module* glue = bind ? bind(wudf__rt_api_get()) : NULL;
    if (glue == NULL || glue->abi_version != WUDF__GLUE_ABI_VERSION ||
        strcmp(glue->cache_key, key) != 0) {
      status = wudf__set_error(error, ENOEXEC, "%s is not the compiled module for key %s",
                               path, key);
    } else {
      int trap = wudf__rt_run(NULL, wudf__run_init_module, (void*)glue, 0);
      if (trap != 0) {
        status = wudf__set_error(error, trap < 0 ? -trap : ENOMEM,
                                 "cannot initialise the compiled module: %s",
                                 trap < 0 ? wudf__rt_refusal(-trap)
                                          : wudf_trap_name(trap));
      }
    }
    if (status == 0) {
      memcpy(loaded->key, key, sizeof(loaded->key));
      loaded->fd = fd;
      loaded->library = library;
      loaded->glue = glue;
      loaded->references = 1;
      loaded->next = wudf__loaded_objects;
      wudf__loaded_objects = loaded;
      module->loaded = loaded;
      module->glue = glue;
    } else {
      dlclose(library);
    }
  }
  pthread_mutex_unlock(&wudf__bind_lock);
  if (status != 0) {
    wudf__free(loaded);
    close(fd);
  }
  return status;
}

void wudf__compile_unload(struct wudf_module* module) {
  struct wudf__loaded* loaded = module->loaded;
  if (loaded == NULL) return;
  module->loaded = NULL;
  pthread_mutex_lock(&wudf__bind_lock);
  if (--loaded->references == 0) {
    for (struct wudf__loaded** link = &wudf__loaded_objects; *link != NULL;
         link = &(*link)->next) {
      if (*link == loaded) {
        *link = loaded->next;
        break;
      }
    }
    dlclose(loaded->library);
    close(loaded->fd);
    wudf__free(loaded);
  }
  pthread_mutex_unlock(&wudf__bind_lock);
}

/* Loads the entry of `key` from the cache directory open at `directory` if
 * it is there and verified. Returns 0, ENOENT (no usable entry: compile it),
 * or a failure that compiling would not mend (EACCES, ENOMEM). */
static int wudf__load_entry(struct wudf_engine* engine, int directory,
                            const char* so_path, const char* key,
                            struct wudf_module* module, struct wudf_error* error) {
  int fd;
  if (wudf__cache_open_entry(directory, key, &fd) != 0) return ENOENT;
  int status = wudf__load_verified(fd, so_path, engine->cache_dir, key, module, error);
  return status == ENOEXEC ? ENOENT : status;
}

/* The limits of one compile under the engine's configuration, its deadline
 * starting now. */
static void wudf__build_limits(const struct wudf_engine* engine,
                               struct wudf__process_limits* limits) {
  memset(limits, 0, sizeof(*limits));
  limits->timeout_ms = engine->config.compile_timeout_ms;
  limits->cpu_seconds = engine->config.compile_cpu_seconds;
  limits->memory_bytes = engine->config.compile_memory_limit;
  limits->file_bytes = engine->config.compile_file_limit;
  if (limits->timeout_ms != 0) {
    clock_gettime(CLOCK_MONOTONIC, &limits->deadline);
    uint64_t seconds = limits->timeout_ms / 1000, nanoseconds =
        (limits->timeout_ms % 1000) * 1000000u + (uint64_t)limits->deadline.tv_nsec;
    limits->deadline.tv_sec += (time_t)(seconds + nanoseconds / 1000000000u);
    limits->deadline.tv_nsec = (long)(nanoseconds % 1000000000u);
    limits->has_deadline = 1;
  }
}

/* Runs wasm2c and the compiler in `work` under the engine's compile limits
 * and leaves work/module.so. `*tool_failed` tells whether a failure was a
 * tool's (which the same input would meet again) rather than this host's.
 * `extra_flags` (NULL-terminated, may be NULL) go to the compiler after the
 * others (the artifact build asks for a dependency file). */
static int wudf__build(struct wudf_engine* engine, int tier, const char* work,
                       const uint8_t* bytes, size_t size,
                       const struct wudf__wasm_info* info, const char* key,
                       const char* const* extra_flags,
                       int* tool_failed, struct wudf_error* error) {
  *tool_failed = 0;
  /* One deadline for wasm2c and cc together. */
  struct wudf__process_limits limits;
  wudf__build_limits(engine, &limits);
  limits.cancel = wudf__tier_cancel_flag(engine);
  /* `work` is shorter than WUDF__PATH_MAX; every file name below fits in 32. */
  char wasm_path[WUDF__PATH_MAX + 32], c_path[WUDF__PATH_MAX + 32];
  char glue_path[WUDF__PATH_MAX + 32], so_path[WUDF__PATH_MAX + 32];
  char log_path[WUDF__PATH_MAX + 32];
  snprintf(wasm_path, sizeof(wasm_path), "%s/module.wasm", work);
  snprintf(c_path, sizeof(c_path), "%s/module.c", work);
  snprintf(glue_path, sizeof(glue_path), "%s/glue.c", work);
  snprintf(so_path, sizeof(so_path), "%s/module.so", work);

  uint8_t* prepared;
  size_t prepared_size;
  if (wudf__wasm_prepare(bytes, size, info, &prepared, &prepared_size) != 0) {
    return wudf__set_error(error, ENOMEM, "out of memory preparing the module for wasm2c");
  }
  int status = wudf__write_file(wasm_path, prepared, prepared_size, error);
  wudf__free(prepared);
  if (status != 0) return status;

  snprintf(log_path, sizeof(log_path), "%s/wasm2c.log", work);
  char* wasm2c_argv[] = {engine->wasm2c, wasm_path, "-n", "m", "-o", c_path, NULL};
  status = wudf__process_run(wasm2c_argv, log_path, &limits, tool_failed, error);
  if (status != 0) return status;
  if (tier == WUDF__TIER_FAST && !engine->fast_fallback) {
    status = wudf__patch_for_tcc(c_path, error);
    if (status != 0) return status;
  }

  struct wudf__text glue = {0};
  wudf__generate_glue(&glue, info, key);
  if (glue.failed) {
    wudf__free(glue.data);
    return wudf__set_error(error, ENOMEM, "out of memory generating the glue");
  }
  char abi_path[WUDF__PATH_MAX + 32], shim_path[WUDF__PATH_MAX + 32];
  snprintf(abi_path, sizeof(abi_path), "%s/glue_abi.h", work);
  snprintf(shim_path, sizeof(shim_path), "%s/glue_shim.c", work);
  status = wudf__write_file(glue_path, glue.data, glue.size, error);
  wudf__free(glue.data);
  if (status == 0) {
    status = wudf__write_file(abi_path, wudf__glue_abi_text,
                              strlen(wudf__glue_abi_text), error);
  }
  if (status == 0) {
    status = wudf__write_file(shim_path, wudf__glue_shim_text,
                              strlen(wudf__glue_shim_text), error);
  }
  if (status != 0) return status;

  /* cc REQUIRED... USER... -I work -o module.so glue.c */
  const char* const* required = wudf__tier_cflags(engine, tier);
  size_t user_count = 0;
  if (tier == WUDF__TIER_OPTIMIZED) {
    while (engine->cflags[user_count]) user_count++;
  }
  size_t required_count = 0;
  while (required[required_count]) required_count++;
  size_t extra_count = 0;
  while (extra_flags != NULL && extra_flags[extra_count]) extra_count++;
  char** cc_argv = wudf__calloc(required_count + user_count + extra_count + 8, sizeof(char*));
  if (cc_argv == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  size_t n = 0;
  char include[WUDF__PATH_MAX + 8];
  snprintf(include, sizeof(include), "-I%s", work);
  cc_argv[n++] = wudf__tier_compiler(engine, tier);
  for (size_t i = 0; i < required_count; i++) cc_argv[n++] = (char*)required[i];
  for (size_t i = 0; i < user_count; i++) cc_argv[n++] = engine->cflags[i];
  for (size_t i = 0; i < extra_count; i++) cc_argv[n++] = (char*)extra_flags[i];
  cc_argv[n++] = include;
  cc_argv[n++] = "-o";
  cc_argv[n++] = so_path;
  cc_argv[n++] = glue_path;
  cc_argv[n++] = (char*)wudf__link_libraries;
  cc_argv[n] = NULL;
  snprintf(log_path, sizeof(log_path), "%s/cc.log", work);
  status = wudf__process_run(cc_argv, log_path, &limits, tool_failed, error);
  wudf__free(cc_argv);
  return status;
}

/* Gives `module` (its `loaded` and `glue`) the object of `key` if this
 * process has it or the cache holds a verified entry, without compiling.
 * Returns 0, ENOENT, or a failure compiling would not mend. */
static int wudf__compile_find(struct wudf_engine* engine, const char* key,
                              const char* so_path, struct wudf_module* module,
                              struct wudf_error* error) {
  if (wudf__find_loaded(key, module)) {
    atomic_fetch_add(&engine->cache_hits, 1);
    return 0;
  }
  int directory;
  int status = wudf__cache_open_tree(engine->cache_dir, key, 0, &directory, error);
  if (status == 0) {
    status = wudf__load_entry(engine, directory, so_path, key, module, error);
    close(directory);
    if (status == 0) atomic_fetch_add(&engine->cache_hits, 1);
  }
  return status;
}

/* The cache paths of `key`. The engine keeps cache_dir under
 * WUDF__CACHE_DIR_MAX, so nothing here is truncated. */
static void wudf__entry_path(const struct wudf_engine* engine, const char* key,
                             const char* suffix, char* path, size_t capacity) {
  snprintf(path, capacity, "%s/v1/%.2s/%s%s", engine->cache_dir, key, key, suffix);
}

/* Produces the object of `tier` for `bytes` (read into `info`) into
 * `module`'s `loaded` and `glue`: from this process, the cache, or a
 * compile stored in the cache. */
static int wudf__compile_tier(struct wudf_engine* engine, int tier,
                              const uint8_t* bytes, size_t size,
                              const struct wudf__wasm_info* info,
                              struct wudf_module* module, struct wudf_error* error) {
  char key[65];
  if (wudf__cache_key(engine, tier, bytes, size, info, key) != 0) {
    return wudf__set_error(error, ENOMEM, "out of memory computing the cache key");
  }
  char so_path[WUDF__PATH_MAX + 80], lock_path[WUDF__PATH_MAX + 80];
  char marker_path[WUDF__PATH_MAX + 80];
  wudf__entry_path(engine, key, ".so", so_path, sizeof(so_path));
  wudf__entry_path(engine, key, ".lock", lock_path, sizeof(lock_path));
  wudf__entry_path(engine, key, ".failed", marker_path, sizeof(marker_path));

  int status = wudf__compile_find(engine, key, so_path, module, error);
  if (status != ENOENT) return status;
  int directory;
  /* The same bytes failed before: refuse at once (failures.c). */
  status = wudf__failure_check(engine, key, marker_path, error);
  if (status != 0) return status;

  /* A miss: compile it, once for all processes, under the key's lock. */
  status = wudf__cache_open_tree(engine->cache_dir, key, 1, &directory, error);
  if (status != 0) return status;
  int work_parent = -1, lock = -1;
  status = wudf__cache_check_exec(directory, engine->cache_dir, error);
  if (status == 0) status = wudf__cache_open_work_parent(engine->cache_dir, &work_parent, error);
  if (status == 0) status = wudf__cache_lock(lock_path, engine->lock_timeout_ms, &lock, error);
  if (status == 0) {
    /* Another process may have compiled it while we waited for the lock, */
    status = wudf__load_entry(engine, directory, so_path, key, module, error);
    if (status == 0) {
      wudf__cache_unlock(lock_path, lock);
      close(work_parent);
      close(directory);
      atomic_fetch_add(&engine->cache_hits, 1);
      return 0;
    }
    /* or failed to compile it. */
    if (status == ENOENT) status = wudf__failure_check(engine, key, marker_path, error);
  }
  if (status == 0) wudf__cache_clean(engine->cache_dir, work_parent, directory, key);

  char work[WUDF__PATH_MAX];
  if (status == 0) {
    snprintf(work, sizeof(work), "%s/v1/tmp/%s.XXXXXX", engine->cache_dir, key);
    if (mkdtemp(work) == NULL) {
      status = wudf__set_error(error, EIO, "cannot create %s: %s", work,
                               strerror(errno));
    } else {
      int tool_failed = 0;
      struct wudf_error build_error;
      status = wudf__build(engine, tier, work, bytes, size, info, key, NULL, &tool_failed,
                           &build_error);
      if (status != 0) {
        if (tool_failed) {
          wudf__failure_remember(engine, key, marker_path, status, build_error.message);
        }
        if (error != NULL) *error = build_error;
      } else {
        wudf__failure_forget(engine, key, marker_path);
      }
      if (status == 0) status = wudf__cache_write_manifest(work, key, error);
      if (status == 0) {
        char built[WUDF__PATH_MAX + 32], manifest[WUDF__PATH_MAX + 80];
        snprintf(built, sizeof(built), "%s/%s", work, WUDF__MANIFEST_NAME);
        snprintf(manifest, sizeof(manifest), "%s/v1/%.2s/%s.manifest",
                 engine->cache_dir, key, key);
        if (rename(built, manifest) != 0) {
          status = wudf__set_error(error, EIO, "cannot move %s to %s: %s", built,
                                   manifest, strerror(errno));
        }
        snprintf(built, sizeof(built), "%s/module.so", work);
        if (status == 0 && rename(built, so_path) != 0) {
          status = wudf__set_error(error, EIO, "cannot move %s to %s: %s", built,
                                   so_path, strerror(errno));
        }
      }
      wudf__remove_work_directory(work);
    }
  }
  if (lock >= 0) wudf__cache_unlock(lock_path, lock);
  if (work_parent >= 0) close(work_parent);
  if (status == 0) {
    int fd;
    if (wudf__cache_open_entry(directory, key, &fd) != 0) {
      status = wudf__set_error(error, EIO, "the compiled module %s does not match "
                               "the manifest just written for it", so_path);
    } else {
      status = wudf__load_verified(fd, so_path, engine->cache_dir, key, module, error);
    }
    if (status == 0) {
      atomic_fetch_add(tier == WUDF__TIER_FAST ? &engine->fast_compiles : &engine->compiles, 1);
    }
  }
  close(directory);
  return status;
}

int wudf__compile_load(struct wudf_engine* engine, const uint8_t* bytes,
                       size_t size, struct wudf_module* module,
                       struct wudf_error* error) {
  module->tier = WUDF__TIER_OPTIMIZED;
  if (!engine->config.fast_tier) {
    return wudf__compile_tier(engine, WUDF__TIER_OPTIMIZED, bytes, size, &module->info,
                              module, error);
  }
  /* The optimised object, when this process or the cache has it already. */
  char key[65], so_path[WUDF__PATH_MAX + 80];
  if (wudf__cache_key(engine, WUDF__TIER_OPTIMIZED, bytes, size, &module->info, key) != 0) {
    return wudf__set_error(error, ENOMEM, "out of memory computing the cache key");
  }
  wudf__entry_path(engine, key, ".so", so_path, sizeof(so_path));
  int status = wudf__compile_find(engine, key, so_path, module, error);
  if (status != ENOENT) return status;
  /* Otherwise the fast tier now, the optimised build in the background. A
   * fast tier that fails (no tcc, a module it cannot compile) leaves the
   * optimised compile to this load. */
  struct wudf_error fast_error;
  status = wudf__compile_tier(engine, WUDF__TIER_FAST, bytes, size, &module->info, module,
                              &fast_error);
  if (status != 0) {
    atomic_fetch_add(&engine->fast_failures, 1);
    return wudf__compile_tier(engine, WUDF__TIER_OPTIMIZED, bytes, size, &module->info,
                              module, error);
  }
  module->tier = WUDF__TIER_FAST;
  return 0;
}

int wudf__compile_optimized(struct wudf_engine* engine, const uint8_t* bytes, size_t size,
                            const struct wudf__wasm_info* info,
                            struct wudf_module* holder, struct wudf_error* error) {
  return wudf__compile_tier(engine, WUDF__TIER_OPTIMIZED, bytes, size, info, holder, error);
}

/* ------------------------------------------------------------- artifacts */

/* Reads the whole regular file `path` into a new buffer (at most `limit`
 * bytes). Returns 0, EFBIG, ENOMEM or EIO. */
static int wudf__read_small_file(const char* path, size_t limit, uint8_t** out,
                                 size_t* out_size, struct wudf_error* error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat info;
  if (fd < 0 || fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    if (fd >= 0) close(fd);
    return wudf__set_error(error, EIO, "cannot open %s: %s", path, strerror(errno));
  }
  if ((uint64_t)info.st_size > limit) {
    close(fd);
    return wudf__set_error(error, EFBIG, "%s has %lld bytes (limit %zu)", path,
                           (long long)info.st_size, limit);
  }
  size_t size = (size_t)info.st_size;
  uint8_t* data = wudf__malloc(size + 1);
  if (data == NULL) {
    close(fd);
    return wudf__set_error(error, ENOMEM, "out of memory reading %s", path);
  }
  size_t done = 0;
  while (done < size) {
    ssize_t got = read(fd, data + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      close(fd);
      wudf__free(data);
      return wudf__set_error(error, EIO, "cannot read %s", path);
    }
    done += (size_t)got;
  }
  close(fd);
  data[size] = '\0';
  *out = data;
  *out_size = size;
  return 0;
}

/* Finds the wasm-rt.h the compiler read in the dependency file `text` (make
 * syntax, as written by -MD) and hashes it into `hex`. Returns 0 or EIO. */
static int wudf__hash_runtime_header(char* text, const char* deps_path, char hex[65],
                                     struct wudf_error* error) {
  static const char header[] = "wasm-rt.h";
  char* position = NULL;
  for (char* token = strtok_r(text, " \t\r\n\\:", &position); token != NULL;
       token = strtok_r(NULL, " \t\r\n\\:", &position)) {
    size_t length = strlen(token);
    if (length < sizeof(header) - 1 ||
        strcmp(token + length - (sizeof(header) - 1), header) != 0 ||
        (length > sizeof(header) - 1 && token[length - sizeof(header)] != '/')) {
      continue;
    }
    uint8_t* contents;
    size_t size;
    int status = wudf__read_small_file(token, (size_t)16 << 20, &contents, &size, error);
    if (status != 0) return status;
    struct wudf__sha256 hash;
    wudf__sha256_init(&hash);
    wudf__sha256_update(&hash, contents, size);
    wudf__sha256_hex(&hash, hex);
    wudf__free(contents);
    return 0;
  }
  return wudf__set_error(error, EIO, "the compiler's dependency file %s does not name "
                         "wasm-rt.h", deps_path);
}

int wudf__compile_artifact_object(struct wudf_engine* engine, const uint8_t* bytes,
                                  size_t size, const struct wudf__wasm_info* info,
                                  struct wudf__artifact_build* build,
                                  struct wudf_error* error) {
  if (wudf__cache_key(engine, WUDF__TIER_OPTIMIZED, bytes, size, info, build->key) != 0) {
    return wudf__set_error(error, ENOMEM, "out of memory computing the cache key");
  }
  int work_parent;
  int status = wudf__cache_open_work_parent(engine->cache_dir, &work_parent, error);
  if (status != 0) return status;
  close(work_parent);
  /* Not named after a key: the cache's cleaning leaves it alone for a day. */
  char work[WUDF__PATH_MAX];
  snprintf(work, sizeof(work), "%s/v1/tmp/artifact.XXXXXX", engine->cache_dir);
  if (mkdtemp(work) == NULL) {
    return wudf__set_error(error, EIO, "cannot create %s: %s", work, strerror(errno));
  }
  char version_path[WUDF__PATH_MAX + 32], deps_path[WUDF__PATH_MAX + 32];
  char so_path[WUDF__PATH_MAX + 32];
  snprintf(version_path, sizeof(version_path), "%s/wasm2c.version", work);
  snprintf(deps_path, sizeof(deps_path), "%s/deps.d", work);
  snprintf(so_path, sizeof(so_path), "%s/module.so", work);

  /* wasm2c's version, as `wasm2c --version` prints it. */
  struct wudf__process_limits limits;
  wudf__build_limits(engine, &limits);
  char* version_argv[] = {engine->wasm2c, "--version", NULL};
  int tool_failed = 0;
  status = wudf__process_run(version_argv, version_path, &limits, &tool_failed, error);
  uint8_t* text = NULL;
  size_t text_size = 0;
  if (status == 0) {
    status = wudf__read_small_file(version_path, 4096, &text, &text_size, error);
  }
  if (status == 0) {
    size_t length = strcspn((char*)text, "\r\n");
    if (length == 0 || length >= sizeof(build->wasm2c_version)) {
      status = wudf__set_error(error, EIO, "%s --version printed no version",
                               engine->wasm2c);
    } else {
      memcpy(build->wasm2c_version, text, length);
      build->wasm2c_version[length] = '\0';
      if (strcmp(build->wasm2c_version, build->required_wasm2c_version) != 0) {
        status = wudf__set_error(error, ENOTSUP,
                                 "wudf_module_compile_artifact: %s is version %s, this "
                                 "library was built with wasm2c %s: its code would not "
                                 "match the library's runtime", engine->wasm2c,
                                 build->wasm2c_version, build->required_wasm2c_version);
      }
    }
    wudf__free(text);
    text = NULL;
  }
  /* The optimised object, with the compiler's list of the headers it read. */
  const char* const deps_flags[] = {"-MD", "-MF", deps_path, NULL};
  if (status == 0) {
    status = wudf__build(engine, WUDF__TIER_OPTIMIZED, work, bytes, size, info, build->key,
                         deps_flags, &tool_failed, error);
  }
  if (status == 0) {
    status = wudf__read_small_file(deps_path, (size_t)16 << 20, &text, &text_size, error);
  }
  if (status == 0) {
    status = wudf__hash_runtime_header((char*)text, deps_path, build->runtime_header_sha256,
                                       error);
  }
  wudf__free(text);
  if (status == 0) {
    size_t limit = engine->config.compile_file_limit != 0
                       ? (size_t)engine->config.compile_file_limit : SIZE_MAX - 1;
    status = wudf__read_small_file(so_path, limit, &build->object, &build->object_size,
                                   error);
  }
  wudf__remove_work_directory(work);
  if (status == 0) atomic_fetch_add(&engine->compiles, 1);
  return status;
}

int wudf__compile_load_object(struct wudf_engine* engine, int fd, const char* label,
                              const char* key, struct wudf_module* module,
                              struct wudf_error* error) {
  return wudf__load_verified(fd, label, engine->cache_dir, key, module, error);
}
