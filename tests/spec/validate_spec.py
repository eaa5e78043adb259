"""
validate_spec.py -- the engine's loader against the WebAssembly core
specification tests (../shared/wasm-spec-testsuite, converted by wabt's
wast2json at build time):

  - every binary module a .wast file declares valid must pass
    wudf_module_validate (decoding, structure, indices, limits; no
    compilation), except the documented refusal of NUL characters in names;
  - every binary module declared malformed or invalid must be refused by the
    loading pipeline: by wudf_module_validate itself, or else by
    wudf_module_load, where wasm2c's own validator runs before any C is
    compiled (the engine's validator does not type-check instruction operand
    stacks yet; see docs/engine.md).

    python validate_spec.py LIBWASMUDF.so JSON_DIR CACHE_DIR

Prints a line per failure, the share of refusals made by the engine's own
validator, and "N passed, N failed".
"""
import ctypes
import glob
import json
import os
import sys


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("trap", ctypes.c_int),
                ("exit_code", ctypes.c_int), ("message", ctypes.c_char * 1024)]


class Config(ctypes.Structure):
    _fields_ = [("cache_dir", ctypes.c_char_p), ("cc", ctypes.c_char_p),
                ("cflags", ctypes.c_char_p), ("wasm2c", ctypes.c_char_p),
                ("timeout_ms", ctypes.c_uint64), ("memory_limit", ctypes.c_uint64),
                ("max_module_size", ctypes.c_size_t), ("output_limit", ctypes.c_size_t),
                ("deterministic", ctypes.c_int), ("max_tables", ctypes.c_uint32),
                ("max_table_elements", ctypes.c_uint32), ("memory_budget", ctypes.c_uint64),
                ("compile_timeout_ms", ctypes.c_uint64),
                ("compile_cpu_seconds", ctypes.c_uint64),
                ("compile_memory_limit", ctypes.c_uint64),
                ("compile_file_limit", ctypes.c_uint64),
                ("lock_timeout_ms", ctypes.c_uint64)]


def main():
    lib = ctypes.CDLL(sys.argv[1])
    json_dir, cache_dir = sys.argv[2], sys.argv[3]
    lib.wudf_module_validate.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                         ctypes.POINTER(Error)]
    lib.wudf_module_load.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                     ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(Error)]
    lib.wudf_module_free.argtypes = [ctypes.c_void_p]
    config = Config()
    lib.wudf_engine_config_init(ctypes.byref(config))
    config.cache_dir = cache_dir.encode()
    engine, error = ctypes.c_void_p(), Error()
    if lib.wudf_engine_new(ctypes.byref(config), ctypes.byref(engine), ctypes.byref(error)) != 0:
        sys.exit("cannot create an engine: " + error.message.decode())
    passed = failed = by_validator = by_pipeline = 0
    for path in sorted(glob.glob(os.path.join(json_dir, "*.json"))):
        with open(path) as file:
            commands = json.load(file)["commands"]
        for command in commands:
            kind = command["type"]
            if kind == "module":
                expect_valid = True
            elif (kind in ("assert_malformed", "assert_invalid")
                  and command.get("module_type") == "binary"):
                expect_valid = False
            else:
                continue
            with open(os.path.join(json_dir, command["filename"]), "rb") as file:
                data = file.read()
            where = f"{os.path.basename(path)}:{command['line']}"
            status = lib.wudf_module_validate(engine, data, len(data), ctypes.byref(error))
            message = error.message.decode(errors="replace")
            if expect_valid:
                if status == 0 or "NUL character" in message:
                    passed += 1
                else:
                    failed += 1
                    print(f"FAILED {where}: valid module refused: {message}")
                continue
            if status != 0:
                passed += 1
                by_validator += 1
                continue
            module = ctypes.c_void_p()
            status = lib.wudf_module_load(engine, data, len(data), ctypes.byref(module),
                                          ctypes.byref(error))
            if status != 0:
                passed += 1
                by_pipeline += 1
            else:
                failed += 1
                lib.wudf_module_free(module)
                print(f"FAILED {where}: {kind} ({command.get('text')}) module was loaded")
    lib.wudf_engine_free(engine)
    refused = by_validator + by_pipeline
    print(f"invalid or malformed modules refused: {refused}, by the engine's validator "
          f"{by_validator}, by wasm2c's validator in the pipeline {by_pipeline}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
