;; A guest whose calls go wrong if two threads ran in one instance at once:
;; `mix` keeps its running value in linear memory and in a global, which a
;; concurrent call would overwrite; `spin` runs until its deadline.
(module
  (memory (export "memory") 1)
  (global $seed (mut i32) (i32.const 0))
  ;; mix(seed, n): value = seed; n times value = value * 31 + i (kept at
  ;; address 0); returns value + (global - seed), where the global holds
  ;; the seed throughout.
  (func (export "mix") (param $seed i32) (param $n i32) (result i32)
    (local $i i32)
    (global.set $seed (local.get $seed))
    (i32.store (i32.const 0) (local.get $seed))
    (block $done
      (loop $again
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.const 0)
          (i32.add (i32.mul (i32.load (i32.const 0)) (i32.const 31)) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $again)))
    (i32.add (i32.load (i32.const 0))
             (i32.sub (global.get $seed) (local.get $seed))))
  (func (export "spin") (loop $forever (br $forever))))
