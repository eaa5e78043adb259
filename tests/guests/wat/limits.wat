;; Growing memory and a table against the host's limits, and a guest that
;; gives up (like abort()) when memory.grow refuses it.
(module
  (memory (export "memory") 1 100)
  (table $t 1 1000 funcref)
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
  (func (export "grow_table") (param i32) (result i32)
    (table.grow $t (ref.null func) (local.get 0)))
  ;; Grows memory by n pages or traps with unreachable.
  (func (export "grow_or_abort") (param i32) (result i32)
    (if (i32.eq (memory.grow (local.get 0)) (i32.const -1)) (then unreachable))
    (memory.size))
  (func (export "abort") (unreachable)))
