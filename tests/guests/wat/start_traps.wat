;; The start function traps: instantiation fails, naming the cause.
(module
  (func $start (unreachable))
  (start $start)
  (func (export "f") (result i32) (i32.const 1)))
