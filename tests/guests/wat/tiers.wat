;; The fast tier (tcc): the GCC builtins glue_abi.h defines for it, math
;; functions from libm, and frames larger than a guard page, whose first
;; accesses must still meet the guard (stack probes) when recursion
;; exhausts the stack.
(module
  (func (export "bits") (param i32) (result i32)
    (i32.add
      (i32.add (i32.clz (local.get 0))
               (i32.mul (i32.ctz (local.get 0)) (i32.const 100)))
      (i32.mul (i32.popcnt (local.get 0)) (i32.const 10000))))
  (func (export "bits64") (param i64) (result i64)
    (i64.add
      (i64.add (i64.clz (local.get 0))
               (i64.mul (i64.ctz (local.get 0)) (i64.const 100)))
      (i64.mul (i64.popcnt (local.get 0)) (i64.const 10000))))
  (func (export "nearest") (param f64) (result f64) (f64.nearest (local.get 0)))
  (func (export "sqrt32") (param f32) (result f32) (f32.sqrt (local.get 0)))
  (func (export "div_s") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  ;; gcd_sum(n): the sum of gcd(i, n) for i in [1, n].
  (func $gcd (param i32 i32) (result i32) (local i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 1)))
        (local.set 2 (i32.rem_s (local.get 0) (local.get 1)))
        (local.set 0 (local.get 1))
        (local.set 1 (local.get 2))
        (br $next)))
    (local.get 0))
  ;; gcd through the table: slot 0 filled at instantiation, slot 1 by
  ;; set_slot (table.set of a ref.func, run by whichever code is current).
  (table 2 funcref)
  (elem (i32.const 0) $gcd)
  (elem declare func $gcd)
  (type $binary (func (param i32 i32) (result i32)))
  (func (export "gcd_indirect") (param i32 i32) (result i32)
    (call_indirect (type $binary) (local.get 0) (local.get 1) (i32.const 0)))
  (func (export "set_slot") (table.set 0 (i32.const 1) (ref.func $gcd)))
  (func (export "gcd_slot") (param i32 i32) (result i32)
    (call_indirect (type $binary) (local.get 0) (local.get 1) (i32.const 1)))
  (func (export "gcd_sum") (param i32) (result i64) (local i32 i64)
    (local.set 1 (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (local.get 1) (local.get 0)))
        (local.set 2 (i64.add (local.get 2)
          (i64.extend_i32_u (call $gcd (local.get 1) (local.get 0)))))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br $next)))
    (local.get 2))
  ;; 4,000 locals (32 KB of frame, declared and zeroed before the prologue).
  (func $many_locals (export "many_locals") (param i32) (result i32)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local.set 3999 (i64.extend_i32_u (local.get 0)))
    (i32.add (call $many_locals (i32.add (local.get 0) (i32.const 1)))
             (i32.wrap_i64 (local.get 3999))))
  ;; 601 operand stack values live across the call: 601 temporaries declared
  ;; after the prologue (about 4.8 KB of frame), first touched below it.
  (func $deep_operands (export "deep_operands") (param i32) (result i64)
    (i64.const 0) (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5) (i64.const 6) (i64.const 7)
    (i64.const 8) (i64.const 9) (i64.const 10) (i64.const 11) (i64.const 12) (i64.const 13) (i64.const 14) (i64.const 15)
    (i64.const 16) (i64.const 17) (i64.const 18) (i64.const 19) (i64.const 20) (i64.const 21) (i64.const 22) (i64.const 23)
    (i64.const 24) (i64.const 25) (i64.const 26) (i64.const 27) (i64.const 28) (i64.const 29) (i64.const 30) (i64.const 31)
    (i64.const 32) (i64.const 33) (i64.const 34) (i64.const 35) (i64.const 36) (i64.const 37) (i64.const 38) (i64.const 39)
    (i64.const 40) (i64.const 41) (i64.const 42) (i64.const 43) (i64.const 44) (i64.const 45) (i64.const 46) (i64.const 47)
    (i64.const 48) (i64.const 49) (i64.const 50) (i64.const 51) (i64.const 52) (i64.const 53) (i64.const 54) (i64.const 55)
    (i64.const 56) (i64.const 57) (i64.const 58) (i64.const 59) (i64.const 60) (i64.const 61) (i64.const 62) (i64.const 63)
    (i64.const 64) (i64.const 65) (i64.const 66) (i64.const 67) (i64.const 68) (i64.const 69) (i64.const 70) (i64.const 71)
    (i64.const 72) (i64.const 73) (i64.const 74) (i64.const 75) (i64.const 76) (i64.const 77) (i64.const 78) (i64.const 79)
    (i64.const 80) (i64.const 81) (i64.const 82) (i64.const 83) (i64.const 84) (i64.const 85) (i64.const 86) (i64.const 87)
    (i64.const 88) (i64.const 89) (i64.const 90) (i64.const 91) (i64.const 92) (i64.const 93) (i64.const 94) (i64.const 95)
    (i64.const 96) (i64.const 97) (i64.const 98) (i64.const 99) (i64.const 100) (i64.const 101) (i64.const 102) (i64.const 103)
    (i64.const 104) (i64.const 105) (i64.const 106) (i64.const 107) (i64.const 108) (i64.const 109) (i64.const 110) (i64.const 111)
    (i64.const 112) (i64.const 113) (i64.const 114) (i64.const 115) (i64.const 116) (i64.const 117) (i64.const 118) (i64.const 119)
    (i64.const 120) (i64.const 121) (i64.const 122) (i64.const 123) (i64.const 124) (i64.const 125) (i64.const 126) (i64.const 127)
    (i64.const 128) (i64.const 129) (i64.const 130) (i64.const 131) (i64.const 132) (i64.const 133) (i64.const 134) (i64.const 135)
    (i64.const 136) (i64.const 137) (i64.const 138) (i64.const 139) (i64.const 140) (i64.const 141) (i64.const 142) (i64.const 143)
    (i64.const 144) (i64.const 145) (i64.const 146) (i64.const 147) (i64.const 148) (i64.const 149) (i64.const 150) (i64.const 151)
    (i64.const 152) (i64.const 153) (i64.const 154) (i64.const 155) (i64.const 156) (i64.const 157) (i64.const 158) (i64.const 159)
    (i64.const 160) (i64.const 161) (i64.const 162) (i64.const 163) (i64.const 164) (i64.const 165) (i64.const 166) (i64.const 167)
    (i64.const 168) (i64.const 169) (i64.const 170) (i64.const 171) (i64.const 172) (i64.const 173) (i64.const 174) (i64.const 175)
    (i64.const 176) (i64.const 177) (i64.const 178) (i64.const 179) (i64.const 180) (i64.const 181) (i64.const 182) (i64.const 183)
    (i64.const 184) (i64.const 185) (i64.const 186) (i64.const 187) (i64.const 188) (i64.const 189) (i64.const 190) (i64.const 191)
    (i64.const 192) (i64.const 193) (i64.const 194) (i64.const 195) (i64.const 196) (i64.const 197) (i64.const 198) (i64.const 199)
    (i64.const 200) (i64.const 201) (i64.const 202) (i64.const 203) (i64.const 204) (i64.const 205) (i64.const 206) (i64.const 207)
    (i64.const 208) (i64.const 209) (i64.const 210) (i64.const 211) (i64.const 212) (i64.const 213) (i64.const 214) (i64.const 215)
    (i64.const 216) (i64.const 217) (i64.const 218) (i64.const 219) (i64.const 220) (i64.const 221) (i64.const 222) (i64.const 223)
    (i64.const 224) (i64.const 225) (i64.const 226) (i64.const 227) (i64.const 228) (i64.const 229) (i64.const 230) (i64.const 231)
    (i64.const 232) (i64.const 233) (i64.const 234) (i64.const 235) (i64.const 236) (i64.const 237) (i64.const 238) (i64.const 239)
    (i64.const 240) (i64.const 241) (i64.const 242) (i64.const 243) (i64.const 244) (i64.const 245) (i64.const 246) (i64.const 247)
    (i64.const 248) (i64.const 249) (i64.const 250) (i64.const 251) (i64.const 252) (i64.const 253) (i64.const 254) (i64.const 255)
    (i64.const 256) (i64.const 257) (i64.const 258) (i64.const 259) (i64.const 260) (i64.const 261) (i64.const 262) (i64.const 263)
    (i64.const 264) (i64.const 265) (i64.const 266) (i64.const 267) (i64.const 268) (i64.const 269) (i64.const 270) (i64.const 271)
    (i64.const 272) (i64.const 273) (i64.const 274) (i64.const 275) (i64.const 276) (i64.const 277) (i64.const 278) (i64.const 279)
    (i64.const 280) (i64.const 281) (i64.const 282) (i64.const 283) (i64.const 284) (i64.const 285) (i64.const 286) (i64.const 287)
    (i64.const 288) (i64.const 289) (i64.const 290) (i64.const 291) (i64.const 292) (i64.const 293) (i64.const 294) (i64.const 295)
    (i64.const 296) (i64.const 297) (i64.const 298) (i64.const 299) (i64.const 300) (i64.const 301) (i64.const 302) (i64.const 303)
    (i64.const 304) (i64.const 305) (i64.const 306) (i64.const 307) (i64.const 308) (i64.const 309) (i64.const 310) (i64.const 311)
    (i64.const 312) (i64.const 313) (i64.const 314) (i64.const 315) (i64.const 316) (i64.const 317) (i64.const 318) (i64.const 319)
    (i64.const 320) (i64.const 321) (i64.const 322) (i64.const 323) (i64.const 324) (i64.const 325) (i64.const 326) (i64.const 327)
    (i64.const 328) (i64.const 329) (i64.const 330) (i64.const 331) (i64.const 332) (i64.const 333) (i64.const 334) (i64.const 335)
    (i64.const 336) (i64.const 337) (i64.const 338) (i64.const 339) (i64.const 340) (i64.const 341) (i64.const 342) (i64.const 343)
    (i64.const 344) (i64.const 345) (i64.const 346) (i64.const 347) (i64.const 348) (i64.const 349) (i64.const 350) (i64.const 351)
    (i64.const 352) (i64.const 353) (i64.const 354) (i64.const 355) (i64.const 356) (i64.const 357) (i64.const 358) (i64.const 359)
    (i64.const 360) (i64.const 361) (i64.const 362) (i64.const 363) (i64.const 364) (i64.const 365) (i64.const 366) (i64.const 367)
    (i64.const 368) (i64.const 369) (i64.const 370) (i64.const 371) (i64.const 372) (i64.const 373) (i64.const 374) (i64.const 375)
    (i64.const 376) (i64.const 377) (i64.const 378) (i64.const 379) (i64.const 380) (i64.const 381) (i64.const 382) (i64.const 383)
    (i64.const 384) (i64.const 385) (i64.const 386) (i64.const 387) (i64.const 388) (i64.const 389) (i64.const 390) (i64.const 391)
    (i64.const 392) (i64.const 393) (i64.const 394) (i64.const 395) (i64.const 396) (i64.const 397) (i64.const 398) (i64.const 399)
    (i64.const 400) (i64.const 401) (i64.const 402) (i64.const 403) (i64.const 404) (i64.const 405) (i64.const 406) (i64.const 407)
    (i64.const 408) (i64.const 409) (i64.const 410) (i64.const 411) (i64.const 412) (i64.const 413) (i64.const 414) (i64.const 415)
    (i64.const 416) (i64.const 417) (i64.const 418) (i64.const 419) (i64.const 420) (i64.const 421) (i64.const 422) (i64.const 423)
    (i64.const 424) (i64.const 425) (i64.const 426) (i64.const 427) (i64.const 428) (i64.const 429) (i64.const 430) (i64.const 431)
    (i64.const 432) (i64.const 433) (i64.const 434) (i64.const 435) (i64.const 436) (i64.const 437) (i64.const 438) (i64.const 439)
    (i64.const 440) (i64.const 441) (i64.const 442) (i64.const 443) (i64.const 444) (i64.const 445) (i64.const 446) (i64.const 447)
    (i64.const 448) (i64.const 449) (i64.const 450) (i64.const 451) (i64.const 452) (i64.const 453) (i64.const 454) (i64.const 455)
    (i64.const 456) (i64.const 457) (i64.const 458) (i64.const 459) (i64.const 460) (i64.const 461) (i64.const 462) (i64.const 463)
    (i64.const 464) (i64.const 465) (i64.const 466) (i64.const 467) (i64.const 468) (i64.const 469) (i64.const 470) (i64.const 471)
    (i64.const 472) (i64.const 473) (i64.const 474) (i64.const 475) (i64.const 476) (i64.const 477) (i64.const 478) (i64.const 479)
    (i64.const 480) (i64.const 481) (i64.const 482) (i64.const 483) (i64.const 484) (i64.const 485) (i64.const 486) (i64.const 487)
    (i64.const 488) (i64.const 489) (i64.const 490) (i64.const 491) (i64.const 492) (i64.const 493) (i64.const 494) (i64.const 495)
    (i64.const 496) (i64.const 497) (i64.const 498) (i64.const 499) (i64.const 500) (i64.const 501) (i64.const 502) (i64.const 503)
    (i64.const 504) (i64.const 505) (i64.const 506) (i64.const 507) (i64.const 508) (i64.const 509) (i64.const 510) (i64.const 511)
    (i64.const 512) (i64.const 513) (i64.const 514) (i64.const 515) (i64.const 516) (i64.const 517) (i64.const 518) (i64.const 519)
    (i64.const 520) (i64.const 521) (i64.const 522) (i64.const 523) (i64.const 524) (i64.const 525) (i64.const 526) (i64.const 527)
    (i64.const 528) (i64.const 529) (i64.const 530) (i64.const 531) (i64.const 532) (i64.const 533) (i64.const 534) (i64.const 535)
    (i64.const 536) (i64.const 537) (i64.const 538) (i64.const 539) (i64.const 540) (i64.const 541) (i64.const 542) (i64.const 543)
    (i64.const 544) (i64.const 545) (i64.const 546) (i64.const 547) (i64.const 548) (i64.const 549) (i64.const 550) (i64.const 551)
    (i64.const 552) (i64.const 553) (i64.const 554) (i64.const 555) (i64.const 556) (i64.const 557) (i64.const 558) (i64.const 559)
    (i64.const 560) (i64.const 561) (i64.const 562) (i64.const 563) (i64.const 564) (i64.const 565) (i64.const 566) (i64.const 567)
    (i64.const 568) (i64.const 569) (i64.const 570) (i64.const 571) (i64.const 572) (i64.const 573) (i64.const 574) (i64.const 575)
    (i64.const 576) (i64.const 577) (i64.const 578) (i64.const 579) (i64.const 580) (i64.const 581) (i64.const 582) (i64.const 583)
    (i64.const 584) (i64.const 585) (i64.const 586) (i64.const 587) (i64.const 588) (i64.const 589) (i64.const 590) (i64.const 591)
    (i64.const 592) (i64.const 593) (i64.const 594) (i64.const 595) (i64.const 596) (i64.const 597) (i64.const 598) (i64.const 599)
    (i64.extend_i32_u (i32.wrap_i64 (call $deep_operands (i32.add (local.get 0) (i32.const 1)))))
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
    i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add)
  ;; A branch never taken holds 601 operand values (about 4.8 KB of
  ;; temporaries in the frame), and the call that is made sits at depth 1:
  ;; its return address is pushed at the frame's bottom, more than a guard
  ;; page below anything the function touched before.
  (func $skip_frame (export "skip_frame") (param i32) (result i64)
    (if (result i64) (i32.eqz (local.get 0))
      (then
        (i64.const 0)
        (i64.const 0) (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5) (i64.const 6) (i64.const 7)
        (i64.const 8) (i64.const 9) (i64.const 10) (i64.const 11) (i64.const 12) (i64.const 13) (i64.const 14) (i64.const 15)
        (i64.const 16) (i64.const 17) (i64.const 18) (i64.const 19) (i64.const 20) (i64.const 21) (i64.const 22) (i64.const 23)
        (i64.const 24) (i64.const 25) (i64.const 26) (i64.const 27) (i64.const 28) (i64.const 29) (i64.const 30) (i64.const 31)
        (i64.const 32) (i64.const 33) (i64.const 34) (i64.const 35) (i64.const 36) (i64.const 37) (i64.const 38) (i64.const 39)
        (i64.const 40) (i64.const 41) (i64.const 42) (i64.const 43) (i64.const 44) (i64.const 45) (i64.const 46) (i64.const 47)
        (i64.const 48) (i64.const 49) (i64.const 50) (i64.const 51) (i64.const 52) (i64.const 53) (i64.const 54) (i64.const 55)
        (i64.const 56) (i64.const 57) (i64.const 58) (i64.const 59) (i64.const 60) (i64.const 61) (i64.const 62) (i64.const 63)
        (i64.const 64) (i64.const 65) (i64.const 66) (i64.const 67) (i64.const 68) (i64.const 69) (i64.const 70) (i64.const 71)
        (i64.const 72) (i64.const 73) (i64.const 74) (i64.const 75) (i64.const 76) (i64.const 77) (i64.const 78) (i64.const 79)
        (i64.const 80) (i64.const 81) (i64.const 82) (i64.const 83) (i64.const 84) (i64.const 85) (i64.const 86) (i64.const 87)
        (i64.const 88) (i64.const 89) (i64.const 90) (i64.const 91) (i64.const 92) (i64.const 93) (i64.const 94) (i64.const 95)
        (i64.const 96) (i64.const 97) (i64.const 98) (i64.const 99) (i64.const 100) (i64.const 101) (i64.const 102) (i64.const 103)
        (i64.const 104) (i64.const 105) (i64.const 106) (i64.const 107) (i64.const 108) (i64.const 109) (i64.const 110) (i64.const 111)
        (i64.const 112) (i64.const 113) (i64.const 114) (i64.const 115) (i64.const 116) (i64.const 117) (i64.const 118) (i64.const 119)
        (i64.const 120) (i64.const 121) (i64.const 122) (i64.const 123) (i64.const 124) (i64.const 125) (i64.const 126) (i64.const 127)
        (i64.const 128) (i64.const 129) (i64.const 130) (i64.const 131) (i64.const 132) (i64.const 133) (i64.const 134) (i64.const 135)
        (i64.const 136) (i64.const 137) (i64.const 138) (i64.const 139) (i64.const 140) (i64.const 141) (i64.const 142) (i64.const 143)
        (i64.const 144) (i64.const 145) (i64.const 146) (i64.const 147) (i64.const 148) (i64.const 149) (i64.const 150) (i64.const 151)
        (i64.const 152) (i64.const 153) (i64.const 154) (i64.const 155) (i64.const 156) (i64.const 157) (i64.const 158) (i64.const 159)
        (i64.const 160) (i64.const 161) (i64.const 162) (i64.const 163) (i64.const 164) (i64.const 165) (i64.const 166) (i64.const 167)
        (i64.const 168) (i64.const 169) (i64.const 170) (i64.const 171) (i64.const 172) (i64.const 173) (i64.const 174) (i64.const 175)
        (i64.const 176) (i64.const 177) (i64.const 178) (i64.const 179) (i64.const 180) (i64.const 181) (i64.const 182) (i64.const 183)
        (i64.const 184) (i64.const 185) (i64.const 186) (i64.const 187) (i64.const 188) (i64.const 189) (i64.const 190) (i64.const 191)
        (i64.const 192) (i64.const 193) (i64.const 194) (i64.const 195) (i64.const 196) (i64.const 197) (i64.const 198) (i64.const 199)
        (i64.const 200) (i64.const 201) (i64.const 202) (i64.const 203) (i64.const 204) (i64.const 205) (i64.const 206) (i64.const 207)
        (i64.const 208) (i64.const 209) (i64.const 210) (i64.const 211) (i64.const 212) (i64.const 213) (i64.const 214) (i64.const 215)
        (i64.const 216) (i64.const 217) (i64.const 218) (i64.const 219) (i64.const 220) (i64.const 221) (i64.const 222) (i64.const 223)
        (i64.const 224) (i64.const 225) (i64.const 226) (i64.const 227) (i64.const 228) (i64.const 229) (i64.const 230) (i64.const 231)
        (i64.const 232) (i64.const 233) (i64.const 234) (i64.const 235) (i64.const 236) (i64.const 237) (i64.const 238) (i64.const 239)
        (i64.const 240) (i64.const 241) (i64.const 242) (i64.const 243) (i64.const 244) (i64.const 245) (i64.const 246) (i64.const 247)
        (i64.const 248) (i64.const 249) (i64.const 250) (i64.const 251) (i64.const 252) (i64.const 253) (i64.const 254) (i64.const 255)
        (i64.const 256) (i64.const 257) (i64.const 258) (i64.const 259) (i64.const 260) (i64.const 261) (i64.const 262) (i64.const 263)
        (i64.const 264) (i64.const 265) (i64.const 266) (i64.const 267) (i64.const 268) (i64.const 269) (i64.const 270) (i64.const 271)
        (i64.const 272) (i64.const 273) (i64.const 274) (i64.const 275) (i64.const 276) (i64.const 277) (i64.const 278) (i64.const 279)
        (i64.const 280) (i64.const 281) (i64.const 282) (i64.const 283) (i64.const 284) (i64.const 285) (i64.const 286) (i64.const 287)
        (i64.const 288) (i64.const 289) (i64.const 290) (i64.const 291) (i64.const 292) (i64.const 293) (i64.const 294) (i64.const 295)
        (i64.const 296) (i64.const 297) (i64.const 298) (i64.const 299) (i64.const 300) (i64.const 301) (i64.const 302) (i64.const 303)
        (i64.const 304) (i64.const 305) (i64.const 306) (i64.const 307) (i64.const 308) (i64.const 309) (i64.const 310) (i64.const 311)
        (i64.const 312) (i64.const 313) (i64.const 314) (i64.const 315) (i64.const 316) (i64.const 317) (i64.const 318) (i64.const 319)
        (i64.const 320) (i64.const 321) (i64.const 322) (i64.const 323) (i64.const 324) (i64.const 325) (i64.const 326) (i64.const 327)
        (i64.const 328) (i64.const 329) (i64.const 330) (i64.const 331) (i64.const 332) (i64.const 333) (i64.const 334) (i64.const 335)
        (i64.const 336) (i64.const 337) (i64.const 338) (i64.const 339) (i64.const 340) (i64.const 341) (i64.const 342) (i64.const 343)
        (i64.const 344) (i64.const 345) (i64.const 346) (i64.const 347) (i64.const 348) (i64.const 349) (i64.const 350) (i64.const 351)
        (i64.const 352) (i64.const 353) (i64.const 354) (i64.const 355) (i64.const 356) (i64.const 357) (i64.const 358) (i64.const 359)
        (i64.const 360) (i64.const 361) (i64.const 362) (i64.const 363) (i64.const 364) (i64.const 365) (i64.const 366) (i64.const 367)
        (i64.const 368) (i64.const 369) (i64.const 370) (i64.const 371) (i64.const 372) (i64.const 373) (i64.const 374) (i64.const 375)
        (i64.const 376) (i64.const 377) (i64.const 378) (i64.const 379) (i64.const 380) (i64.const 381) (i64.const 382) (i64.const 383)
        (i64.const 384) (i64.const 385) (i64.const 386) (i64.const 387) (i64.const 388) (i64.const 389) (i64.const 390) (i64.const 391)
        (i64.const 392) (i64.const 393) (i64.const 394) (i64.const 395) (i64.const 396) (i64.const 397) (i64.const 398) (i64.const 399)
        (i64.const 400) (i64.const 401) (i64.const 402) (i64.const 403) (i64.const 404) (i64.const 405) (i64.const 406) (i64.const 407)
        (i64.const 408) (i64.const 409) (i64.const 410) (i64.const 411) (i64.const 412) (i64.const 413) (i64.const 414) (i64.const 415)
        (i64.const 416) (i64.const 417) (i64.const 418) (i64.const 419) (i64.const 420) (i64.const 421) (i64.const 422) (i64.const 423)
        (i64.const 424) (i64.const 425) (i64.const 426) (i64.const 427) (i64.const 428) (i64.const 429) (i64.const 430) (i64.const 431)
        (i64.const 432) (i64.const 433) (i64.const 434) (i64.const 435) (i64.const 436) (i64.const 437) (i64.const 438) (i64.const 439)
        (i64.const 440) (i64.const 441) (i64.const 442) (i64.const 443) (i64.const 444) (i64.const 445) (i64.const 446) (i64.const 447)
        (i64.const 448) (i64.const 449) (i64.const 450) (i64.const 451) (i64.const 452) (i64.const 453) (i64.const 454) (i64.const 455)
        (i64.const 456) (i64.const 457) (i64.const 458) (i64.const 459) (i64.const 460) (i64.const 461) (i64.const 462) (i64.const 463)
        (i64.const 464) (i64.const 465) (i64.const 466) (i64.const 467) (i64.const 468) (i64.const 469) (i64.const 470) (i64.const 471)
        (i64.const 472) (i64.const 473) (i64.const 474) (i64.const 475) (i64.const 476) (i64.const 477) (i64.const 478) (i64.const 479)
        (i64.const 480) (i64.const 481) (i64.const 482) (i64.const 483) (i64.const 484) (i64.const 485) (i64.const 486) (i64.const 487)
        (i64.const 488) (i64.const 489) (i64.const 490) (i64.const 491) (i64.const 492) (i64.const 493) (i64.const 494) (i64.const 495)
        (i64.const 496) (i64.const 497) (i64.const 498) (i64.const 499) (i64.const 500) (i64.const 501) (i64.const 502) (i64.const 503)
        (i64.const 504) (i64.const 505) (i64.const 506) (i64.const 507) (i64.const 508) (i64.const 509) (i64.const 510) (i64.const 511)
        (i64.const 512) (i64.const 513) (i64.const 514) (i64.const 515) (i64.const 516) (i64.const 517) (i64.const 518) (i64.const 519)
        (i64.const 520) (i64.const 521) (i64.const 522) (i64.const 523) (i64.const 524) (i64.const 525) (i64.const 526) (i64.const 527)
        (i64.const 528) (i64.const 529) (i64.const 530) (i64.const 531) (i64.const 532) (i64.const 533) (i64.const 534) (i64.const 535)
        (i64.const 536) (i64.const 537) (i64.const 538) (i64.const 539) (i64.const 540) (i64.const 541) (i64.const 542) (i64.const 543)
        (i64.const 544) (i64.const 545) (i64.const 546) (i64.const 547) (i64.const 548) (i64.const 549) (i64.const 550) (i64.const 551)
        (i64.const 552) (i64.const 553) (i64.const 554) (i64.const 555) (i64.const 556) (i64.const 557) (i64.const 558) (i64.const 559)
        (i64.const 560) (i64.const 561) (i64.const 562) (i64.const 563) (i64.const 564) (i64.const 565) (i64.const 566) (i64.const 567)
        (i64.const 568) (i64.const 569) (i64.const 570) (i64.const 571) (i64.const 572) (i64.const 573) (i64.const 574) (i64.const 575)
        (i64.const 576) (i64.const 577) (i64.const 578) (i64.const 579) (i64.const 580) (i64.const 581) (i64.const 582) (i64.const 583)
        (i64.const 584) (i64.const 585) (i64.const 586) (i64.const 587) (i64.const 588) (i64.const 589) (i64.const 590) (i64.const 591)
        (i64.const 592) (i64.const 593) (i64.const 594) (i64.const 595) (i64.const 596) (i64.const 597) (i64.const 598) (i64.const 599)
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add
        i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add i64.add)
      (else (call $skip_frame (i32.add (local.get 0) (i32.const 1))))))
)
