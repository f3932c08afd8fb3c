// heed.evidence.highlightLines: marks the lines of the last shown evidence report's spans in
// the visible editors of their files, stronger for lines with more attention. The lines are
// those of the prompt the report came from; edits since then can shift them.

import * as vscode from 'vscode';
import type { EvidenceState } from './evidenceState';
import { highlightTiers, lineTiers } from './lineTiers';

const setting = 'evidence.highlightLines';

/** Background alpha per tier, weakest first; one colour so the tiers read as one scale. */
const tierAlphas = [0.1, 0.2, 0.34];

export class LineHighlights implements vscode.Disposable {
  private readonly types: vscode.TextEditorDecorationType[];
  private readonly subscriptions: vscode.Disposable[];
  private enabled = false;

  constructor(private readonly state: EvidenceState) {
    this.types = Array.from({ length: highlightTiers }, (_, tier) =>
      vscode.window.createTextEditorDecorationType({
        isWholeLine: true,
        backgroundColor: `rgba(255, 170, 0, ${tierAlphas[tier]})`,
        overviewRulerColor: `rgba(255, 170, 0, ${Math.min(1, tierAlphas[tier] * 2.5)})`,
        overviewRulerLane: vscode.OverviewRulerLane.Right,
      }),
    );
    this.subscriptions = [
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(`heed.${setting}`)) this.refresh();
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => {
        if (this.enabled) this.apply();
      }),
      state.onDidShow(() => {
        if (this.enabled) this.apply();
      }),
    ];
    this.refresh();
  }

  private refresh(): void {
    this.enabled = vscode.workspace.getConfiguration('heed').get<boolean>(setting, false);
    if (this.enabled) this.apply();
    else this.clear();
  }

  private apply(): void {
    const report = this.state.shown;
    // The server may spell a file's URI differently from VS Code (percent-encoding): compare parsed forms.
    const tiers = new Map<string, Map<number, number>>();
    for (const [uri, lines] of report ? lineTiers(report) : []) tiers.set(vscode.Uri.parse(uri).toString(), lines);
    for (const editor of vscode.window.visibleTextEditors) {
      const lines = tiers.get(editor.document.uri.toString());
      const lastLine = editor.document.lineCount - 1;
      const ranges: vscode.Range[][] = this.types.map(() => []);
      for (const [line, tier] of lines ?? []) {
        if (line <= lastLine) ranges[tier].push(new vscode.Range(line, 0, line, 0));
      }
      this.types.forEach((type, tier) => editor.setDecorations(type, ranges[tier]));
    }
  }

  private clear(): void {
    for (const editor of vscode.window.visibleTextEditors) for (const type of this.types) editor.setDecorations(type, []);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const type of this.types) type.dispose();
  }
}
