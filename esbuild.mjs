// Builds the extension client, the language server, the model worker and the CLI into
// dist/, and the tests into out/. Usage: node esbuild.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import { readdirSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Native and runtime-loaded packages stay outside the bundles and ship in node_modules. */
const nativeExternals = ['onnxruntime-node', 'vscode'];

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

const bundles = [
  { entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist', external: ['vscode'] },
  {
    entryPoints: {
      server: 'server/server.ts',
      modelWorker: 'server/worker/modelWorker.ts',
      cli: 'server/cli/main.ts',
    },
    outdir: 'dist',
    external: nativeExternals,
  },
];

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

// Tests bundle our own code but leave every npm package external, so they run against the
// same node_modules as the product.
const testBuild = {
  entryPoints: findTests('test'),
  outdir: 'out/test',
  outbase: 'test',
  packages: 'external',
};

if (!watch) rmSync('out', { recursive: true, force: true });
const configs = [...bundles.map((b) => ({ ...common, ...b })), { ...common, ...testBuild, minify: false, sourcemap: true }];
if (watch) {
  for (const config of configs) await (await esbuild.context(config)).watch();
} else {
  await Promise.all(configs.map((config) => esbuild.build(config)));
}
