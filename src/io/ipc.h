/*
 * ipc.h -- what the Arrow IPC reader (ipc_read.c) and writer (ipc_write.c)
 * share: the constants of the format's FlatBuffers schemas (Schema.fbs,
 * Message.fbs, File.fbs of the Arrow format specification) -- the slots of
 * each table's fields and the values of its enums and unions -- and the
 * compression codecs (ipc_codec.c).
 */
#ifndef WUDF_IO_IPC_H
#define WUDF_IO_IPC_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../common/common.h"

/* Message.fbs: table Message. */
enum { WUDF__MESSAGE_VERSION = 0, WUDF__MESSAGE_HEADER_TYPE = 1, WUDF__MESSAGE_HEADER = 2,
       WUDF__MESSAGE_BODY_LENGTH = 3, WUDF__MESSAGE_METADATA = 4 };
/* union MessageHeader. */
enum { WUDF__HEADER_SCHEMA = 1, WUDF__HEADER_DICTIONARY_BATCH = 2,
       WUDF__HEADER_RECORD_BATCH = 3, WUDF__HEADER_TENSOR = 4, WUDF__HEADER_SPARSE_TENSOR = 5 };
/* enum MetadataVersion. */
enum { WUDF__VERSION_V4 = 3, WUDF__VERSION_V5 = 4 };
/* table RecordBatch. */
enum { WUDF__BATCH_LENGTH = 0, WUDF__BATCH_NODES = 1, WUDF__BATCH_BUFFERS = 2,
       WUDF__BATCH_COMPRESSION = 3, WUDF__BATCH_VARIADIC_COUNTS = 4 };
/* table DictionaryBatch. */
enum { WUDF__DICTIONARY_ID = 0, WUDF__DICTIONARY_DATA = 1, WUDF__DICTIONARY_DELTA = 2 };
/* table BodyCompression and enum CompressionType. */
enum { WUDF__COMPRESSION_CODEC = 0, WUDF__COMPRESSION_METHOD = 1 };
enum { WUDF__CODEC_LZ4_FRAME = 0, WUDF__CODEC_ZSTD = 1 };

/* Schema.fbs: table Schema. */
enum { WUDF__SCHEMA_ENDIANNESS = 0, WUDF__SCHEMA_FIELDS = 1, WUDF__SCHEMA_METADATA_SLOT = 2,
       WUDF__SCHEMA_FEATURES = 3 };
/* table Field. */
enum { WUDF__FIELD_NAME = 0, WUDF__FIELD_NULLABLE = 1, WUDF__FIELD_TYPE_TYPE = 2,
       WUDF__FIELD_TYPE = 3, WUDF__FIELD_DICTIONARY = 4, WUDF__FIELD_CHILDREN = 5,
       WUDF__FIELD_METADATA = 6 };
/* table DictionaryEncoding. */
enum { WUDF__ENCODING_ID = 0, WUDF__ENCODING_INDEX_TYPE = 1, WUDF__ENCODING_ORDERED = 2,
       WUDF__ENCODING_KIND = 3 };
/* table KeyValue. */
enum { WUDF__KV_KEY = 0, WUDF__KV_VALUE = 1 };
/* union Type. */
enum {
  WUDF__TYPE_NULL = 1, WUDF__TYPE_INT = 2, WUDF__TYPE_FLOAT = 3, WUDF__TYPE_BINARY = 4,
  WUDF__TYPE_UTF8 = 5, WUDF__TYPE_BOOL = 6, WUDF__TYPE_DECIMAL = 7, WUDF__TYPE_DATE = 8,
  WUDF__TYPE_TIME = 9, WUDF__TYPE_TIMESTAMP = 10, WUDF__TYPE_INTERVAL = 11,
  WUDF__TYPE_LIST = 12, WUDF__TYPE_STRUCT = 13, WUDF__TYPE_UNION = 14,
  WUDF__TYPE_FIXED_BINARY = 15, WUDF__TYPE_FIXED_LIST = 16, WUDF__TYPE_MAP = 17,
  WUDF__TYPE_DURATION = 18, WUDF__TYPE_LARGE_BINARY = 19, WUDF__TYPE_LARGE_UTF8 = 20,
  WUDF__TYPE_LARGE_LIST = 21, WUDF__TYPE_RUN_END = 22, WUDF__TYPE_BINARY_VIEW = 23,
  WUDF__TYPE_UTF8_VIEW = 24, WUDF__TYPE_LIST_VIEW = 25, WUDF__TYPE_LARGE_LIST_VIEW = 26
};
/* File.fbs: table Footer and struct Block (24 bytes). */
enum { WUDF__FOOTER_VERSION = 0, WUDF__FOOTER_SCHEMA = 1, WUDF__FOOTER_DICTIONARIES = 2,
       WUDF__FOOTER_BATCHES = 3, WUDF__FOOTER_METADATA = 4 };
#define WUDF__BLOCK_SIZE 24
/* struct FieldNode (16 bytes) and struct Buffer (16 bytes). */
#define WUDF__FIELD_NODE_SIZE 16
#define WUDF__BUFFER_SIZE 16

/* The file format's magic, before and after the stream and footer. */
#define WUDF__IPC_MAGIC "ARROW1"
#define WUDF__IPC_CONTINUATION 0xFFFFFFFFu

/* Decompresses `size` bytes at `in` with `codec` (WUDF__CODEC_*) into
 * exactly `out_size` bytes at `out`. 0, or -1 with a reason in `why`. */
int wudf__ipc_decompress(int codec, const uint8_t* in, size_t size, uint8_t* out,
                         size_t out_size, const char** why);

/* Checks, before any allocation, that a frame of `size` bytes can hold
 * `out_size` decompressed bytes: the size the frame header declares, when
 * it declares one, must be `out_size`, and `out_size` must be within the
 * codec's largest compression ratio of `size`. 0, or -1 with `why`. */
int wudf__ipc_check_frame(int codec, const uint8_t* in, size_t size, size_t out_size,
                          const char** why);

/* Compresses `size` bytes into a new funnel allocation `*out` of `*out_size`
 * bytes. 0, ENOMEM, or EIO (the codec failed). */
int wudf__ipc_compress(int codec, int level, const uint8_t* in, size_t size, uint8_t** out,
                       size_t* out_size);

#endif /* WUDF_IO_IPC_H */
