;; test_percall's module for instance reset: a mutable global, a memory cell
;; and a table that calls change, and memory.grow and table.grow, so that a
;; reset must restore each of them.
(module
  (type $get (func (result i32)))
  (memory 1 100)
  (table $t 2 100 funcref)
  (elem (i32.const 0) $seven $eight)
  (global $counter (mut i32) (i32.const 5))
  (data (i32.const 16) "\2a\00\00\00")
  (func $seven (result i32) (i32.const 7))
  (func $eight (result i32) (i32.const 8))
  ;; The global, then bumped.
  (func (export "bump_global") (result i32)
    (global.get $counter)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
  ;; The memory cell at 16 (42 at start), then bumped.
  (func (export "bump_memory") (result i32)
    (i32.load (i32.const 16))
    (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (i32.const 1))))
  ;; Grows memory by `n` pages, writes 1 into the last page; returns the
  ;; page count before.
  (func (export "grow") (param $n i32) (result i32) (local $old i32)
    (local.set $old (memory.grow (local.get $n)))
    (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 1))
    (local.get $old))
  (func (export "pages") (result i32) (memory.size))
  ;; Reads the last word of page `p` (traps when it is outside memory).
  (func (export "read_page") (param $p i32) (result i32)
    (i32.load (i32.add (i32.mul (local.get $p) (i32.const 65536)) (i32.const 65532))))
  ;; Swaps the table's first two entries; grows it by `n` (null entries).
  (func (export "swap_table")
    (local $a funcref)
    (local.set $a (table.get $t (i32.const 0)))
    (table.set $t (i32.const 0) (table.get $t (i32.const 1)))
    (table.set $t (i32.const 1) (local.get $a)))
  (func (export "grow_table") (param $n i32) (result i32)
    (table.grow $t (ref.null func) (local.get $n)))
  (func (export "table_size") (result i32) (table.size $t))
  (func (export "call0") (result i32) (call_indirect (type $get) (i32.const 0)))
  (func (export "crash") (result i32) (unreachable)))
