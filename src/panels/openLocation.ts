// Opens a place a panel showed: a document URI and a 0-based line.

import * as vscode from 'vscode';

/** Opens `uri` at `line` beside the panel; a line past the end (the file changed since) goes to the last line. */
export async function openLocation(uri: string, line: number): Promise<void> {
  try {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri, true));
    const at = Math.min(line, Math.max(0, document.lineCount - 1));
    const range = new vscode.Range(at, 0, at, 0);
    // The panels open beside the editors, so the first column is where the code was.
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, selection: range, preview: true });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Heed: cannot open ${uri}: ${message}`);
  }
}
