/*
 * library.c -- the composition root of the full library: it names the
 * layer that sits on the engine (engine/layer.h), the UDF layer of
 * src/udf. The engine-only library links src/engine/no_layer.c instead
 * (-DWUDF_ENGINE_ONLY=ON); docs/architecture.md draws the layers.
 */
#include "engine/layer.h"
#include "udf/call.h"

const struct wudf__layer* const wudf__upper_layer = &wudf__udf_layer;
