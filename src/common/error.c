/*
 * error.c -- the error channel: formatting messages into the caller-owned
 * struct wudf_error (which may be NULL), and the names of trap kinds and value
 * types used in those messages.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

void wudf__neutralise_controls(char* text) {
  unsigned char* s = (unsigned char*)text;
  for (; *s != 0; s++) {
    if (*s < 0x20 || *s == 0x7f) {
      *s = '?';
    } else if (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
      s[0] = '?';
      s[1] = '?';
      s++;
    }
  }
}

int wudf__set_error_v(struct wudf_error* error, int code, const char* format,
                      va_list args) {
  if (error == NULL) return code;
  error->code = code;
  error->trap = WUDF_TRAP_NONE;
  error->exit_code = 0;
  vsnprintf(error->message, sizeof(error->message), format, args);
  /* Messages carry names and text chosen by untrusted modules. */
  wudf__neutralise_controls(error->message);
  return code;
}

int wudf__set_error(struct wudf_error* error, int code, const char* format,
                    ...) {
  va_list args;
  va_start(args, format);
  wudf__set_error_v(error, code, format, args);
  va_end(args);
  return code;
}

int wudf__error_prefix(struct wudf_error* error, int code, const char* format,
                       ...) {
  if (error == NULL) return code;
  char prefix[sizeof(error->message)];
  va_list args;
  va_start(args, format);
  int prefix_length = vsnprintf(prefix, sizeof(prefix), format, args);
  va_end(args);
  if (prefix_length < 0) return code;
  wudf__neutralise_controls(prefix);
  /* Shift the old message right, truncating its end, and put the prefix and
   * ": " in front. */
  size_t capacity = sizeof(error->message);
  size_t head = (size_t)prefix_length + 2;
  if (head >= capacity) head = capacity - 1;
  size_t tail = strlen(error->message);
  if (head + tail >= capacity) tail = capacity - 1 - head;
  memmove(error->message + head, error->message, tail);
  error->message[head + tail] = '\0';
  memcpy(error->message, prefix, head >= 2 ? head - 2 : head);
  if (head >= 2) memcpy(error->message + head - 2, ": ", 2);
  error->code = code;
  return code;
}

const char* wudf_trap_name(wudf_trap trap) {
  switch (trap) {
    case WUDF_TRAP_NONE: return "no trap";
    case WUDF_TRAP_OUT_OF_BOUNDS: return "out of bounds memory access";
    case WUDF_TRAP_INTEGER_OVERFLOW: return "integer overflow";
    case WUDF_TRAP_DIVIDE_BY_ZERO: return "integer divide by zero";
    case WUDF_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WUDF_TRAP_UNREACHABLE: return "unreachable executed";
    case WUDF_TRAP_BAD_INDIRECT_CALL: return "bad indirect call";
    case WUDF_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case WUDF_TRAP_TIMEOUT: return "timeout";
    case WUDF_TRAP_OUT_OF_MEMORY: return "out of memory";
    case WUDF_TRAP_EXIT: return "exit";
    case WUDF_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
  }
  return "unknown trap";
}

const char* wudf_valtype_name(wudf_valtype type) {
  switch (type) {
    case WUDF_I32: return "i32";
    case WUDF_I64: return "i64";
    case WUDF_F32: return "f32";
    case WUDF_F64: return "f64";
  }
  return "?";
}

const char* wudf_status_string(int status) {
  switch (status) {
    case WUDF_OK: return "success";
    case EINVAL: return "an invalid argument, configuration or option";
    case ENOMEM: return "a host allocation failed";
    case ENOENT: return "no such file, export or function";
    case ENOEXEC: return "not a valid WebAssembly module";
    case ENOTSUP: return "a feature, import or request the library does not support";
    case EBADMSG: return "a damaged or tampered artifact (none of its code ran)";
    case EFBIG: return "over a configured size limit";
    case EOVERFLOW: return "a result too large for its Arrow type";
    case EIO: return "an external tool or the compile cache failed";
    case EACCES: return "the compile cache is not safe to load code from";
    case EPERM: return "a guest call cannot run safely: the library's SIGSEGV handler was "
                       "displaced";
    case EBUSY: return "the instance is in use or pinned by a view (nothing ran)";
    case EPROTO: return "the guest broke the guest ABI (the instance stays usable)";
    case EREMOTEIO: return "the function reported an error (the instance stays usable)";
    case EFAULT: return "the guest trapped (the instance is broken)";
    case ETIMEDOUT: return "a deadline passed (a call's: the instance is broken)";
    case ECANCELED: return "the guest called proc_exit (the instance is broken)";
    case ENOTRECOVERABLE: return "the instance is broken by an earlier trap";
  }
  return "unknown status";
}

int wudf_status_breaks_instance(int status) {
  return status == EFAULT || status == ETIMEDOUT || status == ECANCELED ||
         status == ENOTRECOVERABLE;
}
