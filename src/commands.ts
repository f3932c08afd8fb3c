// One small factory per command over the extension's context.

import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { calibrateRequest, type CalibrateResult } from '../server/protocol';

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
      if (choice === use) await vscode.workspace.getConfiguration('heed').update('cache.kvPolicy', 'head-aware', vscode.ConfigurationTarget.Global);
      else if (choice) ctx.output.show(true);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/cancel/i.test(message)) void vscode.window.showInformationMessage('Heed: calibration cancelled; nothing was written.');
      else void vscode.window.showErrorMessage(`Heed: calibration failed: ${message}`);
    }
  };
}
