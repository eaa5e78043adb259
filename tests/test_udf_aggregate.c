/*
 * test_udf_aggregate.c -- aggregate functions through wudf_aggregate_*:
 * grouped updates over many groups checked against sums computed here,
 * partial states from two instances merged in a third (also through
 * bytes), a million rows in one guest call, empty groups and both null
 * handlings, the checks of group ids and counts and of merged states'
 * type, every protocol violation of a lying guest, the guest's failures
 * and traps, per-group destructors (also when the free is deferred), an
 * accumulator holding its instance, and every host allocation failing in
 * turn.
 */
#include "udf_helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* examples;
static struct wudf_module* kinds;
static struct wudf_module* liars;

/* The allocation funnel of this program: counts, and fails the
 * `fail_countdown`-th allocation from now when it is positive. */
static long fail_countdown;
static int failed_once;

static void* test_malloc(void* user, size_t size) {
  if (fail_countdown > 0 && --fail_countdown == 0) {
    failed_once = 1;
    return NULL;
  }
  return malloc(size);
}
static void* test_realloc(void* user, void* pointer, size_t size) {
  if (fail_countdown > 0 && --fail_countdown == 0) {
    failed_once = 1;
    return NULL;
  }
  return realloc(pointer, size);
}
static void test_free(void* user, void* pointer) { free(pointer); }

static uint32_t function_index(struct wudf_module* module, const char* name) {
  struct wudf_error error;
  uint32_t index = 0;
  ASSERT_OK(wudf_module_find_function(module, name, &index, &error), &error);
  return index;
}

static struct wudf_aggregate* new_aggregate(struct wudf_instance* instance,
                                            struct wudf_module* module, const char* name) {
  struct wudf_error error;
  struct wudf_aggregate* aggregate = NULL;
  ASSERT_OK(wudf_aggregate_new(instance, function_index(module, name), &aggregate, &error),
            &error);
  return aggregate;
}

/* Folds one column into `aggregate`. */
static int update(struct wudf_aggregate* aggregate, const struct ArrowArray* array,
                  const struct ArrowSchema* schema, const uint32_t* ids, int64_t group_count,
                  const struct wudf_call_options* options, struct wudf_error* error) {
  const struct ArrowArray* arrays[1] = {array};
  const struct ArrowSchema* schemas[1] = {schema};
  return wudf_aggregate_update(aggregate, 1, arrays, schemas, ids, group_count, options, error);
}

/* int64 row `row` of a host array, or `null_value` when it is null. */
static int64_t int64_at(const struct ArrowArray* array, int64_t row, int64_t null_value) {
  if (row_is_null(array, row)) return null_value;
  return ((const int64_t*)array->buffers[1])[array->offset + row];
}

#define NULL_VALUE INT64_MIN

/* ------------------------------------------------------------- the data */

#define ROWS 100000
#define GROUPS 1000
static struct column values;  /* int64, the helpers' pattern, nulls every 13th */
static uint32_t ids[ROWS];    /* row i: group (i * 7919) % GROUPS, except group 5: none */

static void make_data(void) {
  values = make_column(TYPE_INT64, ROWS, 13);
  for (int64_t i = 0; i < ROWS; i++) {
    uint32_t group = (uint32_t)((i * 7919) % GROUPS);
    ids[i] = group == 5 ? 6 : group;
  }
}

/* The sum of each group over rows [from, to) of the data, with `any` set
 * where a group has a non-null value; ids mapped by `map` (NULL: as they
 * are). Computed here, independently of any guest. */
static void expected_sums(int64_t from, int64_t to, int64_t* sums, int* any) {
  memset(sums, 0, GROUPS * sizeof(*sums));
  memset(any, 0, GROUPS * sizeof(*any));
  for (int64_t i = from; i < to; i++) {
    if (row_is_null(&values.array, i)) continue;
    sums[ids[i]] += int64_at(&values.array, i, 0);
    any[ids[i]] = 1;
  }
}

/* Checks an int64 result of GROUPS rows against sums (null where !any). */
static void check_sums(const struct column* result, const int64_t* sums, const int* any) {
  ASSERT_STR_EQ(result->schema.format, "l");
  ASSERT_EQ(result->array.length, GROUPS);
  for (int64_t g = 0; g < GROUPS; g++) {
    int64_t got = int64_at(&result->array, g, NULL_VALUE);
    if (!any[g]) {
      ASSERT_EQ(got, NULL_VALUE);
    } else {
      ASSERT_EQ(got, sums[g]);
    }
  }
}

/* Takes the result of `call` (wudf_aggregate_state or _finish). */
static struct column take(int (*call)(struct wudf_aggregate*, const struct wudf_call_options*,
                                      struct ArrowArray*, struct ArrowSchema*,
                                      struct wudf_error*),
                          struct wudf_aggregate* aggregate) {
  struct wudf_error error;
  struct column result;
  memset(&result, 0, sizeof(result));
  ASSERT_OK(call(aggregate, NULL, &result.array, &result.schema, &error), &error);
  return result;
}

/* ---------------------------------------------------------------- tests */

TEST(grouped_updates_over_many_groups) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_aggregate* sum = new_aggregate(instance, examples, "sum");
  struct wudf_error error;
  struct wudf_call_options small;
  wudf_call_options_init(&small);
  small.max_rows_per_call = 3001;
  /* Three batches: one whole, one sliced in guest calls of 3001 rows, one
   * sliced at an odd offset. */
  struct ArrowArray first = slice_of(&values, 0, 40000);
  struct ArrowArray second = slice_of(&values, 40000, 35000);
  struct ArrowArray third = slice_of(&values, 75000, ROWS - 75000);
  ASSERT_OK(update(sum, &first, &values.schema, ids, GROUPS, NULL, &error), &error);
  ASSERT_OK(update(sum, &second, &values.schema, ids + 40000, GROUPS, &small, &error), &error);
  ASSERT_OK(update(sum, &third, &values.schema, ids + 75000, GROUPS, NULL, &error), &error);
  ASSERT_EQ(wudf_aggregate_group_count(sum), GROUPS);
  static int64_t sums[GROUPS];
  static int any[GROUPS];
  expected_sums(0, ROWS, sums, any);
  ASSERT_EQ(any[5], 0); /* group 5 never had a row */
  struct column result = take(wudf_aggregate_finish, sum);
  check_sums(&result, sums, any);
  column_release(&result);
  /* The states (int64, null for an empty group) are the sums too, and
   * finishing kept them. */
  struct column states = take(wudf_aggregate_state, sum);
  check_sums(&states, sums, any);
  column_release(&states);
  result = take(wudf_aggregate_finish, sum);
  check_sums(&result, sums, any);
  column_release(&result);
  wudf_aggregate_free(sum);
  wudf_instance_free(instance);
}

TEST(partial_states_of_two_instances_merge_in_a_third) {
  struct wudf_instance* left = new_instance(examples);
  struct wudf_instance* right = new_instance(examples);
  struct wudf_instance* total = new_instance(examples);
  struct wudf_error error;
  struct wudf_aggregate* a = new_aggregate(left, examples, "sum");
  struct wudf_aggregate* b = new_aggregate(right, examples, "sum");
  struct wudf_aggregate* c = new_aggregate(total, examples, "sum");
  /* The right half numbers its groups backwards. */
  static uint32_t local[ROWS];
  for (int64_t i = 0; i < ROWS; i++) local[i] = GROUPS - 1 - ids[i];
  struct ArrowArray first = slice_of(&values, 0, 60000);
  struct ArrowArray second = slice_of(&values, 60000, ROWS - 60000);
  ASSERT_OK(update(a, &first, &values.schema, ids, GROUPS, NULL, &error), &error);
  ASSERT_OK(update(b, &second, &values.schema, local + 60000, GROUPS, NULL, &error), &error);
  struct column left_states = take(wudf_aggregate_state, a);
  struct column right_states = take(wudf_aggregate_state, b);
  /* The right states cross as bytes. */
  uint8_t* bytes = NULL;
  size_t size = 0;
  ASSERT_OK(wudf_array_serialize(&right_states.array, &right_states.schema, &bytes, &size,
                                 &error), &error);
  column_release(&right_states);
  ASSERT_OK(wudf_array_deserialize(bytes, size, WUDF_VALIDATION_FULL, &right_states.array,
                                   &right_states.schema, &error), &error);
  wudf_bytes_free(bytes);
  static uint32_t identity[GROUPS], backwards[GROUPS];
  for (uint32_t g = 0; g < GROUPS; g++) {
    identity[g] = g;
    backwards[g] = GROUPS - 1 - g;
  }
  ASSERT_OK(wudf_aggregate_merge(c, &left_states.array, &left_states.schema, identity, GROUPS,
                                 NULL, &error), &error);
  ASSERT_OK(wudf_aggregate_merge(c, &right_states.array, &right_states.schema, backwards,
                                 GROUPS, NULL, &error), &error);
  static int64_t sums[GROUPS];
  static int any[GROUPS];
  expected_sums(0, ROWS, sums, any);
  struct column result = take(wudf_aggregate_finish, c);
  check_sums(&result, sums, any);
  column_release(&result);
  column_release(&left_states);
  column_release(&right_states);
  wudf_aggregate_free(a);
  wudf_aggregate_free(b);
  wudf_aggregate_free(c);
  wudf_instance_free(left);
  wudf_instance_free(right);
  wudf_instance_free(total);
}

TEST(a_million_rows_are_a_handful_of_guest_calls) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  struct column million = make_column(TYPE_INT64, 1 << 20, 0);
  static uint32_t many[1 << 20];
  for (int64_t i = 0; i < (1 << 20); i++) many[i] = (uint32_t)(i % 1000);
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  static const int64_t per_call[] = {1 << 20, 300000};
  static const int64_t calls[] = {1, 4};
  for (int k = 0; k < 2; k++) {
    options.max_rows_per_call = per_call[k];
    struct wudf_aggregate* counter = new_aggregate(instance, kinds, "calls");
    struct wudf_aggregate* counted = new_aggregate(instance, kinds, "count_all");
    uint64_t before = 0;
    /* calls counts updates since the instance started: read it first. */
    struct column result = take(wudf_aggregate_finish, counter);
    ASSERT_EQ(result.array.length, 0); /* no groups yet */
    column_release(&result);
    ASSERT_OK(update(counter, &million.array, &million.schema, many, 1000, &options, &error),
              &error);
    ASSERT_OK(update(counted, &million.array, &million.schema, many, 1000, &options, &error),
              &error);
    result = take(wudf_aggregate_finish, counter);
    ASSERT_EQ(result.array.length, 1000);
    before = k == 0 ? 0 : 1; /* the first round's one call */
    ASSERT_EQ(int64_at(&result.array, 999, 0) - (int64_t)before, calls[k]);
    column_release(&result);
    result = take(wudf_aggregate_finish, counted);
    for (int64_t g = 0; g < 1000; g++) {
      ASSERT_EQ(int64_at(&result.array, g, 0), (1 << 20) / 1000 + (g < (1 << 20) % 1000));
    }
    column_release(&result);
    wudf_aggregate_free(counter);
    wudf_aggregate_free(counted);
  }
  column_release(&million);
  wudf_instance_free(instance);
}

TEST(empty_groups_and_null_handling) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  struct wudf_aggregate* all = new_aggregate(instance, kinds, "count_all");
  struct wudf_aggregate* some = new_aggregate(instance, kinds, "count_values");
  /* 10 rows: nulls at 2, 5, 8 (the helpers' pattern with every 3... here
   * built by hand); groups 0, 1, 0, 3, 3, 3, 0, 1, 3, 0; group 2 has no
   * row, group 3's non-null rows are 3 and 4 only; 6 groups. */
  int64_t raw[10] = {0};
  int nulls[10] = {0, 0, 1, 0, 0, 1, 0, 0, 1, 0};
  struct builder builder;
  builder_init(&builder, TYPE_INT64, 10);
  for (int i = 0; i < 10; i++) {
    if (nulls[i]) builder_set_null(&builder, i);
    memcpy(builder_value(&builder, i), &raw[i], 8);
  }
  struct column column = builder_finish(&builder, "x");
  uint32_t groups[10] = {0, 1, 0, 3, 3, 3, 0, 1, 3, 0};
  ASSERT_OK(update(all, &column.array, &column.schema, groups, 6, NULL, &error), &error);
  ASSERT_OK(update(some, &column.array, &column.schema, groups, 6, NULL, &error), &error);
  static const int64_t expected_all[6] = {4, 2, 0, 4, 0, 0};
  static const int64_t expected_some[6] = {3, 2, 0, 2, 0, 0};
  struct column result = take(wudf_aggregate_finish, all);
  for (int g = 0; g < 6; g++) ASSERT_EQ(int64_at(&result.array, g, -1), expected_all[g]);
  column_release(&result);
  result = take(wudf_aggregate_finish, some);
  for (int g = 0; g < 6; g++) ASSERT_EQ(int64_at(&result.array, g, -1), expected_some[g]);
  column_release(&result);
  /* More groups later: the new ones are empty. NULL ids: group 0. */
  ASSERT_OK(update(some, &column.array, &column.schema, NULL, 9, NULL, &error), &error);
  result = take(wudf_aggregate_finish, some);
  ASSERT_EQ(result.array.length, 9);
  ASSERT_EQ(int64_at(&result.array, 0, -1), 3 + 7);
  ASSERT_EQ(int64_at(&result.array, 8, -1), 0);
  column_release(&result);
  wudf_aggregate_free(all);
  wudf_aggregate_free(some);
  /* A sum of an empty group is null; of all-null rows too. */
  struct wudf_instance* sums = new_instance(examples);
  struct wudf_aggregate* sum = new_aggregate(sums, examples, "sum");
  ASSERT_OK(update(sum, &column.array, &column.schema, groups, 6, NULL, &error), &error);
  result = take(wudf_aggregate_finish, sum);
  ASSERT_EQ(int64_at(&result.array, 0, NULL_VALUE), 0);
  ASSERT_EQ(int64_at(&result.array, 2, NULL_VALUE), NULL_VALUE);
  ASSERT_EQ(int64_at(&result.array, 5, NULL_VALUE), NULL_VALUE);
  column_release(&result);
  wudf_aggregate_free(sum);
  wudf_instance_free(sums);
  column_release(&column);
  wudf_instance_free(instance);
}

TEST(group_ids_counts_and_states_are_checked) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_aggregate* sum = new_aggregate(instance, examples, "sum");
  struct wudf_error error;
  struct ArrowArray two = slice_of(&values, 0, 2);
  uint32_t bad[2] = {0, 4};
  ASSERT_STATUS(update(sum, &two, &values.schema, bad, 4, NULL, &error), EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'sum': row 1 has group id 4, not below the group "
                               "count 4");
  ASSERT_STATUS(update(sum, &two, &values.schema, NULL, 0, NULL, &error), EINVAL, &error);
  ASSERT_OK(update(sum, &two, &values.schema, bad, 5, NULL, &error), &error);
  ASSERT_STATUS(update(sum, &two, &values.schema, NULL, 4, NULL, &error), EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'sum': group count 4 must be at least 1, at least "
                               "the accumulator's 5 and at most 2147483647");
  /* Argument types, and the type of merged states. */
  struct column floats = make_column(TYPE_FLOAT64, 2, 0);
  ASSERT_STATUS(update(sum, &floats.array, &floats.schema, NULL, 5, NULL, &error), EINVAL,
                &error);
  ASSERT_STR_EQ(error.message, "function 'sum': argument 1: expected int64 (format 'l'), got "
                               "float64 (format 'g')");
  ASSERT_STATUS(wudf_aggregate_merge(sum, &floats.array, &floats.schema, NULL, 5, NULL, &error),
                EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'sum': the states to merge are not of its STATE type "
                               "int64: expected int64 (format 'l'), got float64 (format 'g')");
  /* The API of another kind. */
  struct wudf_instance* other = new_instance(kinds);
  struct wudf_aggregate* none = NULL;
  ASSERT_STATUS(wudf_aggregate_new(other, function_index(kinds, "twice"), &none, &error),
                EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'twice' is a scalar function: call it with "
                               "wudf_function_call");
  wudf_instance_free(other);
  struct column result;
  struct wudf_call_options view;
  wudf_call_options_init(&view);
  view.result = WUDF_RESULT_VIEW;
  ASSERT_STATUS(wudf_aggregate_state(sum, &view, &result.array, &result.schema, &error),
                ENOTSUP, &error);
  column_release(&floats);
  wudf_aggregate_free(sum);
  wudf_instance_free(instance);
}

TEST(every_protocol_violation_is_named) {
  struct wudf_instance* instance = new_instance(liars);
  struct wudf_error error;
  struct ArrowArray three = slice_of(&values, 0, 3);
  static const struct {
    const char* function;
    int state; /* 1: take the states, 0: finish */
    const char* message;
  } cases[] = {
      {"state_short", 1, "function 'state_short' returned an invalid state: state: length: "},
      {"finish_wrong_type", 0, "function 'finish_wrong_type' returned an invalid result: "
                               "result: type: expected int64 (format 'l'), got float64"},
      {"finish_nothing", 0, "function 'finish_nothing' returned an invalid result: result: "
                            "released"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct wudf_aggregate* aggregate = new_aggregate(instance, liars, cases[i].function);
    ASSERT_OK(update(aggregate, &three, &values.schema, NULL, 3, NULL, &error), &error);
    struct column result;
    int status = (cases[i].state ? wudf_aggregate_state : wudf_aggregate_finish)(
        aggregate, NULL, &result.array, &result.schema, &error);
    ASSERT_STATUS(status, EPROTO, &error);
    ASSERT_CONTAINS(error.message, cases[i].message);
    /* The instance carries on: the other result of the same accumulator
     * is fine. */
    result = take(cases[i].state ? wudf_aggregate_finish : wudf_aggregate_state, aggregate);
    ASSERT_EQ(result.array.length, 3);
    column_release(&result);
    wudf_aggregate_free(aggregate);
  }
  wudf_instance_free(instance);
}

TEST(guest_failures_and_traps) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  struct ArrowArray three = slice_of(&values, 0, 3);
  struct wudf_aggregate* failing = new_aggregate(instance, kinds, "failing");
  ASSERT_STATUS(update(failing, &three, &values.schema, NULL, 1, NULL, &error), EREMOTEIO,
                &error);
  ASSERT_STR_EQ(error.message, "function 'failing' failed: failing: refusing 3 rows");
  /* The instance is fine: finishing works (the states stayed empty). */
  struct column result = take(wudf_aggregate_finish, failing);
  ASSERT_EQ(int64_at(&result.array, 0, -1), 0);
  column_release(&result);
  wudf_aggregate_free(failing);
  struct wudf_aggregate* trapping = new_aggregate(instance, kinds, "trapping");
  ASSERT_OK(update(trapping, &three, &values.schema, NULL, 1, NULL, &error), &error);
  ASSERT_STATUS(wudf_aggregate_finish(trapping, NULL, &result.array, &result.schema, &error),
                EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_UNREACHABLE);
  ASSERT_CONTAINS(error.message, "function 'trapping'");
  /* The trap broke the instance, and with it the states. */
  ASSERT_STATUS(update(trapping, &three, &values.schema, NULL, 1, NULL, &error),
                ENOTRECOVERABLE, &error);
  struct wudf_aggregate* later = NULL;
  ASSERT_STATUS(wudf_aggregate_new(instance, function_index(kinds, "count_all"), &later,
                                   &error), ENOTRECOVERABLE, &error);
  wudf_aggregate_free(trapping);
  wudf_instance_free(instance);
}

TEST(destructors_run_for_every_group_also_when_deferred) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  struct ArrowArray rows = slice_of(&values, 0, 1000);
  static uint32_t groups[1000];
  for (int i = 0; i < 1000; i++) groups[i] = (uint32_t)(i % 50);
  struct wudf_aggregate* live = new_aggregate(instance, kinds, "live");
  ASSERT_OK(update(live, &rows, &values.schema, NULL, 1, NULL, &error), &error);
  for (int deferred = 0; deferred < 2; deferred++) {
    struct wudf_aggregate* owning = new_aggregate(instance, kinds, "owning");
    ASSERT_OK(update(owning, &rows, &values.schema, groups, 50, NULL, &error), &error);
    struct column result = take(wudf_aggregate_finish, owning);
    int64_t expected = 0; /* non-null rows of group 7 (owning is strict) */
    for (int64_t i = 7; i < 1000; i += 50) expected += !row_is_null(&values.array, i);
    ASSERT_EQ(int64_at(&result.array, 7, -1), expected);
    column_release(&result);
    result = take(wudf_aggregate_finish, live);
    ASSERT_EQ(result.array.length, 1);
    ASSERT_EQ(int64_at(&result.array, 0, -1), 50);
    column_release(&result);
    struct column pin;
    if (deferred) {
      /* A live view pins the instance: the free waits for its next call. */
      struct wudf_call_options view;
      wudf_call_options_init(&view);
      view.result = WUDF_RESULT_VIEW;
      struct column one = make_column(TYPE_INT32, 1, 0);
      const struct ArrowArray* arrays[1] = {&one.array};
      const struct ArrowSchema* schemas[1] = {&one.schema};
      ASSERT_OK(call_function(instance, "twice", 1, arrays, schemas, &view, &pin, &error),
                &error);
      column_release(&one);
    }
    wudf_aggregate_free(owning);
    if (deferred) column_release(&pin);
    ASSERT_OK(update(live, &rows, &values.schema, NULL, 1, NULL, &error), &error);
    result = take(wudf_aggregate_finish, live);
    ASSERT_EQ(int64_at(&result.array, 0, -1), 0);
    column_release(&result);
  }
  wudf_aggregate_free(live);
  wudf_instance_free(instance);
}

TEST(results_as_a_view_pin_the_instance) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_aggregate* sum = new_aggregate(instance, examples, "sum");
  struct wudf_error error;
  struct ArrowArray rows = slice_of(&values, 0, 1000);
  ASSERT_OK(update(sum, &rows, &values.schema, ids, GROUPS, NULL, &error), &error);
  struct wudf_call_options view;
  wudf_call_options_init(&view);
  view.result = WUDF_RESULT_VIEW;
  struct column viewed;
  ASSERT_OK(wudf_aggregate_finish(sum, &view, &viewed.array, &viewed.schema, &error), &error);
  /* The buffers are the guest's. */
  const uint8_t* base = instance->runtime.memory->data;
  const uint8_t* data = viewed.array.buffers[1];
  ASSERT(data >= base && data < base + instance->runtime.memory->size);
  static int64_t sums[GROUPS];
  static int any[GROUPS];
  expected_sums(0, 1000, sums, any);
  check_sums(&viewed, sums, any);
  ASSERT_STATUS(update(sum, &rows, &values.schema, ids, GROUPS, NULL, &error), EBUSY, &error);
  column_release(&viewed);
  ASSERT_OK(update(sum, &rows, &values.schema, ids, GROUPS, NULL, &error), &error);
  struct column copied = take(wudf_aggregate_finish, sum);
  for (int g = 0; g < GROUPS; g++) sums[g] *= 2;
  check_sums(&copied, sums, any);
  column_release(&copied);
  wudf_aggregate_free(sum);
  wudf_instance_free(instance);
}

TEST(an_accumulator_holds_its_instance) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_aggregate* sum = new_aggregate(instance, examples, "sum");
  struct wudf_error error;
  wudf_instance_free(instance);
  struct ArrowArray first = slice_of(&values, 0, 10);
  ASSERT_OK(update(sum, &first, &values.schema, NULL, 1, NULL, &error), &error);
  struct column result = take(wudf_aggregate_finish, sum);
  int64_t expected = 0;
  for (int64_t i = 0; i < 10; i++) expected += int64_at(&values.array, i, 0);
  ASSERT_EQ(int64_at(&result.array, 0, NULL_VALUE), expected);
  column_release(&result);
  /* The last holder frees the instance (no leak under the sanitizers). */
  wudf_aggregate_free(sum);
}

TEST(function_call_aggregates_all_rows_as_one_group) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_error error;
  struct ArrowArray some = slice_of(&values, 3, 5000);
  const struct ArrowArray* arrays[1] = {&some};
  const struct ArrowSchema* schemas[1] = {&values.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_rows_per_call = 777;
  struct column result;
  ASSERT_OK(call_function(instance, "sum", 1, arrays, schemas, &options, &result, &error),
            &error);
  int64_t expected = 0;
  for (int64_t i = 3; i < 5003; i++) expected += int64_at(&values.array, i, 0);
  ASSERT_EQ(result.array.length, 1);
  ASSERT_EQ(int64_at(&result.array, 0, NULL_VALUE), expected);
  column_release(&result);
  /* No handle was left behind. */
  pthread_mutex_lock(&wudf__udf_of(instance)->handle_lock);
  for (uint32_t h = 1; h < wudf__udf_of(instance)->handle_capacity; h++) {
    ASSERT_EQ(wudf__udf_of(instance)->handles[h].state, WUDF__HANDLE_FREE);
  }
  pthread_mutex_unlock(&wudf__udf_of(instance)->handle_lock);
  wudf_instance_free(instance);
}

TEST(functions_without_arguments_take_a_batch_of_n_rows) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  struct wudf_aggregate* count = new_aggregate(instance, kinds, "count_star");
  /* A struct of no columns and 7 rows (sliced to 5 of them). */
  struct column batch = make_struct(7, 0, NULL);
  batch.array.offset = 2;
  batch.array.length = 5;
  uint32_t groups[5] = {0, 1, 1, 0, 1};
  ASSERT_OK(wudf_aggregate_update_batch(count, &batch.array, &batch.schema, groups, 3, NULL,
                                        &error), &error);
  struct column result = take(wudf_aggregate_finish, count);
  ASSERT_EQ(result.array.length, 3);
  ASSERT_EQ(int64_at(&result.array, 0, -1), 2);
  ASSERT_EQ(int64_at(&result.array, 1, -1), 3);
  ASSERT_EQ(int64_at(&result.array, 2, -1), 0);
  column_release(&result);
  const struct ArrowArray* none[1] = {NULL};
  ASSERT_STATUS(wudf_aggregate_update(count, 0, none, NULL, NULL, 3, NULL, &error), EINVAL,
                &error);
  ASSERT_CONTAINS(error.message, "use wudf_aggregate_update_batch");
  wudf_aggregate_free(count);
  /* A table function of no arguments through a batch. */
  struct ArrowArrayStream stream;
  uint32_t index = function_index(kinds, "twice_each");
  ASSERT_OK(wudf_table_call_batch(instance, index, &batch.array, &batch.schema, NULL, &stream,
                                  &error), &error);
  struct ArrowArray chunk;
  ASSERT_EQ(stream.get_next(&stream, &chunk), 0);
  ASSERT_EQ(chunk.length, 10);
  const int64_t* rows = chunk.children[0]->buffers[1];
  const int64_t* emitted = chunk.children[1]->buffers[1];
  for (int64_t k = 0; k < 10; k++) {
    ASSERT_EQ(rows[k], k / 2);
    ASSERT_EQ(emitted[k], k / 2); /* the guest's row in its input */
  }
  chunk.release(&chunk);
  ASSERT_EQ(stream.get_next(&stream, &chunk), 0);
  ASSERT(chunk.release == NULL);
  stream.release(&stream);
  column_release(&batch);
  wudf_instance_free(instance);
}

TEST(function_info_describes_every_kind) {
  struct wudf_error error;
  struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
  ASSERT_OK(wudf_module_function(examples, function_index(examples, "avg"), &info, &error),
            &error);
  ASSERT_EQ(info.kind, WUDF_FUNCTION_AGGREGATE);
  ASSERT_STR_EQ(wudf_function_kind_name(info.kind), "aggregate");
  ASSERT_STR_EQ(info.signature, "avg(float64) -> float64 STATE struct<sum: float64, count: "
                                "int64>");
  ASSERT_STR_EQ(info.result_type, "float64");
  ASSERT_STR_EQ(info.result_format, "g");
  ASSERT_STR_EQ(info.state_type, "struct<sum: float64, count: int64>");
  ASSERT_STR_EQ(info.state_format, "+s");
  ASSERT_EQ(info.strict, 1);
  ASSERT_EQ(info.deterministic, 0);
  ASSERT_EQ(info.arg_count, 1);
  ASSERT_STR_EQ(info.arg_names[0], "");
  ASSERT_OK(wudf_module_function(examples, function_index(examples, "sum"), &info, &error),
            &error);
  ASSERT_EQ(info.deterministic, 1);
  ASSERT_OK(wudf_module_function(examples, function_index(examples, "string_agg"), &info,
                                 &error), &error);
  ASSERT_STR_EQ(info.arg_names[0], "value");
  ASSERT_STR_EQ(info.arg_names[1], "separator");
  ASSERT_STR_EQ(info.arg_types[1], "utf8");
  ASSERT_OK(wudf_module_function(kinds, function_index(kinds, "columns"), &info, &error),
            &error);
  ASSERT_EQ(info.kind, WUDF_FUNCTION_TABLE);
  ASSERT_STR_EQ(info.result_type, "table<i: int32, text: utf8, half: float64>");
  ASSERT_STR_EQ(info.result_format, "+s");
  ASSERT_EQ(info.field_count, 4);
  ASSERT_STR_EQ(info.field_names[0], "input_row");
  ASSERT_STR_EQ(info.field_types[0], "int64");
  ASSERT_STR_EQ(info.field_names[2], "text");
  ASSERT_STR_EQ(info.field_formats[3], "g");
  ASSERT(info.state_type == NULL);
  ASSERT_OK(wudf_module_function(kinds, function_index(kinds, "null_flags"), &info, &error),
            &error);
  ASSERT_STR_EQ(info.result_type, "setof int32");
  ASSERT_STR_EQ(info.field_names[1], "null_flags");
  ASSERT_EQ(info.strict, 0);
  ASSERT_STR_EQ(wudf_function_kind_name((wudf_function_kind)9), "unknown");
}

/* One round of every accumulator call; returns the first failure. */
static int every_call(struct wudf_instance* instance, struct wudf_error* error) {
  struct wudf_aggregate* a = NULL;
  struct wudf_aggregate* b = NULL;
  struct column states, result;
  memset(&states, 0, sizeof(states));
  memset(&result, 0, sizeof(result));
  struct ArrowArray rows = slice_of(&values, 5, 300);
  uint8_t* bytes = NULL;
  size_t size = 0;
  int status = wudf_aggregate_new(instance, function_index(examples, "avg"), &a, error);
  if (status == 0) status = wudf_aggregate_new(instance, function_index(examples, "sum"), &b,
                                               error);
  if (status == 0) status = update(b, &rows, &values.schema, ids, GROUPS, NULL, error);
  if (status == 0) status = wudf_aggregate_state(b, NULL, &states.array, &states.schema, error);
  if (status == 0) {
    status = wudf_array_serialize(&states.array, &states.schema, &bytes, &size, error);
  }
  if (status == 0) {
    column_release(&states);
    status = wudf_array_deserialize(bytes, size, WUDF_VALIDATION_FULL, &states.array,
                                    &states.schema, error);
  }
  if (status == 0) {
    status = wudf_aggregate_merge(b, &states.array, &states.schema, NULL, GROUPS, NULL, error);
  }
  if (status == 0) status = wudf_aggregate_finish(b, NULL, &result.array, &result.schema, error);
  wudf_bytes_free(bytes);
  column_release(&states);
  column_release(&result);
  wudf_aggregate_free(a);
  wudf_aggregate_free(b);
  return status;
}

TEST(every_allocation_failure_is_enomem_and_harmless) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_error error;
  int failures = 0;
  for (long k = 1;; k++) {
    failed_once = 0;
    fail_countdown = k;
    int status = every_call(instance, &error);
    fail_countdown = 0;
    if (!failed_once) {
      ASSERT_OK(status, &error);
      break;
    }
    ASSERT_STATUS(status, ENOMEM, &error);
    failures++;
    /* The instance is as good as new. */
    ASSERT_OK(every_call(instance, &error), &error);
  }
  ASSERT(failures > 10);
  wudf_instance_free(instance);
}

int main(void) {
  static const struct wudf_allocator allocator = {test_malloc, test_realloc, test_free, NULL};
  if (wudf_set_allocator(&allocator) != 0) TEST_FAIL("cannot install the allocator");
  engine = new_engine();
  examples = load_module(engine, "example_aggregates");
  kinds = load_module(engine, "kinds");
  liars = load_module(engine, "kind_liars");
  make_data();
  RUN_TEST(grouped_updates_over_many_groups);
  RUN_TEST(partial_states_of_two_instances_merge_in_a_third);
  RUN_TEST(a_million_rows_are_a_handful_of_guest_calls);
  RUN_TEST(empty_groups_and_null_handling);
  RUN_TEST(group_ids_counts_and_states_are_checked);
  RUN_TEST(every_protocol_violation_is_named);
  RUN_TEST(guest_failures_and_traps);
  RUN_TEST(destructors_run_for_every_group_also_when_deferred);
  RUN_TEST(results_as_a_view_pin_the_instance);
  RUN_TEST(an_accumulator_holds_its_instance);
  RUN_TEST(function_call_aggregates_all_rows_as_one_group);
  RUN_TEST(functions_without_arguments_take_a_batch_of_n_rows);
  RUN_TEST(function_info_describes_every_kind);
  RUN_TEST(every_allocation_failure_is_enomem_and_harmless);
  column_release(&values);
  wudf_module_free(examples);
  wudf_module_free(kinds);
  wudf_module_free(liars);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
