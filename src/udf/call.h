/*
 * call.h -- what the calls of every function kind share (internal): the
 * functions a module declares, one guest call of the guest ABI (input
 * block, export, control block, result validated and copied or viewed),
 * the caller's arguments seen as one struct array, and the planning of the
 * rows one guest call gets.
 *
 * udf/functions.c reads the module's declarations; udf/layer.c hooks the
 * layer onto the engine (engine/layer.h, the only engine header the UDF
 * layer includes); udf/call.c implements this header; udf/scalar.c,
 * udf/table.c and udf/aggregate.c build the kinds on it. See docs/abi.md
 * for the contract with guests and docs/architecture.md for the layers.
 */
#ifndef WUDF_UDF_CALL_H
#define WUDF_UDF_CALL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../abi/import.h"
#include "../arrow/gather.h"
#include "../engine/layer.h"
#include "signature.h"

/* ------------------------------------------------------------ functions */

/* A declared function and the texts its description points to. */
struct wudf__udf {
  struct wudf__signature signature;
  uint32_t export_index;
  char* strings; /* the NUL-terminated texts below point into it */
  const char* arg_types[WUDF__MAX_ARGS];
  const char* arg_formats[WUDF__MAX_ARGS];
  const char* arg_names[WUDF__MAX_ARGS]; /* "" when unnamed */
  /* Nonzero for an argument whose declared type is one childless,
   * dictionary-free type of a fixed width: a caller's schema of exactly
   * its format (arg_formats), without children or dictionary, matches it
   * without decoding the type text on every call. */
  uint8_t arg_flat[WUDF__MAX_ARGS];
  int64_t arg_width[WUDF__MAX_ARGS]; /* a flat argument's bytes per value */
  const char* result_type;
  const char* result_format;
  /* The type of one guest call's result: the result type, or a table
   * function's chunk struct (wudf__signature_output_type). */
  const char* output_type;
  size_t output_type_length;
  /* The bytes per value of a scalar function's result when its declared
   * type is one flat fixed-width type (int32, float64, timestamp, decimal,
   * ...; not bool, not dictionary-encoded), else 0: such results take the
   * flat path of call.c. */
  int64_t flat_result_width;
  /* The layout of a scalar function's result when its declared type is
   * one flat type the column builder appends (arrow/append.h: fixed-width
   * values, strings, binary; not dictionary-encoded), else 0. */
  uint8_t append_layout;
  const char* state_type; /* aggregates; NULL otherwise */
  const char* state_format;
  uint32_t field_count; /* columns of a batch result or a table's chunks */
  const char* field_names[WUDF__MAX_FIELDS];
  const char* field_types[WUDF__MAX_FIELDS];
  const char* field_formats[WUDF__MAX_FIELDS];
};

/* The ABI exports every module with functions has (docs/abi.md, section 1). */
enum {
  WUDF__ABI_VERSION_EXPORT,
  WUDF__ABI_ALLOC,
  WUDF__ABI_FREE,
  WUDF__ABI_INPUT_ARRAY_RELEASE,
  WUDF__ABI_INPUT_SCHEMA_RELEASE,
  WUDF__ABI_RELEASE_ARRAY,
  WUDF__ABI_RELEASE_SCHEMA,
  WUDF__ABI_ERROR_MESSAGE,
  WUDF__ABI_EXPORT_COUNT
};

struct wudf__udf_table {
  uint32_t count;
  struct wudf__udf* functions;
  uint32_t abi[WUDF__ABI_EXPORT_COUNT];
  /* The optional export wudf_release_result(array, schema) (docs/abi.md,
   * section 1), which releases both output slots in one guest call;
   * `has_release_result` 0 when the module lacks it (then two calls). */
  uint32_t release_result;
  int has_release_result;
};

/* The declared functions of a module: its layer state (layer.h), set
 * when the UDF layer attached the module (functions.c; count 0 for a
 * module that declares none). */
static inline struct wudf__udf_table* wudf__udf_table_of(const struct wudf_module* module) {
  return (struct wudf__udf_table*)wudf__module_layer_state(module);
}

/* -------------------------------------------------------- instance state */

/* One handle of an instance's guest. */
struct wudf__handle_slot {
  uint32_t function;  /* whose handle */
  uint8_t state;      /* WUDF__HANDLE_* */
  uint8_t op;         /* WUDF__OP_TABLE_CLOSE or WUDF__OP_AGGREGATE_FREE */
};
#define WUDF__HANDLE_FREE 0
#define WUDF__HANDLE_TAKEN 1
#define WUDF__HANDLE_PENDING 2 /* released: `op` must run before reuse */

/* The guest ABI fields of an instance that wudf_instance_snapshot keeps. */
struct wudf__udf_abi_state {
  int ready;               /* set up by the first function call (call.c) */
  uint32_t slots;          /* output ArrowArray, then ArrowSchema */
  uint32_t control;        /* the control block of table/aggregate calls */
  uint32_t array_release;  /* the guest's input release callbacks */
  uint32_t schema_release;
  /* An input block the host keeps between calls: its offset (0: none) and
   * size. Reused by the next call whose input fits. */
  uint32_t block;
  uint32_t block_capacity;
};

/* The UDF layer's state of an instance: its layer state (layer.h), in the
 * instance's own allocation, reached with wudf__udf_of. */
struct wudf__udf_instance {
  struct wudf__udf_abi_state abi;
  /* Written before a view's pin is dropped: tells the next function call
   * to release the guest's result array that the view was reading. */
  int release_pending;
  /* Handles of streams and accumulators in the guest (call.c), and the
   * guest work their releases left for the next call. Guarded by
   * handle_lock, since a stream may be released on any thread. */
  pthread_mutex_t handle_lock;
  struct wudf__handle_slot* handles; /* index = handle; 0 unused */
  uint32_t handle_capacity;
  atomic_uint handles_pending;       /* slots with work to run */
  /* The guest ABI fields at wudf_instance_snapshot (an instance
   * snapshotted after its first call keeps its output slots). */
  struct wudf__udf_abi_state snapshot;
};

/* The UDF layer's state of `instance` (one pointer load). */
static inline struct wudf__udf_instance* wudf__udf_of(const struct wudf_instance* instance) {
  return (struct wudf__udf_instance*)wudf__instance_layer_state(instance);
}

/* The UDF layer as the engine sees it (layer.c): the hooks that read a
 * module's declarations and keep the state above, named by the
 * composition root (src/library.c). */
extern const struct wudf__layer wudf__udf_layer;

/* The layer's module hooks (functions.c). attach reads and checks the
 * functions the module declares in its "wasmudf" custom section into the
 * module's layer state (`bytes` are the module's): EPROTO on a bad record
 * or a missing export. detach frees them. */
int wudf__udf_module_attach(struct wudf_module* module, const uint8_t* bytes,
                            size_t module_size, struct wudf_error* error);
void wudf__udf_module_detach(struct wudf_module* module);

/* ----------------------------------------------------------- one call */

/* What a call has returned so far, against its options' result_row_limit
 * and result_byte_limit. */
struct wudf__output_tally {
  int64_t rows;
  int64_t bytes;
};

/* The state of one library call on an instance. */
struct wudf__call {
  struct wudf_instance* instance;
  const struct wudf__udf_table* table;
  const struct wudf__udf* udf;
  const struct wudf_call_options* options; /* `defaults` */
  /* The caller's options read over the defaults (wudf__call_check). */
  struct wudf_call_options defaults;
  uint64_t timeout_ms;
  struct wudf_error* error;
  int entered; /* 1 between a successful wudf__call_enter and wudf__call_end */
  int batched; /* the call's runs share one signal batch (wudf__rt_batch_enter) */
  /* The output counted so far: `own_tally`, or a table run's, which spans
   * the guest calls of a whole stream. */
  struct wudf__output_tally own_tally;
  struct wudf__output_tally* tally;
};

/*
 * Starts a call of function `function` of the instance's module: checks the
 * index (and, unless `kind` is WUDF__KIND_NONE, that the function is of
 * `kind`, naming the API to use otherwise), the options (NULL: defaults),
 * enters the instance (EBUSY when another thread is in a call on it), checks
 * that it is neither pinned by a view (EBUSY) nor broken (ENOTRECOVERABLE),
 * prepares the instance for the guest ABI on its first call, and runs
 * whatever earlier releases left for the guest to do (a released view's
 * result, closed streams and freed accumulators). 0 or an error code with
 * `error` set. After 0 the caller ends the call with wudf__call_end.
 */
int wudf__call_begin(struct wudf__call* call, struct wudf_instance* instance, uint32_t function,
                     uint8_t kind, const struct wudf_call_options* options,
                     struct wudf_error* error);

/* The two halves of wudf__call_begin: wudf__call_check checks only what
 * needs no instance state (the index, the kind, the options) and fills
 * `call`; wudf__call_enter then does the rest on the checked call. Calls
 * that check their arguments in between use the two. */
int wudf__call_check(struct wudf__call* call, struct wudf_instance* instance,
                     uint32_t function, uint8_t kind,
                     const struct wudf_call_options* options, struct wudf_error* error);
int wudf__call_enter(struct wudf__call* call);

/* Leaves the instance a successful wudf__call_enter entered; does nothing
 * for a call that did not enter (or already ended). */
void wudf__call_end(struct wudf__call* call);

/* EBUSY when a view pins the call's instance, ENOTRECOVERABLE when a trap
 * broke it, otherwise 0 (the call's error names the function). */
int wudf__call_usable(const struct wudf__call* call);

/* The checks of every call that takes `count` argument columns: the
 * arrays given, at least one (its length is the call's rows; `batch_api`
 * names the call that takes a batch instead), at most WUDF__MAX_ARGS, the
 * first not NULL. 0 or EINVAL. */
int wudf__check_columns(uint32_t count, const struct ArrowArray* const* arrays,
                        const struct ArrowSchema* const* schemas, const char* batch_api,
                        struct wudf_error* error);

/* What one guest call of a function produced, once validated: a host copy,
 * or a view of guest memory. */
struct wudf__result {
  struct ArrowArray array;
  struct ArrowSchema schema;
  int present;
};

/* Releases a result if present. */
void wudf__result_release(struct wudf__result* result);

/* One guest call, as the kinds ask for it. */
struct wudf__guest_request {
  /* The input: a planned struct array (written as the input block), or NULL
   * to pass no input (args = 0). */
  const struct wudf__plan* plan;
  int64_t plan_size;
  /* Table and aggregate functions: the control block's op, handle and
   * count (the export then has the five-parameter form); `op` 0 for the
   * four-parameter exports of scalar and batch functions. `flags` receives
   * the guest's answer. */
  uint32_t op;
  uint32_t handle;
  int64_t count;
  uint32_t flags;
  /* Written into the control block's flags before the call (aggregates:
   * WUDF__FLAG_GROUPS_CHECKED); `flags` is read back after it. */
  uint32_t control_flags;
  /* Whether a result is expected; then of the function's output type, or
   * `result_type` when not NULL, with exactly `length` rows (-1: any) and
   * copied, or viewed when `view`. */
  int wants_result;
  const char* result_type;
  size_t result_type_length;
  const char* result_path; /* names the root in messages ("result", "state") */
  int64_t length;
  int view;
  /* Scalar functions whose result type is flat (udf->flat_result_width):
   * try the flat result check first (call.c), and with `sink` copy the
   * result's rows into it instead of making a host array of them. */
  int flat;
  struct wudf__flat_sink* sink;
  /* When not NULL (and not `view`), the result, once validated, is handed
   * to `result_sink` where it is in guest memory instead of being copied
   * into a host array; the result given to wudf__run_guest stays absent. */
  const struct wudf__result_sink* result_sink;
  /* `plan` is a struct of childless fixed-width columns without metadata
   * (scalar.c's flat plan): written by wudf__flat_input_write, with
   * `plan_size` from its dry run. */
  int flat_input;
};

/* Takes a guest call's validated result where it is: `put` reads `array`
 * (buffers in guest memory, valid until it returns) and `schema`, and
 * returns 0 or an error with the call's message set. */
struct wudf__result_sink {
  int (*put)(void* context, const struct ArrowArray* array, const struct ArrowSchema* schema,
             struct wudf_error* error);
  void* context;
};

/* Writes a flat plan (a struct of childless fixed-width columns, schemas
 * without metadata or dictionaries) as the input structs and buffers at
 * `at` of guest memory, the way wudf__plan_guest_write would lay out any
 * plan, with fewer walks; fills `*placed`. With `memory` NULL, a dry run:
 * returns the bytes needed from any `at` (the worst alignment included).
 * Returns the bytes written. */
int64_t wudf__flat_input_write(const struct wudf__plan* root,
                               const struct wudf__guest_memory* memory, uint32_t at,
                               uint32_t array_release, uint32_t schema_release,
                               uint32_t private_data, struct wudf__guest_placement* placed);

/* Where the flat path places the rows of one guest call's result: the
 * values and validity of the final column, from row `row`. `nulls` counts
 * the nulls placed so far. */
struct wudf__flat_sink {
  uint8_t* values;
  uint8_t* validity;
  int64_t width;
  int64_t row;
  int64_t nulls;
  int64_t flags;   /* the schema flags of the first guest result */
  int flags_known;
};

/*
 * Makes one guest call: writes the input block, calls the export, releases
 * the inputs the guest left, reads an error message, validates and copies
 * (or views) the result into `*result` (present afterwards), and releases
 * what the guest still owns of it. Without a result expected, anything the
 * guest put into the output slots is released. Errors: a trap (the
 * instance is then broken), the guest's own failure (ECANCELED), EPROTO.
 */
int wudf__run_guest(struct wudf__call* call, struct wudf__guest_request* request,
                    struct wudf__result* result);

/* Adds `rows` and `bytes` of a guest call's result to the call's tally:
 * 0, or EFBIG naming the function and the limit passed (result_row_limit,
 * result_byte_limit). wudf__run_guest counts every result it takes. */
int wudf__count_output(struct wudf__call* call, int64_t rows, int64_t bytes);

/* ------------------------------------------------------------ arguments */

/* The most columns of a guest call's input: the arguments, and the group
 * ids of an aggregate's update. */
#define WUDF__MAX_COLUMNS (WUDF__MAX_ARGS + 1)

/* The columns of a guest call seen as one struct array, so that one gather
 * plans every column. */
struct wudf__arguments {
  uint32_t count;
  int64_t rows;
  uint8_t layouts[WUDF__MAX_COLUMNS]; /* enum wudf__layout of each column */
  int64_t widths[WUDF__MAX_COLUMNS];  /* bytes per value of FIXED columns */
  struct ArrowArray* arrays[WUDF__MAX_COLUMNS];
  struct ArrowSchema* schemas[WUDF__MAX_COLUMNS];
  /* Shallow copies of the caller's schemas, renamed "arg0", "arg1", ...
   * (or "group", "state") as docs/abi.md promises the guest. */
  struct ArrowSchema renamed[WUDF__MAX_COLUMNS];
  const void* no_buffers[1];
  struct ArrowArray array;
  struct ArrowSchema schema;
};

/* Makes `arguments` an empty struct of `rows` rows. */
void wudf__arguments_init(struct wudf__arguments* arguments, int64_t rows);

/* Checks caller argument `index` (0-based) against the signature -- type,
 * shape, length -- and appends it as column "argN". 0 or EINVAL naming the
 * argument (and its declared name) and the difference. */
int wudf__arguments_check(const struct wudf__call* call, uint32_t index,
                          const struct ArrowArray* array, const struct ArrowSchema* schema,
                          struct wudf__arguments* arguments);

/* Appends a column the library made or checked itself, named `name`.
 * `schema` must be well-formed. */
void wudf__arguments_add(struct wudf__arguments* arguments, const struct ArrowArray* array,
                         const struct ArrowSchema* schema, const char* name);

/* Nonzero when some column may have a null in rows [start, start + count)
 * at the top level (null-type columns are all null; unions and run-end
 * encoded columns have no top-level nulls). */
int wudf__arguments_any_null(const struct wudf__arguments* arguments, int64_t start,
                             int64_t count);

/* The columns of a record batch, each seen through the batch's offset and
 * length (wudf__batch_columns). */
struct wudf__batch_columns {
  uint32_t count;
  struct ArrowArray columns[WUDF__MAX_ARGS];
  const struct ArrowArray* arrays[WUDF__MAX_ARGS];   /* &columns[i] */
  const struct ArrowSchema* schemas[WUDF__MAX_ARGS]; /* the batch's */
};

/* Fills `out` with the columns of a record batch (a struct array without
 * struct-level nulls). EINVAL. */
int wudf__batch_columns(const struct ArrowArray* batch, const struct ArrowSchema* batch_schema,
                        struct wudf__batch_columns* out, struct wudf_error* error);

/* Checks `arg_count` caller columns of `rows` rows against the function's
 * signature (count, types, shapes, lengths) into a new arguments struct
 * `*out`, freed with wudf__free. 0, EINVAL or ENOMEM (scalar.c). */
int wudf__arguments_collect(struct wudf__call* call, uint32_t arg_count,
                            const struct ArrowArray* const* arrays,
                            const struct ArrowSchema* const* schemas, int64_t rows,
                            struct wudf__arguments** out);

/* The same into a caller's struct (on the stack of a call). */
int wudf__arguments_fill(struct wudf__call* call, uint32_t arg_count,
                         const struct ArrowArray* const* arrays,
                         const struct ArrowSchema* const* schemas, int64_t rows,
                         struct wudf__arguments* arguments);

/* The default of wudf_call_options.chunk_bytes, and the fewest rows a
 * guest call is cut to because of it: a guest call's fixed cost (about a
 * microsecond) stays small against the work on its rows. Measured in
 * docs/engine.md, "Chunk sizes". */
#define WUDF__DEFAULT_CHUNK_BYTES ((int64_t)512 << 10)
#define WUDF__MIN_CHUNK_ROWS 4096

/* The rows of one guest call over rows of `row_bytes` bytes (arguments
 * and result; 0: not known): max_rows_per_call (below 1: 1), cut to about
 * options->chunk_bytes of rows when that is set, the size known and the
 * result copied -- a multiple of 64 rows, at least WUDF__MIN_CHUNK_ROWS. */
int64_t wudf__rows_per_call(const struct wudf_call_options* options, int64_t row_bytes);

/* The caller's options (NULL: the defaults) read over the defaults as far
 * as their struct_size goes, into `out`. 0 or EINVAL (call.c). */
int wudf__call_options_read(struct wudf_call_options* out,
                            const struct wudf_call_options* options,
                            struct wudf_error* error);

/* ------------------------------------------------------------- constants */

/* A call's arguments given as struct wudf_argument, with every constant
 * broadcast to the call's rows (constant.c). */
struct wudf__broadcast {
  uint32_t count;
  int64_t rows;
  uint32_t constants;                                /* how many were constants */
  uint8_t constant[WUDF__MAX_ARGS];                  /* 1: argument i is one */
  const struct ArrowArray* arrays[WUDF__MAX_ARGS];   /* the caller's, or &owned[i] */
  const struct ArrowSchema* schemas[WUDF__MAX_ARGS]; /* the caller's */
  struct ArrowArray owned[WUDF__MAX_ARGS]; /* broadcast columns; release NULL if none */
};

/* Checks `count` caller arguments of `rows` rows (flags, lengths: a column
 * `rows` rows, a constant 1) into `out`, without broadcasting yet. 0 or
 * EINVAL naming the argument. */
int wudf__broadcast_check(uint32_t count, const struct wudf_argument* args, int64_t rows,
                          struct wudf__broadcast* out, struct wudf_error* error);

/* Broadcasts every constant of `broadcast` to its rows (host columns it
 * owns). 0, ENOMEM or EOVERFLOW (a broadcast too large for its type). */
int wudf__broadcast_fill(struct wudf__broadcast* broadcast, struct wudf_error* error);

/* Broadcasts one row of `array` (row 0 after its offset) to `rows` rows as
 * a new host array owned by the caller. */
int wudf__broadcast_array(const struct ArrowArray* array, const struct ArrowSchema* schema,
                          int64_t rows, struct ArrowArray* out, struct wudf_error* error);

/* Releases the broadcast columns. */
void wudf__broadcast_release(struct wudf__broadcast* broadcast);

/* ------------------------------------------------------------- segments */

/* The rows of one guest call. */
struct wudf__chunk {
  int64_t start;       /* first row of the arguments */
  int64_t count;       /* rows of the arguments covered */
  int64_t selected;    /* of them, rows passed to the guest */
  int compacted;       /* 1: only the rows without a null argument */
  struct wudf__segment_list rows; /* the selected rows, as segments of the arguments */
  struct wudf__gather* gather;
  int64_t size;        /* guest bytes of the planned input */
};

/*
 * Plans the input of one guest call starting at row `start` with at most
 * `count` rows: when `strict` and some row has a null column, only the rows
 * without one (compacted). When the input block would exceed
 * max_block_bytes, halves the rows until it fits -- unless `whole`, or a
 * single row does not fit: EFBIG. `chunk->rows` must be initialised (it is
 * reused); the previous gather must have been freed.
 */
int wudf__plan_chunk(struct wudf__call* call, const struct wudf__arguments* arguments,
                     int64_t start, int64_t count, int strict, int whole,
                     struct wudf__chunk* chunk);

/* Frees the chunk's gather and segments. */
void wudf__chunk_free(struct wudf__chunk* chunk);

/* The host ArrowSchema tree of the canonical type `text` (`length` bytes),
 * the root named `name`, owned by the caller (type_schema.c). 0 or ENOMEM. */
int wudf__type_schema(const char* text, size_t length, const char* name,
                      struct ArrowSchema* out, struct wudf_error* error);

/* The declared schema of a table function's chunks, named after the
 * function: a struct without struct-level nulls whose first column,
 * input_row, is never null (table.c). 0 or ENOMEM. */
int wudf__table_chunk_schema(const struct wudf__udf* udf, struct ArrowSchema* out,
                             struct wudf_error* error);

/* ------------------------------------------------- the kinds' own calls */

/* Runs table function `call` over all rows of `arguments` and concatenates
 * its chunks into one struct array (wudf_function_call; table.c). */
int wudf__table_collect(struct wudf__call* call, const struct wudf__arguments* arguments,
                        struct ArrowArray* out, struct ArrowSchema* out_schema);

/* Runs aggregate function `call` over all rows of `arguments` as one group
 * and returns its one-row result (wudf_function_call; aggregate.c). */
int wudf__aggregate_once(struct wudf__call* call, const struct wudf__arguments* arguments,
                         struct ArrowArray* out, struct ArrowSchema* out_schema);

/* ------------------------------------------------- handles, deferred work */

/* Reserves a handle (>= 1) of the instance's guest for a table stream or an
 * accumulator. 0 or ENOMEM. */
int wudf__handle_acquire(struct wudf_instance* instance, uint32_t* handle,
                         struct wudf_error* error);

/* Gives `handle` of function `function` back after `op` (a table close or
 * an aggregate free; 0 for none) has run in the guest: at once when `now`
 * and the instance can run guest code (and no other thread is in a call on
 * it), otherwise at the start of the instance's next call (nothing runs on
 * a broken instance). The handle is reused only after the guest has
 * forgotten it. Safe from any thread. */
void wudf__handle_finish(struct wudf_instance* instance, uint32_t function, uint32_t handle,
                         uint32_t op, int now);

/* Takes a reference to the instance for an object that outlives calls (a
 * stream, an accumulator): wudf__instance_hold; wudf__instance_unhold drops
 * it and destroys the instance if it was freed meanwhile (engine/layer.h). */

#endif /* WUDF_UDF_CALL_H */
