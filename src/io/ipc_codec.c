/*
 * ipc_codec.c -- the body compression codecs of the Arrow IPC format: LZ4
 * frames (liblz4) and ZSTD frames (libzstd). Each compressed buffer of a
 * message body is one frame of the whole buffer.
 */
#include <lz4frame.h>
#include <zstd.h>

#include "ipc.h"

int wudf__ipc_decompress(int codec, const uint8_t* in, size_t size, uint8_t* out,
                         size_t out_size, const char** why) {
  if (codec == WUDF__CODEC_ZSTD) {
    size_t got = ZSTD_decompress(out, out_size, in, size);
    if (ZSTD_isError(got)) {
      *why = ZSTD_getErrorName(got);
      return -1;
    }
    if (got != out_size) {
      *why = "the decompressed size differs from the declared size";
      return -1;
    }
    return 0;
  }
  LZ4F_dctx* context = NULL;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) {
    *why = "cannot create an LZ4 context";
    return -1;
  }
  size_t in_done = 0, out_done = 0;
  size_t hint = 1;
  while (hint != 0) {
    size_t in_step = size - in_done, out_step = out_size - out_done;
    if (in_step == 0) {
      *why = "the LZ4 frame is truncated";
      LZ4F_freeDecompressionContext(context);
      return -1;
    }
    hint = LZ4F_decompress(context, out + out_done, &out_step, in + in_done, &in_step, NULL);
    if (LZ4F_isError(hint)) {
      *why = LZ4F_getErrorName(hint);
      LZ4F_freeDecompressionContext(context);
      return -1;
    }
    in_done += in_step;
    out_done += out_step;
    if (hint != 0 && in_step == 0 && out_step == 0) {
      *why = "the LZ4 frame decompresses to more than the declared size";
      LZ4F_freeDecompressionContext(context);
      return -1;
    }
  }
  LZ4F_freeDecompressionContext(context);
  if (out_done != out_size) {
    *why = "the decompressed size differs from the declared size";
    return -1;
  }
  return 0;
}

int wudf__ipc_check_frame(int codec, const uint8_t* in, size_t size, size_t out_size,
                          const char** why) {
  /* The largest ratios the formats can reach: an LZ4 sequence carries at
   * most 255 bytes per byte of input; a ZSTD RLE block turns 4 bytes into
   * a block of at most 128 KiB. */
  uint64_t bound = codec == WUDF__CODEC_ZSTD ? (uint64_t)size * 32768 + 131072
                                             : (uint64_t)size * 255 + 65536;
  if (out_size > bound) {
    *why = "the declared uncompressed size is beyond what the compressed bytes can hold";
    return -1;
  }
  if (codec == WUDF__CODEC_ZSTD) {
    unsigned long long declared = ZSTD_getFrameContentSize(in, size);
    if (declared == ZSTD_CONTENTSIZE_ERROR) {
      *why = "not a ZSTD frame";
      return -1;
    }
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != out_size) {
      *why = "the ZSTD frame's content size differs from the declared size";
      return -1;
    }
    return 0;
  }
  LZ4F_dctx* context = NULL;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) {
    *why = "cannot create an LZ4 context";
    return -1;
  }
  LZ4F_frameInfo_t info;
  memset(&info, 0, sizeof info);
  size_t consumed = size;
  size_t result = LZ4F_getFrameInfo(context, &info, in, &consumed);
  LZ4F_freeDecompressionContext(context);
  if (LZ4F_isError(result)) {
    *why = "not an LZ4 frame";
    return -1;
  }
  if (info.contentSize != 0 && info.contentSize != out_size) {
    *why = "the LZ4 frame's content size differs from the declared size";
    return -1;
  }
  return 0;
}

int wudf__ipc_compress(int codec, int level, const uint8_t* in, size_t size, uint8_t** out,
                       size_t* out_size) {
  size_t bound = codec == WUDF__CODEC_ZSTD ? ZSTD_compressBound(size)
                                           : LZ4F_compressFrameBound(size, NULL);
  uint8_t* buffer = wudf__malloc(bound ? bound : 1);
  if (buffer == NULL) return ENOMEM;
  size_t got;
  if (codec == WUDF__CODEC_ZSTD) {
    got = ZSTD_compress(buffer, bound, in, size, level ? level : ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(got)) got = (size_t)-1;
  } else {
    LZ4F_preferences_t preferences;
    memset(&preferences, 0, sizeof preferences);
    preferences.compressionLevel = level;
    preferences.frameInfo.contentSize = size;
    got = LZ4F_compressFrame(buffer, bound, in, size, &preferences);
    if (LZ4F_isError(got)) got = (size_t)-1;
  }
  if (got == (size_t)-1) {
    wudf__free(buffer);
    return EIO;
  }
  *out = buffer;
  *out_size = got;
  return 0;
}
