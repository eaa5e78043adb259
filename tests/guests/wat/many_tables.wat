;; The issue's 86-byte module: 8 funcref tables of 10 million elements each,
;; which would take 1.9 GB of host memory (24 bytes per element) however
;; small the memory limit, were tables not counted against it.
(module
  (table 10000000 funcref) (table 10000000 funcref) (table 10000000 funcref)
  (table 10000000 funcref) (table 10000000 funcref) (table 10000000 funcref)
  (table 10000000 funcref) (table 10000000 funcref)
  (func (export "f") (result i32) (i32.const 1)))
