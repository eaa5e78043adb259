/*
 * utf8.c -- UTF-8 validation, for names in wasm modules (core spec 5.2.4)
 * and for string values returned by guests (Arrow's utf8 types).
 */
#include "common.h"

int wudf__utf8_valid(const uint8_t* s, size_t size, size_t* bad) {
  size_t i = 0;
  while (i < size) {
    const uint8_t lead = s[i];
    size_t length;
    uint32_t code_point;
    uint32_t minimum;
    if (lead < 0x80) {
      i++;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1Fu;
      minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0Fu;
      minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07u;
      minimum = 0x10000;
    } else {
      *bad = i;
      return 0;
    }
    if (length > size - i) {
      *bad = i;
      return 0;
    }
    for (size_t k = 1; k < length; k++) {
      if ((s[i + k] & 0xC0) != 0x80) {
        *bad = i;
        return 0;
      }
      code_point = (code_point << 6) | (s[i + k] & 0x3Fu);
    }
    if (code_point < minimum || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      *bad = i;
      return 0;
    }
    i += length;
  }
  return 1;
}
