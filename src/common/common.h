/*
 * common.h -- internal helpers shared by every layer of libwasmudf: the
 * allocation funnel (all host allocations pass through wudf__malloc and
 * friends, so tests can fail them one by one) and the error channel
 * (wudf__set_error fills a caller-owned struct wudf_error that may be NULL).
 *
 * Names with the `wudf__` prefix are internal: not part of the public API,
 * not exported from the shared library.
 */
#ifndef WUDF_COMMON_H
#define WUDF_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmudf/wasmudf.h"

/* On a function whose loop the compiler vectorizes only with newer x86-64
 * instructions (64-bit integer compares need SSE4.2): one copy of it per
 * instruction set, the best the CPU has chosen when the library is loaded
 * (a GNU ifunc). The library itself is built for the x86-64 baseline.
 * Not under ThreadSanitizer: its instrumented resolvers run while the
 * dynamic linker relocates, before its runtime exists, and crash. */
#if defined(__SANITIZE_THREAD__)
#define WUDF__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WUDF__TSAN 1
#endif
#endif
#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__) && !defined(WUDF__TSAN) && \
    !defined(WUDF_NO_CLONES)
#define WUDF__CLONES __attribute__((target_clones("avx2", "sse4.2", "default")))
#else
#define WUDF__CLONES
#endif

#if defined(__GNUC__)
#define WUDF__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define WUDF__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define WUDF__PRINTF(fmt, args)
#define WUDF__UNLIKELY(x) (x)
#endif

/* Allocation funnel. wudf__malloc(0) returns a unique non-NULL pointer or
 * NULL like malloc; callers treat NULL as ENOMEM only for nonzero sizes. */
void* wudf__malloc(size_t size);
void* wudf__calloc(size_t count, size_t size);
void* wudf__realloc(void* pointer, size_t size);
void wudf__free(void* pointer);
/* Copies a NUL-terminated string into funnel memory; NULL on failure. */
char* wudf__strdup(const char* string);

/* Engines alive, so wudf_set_allocator can refuse to switch under them. */
void wudf__engine_count_add(int delta);

/* Replaces, in place, every control character of `text` (C0, DEL and the
 * UTF-8 encoding of C1) by '?', so that text chosen by a guest -- a name in a
 * module, a guest's error message -- cannot drive the terminal or forge lines
 * of a log when a message is printed. */
void wudf__neutralise_controls(char* text);

/* Fills `error` (if not NULL) with `code`, no trap, and the formatted message
 * (control characters neutralised), and returns `code`, so failures read
 * `return wudf__set_error(error, EINVAL, "...")`. */
int wudf__set_error(struct wudf_error* error, int code, const char* format, ...)
    WUDF__PRINTF(3, 4);
int wudf__set_error_v(struct wudf_error* error, int code, const char* format,
                      va_list args);

/* Prefixes the message already in `error` with the formatted text followed by
 * ": ", keeping the code; returns the code. Used to add context as an error
 * travels up ("loading module: ...") . */
int wudf__error_prefix(struct wudf_error* error, int code, const char* format,
                       ...) WUDF__PRINTF(3, 4);

/* ------------------------------------------------ versioned public structs */

/* One field of a versioned public struct (wasmudf.h, "Versioned structs"):
 * the byte range it occupies. */
struct wudf__field {
  size_t start;
  size_t end;
};
#define WUDF__FIELD(type, member) \
  { offsetof(type, member), offsetof(type, member) + sizeof(((type*)0)->member) }

/* Reads a caller's versioned struct `in` (first member: size_t
 * struct_size) into `out`, which holds the defaults of every field and is
 * `known` bytes (the library's sizeof): the fields struct_size covers are
 * copied, the others keep their defaults, and out's struct_size becomes
 * `known`. `fields` lists every field after struct_size in order. EINVAL
 * (naming `what`) when struct_size is below the first field's end, cuts a
 * field in two, or exceeds `known` with a tail that is not all zero. */
int wudf__versioned_read(void* out, const void* in, size_t known,
                         const struct wudf__field* fields, size_t field_count,
                         const char* what, struct wudf_error* error);

/* Writes the `known` bytes of the library's struct `full` into the
 * caller's versioned struct `out`, at most out's struct_size bytes, leaving
 * its struct_size as it was. A struct_size of 0 (a zero-initialised struct)
 * stands for `first`, the size of the struct as WASMUDF_1 first published
 * it (computed from its last field then, so it stays fixed as fields are
 * appended). */
void wudf__versioned_write(void* out, const void* full, size_t known, size_t first);

/* The size of a struct as WASMUDF_1 published it: the end of its last
 * field then. */
#define WUDF__SIZE_1(type, last_field) \
  (offsetof(type, last_field) + sizeof(((type*)0)->last_field))

/* Returns nonzero when the `size` bytes at `s` are valid UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF); otherwise stores the offset
 * of the first bad sequence in `*bad`. */
int wudf__utf8_valid(const uint8_t* s, size_t size, size_t* bad);

/* Overflow-checked size arithmetic: return nonzero on overflow. */
static inline int wudf__add_overflows(size_t a, size_t b, size_t* out) {
  return __builtin_add_overflow(a, b, out);
}
static inline int wudf__mul_overflows(size_t a, size_t b, size_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

#endif /* WUDF_COMMON_H */
