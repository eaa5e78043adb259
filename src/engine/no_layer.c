/*
 * no_layer.c -- the composition root of the engine-only library
 * (-DWUDF_ENGINE_ONLY=ON): no layer sits on the engine, so its hooks
 * (layer.h) are never called and instances carry no layer state. The full
 * library links src/library.c instead.
 */
#include "layer.h"

const struct wudf__layer* const wudf__upper_layer = NULL;
