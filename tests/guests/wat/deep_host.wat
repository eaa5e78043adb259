;; Recursion that calls into the host (memory.grow, a runtime function) at
;; its deepest point: grow_deep(n) recurses n levels, then returns the memory
;; size in pages plus n.
(module
  (memory 1 2)
  (func $grow_deep (export "grow_deep") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (memory.grow (i32.const 0)))
      (else (i32.add (call $grow_deep (i32.sub (local.get 0) (i32.const 1)))
                     (i32.const 1))))))
