/*
 * aggregates.c -- grouped, mergeable aggregate functions. The host folds
 * batches of rows with a group id each into per-group states (many groups
 * per call), takes states out as Arrow arrays to merge them elsewhere, and
 * finishes every group at once.
 *
 *   sum(int64)                 the sum (null for a group without rows; an
 *                              overflow fails the call)
 *   avg(float64)               the mean (null for an empty group)
 *   string_agg(utf8, utf8)     the values joined, each after its row's
 *                              separator but the first (as PostgreSQL's
 *                              string_agg); null for an empty group
 *   variance(float64)          the sample variance (null below 2 rows),
 *                              by Welford's method, merged with Chan's
 *                              formula
 *
 * All are strict: rows with a null argument are skipped. Kernels read whole
 * columns (wudf_values_*) and write whole results (wudf_output_values_*,
 * wudf_output_validity): no call per row.
 *
 *   $ wasmudf run aggregates.wasm avg 1,2,null,6      # 3
 */
#include <wasmudf/guest.h>

/* ------------------------------------------------------------------ sum */

/* The state is an int64 that is null for a group without rows. */
typedef struct {
  int64_t sum;
  bool any;
} sum_state;

static int sum_add(sum_state* state, int64_t value) {
  if (__builtin_add_overflow(state->sum, value, &state->sum)) {
    return wudf_error("sum: int64 overflow");
  }
  state->any = true;
  return 0;
}

/* The whole column at once: its values (wudf_values_int64) and, for
 * partial states that may be null, its validity (wudf_validity). */
static int sum_update(void* states, const uint32_t* groups, const wudf_args* args) {
  sum_state* s = states;
  const int64_t* values = wudf_values_int64(wudf_arg(args, 0));
  for (int64_t row = 0; row < args->length; row++) {
    if (sum_add(&s[groups[row]], values[row]) != 0) return 1;
  }
  return 0;
}

static int sum_merge(void* states, const uint32_t* groups, const wudf_input* partial) {
  sum_state* s = states;
  const int64_t* values = wudf_values_int64(partial);
  wudf_bitmap valid = wudf_validity(partial);
  for (int64_t row = 0; row < partial->length; row++) {
    if (wudf_bitmap_get(valid, row) && sum_add(&s[groups[row]], values[row]) != 0) return 1;
  }
  return 0;
}

/* State and result have the same shape, written straight into the
 * output's values and validity bitmap. */
static int sum_out(const void* states, int64_t count, wudf_output* out) {
  const sum_state* s = states;
  int64_t* sums = wudf_output_values_int64(out, count);
  uint8_t* valid = wudf_output_validity(out);
  if (sums == NULL || valid == NULL) return wudf_error("sum: out of memory");
  for (int64_t g = 0; g < count; g++) {
    sums[g] = s[g].sum;
    if (!s[g].any) wudf_bit_clear(valid, g);
  }
  return 0;
}

static const wudf_aggregate_fns sum_fns = {sizeof(sum_state), sum_update, sum_merge, sum_out,
                                           sum_out, NULL};
WUDF_AGGREGATE_FN(sum, "(int64) -> int64 STATE int64 DETERMINISTIC", sum_fns)

/* ------------------------------------------------------------------ avg */

typedef struct {
  double sum;
  int64_t count;
} avg_state;

static int avg_update(void* states, const uint32_t* groups, const wudf_args* args) {
  avg_state* s = states;
  const double* values = wudf_values_float64(wudf_arg(args, 0));
  for (int64_t row = 0; row < args->length; row++) {
    s[groups[row]].sum += values[row];
    s[groups[row]].count++;
  }
  return 0;
}

static int avg_merge(void* states, const uint32_t* groups, const wudf_input* partial) {
  avg_state* s = states;
  const double* sums = wudf_values_float64(wudf_child(partial, 0));
  const int64_t* counts = wudf_values_int64(wudf_child(partial, 1));
  for (int64_t row = 0; row < partial->length; row++) {
    s[groups[row]].sum += sums[row];
    s[groups[row]].count += counts[row];
  }
  return 0;
}

static int avg_state_out(const void* states, int64_t count, wudf_output* out) {
  const avg_state* s = states;
  double* sums = wudf_output_values_float64(wudf_output_child(out, 0), count);
  int64_t* counts = wudf_output_values_int64(wudf_output_child(out, 1), count);
  if (sums == NULL || counts == NULL) return wudf_error("avg: out of memory");
  for (int64_t g = 0; g < count; g++) {
    sums[g] = s[g].sum;
    counts[g] = s[g].count;
  }
  return 0;
}

static int avg_finish(const void* states, int64_t count, wudf_output* out) {
  const avg_state* s = states;
  double* means = wudf_output_values_float64(out, count);
  uint8_t* valid = wudf_output_validity(out);
  if (means == NULL || valid == NULL) return wudf_error("avg: out of memory");
  for (int64_t g = 0; g < count; g++) {
    if (s[g].count == 0) {
      wudf_bit_clear(valid, g);
    } else {
      means[g] = s[g].sum / (double)s[g].count;
    }
  }
  return 0;
}

static const wudf_aggregate_fns avg_fns = {sizeof(avg_state), avg_update, avg_merge,
                                           avg_state_out, avg_finish, NULL};
WUDF_AGGREGATE_FN(avg, "(float64) -> float64 STATE struct<sum: float64, count: int64>",
                  avg_fns)

/* ----------------------------------------------------------- string_agg */

/* `text` holds every value preceded by its row's separator; `head` is the
 * length of the first separator, which the result leaves out. Merging
 * appends one text to the other. */
typedef struct {
  wudf_bytes text;
  int32_t head;
  bool any;
} string_agg_state;

static int string_agg_add(string_agg_state* state, wudf_str separator, wudf_str value) {
  if (!state->any) state->head = (int32_t)separator.size;
  state->any = true;
  if (wudf_bytes_append(&state->text, separator.data, separator.size) != 0 ||
      wudf_bytes_append(&state->text, value.data, value.size) != 0) {
    return wudf_error("string_agg: out of memory");
  }
  return 0;
}

static int string_agg_update(void* states, const uint32_t* groups, const wudf_args* args) {
  string_agg_state* s = states;
  const wudf_input* values = wudf_arg(args, 0);
  const wudf_input* separators = wudf_arg(args, 1);
  for (int64_t row = 0; row < args->length; row++) {
    if (string_agg_add(&s[groups[row]], wudf_get_str(separators, row),
                       wudf_get_str(values, row)) != 0) {
      return 1;
    }
  }
  return 0;
}

static int string_agg_merge(void* states, const uint32_t* groups, const wudf_input* partial) {
  string_agg_state* s = states;
  const wudf_input* texts = wudf_child(partial, 0);
  const wudf_input* heads = wudf_child(partial, 1);
  for (int64_t row = 0; row < partial->length; row++) {
    if (wudf_is_null(partial, row)) continue; /* an empty partial group */
    string_agg_state* state = &s[groups[row]];
    wudf_str text = wudf_get_str(texts, row);
    int32_t head = wudf_get_int32(heads, row);
    if (head < 0 || (size_t)head > text.size) {
      return wudf_error("string_agg: a partial state's head %d is outside its text", head);
    }
    if (!state->any) state->head = head;
    state->any = true;
    if (wudf_bytes_append(&state->text, text.data, text.size) != 0) {
      return wudf_error("string_agg: out of memory");
    }
  }
  return 0;
}

static int string_agg_state_out(const void* states, int64_t count, wudf_output* out) {
  const string_agg_state* s = states;
  for (int64_t g = 0; g < count; g++) {
    wudf_set_str(wudf_output_child(out, 0), g, s[g].text.data, s[g].text.size);
    wudf_set_int32(wudf_output_child(out, 1), g, s[g].head);
    if (!s[g].any) wudf_set_null(out, g);
  }
  return 0;
}

static int string_agg_finish(const void* states, int64_t count, wudf_output* out) {
  const string_agg_state* s = states;
  for (int64_t g = 0; g < count; g++) {
    if (!s[g].any) {
      wudf_set_null(out, g);
    } else {
      wudf_set_str(out, g, s[g].text.data + s[g].head, s[g].text.size - (uint32_t)s[g].head);
    }
  }
  return 0;
}

static void string_agg_destroy(void* state) {
  wudf_bytes_release(&((string_agg_state*)state)->text);
}

static const wudf_aggregate_fns string_agg_fns = {
    sizeof(string_agg_state), string_agg_update,  string_agg_merge,
    string_agg_state_out,     string_agg_finish, string_agg_destroy};
WUDF_AGGREGATE_FN(string_agg, "(utf8 value, utf8 separator) -> utf8 "
                              "STATE struct<text: large_utf8, head: int32>",
                  string_agg_fns)

/* ------------------------------------------------------------- variance */

/* Welford: the count, the mean and the sum of squared deviations. */
typedef struct {
  int64_t count;
  double mean;
  double m2;
} variance_state;

/* Chan et al.: the combination of two partial states. */
static void variance_combine(variance_state* into, int64_t count, double mean, double m2) {
  if (count == 0) return;
  int64_t total = into->count + count;
  double delta = mean - into->mean;
  into->m2 += m2 + delta * delta * ((double)into->count * (double)count / (double)total);
  into->mean += delta * ((double)count / (double)total);
  into->count = total;
}

static int variance_update(void* states, const uint32_t* groups, const wudf_args* args) {
  variance_state* s = states;
  const double* values = wudf_values_float64(wudf_arg(args, 0));
  for (int64_t row = 0; row < args->length; row++) {
    variance_state* state = &s[groups[row]];
    state->count++;
    double delta = values[row] - state->mean;
    state->mean += delta / (double)state->count;
    state->m2 += delta * (values[row] - state->mean);
  }
  return 0;
}

static int variance_merge(void* states, const uint32_t* groups, const wudf_input* partial) {
  variance_state* s = states;
  const int64_t* counts = wudf_values_int64(wudf_child(partial, 0));
  const double* means = wudf_values_float64(wudf_child(partial, 1));
  const double* m2s = wudf_values_float64(wudf_child(partial, 2));
  for (int64_t row = 0; row < partial->length; row++) {
    if (counts[row] < 0) return wudf_error("variance: a partial state has count %lld",
                                           (long long)counts[row]);
    variance_combine(&s[groups[row]], counts[row], means[row], m2s[row]);
  }
  return 0;
}

static int variance_state_out(const void* states, int64_t count, wudf_output* out) {
  const variance_state* s = states;
  int64_t* counts = wudf_output_values_int64(wudf_output_child(out, 0), count);
  double* means = wudf_output_values_float64(wudf_output_child(out, 1), count);
  double* m2s = wudf_output_values_float64(wudf_output_child(out, 2), count);
  if (counts == NULL || means == NULL || m2s == NULL) {
    return wudf_error("variance: out of memory");
  }
  for (int64_t g = 0; g < count; g++) {
    counts[g] = s[g].count;
    means[g] = s[g].mean;
    m2s[g] = s[g].m2;
  }
  return 0;
}

static int variance_finish(const void* states, int64_t count, wudf_output* out) {
  const variance_state* s = states;
  double* variances = wudf_output_values_float64(out, count);
  uint8_t* valid = wudf_output_validity(out);
  if (variances == NULL || valid == NULL) return wudf_error("variance: out of memory");
  for (int64_t g = 0; g < count; g++) {
    if (s[g].count < 2) {
      wudf_bit_clear(valid, g);
    } else {
      variances[g] = s[g].m2 / (double)(s[g].count - 1);
    }
  }
  return 0;
}

static const wudf_aggregate_fns variance_fns = {sizeof(variance_state), variance_update,
                                                variance_merge, variance_state_out,
                                                variance_finish, NULL};
WUDF_AGGREGATE_FN(variance, "(float64) -> float64 "
                            "STATE struct<count: int64, mean: float64, m2: float64>",
                  variance_fns)
