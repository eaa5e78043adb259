/*
 * artifact.c -- compile once, run anywhere: a module's optimised native code
 * in one self-describing file that loads with no wasm2c and no compiler.
 *
 * An artifact is a text manifest followed by the module's bytes and its
 * compiled object (the shared object the engine builds with cc -O2):
 *
 *   wasmudf artifact 1
 *   library VERSION             (informational)
 *   glue_abi N                  WUDF__GLUE_ABI_VERSION
 *   glue_sha256 HEX             of the glue texts (glue_abi.h, glue_shim.c)
 *   wasm2c VERSION              `wasm2c --version` of the compile
 *   runtime_header_sha256 HEX   of the wasm-rt.h the compiler read
 *   target ARCH-OS-LIBC         e.g. x86_64-linux-gnu
 *   key HEX                     the key the glue was compiled under
 *   module_sha256 HEX           of the module's bytes
 *   module_size N
 *   object_sha256 HEX           of the shared object
 *   object_size N
 *   content_sha256 HEX          of everything before this line and after it
 *   MODULE BYTES, OBJECT BYTES
 *
 * The manifest must be exactly the text this file writes for its values (one
 * comparison, no lenient parsing). A load verifies everything (the hashes,
 * the versions against the library's own, the target, the module by the
 * engine's validator and import policy, the object's ELF structure) before
 * any of the object is mapped, then loads the verified bytes from a sealed
 * memfd, so the code loaded is the code checked. The library records at
 * build time the SHA-256 of the wasm-rt.h it was compiled with and wasm2c's
 * version (CMakeLists.txt): an artifact compiled against another runtime
 * header or wasm2c is refused, at compile time and at load time.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "sha256.h"

#ifndef WUDF__BUILD_WASM_RT_SHA256
#define WUDF__BUILD_WASM_RT_SHA256 "unknown"
#endif
#ifndef WUDF__BUILD_WASM2C_VERSION
#define WUDF__BUILD_WASM2C_VERSION "unknown"
#endif

#define WUDF__ARTIFACT_MAGIC "wasmudf artifact 1\n"
/* The longest manifest: far more than the fixed fields take. */
#define WUDF__ARTIFACT_HEADER_MAX 4096

#if defined(__x86_64__)
#define WUDF__TARGET_ARCH "x86_64"
#define WUDF__TARGET_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define WUDF__TARGET_ARCH "aarch64"
#define WUDF__TARGET_MACHINE EM_AARCH64
#else
#define WUDF__TARGET_ARCH "unknown"
#define WUDF__TARGET_MACHINE EM_NONE
#endif
#if defined(__linux__)
#define WUDF__TARGET_OS "linux"
#else
#define WUDF__TARGET_OS "unknown"
#endif
#if defined(__GLIBC__)
#define WUDF__TARGET_LIBC "gnu"
#else
#define WUDF__TARGET_LIBC "other"
#endif
#define WUDF__TARGET WUDF__TARGET_ARCH "-" WUDF__TARGET_OS "-" WUDF__TARGET_LIBC

/* Objects of artifacts handed to dlopen in this process (for the tests that
 * prove a refused artifact was never mapped). */
static _Atomic uint64_t wudf__artifact_dlopens;

uint64_t wudf__artifact_dlopen_count(void) { return atomic_load(&wudf__artifact_dlopens); }

/* The values of a manifest. */
struct wudf__manifest {
  char library[64];
  unsigned glue_abi;
  char glue_sha256[65];
  char wasm2c[64];
  char runtime_header_sha256[65];
  char target[64];
  char key[65];
  char module_sha256[65];
  uint64_t module_size;
  char object_sha256[65];
  uint64_t object_size;
};

static void wudf__hash_hex(const void* data, size_t size, char hex[65]) {
  struct wudf__sha256 hash;
  wudf__sha256_init(&hash);
  wudf__sha256_update(&hash, data, size);
  wudf__sha256_hex(&hash, hex);
}

/* The SHA-256 of the glue texts compiled into every object. */
static void wudf__glue_hash(char hex[65]) {
  struct wudf__sha256 hash;
  wudf__sha256_init(&hash);
  wudf__sha256_update(&hash, wudf__glue_abi_text, strlen(wudf__glue_abi_text) + 1);
  wudf__sha256_update(&hash, wudf__glue_shim_text, strlen(wudf__glue_shim_text) + 1);
  wudf__sha256_hex(&hash, hex);
}

/* Writes the manifest's text up to (not including) its content_sha256 line;
 * returns its length, or -1 when it does not fit. */
static int wudf__manifest_prefix(const struct wudf__manifest* m, char* text, size_t capacity) {
  int length = snprintf(text, capacity,
                        WUDF__ARTIFACT_MAGIC
                        "library %s\nglue_abi %u\nglue_sha256 %s\nwasm2c %s\n"
                        "runtime_header_sha256 %s\ntarget %s\nkey %s\n"
                        "module_sha256 %s\nmodule_size %llu\n"
                        "object_sha256 %s\nobject_size %llu\n",
                        m->library, m->glue_abi, m->glue_sha256, m->wasm2c,
                        m->runtime_header_sha256, m->target, m->key, m->module_sha256,
                        (unsigned long long)m->module_size, m->object_sha256,
                        (unsigned long long)m->object_size);
  return length < 0 || (size_t)length >= capacity ? -1 : length;
}

/* Copies the value of the line "NAME VALUE" of `text` into `out`; 0 or -1. */
static int wudf__field(const char* text, const char* name, char* out, size_t capacity) {
  size_t name_length = strlen(name);
  for (const char* line = text; *line != '\0';) {
    const char* end = strchr(line, '\n');
    if (end == NULL) return -1;
    if ((size_t)(end - line) > name_length && strncmp(line, name, name_length) == 0 &&
        line[name_length] == ' ') {
      size_t length = (size_t)(end - line) - name_length - 1;
      if (length >= capacity) return -1;
      memcpy(out, line + name_length + 1, length);
      out[length] = '\0';
      return 0;
    }
    line = end + 1;
  }
  return -1;
}

/* Nonzero when `text` is 64 lowercase hex digits. */
static int wudf__is_hex64(const char* text) {
  size_t i = 0;
  for (; text[i] != '\0'; i++) {
    if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f'))) return 0;
  }
  return i == 64;
}

/* ------------------------------------------------------------ ELF checks */

/* The file offset of virtual address `address` in the PT_LOAD segments of
 * `object`, with `length` bytes available there; 0 or -1. */
static int wudf__elf_offset(const uint8_t* object, size_t size, const Elf64_Ehdr* header,
                            uint64_t address, uint64_t length, uint64_t* offset) {
  for (uint16_t i = 0; i < header->e_phnum; i++) {
    Elf64_Phdr segment;
    memcpy(&segment, object + header->e_phoff + (size_t)i * sizeof(segment), sizeof(segment));
    if (segment.p_type != PT_LOAD || address < segment.p_vaddr ||
        address - segment.p_vaddr > segment.p_filesz ||
        length > segment.p_filesz - (address - segment.p_vaddr)) {
      continue;
    }
    uint64_t at = segment.p_offset + (address - segment.p_vaddr);
    if (at > size || length > size - at) return -1;
    *offset = at;
    return 0;
  }
  return -1;
}

/* The shared libraries an object may need: the C and math libraries. */
static int wudf__allowed_needed(const char* name) {
  return strcmp(name, "libc.so.6") == 0 || strcmp(name, "libm.so.6") == 0;
}

/*
 * Checks, without loading it, that `object` is what the engine's compile
 * makes: an ELF64 shared object for this machine with a dynamic section and
 * no interpreter; no preinit array, at most one initialiser in its init
 * array (the compiler's frame_dummy), no text relocations, no audit or
 * search-path entries; needing at most the C and math libraries; and
 * exporting exactly one symbol, the glue's entry point. Returns 0, or
 * EBADMSG naming the first violation.
 */
static int wudf__check_object(const uint8_t* object, size_t size, struct wudf_error* error) {
#define WUDF__REFUSE(...) \
  wudf__set_error(error, EBADMSG, "the artifact's native code is refused: " __VA_ARGS__)
  Elf64_Ehdr header;
  if (size < sizeof(header)) return WUDF__REFUSE("too short for an ELF header");
  memcpy(&header, object, sizeof(header));
  if (memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_ident[EI_DATA] != ELFDATA2LSB || header.e_ident[EI_VERSION] != EV_CURRENT) {
    return WUDF__REFUSE("not a 64-bit little-endian ELF file");
  }
  if (header.e_type != ET_DYN) return WUDF__REFUSE("not a shared object");
  if (header.e_machine != WUDF__TARGET_MACHINE) {
    return WUDF__REFUSE("ELF machine %u, this process is %u", header.e_machine,
                        (unsigned)WUDF__TARGET_MACHINE);
  }
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phoff > size ||
      (uint64_t)header.e_phnum * sizeof(Elf64_Phdr) > size - header.e_phoff) {
    return WUDF__REFUSE("program headers out of the file");
  }
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shoff > size ||
      (uint64_t)header.e_shnum * sizeof(Elf64_Shdr) > size - header.e_shoff) {
    return WUDF__REFUSE("section headers out of the file");
  }
  Elf64_Phdr dynamic = {0};
  int dynamic_count = 0;
  for (uint16_t i = 0; i < header.e_phnum; i++) {
    Elf64_Phdr segment;
    memcpy(&segment, object + header.e_phoff + (size_t)i * sizeof(segment), sizeof(segment));
    if (segment.p_type == PT_INTERP) return WUDF__REFUSE("it has an interpreter");
    if (segment.p_type == PT_DYNAMIC) {
      dynamic = segment;
      dynamic_count++;
    }
  }
  if (dynamic_count != 1) return WUDF__REFUSE("%d dynamic segments", dynamic_count);
  if (dynamic.p_offset > size || dynamic.p_filesz > size - dynamic.p_offset) {
    return WUDF__REFUSE("dynamic segment out of the file");
  }
  uint64_t strtab = 0, strsz = 0, symtab = 0;
  int has_strtab = 0, has_symtab = 0;
  size_t entries = (size_t)(dynamic.p_filesz / sizeof(Elf64_Dyn));
  /* First pass: the string table, then the rules. */
  for (size_t i = 0; i < entries; i++) {
    Elf64_Dyn entry;
    memcpy(&entry, object + dynamic.p_offset + i * sizeof(entry), sizeof(entry));
    if (entry.d_tag == DT_NULL) break;
    if (entry.d_tag == DT_STRTAB) strtab = entry.d_un.d_ptr, has_strtab = 1;
    if (entry.d_tag == DT_STRSZ) strsz = entry.d_un.d_val;
    if (entry.d_tag == DT_SYMTAB) symtab = entry.d_un.d_ptr, has_symtab = 1;
  }
  uint64_t strtab_offset = 0;
  if (!has_strtab || !has_symtab ||
      wudf__elf_offset(object, size, &header, strtab, strsz, &strtab_offset) != 0 ||
      strsz == 0 || object[strtab_offset + strsz - 1] != '\0') {
    return WUDF__REFUSE("no valid dynamic string and symbol tables");
  }
  for (size_t i = 0; i < entries; i++) {
    Elf64_Dyn entry;
    memcpy(&entry, object + dynamic.p_offset + i * sizeof(entry), sizeof(entry));
    if (entry.d_tag == DT_NULL) break;
    switch (entry.d_tag) {
      case DT_PREINIT_ARRAY:
      case DT_PREINIT_ARRAYSZ:
        return WUDF__REFUSE("it has a preinit array");
      case DT_INIT_ARRAYSZ:
        if (entry.d_un.d_val > sizeof(Elf64_Addr)) {
          return WUDF__REFUSE("%llu initialisers in its init array (the compiler "
                              "makes one)",
                              (unsigned long long)(entry.d_un.d_val / sizeof(Elf64_Addr)));
        }
        break;
      case DT_TEXTREL:
        return WUDF__REFUSE("it has text relocations");
      case DT_FLAGS:
        if (entry.d_un.d_val & DF_TEXTREL) return WUDF__REFUSE("it has text relocations");
        break;
      case DT_RPATH:
      case DT_RUNPATH:
      case DT_AUDIT:
      case DT_DEPAUDIT:
      case DT_AUXILIARY:
      case DT_FILTER:
        return WUDF__REFUSE("dynamic entry %lld (search paths, audit or filter "
                            "libraries)", (long long)entry.d_tag);
      case DT_NEEDED: {
        if (entry.d_un.d_val >= strsz) return WUDF__REFUSE("a needed library's name is out of range");
        const char* name = (const char*)object + strtab_offset + entry.d_un.d_val;
        if (!wudf__allowed_needed(name)) {
          return WUDF__REFUSE("it needs %s (only libc.so.6 and libm.so.6 are allowed)", name);
        }
        break;
      }
      default:
        break;
    }
  }
  /* The exported symbols, from the section of the dynamic symbol table
   * (which must be the table the dynamic section names). */
  uint32_t exported = 0, found_bind = 0, dynsym_sections = 0;
  for (uint16_t i = 0; i < header.e_shnum; i++) {
    Elf64_Shdr section;
    memcpy(&section, object + header.e_shoff + (size_t)i * sizeof(section), sizeof(section));
    if (section.sh_type != SHT_DYNSYM) continue;
    dynsym_sections++;
    if (section.sh_addr != symtab || section.sh_entsize != sizeof(Elf64_Sym) ||
        section.sh_offset > size || section.sh_size > size - section.sh_offset) {
      return WUDF__REFUSE("the dynamic symbol table is not where the dynamic section says");
    }
    size_t symbols = (size_t)(section.sh_size / sizeof(Elf64_Sym));
    for (size_t s = 1; s < symbols; s++) {
      Elf64_Sym symbol;
      memcpy(&symbol, object + section.sh_offset + s * sizeof(symbol), sizeof(symbol));
      int binding = ELF64_ST_BIND(symbol.st_info);
      if (symbol.st_shndx == SHN_UNDEF || binding == STB_LOCAL) continue;
      if (ELF64_ST_VISIBILITY(symbol.st_other) != STV_DEFAULT &&
          ELF64_ST_VISIBILITY(symbol.st_other) != STV_PROTECTED) {
        continue;
      }
      if (symbol.st_name >= strsz) return WUDF__REFUSE("a symbol's name is out of range");
      const char* name = (const char*)object + strtab_offset + symbol.st_name;
      exported++;
      if (strcmp(name, WUDF__GLUE_BIND_SYMBOL) == 0 && ELF64_ST_TYPE(symbol.st_info) == STT_FUNC) {
        found_bind++;
      } else {
        return WUDF__REFUSE("it exports %s (only " WUDF__GLUE_BIND_SYMBOL " is allowed)", name);
      }
    }
  }
  if (dynsym_sections != 1 || exported != 1 || found_bind != 1) {
    return WUDF__REFUSE("it does not export exactly one " WUDF__GLUE_BIND_SYMBOL);
  }
  return 0;
#undef WUDF__REFUSE
}

/* ------------------------------------------------------------- compiling */

int wudf_module_compile_artifact(struct wudf_engine* engine, const uint8_t* bytes, size_t size,
                                 uint8_t** artifact, size_t* artifact_size,
                                 struct wudf_error* error) {
  if (engine == NULL || artifact == NULL || artifact_size == NULL ||
      (bytes == NULL && size != 0)) {
    return wudf__set_error(error, EINVAL, "wudf_module_compile_artifact: engine, bytes, "
                           "artifact and artifact_size must not be NULL");
  }
  /* Validation, the import policy and the metadata, as a load does. */
  struct wudf_module* module;
  int status = wudf_module_inspect(engine, bytes, size, &module, error);
  if (status != 0) return status;
  struct wudf__artifact_build build;
  memset(&build, 0, sizeof(build));
  build.required_wasm2c_version = WUDF__BUILD_WASM2C_VERSION;
  status = wudf__compile_artifact_object(engine, bytes, size, &module->info, &build, error);
  wudf_module_free(module);
  if (status != 0) return status;
  if (strcmp(build.runtime_header_sha256, WUDF__BUILD_WASM_RT_SHA256) != 0) {
    status = wudf__set_error(error, ENOTSUP,
                             "wudf_module_compile_artifact: the compiler read a wasm-rt.h "
                             "with SHA-256 %s, this library was built with one of %s",
                             build.runtime_header_sha256, WUDF__BUILD_WASM_RT_SHA256);
  } else {
    struct wudf_error check;
    if (wudf__check_object(build.object, build.object_size, &check) != 0) {
      status = wudf__set_error(error, ENOTSUP,
                               "wudf_module_compile_artifact: the compiler's object would "
                               "not pass the artifact checks: %s", check.message);
    }
  }
  struct wudf__manifest manifest;
  memset(&manifest, 0, sizeof(manifest));
  char prefix[WUDF__ARTIFACT_HEADER_MAX];
  int prefix_length = -1;
  if (status == 0) {
    snprintf(manifest.library, sizeof(manifest.library), "%s", WUDF_VERSION);
    manifest.glue_abi = WUDF__GLUE_ABI_VERSION;
    wudf__glue_hash(manifest.glue_sha256);
    memcpy(manifest.wasm2c, build.wasm2c_version, sizeof(manifest.wasm2c));
    memcpy(manifest.runtime_header_sha256, build.runtime_header_sha256, 65);
    snprintf(manifest.target, sizeof(manifest.target), "%s", WUDF__TARGET);
    memcpy(manifest.key, build.key, 65);
    wudf__hash_hex(bytes, size, manifest.module_sha256);
    manifest.module_size = size;
    wudf__hash_hex(build.object, build.object_size, manifest.object_sha256);
    manifest.object_size = build.object_size;
    prefix_length = wudf__manifest_prefix(&manifest, prefix, sizeof(prefix));
    if (prefix_length < 0) {
      status = wudf__set_error(error, EINVAL, "wudf_module_compile_artifact: the manifest "
                               "does not fit in %d bytes", WUDF__ARTIFACT_HEADER_MAX);
    }
  }
  uint8_t* out = NULL;
  size_t total = 0;
  if (status == 0) {
    static const char content_line[] = "content_sha256 ";
    total = (size_t)prefix_length + sizeof(content_line) - 1 + 65 + size + build.object_size;
    out = wudf__malloc(total);
    if (out == NULL) {
      status = wudf__set_error(error, ENOMEM, "wudf_module_compile_artifact: out of memory");
    } else {
      struct wudf__sha256 hash;
      wudf__sha256_init(&hash);
      wudf__sha256_update(&hash, prefix, (size_t)prefix_length);
      wudf__sha256_update(&hash, bytes, size);
      wudf__sha256_update(&hash, build.object, build.object_size);
      char content[65];
      wudf__sha256_hex(&hash, content);
      uint8_t* at = out;
      memcpy(at, prefix, (size_t)prefix_length);
      at += prefix_length;
      memcpy(at, content_line, sizeof(content_line) - 1);
      at += sizeof(content_line) - 1;
      memcpy(at, content, 64);
      at[64] = '\n';
      at += 65;
      if (size != 0) memcpy(at, bytes, size);
      at += size;
      memcpy(at, build.object, build.object_size);
    }
  }
  wudf__free(build.object);
  if (status != 0) return status;
  *artifact = out;
  *artifact_size = total;
  return 0;
}

void wudf_artifact_free(uint8_t* artifact) { wudf__free(artifact); }

/* Reads the regular file `path` (at most `limit` bytes) into a new buffer. */
static int wudf__read_file(const char* function, const char* path, uint64_t limit,
                           uint8_t** out, size_t* out_size, struct wudf_error* error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int saved = errno;
    return wudf__set_error(error, saved == ENOENT ? ENOENT : EIO, "%s: cannot open %s: %s",
                           function, path, strerror(saved));
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return wudf__set_error(error, EIO, "%s: %s is not a regular file", function, path);
  }
  if ((uint64_t)info.st_size > limit) {
    close(fd);
    return wudf__set_error(error, EFBIG, "%s: %s has %lld bytes (limit %llu)", function, path,
                           (long long)info.st_size, (unsigned long long)limit);
  }
  size_t size = (size_t)info.st_size;
  uint8_t* bytes = wudf__malloc(size ? size : 1);
  if (bytes == NULL) {
    close(fd);
    return wudf__set_error(error, ENOMEM, "%s: out of memory reading %s", function, path);
  }
  size_t done = 0;
  while (done < size) {
    ssize_t got = read(fd, bytes + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      close(fd);
      wudf__free(bytes);
      return wudf__set_error(error, EIO, "%s: cannot read %s", function, path);
    }
    done += (size_t)got;
  }
  close(fd);
  *out = bytes;
  *out_size = size;
  return 0;
}

/* The largest artifact: the module and object limits and the manifest. */
static uint64_t wudf__artifact_limit(const struct wudf_engine* engine) {
  uint64_t object = engine->config.compile_file_limit != 0 ? engine->config.compile_file_limit
                                                           : ((uint64_t)1 << 40);
  return engine->config.max_module_size + object + WUDF__ARTIFACT_HEADER_MAX;
}

int wudf_module_compile_artifact_file(struct wudf_engine* engine, const char* module_path,
                                      const char* artifact_path, struct wudf_error* error) {
  static const char function[] = "wudf_module_compile_artifact_file";
  if (engine == NULL || module_path == NULL || artifact_path == NULL) {
    return wudf__set_error(error, EINVAL, "%s: engine and paths must not be NULL", function);
  }
  uint8_t* bytes;
  size_t size;
  int status = wudf__read_file(function, module_path, engine->config.max_module_size, &bytes,
                               &size, error);
  if (status != 0) return status;
  uint8_t* artifact;
  size_t artifact_size;
  status = wudf_module_compile_artifact(engine, bytes, size, &artifact, &artifact_size, error);
  wudf__free(bytes);
  if (status != 0) {
    wudf__error_prefix(error, status, "%s", module_path);
    return status;
  }
  /* Written next to its destination, then renamed over it. */
  size_t length = strlen(artifact_path);
  char* temporary = wudf__malloc(length + 16);
  if (temporary == NULL) {
    wudf_artifact_free(artifact);
    return wudf__set_error(error, ENOMEM, "%s: out of memory", function);
  }
  snprintf(temporary, length + 16, "%s.tmp.XXXXXX", artifact_path);
  int fd = mkostemp(temporary, O_CLOEXEC);
  if (fd < 0) {
    status = wudf__set_error(error, EIO, "%s: cannot create %s: %s", function, temporary,
                             strerror(errno));
  } else {
    mode_t mask = umask(0);
    umask(mask);
    size_t done = 0;
    while (status == 0 && done < artifact_size) {
      ssize_t written = write(fd, artifact + done, artifact_size - done);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        status = wudf__set_error(error, EIO, "%s: cannot write %s: %s", function, temporary,
                                 strerror(errno));
      } else {
        done += (size_t)written;
      }
    }
    if (status == 0 && fchmod(fd, 0644 & ~mask) != 0) {
      status = wudf__set_error(error, EIO, "%s: cannot set the mode of %s: %s", function,
                               temporary, strerror(errno));
    }
    if (close(fd) != 0 && status == 0) {
      status = wudf__set_error(error, EIO, "%s: cannot write %s: %s", function, temporary,
                               strerror(errno));
    }
    if (status == 0 && rename(temporary, artifact_path) != 0) {
      status = wudf__set_error(error, EIO, "%s: cannot rename %s to %s: %s", function,
                               temporary, artifact_path, strerror(errno));
    }
    if (status != 0) unlink(temporary);
  }
  wudf__free(temporary);
  wudf_artifact_free(artifact);
  return status;
}

/* --------------------------------------------------------------- loading */

int wudf_is_artifact(const uint8_t* bytes, size_t size) {
  return bytes != NULL && size >= sizeof(WUDF__ARTIFACT_MAGIC) - 1 &&
         memcmp(bytes, WUDF__ARTIFACT_MAGIC, sizeof(WUDF__ARTIFACT_MAGIC) - 1) == 0;
}

/* What the object source of a load (wudf__load_object) needs. */
struct wudf__artifact_load {
  const struct wudf__manifest* manifest;
  const uint8_t* object;
};

/* Nonzero when `compiled` is the glue's signature of `type` ("ij:f"). */
static int wudf__signature_matches(const struct wudf__wasm_functype* type,
                                   const char* compiled) {
  size_t at = 0;
  for (uint32_t i = 0; i < type->param_count + 1 + type->result_count; i++) {
    char letter = ':';
    if (i != type->param_count) {
      uint8_t value = i < type->param_count ? type->params[i]
                                            : type->results[i - type->param_count - 1];
      letter = value == WUDF__WASM_I32   ? 'i'
               : value == WUDF__WASM_I64 ? 'j'
               : value == WUDF__WASM_F32 ? 'f'
                                         : 'd';
    }
    if (compiled[at] != letter) return 0;
    at++;
  }
  return compiled[at] == '\0';
}

/* Gives `module` the artifact's verified object: its bytes in a sealed
 * memfd, dlopen()ed through /proc/self/fd; then checks the glue's function
 * list against the module. */
static int wudf__load_object(struct wudf_engine* engine, struct wudf_module* module,
                             void* closure, struct wudf_error* error) {
  const struct wudf__artifact_load* load = closure;
  int fd = memfd_create("wasmudf-artifact", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    return wudf__set_error(error, EIO, "wudf_module_load_artifact: memfd_create: %s",
                           strerror(errno));
  }
  size_t done = 0, size = (size_t)load->manifest->object_size;
  while (done < size) {
    ssize_t written = write(fd, load->object + done, size - done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      int saved = errno;
      close(fd);
      return wudf__set_error(error, EIO, "wudf_module_load_artifact: cannot write the "
                             "object to its memfd: %s", strerror(saved));
    }
    done += (size_t)written;
  }
  /* Nobody (in this process or with the descriptor) can change it now. */
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    int saved = errno;
    close(fd);
    return wudf__set_error(error, EIO, "wudf_module_load_artifact: cannot seal the "
                           "object's memfd: %s", strerror(saved));
  }
  atomic_fetch_add(&wudf__artifact_dlopens, 1);
  int status = wudf__compile_load_object(engine, fd, "the artifact's object",
                                         load->manifest->key, module, error);
  if (status != 0) {
    wudf__error_prefix(error, status, "wudf_module_load_artifact");
    return status;
  }
  const struct wudf__wasm_info* info = &module->info;
  int consistent = 1;
  uint32_t number = 0;
  for (uint32_t i = 0; consistent && i < info->export_count; i++) {
    const struct wudf__wasm_export* export = &info->exports[i];
    if (!wudf__callable_export(info, export)) continue;
    if (number >= module->glue->export_count) {
      consistent = 0;
      break;
    }
    const struct wudf__glue_export* compiled = &module->glue->exports[number++];
    if (compiled->name == NULL || compiled->signature == NULL ||
        strcmp(compiled->name, export->name) != 0 ||
        !wudf__signature_matches(&info->types[info->function_types[export->index]],
                                 compiled->signature)) {
      consistent = 0;
    }
  }
  if (!consistent || number != module->glue->export_count) {
    return wudf__set_error(error, EBADMSG, "wudf_module_load_artifact: the artifact's "
                           "object's export table does not match the module's exports");
  }
  if (module->glue->function_base != info->imported_function_count ||
      module->glue->function_count != info->function_count - info->imported_function_count) {
    return wudf__set_error(error, EBADMSG, "wudf_module_load_artifact: the artifact's "
                           "object has %u functions from %u, the module %u from %u",
                           module->glue->function_count, module->glue->function_base,
                           info->function_count - info->imported_function_count,
                           info->imported_function_count);
  }
  return 0;
}

/* Verifies the artifact's manifest and parts (everything but the module's
 * validation): fills `manifest` and points `*module` and `*object` at the
 * parts. */
static int wudf__verify_artifact(const struct wudf_engine* engine, const uint8_t* bytes,
                                 size_t size, struct wudf__manifest* manifest,
                                 const uint8_t** module, const uint8_t** object,
                                 struct wudf_error* error) {
#define WUDF__DAMAGED(...) \
  wudf__set_error(error, EBADMSG, "wudf_module_load_artifact: " __VA_ARGS__)
#define WUDF__MISMATCH(...) \
  wudf__set_error(error, ENOTSUP, "wudf_module_load_artifact: " __VA_ARGS__)
  if (!wudf_is_artifact(bytes, size)) {
    return WUDF__DAMAGED("not an artifact (it does not start with \"wasmudf artifact 1\")");
  }
  /* The manifest ends with its content_sha256 line. */
  static const char content_line[] = "\ncontent_sha256 ";
  size_t window = size < WUDF__ARTIFACT_HEADER_MAX ? size : WUDF__ARTIFACT_HEADER_MAX;
  const uint8_t* found = memmem(bytes, window, content_line, sizeof(content_line) - 1);
  if (found == NULL) return WUDF__DAMAGED("the manifest has no content_sha256 line");
  size_t prefix_length = (size_t)(found - bytes) + 1;
  size_t header_length = prefix_length + sizeof(content_line) - 2 + 65;
  if (header_length > size || bytes[header_length - 1] != '\n') {
    return WUDF__DAMAGED("the manifest's content_sha256 line is malformed");
  }
  char recorded[65];
  memcpy(recorded, bytes + header_length - 65, 64);
  recorded[64] = '\0';
  struct wudf__sha256 hash;
  wudf__sha256_init(&hash);
  wudf__sha256_update(&hash, bytes, prefix_length);
  wudf__sha256_update(&hash, bytes + header_length, size - header_length);
  char content[65];
  wudf__sha256_hex(&hash, content);
  if (strcmp(content, recorded) != 0) {
    return WUDF__DAMAGED("its content does not hash to its content_sha256 (%.16s..., "
                         "recorded %.16s...): the artifact is damaged or was tampered with",
                         content, recorded);
  }
  /* The values, and the manifest exactly as written for them. */
  char text[WUDF__ARTIFACT_HEADER_MAX];
  memcpy(text, bytes, prefix_length);
  text[prefix_length] = '\0';
  if (memchr(text, '\0', prefix_length) != NULL) {
    return WUDF__DAMAGED("the manifest holds a NUL byte");
  }
  char number[32], glue_abi[16];
  memset(manifest, 0, sizeof(*manifest));
  int missing = wudf__field(text, "library", manifest->library, sizeof(manifest->library)) ||
                wudf__field(text, "glue_abi", glue_abi, sizeof(glue_abi)) ||
                wudf__field(text, "glue_sha256", manifest->glue_sha256, 65) ||
                wudf__field(text, "wasm2c", manifest->wasm2c, sizeof(manifest->wasm2c)) ||
                wudf__field(text, "runtime_header_sha256", manifest->runtime_header_sha256, 65) ||
                wudf__field(text, "target", manifest->target, sizeof(manifest->target)) ||
                wudf__field(text, "key", manifest->key, 65) ||
                wudf__field(text, "module_sha256", manifest->module_sha256, 65) ||
                wudf__field(text, "module_size", number, sizeof(number));
  if (!missing) {
    manifest->module_size = strtoull(number, NULL, 10);
    missing = wudf__field(text, "object_sha256", manifest->object_sha256, 65) ||
              wudf__field(text, "object_size", number, sizeof(number));
    manifest->object_size = strtoull(number, NULL, 10);
    manifest->glue_abi = (unsigned)strtoul(glue_abi, NULL, 10);
  }
  char canonical[WUDF__ARTIFACT_HEADER_MAX];
  if (missing || !wudf__is_hex64(manifest->key) ||
      wudf__manifest_prefix(manifest, canonical, sizeof(canonical)) != (int)prefix_length ||
      memcmp(canonical, text, prefix_length) != 0) {
    return WUDF__DAMAGED("the manifest is malformed");
  }
  /* Made for this library and this machine? */
  char glue_sha256[65];
  wudf__glue_hash(glue_sha256);
  if (manifest->glue_abi != WUDF__GLUE_ABI_VERSION) {
    return WUDF__MISMATCH("compiled for glue ABI %u, this library (%s) has %u: compile it "
                          "again", manifest->glue_abi, WUDF_VERSION, WUDF__GLUE_ABI_VERSION);
  }
  if (strcmp(manifest->glue_sha256, glue_sha256) != 0) {
    return WUDF__MISMATCH("compiled with other glue sources (library %s, this one is %s): "
                          "compile it again", manifest->library, WUDF_VERSION);
  }
  if (strcmp(manifest->wasm2c, WUDF__BUILD_WASM2C_VERSION) != 0) {
    return WUDF__MISMATCH("compiled with wasm2c %s, this library was built with wasm2c %s: "
                          "compile it again", manifest->wasm2c, WUDF__BUILD_WASM2C_VERSION);
  }
  if (strcmp(manifest->runtime_header_sha256, WUDF__BUILD_WASM_RT_SHA256) != 0) {
    return WUDF__MISMATCH("compiled against a wasm-rt.h with SHA-256 %s, this library was "
                          "built with %s: compile it again",
                          manifest->runtime_header_sha256, WUDF__BUILD_WASM_RT_SHA256);
  }
  if (strcmp(manifest->target, WUDF__TARGET) != 0) {
    return WUDF__MISMATCH("compiled for %s, this process is %s", manifest->target,
                          WUDF__TARGET);
  }
  /* The parts. */
  uint64_t payload = size - header_length;
  if (manifest->module_size > payload || manifest->object_size != payload - manifest->module_size) {
    return WUDF__DAMAGED("its parts (%llu + %llu bytes) do not fill its %llu bytes",
                         (unsigned long long)manifest->module_size,
                         (unsigned long long)manifest->object_size,
                         (unsigned long long)payload);
  }
  if (manifest->module_size > engine->config.max_module_size) {
    return wudf__set_error(error, EFBIG, "wudf_module_load_artifact: module too large: %llu "
                           "bytes (limit %zu)", (unsigned long long)manifest->module_size,
                           engine->config.max_module_size);
  }
  if (engine->config.compile_file_limit != 0 &&
      manifest->object_size > engine->config.compile_file_limit) {
    return wudf__set_error(error, EFBIG, "wudf_module_load_artifact: native code too large: "
                           "%llu bytes (compile_file_limit %llu)",
                           (unsigned long long)manifest->object_size,
                           (unsigned long long)engine->config.compile_file_limit);
  }
  *module = bytes + header_length;
  *object = *module + manifest->module_size;
  char hex[65];
  wudf__hash_hex(*module, (size_t)manifest->module_size, hex);
  if (strcmp(hex, manifest->module_sha256) != 0) {
    return WUDF__DAMAGED("its module does not hash to its module_sha256");
  }
  wudf__hash_hex(*object, (size_t)manifest->object_size, hex);
  if (strcmp(hex, manifest->object_sha256) != 0) {
    return WUDF__DAMAGED("its native code does not hash to its object_sha256");
  }
  return wudf__check_object(*object, (size_t)manifest->object_size, error);
#undef WUDF__DAMAGED
#undef WUDF__MISMATCH
}

int wudf_module_load_artifact(struct wudf_engine* engine, const uint8_t* bytes, size_t size,
                              struct wudf_module** out, struct wudf_error* error) {
  if (engine == NULL || out == NULL || (bytes == NULL && size != 0)) {
    return wudf__set_error(error, EINVAL, "wudf_module_load_artifact: engine, bytes and out "
                           "must not be NULL");
  }
  struct wudf__manifest manifest;
  const uint8_t *module_bytes, *object;
  int status = wudf__verify_artifact(engine, bytes, size, &manifest, &module_bytes, &object,
                                     error);
  if (status != 0) return status;
  struct wudf__artifact_load load = {&manifest, object};
  /* The module is validated and described before the object is loaded. */
  status = wudf__module_open_with(engine, module_bytes, (size_t)manifest.module_size, 0,
                                  wudf__load_object, &load, out, error);
  static const char function[] = "wudf_module_load_artifact";
  if (status != 0 && error != NULL &&
      strncmp(error->message, function, sizeof(function) - 1) != 0) {
    wudf__error_prefix(error, status, "%s: the artifact's module", function);
  }
  return status;
}

int wudf_module_load_artifact_file(struct wudf_engine* engine, const char* path,
                                   struct wudf_module** out, struct wudf_error* error) {
  static const char function[] = "wudf_module_load_artifact_file";
  if (engine == NULL || path == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "%s: engine, path and out must not be NULL",
                           function);
  }
  uint8_t* bytes;
  size_t size;
  int status = wudf__read_file(function, path, wudf__artifact_limit(engine), &bytes, &size,
                               error);
  if (status != 0) return status;
  status = wudf_module_load_artifact(engine, bytes, size, out, error);
  wudf__free(bytes);
  if (status != 0) wudf__error_prefix(error, status, "%s", path);
  return status;
}
