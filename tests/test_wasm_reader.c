/*
 * test_wasm_reader.c -- unit test of src/engine/wasm_reader.c, the decoder
 * that checks every WebAssembly binary before the engine touches it.
 *
 * The test is self-contained: every module is written inline as bytes. The
 * one large valid module (valid_module below) is hand-encoded with a comment
 * on every entry and instruction; the small cases are assembled at run time
 * from a few sections by the tiny builder below (which only computes section
 * and body sizes). When wabt's wasm-validate is on PATH, the test also checks
 * that wabt accepts every module expected to be valid and rejects every module
 * expected to be malformed, so the hand encodings are known to mean what the
 * test says they mean.
 *
 * It covers: every field the reader extracts; each refused feature (ENOTSUP);
 * malformed input (ENOEXEC); each size limit (EFBIG); huge vector counts that
 * must fail without allocating; every allocation failure (ENOMEM, no leaks);
 * and two crash hunts over the valid module -- every truncation and every bit
 * flip -- meant to run under AddressSanitizer or valgrind.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/wasm_reader.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* The valid module                                                          */
/* ------------------------------------------------------------------------ */

/*
 * A module that uses every section and every supported feature. In text form:
 *
 *   (module
 *     (type $t0 (func (param i32 i64) (result i32)))
 *     (type $t1 (func))
 *     (type $t2 (func (param f32 f64) (result i64 externref)))
 *     (type $t3 (func (param i32) (result i32 i32)))
 *     (import "env" "print" (func $print (type $t0)))
 *     (import "env" "g0" (global $g0 i32))
 *     (import "env" "gm" (global (mut i64)))
 *     (table $tf 2 10 funcref) (table $tf2 1 funcref) (table $te 1 externref)
 *     (memory 1 2)
 *     (global $gm (mut i32) (i32.const 42)) (global i64 (i64.const -1))
 *     (global f32 (f32.const 1.5)) (global f64 (f64.const 2.5))
 *     (global funcref (ref.func $f1)) (global externref (ref.null extern))
 *     (global i32 (global.get $g0))
 *     (export "add" (func $f1)) (export "mem" (memory 0))
 *     (export "tab" (table $tf)) (export "counter" (global $gm))
 *     (export "print" (func $print))
 *     (start $start)
 *     ... element segments in all eight encodings, data count 3 ...
 *     (func $start (type $t1) ...)  (func $f1 (type $t0) ...)
 *     (func $f2 (type $t2) ...)
 *     (data (i32.const 0) "hi") (data "xyz")
 *     (data (memory 0) (i32.const 8) "!"))
 *
 * plus custom sections "meta" (first), "wudf" (between code and data) and
 * "name" (last).
 */
static const uint8_t valid_module[] = {
    0x00, 0x61, 0x73, 0x6D, /* magic "\0asm" */
    0x01, 0x00, 0x00, 0x00, /* version 1 */

    /* Custom section "meta", payload "v1" (offset 15, size 2). */
    0x00, 0x07, 0x04, 'm', 'e', 't', 'a', 'v', '1',

    /* Type section: 4 function types. */
    0x01, 0x17, 0x04,
    0x60, 0x02, 0x7F, 0x7E, 0x01, 0x7F,       /* 0: (i32 i64) -> i32 */
    0x60, 0x00, 0x00,                         /* 1: () -> () */
    0x60, 0x02, 0x7D, 0x7C, 0x02, 0x7E, 0x6F, /* 2: (f32 f64) -> (i64 exref) */
    0x60, 0x01, 0x7F, 0x02, 0x7F, 0x7F,       /* 3: (i32) -> (i32 i32) */

    /* Import section: 3 imports. */
    0x02, 0x21, 0x03,
    0x03, 'e', 'n', 'v', 0x05, 'p', 'r', 'i', 'n', 't', /* "env" "print" */
    0x00, 0x00,                                         /*   func, type 0 */
    0x03, 'e', 'n', 'v', 0x02, 'g', '0',                /* "env" "g0" */
    0x03, 0x7F, 0x00,                                   /*   global i32 */
    0x03, 'e', 'n', 'v', 0x02, 'g', 'm',                /* "env" "gm" */
    0x03, 0x7E, 0x01,                                   /*   global mut i64 */

    /* Function section: functions 1, 2, 3 of types 1, 0, 2. */
    0x03, 0x04, 0x03, 0x01, 0x00, 0x02,

    /* Table section: 3 tables. */
    0x04, 0x0B, 0x03,
    0x70, 0x01, 0x02, 0x0A, /* 0: funcref, min 2, max 10 */
    0x70, 0x00, 0x01,       /* 1: funcref, min 1 */
    0x6F, 0x00, 0x01,       /* 2: externref, min 1 */

    /* Memory section: 1 memory, min 1 page, max 2 pages. */
    0x05, 0x04, 0x01, 0x01, 0x01, 0x02,

    /* Global section: 7 globals (indexes 2-8 after the 2 imported). */
    0x06, 0x2E, 0x07,
    0x7F, 0x01, 0x41, 0x2A, 0x0B,                   /* 2: mut i32 = 42 */
    0x7E, 0x00, 0x42, 0x7F, 0x0B,                   /* 3: i64 = -1 */
    0x7D, 0x00, 0x43, 0x00, 0x00, 0xC0, 0x3F, 0x0B, /* 4: f32 = 1.5 */
    0x7C, 0x00, 0x44, 0x00, 0x00, 0x00, 0x00,       /* 5: f64 = 2.5 ... */
    0x00, 0x00, 0x04, 0x40, 0x0B,                   /*    ... continued */
    0x70, 0x00, 0xD2, 0x02, 0x0B,                   /* 6: funcref: ref.func 2 */
    0x6F, 0x00, 0xD0, 0x6F, 0x0B,                   /* 7: externref: null */
    0x7F, 0x00, 0x23, 0x00, 0x0B,                   /* 8: i32 = global.get 0 */

    /* Export section: 5 exports. */
    0x07, 0x25, 0x05,
    0x03, 'a', 'd', 'd', 0x00, 0x02,                     /* func 2 */
    0x03, 'm', 'e', 'm', 0x02, 0x00,                     /* memory 0 */
    0x03, 't', 'a', 'b', 0x01, 0x00,                     /* table 0 */
    0x07, 'c', 'o', 'u', 'n', 't', 'e', 'r', 0x03, 0x02, /* global 2 */
    0x05, 'p', 'r', 'i', 'n', 't', 0x00, 0x00,           /* func 0 (import) */

    /* Start section: function 1. */
    0x08, 0x01, 0x01,

    /* Element section: 8 segments, one per encoding (flags 0-7). */
    0x09, 0x39, 0x08,
    0x00, 0x41, 0x00, 0x0B,       /* 0: active, table 0, offset 0, */
    0x02, 0x02, 0x03,             /*    functions 2 3 */
    0x01, 0x00,                   /* 1: passive, elemkind funcref, */
    0x01, 0x02,                   /*    function 2 */
    0x02, 0x01, 0x41, 0x00, 0x0B, /* 2: active, table 1, offset 0, */
    0x00, 0x01, 0x01,             /*    elemkind funcref, function 1 */
    0x03, 0x00,                   /* 3: declarative, elemkind funcref, */
    0x01, 0x03,                   /*    function 3 */
    0x04, 0x41, 0x00, 0x0B,       /* 4: active, table 0, offset 0, */
    0x02, 0xD2, 0x02, 0x0B,       /*    ref.func 2, */
    0xD0, 0x70, 0x0B,             /*    ref.null func */
    0x05, 0x70,                   /* 5: passive funcref, */
    0x01, 0xD2, 0x03, 0x0B,       /*    ref.func 3 */
    0x06, 0x02, 0x41, 0x00, 0x0B, /* 6: active, table 2, offset 0, */
    0x6F, 0x01, 0xD0, 0x6F, 0x0B, /*    externref: ref.null extern */
    0x07, 0x70,                   /* 7: declarative funcref, */
    0x01, 0xD2, 0x01, 0x0B,       /*    ref.func 1 */

    /* Data count section: 3 segments. */
    0x0C, 0x01, 0x03,

    /* Code section: 3 bodies, 246 bytes. */
    0x0A, 0xF6, 0x01, 0x03,
    /* Function 1 ($start), 227 bytes. */
    0xE3, 0x01,
    0x03, 0x01, 0x7F, 0x01, 0x7E, 0x01, 0x7D, /* locals: i32, i64, f32 */
    0x02, 0x40,                   /* block */
    0x03, 0x40,                   /*   loop */
    0x41, 0x01,                   /*     i32.const 1 */
    0x0D, 0x01,                   /*     br_if 1 */
    0x0C, 0x00,                   /*     br 0 */
    0x0B,                         /*   end */
    0x0B,                         /* end */
    0x41, 0x00,                   /* i32.const 0 */
    0x04, 0x40,                   /* if */
    0x01,                         /*   nop */
    0x05,                         /* else */
    0x00,                         /*   unreachable */
    0x0B,                         /* end */
    0x02, 0x40,                   /* block */
    0x02, 0x40,                   /*   block */
    0x41, 0x00,                   /*     i32.const 0 */
    0x0E, 0x02, 0x00, 0x01, 0x00, /*     br_table 0 1 0 */
    0x0B,                         /*   end */
    0x0B,                         /* end */
    0x41, 0x00,                   /* i32.const 0 */
    0x28, 0x02, 0x04,             /* i32.load align=4 offset=4 */
    0x1A,                         /* drop */
    0x41, 0x00,                   /* i32.const 0 */
    0x42, 0x05,                   /* i64.const 5 */
    0x3E, 0x01, 0x08,             /* i64.store32 align=2 offset=8 */
    0x3F, 0x00,                   /* memory.size */
    0x1A,                         /* drop */
    0x41, 0x01,                   /* i32.const 1 */
    0x40, 0x00,                   /* memory.grow */
    0x1A,                         /* drop */
    0x41, 0x00, 0x41, 0x00, 0x41, 0x01, /* i32.const 0, 0, 1 */
    0xFC, 0x08, 0x01, 0x00,       /* memory.init 1 */
    0xFC, 0x09, 0x01,             /* data.drop 1 */
    0x41, 0x00, 0x41, 0x00, 0x41, 0x00, /* i32.const 0, 0, 0 */
    0xFC, 0x0A, 0x00, 0x00,       /* memory.copy */
    0x41, 0x00, 0x41, 0x00, 0x41, 0x00, /* i32.const 0, 0, 0 */
    0xFC, 0x0B, 0x00,             /* memory.fill */
    0x41, 0x00, 0x41, 0x00, 0x41, 0x01, /* i32.const 0, 0, 1 */
    0xFC, 0x0C, 0x01, 0x00,       /* table.init table 0, segment 1 */
    0xFC, 0x0D, 0x01,             /* elem.drop 1 */
    0x41, 0x00, 0x41, 0x00, 0x41, 0x00, /* i32.const 0, 0, 0 */
    0xFC, 0x0E, 0x00, 0x01,       /* table.copy 0 1 */
    0xD0, 0x70,                   /* ref.null func */
    0x41, 0x01,                   /* i32.const 1 */
    0xFC, 0x0F, 0x00,             /* table.grow 0 */
    0x1A,                         /* drop */
    0xFC, 0x10, 0x02,             /* table.size 2 */
    0x1A,                         /* drop */
    0x41, 0x00,                   /* i32.const 0 */
    0xD0, 0x6F,                   /* ref.null extern */
    0x41, 0x00,                   /* i32.const 0 */
    0xFC, 0x11, 0x02,             /* table.fill 2 */
    0x41, 0x00,                   /* i32.const 0 */
    0x25, 0x00,                   /* table.get 0 */
    0x1A,                         /* drop */
    0x41, 0x00,                   /* i32.const 0 */
    0xD2, 0x02,                   /* ref.func 2 */
    0x26, 0x00,                   /* table.set 0 */
    0x41, 0x05,                   /* i32.const 5 */
    0xC0,                         /* i32.extend8_s */
    0x1A,                         /* drop */
    0x42, 0x05,                   /* i64.const 5 */
    0xC4,                         /* i64.extend32_s */
    0x1A,                         /* drop */
    0x43, 0x00, 0x00, 0x80, 0x3F, /* f32.const 1 */
    0xFC, 0x00,                   /* i32.trunc_sat_f32_s */
    0x1A,                         /* drop */
    0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F, /* f64.const 1 */
    0xFC, 0x07,                   /* i64.trunc_sat_f64_u */
    0x1A,                         /* drop */
    0x41, 0x01, 0x41, 0x02, 0x41, 0x00, /* i32.const 1, 2, 0 */
    0x1C, 0x01, 0x7F,             /* select (result i32) */
    0x1A,                         /* drop */
    0xD2, 0x03,                   /* ref.func 3 */
    0xD1,                         /* ref.is_null */
    0x1A,                         /* drop */
    0x41, 0x01,                   /* i32.const 1 */
    0x42, 0x02,                   /* i64.const 2 */
    0x41, 0x00,                   /* i32.const 0 */
    0x11, 0x00, 0x00,             /* call_indirect type 0, table 0 */
    0x1A,                         /* drop */
    0x41, 0x03,                   /* i32.const 3 */
    0x02, 0x03,                   /* block (type 3): multi-value */
    0x41, 0x04,                   /*   i32.const 4 */
    0x0B,                         /* end */
    0x1A, 0x1A,                   /* drop, drop */
    0x23, 0x02,                   /* global.get 2 */
    0x24, 0x02,                   /* global.set 2 */
    0x20, 0x00,                   /* local.get 0 */
    0x22, 0x00,                   /* local.tee 0 */
    0x21, 0x00,                   /* local.set 0 */
    0x41, 0x01,                   /* i32.const 1 */
    0x42, 0x02,                   /* i64.const 2 */
    0x10, 0x00,                   /* call 0 */
    0x1A,                         /* drop */
    0x0B,                         /* end */
    /* Function 2 ($f1), 8 bytes. */
    0x08, 0x00,                   /* no locals */
    0x20, 0x00,                   /* local.get 0 */
    0x20, 0x01,                   /* local.get 1 */
    0xA7,                         /* i32.wrap_i64 */
    0x6A,                         /* i32.add */
    0x0B,                         /* end */
    /* Function 3 ($f2), 6 bytes. */
    0x06, 0x00,                   /* no locals */
    0x42, 0x07,                   /* i64.const 7 */
    0xD0, 0x6F,                   /* ref.null extern */
    0x0B,                         /* end */

    /* Custom section "wudf", empty payload. */
    0x00, 0x05, 0x04, 'w', 'u', 'd', 'f',

    /* Data section: 3 segments. */
    0x0B, 0x14, 0x03,
    0x00, 0x41, 0x00, 0x0B, 0x02, 'h', 'i',       /* active at 0: "hi" */
    0x01, 0x03, 'x', 'y', 'z',                    /* passive: "xyz" */
    0x02, 0x00, 0x41, 0x08, 0x0B, 0x01, '!',      /* active, memory 0, at 8 */

    /* Custom section "name": function names (subsection 1). */
    0x00, 0x13, 0x04, 'n', 'a', 'm', 'e',
    0x01, 0x0C, 0x02,                             /* function names: 2 */
    0x01, 0x05, 's', 't', 'a', 'r', 't',          /* 1: "start" */
    0x02, 0x02, 'f', '1',                         /* 2: "f1" */
};

/* Offsets of the custom section payloads in valid_module. */
#define VALID_META_OFFSET 15
#define VALID_WUDF_OFFSET 510
#define VALID_NAME_OFFSET 539

/* ------------------------------------------------------------------------ */
/* Module builder                                                            */
/* ------------------------------------------------------------------------ */

/* A small module assembled at run time. */
struct module {
  uint8_t bytes[4096];
  size_t size;
};

/* Expands to a byte array and its size, as two function arguments. */
#define B(...) \
  (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* Appends `size` bytes. */
static void emit(struct module* m, const uint8_t* bytes, size_t size) {
  if (m->size + size > sizeof(m->bytes)) TEST_FAIL("test module too big");
  memcpy(m->bytes + m->size, bytes, size);
  m->size += size;
}

/* Appends `value` as an unsigned LEB128. */
static void emit_u32(struct module* m, uint32_t value) {
  do {
    uint8_t byte = value & 0x7F;
    value >>= 7;
    if (value != 0) byte |= 0x80;
    emit(m, &byte, 1);
  } while (value != 0);
}

/* Starts a module: magic and version. */
static void begin(struct module* m) {
  m->size = 0;
  emit(m, B(0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00));
}

/* Appends a section with id `id` and the given contents. */
static void section(struct module* m, uint8_t id, const uint8_t* contents,
                    size_t size) {
  emit(m, &id, 1);
  emit_u32(m, (uint32_t)size);
  emit(m, contents, size);
}

/* Appends a code section with one function body (local declarations and
 * instructions; the size is added here). */
static void code_section(struct module* m, const uint8_t* body, size_t size) {
  struct module contents = {.size = 0};
  emit_u32(&contents, 1);
  emit_u32(&contents, (uint32_t)size);
  emit(&contents, body, size);
  section(m, 10, contents.bytes, contents.size);
}

/*
 * Builds a module around one function body: type 0 is [] -> [], type 1 is
 * [i32] -> [i32]; function 0 has type 0; table 0 holds 1 funcref; memory 0
 * has 1 page; global 0 is a mutable i32; element segment 0 is passive; the
 * data count is 1 and data segment 0 is passive.
 */
static void body_module(struct module* m, const uint8_t* body, size_t size) {
  begin(m);
  section(m, 1, B(0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7F, 0x01, 0x7F));
  section(m, 3, B(0x01, 0x00));
  section(m, 4, B(0x01, 0x70, 0x00, 0x01));
  section(m, 5, B(0x01, 0x00, 0x01));
  section(m, 6, B(0x01, 0x7F, 0x01, 0x41, 0x00, 0x0B));
  section(m, 9, B(0x01, 0x01, 0x00, 0x01, 0x00));
  section(m, 12, B(0x01));
  code_section(m, body, size);
  section(m, 11, B(0x01, 0x01, 0x00));
}

/* ------------------------------------------------------------------------ */
/* Checking helpers                                                          */
/* ------------------------------------------------------------------------ */

/* Returns nonzero when wabt's wasm-validate is on PATH. */
static int have_wabt(void) {
  static int known = -1;
  if (known < 0) {
    known = system("command -v wasm-validate >/dev/null 2>&1") == 0;
    if (!known) printf("note: no wasm-validate on PATH; wabt checks skipped\n");
  }
  return known;
}

/* Runs wasm-validate (with `flags`) on the bytes; returns 1 if it accepts
 * them, 0 if it rejects them. Only call when have_wabt(). */
static int wabt_accepts(const uint8_t* bytes, size_t size, const char* flags) {
  char path[] = "/tmp/test_wasm_reader_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) TEST_FAIL("mkstemp failed");
  if (write(fd, bytes, size) != (ssize_t)size) {
    close(fd);
    unlink(path);
    TEST_FAIL("cannot write %s", path);
  }
  close(fd);
  char command[256];
  snprintf(command, sizeof(command), "wasm-validate %s %s >/dev/null 2>&1",
           flags, path);
  int status = system(command);
  unlink(path);
  return status == 0;
}

/* Reads the bytes (copied to an exactly sized heap block, so that
 * AddressSanitizer sees any read past the end) and returns the status. */
static int read_copy(const uint8_t* bytes, size_t size,
                     const struct wudf__wasm_limits* limits,
                     struct wudf__wasm_info* info, struct wudf_error* error) {
  uint8_t* copy = malloc(size != 0 ? size : 1);
  if (copy == NULL) TEST_FAIL("malloc failed");
  if (size != 0) memcpy(copy, bytes, size);
  int status = wudf__wasm_read(copy, size, limits, info, error);
  free(copy);
  return status;
}

/* Expects the module to be read successfully (and wabt to accept it). */
static void expect_valid(const char* what, const uint8_t* bytes, size_t size) {
  struct wudf__wasm_info info;
  struct wudf_error error = {0};
  int status = read_copy(bytes, size, NULL, &info, &error);
  if (status != 0) TEST_FAIL("%s: status %d: %s", what, status, error.message);
  wudf__wasm_info_release(&info);
  if (have_wabt() && !wabt_accepts(bytes, size, "")) {
    TEST_FAIL("%s: wasm-validate rejects a module the test calls valid", what);
  }
}

/* Expects the read to fail with `code` and a message containing `needle`. */
static void expect_error(const char* what, const uint8_t* bytes, size_t size,
                         const struct wudf__wasm_limits* limits, int code,
                         const char* needle) {
  struct wudf__wasm_info info;
  struct wudf_error error = {0};
  int status = read_copy(bytes, size, limits, &info, &error);
  if (status == 0) {
    wudf__wasm_info_release(&info);
    TEST_FAIL("%s: read succeeded, expected %d (%s)", what, code, needle);
  }
  if (status != code || error.code != code ||
      strstr(error.message, needle) == NULL) {
    TEST_FAIL("%s: expected %d with \"%s\", got %d: %s", what, code, needle,
              status, error.message);
  }
  /* On failure the info holds nothing: all zero. */
  static const struct wudf__wasm_info zero;
  if (memcmp(&info, &zero, sizeof(info)) != 0) {
    TEST_FAIL("%s: info not cleared after failure", what);
  }
}

/* Expects ENOEXEC with `needle`, and wabt to reject the module too. */
static void expect_malformed(const char* what, const uint8_t* bytes,
                             size_t size, const char* needle) {
  expect_error(what, bytes, size, NULL, ENOEXEC, needle);
  if (have_wabt() && wabt_accepts(bytes, size, "")) {
    TEST_FAIL("%s: wasm-validate accepts a module the test calls malformed",
              what);
  }
}

/* Expects a well-formed module that breaks a rule of validation to be
 * refused with ENOEXEC, "invalid module: " and `needle`, and wabt to reject
 * it too. */
static void expect_invalid(const char* what, const uint8_t* bytes, size_t size,
                           const char* needle) {
  expect_error(what, bytes, size, NULL, ENOEXEC, "invalid module: ");
  expect_malformed(what, bytes, size, needle);
}

/* Expects ENOEXEC with `needle` for a module the specification calls
 * malformed (spec 5.4, 5.5.16; the spec test suite's binary.wast has these
 * cases) but wabt 1.0.32 accepts: it does not check that a function body
 * closes all its blocks, that a constant expression ends with `end` when the
 * section ends first, or that a data count has a data section to match. */
static void expect_malformed_lenient_wabt(const char* what,
                                          const uint8_t* bytes, size_t size,
                                          const char* needle) {
  expect_error(what, bytes, size, NULL, ENOEXEC, needle);
}

/* Expects ENOTSUP naming `feature`, with `needle` in the message. */
static void expect_unsupported(const char* what, const uint8_t* bytes,
                               size_t size, const char* feature,
                               const char* needle) {
  char prefix[96];
  snprintf(prefix, sizeof(prefix), "unsupported feature %s: ", feature);
  expect_error(what, bytes, size, NULL, ENOTSUP, needle);
  struct wudf__wasm_info info;
  struct wudf_error error = {0};
  read_copy(bytes, size, NULL, &info, &error);
  if (strncmp(error.message, prefix, strlen(prefix)) != 0) {
    TEST_FAIL("%s: message should start with \"%s\": %s", what, prefix,
              error.message);
  }
}

/* Expects ENOTSUP for a module that wabt accepts with all its proposals on,
 * showing the test encodes the feature correctly. */
static void expect_unsupported_but_valid(const char* what,
                                         const uint8_t* bytes, size_t size,
                                         const char* feature,
                                         const char* needle) {
  expect_unsupported(what, bytes, size, feature, needle);
  if (have_wabt() && !wabt_accepts(bytes, size, "--enable-all")) {
    TEST_FAIL("%s: wasm-validate --enable-all rejects the feature module",
              what);
  }
}

/* Expects EFBIG under `limits`, with `needle` in the message. */
static void expect_too_large(const char* what, const uint8_t* bytes,
                             size_t size,
                             const struct wudf__wasm_limits* limits,
                             const char* needle) {
  expect_error(what, bytes, size, limits, EFBIG, "module too large: ");
  expect_error(what, bytes, size, limits, EFBIG, needle);
}

/* ------------------------------------------------------------------------ */
/* Counting allocator                                                        */
/* ------------------------------------------------------------------------ */

/* State of the test allocator: live blocks, the largest request, and the
 * countdown to an injected failure (-1: never fail). */
static struct {
  long live;
  size_t largest;
  long calls;
  long fail_at;
} heap;

static void* counting_malloc(void* user_data, size_t size) {
  (void)user_data;
  if (size > heap.largest) heap.largest = size;
  if (heap.fail_at >= 0 && heap.calls++ == heap.fail_at) return NULL;
  void* pointer = malloc(size != 0 ? size : 1);
  if (pointer != NULL) heap.live++;
  return pointer;
}

static void* counting_realloc(void* user_data, void* pointer, size_t size) {
  (void)user_data;
  if (size > heap.largest) heap.largest = size;
  if (heap.fail_at >= 0 && heap.calls++ == heap.fail_at) return NULL;
  void* result = realloc(pointer, size != 0 ? size : 1);
  if (result != NULL && pointer == NULL) heap.live++;
  return result;
}

static void counting_free(void* user_data, void* pointer) {
  (void)user_data;
  if (pointer != NULL) heap.live--;
  free(pointer);
}

/* Installs the counting allocator with a fresh state. */
static void counting_begin(long fail_at) {
  static const struct wudf_allocator allocator = {
      counting_malloc, counting_realloc, counting_free, NULL};
  heap.live = 0;
  heap.largest = 0;
  heap.calls = 0;
  heap.fail_at = fail_at;
  if (wudf_set_allocator(&allocator) != 0) TEST_FAIL("wudf_set_allocator");
}

/* Restores the default allocator. */
static void counting_end(void) { wudf_set_allocator(NULL); }

/* ------------------------------------------------------------------------ */
/* Valid modules                                                             */
/* ------------------------------------------------------------------------ */

TEST(valid_module_fields) {
  struct wudf__wasm_info info;
  struct wudf_error error = {0};
  ASSERT_OK(wudf__wasm_read(valid_module, sizeof(valid_module), NULL, &info,
                            &error),
            &error);

  ASSERT_EQ(info.type_count, 4);
  ASSERT_EQ(info.types[0].param_count, 2);
  ASSERT_EQ(info.types[0].params[0], WUDF__WASM_I32);
  ASSERT_EQ(info.types[0].params[1], WUDF__WASM_I64);
  ASSERT_EQ(info.types[0].result_count, 1);
  ASSERT_EQ(info.types[0].results[0], WUDF__WASM_I32);
  ASSERT_EQ(info.types[1].param_count, 0);
  ASSERT_EQ(info.types[1].result_count, 0);
  ASSERT(info.types[1].params == NULL && info.types[1].results == NULL);
  ASSERT_EQ(info.types[2].param_count, 2);
  ASSERT_EQ(info.types[2].params[0], WUDF__WASM_F32);
  ASSERT_EQ(info.types[2].params[1], WUDF__WASM_F64);
  ASSERT_EQ(info.types[2].result_count, 2);
  ASSERT_EQ(info.types[2].results[0], WUDF__WASM_I64);
  ASSERT_EQ(info.types[2].results[1], WUDF__WASM_EXTERNREF);
  ASSERT_EQ(info.types[3].param_count, 1);
  ASSERT_EQ(info.types[3].result_count, 2);

  ASSERT_EQ(info.import_count, 3);
  ASSERT_STR_EQ(info.imports[0].module, "env");
  ASSERT_STR_EQ(info.imports[0].name, "print");
  ASSERT_EQ(info.imports[0].kind, WUDF__EXTERN_FUNC);
  ASSERT_EQ(info.imports[0].type_index, 0);
  ASSERT_STR_EQ(info.imports[1].module, "env");
  ASSERT_STR_EQ(info.imports[1].name, "g0");
  ASSERT_EQ(info.imports[1].kind, WUDF__EXTERN_GLOBAL);
  ASSERT_STR_EQ(info.imports[2].name, "gm");
  ASSERT_EQ(info.imports[2].kind, WUDF__EXTERN_GLOBAL);

  ASSERT_EQ(info.function_count, 4);
  ASSERT_EQ(info.imported_function_count, 1);
  ASSERT_EQ(info.function_types[0], 0);
  ASSERT_EQ(info.function_types[1], 1);
  ASSERT_EQ(info.function_types[2], 0);
  ASSERT_EQ(info.function_types[3], 2);

  ASSERT_EQ(info.export_count, 5);
  ASSERT_STR_EQ(info.exports[0].name, "add");
  ASSERT_EQ(info.exports[0].kind, WUDF__EXTERN_FUNC);
  ASSERT_EQ(info.exports[0].index, 2);
  ASSERT_STR_EQ(info.exports[1].name, "mem");
  ASSERT_EQ(info.exports[1].kind, WUDF__EXTERN_MEMORY);
  ASSERT_EQ(info.exports[1].index, 0);
  ASSERT_STR_EQ(info.exports[2].name, "tab");
  ASSERT_EQ(info.exports[2].kind, WUDF__EXTERN_TABLE);
  ASSERT_EQ(info.exports[2].index, 0);
  ASSERT_STR_EQ(info.exports[3].name, "counter");
  ASSERT_EQ(info.exports[3].kind, WUDF__EXTERN_GLOBAL);
  ASSERT_EQ(info.exports[3].index, 2);
  ASSERT_STR_EQ(info.exports[4].name, "print");
  ASSERT_EQ(info.exports[4].kind, WUDF__EXTERN_FUNC);
  ASSERT_EQ(info.exports[4].index, 0);

  ASSERT_EQ(info.has_memory, 1);
  ASSERT_EQ(info.memory_min_pages, 1);
  ASSERT_EQ(info.memory_max_pages, 2);
  ASSERT_EQ(info.memory_has_max, 1);

  ASSERT_EQ(info.table_count, 3);
  ASSERT_EQ(info.table_min, 2);
  ASSERT_EQ(info.table_max, 10);

  ASSERT_EQ(info.global_count, 9); /* 2 imported + 7 defined */
  ASSERT_EQ(info.has_start, 1);
  ASSERT_EQ(info.start_function, 1);

  ASSERT_EQ(info.custom_count, 3);
  ASSERT_STR_EQ(info.customs[0].name, "meta");
  ASSERT_EQ(info.customs[0].offset, VALID_META_OFFSET);
  ASSERT_EQ(info.customs[0].size, 2);
  ASSERT(memcmp(valid_module + info.customs[0].offset, "v1", 2) == 0);
  ASSERT_STR_EQ(info.customs[1].name, "wudf");
  ASSERT_EQ(info.customs[1].offset, VALID_WUDF_OFFSET);
  ASSERT_EQ(info.customs[1].size, 0);
  ASSERT_STR_EQ(info.customs[2].name, "name");
  ASSERT_EQ(info.customs[2].offset, VALID_NAME_OFFSET);
  ASSERT_EQ(info.customs[2].size, 14);
  ASSERT_EQ(info.customs[2].offset + info.customs[2].size,
            sizeof(valid_module));

  ASSERT(wudf__wasm_find_custom(&info, "name") == &info.customs[2]);
  ASSERT(wudf__wasm_find_custom(&info, "meta") == &info.customs[0]);
  ASSERT(wudf__wasm_find_custom(&info, "nam") == NULL);
  ASSERT(wudf__wasm_find_custom(&info, "missing") == NULL);

  wudf__wasm_info_release(&info);
  ASSERT_EQ(info.type_count, 0);
  ASSERT(info.types == NULL && info.customs == NULL);
  wudf__wasm_info_release(&info); /* releasing twice is harmless */
}

TEST(valid_modules_accepted_by_wabt) {
  expect_valid("valid_module", valid_module, sizeof(valid_module));
  struct module m;
  begin(&m);
  expect_valid("header only", m.bytes, m.size);
  body_module(&m, B(0x00, 0x0B));
  expect_valid("body module", m.bytes, m.size);
}

TEST(empty_module) {
  struct module m;
  begin(&m);
  struct wudf__wasm_info info;
  struct wudf_error error = {0};
  ASSERT_OK(wudf__wasm_read(m.bytes, m.size, NULL, &info, &error), &error);
  static const struct wudf__wasm_info zero;
  ASSERT(memcmp(&info, &zero, sizeof(info)) == 0);
  ASSERT(wudf__wasm_find_custom(&info, "name") == NULL);
  wudf__wasm_info_release(&info);
}

TEST(imported_memory_and_table) {
  /* (import "m" "mem" (memory 3)) (import "m" "t" (table 4 8 externref))
   * (import "m" "f" (func)): the reader records them all; the memory counts
   * as the module's one memory. */
  struct module m;
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 2, B(0x03,
                   0x01, 'm', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x03,
                   0x01, 'm', 0x01, 't', 0x01, 0x6F, 0x01, 0x04, 0x08,
                   0x01, 'm', 0x01, 'f', 0x00, 0x00));
  section(&m, 7, B(0x01, 0x01, 'f', 0x00, 0x00));
  expect_valid("imports", m.bytes, m.size);

  struct wudf__wasm_info info;
  struct wudf_error error = {0};
  ASSERT_OK(wudf__wasm_read(m.bytes, m.size, NULL, &info, &error), &error);
  ASSERT_EQ(info.import_count, 3);
  ASSERT_STR_EQ(info.imports[0].module, "m");
  ASSERT_STR_EQ(info.imports[0].name, "mem");
  ASSERT_EQ(info.imports[0].kind, WUDF__EXTERN_MEMORY);
  ASSERT_EQ(info.imports[1].kind, WUDF__EXTERN_TABLE);
  ASSERT_EQ(info.imports[2].kind, WUDF__EXTERN_FUNC);
  ASSERT_EQ(info.has_memory, 1);
  ASSERT_EQ(info.memory_min_pages, 3);
  ASSERT_EQ(info.memory_has_max, 0);
  ASSERT_EQ(info.memory_max_pages, 65536);
  ASSERT_EQ(info.table_count, 0); /* defined tables */
  ASSERT_EQ(info.table_min, 4);   /* table 0 is the import */
  ASSERT_EQ(info.table_max, 8);
  ASSERT_EQ(info.function_count, 1);
  ASSERT_EQ(info.imported_function_count, 1);
  ASSERT_EQ(info.function_types[0], 0);
  ASSERT_EQ(info.export_count, 1);
  ASSERT_EQ(info.has_start, 0);
  wudf__wasm_info_release(&info);

  /* A table without a maximum reports UINT32_MAX. */
  begin(&m);
  section(&m, 4, B(0x01, 0x70, 0x00, 0x07));
  ASSERT_OK(wudf__wasm_read(m.bytes, m.size, NULL, &info, &error), &error);
  ASSERT_EQ(info.table_count, 1);
  ASSERT_EQ(info.table_min, 7);
  ASSERT_EQ(info.table_max, UINT32_MAX);
  ASSERT_EQ(info.has_memory, 0);
  wudf__wasm_info_release(&info);
}

TEST(accepted_encodings) {
  struct module m;
  /* Padded (non-minimal) LEB128s are valid and emitted by linkers: the type
   * count 0x81 0x80 0x80 0x80 0x00 (1) and a five-byte function index. */
  begin(&m);
  section(&m, 1, B(0x81, 0x80, 0x80, 0x80, 0x00, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x80, 0x80, 0x80, 0x80, 0x00));
  code_section(&m, B(0x00, 0x0B));
  expect_valid("padded LEB128", m.bytes, m.size);
  /* The largest constants: i32.const -2^31 and 2^31-1, i64.const -2^63. */
  body_module(&m, B(0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x78, 0x1A,
                    0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x1A,
                    0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                    0x80, 0x7F, 0x1A, 0x0B));
  expect_valid("extreme constants", m.bytes, m.size);
  /* Valid UTF-8 names: 2-, 3- and 4-byte forms (U+00E9, U+20AC, U+1F600),
   * and the largest code point U+10FFFF. */
  begin(&m);
  section(&m, 0, B(0x0E, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98,
                   0x80, 0xF4, 0x8F, 0xBF, 0xBF, 'x'));
  expect_valid("UTF-8 custom name", m.bytes, m.size);
  /* A memory of exactly 65536 pages, and a custom section before and after
   * everything. */
  begin(&m);
  section(&m, 0, B(0x01, 'a'));
  section(&m, 5, B(0x01, 0x01, 0x80, 0x80, 0x04, 0x80, 0x80, 0x04));
  section(&m, 0, B(0x01, 'b', 0x00, 0x01));
  expect_valid("largest memory", m.bytes, m.size);
  /* Deep but allowed nesting, br_table over all of it, and an if/else. */
  body_module(&m, B(0x00, 0x02, 0x40, 0x03, 0x40, 0x02, 0x40, 0x41, 0x00,
                    0x0E, 0x03, 0x00, 0x01, 0x02, 0x03, 0x0B, 0x0B, 0x0B,
                    0x41, 0x00, 0x04, 0x7F, 0x41, 0x01, 0x05, 0x41, 0x02,
                    0x0B, 0x1A, 0x0B));
  expect_valid("nesting", m.bytes, m.size);
}

/* ------------------------------------------------------------------------ */
/* Unsupported features                                                      */
/* ------------------------------------------------------------------------ */

TEST(unsupported_simd) {
  struct module m;
  /* A v128 parameter in the type section. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x01, 0x7B, 0x00));
  expect_unsupported_but_valid("v128 param", m.bytes, m.size, "SIMD",
                               "value type v128");
  /* A v128 local. */
  body_module(&m, B(0x01, 0x01, 0x7B, 0x0B));
  expect_unsupported_but_valid("v128 local", m.bytes, m.size, "SIMD", "v128");
  /* A v128 global initialised with v128.const. */
  begin(&m);
  section(&m, 6, B(0x01, 0x7B, 0x00, 0xFD, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                   0, 0, 0, 0, 0, 0, 0, 0x0B));
  expect_unsupported_but_valid("v128 global", m.bytes, m.size, "SIMD", "v128");
  /* A block of type v128. */
  body_module(&m, B(0x00, 0x02, 0x7B, 0xFD, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    0, 0, 0, 0, 0, 0, 0, 0x0B, 0x1A, 0x0B));
  expect_unsupported_but_valid("v128 block", m.bytes, m.size, "SIMD", "v128");
  /* An instruction with the 0xFD prefix: i32x4.splat after i32.const 1. */
  body_module(&m, B(0x00, 0x41, 0x01, 0xFD, 0x11, 0x1A, 0x0B));
  expect_unsupported_but_valid("0xfd instruction", m.bytes, m.size, "SIMD",
                               "instruction 0xfd 0x11 in function 0 at offset");
  /* The exact message format. */
  struct wudf__wasm_info info;
  struct wudf_error error = {0};
  ASSERT_STATUS(wudf__wasm_read(m.bytes, m.size, NULL, &info, &error), ENOTSUP,
                &error);
  char expected[128];
  snprintf(expected, sizeof(expected),
           "unsupported feature SIMD: instruction 0xfd 0x11 in function 0 at "
           "offset 0x%zx",
           m.size - 5 /* data section */ - 4 /* 0xfd 0x11 drop end */);
  ASSERT_STR_EQ(error.message, expected);
  /* A select typed v128. */
  body_module(&m, B(0x00, 0x1C, 0x01, 0x7B, 0x0B));
  expect_unsupported("select v128", m.bytes, m.size, "SIMD", "v128");
}

TEST(unsupported_threads) {
  struct module m;
  /* (memory 1 1 shared): limits flags 0x03. */
  begin(&m);
  section(&m, 5, B(0x01, 0x03, 0x01, 0x01));
  expect_unsupported_but_valid("shared memory", m.bytes, m.size, "threads",
                               "shared memory");
  /* Flags 0x02 (shared, no maximum) in an import. */
  begin(&m);
  section(&m, 2, B(0x01, 0x01, 'm', 0x01, 'm', 0x02, 0x02, 0x01));
  expect_unsupported("shared imported memory", m.bytes, m.size, "threads",
                     "shared memory");
  /* memory.atomic.notify (0xFE 0x00). */
  body_module(&m, B(0x00, 0x41, 0x00, 0x41, 0x00, 0xFE, 0x00, 0x02, 0x00,
                    0x1A, 0x0B));
  expect_unsupported_but_valid("atomic instruction", m.bytes, m.size,
                               "threads", "instruction 0xfe 0x00");
}

TEST(unsupported_memory64) {
  struct module m;
  for (uint8_t flags = 0x04; flags <= 0x07; flags++) {
    begin(&m);
    const uint8_t memory[] = {0x01, flags, 0x01, 0x02};
    section(&m, 5, memory, flags & 1 ? 4 : 3);
    expect_unsupported("64-bit memory", m.bytes, m.size, "memory64",
                       "64-bit memory");
  }
  begin(&m);
  section(&m, 5, B(0x01, 0x04, 0x01));
  expect_unsupported_but_valid("i64 memory", m.bytes, m.size, "memory64",
                               "limits flags 0x04");
}

TEST(unsupported_multi_memory) {
  struct module m;
  /* Two defined memories. */
  begin(&m);
  section(&m, 5, B(0x02, 0x00, 0x01, 0x00, 0x01));
  expect_unsupported_but_valid("two memories", m.bytes, m.size,
                               "multi-memory", "2 memories");
  /* An imported memory and a defined one. */
  begin(&m);
  section(&m, 2, B(0x01, 0x01, 'm', 0x01, 'm', 0x02, 0x00, 0x01));
  section(&m, 5, B(0x01, 0x00, 0x01));
  expect_unsupported_but_valid("import + memory", m.bytes, m.size,
                               "multi-memory", "2 memories");
  /* Two imported memories. */
  begin(&m);
  section(&m, 2, B(0x02, 0x01, 'm', 0x01, 'a', 0x02, 0x00, 0x01,
                   0x01, 'm', 0x01, 'b', 0x02, 0x00, 0x01));
  expect_unsupported("two imported memories", m.bytes, m.size,
                     "multi-memory", "a second memory");
  /* A memarg with bit 6 of the alignment set (explicit memory index 0). */
  body_module(&m, B(0x00, 0x41, 0x00, 0x28, 0x42, 0x00, 0x00, 0x1A, 0x0B));
  expect_unsupported_but_valid("memarg memory index", m.bytes, m.size,
                               "multi-memory", "memory index");
  /* memory.size / memory.grow of memory 1. */
  body_module(&m, B(0x00, 0x3F, 0x01, 0x1A, 0x0B));
  expect_unsupported("memory.size 1", m.bytes, m.size, "multi-memory",
                     "memory.size with memory byte 0x01");
  body_module(&m, B(0x00, 0x41, 0x00, 0x40, 0x01, 0x1A, 0x0B));
  expect_unsupported("memory.grow 1", m.bytes, m.size, "multi-memory",
                     "memory.grow");
  /* Bulk memory instructions naming memory 1. */
  body_module(&m, B(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x08,
                    0x00, 0x01, 0x0B));
  expect_unsupported("memory.init 1", m.bytes, m.size, "multi-memory",
                     "memory.init");
  body_module(&m, B(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x0A,
                    0x00, 0x01, 0x0B));
  expect_unsupported("memory.copy 0 1", m.bytes, m.size, "multi-memory",
                     "memory.copy");
  body_module(&m, B(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x0B,
                    0x01, 0x0B));
  expect_unsupported("memory.fill 1", m.bytes, m.size, "multi-memory",
                     "memory.fill");
  /* An active data segment for memory 1. */
  begin(&m);
  section(&m, 5, B(0x01, 0x00, 0x01));
  section(&m, 11, B(0x01, 0x02, 0x01, 0x41, 0x00, 0x0B, 0x00));
  expect_unsupported("data for memory 1", m.bytes, m.size, "multi-memory",
                     "data segment for memory 1");
}

TEST(unsupported_exception_handling) {
  struct module m;
  /* A tag section (id 13) with one tag of type 0. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x01, 0x7F, 0x00));
  section(&m, 13, B(0x01, 0x00, 0x00));
  expect_unsupported_but_valid("tag section", m.bytes, m.size,
                               "exception handling", "section 13 (tag)");
  /* A tag import and a tag export. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 2, B(0x01, 0x01, 'm', 0x01, 't', 0x04, 0x00, 0x00));
  expect_unsupported_but_valid("tag import", m.bytes, m.size,
                               "exception handling", "tag import");
  begin(&m);
  section(&m, 7, B(0x01, 0x01, 't', 0x04, 0x00));
  expect_unsupported("tag export", m.bytes, m.size, "exception handling",
                     "tag export");
  /* try/catch/throw/rethrow/delegate/catch_all as first instruction. */
  static const struct {
    uint8_t op;
    const char* name;
  } ops[] = {{0x06, "try"},     {0x07, "catch"},    {0x08, "throw"},
             {0x09, "rethrow"}, {0x18, "delegate"}, {0x19, "catch_all"}};
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    body_module(&m, (const uint8_t[]){0x00, ops[i].op, 0x40, 0x0B, 0x0B}, 5);
    char needle[64];
    snprintf(needle, sizeof(needle), "instruction 0x%02x (%s)", ops[i].op,
             ops[i].name);
    expect_unsupported(ops[i].name, m.bytes, m.size, "exception handling",
                       needle);
  }
  /* A real try/catch_all, valid with wabt's exceptions proposal. */
  body_module(&m, B(0x00, 0x06, 0x40, 0x19, 0x0B, 0x0B));
  expect_unsupported_but_valid("try catch_all", m.bytes, m.size,
                               "exception handling", "(try)");
}

TEST(unsupported_tail_calls) {
  struct module m;
  body_module(&m, B(0x00, 0x12, 0x00, 0x0B));
  expect_unsupported_but_valid("return_call", m.bytes, m.size, "tail calls",
                               "instruction 0x12 (return_call)");
  body_module(&m, B(0x00, 0x41, 0x00, 0x13, 0x00, 0x00, 0x0B));
  expect_unsupported_but_valid("return_call_indirect", m.bytes, m.size,
                               "tail calls",
                               "instruction 0x13 (return_call_indirect)");
}

TEST(unsupported_gc) {
  struct module m;
  /* Reference value types of the GC and function-references proposals. */
  static const uint8_t types[] = {0x6B, 0x6C, 0x64, 0x63, 0x6E, 0x6D, 0x6A,
                                  0x71, 0x72, 0x73};
  for (size_t i = 0; i < sizeof(types); i++) {
    begin(&m);
    section(&m, 1, (const uint8_t[]){0x01, 0x60, 0x01, types[i], 0x70, 0x00},
            6);
    expect_unsupported("GC value type", m.bytes, m.size,
                       "GC/function references", "value type 0x");
  }
  /* A struct type definition. */
  begin(&m);
  section(&m, 1, B(0x01, 0x5F, 0x01, 0x7F, 0x00));
  expect_unsupported("struct type", m.bytes, m.size, "GC/function references",
                     "type form 0x5f");
  /* call_ref, the ref.as_non_null/br_on_null family, and the 0xFB prefix. */
  static const uint8_t ops[] = {0x14, 0xD3, 0xD4, 0xD5, 0xD6};
  for (size_t i = 0; i < sizeof(ops); i++) {
    body_module(&m, (const uint8_t[]){0x00, ops[i], 0x00, 0x0B}, 4);
    expect_unsupported("GC instruction", m.bytes, m.size,
                       "GC/function references", "instruction 0x");
  }
  body_module(&m, B(0x00, 0xFB, 0x01, 0x00, 0x0B));
  expect_unsupported("0xfb prefix", m.bytes, m.size, "GC/function references",
                     "instruction 0xfb 0x01");
  /* ref.null of a concrete type, and a table with an initializer. */
  body_module(&m, B(0x00, 0xD0, 0x00, 0x1A, 0x0B));
  expect_unsupported("ref.null typeidx", m.bytes, m.size,
                     "GC/function references", "reference type 0x00");
  begin(&m);
  section(&m, 4, B(0x01, 0x40, 0x00, 0x70, 0x00, 0x01, 0xD0, 0x70, 0x0B));
  expect_unsupported("table initializer", m.bytes, m.size,
                     "GC/function references", "table with an initializer");
}

TEST(unsupported_nul_in_names) {
  struct module m;
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 7, B(0x01, 0x03, 'f', 0x00, 'x', 0x00, 0x00));
  code_section(&m, B(0x00, 0x0B));
  expect_unsupported_but_valid("NUL in export name", m.bytes, m.size,
                               "NUL in names", "NUL character");
}

/* ------------------------------------------------------------------------ */
/* Malformed modules                                                         */
/* ------------------------------------------------------------------------ */

TEST(malformed_header) {
  expect_malformed("empty", (const uint8_t*)"", 0, "bad magic number");
  expect_malformed("short", B(0x00, 0x61, 0x73), "bad magic number");
  expect_malformed("bad magic",
                   B(0x00, 0x61, 0x73, 0x6E, 0x01, 0x00, 0x00, 0x00),
                   "bad magic number");
  expect_malformed("no version", B(0x00, 0x61, 0x73, 0x6D, 0x01, 0x00),
                   "unexpected end of module at offset 0x4");
  expect_malformed("version 2",
                   B(0x00, 0x61, 0x73, 0x6D, 0x02, 0x00, 0x00, 0x00),
                   "unknown binary version 0x00000002");
  expect_malformed("component",
                   B(0x00, 0x61, 0x73, 0x6D, 0x0D, 0x00, 0x01, 0x00),
                   "unknown binary version");
}

TEST(malformed_sections) {
  struct module m;
  /* A section whose size runs past the end of the module. */
  begin(&m);
  emit(&m, B(0x01, 0x10, 0x01, 0x60, 0x00, 0x00));
  expect_malformed("overrun", m.bytes, m.size,
                   "section 1 (type) overruns the module at offset 0x8");
  /* A section cut inside its size. */
  begin(&m);
  emit(&m, B(0x01, 0x80));
  expect_malformed("truncated size", m.bytes, m.size,
                   "unexpected end of module");
  /* Contents shorter than they claim: a type entry cut off. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x02, 0x7F));
  expect_malformed("truncated entry", m.bytes, m.size,
                   "2 parameters overrun the section in type 0 of section 1 "
                   "(type) at offset 0xc");
  /* Contents longer than they use. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00, 0x00));
  expect_malformed("trailing bytes", m.bytes, m.size,
                   "section size mismatch: 1 bytes left unread");
  /* Out of order: function before type; data count after code. */
  begin(&m);
  section(&m, 3, B(0x00));
  section(&m, 1, B(0x00));
  expect_malformed("out of order", m.bytes, m.size,
                   "section 1 (type) out of order");
  begin(&m);
  section(&m, 10, B(0x00));
  section(&m, 12, B(0x00));
  expect_malformed("datacount after code", m.bytes, m.size,
                   "section 12 (data count) out of order");
  /* Duplicate sections. */
  begin(&m);
  section(&m, 1, B(0x00));
  section(&m, 1, B(0x00));
  expect_malformed("duplicate", m.bytes, m.size, "duplicate section 1 (type)");
  begin(&m);
  section(&m, 6, B(0x00));
  section(&m, 6, B(0x00));
  expect_malformed("duplicate global", m.bytes, m.size,
                   "duplicate section 6 (global)");
  /* An unknown section id. */
  begin(&m);
  section(&m, 14, B(0x00));
  expect_malformed("unknown id", m.bytes, m.size, "unknown section id 14");
  /* Invalid entries: type form, import kind, export kind, limits flags,
   * global mutability, element and data flags, element kind. */
  begin(&m);
  section(&m, 1, B(0x01, 0x61, 0x00, 0x00));
  expect_malformed("type form", m.bytes, m.size, "invalid type form 0x61");
  begin(&m);
  section(&m, 2, B(0x01, 0x01, 'm', 0x01, 'x', 0x05, 0x00));
  expect_malformed("import kind", m.bytes, m.size, "invalid import kind 0x05");
  begin(&m);
  section(&m, 7, B(0x01, 0x01, 'x', 0x05, 0x00));
  expect_malformed("export kind", m.bytes, m.size, "invalid export kind 0x05");
  begin(&m);
  section(&m, 5, B(0x01, 0x08, 0x01));
  expect_malformed("limits flags", m.bytes, m.size,
                   "invalid limits flags 0x08");
  begin(&m);
  section(&m, 6, B(0x01, 0x7F, 0x02, 0x41, 0x00, 0x0B));
  expect_malformed("mutability", m.bytes, m.size, "invalid global mutability");
  begin(&m);
  section(&m, 6, B(0x01, 0x40, 0x00, 0x41, 0x00, 0x0B));
  expect_malformed("value type", m.bytes, m.size, "invalid value type 0x40");
  begin(&m);
  section(&m, 9, B(0x01, 0x08, 0x00, 0x00));
  expect_malformed("element flags", m.bytes, m.size,
                   "invalid element segment flags 8");
  begin(&m);
  section(&m, 9, B(0x01, 0x01, 0x01, 0x00));
  expect_malformed("element kind", m.bytes, m.size,
                   "invalid element kind 0x01");
  begin(&m);
  section(&m, 4, B(0x01, 0x7F, 0x00, 0x01));
  expect_malformed("table of i32", m.bytes, m.size,
                   "invalid reference type 0x7f");
  begin(&m);
  section(&m, 5, B(0x01, 0x00, 0x01));
  section(&m, 11, B(0x01, 0x03, 0x00));
  expect_malformed("data flags", m.bytes, m.size,
                   "invalid data segment flags 3");
  /* The data count disagrees with the data section, or there is none. */
  begin(&m);
  section(&m, 12, B(0x02));
  section(&m, 11, B(0x01, 0x01, 0x00));
  expect_malformed("data count mismatch", m.bytes, m.size,
                   "1 data segments but the data count section says 2");
  begin(&m);
  section(&m, 12, B(0x01));
  expect_malformed_lenient_wabt("data count without data", m.bytes, m.size,
                   "there is no data section");
  /* The start function must be [] -> []. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x01, 0x7F, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 8, B(0x00));
  code_section(&m, B(0x00, 0x0B));
  expect_malformed("start type", m.bytes, m.size, "start function 0 must take");
}

TEST(malformed_leb128) {
  struct module m;
  /* A u32 of six bytes (the section size). */
  begin(&m);
  emit(&m, B(0x01, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00));
  expect_malformed("six-byte u32", m.bytes, m.size,
                   "integer representation too long at offset 0x9");
  /* A five-byte u32 using bits above 32: 0x10 in the last byte. */
  begin(&m);
  section(&m, 1, B(0x80, 0x80, 0x80, 0x80, 0x10));
  expect_malformed("u32 too large", m.bytes, m.size, "integer too large");
  /* i32.const whose last byte is not a sign extension (0x08 and 0x70). */
  body_module(&m, B(0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x08, 0x1A, 0x0B));
  expect_malformed("s32 unused bits", m.bytes, m.size, "integer too large");
  body_module(&m, B(0x00, 0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x70, 0x1A, 0x0B));
  expect_malformed("s32 sign bits", m.bytes, m.size, "integer too large");
  /* i32.const of six bytes. */
  body_module(&m, B(0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1A,
                    0x0B));
  expect_malformed("six-byte s32", m.bytes, m.size,
                   "integer representation too long");
  /* i64.const: the tenth byte may only be 0x00 or 0x7f. */
  body_module(&m, B(0x00, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                    0x80, 0x80, 0x01, 0x1A, 0x0B));
  expect_malformed("s64 unused bits", m.bytes, m.size, "integer too large");
  body_module(&m, B(0x00, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                    0x80, 0x80, 0x80, 0x00, 0x1A, 0x0B));
  expect_malformed("eleven-byte s64", m.bytes, m.size,
                   "integer representation too long");
  /* A block type index whose s33 encoding uses bits beyond 33. */
  body_module(&m, B(0x00, 0x02, 0x80, 0x80, 0x80, 0x80, 0x20, 0x0B, 0x0B));
  expect_malformed("s33 too large", m.bytes, m.size, "integer too large");
  /* A LEB128 cut by the end of its section. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x81));
  expect_malformed("LEB at end", m.bytes, m.size,
                   "unexpected end of section in type 0");
}

TEST(function_code_mismatch) {
  struct module m;
  /* Two functions, one body. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x02, 0x00, 0x00));
  code_section(&m, B(0x00, 0x0B));
  expect_malformed("2 functions, 1 body", m.bytes, m.size,
                   "1 function bodies for 2 functions");
  /* A function and no code section. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  expect_malformed("no code section", m.bytes, m.size,
                   "1 functions declared but no code section");
  /* A body without a function. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  code_section(&m, B(0x00, 0x0B));
  expect_malformed("no function section", m.bytes, m.size,
                   "1 function bodies for 0 functions");
}

TEST(malformed_utf8_names) {
  static const struct {
    const char* what;
    uint8_t bytes[4];
    uint8_t size;
  } cases[] = {
      {"overlong 2-byte NUL", {0xC0, 0x80}, 2},
      {"overlong 2-byte", {0xC1, 0xBF}, 2},
      {"overlong 3-byte", {0xE0, 0x9F, 0xBF}, 3},
      {"overlong 4-byte", {0xF0, 0x8F, 0xBF, 0xBF}, 4},
      {"surrogate D800", {0xED, 0xA0, 0x80}, 3},
      {"surrogate DFFF", {0xED, 0xBF, 0xBF}, 3},
      {"above U+10FFFF", {0xF4, 0x90, 0x80, 0x80}, 4},
      {"lead byte F8", {0xF8, 0x88, 0x80, 0x80}, 4},
      {"lone continuation", {0x80}, 1},
      {"truncated sequence", {0xE2, 0x82}, 2},
      {"bad continuation", {0xE2, 0x28, 0xA1}, 3},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct module m;
    /* As a custom section name, an import module name, an export name. */
    struct module contents = {.size = 0};
    emit_u32(&contents, cases[i].size);
    emit(&contents, cases[i].bytes, cases[i].size);
    begin(&m);
    section(&m, 0, contents.bytes, contents.size);
    expect_malformed(cases[i].what, m.bytes, m.size,
                     "name is not valid UTF-8 in section 0 (custom)");

    contents.size = 0;
    emit(&contents, B(0x01));
    emit_u32(&contents, cases[i].size);
    emit(&contents, cases[i].bytes, cases[i].size);
    emit(&contents, B(0x01, 'x', 0x03, 0x7F, 0x00));
    begin(&m);
    section(&m, 2, contents.bytes, contents.size);
    expect_malformed(cases[i].what, m.bytes, m.size,
                     "name is not valid UTF-8 in import 0");

    contents.size = 0;
    emit(&contents, B(0x01));
    emit_u32(&contents, cases[i].size);
    emit(&contents, cases[i].bytes, cases[i].size);
    emit(&contents, B(0x02, 0x00));
    begin(&m);
    section(&m, 5, B(0x01, 0x00, 0x01));
    section(&m, 7, contents.bytes, contents.size);
    expect_malformed(cases[i].what, m.bytes, m.size,
                     "name is not valid UTF-8 in export 0");
  }
  /* A name longer than its section. */
  struct module m;
  begin(&m);
  section(&m, 0, B(0x05, 'a', 'b'));
  expect_malformed("long name", m.bytes, m.size,
                   "name of 5 bytes overruns the section");
}

TEST(unknown_opcodes) {
  struct module m;
  static const uint8_t ops[] = {0x16, 0x17, 0x1D, 0x1E, 0x27, 0xC5, 0xCF,
                                0xD7, 0xE0, 0xFF};
  for (size_t i = 0; i < sizeof(ops); i++) {
    body_module(&m, (const uint8_t[]){0x00, ops[i], 0x0B}, 3);
    char needle[64];
    snprintf(needle, sizeof(needle), "unknown opcode 0x%02x in function 0",
             ops[i]);
    expect_malformed("unknown opcode", m.bytes, m.size, needle);
  }
  /* The message gives the opcode's offset: the module ends with the opcode,
   * the final end and the 5-byte data section. */
  body_module(&m, B(0x00, 0x01, 0x27, 0x0B));
  char needle[80];
  snprintf(needle, sizeof(needle),
           "unknown opcode 0x27 in function 0 at offset 0x%zx",
           m.size - 5 - 2);
  expect_malformed("offset", m.bytes, m.size, needle);
  /* Unknown 0xFC sub-opcodes. */
  body_module(&m, B(0x00, 0xFC, 0x12, 0x0B));
  expect_malformed("0xfc 18", m.bytes, m.size, "unknown opcode 0xfc 18");
  body_module(&m, B(0x00, 0xFC, 0x80, 0x01, 0x0B));
  expect_malformed("0xfc 128", m.bytes, m.size, "unknown opcode 0xfc 128");
  /* Disallowed instructions in constant expressions. */
  begin(&m);
  section(&m, 6, B(0x01, 0x7F, 0x00, 0x41, 0x01, 0x41, 0x01, 0x6A, 0x0B));
  expect_malformed("i32.add in global", m.bytes, m.size,
                   "constant expression has more than one instruction");
  begin(&m);
  section(&m, 6, B(0x01, 0x7F, 0x00, 0x6A, 0x0B));
  expect_malformed("i32.add alone", m.bytes, m.size,
                   "instruction 0x6a is not allowed in a constant expression");
  begin(&m);
  section(&m, 6, B(0x01, 0x7F, 0x00, 0x0B));
  expect_malformed("empty expression", m.bytes, m.size,
                   "constant expression is empty");
  begin(&m);
  section(&m, 6, B(0x01, 0x7F, 0x00, 0x41, 0x01));
  expect_malformed_lenient_wabt("unterminated expression", m.bytes, m.size,
                   "unexpected end of section");
}

TEST(unbalanced_blocks) {
  struct module m;
  /* A body without its final end. */
  body_module(&m, B(0x00, 0x01));
  expect_malformed("no final end", m.bytes, m.size,
                   "unexpected end of function body in function 0");
  /* A block left open. */
  body_module(&m, B(0x00, 0x02, 0x40, 0x0B));
  expect_malformed_lenient_wabt("open block", m.bytes, m.size,
                   "unexpected end of function body");
  /* An end too many: instructions after the final end. */
  body_module(&m, B(0x00, 0x0B, 0x0B));
  expect_malformed("extra end", m.bytes, m.size,
                   "1 bytes after the final end of the function body");
  /* else outside if, and a second else. */
  body_module(&m, B(0x00, 0x05, 0x0B));
  expect_malformed("else at top", m.bytes, m.size,
                   "else without a matching if");
  body_module(&m, B(0x00, 0x02, 0x40, 0x05, 0x0B, 0x0B));
  expect_malformed("else in block", m.bytes, m.size,
                   "else without a matching if");
  body_module(&m, B(0x00, 0x41, 0x00, 0x04, 0x40, 0x05, 0x05, 0x0B, 0x0B));
  expect_malformed("double else", m.bytes, m.size,
                   "else without a matching if");
  /* A body size larger than the code section. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 10, B(0x01, 0x05, 0x00, 0x0B));
  expect_malformed("body overrun", m.bytes, m.size,
                   "function body of 5 bytes overruns the section");
  /* An empty body. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 10, B(0x01, 0x00, 0x00, 0x00));
  expect_malformed("empty body", m.bytes, m.size,
                   "unexpected end of function body");
  /* An immediate cut by the end of the body. */
  body_module(&m, B(0x00, 0x41));
  expect_malformed("cut immediate", m.bytes, m.size,
                   "unexpected end of function body");
  body_module(&m, B(0x00, 0x44, 0x00, 0x00, 0x0B));
  expect_malformed("cut f64", m.bytes, m.size,
                   "unexpected end of function body");
}

/* ------------------------------------------------------------------------ */
/* Type checking (the validation algorithm of the specification's appendix)  */
/* ------------------------------------------------------------------------ */

/* In body_module's bodies: function 0 is [] -> []; type 1 is [i32] -> [i32];
 * table 0 holds funcref; global 0 is a mutable i32; function 0 is declared
 * by passive element segment 0. */

TEST(type_check_accepts_valid_bodies) {
  struct module m;
  /* After unreachable the stack is polymorphic: i32.add pops two unknowns. */
  body_module(&m, B(0x00, 0x00, 0x6A, 0x1A, 0x0B));
  expect_valid("polymorphic after unreachable", m.bytes, m.size);
  /* br_table below unreachable: an unknown index and unknown values. */
  body_module(&m, B(0x00, 0x02, 0x7F, 0x00, 0x0E, 0x01, 0x00, 0x00, 0x0B, 0x1A,
                    0x0B));
  expect_valid("br_table in unreachable code", m.bytes, m.size);
  /* A block with a parameter (type 1): i32.const 1 block (type 1) i32.const
   * 2 i32.add end drop. */
  body_module(&m, B(0x00, 0x41, 0x01, 0x02, 0x01, 0x41, 0x02, 0x6A, 0x0B, 0x1A,
                    0x0B));
  expect_valid("block with a parameter", m.bytes, m.size);
  /* A loop's label takes its parameters: i32.const 0 loop (type 1) br 0
   * end drop. */
  body_module(&m, B(0x00, 0x41, 0x00, 0x03, 0x01, 0x0C, 0x00, 0x0B, 0x1A,
                    0x0B));
  expect_valid("branch to a loop with a parameter", m.bytes, m.size);
  /* br_if keeps its values: block (result i32) i32.const 1 i32.const 0
   * br_if 0 end drop. */
  body_module(&m, B(0x00, 0x02, 0x7F, 0x41, 0x01, 0x41, 0x00, 0x0D, 0x00, 0x0B,
                    0x1A, 0x0B));
  expect_valid("br_if passes its values through", m.bytes, m.size);
  /* select between i64s, and typed select between funcrefs. */
  body_module(&m, B(0x00, 0x42, 0x01, 0x42, 0x02, 0x41, 0x00, 0x1B, 0x1A,
                    0xD0, 0x70, 0xD0, 0x70, 0x41, 0x00, 0x1C, 0x01, 0x70, 0x1A,
                    0x0B));
  expect_valid("select", m.bytes, m.size);
  /* if/else with a result, a mutable global, locals of their types. */
  body_module(&m, B(0x01, 0x01, 0x7C,                   /* local f64 */
                    0x41, 0x01, 0x04, 0x7F, 0x41, 0x02, 0x05, 0x41, 0x03,
                    0x0B, 0x24, 0x00,                     /* if -> global.set */
                    0x44, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F,
                    0x22, 0x00, 0x21, 0x00,               /* local.tee, set */
                    0x0B));
  expect_valid("if/else, global.set, locals", m.bytes, m.size);
  /* Memory, table and bulk operations with operands of their types. */
  body_module(&m, B(0x00, 0x41, 0x00, 0x43, 0, 0, 0, 0, 0x38, 0x02, 0x00,
                    0x41, 0x00, 0x31, 0x00, 0x00, 0x1A,   /* f32.store, i64.load8_u */
                    0x41, 0x00, 0x25, 0x00, 0x1A,         /* table.get */
                    0xD2, 0x00, 0x41, 0x01, 0xFC, 0x0F, 0x00, 0x1A,  /* table.grow */
                    0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x0B, 0x00,
                    0x0B));
  expect_valid("memory and table operands", m.bytes, m.size);
  /* An unknown operand of unreachable code satisfies ref.is_null. */
  body_module(&m, B(0x00, 0x00, 0xD1, 0x1A, 0x0B));
  expect_valid("ref.is_null of an unknown", m.bytes, m.size);
}

TEST(type_check_refuses_mismatches) {
  struct module m;
  body_module(&m, B(0x00, 0x41, 0x00, 0x42, 0x00, 0x6A, 0x1A, 0x0B));
  expect_invalid("i32.add of an i64", m.bytes, m.size,
                 "type mismatch: instruction 0x6a needs an operand of type "
                 "i32 but finds i64 in function 0");
  body_module(&m, B(0x00, 0x6A, 0x1A, 0x0B));
  expect_invalid("i32.add on an empty stack", m.bytes, m.size,
                 "the operand stack of its block is empty");
  /* A block cannot pop what lies below it, even after unreachable code. */
  body_module(&m, B(0x00, 0x41, 0x01, 0x02, 0x40, 0x1A, 0x0B, 0x1A, 0x0B));
  expect_invalid("drop across a block", m.bytes, m.size,
                 "the operand stack of its block is empty");
  body_module(&m, B(0x00, 0x02, 0x7F, 0x0B, 0x1A, 0x0B));
  expect_invalid("block without its result", m.bytes, m.size,
                 "type mismatch");
  body_module(&m, B(0x00, 0x41, 0x01, 0x0B));
  expect_invalid("a value left at the end", m.bytes, m.size,
                 "1 operands left on the stack at the end of a block with 0 "
                 "results");
  body_module(&m, B(0x00, 0x02, 0x7F, 0x0C, 0x00, 0x0B, 0x1A, 0x0B));
  expect_invalid("br without the label's value", m.bytes, m.size,
                 "type mismatch");
  body_module(&m, B(0x00, 0x02, 0x7F, 0x02, 0x40, 0x41, 0x00, 0x41, 0x00,
                    0x0E, 0x01, 0x00, 0x01, 0x0B, 0x41, 0x00, 0x0B, 0x1A,
                    0x0B));
  expect_invalid("br_table targets of different arity", m.bytes, m.size,
                 "br_table targets take 0 and 1 values");
  body_module(&m, B(0x00, 0x41, 0x00, 0x04, 0x7F, 0x41, 0x01, 0x0B, 0x1A,
                    0x0B));
  expect_invalid("if with a result and no else", m.bytes, m.size,
                 "an if without else must have the same parameters and "
                 "results");
  body_module(&m, B(0x00, 0x41, 0x00, 0x04, 0x7F, 0x41, 0x01, 0x05, 0x42,
                    0x01, 0x0B, 0x1A, 0x0B));
  expect_invalid("else of another type", m.bytes, m.size,
                 "needs an operand of type i32 but finds i64");
  body_module(&m, B(0x00, 0xD0, 0x70, 0xD0, 0x70, 0x41, 0x00, 0x1B, 0x1A,
                    0x0B));
  expect_invalid("untyped select of references", m.bytes, m.size,
                 "select without a type cannot choose between references");
  body_module(&m, B(0x00, 0x41, 0x01, 0x42, 0x01, 0x41, 0x00, 0x1B, 0x1A,
                    0x0B));
  expect_invalid("select of two types", m.bytes, m.size,
                 "select chooses between i32 and i64");
  body_module(&m, B(0x00, 0x41, 0x01, 0x41, 0x01, 0x41, 0x00, 0x1C, 0x02,
                    0x7F, 0x7F, 0x1A, 0x0B));
  expect_invalid("typed select with two types", m.bytes, m.size,
                 "invalid result arity");
  body_module(&m, B(0x01, 0x01, 0x7E, 0x41, 0x00, 0x21, 0x00, 0x0B));
  expect_invalid("local.set of another type", m.bytes, m.size,
                 "needs an operand of type i64 but finds i32");
  body_module(&m, B(0x00, 0x41, 0x00, 0x43, 0, 0, 0, 0, 0x36, 0x02, 0x00,
                    0x0B));
  expect_invalid("i32.store of an f32", m.bytes, m.size,
                 "instruction 0x36 needs an operand of type i32 but finds "
                 "f32");
  body_module(&m, B(0x00, 0x42, 0x01, 0x40, 0x00, 0x1A, 0x0B));
  expect_invalid("memory.grow of an i64", m.bytes, m.size, "type mismatch");
  /* return discards what lies below the function's results. */
  body_module(&m, B(0x00, 0x41, 0x00, 0x0F, 0x0B));
  expect_valid("return over an extra value", m.bytes, m.size);
  body_module(&m, B(0x00, 0x42, 0x00, 0x24, 0x00, 0x0B));
  expect_invalid("global.set of an i64", m.bytes, m.size, "type mismatch");
  body_module(&m, B(0x00, 0x41, 0x00, 0xFC, 0x10, 0x00, 0xFC, 0x0F, 0x00,
                    0x1A, 0x0B));
  expect_invalid("table.grow with an i32 as the value", m.bytes, m.size,
                 "instruction 0xfc 15 needs an operand of type funcref but "
                 "finds i32");
  body_module(&m, B(0x00, 0x41, 0x00, 0xD1, 0x1A, 0x0B));
  expect_invalid("ref.is_null of an i32", m.bytes, m.size,
                 "ref.is_null needs a reference but finds i32");
  body_module(&m, B(0x00, 0x43, 0, 0, 0, 0, 0xFC, 0x02, 0x1A, 0x0B));
  expect_invalid("trunc_sat of the wrong float", m.bytes, m.size,
                 "needs an operand of type f64 but finds f32");
}

TEST(type_check_module_rules) {
  struct module m;
  /* global.set of an immutable global. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 6, B(0x01, 0x7F, 0x00, 0x41, 0x00, 0x0B));
  code_section(&m, B(0x00, 0x41, 0x01, 0x24, 0x00, 0x0B));
  expect_invalid("immutable global", m.bytes, m.size,
                 "global is immutable: global.set of global 0");
  /* A global's initializer of another type. */
  begin(&m);
  section(&m, 6, B(0x01, 0x7F, 0x00, 0x42, 0x00, 0x0B));
  expect_invalid("initializer type", m.bytes, m.size,
                 "type mismatch: the global's initializer is i64, expected "
                 "i32");
  /* Initializers read immutable imported globals only. */
  begin(&m);
  section(&m, 6, B(0x02, 0x7F, 0x00, 0x41, 0x00, 0x0B, 0x7F, 0x00, 0x23,
                   0x00, 0x0B));
  expect_invalid("initializer reads a defined global", m.bytes, m.size,
                 "unknown global 0 in the global's initializer");
  begin(&m);
  section(&m, 2, B(0x01, 0x01, 'm', 0x01, 'g', 0x03, 0x7F, 0x01));
  section(&m, 6, B(0x01, 0x7F, 0x00, 0x23, 0x00, 0x0B));
  expect_invalid("initializer reads a mutable import", m.bytes, m.size,
                 "constant expression required: the global's initializer "
                 "reads mutable global 0");
  /* A segment offset must be an i32. */
  begin(&m);
  section(&m, 5, B(0x01, 0x00, 0x01));
  section(&m, 11, B(0x01, 0x00, 0x42, 0x00, 0x0B, 0x00));
  expect_invalid("i64 data offset", m.bytes, m.size,
                 "the segment's offset is i64, expected i32");
  /* A funcref segment for an externref table, an externref expression in a
   * funcref segment. */
  begin(&m);
  section(&m, 4, B(0x01, 0x6F, 0x00, 0x01));
  section(&m, 9, B(0x01, 0x00, 0x41, 0x00, 0x0B, 0x00));
  expect_invalid("segment type vs table type", m.bytes, m.size,
                 "type mismatch: a segment of funcref for table 0 of "
                 "externref");
  begin(&m);
  section(&m, 9, B(0x01, 0x05, 0x70, 0x01, 0xD0, 0x6F, 0x0B));
  expect_invalid("element expression type", m.bytes, m.size,
                 "an element expression is externref, expected funcref");
  /* call_indirect through an externref table; table.copy between types. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 4, B(0x02, 0x6F, 0x00, 0x01, 0x70, 0x00, 0x01));
  code_section(&m, B(0x00, 0x41, 0x00, 0x11, 0x00, 0x00, 0x0B));
  /* (wabt 1.0.32 does not check the table's type here.) */
  expect_error("call_indirect through externref", m.bytes, m.size, NULL,
               ENOEXEC, "call_indirect through table 0 of externref");
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 4, B(0x02, 0x6F, 0x00, 0x01, 0x70, 0x00, 0x01));
  code_section(&m, B(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x0E,
                     0x00, 0x01, 0x0B));
  expect_invalid("table.copy between types", m.bytes, m.size,
                 "table 0 holds externref but table 1 holds funcref");
  /* ref.func of a function no segment, export or global names; the same
   * function declared by an export. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  code_section(&m, B(0x00, 0xD2, 0x00, 0x1A, 0x0B));
  expect_invalid("undeclared ref.func", m.bytes, m.size,
                 "undeclared function reference: ref.func 0");
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 7, B(0x01, 0x01, 'f', 0x00, 0x00));
  code_section(&m, B(0x00, 0xD2, 0x00, 0x1A, 0x0B));
  expect_valid("ref.func of an exported function", m.bytes, m.size);
  /* Alignment beyond the natural one is a validation rule. */
  body_module(&m, B(0x00, 0x41, 0x00, 0x28, 0x03, 0x00, 0x1A, 0x0B));
  expect_invalid("over-aligned load", m.bytes, m.size,
                 "alignment 2**3 exceeds the natural alignment 2**2");
}

TEST(type_check_operand_stack_limit) {
  struct wudf__wasm_limits limits;
  wudf__wasm_limits_init(&limits);
  limits.max_operand_stack = 4;
  struct module m;
  /* Four values fit; a fifth does not. */
  body_module(&m, B(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00,
                    0x1A, 0x1A, 0x1A, 0x1A, 0x0B));
  struct wudf__wasm_info info;
  struct wudf_error error = {0};
  int status = read_copy(m.bytes, m.size, &limits, &info, &error);
  if (status != 0) TEST_FAIL("four values: %s", error.message);
  wudf__wasm_info_release(&info);
  body_module(&m, B(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00,
                    0x41, 0x00, 0x1A, 0x1A, 0x1A, 0x1A, 0x1A, 0x0B));
  expect_too_large("five values", m.bytes, m.size, &limits,
                   "operand stack deeper than 4 values in function 0");
}

TEST(duplicate_exports) {
  struct module m;
  /* Exports "f", "g", "f" of two functions. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x02, 0x00, 0x00));
  section(&m, 7, B(0x03, 0x01, 'f', 0x00, 0x00, 0x01, 'g', 0x00, 0x01, 0x01,
                   'f', 0x00, 0x01));
  section(&m, 10, B(0x02, 0x02, 0x00, 0x0B, 0x02, 0x00, 0x0B));
  expect_malformed("duplicate export", m.bytes, m.size,
                   "duplicate export name \"f\" (also export 0) in export 2");
  /* Names that differ only in a non-ASCII byte are distinct; the message
   * escapes unprintable bytes. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 7, B(0x02, 0x02, 0xC3, 0xA9, 0x00, 0x00, 0x02, 0xC3, 0xA8, 0x00,
                   0x00));
  code_section(&m, B(0x00, 0x0B));
  expect_valid("distinct names", m.bytes, m.size);
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 7, B(0x02, 0x02, 0x0A, 'x', 0x00, 0x00, 0x02, 0x0A, 'x', 0x00,
                   0x00));
  code_section(&m, B(0x00, 0x0B));
  expect_malformed("escaped", m.bytes, m.size,
                   "duplicate export name \"\\x0ax\"");
}

TEST(index_out_of_range) {
  struct module m;
  body_module(&m, B(0x00, 0x10, 0x01, 0x0B));
  expect_malformed("call", m.bytes, m.size,
                   "function index 1 out of range (the module has 1)");
  body_module(&m, B(0x01, 0x02, 0x7F, 0x20, 0x02, 0x1A, 0x0B));
  expect_malformed("local.get", m.bytes, m.size, "local index 2 out of range");
  body_module(&m, B(0x00, 0x23, 0x01, 0x1A, 0x0B));
  expect_malformed("global.get", m.bytes, m.size,
                   "global index 1 out of range");
  body_module(&m, B(0x00, 0x41, 0x00, 0x11, 0x02, 0x00, 0x0B));
  expect_malformed("call_indirect type", m.bytes, m.size,
                   "type index 2 out of range");
  body_module(&m, B(0x00, 0x41, 0x00, 0x11, 0x00, 0x01, 0x0B));
  expect_malformed("call_indirect table", m.bytes, m.size,
                   "table index 1 out of range");
  body_module(&m, B(0x00, 0x02, 0x02, 0x0B, 0x0B));
  expect_malformed("block type", m.bytes, m.size, "type index 2 out of range");
  body_module(&m, B(0x00, 0x02, 0x7F, 0x41, 0x00, 0x0B, 0x1A, 0x02, 0xFF,
                    0x7F, 0x0B, 0x0B));
  expect_malformed("negative block type", m.bytes, m.size,
                   "invalid block type -1");
  body_module(&m, B(0x00, 0x0C, 0x01, 0x0B));
  expect_malformed("br", m.bytes, m.size,
                   "branch depth 1 out of range (1 enclosing blocks)");
  body_module(&m, B(0x00, 0x41, 0x00, 0x0E, 0x01, 0x00, 0x02, 0x0B));
  expect_malformed("br_table", m.bytes, m.size, "branch depth 2 out of range");
  body_module(&m, B(0x00, 0xFC, 0x09, 0x01, 0x0B));
  expect_malformed("data.drop", m.bytes, m.size,
                   "data segment index 1 out of range");
  body_module(&m, B(0x00, 0xFC, 0x0D, 0x01, 0x0B));
  expect_malformed("elem.drop", m.bytes, m.size,
                   "element segment index 1 out of range");
  body_module(&m, B(0x00, 0x41, 0x00, 0x25, 0x01, 0x1A, 0x0B));
  expect_malformed("table.get", m.bytes, m.size, "table index 1 out of range");
  body_module(&m, B(0x00, 0xFC, 0x10, 0x01, 0x1A, 0x0B));
  expect_malformed("table.size", m.bytes, m.size, "table index 1 out of range");
  body_module(&m, B(0x00, 0xD2, 0x05, 0x1A, 0x0B));
  expect_malformed("ref.func", m.bytes, m.size,
                   "function index 5 out of range");
  /* Memory instructions in a module without a memory; alignment. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  code_section(&m, B(0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x1A, 0x0B));
  expect_malformed("load without memory", m.bytes, m.size,
                   "the module has no memory");
  body_module(&m, B(0x00, 0x41, 0x00, 0x28, 0x03, 0x00, 0x1A, 0x0B));
  expect_malformed("alignment", m.bytes, m.size,
                   "alignment 2**3 exceeds the natural alignment 2**2");
  body_module(&m, B(0x00, 0x41, 0x00, 0x31, 0x01, 0x00, 0x1A, 0x0B));
  expect_malformed("byte alignment", m.bytes, m.size,
                   "exceeds the natural alignment 2**0");
  /* memory.init and data.drop need the data count section. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x00));
  section(&m, 3, B(0x01, 0x00));
  section(&m, 5, B(0x01, 0x00, 0x01));
  code_section(&m, B(0x00, 0xFC, 0x09, 0x00, 0x0B));
  section(&m, 11, B(0x01, 0x01, 0x00));
  expect_malformed("no data count", m.bytes, m.size,
                   "needs a data count section");
  /* Indexes in other sections. */
  begin(&m);
  section(&m, 2, B(0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00));
  expect_malformed("import type", m.bytes, m.size, "type index 0 out of range");
  begin(&m);
  section(&m, 3, B(0x01, 0x00));
  expect_malformed("function type", m.bytes, m.size,
                   "type index 0 out of range");
  begin(&m);
  section(&m, 7, B(0x01, 0x01, 'f', 0x00, 0x00));
  expect_malformed("export func", m.bytes, m.size,
                   "function index 0 out of range");
  begin(&m);
  section(&m, 7, B(0x01, 0x01, 'm', 0x02, 0x00));
  expect_malformed("export memory", m.bytes, m.size,
                   "memory index 0 out of range");
  begin(&m);
  section(&m, 8, B(0x00));
  expect_malformed("start", m.bytes, m.size, "function index 0 out of range");
  begin(&m);
  section(&m, 6, B(0x01, 0x7F, 0x00, 0x23, 0x00, 0x0B));
  expect_malformed("global.get self", m.bytes, m.size, "unknown global 0");
  begin(&m);
  section(&m, 9, B(0x01, 0x00, 0x41, 0x00, 0x0B, 0x00));
  expect_malformed("element without table", m.bytes, m.size,
                   "table index 0 out of range");
  begin(&m);
  section(&m, 11, B(0x01, 0x00, 0x41, 0x00, 0x0B, 0x00));
  expect_malformed("data without memory", m.bytes, m.size,
                   "the module has no memory");
}

TEST(malformed_limits) {
  struct module m;
  begin(&m);
  section(&m, 5, B(0x01, 0x00, 0x81, 0x80, 0x04));
  expect_malformed("memory min", m.bytes, m.size,
                   "memory minimum of 65537 pages");
  begin(&m);
  section(&m, 5, B(0x01, 0x01, 0x00, 0x81, 0x80, 0x04));
  expect_malformed("memory max", m.bytes, m.size,
                   "memory maximum of 65537 pages");
  begin(&m);
  section(&m, 5, B(0x01, 0x01, 0x02, 0x01));
  expect_malformed("memory min > max", m.bytes, m.size,
                   "memory minimum 2 exceeds its maximum 1");
  begin(&m);
  section(&m, 4, B(0x01, 0x70, 0x01, 0x02, 0x01));
  expect_malformed("table min > max", m.bytes, m.size,
                   "table minimum 2 exceeds its maximum 1");
}

/* ------------------------------------------------------------------------ */
/* Limits                                                                    */
/* ------------------------------------------------------------------------ */

TEST(limits_defaults) {
  struct wudf__wasm_limits limits;
  wudf__wasm_limits_init(&limits);
  ASSERT_EQ(limits.max_module_size, 64 << 20);
  ASSERT_EQ(limits.max_functions, 100000);
  ASSERT_EQ(limits.max_locals, 50000);
  ASSERT_EQ(limits.max_body_size, 8 << 20);
  ASSERT_EQ(limits.max_table_size, 10000000);
  ASSERT_EQ(limits.max_block_depth, 1024);
  ASSERT_EQ(limits.max_operand_stack, 1000000);
  ASSERT(limits.max_types > 0 && limits.max_imports > 0 &&
         limits.max_exports > 0 && limits.max_globals > 0 &&
         limits.max_params > 0 && limits.max_segments > 0);
}

TEST(limits_exceeded) {
  const uint8_t* v = valid_module;
  const size_t n = sizeof(valid_module);
  struct wudf__wasm_limits base, limits;
  wudf__wasm_limits_init(&base);

  limits = base;
  limits.max_module_size = n - 1;
  expect_too_large("module size", v, n, &limits, "module of 553 bytes");
  limits = base;
  limits.max_types = 3;
  expect_too_large("types", v, n, &limits, "4 types (limit 3)");
  limits = base;
  limits.max_imports = 2;
  expect_too_large("imports", v, n, &limits, "3 imports (limit 2)");
  limits = base;
  limits.max_functions = 3;
  expect_too_large("functions", v, n, &limits, "4 functions (limit 3)");
  limits = base;
  limits.max_functions = 0;
  expect_too_large("imported functions", v, n, &limits,
                   "more than 0 functions");
  limits = base;
  limits.max_exports = 4;
  expect_too_large("exports", v, n, &limits, "5 exports (limit 4)");
  limits = base;
  limits.max_globals = 8;
  expect_too_large("globals", v, n, &limits, "more than 8 globals");
  limits = base;
  limits.max_globals = 1;
  expect_too_large("imported globals", v, n, &limits, "in import 2");
  limits = base;
  limits.max_params = 1;
  expect_too_large("params", v, n, &limits, "2 parameters (limit 1)");
  limits = base;
  limits.max_locals = 2;
  expect_too_large("locals", v, n, &limits,
                   "3 locals declared (limit 2) in function 1");
  limits = base;
  limits.max_body_size = 100;
  expect_too_large("body size", v, n, &limits,
                   "function body of 227 bytes (limit 100) in function 1");
  limits = base;
  limits.max_table_size = 1;
  expect_too_large("table size", v, n, &limits,
                   "table of 2 initial elements (limit 1)");
  limits = base;
  limits.max_segments = 7;
  expect_too_large("element segments", v, n, &limits,
                   "8 element segments (limit 7)");
  limits = base;
  limits.max_block_depth = 1;
  expect_too_large("block depth", v, n, &limits,
                   "blocks nested more than 1 deep in function 1");

  struct module m;
  /* Results are limited like parameters. */
  begin(&m);
  section(&m, 1, B(0x01, 0x60, 0x00, 0x02, 0x7F, 0x7F));
  limits = base;
  limits.max_params = 1;
  expect_too_large("results", m.bytes, m.size, &limits, "2 results (limit 1)");
  /* Data segments, with and without a data count section. */
  begin(&m);
  section(&m, 12, B(0x03));
  limits = base;
  limits.max_segments = 2;
  expect_too_large("data count", m.bytes, m.size, &limits,
                   "3 data segments (limit 2)");
  begin(&m);
  section(&m, 11, B(0x03, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00));
  expect_too_large("data segments", m.bytes, m.size, &limits,
                   "3 data segments (limit 2)");
  /* An imported table that is too big. */
  begin(&m);
  section(&m, 2, B(0x01, 0x01, 'm', 0x01, 't', 0x01, 0x70, 0x00, 0x0B));
  limits = base;
  limits.max_table_size = 10;
  expect_too_large("imported table", m.bytes, m.size, &limits,
                   "table of 11 initial elements (limit 10)");
  /* The default locals limit against one group of 2^32-1 locals. */
  body_module(&m, B(0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x0B));
  expect_too_large("2^32-1 locals", m.bytes, m.size, NULL,
                   "4294967295 locals declared (limit 50000)");
  /* Two groups whose sum only exceeds the limit together. */
  body_module(&m, B(0x02, 0xD0, 0x86, 0x03, 0x7F, 0x01, 0x7E, 0x0B));
  expect_too_large("summed locals", m.bytes, m.size, NULL,
                   "50001 locals declared (limit 50000)");
  /* Nesting 1025 blocks deep against the default limit of 1024. */
  struct module body = {.size = 0};
  emit(&body, B(0x00));
  for (int i = 0; i < 1025; i++) emit(&body, B(0x02, 0x40));
  for (int i = 0; i < 1026; i++) emit(&body, B(0x0B));
  body_module(&m, body.bytes, body.size);
  expect_too_large("deep nesting", m.bytes, m.size, NULL,
                   "blocks nested more than 1024 deep");
  /* 1024 deep is fine. */
  body.size = 0;
  emit(&body, B(0x00));
  for (int i = 0; i < 1024; i++) emit(&body, B(0x02, 0x40));
  for (int i = 0; i < 1025; i++) emit(&body, B(0x0B));
  body_module(&m, body.bytes, body.size);
  expect_valid("1024 deep", m.bytes, m.size);
}

TEST(huge_counts_fail_without_allocating) {
  /* Vector lengths of 2^32-1 (0xFF 0xFF 0xFF 0xFF 0x0F) in tiny sections. */
  static const struct {
    uint8_t id;
    const char* needle;
  } cases[] = {
      {1, "4294967295 types overrun the section"},
      {2, "4294967295 imports overrun the section"},
      {3, "4294967295 functions overrun the section"},
      {4, "4294967295 tables overrun the section"},
      {5, "4294967295 memories overrun the section"},
      {6, "4294967295 globals overrun the section"},
      {7, "4294967295 exports overrun the section"},
      {9, "4294967295 element segments overrun the section"},
      {10, "4294967295 function bodies overrun the section"},
      {11, "4294967295 data segments overrun the section"},
      {0, "name of 4294967295 bytes overruns the section"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct module m;
    begin(&m);
    section(&m, cases[i].id, B(0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x00));
    counting_begin(-1);
    struct wudf__wasm_info info;
    struct wudf_error error = {0};
    int status = wudf__wasm_read(m.bytes, m.size, NULL, &info, &error);
    counting_end();
    if (status != ENOEXEC || strstr(error.message, cases[i].needle) == NULL) {
      TEST_FAIL("section %d: got %d: %s", cases[i].id, status, error.message);
    }
    ASSERT_LE(heap.largest, 1024);
    ASSERT_EQ(heap.live, 0);
  }
  /* Inside a function body: br_table targets, select types, local groups. */
  static const uint8_t bodies[][12] = {
      {0x00, 0x41, 0x00, 0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x0B},
      {0x00, 0x1C, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x0B},
      {0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x7F, 0x0B},
  };
  static const size_t sizes[] = {11, 9, 8};
  static const char* needles[] = {"branch targets overrun the function body",
                                  "select types overrun",
                                  "local declarations overrun"};
  for (size_t i = 0; i < 3; i++) {
    struct module m;
    body_module(&m, bodies[i], sizes[i]);
    counting_begin(-1);
    struct wudf__wasm_info info;
    struct wudf_error error = {0};
    int status = wudf__wasm_read(m.bytes, m.size, NULL, &info, &error);
    counting_end();
    if (status != ENOEXEC || strstr(error.message, needles[i]) == NULL) {
      TEST_FAIL("body %zu: got %d: %s", i, status, error.message);
    }
    ASSERT_LE(heap.largest, 1024);
    ASSERT_EQ(heap.live, 0);
  }
}

/* ------------------------------------------------------------------------ */
/* Robustness                                                                */
/* ------------------------------------------------------------------------ */

TEST(allocation_failures) {
  /* Fail each allocation of a successful read in turn: every failure must be
   * ENOMEM and leave nothing allocated. */
  long failures = 0;
  for (long fail_at = 0;; fail_at++) {
    counting_begin(fail_at);
    struct wudf__wasm_info info;
    struct wudf_error error = {0};
    int status = wudf__wasm_read(valid_module, sizeof(valid_module), NULL,
                                 &info, &error);
    if (status == 0) {
      wudf__wasm_info_release(&info);
      counting_end();
      ASSERT_EQ(heap.live, 0);
      break;
    }
    counting_end();
    if (status != ENOMEM) {
      TEST_FAIL("allocation %ld: status %d: %s", fail_at, status,
                error.message);
    }
    ASSERT_CONTAINS(error.message, "out of memory");
    ASSERT_EQ(heap.live, 0);
    failures++;
  }
  ASSERT_GE(failures, 20); /* the module needs many allocations */
}

/* Returns nonzero for the statuses a read of arbitrary bytes may return. */
static int expected_status(int status) {
  return status == 0 || status == ENOEXEC || status == ENOTSUP ||
         status == EFBIG;
}

TEST(every_truncation) {
  /* Each prefix is read from an exactly sized heap copy. Prefixes that end at
   * a section boundary may be valid modules; the rest must fail cleanly. */
  int accepted = 0;
  for (size_t size = 0; size < sizeof(valid_module); size++) {
    struct wudf__wasm_info info;
    struct wudf_error error = {0};
    int status = read_copy(valid_module, size, NULL, &info, &error);
    if (!expected_status(status)) {
      TEST_FAIL("prefix %zu: status %d: %s", size, status, error.message);
    }
    if (status == 0) {
      accepted++;
      wudf__wasm_info_release(&info);
    } else {
      ASSERT(error.message[0] != '\0');
    }
  }
  /* At least the header alone, and the header plus the "meta" section. */
  ASSERT_GE(accepted, 2);
}

TEST(every_bit_flip) {
  uint8_t* copy = malloc(sizeof(valid_module));
  ASSERT(copy != NULL);
  int accepted = 0, refused = 0;
  for (size_t i = 0; i < sizeof(valid_module); i++) {
    for (int bit = 0; bit <= 8; bit++) {
      memcpy(copy, valid_module, sizeof(valid_module));
      copy[i] ^= bit < 8 ? (uint8_t)(1u << bit) : 0xFF;
      struct wudf__wasm_info info;
      struct wudf_error error = {0};
      int status =
          wudf__wasm_read(copy, sizeof(valid_module), NULL, &info, &error);
      if (!expected_status(status)) {
        free(copy);
        TEST_FAIL("byte %zu bit %d: status %d: %s", i, bit, status,
                  error.message);
      }
      if (status == 0) {
        accepted++;
        wudf__wasm_info_release(&info);
      } else {
        refused++;
      }
    }
  }
  free(copy);
  ASSERT(accepted > 0 && refused > 0);
}

TEST(invalid_arguments) {
  struct wudf__wasm_info info;
  struct wudf_error error = {0};
  ASSERT_STATUS(wudf__wasm_read(NULL, 8, NULL, &info, &error), EINVAL, &error);
  ASSERT_STATUS(wudf__wasm_read(valid_module, sizeof(valid_module), NULL, NULL,
                                &error),
                EINVAL, &error);
  /* A NULL error is allowed. */
  ASSERT_EQ(wudf__wasm_read(valid_module, 4, NULL, &info, NULL), ENOEXEC);
  wudf__wasm_info_release(NULL);
  ASSERT(wudf__wasm_find_custom(NULL, "name") == NULL);
}

int main(void) {
  RUN_TEST(valid_module_fields);
  RUN_TEST(valid_modules_accepted_by_wabt);
  RUN_TEST(empty_module);
  RUN_TEST(imported_memory_and_table);
  RUN_TEST(accepted_encodings);
  RUN_TEST(unsupported_simd);
  RUN_TEST(unsupported_threads);
  RUN_TEST(unsupported_memory64);
  RUN_TEST(unsupported_multi_memory);
  RUN_TEST(unsupported_exception_handling);
  RUN_TEST(unsupported_tail_calls);
  RUN_TEST(unsupported_gc);
  RUN_TEST(unsupported_nul_in_names);
  RUN_TEST(malformed_header);
  RUN_TEST(malformed_sections);
  RUN_TEST(malformed_leb128);
  RUN_TEST(function_code_mismatch);
  RUN_TEST(malformed_utf8_names);
  RUN_TEST(unknown_opcodes);
  RUN_TEST(unbalanced_blocks);
  RUN_TEST(type_check_accepts_valid_bodies);
  RUN_TEST(type_check_refuses_mismatches);
  RUN_TEST(type_check_module_rules);
  RUN_TEST(type_check_operand_stack_limit);
  RUN_TEST(duplicate_exports);
  RUN_TEST(index_out_of_range);
  RUN_TEST(malformed_limits);
  RUN_TEST(limits_defaults);
  RUN_TEST(limits_exceeded);
  RUN_TEST(huge_counts_fail_without_allocating);
  RUN_TEST(allocation_failures);
  RUN_TEST(every_truncation);
  RUN_TEST(every_bit_flip);
  RUN_TEST(invalid_arguments);
  return TEST_SUMMARY();
}
