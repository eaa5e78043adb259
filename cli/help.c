/*
 * help.c -- `wasmudf COMMAND --help`: the long help of every command, in
 * the sections of a manual page (synopsis, description, options, exit
 * status, examples). docs/cli.md holds the same text; tests/golden/help_*
 * the expected output, compared by tests/test_cli_golden.sh.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#define EXIT_STATUS_TEXT                                                          \
  "EXIT STATUS\n"                                                                 \
  "  0  success\n"                                                                \
  "  1  the guest failed: a trap, an error the function reported, a result\n"    \
  "     that breaks the guest ABI\n"                                              \
  "  2  usage: an unknown option, a bad value, a missing argument, an unknown\n" \
  "     function or column, a wrong number of columns\n"                          \
  "  3  an input or output file cannot be read, parsed or written\n"            \
  "  4  the module cannot be read, validated or compiled\n"                      \
  "  5  a limit: the call's deadline (--timeout) or memory limit\n"              \
  "     (--memory-limit) was reached\n"

static const struct {
  const char* command;
  const char* text;
} helps[] = {
    {"run",
     "NAME\n"
     "  wasmudf run - call a user-defined function over a file or literal columns\n"
     "\n"
     "SYNOPSIS\n"
     "  wasmudf run [OPTIONS] MODULE FUNCTION INPUT\n"
     "  wasmudf run [OPTIONS] MODULE FUNCTION COLUMN...\n"
     "\n"
     "DESCRIPTION\n"
     "  Calls FUNCTION, a user-defined function MODULE declares (see wasmudf\n"
     "  list), and writes its result. MODULE is a .wasm module or an artifact\n"
     "  of wasmudf compile.\n"
     "\n"
     "  INPUT is a file: an Arrow IPC file (.arrow, .feather, .ipc), an Arrow\n"
     "  IPC stream (.arrows, or - for a stream on standard input) or CSV (.csv,\n"
     "  its types inferred, the argument columns read as the function's\n"
     "  argument types). The argument columns are the ones --args names, or\n"
     "  else the first columns in order. The function runs batch by batch.\n"
     "\n"
     "  Otherwise each COLUMN gives one argument as comma-separated literals:\n"
     "  \"1,null,3\", \"a,b,null\" (integers, floats, bool, strings).\n"
     "\n"
     "  A scalar function gives one column named after the function, a batch\n"
     "  function its columns, a table function its rows (input_row first), an\n"
     "  aggregate function one row (literal columns only).\n"
     "\n"
     "  Without -o the result is printed as a table: column names and types in\n"
     "  the header, NULL for nulls, nested values, dictionaries, dates, times,\n"
     "  timestamps (with a time zone: in UTC, marked Z), decimals and intervals\n"
     "  written as values, cells longer than --max-width cut with \"…\", and\n"
     "  results longer than --max-rows shown as their first and last rows around\n"
     "  a \"⋮\" row, with the row count in the footer.\n"
     "\n"
     "OPTIONS\n"
     "  -o OUTPUT            write the result to OUTPUT, in the format of its\n"
     "                       extension: .arrow (IPC file), .arrows (IPC stream),\n"
     "                       .csv, .jsonl (JSON lines), .txt (the whole table)\n"
     "  --format FORMAT      table, csv, jsonl, arrow or arrows, whatever the\n"
     "                       extension of OUTPUT (standard output without -o)\n"
     "  --args COL,...       the input columns to pass, by name (files only)\n"
     "  --max-rows N         rows of the table on standard output (default 40;\n"
     "                       0: all)\n"
     "  --max-width N        characters of a table cell before it is cut with\n"
     "                       \"…\" (default 40; 0: no limit)\n"
     "  --timeout MS         deadline of each call in milliseconds (0: none;\n"
     "                       default 10000)\n"
     "  --memory-limit SIZE  cap on the guest's linear memory and tables, e.g.\n"
     "                       65536, 64K, 16M, 1G (default 1G)\n"
     "  --threads N          literal columns: split a scalar function's rows\n"
     "                       over N threads (1 to 256), an instance each from\n"
     "                       one pool; the rows stay in input order\n"
     "  -h, --help           this help\n"
     "\n" EXIT_STATUS_TEXT
     "\n"
     "EXAMPLES\n"
     "  wasmudf run gcd.wasm gcd 12,18,null 8,27,5\n"
     "  wasmudf run gcd.wasm gcd data.arrow --args a,b\n"
     "  wasmudf run strings.wasm upper names.csv -o upper.arrow\n"
     "  wasmudf run tables.wasm series ranges.csv --format csv\n"
     "  cat data.arrows | wasmudf run gcd.wasm gcd - -o out.jsonl\n"},
    {"show",
     "NAME\n"
     "  wasmudf show - print or convert a data file\n"
     "\n"
     "SYNOPSIS\n"
     "  wasmudf show [OPTIONS] INPUT\n"
     "\n"
     "DESCRIPTION\n"
     "  Reads INPUT (.arrow, .feather, .ipc, .arrows, .csv, or - for an Arrow\n"
     "  IPC stream on standard input) and prints its rows as the table of\n"
     "  wasmudf run, or writes them to OUTPUT in the format of its extension.\n"
     "\n"
     "OPTIONS\n"
     "  -o OUTPUT        write to OUTPUT (.arrow, .arrows, .csv, .jsonl, .txt)\n"
     "  --format FORMAT  table, csv, jsonl, arrow or arrows\n"
     "  --max-rows N     rows of the table on standard output (default 40;\n"
     "                   0: all)\n"
     "  --max-width N    characters of a table cell before it is cut with \"…\"\n"
     "                   (default 40; 0: no limit)\n"
     "  -h, --help       this help\n"
     "\n" EXIT_STATUS_TEXT
     "\n"
     "EXAMPLES\n"
     "  wasmudf show data.arrow\n"
     "  wasmudf show data.csv -o data.arrow\n"
     "  wasmudf show data.arrow --format jsonl --max-rows 0\n"},
    {"call",
     "NAME\n"
     "  wasmudf call - call a numeric export of a WebAssembly module\n"
     "\n"
     "SYNOPSIS\n"
     "  wasmudf call [OPTIONS] MODULE EXPORT [ARG...]\n"
     "\n"
     "DESCRIPTION\n"
     "  Calls EXPORT, a function export with i32, i64, f32 and f64 parameters\n"
     "  and results, with the ARGs (integers in decimal or 0x hex, floats as\n"
     "  strtod reads them), and prints each result on a line of its own, after\n"
     "  what the guest wrote through WASI. Like wasmtime --invoke.\n"
     "\n"
     "OPTIONS\n"
     "  --timeout MS         deadline of the call in milliseconds (0: none;\n"
     "                       default 10000)\n"
     "  --memory-limit SIZE  cap on linear memory and tables, e.g. 65536, 64K,\n"
     "                       16M, 1G (default 1G)\n"
     "  --deterministic      a fixed clock and fixed random numbers for WASI\n"
     "  -h, --help           this help\n"
     "\n" EXIT_STATUS_TEXT
     "  When the guest calls WASI proc_exit, its code is the exit status.\n"
     "\n"
     "EXAMPLES\n"
     "  wasmudf call gcd.wasm gcd 1071 462\n"
     "  wasmudf call --timeout 100 loop.wasm spin\n"},
    {"exports",
     "NAME\n"
     "  wasmudf exports - list the callable exports of a module\n"
     "\n"
     "SYNOPSIS\n"
     "  wasmudf exports MODULE\n"
     "\n"
     "DESCRIPTION\n"
     "  Loads MODULE (a .wasm module or an artifact) and prints each function\n"
     "  export that wasmudf call can call, with its signature:\n"
     "  name(i32, i32) -> (i32).\n"
     "\n"
     "OPTIONS\n"
     "  -h, --help  this help\n"
     "\n" EXIT_STATUS_TEXT
     "\n"
     "EXAMPLES\n"
     "  wasmudf exports gcd.wasm\n"},
    {"list",
     "NAME\n"
     "  wasmudf list - list the user-defined functions a module declares\n"
     "\n"
     "SYNOPSIS\n"
     "  wasmudf list MODULE\n"
     "\n"
     "DESCRIPTION\n"
     "  Prints the kind (scalar, batch, table, aggregate) and signature of each\n"
     "  function in MODULE's metadata, without compiling or running guest code.\n"
     "\n"
     "OPTIONS\n"
     "  -h, --help  this help\n"
     "\n" EXIT_STATUS_TEXT
     "\n"
     "EXAMPLES\n"
     "  wasmudf list strings.wasm\n"},
    {"build",
     "NAME\n"
     "  wasmudf build - compile a C guest with the guest SDK\n"
     "\n"
     "SYNOPSIS\n"
     "  wasmudf build [CLANG_FLAGS...] SOURCE.c... -o OUT.wasm\n"
     "\n"
     "DESCRIPTION\n"
     "  Compiles the C sources with clang for wasm32-wasi (a reactor, -O2) and\n"
     "  links the C guest SDK, which brings the exports of the guest ABI. The\n"
     "  SDK is found relative to this executable (BINDIR/../share/wasmudf/\n"
     "  wudf_guest.o and BINDIR/../include/wasmudf/guest.h), installed or in\n"
     "  the build tree; $WASMUDF_SDK_OBJECT and $WASMUDF_SDK_INCLUDE override\n"
     "  them. Other arguments go to clang unchanged.\n"
     "\n"
     "OPTIONS\n"
     "  -o OUT.wasm  the module to write\n"
     "  -h, --help   this help\n"
     "\n"
     "EXIT STATUS\n"
     "  0  success\n"
     "  2  usage\n"
     "  4  the SDK is missing, clang cannot run or fails\n"
     "\n"
     "EXAMPLES\n"
     "  wasmudf build gcd.c -o gcd.wasm\n"
     "  wasmudf build -DNDEBUG a.c b.c -o ab.wasm\n"},
    {"compile",
     "NAME\n"
     "  wasmudf compile - compile a module into a native artifact\n"
     "\n"
     "SYNOPSIS\n"
     "  wasmudf compile MODULE.wasm -o ARTIFACT\n"
     "\n"
     "DESCRIPTION\n"
     "  Validates MODULE.wasm and compiles its optimised native code (wasm2c,\n"
     "  then $CC or cc at -O2) into ARTIFACT: a manifest (the module's SHA-256,\n"
     "  the wasm2c version, the SHA-256 of wasm-rt.h, the glue ABI version, the\n"
     "  target, a SHA-256 over everything), the module's bytes and the shared\n"
     "  object. call, exports and run load it with no wasm2c and no compiler,\n"
     "  after verifying all of it; an artifact made for another library build,\n"
     "  wasm2c, runtime header or machine is refused. An artifact is native\n"
     "  code: run only artifacts you would trust as a shared library.\n"
     "\n"
     "OPTIONS\n"
     "  -o ARTIFACT  the artifact to write\n"
     "  -h, --help   this help\n"
     "\n" EXIT_STATUS_TEXT
     "\n"
     "EXAMPLES\n"
     "  wasmudf compile gcd.wasm -o gcd.wudf\n"
     "  wasmudf run gcd.wudf gcd 12,18 8,27\n"},
};

int cli_help_requested(const char* command, int argc, char** argv) {
  int wanted = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) wanted = 1;
  }
  if (!wanted) return 0;
  for (size_t k = 0; k < sizeof helps / sizeof helps[0]; k++) {
    if (strcmp(helps[k].command, command) == 0) {
      fputs(helps[k].text, stdout);
      return 1;
    }
  }
  return 0;
}
