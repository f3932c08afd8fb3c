// The shell every Heed webview shares: escaping, the Content-Security-Policy and the page
// around a body. Pure (no 'vscode' import) so that unit tests can check what a panel renders.
//
// Invariant: every piece of file content, path and model text reaches HTML through
// escapeHtml; webview scripts set text with textContent, never innerHTML.

import { randomBytes } from 'node:crypto';

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => entities[char]);
}

/** A fresh nonce for one rendering: 128 random bits, hex, so it needs no escaping. */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Nothing remote, no inline script or style: scripts run only with this rendering's nonce,
 * styles and images come only from the extension's media folder (`cspSource`).
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return `default-src 'none'; style-src ${cspSource}; script-src 'nonce-${nonce}'; img-src ${cspSource}`;
}

export interface PageParts {
  title: string;
  /** webview.cspSource. */
  cspSource: string;
  nonce: string;
  /** Webview URIs (webview.asWebviewUri) of the media/ files to load. */
  styleUris: string[];
  scriptUris: string[];
  /** Already escaped HTML. */
  body: string;
}

export function page(parts: PageParts): string {
  const csp = escapeHtml(contentSecurityPolicy(parts.cspSource, parts.nonce));
  const styles = parts.styleUris.map((uri) => `<link rel="stylesheet" href="${escapeHtml(uri)}">`).join('\n');
  const scripts = parts.scriptUris.map((uri) => `<script nonce="${parts.nonce}" src="${escapeHtml(uri)}"></script>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(parts.title)}</title>
${styles}
</head>
<body>
${parts.body}
${scripts}
</body>
</html>`;
}

/** "path:12" or "path:12–15", 1-based as editors show lines; start and end are 0-based and included. */
export function lineRangeLabel(path: string, startLine: number, endLine = startLine): string {
  return endLine > startLine ? `${path}:${startLine + 1}–${endLine + 1}` : `${path}:${startLine + 1}`;
}

/** A share of attention (0..1) as a percentage with one decimal. */
export function percent(score: number): string {
  return `${(score * 100).toFixed(1)} %`;
}
