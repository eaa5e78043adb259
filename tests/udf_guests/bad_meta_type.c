/* bad_meta_type.c -- test guest: a signature naming a type that does not
 * exist; the host must refuse the module at load, quoting the record. */
#include <wasmudf/guest.h>

WUDF__METADATA("scalar", "widen(int33) -> int64")
__attribute__((export_name("wudf_fn_widen"))) int32_t widen(struct ArrowArray* a,
                                                            struct ArrowSchema* b,
                                                            struct ArrowArray* c,
                                                            struct ArrowSchema* d) {
  return 1;
}
