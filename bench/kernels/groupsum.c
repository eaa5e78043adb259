/*
 * groupsum.c -- benchmark kernel: a grouped aggregate, SUM(int64) GROUP BY
 * a group id (1,000 groups, or as many as there are rows when fewer). One
 * UPDATE of every row, then FINISH of every group (null for a group without
 * rows). Sums wrap.
 *
 * Native twin: native_groupsum in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

typedef struct {
  uint64_t sum;
  bool any;
} groupsum_state;

static int groupsum_update(void* states, const uint32_t* groups, const wudf_args* args) {
  groupsum_state* s = states;
  const uint64_t* values = (const uint64_t*)wudf_values_int64(wudf_arg(args, 0));
  for (int64_t row = 0; row < args->length; row++) {
    s[groups[row]].sum += values[row];
    s[groups[row]].any = true;
  }
  return 0;
}

static int groupsum_merge(void* states, const uint32_t* groups, const wudf_input* partial) {
  groupsum_state* s = states;
  for (int64_t row = 0; row < partial->length; row++) {
    if (wudf_is_null(partial, row)) continue;
    s[groups[row]].sum += (uint64_t)wudf_get_int64(partial, row);
    s[groups[row]].any = true;
  }
  return 0;
}

/* State and result have the same shape: the sum, null for an empty group.
 * Written as whole columns (the fast path of guest.h), no call per group. */
static int groupsum_out(const void* states, int64_t count, wudf_output* out) {
  const groupsum_state* s = states;
  int64_t* sums = wudf_output_values_int64(out, count);
  uint8_t* valid = wudf_output_validity(out);
  if (sums == NULL || valid == NULL) return wudf_error("groupsum: out of memory");
  for (int64_t g = 0; g < count; g++) {
    sums[g] = (int64_t)s[g].sum;
    if (!s[g].any) wudf_bit_clear(valid, g);
  }
  return 0;
}

static const wudf_aggregate_fns groupsum_fns = {sizeof(groupsum_state), groupsum_update,
                                                groupsum_merge, groupsum_out, groupsum_out,
                                                NULL};
WUDF_AGGREGATE(groupsum, "groupsum(int64) -> int64 STATE int64 DETERMINISTIC", groupsum_fns)
