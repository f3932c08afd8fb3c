import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importedFiles, ImportTargets, pythonImports, scriptSpecifiers } from '../../../server/context/imports';

const targets = (paths: string[]) => new ImportTargets(new Set(paths));

test('TypeScript and JavaScript specifiers, in order, each once', () => {
  const text = [
    "import a from './a';",
    "import { b, type B } from '../lib/b';",
    'import {',
    '  c,',
    '  d as e,',
    "} from './multi';",
    "import * as ns from './ns';",
    "import type { T } from './types';",
    "import './side-effect';",
    "export * from './reexport';",
    "export { x } from './named';",
    "export * as all from './star';",
    "const lazy = await import('./lazy');",
    "const old = require('./old');",
    "import legacy = require('./legacy');",
    "// import ignored from './commented';",
    '/* import alsoIgnored from "./block"; */',
    '/// <reference path="./globals.d.ts" />',
    "import React from 'react';",
    "import a2 from './a';",
    'const s = "import x from \'./in-string\'";',
  ].join('\n');
  assert.deepEqual(scriptSpecifiers(text), [
    './a', '../lib/b', './multi', './ns', './types', './side-effect', './reexport', './named', './star', './lazy', './old', './legacy',
    './globals.d.ts', 'react',
  ]);
});

test('relative TypeScript imports resolve through extensions, index files and built names', () => {
  const t = targets([
    '/w/src/a.ts', '/w/src/comp.tsx', '/w/src/lib/index.ts', '/w/src/types.d.ts', '/w/src/esm.ts', '/w/src/plain.js',
    '/w/src/mod.mjs', '/w/src/common.cjs', '/w/shared/util.ts', '/w/src/data.json', '/w/src/ui/index.tsx',
  ]);
  const text = [
    "import { a } from './a';",
    "import Comp from './comp';",
    "import lib from './lib';",
    "import type { T } from './types';",
    "import { esm } from './esm.js';",
    "import plain from './plain';",
    "import mod from './mod.mjs';",
    "const common = require('./common.cjs');",
    "import { util } from '../shared/util';",
    "import data from './data.json';",
    "import ui from './ui';",
    "import missing from './missing';",
    "import React from 'react';",
    "import self from './main';",
  ].join('\n');
  assert.deepEqual(importedFiles('/w/src/main.ts', text, targets([...t.paths, '/w/src/main.ts'])), [
    '/w/src/a.ts', '/w/src/comp.tsx', '/w/src/lib/index.ts', '/w/src/types.d.ts', '/w/src/esm.ts', '/w/src/plain.js',
    '/w/src/mod.mjs', '/w/src/common.cjs', '/w/shared/util.ts', '/w/src/data.json', '/w/src/ui/index.tsx',
  ]);
});

test('@/ and ~/ aliases resolve to the nearest file ending the same way', () => {
  const t = targets(['/w/app/src/components/Button.tsx', '/w/other/src/components/Button.tsx', '/w/app/src/lib/index.ts']);
  const text = "import Button from '@/components/Button';\nimport lib from '~/lib';\nimport pkg from 'lodash/merge';";
  assert.deepEqual(importedFiles('/w/app/src/pages/home.tsx', text, t), ['/w/app/src/components/Button.tsx', '/w/app/src/lib/index.ts']);
});

test('Python imports: absolute, relative, parenthesized, aliased', () => {
  const text = [
    'import os, pkg.mod as m',
    'from .sibling import thing',
    'from ..parent.sub import (',
    '    a,',
    '    b as c,',
    ')',
    'from . import helpers, tools  # comment',
    'from pkg import sub',
    '# from commented import nothing',
    'if True:',
    '    import lazy.mod',
  ].join('\n');
  assert.deepEqual(pythonImports(text), [
    { level: 0, module: 'os', names: [] },
    { level: 0, module: 'pkg.mod', names: [] },
    { level: 1, module: 'sibling', names: ['thing'] },
    { level: 2, module: 'parent.sub', names: ['a', 'b'] },
    { level: 1, module: '', names: ['helpers', 'tools'] },
    { level: 0, module: 'pkg', names: ['sub'] },
    { level: 0, module: 'lazy.mod', names: [] },
  ]);
});

test('Python imports resolve against the workspace: modules, packages, submodules, relative levels', () => {
  const t = targets([
    '/w/src/pkg/__init__.py', '/w/src/pkg/mod.py', '/w/src/pkg/sub/__init__.py', '/w/src/pkg/sub/deep.py',
    '/w/src/app/main.py', '/w/src/app/sibling.py', '/w/src/app/helpers.py', '/w/src/parent/sub.py', '/w/tests/pkg/mod.py',
    '/w/src/stubs.pyi',
  ]);
  const text = [
    'import os',
    'import pkg.mod',
    'from pkg.sub import deep',
    'from .sibling import thing',
    'from . import helpers, missing',
    'from ..parent.sub import a',
    'import stubs',
  ].join('\n');
  assert.deepEqual(importedFiles('/w/src/app/main.py', text, t), [
    '/w/src/pkg/mod.py', // nearer than /w/tests/pkg/mod.py
    '/w/src/pkg/sub/__init__.py',
    '/w/src/pkg/sub/deep.py',
    '/w/src/app/sibling.py',
    '/w/src/app/helpers.py',
    '/w/src/parent/sub.py',
    '/w/src/stubs.pyi',
  ]);
});

test('other languages import nothing', () => {
  assert.deepEqual(importedFiles('/w/main.rs', 'use crate::a;', targets(['/w/a.rs'])), []);
});
