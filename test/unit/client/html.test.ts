import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, escapeHtml, lineRangeLabel, newNonce, page } from '../../../src/webview/html';

test('escapeHtml turns every markup character into an entity', () => {
  assert.equal(escapeHtml('<script>alert(1)</script>'), '&lt;script&gt;alert(1)&lt;/script&gt;');
  assert.equal(escapeHtml('</div>'), '&lt;/div&gt;');
  assert.equal(escapeHtml(`a "b" 'c'`), 'a &quot;b&quot; &#39;c&#39;');
  // & first: an entity in the input stays visible as typed, not decoded.
  assert.equal(escapeHtml('a && b &lt;'), 'a &amp;&amp; b &amp;lt;');
  assert.equal(escapeHtml('日本語 🚀 naïve'), '日本語 🚀 naïve');
});

test('nonces are fresh and need no escaping', () => {
  const a = newNonce();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, newNonce());
});

test('the page carries the strict policy, and every script tag the nonce', () => {
  const nonce = newNonce();
  const html = page({
    title: 'Heed: <Evidence>',
    cspSource: 'vscode-webview-resource:',
    nonce,
    styleUris: ['vscode-resource:/media/evidence.css'],
    scriptUris: ['vscode-resource:/media/a.js', 'vscode-resource:/media/b.js'],
    body: '<p>body</p>',
  });
  assert.equal(contentSecurityPolicy('S', 'N'), "default-src 'none'; style-src S; script-src 'nonce-N'; img-src S");
  const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/);
  assert.ok(meta, 'a CSP meta tag');
  assert.equal(meta[1], escapeHtml(contentSecurityPolicy('vscode-webview-resource:', nonce)));
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.equal(scripts.length, 2);
  for (const tag of scripts) assert.ok(tag.includes(`nonce="${nonce}"`), tag);
  assert.ok(html.includes('<title>Heed: &lt;Evidence&gt;</title>'));
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /\sstyle=/);
});

test('line labels are 1-based and name a range only when it has more than one line', () => {
  assert.equal(lineRangeLabel('a.ts', 0), 'a.ts:1');
  assert.equal(lineRangeLabel('a.ts', 4, 4), 'a.ts:5');
  assert.equal(lineRangeLabel('a.ts', 4, 6), 'a.ts:5–7');
});
