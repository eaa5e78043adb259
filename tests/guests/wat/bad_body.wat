;; Well-formed, but does not type-check (i32.add on an f32): the engine's
;; validator refuses it before wasm2c runs.
(module
  (func (export "f") (result i32)
    (i32.add (i32.const 1) (f32.const 2))))
