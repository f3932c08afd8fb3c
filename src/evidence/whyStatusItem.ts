// "$(question) Why?" in the status bar while Heed's ghost text is shown: it opens the
// evidence of that very suggestion. The inline completion middleware sees the items the
// server returns; the item goes away when the cursor or the document moves on, or the
// suggestion is accepted (VS Code tells no extension when ghost text is dismissed).

import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import { evidenceIdOf } from './acceptedParams';

export class WhyStatusItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[];
  /** The document whose ghost text the item explains. */
  private shownFor: vscode.Uri | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem('heed.why', vscode.StatusBarAlignment.Right, 99);
    this.item.name = 'Heed: Why?';
    this.item.text = '$(question) Why?';
    this.item.tooltip = 'Show the workspace lines this suggestion came from';
    this.subscriptions = [
      vscode.window.onDidChangeTextEditorSelection((event) => this.hideIfAbout(event.textEditor.document.uri)),
      // Only the completed document counts: Heed's own output channel changes as it logs.
      vscode.workspace.onDidChangeTextDocument((event) => this.hideIfAbout(event.document.uri)),
      vscode.window.onDidChangeActiveTextEditor(() => this.hide()),
    ];
  }

  /** The middleware that shows the item for the first item the server returned with evidence. */
  readonly provideInlineCompletionItems: NonNullable<Middleware['provideInlineCompletionItems']> = async (document, position, context, token, next) => {
    const result = await next(document, position, context, token);
    const items = Array.isArray(result) ? result : (result?.items ?? []);
    const id = evidenceIdOf(items);
    // A cancelled request's ghost text is never shown.
    if (id && !token.isCancellationRequested) this.show(id, document.uri);
    else this.hide();
    return result;
  };

  private show(id: string, uri: vscode.Uri): void {
    this.shownFor = uri;
    this.item.command = { title: 'Why?', command: 'heed.showEvidence', arguments: [id] };
    this.item.show();
  }

  hide(): void {
    this.shownFor = undefined;
    this.item.hide();
  }

  private hideIfAbout(uri: vscode.Uri): void {
    if (this.shownFor && uri.toString() === this.shownFor.toString()) this.hide();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.item.dispose();
  }
}
