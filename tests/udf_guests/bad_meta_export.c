/* bad_meta_export.c -- test guest: a function declared in the metadata
 * without its export; the host must refuse the module at load. */
#include <wasmudf/guest.h>

WUDF__METADATA("scalar", "ghost(int32) -> int32")

WUDF_SCALAR(real, "real(int32) -> int32") { return 0; }
