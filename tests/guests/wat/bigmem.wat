;; Needs 100 pages (6.25 MiB) of memory at start: refused under a lower cap.
(module
  (memory (export "memory") 100)
  (func (export "size") (result i32) (memory.size)))
