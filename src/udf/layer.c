/*
 * layer.c -- the UDF layer as the engine sees it (engine/layer.h): the
 * hooks the engine calls as modules and instances come and go. A module's
 * layer state is its table of declared functions (functions.c); an
 * instance's is a struct wudf__udf_instance (call.h) -- the guest ABI
 * fields of call.c and the handles of streams and accumulators -- kept in
 * the instance's own allocation, set up here, saved with a snapshot and
 * put back by a reset.
 */
#include "call.h"

/* instance_attach: the handle lock (the rest starts zeroed). */
static int wudf__udf_instance_attach(struct wudf_instance* instance, struct wudf_error* error) {
  pthread_mutex_init(&wudf__udf_of(instance)->handle_lock, NULL);
  return 0;
}

/* instance_detach: the handle table and its lock. */
static void wudf__udf_instance_detach(struct wudf_instance* instance) {
  struct wudf__udf_instance* udf = wudf__udf_of(instance);
  wudf__free(udf->handles);
  udf->handles = NULL;
  pthread_mutex_destroy(&udf->handle_lock);
}

/* instance_snapshot: the guest ABI fields of the moment. */
static void wudf__udf_instance_snapshot(struct wudf_instance* instance) {
  struct wudf__udf_instance* udf = wudf__udf_of(instance);
  udf->snapshot = udf->abi;
}

/* instance_reset: the guest ABI fields of the snapshot; the guest forgot
 * every stream and accumulator, and none is held (the engine checked), so
 * only work left for the guest remains: it is dropped. */
static void wudf__udf_instance_reset(struct wudf_instance* instance) {
  struct wudf__udf_instance* udf = wudf__udf_of(instance);
  udf->abi = udf->snapshot;
  udf->release_pending = 0;
  pthread_mutex_lock(&udf->handle_lock);
  for (uint32_t i = 0; i < udf->handle_capacity; i++) {
    udf->handles[i].state = WUDF__HANDLE_FREE;
  }
  atomic_store(&udf->handles_pending, 0);
  pthread_mutex_unlock(&udf->handle_lock);
}

const struct wudf__layer wudf__udf_layer = {
    .name = "udf",
    .instance_state_size = sizeof(struct wudf__udf_instance),
    .module_attach = wudf__udf_module_attach,
    .module_detach = wudf__udf_module_detach,
    .instance_attach = wudf__udf_instance_attach,
    .instance_detach = wudf__udf_instance_detach,
    .instance_snapshot = wudf__udf_instance_snapshot,
    .instance_reset = wudf__udf_instance_reset,
};
