#!/usr/bin/env node
// The `heed` command: runs the built CLI bundle.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const cli = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  console.error('heed: dist/cli.js is missing; run `npm run build` in the Heed folder first.');
  process.exit(2);
}
require(cli);
