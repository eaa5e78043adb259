/*
 * wasmudf.c -- the command-line tool.
 *
 *   wasmudf call [--timeout MS] [--memory-limit SIZE] [--deterministic]
 *                MODULE.wasm EXPORT [ARGS...]
 *       Calls a numeric export (i32/i64/f32/f64 arguments and results) and
 *       prints each result on its own line, after whatever the guest wrote
 *       through WASI. Like `wasmtime --invoke`.
 *   wasmudf compile MODULE.wasm -o ARTIFACT
 *       Compiles the module's optimised native code (wasm2c, cc -O2) into a
 *       self-describing artifact that loads with no wasm2c or compiler
 *       (docs/embedding.md, "Artifacts"). `call`, `exports` and `run` take
 *       an artifact wherever they take a module.
 *   wasmudf exports MODULE.wasm
 *       Lists the module's callable function exports with their signatures.
 *   wasmudf list MODULE.wasm
 *       Lists the user-defined functions the module declares (its metadata),
 *       with kind and signature, without running guest code.
 *   wasmudf build [CLANG_FLAGS...] SOURCE.c... -o OUT.wasm
 *       Compiles a C guest with clang for wasm32-wasi and links the C guest
 *       SDK: the exports of the guest ABI come with it. The SDK is found
 *       relative to this executable, BINDIR/../share/wasmudf/wudf_guest.o and
 *       BINDIR/../include/wasmudf/guest.h, installed or in the build tree
 *       ($WASMUDF_SDK_OBJECT and $WASMUDF_SDK_INCLUDE override them).
 *   wasmudf run [OPTIONS] MODULE.wasm FUNCTION COLUMN...
 *   wasmudf run [OPTIONS] MODULE.wasm FUNCTION INPUT
 *       Calls a function on small columns written as comma-separated values
 *       ("1,null,3", "a,b,null"), one per argument (udf_commands.c), or over
 *       the columns of a file (run_files.c, aggregate_files.c): INPUT .arrow,
 *       .arrows, .csv or - (an Arrow IPC stream on standard input). Without
 *       -o the result is a table (print.c); -o OUTPUT's extension or
 *       --format chooses a file format. --args, --group-by, --threads,
 *       --timeout, --memory-limit, --max-rows: see `wasmudf run --help`.
 *   wasmudf show INPUT [-o OUTPUT] [--format F] [--max-rows N]
 *       Prints a data file as a table, or converts it.
 *
 * `wasmudf COMMAND --help` prints a command's manual (help.c; docs/cli.md).
 * Errors go to standard error as "wasmudf: MESSAGE". Exit status: one per
 * class of error (CLI_EXIT_* in commands.h): 0 success, 1 the guest
 * failed, 2 usage, 3 an input or output file, 4 the module, 5 a limit; and
 * for call the guest's own code when it calls proc_exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "wasmudf/wasmudf.h"

static const char usage_text[] =
    "usage: wasmudf call [--timeout MS] [--memory-limit SIZE] [--deterministic]\n"
    "                    MODULE.wasm EXPORT [ARGS...]\n"
    "       wasmudf compile MODULE.wasm -o ARTIFACT\n"
    "       wasmudf exports MODULE.wasm\n"
    "       wasmudf list MODULE.wasm\n"
    "       wasmudf build [CLANG_FLAGS...] SOURCE.c... -o OUT.wasm\n"
    "       wasmudf run [OPTIONS] MODULE.wasm FUNCTION COLUMN...\n"
    "       wasmudf run [OPTIONS] MODULE.wasm FUNCTION INPUT [-o OUTPUT]\n"
    "                   [--args COL,...] [--group-by COL] [--threads N]\n"
    "                   [--format table|csv|jsonl] [--max-rows N]\n"
    "                   [--timeout MS] [--memory-limit SIZE]\n"
    "       wasmudf show INPUT [-o OUTPUT] [--format F] [--max-rows N]\n"
    "       wasmudf --version\n"
    "\n"
    "  call     call a numeric export and print its results\n"
    "  compile  compile the module's optimised native code into an artifact\n"
    "           that call, exports and run load with no wasm2c or compiler\n"
    "           (see wasmudf compile --help)\n"
    "  exports  list the callable exports and their signatures\n"
    "  list     list the user-defined functions a module declares\n"
    "  build    compile a C guest with the guest SDK (clang, wasm32-wasi)\n"
    "  run      call a function on columns given as comma-separated values,\n"
    "           e.g. wasmudf run gcd.wasm gcd 12,18,null 8,27,5, or over the\n"
    "           columns of INPUT (.arrow, .arrows, .csv, - for a stream on stdin;\n"
    "           --args picks them by name), writing OUTPUT by its extension\n"
    "           (.arrow, .arrows, .csv, .jsonl), else a table on stdout\n"
    "           (--format csv|jsonl|table); --group-by COL runs an aggregate\n"
    "           per group; --threads N splits a scalar function's rows over N\n"
    "           threads (an instance each, from one pool), in input order\n"
    "  show     print a data file (.arrow, .arrows, .csv) as a table, or\n"
    "           convert it (-o)\n"
    "\n"
    "  wasmudf COMMAND --help shows the manual of a command.\n"
    "\n"
    "  --timeout MS         deadline of the call in milliseconds (0: none;\n"
    "                       default 10000)\n"
    "  --memory-limit SIZE  cap on linear memory and tables, e.g. 65536, 64K,\n"
    "                       16M, 1G (default 1G)\n"
    "  --deterministic      fixed clock and random numbers for WASI\n"
    "\n"
    "Compiled modules are cached in $WASMUDF_CACHE_DIR (default\n"
    "$XDG_CACHE_HOME/wasmudf or ~/.cache/wasmudf). A module not in the cache is\n"
    "compiled with tcc and runs at once; the optimised build (cc -O2) follows\n"
    "before the program exits ($WASMUDF_FAST_TIER=0: compile with cc -O2 first).\n"
    "`build` takes the guest SDK\n"
    "from " WUDF_SDK_OBJECT_RELATIVE " and " WUDF_SDK_INCLUDE_RELATIVE "/wasmudf/guest.h\n"
    "relative to this executable's directory, or from $WASMUDF_SDK_OBJECT and\n"
    "$WASMUDF_SDK_INCLUDE.\n"
    "\n"
    "Exit status: 0 success; 1 the guest failed (trap, its own error, a broken\n"
    "ABI); 2 usage (option, argument, function or column name); 3 an input or\n"
    "output file cannot be read or written; 4 the module cannot be read,\n"
    "validated or compiled; 5 a limit (--timeout, --memory-limit) was reached;\n"
    "for call, the guest's code when it calls proc_exit.\n";

int cli_fail(const struct wudf_error* error, int otherwise) {
  fprintf(stderr, "wasmudf: %s\n", error->message);
  if (error->code == ETIMEDOUT || error->trap == WUDF_TRAP_TIMEOUT ||
      error->trap == WUDF_TRAP_OUT_OF_MEMORY) {
    return CLI_EXIT_LIMIT;
  }
  if (error->trap != WUDF_TRAP_NONE || error->code == EFAULT || error->code == ECANCELED ||
      error->code == EPROTO || error->code == ENOTRECOVERABLE) {
    return CLI_EXIT_GUEST;
  }
  return otherwise;
}

static int usage(const char* problem) {
  if (problem != NULL) fprintf(stderr, "wasmudf: %s\n", problem);
  fputs(usage_text, stderr);
  return 2;
}

/* A failure to load a module: CLI_EXIT_MODULE (or a limit's status). */
static int fail(const struct wudf_error* error) { return cli_fail(error, CLI_EXIT_MODULE); }

/* Parses "123", "64K", "16M", "1G", "2GiB" into bytes. Returns 0 or EINVAL.
 * Shared by every command's --memory-limit (commands.h). */
int cli_parse_size(const char* text, uint64_t* bytes) {
  char* end;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || end == text || text[0] == '-') return EINVAL;
  uint64_t scale = 1;
  switch (*end) {
    case 'k': case 'K': scale = 1ull << 10; end++; break;
    case 'm': case 'M': scale = 1ull << 20; end++; break;
    case 'g': case 'G': scale = 1ull << 30; end++; break;
    default: break;
  }
  if (scale != 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)) end += strlen(end);
  if (*end != '\0' || value > UINT64_MAX / scale) return EINVAL;
  *bytes = value * scale;
  return 0;
}

/* Parses an argument of type `type`: integers in decimal or 0x hex, signed or
 * (up to the width) unsigned; floats as strtod reads them (inf, nan, ...). */
static int parse_value(const char* text, wudf_valtype type, struct wudf_value* value) {
  char* end;
  errno = 0;
  value->type = type;
  switch (type) {
    case WUDF_I32:
    case WUDF_I64: {
      uint64_t magnitude;
      int negative = text[0] == '-';
      magnitude = strtoull(negative ? text + 1 : text, &end, 0);
      if (errno != 0 || end == text || *end != '\0' || (negative && text[1] == '-')) return EINVAL;
      if (type == WUDF_I32) {
        if (negative ? magnitude > 0x80000000ull : magnitude > 0xffffffffull) return EINVAL;
        value->of.i32 = (int32_t)(uint32_t)(negative ? (0 - magnitude) : magnitude);
      } else {
        if (negative && magnitude > 0x8000000000000000ull) return EINVAL;
        value->of.i64 = (int64_t)(negative ? (0 - magnitude) : magnitude);
      }
      return 0;
    }
    case WUDF_F32:
      value->of.f32 = strtof(text, &end);
      return end == text || *end != '\0' ? EINVAL : 0;
    case WUDF_F64:
      value->of.f64 = strtod(text, &end);
      return end == text || *end != '\0' ? EINVAL : 0;
  }
  return EINVAL;
}

static void print_value(const struct wudf_value* value) {
  switch (value->type) {
    case WUDF_I32: printf("%" PRId32 "\n", value->of.i32); break;
    case WUDF_I64: printf("%" PRId64 "\n", value->of.i64); break;
    case WUDF_F32: printf("%.9g\n", (double)value->of.f32); break;
    case WUDF_F64: printf("%.17g\n", value->of.f64); break;
  }
}

static void format_signature(const struct wudf_export_info* info, char* out, size_t size) {
  size_t used = (size_t)snprintf(out, size, "%s(", info->name);
  for (uint32_t i = 0; i < info->param_count && used < size; i++) {
    used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                             wudf_valtype_name(info->params[i]));
  }
  if (used < size) used += (size_t)snprintf(out + used, size - used, ") -> (");
  for (uint32_t i = 0; i < info->result_count && used < size; i++) {
    used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                             wudf_valtype_name(info->results[i]));
  }
  if (used < size) snprintf(out + used, size - used, ")");
}

int cli_load_module(struct wudf_engine* engine, const char* path,
                    struct wudf_module** module, struct wudf_error* error) {
  unsigned char start[32];
  size_t got = 0;
  FILE* file = fopen(path, "rb");
  if (file != NULL) {
    got = fread(start, 1, sizeof(start), file);
    fclose(file);
  }
  if (wudf_is_artifact(start, got)) {
    return wudf_module_load_artifact_file(engine, path, module, error);
  }
  return wudf_module_load_file(engine, path, module, error);
}

static const char compile_usage_text[] =
    "usage: wasmudf compile MODULE.wasm -o ARTIFACT\n"
    "\n"
    "Validates MODULE.wasm and compiles its optimised native code (wasm2c, then\n"
    "$CC or cc at -O2; the fast tier is not used) into ARTIFACT: one file with a\n"
    "manifest (the module's SHA-256, the wasm2c version and the SHA-256 of the\n"
    "wasm-rt.h the code was compiled against, the glue ABI version, the target,\n"
    "a SHA-256 over everything), the module's bytes and the shared object.\n"
    "`wasmudf call`, `exports` and `run` (and wudf_module_load_artifact_file)\n"
    "load it with no wasm2c and no compiler, after verifying all of it before\n"
    "any of its code is mapped; an artifact made for another library build,\n"
    "wasm2c, runtime header or machine is refused. An artifact is native code:\n"
    "run only artifacts you would trust as a shared library.\n";

static int command_compile(int argc, char** argv) {
  const char* input = NULL;
  const char* output = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(compile_usage_text, stdout);
      return 0;
    }
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      output = argv[++i];
    } else if (argv[i][0] == '-' || input != NULL) {
      fprintf(stderr, "wasmudf: compile: unexpected argument '%s'\n", argv[i]);
      fputs(compile_usage_text, stderr);
      return 2;
    } else {
      input = argv[i];
    }
  }
  if (input == NULL || output == NULL) {
    fputs("wasmudf: compile needs MODULE.wasm and -o ARTIFACT\n", stderr);
    fputs(compile_usage_text, stderr);
    return 2;
  }
  struct wudf_error error;
  struct wudf_engine* engine = NULL;
  if (wudf_engine_new(NULL, &engine, &error) != 0) return fail(&error);
  int status = wudf_module_compile_artifact_file(engine, input, output, &error);
  wudf_engine_free(engine);
  return status == 0 ? 0 : fail(&error);
}

static int command_exports(int argc, char** argv) {
  if (argc != 1) return usage("exports takes one MODULE.wasm");
  struct wudf_error error;
  struct wudf_engine* engine = NULL;
  struct wudf_module* module = NULL;
  if (wudf_engine_new(NULL, &engine, &error) != 0) return fail(&error);
  int status = cli_load_module(engine, argv[0], &module, &error);
  if (status == 0) {
    for (uint32_t i = 0; i < wudf_module_export_count(module); i++) {
      struct wudf_export_info info = {.struct_size = sizeof(struct wudf_export_info)};
      char line[2048];
      wudf_module_export(module, i, &info, NULL);
      format_signature(&info, line, sizeof(line));
      printf("%s\n", line);
    }
  }
  wudf_module_free(module);
  wudf_engine_cancel_builds(engine); /* exit now, not after cc -O2 */
  wudf_engine_free(engine);
  return status == 0 ? 0 : fail(&error);
}

static int command_call(int argc, char** argv) {
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  int i = 0;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      char* end;
      errno = 0;
      config.timeout_ms = strtoull(argv[++i], &end, 10);
      if (errno != 0 || *end != '\0' || argv[i][0] == '-') return usage("--timeout takes milliseconds");
    } else if (strcmp(argv[i], "--memory-limit") == 0 && i + 1 < argc) {
      if (cli_parse_size(argv[++i], &config.memory_limit) != 0) {
        return usage("--memory-limit takes a size such as 65536, 64K, 16M or 1G");
      }
    } else if (strcmp(argv[i], "--deterministic") == 0) {
      config.deterministic = 1;
    } else if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else {
      return usage("unknown option");
    }
  }
  if (argc - i < 2) return usage("call needs MODULE.wasm and EXPORT");
  const char* path = argv[i];
  const char* name = argv[i + 1];
  char** arg_texts = argv + i + 2;
  int arg_count = argc - i - 2;

  struct wudf_error error;
  struct wudf_engine* engine = NULL;
  struct wudf_module* module = NULL;
  struct wudf_instance* instance = NULL;
  struct wudf_value* args = NULL;
  struct wudf_value* results = NULL;
  int exit_status = 1;
  if (wudf_engine_new(&config, &engine, &error) != 0) return fail(&error);
  if (cli_load_module(engine, path, &module, &error) != 0) goto failed;
  uint32_t index;
  struct wudf_export_info info = {.struct_size = sizeof(struct wudf_export_info)};
  if (wudf_module_find_export(module, name, &index, &error) != 0) {
    exit_status = cli_fail(&error, CLI_EXIT_USAGE);
    goto done;
  }
  wudf_module_export(module, index, &info, NULL);
  if ((uint32_t)arg_count != info.param_count) {
    char signature[2048];
    format_signature(&info, signature, sizeof(signature));
    fprintf(stderr, "wasmudf: %s takes %u arguments, %d given\n", signature,
            info.param_count, arg_count);
    exit_status = 2;
    goto done;
  }
  args = calloc((size_t)arg_count + 1, sizeof(*args));
  results = calloc((size_t)info.result_count + 1, sizeof(*results));
  if (args == NULL || results == NULL) {
    fprintf(stderr, "wasmudf: out of memory\n");
    goto done;
  }
  for (int a = 0; a < arg_count; a++) {
    if (parse_value(arg_texts[a], info.params[a], &args[a]) != 0) {
      fprintf(stderr, "wasmudf: argument %d of %s: '%s' is not a valid %s\n",
              a + 1, name, arg_texts[a], wudf_valtype_name(info.params[a]));
      exit_status = 2;
      goto done;
    }
  }
  if (wudf_instance_new(module, NULL, &instance, &error) != 0) goto failed;
  int status = wudf_instance_call(instance, index, args, (size_t)arg_count,
                                  results, info.result_count,
                                  WUDF_TIMEOUT_DEFAULT, &error);
  size_t output_size, dropped;
  const char* output = wudf_instance_output(instance, &output_size, &dropped);
  fwrite(output, 1, output_size, stdout);
  if (dropped != 0) {
    fprintf(stderr, "wasmudf: %zu bytes of guest output dropped\n", dropped);
  }
  if (status == ECANCELED) {
    exit_status = error.exit_code;
    if (exit_status != 0) fprintf(stderr, "wasmudf: %s\n", error.message);
    goto done;
  }
  if (status != 0) goto failed;
  for (uint32_t r = 0; r < info.result_count; r++) print_value(&results[r]);
  exit_status = 0;
  goto done;
failed:
  exit_status = cli_fail(&error, instance ? CLI_EXIT_GUEST : CLI_EXIT_MODULE);
done:
  fflush(stdout);
  free(args);
  free(results);
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_cancel_builds(engine); /* exit now, not after cc -O2 */
  wudf_engine_free(engine);
  return exit_status;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage(NULL);
  if (strcmp(argv[1], "--version") == 0) {
    printf("wasmudf %s\n", WUDF_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage_text, stdout);
    return 0;
  }
  if (cli_help_requested(argv[1], argc - 2, argv + 2)) return 0;
  if (strcmp(argv[1], "show") == 0) return command_show(argc - 2, argv + 2);
  if (strcmp(argv[1], "call") == 0) return command_call(argc - 2, argv + 2);
  if (strcmp(argv[1], "compile") == 0) return command_compile(argc - 2, argv + 2);
  if (strcmp(argv[1], "exports") == 0) return command_exports(argc - 2, argv + 2);
  if (strcmp(argv[1], "list") == 0) return command_list(argc - 2, argv + 2);
  if (strcmp(argv[1], "build") == 0) return command_build(argc - 2, argv + 2);
  if (strcmp(argv[1], "run") == 0) return command_run(argc - 2, argv + 2);
  return usage("unknown command");
}
