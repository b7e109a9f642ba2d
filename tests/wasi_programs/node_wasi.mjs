// Runs a WASI preview 1 command under node's WASI (node:wasi), with wafer's command line:
//   node node_wasi.mjs [--dir HOST[::GUEST]]... [--env NAME=VALUE]... PROG.wasm [ARGS...]
// so tests/wasi_programs.sh gives both engines the same arguments. argv[0] is PROG.wasm as
// given, as under `wafer run --wasi`. Exits with the program's status; a trap exits 134 as
// wafer's does, after one line on stderr (the message differs between engines, the status not).
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const env = {};
const preopens = {};
const argv = process.argv.slice(2);
let i = 0;
for (; i < argv.length; i++) {
  const flag = argv[i];
  if (flag === '--dir' || flag === '--env') {
    const value = argv[++i];
    if (value === undefined) usage(`${flag} needs a value`);
    if (flag === '--env') {
      const eq = value.indexOf('=');
      if (eq <= 0) usage(`--env needs NAME=VALUE, got "${value}"`);
      env[value.slice(0, eq)] = value.slice(eq + 1);
    } else {
      const sep = value.indexOf('::');
      const host = sep < 0 ? value : value.slice(0, sep);
      preopens[sep < 0 ? value : value.slice(sep + 2)] = host;
    }
  } else {
    break;
  }
}
if (i >= argv.length) usage('no program given');
const program = argv[i];
const args = [program, ...argv.slice(i + 1)];

function usage(why) {
  process.stderr.write(`node_wasi: ${why}\n` +
    'usage: node node_wasi.mjs [--dir HOST[::GUEST]]... [--env NAME=VALUE]... PROG.wasm [ARGS...]\n');
  process.exit(2);
}

const wasi = new WASI({ version: 'preview1', args, env, preopens, returnOnExit: true });
let status;
try {
  const module = await WebAssembly.compile(readFileSync(program));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  status = wasi.start(instance);
} catch (e) {
  process.stderr.write(`node_wasi: ${program}: trap: ${e.message}\n`);
  status = 134;
}
process.exitCode = status;
