// What the client remembers of evidence: the completion the user accepted last and the
// report shown last (which heed.evidence.highlightLines marks in the editors).

import * as vscode from 'vscode';
import type { EvidenceReport } from '../../server/protocol';

export class EvidenceState implements vscode.Disposable {
  /** The evidence id of the inline completion accepted last, if any in this session. */
  acceptedId: string | undefined;
  private shownReport: EvidenceReport | undefined;
  private readonly shownEmitter = new vscode.EventEmitter<EvidenceReport>();
  readonly onDidShow = this.shownEmitter.event;

  get shown(): EvidenceReport | undefined {
    return this.shownReport;
  }

  /** Called by the panels when they show a report. */
  show(report: EvidenceReport): void {
    this.shownReport = report;
    this.shownEmitter.fire(report);
  }

  dispose(): void {
    this.shownEmitter.dispose();
  }
}
