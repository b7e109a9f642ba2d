;; The module of bench/externref_bench.c (issue 5's figures).
(module
  (import "host" "collect" (func $collect))
  (table $t (export "t") 0 externref)
  (func (export "noop"))
  (func (export "id_i32") (param i32) (result i32) (local.get 0))
  (func (export "id_ref") (param externref) (result externref) (local.get 0))
  ;; d frames below this one each hold element d of the table in a local; the deepest collects
  (func $hold (export "hold") (param $d i32) (local $r externref)
    (local.set $r (table.get $t (local.get $d)))
    (if (i32.eqz (local.get $d))
      (then (call $collect))
      (else (call $hold (i32.sub (local.get $d) (i32.const 1)))))
    (table.set $t (local.get $d) (local.get $r)))
)
