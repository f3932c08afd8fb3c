// One small factory per command over the extension's context.

import * as vscode from 'vscode';
import type { Ctx } from './ctx';

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
