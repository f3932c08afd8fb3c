// The status bar item: shows what the server pushes (the client decides nothing).

import * as vscode from 'vscode';
import type { StatusParams } from '../server/protocol';

const icons: Record<StatusParams['state'], string> = {
  starting: '$(loading~spin)',
  loading: '$(loading~spin)',
  ready: '$(sparkle)',
  error: '$(error)',
  disabled: '$(circle-slash)',
};

const labels: Record<StatusParams['state'], string> = {
  starting: 'starting',
  loading: 'loading the model',
  ready: 'ready',
  error: 'error',
  disabled: 'completions off',
};

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('heed.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Heed';
    this.item.command = 'heed.showOutput';
    this.show({ state: 'starting', message: 'Starting the Heed server' });
    this.item.show();
  }

  show(status: StatusParams): void {
    const progress = status.progress;
    const percent = progress && progress.total > 0 ? Math.floor((progress.done / progress.total) * 100) : undefined;
    this.item.text = progress ? `$(sync~spin) Heed ${percent ?? 0}%` : `${icons[status.state]} Heed`;
    // The accessibility label carries the state word so that tests and screen readers can read it.
    this.item.accessibilityInformation = { label: `Heed: ${labels[status.state]}` };
    const doing = progress ? `\n${progress.title}: ${progress.done.toLocaleString('en-US')} of ${progress.total.toLocaleString('en-US')} tokens.` : '';
    this.item.tooltip = `Heed: ${labels[status.state]}. ${status.message}${doing}\nClick to show Heed's output.`;
    this.item.backgroundColor = status.state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
