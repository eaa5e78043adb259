/*
 * test_hostile.c -- runs the hostile-guest corpus, tests/hostile/: one case
 * per file, each naming the call to make and the exact error it must give.
 *
 * A case is a C guest (NAME.c, built with the SDK into hostile_NAME.wasm)
 * or a text file (NAME.case) that points at a module built elsewhere. Its
 * header holds "key: value" lines (in the leading comment of a .c file):
 *
 *   call: FUNCTION        the function to call (required)
 *   module: NAME          the module (default hostile_NAME)
 *   args: TYPE V,V,...    one argument column, TYPE int32 / int64 /
 *                         float64 (default: int32 1,2,3)
 *   via: call|state|finish  wudf_function_call (default), or an
 *                         accumulator's update then state / finish
 *   config: K=V ...       instance configuration: timeout_ms,
 *                         memory_limit, output_limit
 *   options: K=V ...      call options: result_row_limit,
 *                         result_byte_limit, max_output_rows
 *   stage: load|instantiate|call  where the error comes (default call;
 *                         the earlier stages need no call:)
 *   stack: BYTES          make the call on a thread with this stack size
 *   expect: ERRNO         the status, by name (ETIMEDOUT, EFAULT, ...)
 *   trap: NAME            the trap kind, as wudf_trap_name gives it
 *   message: TEXT         the exact message
 *   output_at_most: BYTES the guest's captured output stays within this
 *   then: FUNCTION        called with int32 [7] on a fresh instance of the
 *                         same module afterwards, must succeed (default ok)
 *   then_module: NAME     the module of `then` (default: the case's; a
 *                         case that fails to load or instantiate names
 *                         another)
 *
 * Every case must leave the process up, leak nothing (the suite runs under
 * ASan and valgrind) and the next call on a fresh instance working.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>

#include "udf_helpers.h"

/* One case, as read from its file. */
struct hostile_case {
  char name[128];
  char module[128];
  char call[128];
  char args[256];
  char via[16];
  char config[256];
  char options[256];
  char stage[16];
  char expect[32];
  char trap[64];
  char message[1024];
  char then[128];
  char then_module[128];
  size_t stack;
  long long output_at_most;
};

static struct wudf_engine* engine;
static const char* corpus_dir;
static struct hostile_case current;

static const struct {
  const char* name;
  int code;
} errno_names[] = {
    {"OK", 0},           {"EINVAL", EINVAL},       {"ENOMEM", ENOMEM},
    {"EFAULT", EFAULT},  {"ETIMEDOUT", ETIMEDOUT}, {"ECANCELED", ECANCELED},
    {"EPROTO", EPROTO},  {"EFBIG", EFBIG},         {"EOVERFLOW", EOVERFLOW},
    {"ENOTSUP", ENOTSUP}, {"ENOEXEC", ENOEXEC},    {"EIO", EIO},
    {"EBUSY", EBUSY},    {"ENOTRECOVERABLE", ENOTRECOVERABLE}, {"EREMOTEIO", EREMOTEIO},
};

static int errno_of(const char* name) {
  for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++) {
    if (strcmp(errno_names[i].name, name) == 0) return errno_names[i].code;
  }
  TEST_FAIL("unknown errno name '%s'", name);
  return -1;
}

/* Copies `value` (trimmed) into `field`. */
static void set_field(char* field, size_t size, const char* value) {
  while (*value == ' ') value++;
  size_t length = strlen(value);
  while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\n')) length--;
  if (length >= size) TEST_FAIL("value too long: %s", value);
  memcpy(field, value, length);
  field[length] = '\0';
}

/* Reads the case in file `path` (called `name`). */
static void read_case(const char* path, const char* name, int is_c,
                      struct hostile_case* out) {
  memset(out, 0, sizeof(*out));
  snprintf(out->name, sizeof(out->name), "%s", name);
  snprintf(out->module, sizeof(out->module), "hostile_%s", name);
  snprintf(out->args, sizeof(out->args), "int32 1,2,3");
  snprintf(out->via, sizeof(out->via), "call");
  snprintf(out->then, sizeof(out->then), "ok");
  snprintf(out->stage, sizeof(out->stage), "call");
  out->output_at_most = -1;
  FILE* file = fopen(path, "r");
  if (file == NULL) TEST_FAIL("cannot open %s", path);
  char line[2048];
  while (fgets(line, sizeof(line), file) != NULL) {
    char* text = line;
    if (is_c) {
      if (strncmp(text, " */", 3) == 0) break;
      if (strncmp(text, " * ", 3) != 0) continue;
      text += 3;
    }
    char* colon = strstr(text, ": ");
    if (colon == NULL) continue;
    *colon = '\0';
    const char* value = colon + 2;
    if (strcmp(text, "call") == 0) set_field(out->call, sizeof(out->call), value);
    else if (strcmp(text, "module") == 0) set_field(out->module, sizeof(out->module), value);
    else if (strcmp(text, "args") == 0) set_field(out->args, sizeof(out->args), value);
    else if (strcmp(text, "via") == 0) set_field(out->via, sizeof(out->via), value);
    else if (strcmp(text, "config") == 0) set_field(out->config, sizeof(out->config), value);
    else if (strcmp(text, "options") == 0) set_field(out->options, sizeof(out->options), value);
    else if (strcmp(text, "stage") == 0) set_field(out->stage, sizeof(out->stage), value);
    else if (strcmp(text, "then_module") == 0) {
      set_field(out->then_module, sizeof(out->then_module), value);
    }
    else if (strcmp(text, "expect") == 0) set_field(out->expect, sizeof(out->expect), value);
    else if (strcmp(text, "trap") == 0) set_field(out->trap, sizeof(out->trap), value);
    else if (strcmp(text, "message") == 0) set_field(out->message, sizeof(out->message), value);
    else if (strcmp(text, "then") == 0) set_field(out->then, sizeof(out->then), value);
    else if (strcmp(text, "stack") == 0) out->stack = (size_t)atoll(value);
    else if (strcmp(text, "output_at_most") == 0) out->output_at_most = atoll(value);
  }
  fclose(file);
  if (out->then_module[0] == '\0') snprintf(out->then_module, sizeof(out->then_module), "%s",
                                            out->module);
  if ((strcmp(out->stage, "call") == 0 && out->call[0] == '\0') || out->expect[0] == '\0' ||
      out->message[0] == '\0') {
    TEST_FAIL("%s: a case needs call (at the call stage), expect and message", path);
  }
}

/* The instance configuration of the case. */
static struct wudf_instance_config case_config(const struct hostile_case* c) {
  struct wudf_instance_config config;
  wudf_instance_config_init(engine, &config);
  char copy[256];
  snprintf(copy, sizeof(copy), "%s", c->config);
  for (char* item = strtok(copy, " "); item != NULL; item = strtok(NULL, " ")) {
    char* equals = strchr(item, '=');
    if (equals == NULL) TEST_FAIL("bad config item '%s'", item);
    *equals = '\0';
    unsigned long long value = strtoull(equals + 1, NULL, 10);
    if (strcmp(item, "timeout_ms") == 0) config.timeout_ms = value;
    else if (strcmp(item, "memory_limit") == 0) config.memory_limit = value;
    else if (strcmp(item, "output_limit") == 0) config.output_limit = (size_t)value;
    else TEST_FAIL("unknown config item '%s'", item);
  }
  return config;
}

/* The call options of the case. */
static struct wudf_call_options case_options(const struct hostile_case* c) {
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  char copy[256];
  snprintf(copy, sizeof(copy), "%s", c->options);
  for (char* item = strtok(copy, " "); item != NULL; item = strtok(NULL, " ")) {
    char* equals = strchr(item, '=');
    if (equals == NULL) TEST_FAIL("bad options item '%s'", item);
    *equals = '\0';
    long long value = strtoll(equals + 1, NULL, 10);
    if (strcmp(item, "result_row_limit") == 0) options.result_row_limit = value;
    else if (strcmp(item, "result_byte_limit") == 0) options.result_byte_limit = value;
    else if (strcmp(item, "max_output_rows") == 0) options.max_output_rows = value;
    else TEST_FAIL("unknown options item '%s'", item);
  }
  return options;
}

/* The argument column of the case. */
static struct column case_argument(const struct hostile_case* c) {
  char type[16];
  const char* values = strchr(c->args, ' ');
  if (values == NULL || (size_t)(values - c->args) >= sizeof(type)) {
    TEST_FAIL("bad args '%s'", c->args);
  }
  memcpy(type, c->args, (size_t)(values - c->args));
  type[values - c->args] = '\0';
  uint8_t id = strcmp(type, "int32") == 0   ? TYPE_INT32
               : strcmp(type, "int64") == 0 ? TYPE_INT64
               : strcmp(type, "float64") == 0 ? TYPE_FLOAT64 : 0;
  if (id == 0) TEST_FAIL("unknown argument type '%s'", type);
  int64_t count = 1;
  for (const char* at = values + 1; *at != '\0'; at++) count += *at == ',';
  struct builder b;
  builder_init(&b, id, count);
  const char* at = values + 1;
  for (int64_t row = 0; row < count; row++) {
    char* end;
    if (id == TYPE_FLOAT64) {
      double value = strtod(at, &end);
      memcpy(builder_value(&b, row), &value, sizeof(value));
    } else if (id == TYPE_INT64) {
      int64_t value = strtoll(at, &end, 10);
      memcpy(builder_value(&b, row), &value, sizeof(value));
    } else {
      int32_t value = (int32_t)strtol(at, &end, 10);
      memcpy(builder_value(&b, row), &value, sizeof(value));
    }
    at = *end == ',' ? end + 1 : end;
  }
  return builder_finish(&b, "arg");
}

/* What the hostile call gave. */
struct outcome {
  int status;
  struct wudf_error error;
};

struct hostile_call {
  struct wudf_instance* instance;
  uint32_t function;
  const struct column* argument;
  struct outcome outcome;
};

/* Makes the case's call (on whatever thread runs it). */
static void* make_call(void* argument) {
  struct hostile_call* call = argument;
  const struct ArrowArray* args[1] = {&call->argument->array};
  const struct ArrowSchema* schemas[1] = {&call->argument->schema};
  struct wudf_error* error = &call->outcome.error;
  struct column result;
  memset(&result, 0, sizeof(result));
  struct wudf_call_options options = case_options(&current);
  if (strcmp(current.via, "call") == 0) {
    call->outcome.status = wudf_function_call(call->instance, call->function, 1, args, schemas,
                                              &options, &result.array, &result.schema, error);
  } else {
    struct wudf_aggregate* aggregate = NULL;
    int status = wudf_aggregate_new(call->instance, call->function, &aggregate, error);
    if (status == 0) {
      status = wudf_aggregate_update(aggregate, 1, args, schemas, NULL, 1, &options, error);
    }
    if (status == 0 && strcmp(current.via, "state") == 0) {
      status = wudf_aggregate_state(aggregate, &options, &result.array, &result.schema, error);
    } else if (status == 0) {
      status = wudf_aggregate_finish(aggregate, &options, &result.array, &result.schema, error);
    }
    wudf_aggregate_free(aggregate);
    call->outcome.status = status;
  }
  if (call->outcome.status == 0) column_release(&result);
  return NULL;
}

/* Checks a failure against the case's expectations. */
static void expect_failure(const struct hostile_case* c, int status,
                           const struct wudf_error* error) {
  int expected = errno_of(c->expect);
  if (status != expected) {
    TEST_FAIL("%s: expected %s, got status %d: %s", c->name, c->expect, status,
              status != 0 ? error->message : "(success)");
  }
  if (expected != 0) ASSERT_STR_EQ(error->message, c->message);
  if (c->trap[0] != '\0') ASSERT_STR_EQ(wudf_trap_name(error->trap), c->trap);
}

/* The case's `then` call on a fresh instance of its then_module. */
static void then_call(const struct hostile_case* c) {
  struct wudf_module* module = load_module(engine, c->then_module);
  struct wudf_instance* instance = new_instance(module);
  struct column seven = case_argument(&(struct hostile_case){.args = "int32 7"});
  const struct ArrowArray* args[1] = {&seven.array};
  const struct ArrowSchema* schemas[1] = {&seven.schema};
  struct column result;
  struct wudf_error error;
  ASSERT_OK(call_function(instance, c->then, 1, args, schemas, NULL, &result, &error), &error);
  if (strcmp(c->then, "ok") == 0) {
    ASSERT_EQ(result.array.length, 1);
    ASSERT_EQ(((const int32_t*)result.array.buffers[1])[result.array.offset], 7);
  }
  column_release(&result);
  column_release(&seven);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(hostile_case) {
  const struct hostile_case* c = &current;
  struct wudf_error error;
  if (strcmp(c->stage, "load") == 0) {
    struct wudf_module* module = NULL;
    int status = wudf_module_load_file(engine, module_path(c->module), &module, &error);
    wudf_module_free(module);
    expect_failure(c, status, &error);
    then_call(c);
    return;
  }
  struct wudf_module* module = load_module(engine, c->module);
  struct wudf_instance_config config = case_config(c);
  struct wudf_instance* instance = NULL;
  if (strcmp(c->stage, "instantiate") == 0) {
    int status = wudf_instance_new(module, &config, &instance, &error);
    wudf_instance_free(instance);
    wudf_module_free(module);
    expect_failure(c, status, &error);
    then_call(c);
    return;
  }
  ASSERT_OK(wudf_instance_new(module, &config, &instance, &error), &error);
  struct hostile_call call = {.instance = instance, .argument = NULL};
  ASSERT_OK(wudf_module_find_function(module, c->call, &call.function, &error), &error);
  struct column argument = case_argument(c);
  call.argument = &argument;
  if (c->stack > 0) {
    pthread_attr_t attributes;
    pthread_t thread;
    ASSERT_EQ(pthread_attr_init(&attributes), 0);
    ASSERT_EQ(pthread_attr_setstacksize(&attributes, c->stack), 0);
    ASSERT_EQ(pthread_create(&thread, &attributes, make_call, &call), 0);
    ASSERT_EQ(pthread_join(thread, NULL), 0);
    pthread_attr_destroy(&attributes);
  } else {
    make_call(&call);
  }
  column_release(&argument);
  size_t output_size = 0;
  wudf_instance_output(instance, &output_size, NULL);
  wudf_instance_free(instance);

  wudf_module_free(module);
  expect_failure(c, call.outcome.status, &call.outcome.error);
  if (c->output_at_most >= 0) ASSERT_LE(output_size, c->output_at_most);
  then_call(c); /* a fresh instance: the next call works */
}

static int by_name(const struct dirent** a, const struct dirent** b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

int main(void) {
  corpus_dir = getenv("WUDF_HOSTILE_DIR");
  if (corpus_dir == NULL) TEST_FAIL("WUDF_HOSTILE_DIR is not set; run through ctest");
  engine = new_engine();
  struct dirent** entries;
  int count = scandir(corpus_dir, &entries, NULL, by_name);
  if (count < 0) TEST_FAIL("cannot read %s", corpus_dir);
  int cases = 0;
  for (int i = 0; i < count; i++) {
    const char* file = entries[i]->d_name;
    size_t length = strlen(file);
    int is_c = length > 2 && strcmp(file + length - 2, ".c") == 0;
    int is_case = length > 5 && strcmp(file + length - 5, ".case") == 0;
    if (is_c || is_case) {
      char path[4096], name[128];
      snprintf(path, sizeof(path), "%s/%s", corpus_dir, file);
      snprintf(name, sizeof(name), "%.*s", (int)(length - (is_c ? 2 : 5)), file);
      read_case(path, name, is_c, &current);
      test__current = current.name;
      if (setjmp(test__escape) == 0) {
        test_hostile_case();
        test__passed++;
        printf("ok     %s\n", current.name);
      } else {
        test__failed++;
        printf("FAILED %s\n", current.name);
      }
      test__current = NULL;
      fflush(stdout);
      cases++;
    }
    free(entries[i]);
  }
  free(entries);
  wudf_engine_free(engine);
  if (cases == 0) TEST_FAIL("no cases in %s", corpus_dir);
  return TEST_SUMMARY();
}
