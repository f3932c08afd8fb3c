// The one "Heed: Evidence" panel: shows a report (src/webview/evidenceHtml.ts renders it)
// and opens the places it names when clicked.

import * as vscode from 'vscode';
import type { EvidenceReport } from '../../server/protocol';
import type { Ctx } from '../ctx';
import { evidenceUris, renderEvidenceBody } from '../webview/evidenceHtml';
import { parseEvidencePanelMessage } from '../webview/messages';
import { openLocation } from './openLocation';
import { renderPage, webviewOptions } from './webviewPage';

export class EvidencePanel {
  private static current: EvidencePanel | undefined;
  private allowedUris = new Set<string>();

  /** Shows `report` in the panel, opening it beside the editor or revealing the open one. */
  static show(ctx: Ctx, report: EvidenceReport): void {
    if (!EvidencePanel.current) {
      const panel = vscode.window.createWebviewPanel('heed.evidence', 'Heed: Evidence', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(ctx.extensionContext.extensionUri));
      EvidencePanel.current = new EvidencePanel(ctx, panel);
    }
    EvidencePanel.current.update(report);
    EvidencePanel.current.panel.reveal(undefined, true);
  }

  private constructor(
    private readonly ctx: Ctx,
    private readonly panel: vscode.WebviewPanel,
  ) {
    panel.onDidDispose(() => {
      if (EvidencePanel.current === this) EvidencePanel.current = undefined;
    });
    panel.webview.onDidReceiveMessage((value: unknown) => {
      const message = parseEvidencePanelMessage(value, this.allowedUris);
      if (!message) {
        ctx.output.warn(`Evidence panel: ignored a message that is not an open request for a place it showed: ${JSON.stringify(value)?.slice(0, 200)}`);
        return;
      }
      void openLocation(message.uri, message.line);
    });
  }

  private update(report: EvidenceReport): void {
    this.allowedUris = evidenceUris(report);
    const body = renderEvidenceBody(report, { accepted: report.id === this.ctx.evidence.acceptedId });
    this.panel.webview.html = renderPage(this.panel.webview, this.ctx.extensionContext.extensionUri, 'Heed: Evidence', ['evidence.css'], ['evidence.js'], body);
    this.ctx.evidence.show(report);
  }
}
