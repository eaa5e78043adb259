/*
 * sha256.h -- SHA-256 (FIPS 180-4), for the compile cache's content keys
 * (internal). A key must not collide even for adversarial modules: a
 * collision would hand one module another's compiled code.
 */
#ifndef WUDF_ENGINE_SHA256_H
#define WUDF_ENGINE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct wudf__sha256 {
  uint32_t state[8];
  uint64_t length;      /* bytes hashed so far */
  uint8_t block[64];
  size_t block_used;
};

void wudf__sha256_init(struct wudf__sha256* context);
void wudf__sha256_update(struct wudf__sha256* context, const void* data,
                         size_t size);
/* Finishes and writes the digest as 64 lowercase hex digits plus NUL. */
void wudf__sha256_hex(struct wudf__sha256* context, char hex[65]);

#endif /* WUDF_ENGINE_SHA256_H */
