'use strict';
// The V8 side of the v8 oracle (oracles/v8.c starts it under node): runs modules under the
// invocation protocol of oracles/observation.h and writes their observations in its text format.
//
// One long-lived process serves many modules. Input on stdin, one frame per module: a 4-byte
// little-endian length, then that many bytes of module. Output on stdout, per module: its
// observation lines, then the line "#end" (a comment in the format, so it never clashes with an
// observation). Lines are flushed at each export call, so that a module that hangs or kills the
// process still leaves the observations made before it.
//
// What V8 cannot tell apart or cannot do is classified here, never guessed:
// - Trap kinds come from V8's RuntimeError messages. V8 has one message for a table index out of
//   bounds: the opcode at the trapping offset (from the stack trace) says whether it was a
//   call_indirect (undefined element) or a table instruction. Two messages each stand for two of
//   the spec's traps, so they are the class `other` (which agrees with any): "float
//   unrepresentable in integer range" (int_overflow, or invalid_conversion for NaN) and "null
//   function or function signature mismatch" (uninitialized_element or indirect_call_mismatch).
// - Values cross into JS for logging and results. Integers, non-NaN floats, -0 and i64 (BigInt)
//   keep their exact bits; a NaN's payload may change (the comparison treats NaNs as equal).
// - Stack overflow is inconclusive: stack; refused allocations are inconclusive: memory; V8's
//   implementation limits are inconclusive: limit; modules V8 cannot compile for a feature it
//   lacks (multi-memory in node 20), exports it cannot call from JS (v128) and names the text
//   format cannot write are inconclusive: feature (see compileOutcome for the rest).

const fs = require('fs');

// Observations per module before "inconclusive output" (OBSERVATION_LIMIT of observation.h,
// passed by v8.c as --observation-limit=N); memories above HASHED_PAGES are not hashed ("-"),
// as in the wafer adapter: hashing 4 GiB costs seconds.
const limitArg = process.argv.find((a) => a.startsWith('--observation-limit='));
const MAX_LINES = limitArg ? Number(limitArg.split('=')[1]) - 1 : 99999;
const HASHED_PAGES = 16384;

// ---- Frame input --------------------------------------------------------------------------

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

// Reads exactly n bytes from stdin; null at end of input before the first byte.
function readExact(n) {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    let k;
    try {
      k = fs.readSync(0, buf, got, n - got, null);
    } catch (e) {
      if (e.code === 'EAGAIN') {
        Atomics.wait(sleepCell, 0, 0, 1);
        continue;
      }
      if (e.code === 'EOF') k = 0;
      else throw e;
    }
    if (k === 0) {
      if (got === 0) return null;
      throw new Error('input ended inside a frame');
    }
    got += k;
  }
  return buf;
}

// ---- Output -------------------------------------------------------------------------------

let pending = [];
let lineCount = 0;

class TooManyLines extends Error {}

function emit(line) {
  if (++lineCount > MAX_LINES) throw new TooManyLines();
  pending.push(line);
}

function flush() {
  if (pending.length === 0) return;
  const text = Buffer.from(pending.join('\n') + '\n', 'latin1');
  pending = [];
  let off = 0;
  while (off < text.length) {
    try {
      off += fs.writeSync(1, text, off, text.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
}

// ---- Names and values in the text format --------------------------------------------------

const encoder = new TextEncoder();

// bytes outside [A-Za-z0-9_.$-] as %XX, over the name's UTF-8 bytes (names are valid UTF-8).
// The format has no spelling for an empty name (its line would lack the field).
function escapeName(name) {
  if (name === '') throw new Unrepresentable('an empty name, which the observation format cannot write');
  let out = '';
  for (const b of encoder.encode(name)) {
    const plain = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) ||
                  (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x2e || b === 0x24 ||
                  b === 0x2d;
    out += plain ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const scratch = new ArrayBuffer(8);
const f32view = new Float32Array(scratch);
const f64view = new Float64Array(scratch);
const u32view = new Uint32Array(scratch);
const u64view = new BigUint64Array(scratch);

class Unrepresentable extends Error {}

// A JS value that came out of wasm as type t, as TYPE:BITS.
function formatValue(t, v) {
  switch (t) {
    case 'i32': return 'i32:0x' + (v >>> 0).toString(16);
    case 'i64': return 'i64:0x' + BigInt.asUintN(64, v).toString(16);
    case 'f32': f32view[0] = v; return 'f32:0x' + u32view[0].toString(16);
    case 'f64': f64view[0] = v; return 'f64:0x' + u64view[0].toString(16);
    case 'funcref': return v === null ? 'funcref:null' : 'funcref:nonnull';
    case 'externref': return v === null ? 'externref:null' : 'externref:nonnull';
    default: throw new Unrepresentable('a ' + t + ' value');
  }
}

function zeroOf(t) {
  switch (t) {
    case 'i64': return 0n;
    case 'i32': case 'f32': case 'f64': return 0;
    case 'funcref': case 'externref': return null;
    default: throw new Unrepresentable('a ' + t + ' value');
  }
}

// ---- The module's imports, read from its bytes --------------------------------------------
// V8's type reflection does not say a memory's index type (memory64), so the type and import
// sections are read here; the exports' types come from WebAssembly.Module.exports.

class Reader {
  constructor(bytes) { this.b = bytes; this.p = 0; }
  byte() {
    if (this.p >= this.b.length) throw new Error('unexpected end');
    return this.b[this.p++];
  }
  u64() { // LEB128 as BigInt
    let result = 0n, shift = 0n, b;
    do {
      b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    return result;
  }
  u32() { return Number(this.u64()); }
  name() {
    const n = this.u32();
    if (this.p + n > this.b.length) throw new Error('unexpected end');
    const s = new TextDecoder('utf-8', {fatal: true}).decode(this.b.subarray(this.p, this.p + n));
    this.p += n;
    return s;
  }
}

const VALTYPES = {0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128',
                  0x70: 'funcref', 0x6f: 'externref'};

function valtype(r) {
  const t = VALTYPES[r.byte()];
  if (!t) throw new Unrepresentable('a value type beyond reference types');
  return t;
}

function limits(r) {
  const flags = r.byte();
  const min = r.u64();
  const max = (flags & 1) ? r.u64() : null;
  return {min, max, shared: (flags & 2) !== 0, is64: (flags & 4) !== 0};
}

// {types, imports} of a module V8 has already compiled (so its sections are well-formed).
function readImports(bytes) {
  const r = new Reader(bytes);
  r.p = 8;
  const types = [];
  const imports = [];
  while (r.p < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.p + size;
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        if (r.byte() !== 0x60) throw new Unrepresentable('a type beyond function types');
        const params = [], results = [];
        for (let k = r.u32(); k > 0; k--) params.push(valtype(r));
        for (let k = r.u32(); k > 0; k--) results.push(valtype(r));
        types.push({params, results});
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const imp = {module: r.name(), name: r.name(), kind: r.byte()};
        if (imp.kind === 0) imp.type = types[r.u32()];
        else if (imp.kind === 1) { imp.elem = valtype(r); imp.limits = limits(r); }
        else if (imp.kind === 2) imp.limits = limits(r);
        else if (imp.kind === 3) { imp.valtype = valtype(r); imp.mutable = r.byte() === 1; }
        else throw new Unrepresentable('an import of kind ' + imp.kind);
        imports.push(imp);
      }
      break; // nothing after the import section is needed
    } else if (id !== 0) {
      break; // past where the import section would be
    }
    r.p = end;
  }
  return {types, imports};
}

// ---- Stand-in imports ---------------------------------------------------------------------

function makeLogger(imp) {
  const head = 'log ' + escapeName(imp.module) + ' ' + escapeName(imp.name);
  const {params, results} = imp.type;
  for (const t of params) formatValue(t, zeroOf(t)); // throws now for a type we cannot show
  const zeros = results.map(zeroOf);
  const ret = zeros.length === 0 ? undefined : zeros.length === 1 ? zeros[0] : zeros;
  return function (...args) {
    let line = head;
    for (let i = 0; i < params.length; i++) line += ' ' + formatValue(params[i], args[i]);
    emit(line);
    return ret;
  };
}

function makeStandIn(imp) {
  switch (imp.kind) {
    case 0: return makeLogger(imp);
    case 1: {
      const desc = {element: imp.elem === 'funcref' ? 'anyfunc' : imp.elem,
                    initial: Number(imp.limits.min)};
      if (imp.limits.max !== null) desc.maximum = Number(imp.limits.max);
      return new WebAssembly.Table(desc, null);
    }
    case 2: {
      const desc = {initial: Number(imp.limits.min)};
      if (imp.limits.max !== null) desc.maximum = Number(imp.limits.max);
      if (imp.limits.shared) desc.shared = true;
      if (imp.limits.is64) desc.index = 'i64';
      return new WebAssembly.Memory(desc);
    }
    default:
      return new WebAssembly.Global(
          {value: imp.valtype === 'funcref' ? 'anyfunc' : imp.valtype, mutable: imp.mutable},
          zeroOf(imp.valtype));
  }
}

function sameImport(a, b) {
  return JSON.stringify(a, (k, v) => typeof v === 'bigint' ? v.toString() : v) ===
         JSON.stringify(b, (k, v) => typeof v === 'bigint' ? v.toString() : v);
}

// The import object, or throws Unrepresentable. JS gives each module/name pair one value, so two
// imports of one name are served by one stand-in: fine for identical function imports, not
// otherwise (a shared memory, table or global would couple what the protocol keeps apart).
function makeImports(imports) {
  const obj = Object.create(null);
  const seen = new Map();
  for (const imp of imports) {
    const key = JSON.stringify([imp.module, imp.name]);
    if (seen.has(key)) {
      if (imp.kind !== 0 || !sameImport(seen.get(key), imp))
        throw new Unrepresentable('two different imports named ' + imp.module + ' ' + imp.name);
      continue;
    }
    seen.set(key, imp);
    if (!obj[imp.module]) obj[imp.module] = Object.create(null);
    obj[imp.module][imp.name] = makeStandIn(imp);
  }
  return obj;
}

// ---- Outcomes of V8's errors --------------------------------------------------------------

class Inconclusive extends Error {
  constructor(reason, detail) { super(detail); this.reason = reason; }
}

// The opcode at the offset of the top stack frame, if that frame is wasm code.
function trappingOpcode(err, bytes) {
  const frames = String(err.stack || '').split('\n').filter((l) => /^\s+at /.test(l));
  if (frames.length === 0) return -1;
  const m = /wasm-function\[\d+\]:0x([0-9a-f]+)/.exec(frames[0]);
  if (!m) return -1;
  const off = parseInt(m[1], 16);
  return off < bytes.length ? bytes[off] : -1;
}

const TRAPS = [
  [/^unreachable$/, 'unreachable'],
  [/memory access out of bounds|data segment (is )?out of bounds/, 'memory_oob'],
  [/^(divide|remainder) by zero$/, 'div_zero'],
  [/^divide result unrepresentable$/, 'int_overflow'],
  [/^float unrepresentable in integer range$/, 'other'],
  [/^invalid index into function table$/, 'undefined_element'],
  [/element segment (is )?out of bounds/, 'table_oob'],
  [/^null function or function signature mismatch$/, 'other'],
  [/^function signature mismatch$/, 'indirect_call_mismatch'],
];

// A trap CLASS for a RuntimeError, else throws Inconclusive.
function trapClass(err, bytes) {
  const msg = String(err.message).replace(/^WebAssembly\.\w+\(\): /, '');
  if (/^table index is out of bounds$/.test(msg)) {
    const op = trappingOpcode(err, bytes);
    return op === 0x11 || op === 0x13 ? 'undefined_element' : 'table_oob';
  }
  for (const [re, cls] of TRAPS) if (re.test(msg)) return cls;
  return 'other';
}

// Turns what a call into wasm threw into a trap CLASS, or throws Inconclusive.
function outcome(err, bytes) {
  if (err instanceof TooManyLines) throw new Inconclusive('output', 'more than ' + MAX_LINES + ' observations');
  if (err instanceof Inconclusive) throw err;
  if (err instanceof WebAssembly.RuntimeError) return trapClass(err, bytes);
  const msg = String(err && err.message);
  if (err instanceof RangeError && /call stack size/.test(msg)) throw new Inconclusive('stack', msg);
  if (err instanceof RangeError && /above the upper bound/.test(msg)) throw new Inconclusive('limit', msg);
  if (err instanceof RangeError || /out of memory|allocat/i.test(msg)) throw new Inconclusive('memory', msg);
  if (err instanceof TypeError && /type incompatibility/.test(msg)) throw new Inconclusive('feature', 'V8 cannot pass a v128 to or from JS');
  if (err instanceof Unrepresentable) throw new Inconclusive('feature', msg);
  throw new Inconclusive('crash', (err && err.constructor && err.constructor.name) + ': ' + msg);
}

// What a CompileError means. node 20's V8 lacks multi-memory: a second memory, a memory index
// other than 0, or a memarg carrying a memory index (its alignment field then has bit 6 set)
// are inconclusive: feature. V8's implementation limits are inconclusive: limit. Anything else
// is an invalid module, also where V8 says a flag would enable the construct: the flags wafer's
// features need are on (memory64 with the feature), so such a construct (typed function
// references, tail calls, ...) is beyond wafer's features too.
function compileOutcome(err) {
  const msg = String(err.message);
  const align = /actual alignment is (\d+)/.exec(msg);
  if (/memory count of \d+ exceeds internal limit|At most one memory|memory index/i.test(msg) ||
      (align && Number(align[1]) >= 64))
    throw new Inconclusive('feature', msg);
  if (/(implementation|internal) limit/.test(msg)) throw new Inconclusive('limit', msg);
  return 'invalid';
}

// ---- Running one module -------------------------------------------------------------------

function callWith(fn, params) {
  return fn(...params.map(zeroOf));
}

function resultLine(types, value) {
  if (types.length === 0) return 'return';
  const values = types.length === 1 ? [value] : Array.from(value);
  return 'return ' + types.map((t, i) => formatValue(t, values[i])).join(' ');
}

// 64 KiB of zeros advance FNV-1a 64 by one multiplication with prime^65536.
const FNV_PRIME = 0x100000001b3n;
const PAGE = 65536;
let PRIME_PER_ZERO_PAGE = FNV_PRIME;
for (let i = 0; i < 16; i++) // 2^16 = PAGE
  PRIME_PER_ZERO_PAGE = BigInt.asUintN(64, PRIME_PER_ZERO_PAGE * PRIME_PER_ZERO_PAGE);

function fnv1a64(bytes) {
  let hi = 0xcbf29ce4, lo = 0x84222325;
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  for (let page = 0; page * PAGE < bytes.length; page++) {
    const start = page * PAGE, end = Math.min(start + PAGE, bytes.length);
    let zero = end - start === PAGE;
    for (let w = start >> 2; zero && w < end >> 2; w++) if (words[w] !== 0) zero = false;
    if (zero) {
      const h = BigInt.asUintN(64, ((BigInt(hi) << 32n) | BigInt(lo)) * PRIME_PER_ZERO_PAGE);
      hi = Number(h >> 32n);
      lo = Number(h & 0xffffffffn);
      continue;
    }
    for (let i = start; i < end; i++) {
      lo = (lo ^ bytes[i]) >>> 0;
      // (hi:lo) * (2^40 + 0x1b3) mod 2^64, in 32-bit halves.
      const loProduct = lo * 0x1b3;
      const carry = Math.floor(loProduct / 4294967296);
      hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
      lo = loProduct >>> 0;
    }
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

function runModule(bytes) {
  let module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (err) {
    if (err instanceof WebAssembly.CompileError) {
      emit('instantiate error ' + compileOutcome(err));
      return;
    }
    throw err;
  }
  const {imports} = readImports(bytes);
  const importObject = makeImports(imports);
  const exports = WebAssembly.Module.exports(module);
  let instance;
  try {
    instance = new WebAssembly.Instance(module, importObject);
  } catch (err) {
    if (err instanceof WebAssembly.LinkError) {
      emit('instantiate error unlinkable');
      return;
    }
    emit('instantiate trap ' + outcome(err, bytes));
    return;
  }
  emit('instantiate ok');
  const hang = exports.find((e) => e.kind === 'function' && e.name === 'hangLimitInitializer' &&
                                  e.type.parameters.length === 0 && e.type.results.length === 0);
  for (const e of exports) {
    if (e.kind !== 'function' || e === hang) continue;
    emit('call ' + escapeName(e.name));
    flush();
    const {parameters, results} = e.type;
    let value;
    try {
      if (hang) instance.exports[hang.name]();
      value = callWith(instance.exports[e.name], parameters);
    } catch (err) {
      emit('trap ' + outcome(err, bytes));
      continue;
    }
    try {
      emit(resultLine(results, value));
    } catch (err) {
      outcome(err, bytes);
    }
  }
  for (const e of exports) {
    if (e.kind === 'global') {
      let line;
      try {
        line = 'global ' + escapeName(e.name) + ' ' + formatValue(e.type.value, instance.exports[e.name].value);
      } catch (err) {
        outcome(err, bytes);
      }
      emit(line);
    } else if (e.kind === 'memory') {
      const buf = new Uint8Array(instance.exports[e.name].buffer);
      const pages = buf.length / PAGE;
      emit('memory ' + escapeName(e.name) + ' ' + pages + ' ' + (pages <= HASHED_PAGES ? fnv1a64(buf) : '-'));
    }
  }
}

function main() {
  for (;;) {
    const header = readExact(4);
    if (header === null) return;
    const bytes = new Uint8Array(readExact(header.readUInt32LE(0)));
    pending = [];
    lineCount = 0;
    try {
      runModule(bytes);
    } catch (err) {
      let inc;
      try {
        outcome(err, bytes);
        inc = new Inconclusive('crash', 'unexpected ' + String(err));
      } catch (e) {
        inc = e;
      }
      pending.push('inconclusive ' + inc.reason + ' ' + String(inc.message).replace(/\s+/g, ' '));
    }
    pending.push('#end');
    flush();
  }
}

main();
