/*
 * native.h -- the native twins of the benchmark suite's kernels
 * (bench/kernels/ (one file per kernel)): the same computation as plain C loops over the same
 * Arrow buffers, building the same Arrow result -- the limit a sandboxed
 * kernel is measured against.
 */
#ifndef WUDF_BENCH_NATIVE_H
#define WUDF_BENCH_NATIVE_H

#include <stdint.h>

#include "wasmudf/wasmudf.h"

/* Receives each result array (a table function gives several chunks): it
 * owns the array (it must release it) and borrows the schema. */
typedef void (*native_sink)(void* context, struct ArrowArray* array,
                            struct ArrowSchema* schema);

/* Runs native kernel `name` over `batch` (a struct array of the kernel's
 * arguments, as bench/suite/kernels.py makes it; offsets 0) with `groups`
 * groups for an aggregate; hands its result to `sink`. Returns 0, or -1
 * with a message on stderr for an unknown kernel or an input it does not
 * expect. */
int native_run(const char* name, const struct ArrowArray* batch, int64_t groups,
               native_sink sink, void* context);

#endif /* WUDF_BENCH_NATIVE_H */
