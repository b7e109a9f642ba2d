// The V8 peer of the compute benchmarks: `node [--liftoff-only] compute_node.cjs X.wasm`
// compiles and instantiates X.wasm, calls its `run` once and prints the checksum in decimal.
'use strict';
const fs = require('fs');
const compiled = new WebAssembly.Module(fs.readFileSync(process.argv[2]));
const instance = new WebAssembly.Instance(compiled, {});
console.log(BigInt.asUintN(64, instance.exports.run()).toString());
