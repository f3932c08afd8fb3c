// One small factory per command over the extension's context.

import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { calibrateRequest, completionAcceptedNotification, evidenceRequest, type CalibrateResult, type EvidenceParams, type EvidenceReport } from '../server/protocol';
import { parseAcceptedParams } from './evidence/acceptedParams';
import type { WhyStatusItem } from './evidence/whyStatusItem';
import { AskPanel, activeDocumentUri } from './panels/askPanel';
import { EvidencePanel } from './panels/evidencePanel';

export type Cmd = (...args: unknown[]) => unknown;

export function showOutput(ctx: Ctx): Cmd {
  return () => ctx.output.show(true);
}

export function restartServer(ctx: Ctx): Cmd {
  return async () => {
    await ctx.restart();
    void vscode.window.showInformationMessage('Heed: the server was restarted.');
  };
}

export function toggleCompletions(): Cmd {
  return async () => {
    const config = vscode.workspace.getConfiguration('heed');
    const enabled = config.get<boolean>('completion.enabled', true);
    await config.update('completion.enabled', !enabled, vscode.ConfigurationTarget.Global);
  };
}

/** Heed: Calibrate Heads. The server shows cancellable progress; this says where the pattern went and offers to use it. */
export function calibrateHeads(ctx: Ctx): Cmd {
  return async () => {
    try {
      const result = await ctx.request<CalibrateResult>(calibrateRequest);
      ctx.output.info(`Head pattern written to ${result.patternFile}\n${result.summary}`);
      if (result.inUse) {
        void vscode.window.showInformationMessage('Heed: heads calibrated; the head-aware KV cache now uses the new pattern.');
        return;
      }
      const use = 'Use the head-aware cache';
      const choice = await vscode.window.showInformationMessage('Heed: heads calibrated. The KV cache is dense (heed.cache.kvPolicy).', use, 'Show Output');
      if (choice === use) {
        // Keep the int8 choice (dense+int8 becomes head-aware+int8).
        const int8 = vscode.workspace.getConfiguration('heed').get<string>('cache.kvPolicy', 'dense').endsWith('+int8');
        await vscode.workspace.getConfiguration('heed').update('cache.kvPolicy', int8 ? 'head-aware+int8' : 'head-aware', vscode.ConfigurationTarget.Global);
      }
      else if (choice) ctx.output.show(true);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/cancel/i.test(message)) void vscode.window.showInformationMessage('Heed: calibration cancelled; nothing was written.');
      else void vscode.window.showErrorMessage(`Heed: calibration failed: ${message}`);
    }
  };
}

/** Run by VS Code when the user accepts Heed's ghost text (the server put it on the item): tell the server, remember the id. */
export function completionAccepted(ctx: Ctx, why: WhyStatusItem): Cmd {
  return async (arg: unknown) => {
    why.hide();
    const params = parseAcceptedParams(arg);
    if (!params) {
      ctx.output.warn(`heed.completionAccepted: ignored an argument that is not CompletionAcceptedParams: ${JSON.stringify(arg)?.slice(0, 200)}`);
      return;
    }
    ctx.evidence.acceptedId = params.id;
    await ctx.notify(completionAcceptedNotification, params).catch((error) => ctx.output.warn(`Telling the server of an accepted completion: ${String(error)}`));
  };
}

/** Heed: Show Evidence, of the completion `id` (the Why? item passes it) or of the latest completion. */
export function showEvidence(ctx: Ctx): Cmd {
  return async (id?: unknown) => {
    // Without an id: the accepted completion under the cursor, else the latest suggestion.
    const editor = vscode.window.activeTextEditor;
    const at = editor ? { uri: editor.document.uri.toString(), line: editor.selection.active.line, character: editor.selection.active.character } : {};
    const params: EvidenceParams = typeof id === 'string' ? { id } : at;
    try {
      const report = await ctx.request<EvidenceReport | null>(evidenceRequest, params);
      if (!report) {
        const message = params.id
          ? 'Heed: the server no longer holds the evidence of that suggestion (it keeps the most recent ones).'
          : 'Heed: no evidence yet. Let Heed complete something first (ghost text, with heed.evidence.enabled on), then run "Heed: Show Evidence".';
        void vscode.window.showInformationMessage(message);
        return;
      }
      EvidencePanel.show(ctx, report);
    } catch (error) {
      void vscode.window.showErrorMessage(`Heed: cannot show the evidence: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

/** Heed: Ask About the Workspace. */
export function askWorkspace(ctx: Ctx): Cmd {
  return async () => {
    const question = await vscode.window.showInputBox({
      title: 'Heed: Ask About the Workspace',
      prompt: 'Answered by the local model from the workspace files it holds; the panel shows the lines it looked at.',
      placeHolder: 'Where is the retry delay set?',
      ignoreFocusOut: true,
    });
    if (!question?.trim()) return;
    await AskPanel.open(ctx).start(question.trim(), { kind: 'workspace', uri: activeDocumentUri() });
  };
}

/** Heed: Explain Selection: asks about the active editor's selection. */
export function explainSelection(ctx: Ctx): Cmd {
  return async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selection.isEmpty) {
      void vscode.window.showErrorMessage('Heed: select the code to explain in an editor first; there is no selection.');
      return;
    }
    const { start, end } = editor.selection;
    await AskPanel.open(ctx).start('Explain this code.', {
      kind: 'selection',
      uri: editor.document.uri.toString(),
      selection: { startLine: start.line, startCharacter: start.character, endLine: end.line, endCharacter: end.character },
    });
  };
}
