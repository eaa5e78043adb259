/*
 * commands.h -- the CLI's commands about user-defined functions
 * (udf_commands.c, run_files.c) and their output (print.c). Each takes the
 * arguments after its name and returns the process exit status, one of
 * CLI_EXIT_* (documented in `wasmudf --help` and docs/cli.md).
 */
#ifndef WASMUDF_CLI_COMMANDS_H
#define WASMUDF_CLI_COMMANDS_H

/* Where `build` looks for the guest SDK, relative to the directory of the
 * wasmudf executable: the installed layout (CMakeLists.txt computes both
 * from GNUInstallDirs), which the build tree mirrors. No absolute path of
 * the build is compiled in. */
#ifndef WUDF_SDK_OBJECT_RELATIVE
#define WUDF_SDK_OBJECT_RELATIVE "../share/wasmudf/wudf_guest.o"
#endif
#ifndef WUDF_SDK_INCLUDE_RELATIVE
#define WUDF_SDK_INCLUDE_RELATIVE "../include"
#endif

#include <stdint.h>

/* The exit status of the CLI, one per class of error. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_GUEST = 1,  /* the guest failed: a trap, its own error, a broken ABI */
  CLI_EXIT_USAGE = 2,  /* a bad command line: option, argument, column name */
  CLI_EXIT_INPUT = 3,  /* an input or output file that cannot be read or written */
  CLI_EXIT_MODULE = 4, /* the module cannot be loaded, validated or compiled */
  CLI_EXIT_LIMIT = 5   /* the call's deadline or memory limit was reached */
};

/* How a result is written: a readable table, or a file format. */
enum cli_format {
  CLI_FORMAT_TABLE,
  CLI_FORMAT_CSV,
  CLI_FORMAT_JSONL,
  CLI_FORMAT_ARROW,
  CLI_FORMAT_ARROWS
};

struct ArrowArrayStream;
struct ArrowArray;
struct ArrowSchema;
struct wudf_engine;
struct wudf_module;
struct wudf_error;

/* Loads MODULE for call, exports and run: an artifact (wasmudf compile's
 * output, recognised by its first line) with wudf_module_load_artifact_file,
 * anything else with wudf_module_load_file (wasmudf.c). */
int cli_load_module(struct wudf_engine* engine, const char* path,
                    struct wudf_module** module, struct wudf_error* error);

/* Parses a size for --memory-limit: "123", "64K", "16M", "1G", "2GiB" into
 * bytes. 0 or EINVAL. (wasmudf.c) */
int cli_parse_size(const char* text, uint64_t* bytes);

/* The output format from --format (`format_name`, may be NULL) or else the
 * extension of `output_path` (NULL: standard output, a table). 0, or
 * CLI_EXIT_USAGE after printing a message. (print.c) */
int cli_output_format(const char* output_path, const char* format_name,
                      enum cli_format* format);

/* --max-width N: cells of the table cut at N characters (default 40; 0:
 * none). 0, or CLI_EXIT_USAGE after printing a message. (print.c) */
int cli_set_max_width(const char* command, const char* text);

/* Writes every batch of `stream` (struct batches) to `output_path` (NULL or
 * "-": standard output) in `format`; a table shows at most `max_rows` rows
 * on standard output (0: all), the first and last ones. 0, or an errno
 * with `error` set. Releases the stream, as the library's writers do.
 * (print.c) */
int cli_write_stream(struct ArrowArrayStream* stream, const char* output_path,
                     enum cli_format format, int64_t max_rows, struct wudf_error* error);

/* Prints "wasmudf: MESSAGE" and returns the exit status of a library error:
 * CLI_EXIT_LIMIT for a deadline or the memory limit, CLI_EXIT_GUEST for any
 * other trap or guest failure, else `otherwise`. (wasmudf.c) */
int cli_fail(const struct wudf_error* error, int otherwise);

/* Prints the long help of `command` on standard output when argv holds
 * --help or -h; returns 1 when it did. (help.c) */
int cli_help_requested(const char* command, int argc, char** argv);

/* Wraps one column (moved) as a struct batch of one field named by its
 * schema. 0 or ENOMEM. (run_files.c) */
int cli_wrap_column(struct ArrowArray* column, struct ArrowSchema* column_schema,
                    struct ArrowArray* out, struct ArrowSchema* out_schema);

/* A stream over `count` struct batches (moved in; their schema, `schema`,
 * moved too). 0 or ENOMEM (then everything given is released). */
int cli_batches_stream(struct ArrowArray* batches, int64_t count, struct ArrowSchema* schema,
                       struct ArrowArrayStream* out);

/* Element `index` (not counting the array's offset) as the table prints it,
 * uncut ("NULL" for a null); malloc'd, NULL when out of memory. (print.c) */
char* cli_value_text(const struct ArrowArray* array, const struct ArrowSchema* schema,
                     int64_t index);

/* An aggregate function over the argument columns `columns` of `in`, one
 * result row per distinct value of column `group_column` (-1: one row for
 * all), written as cli_write_stream does; `in_csv`: `in` is a stream of
 * wudf_csv_read_* (else of wudf_ipc_read_*). Releases nothing it borrows. The
 * exit status, messages printed. (aggregate_files.c) */
struct wudf_instance;
struct wudf_function_info;
int cli_run_aggregate(struct wudf_instance* instance, uint32_t function,
                      const struct wudf_function_info* info, struct ArrowArrayStream* in,
                      int in_csv,
                      const struct ArrowSchema* in_schema, const int* columns,
                      int group_column, const char* input, const char* output_path,
                      enum cli_format format, int64_t max_rows);

/* The progress line on standard error (progress.c). */
struct cli_progress {
  int enabled, always, terminal, shown;
  double start, last;
  /* The input stream, asked how far it has got (wudf_csv_read_progress:
   * rows; wudf_ipc_read_progress: bytes), or NULL. */
  const struct ArrowArrayStream* source;
  int source_csv;
};
/* Starts timing a run over `source` (a stream of wudf_csv_read_* when
 * `source_csv`, else of wudf_ipc_read_*; NULL: no total, no ETA). */
void cli_progress_start(struct cli_progress* progress, const struct ArrowArrayStream* source,
                        int source_csv);
/* Reports `rows` done: drawn after a second on a terminal, at most ten
 * times a second. */
void cli_progress_update(struct cli_progress* progress, int64_t rows);
/* Erases the line now and draws no more: the output goes to the terminal. */
void cli_progress_clear(void);
/* Erases the line (a terminal) or ends it. */
void cli_progress_end(struct cli_progress* progress);

int command_list(int argc, char** argv);
int command_show(int argc, char** argv);
int command_build(int argc, char** argv);
int command_run(int argc, char** argv);

#endif /* WASMUDF_CLI_COMMANDS_H */
