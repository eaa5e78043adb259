/* bad_meta_kind.c -- test guest: a function of a kind this ABI version does
 * not know; the host must refuse the module at load, naming the kind. */
#include <wasmudf/guest.h>

WUDF__METADATA("window", "rank(int32) -> int64")
__attribute__((export_name("wudf_fn_rank"))) int32_t rank(struct ArrowArray* a,
                                                          struct ArrowSchema* b,
                                                          struct ArrowArray* c,
                                                          struct ArrowSchema* d) {
  return 1;
}
