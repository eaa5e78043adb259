;; Export names wasm2c has to mangle, and a start function.
(module
  (global $started (mut i32) (i32.const 0))
  (func $start (global.set $started (i32.const 7)))
  (start $start)
  (func (export "a-b") (result i32) (i32.const 1))
  (func (export "Zed") (result i32) (i32.const 2))
  (func (export "x_y.\c3\bc") (result i32) (i32.const 3))
  (func (export "") (result i32) (i32.const 4))
  (func (export "started") (result i32) (global.get $started))
  (func (export "takes_ref") (param funcref) (result i32) (i32.const 0))
)
