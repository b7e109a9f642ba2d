// Writes out the share/ tree yosys reads its techmap and cell libraries from. YoWASP's package
// carries it as a JavaScript object (resources-yosys.js: names to file text, nested objects for
// directories, URLs for the larger files it ships beside it), which its own runner mounts at /share;
// for wafer and node to run the bare module it must be a real directory to preopen.
//   node yosys_share.mjs PACKAGE/gen/resources-yosys.js OUT_DIR
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [resources, out] = process.argv.slice(2);
if (!resources || !out) {
  process.stderr.write('usage: node yosys_share.mjs RESOURCES_JS OUT_DIR\n');
  process.exit(2);
}
const { filesystem } = await import(pathToFileURL(resolve(resources)).href);

function put(dir, tree) {
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(tree)) {
    if (name.includes('/') || name === '..' || name === '.') throw new Error(`bad name ${name}`);
    const path = join(dir, name);
    if (typeof value === 'string' || value instanceof Uint8Array) writeFileSync(path, value);
    else if (value instanceof URL) copyFileSync(fileURLToPath(value), path);
    else put(path, value);
  }
}
if (!filesystem || typeof filesystem.share !== 'object') throw new Error('no share tree in ' + resources);
put(out, filesystem.share);
