// The VS Code side of Heed's webviews: panel options that confine them to media/, and the
// page around a body with this rendering's nonce (the markup itself is in src/webview/).

import * as vscode from 'vscode';
import { newNonce, page } from '../webview/html';

export function mediaFolder(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'media');
}

/** Scripts on, and nothing readable but media/. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [mediaFolder(extensionUri)] };
}

/** A full page loading media/<styles> and media/<scripts> through the webview's own URIs. */
export function renderPage(webview: vscode.Webview, extensionUri: vscode.Uri, title: string, styles: string[], scripts: string[], body: string): string {
  const media = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(mediaFolder(extensionUri), name)).toString();
  return page({ title, cspSource: webview.cspSource, nonce: newNonce(), styleUris: styles.map(media), scriptUris: scripts.map(media), body });
}
