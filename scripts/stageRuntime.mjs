// Copies the runtime packages that stay outside the bundles (onnxruntime-node and what it
// loads) into dist/node_modules, keeping only the linux-x64 native binaries, so that the
// .vsix carries a working engine without the 290 MB of every platform's binaries.
import { cpSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const target = join('dist', 'node_modules');
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });

const copy = (from, to) => {
  if (!existsSync(from)) throw new Error(`${from} is missing: run npm ci first`);
  cpSync(from, to, { recursive: true });
};

copy(join('node_modules', 'onnxruntime-common'), join(target, 'onnxruntime-common'));
const ort = join(target, 'onnxruntime-node');
for (const part of ['package.json', 'dist', 'README.md']) copy(join('node_modules', 'onnxruntime-node', part), join(ort, part));
copy(join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64'), join(ort, 'bin', 'napi-v6', 'linux', 'x64'));
console.log(`staged onnxruntime-node (linux-x64) in ${target}`);
