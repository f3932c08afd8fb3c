// The one "Heed: Ask" panel: a conversation of questions to the server (heed/ask), each
// answer streaming in from heed/answerProgress, with its framing and evidence locations.
// The panel's script (media/ask.js) only displays turn snapshots and posts the user's
// clicks; this class owns the conversation, so a reloaded webview is rebuilt from it.

import * as vscode from 'vscode';
import { randomUUID } from 'node:crypto';
import { askRequest, type AnswerProgressParams, type AskParams, type AskResult, type EvidenceReport } from '../../server/protocol';
import type { Ctx } from '../ctx';
import { askBody, doneTurn, type AskPanelUpdate, type TurnView } from '../webview/askView';
import { evidenceUris } from '../webview/evidenceHtml';
import { parseAskPanelMessage, type AskPanelMessage } from '../webview/messages';
import { EvidencePanel } from './evidencePanel';
import { openLocation } from './openLocation';
import { renderPage, webviewOptions } from './webviewPage';

/** What every question of one conversation is about; follow-ups keep it. */
export type Conversation = Pick<AskParams, 'kind' | 'uri' | 'selection'>;

interface Turn {
  view: TurnView;
  evidence: EvidenceReport | null;
}

export class AskPanel {
  private static current: AskPanel | undefined;
  private turns: Turn[] = [];
  private conversation: Conversation = { kind: 'workspace' };
  private running: { askId: string; source: vscode.CancellationTokenSource } | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  /** The panel, opened beside the editor or revealed. */
  static open(ctx: Ctx): AskPanel {
    if (!AskPanel.current) {
      const panel = vscode.window.createWebviewPanel('heed.ask', 'Heed: Ask', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(ctx.extensionContext.extensionUri));
      AskPanel.current = new AskPanel(ctx, panel);
    }
    AskPanel.current.panel.reveal(undefined, true);
    return AskPanel.current;
  }

  private constructor(
    private readonly ctx: Ctx,
    private readonly panel: vscode.WebviewPanel,
  ) {
    panel.webview.html = renderPage(panel.webview, ctx.extensionContext.extensionUri, 'Heed: Ask', ['ask.css'], ['ask.js'], askBody());
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((value: unknown) => this.receive(value)),
      ctx.onAnswerProgress((params) => this.progress(params)),
    );
    panel.onDidDispose(() => {
      this.running?.source.cancel();
      for (const subscription of this.subscriptions) subscription.dispose();
      if (AskPanel.current === this) AskPanel.current = undefined;
    });
  }

  /** Starts a new conversation with `question`, cancelling a question still running. */
  start(question: string, conversation: Conversation): Promise<void> {
    this.running?.source.cancel();
    this.turns = [];
    this.conversation = conversation;
    this.post({ type: 'reset' });
    return this.ask(question);
  }

  private async ask(question: string): Promise<void> {
    const askId = randomUUID();
    const history = this.turns.filter((turn) => turn.view.status === 'done').map((turn) => ({ question: turn.view.question, answer: turn.view.answer }));
    const turn: Turn = { view: { askId, question, status: 'running', answer: '' }, evidence: null };
    this.turns.push(turn);
    const source = new vscode.CancellationTokenSource();
    this.running = { askId, source };
    this.postTurn(turn);
    this.post({ type: 'busy', busy: true });
    const params: AskParams = { askId, question, ...this.conversation, ...(history.length > 0 ? { history } : {}) };
    try {
      const result = await this.ctx.request<AskResult>(askRequest, params, source.token);
      turn.view = doneTurn(askId, question, result);
      turn.evidence = result.evidence;
      if (result.evidence) this.ctx.evidence.show(result.evidence);
    } catch (error) {
      if (source.token.isCancellationRequested) {
        turn.view = { ...turn.view, status: 'cancelled' };
      } else {
        const message = error instanceof Error ? error.message : String(error);
        turn.view = { ...turn.view, status: 'failed', error: message };
        this.ctx.output.error(`Question "${question}" failed: ${message}`);
        void vscode.window.showErrorMessage(`Heed: the question failed: ${message}`);
      }
    } finally {
      source.dispose();
      if (this.running?.askId === askId) this.running = undefined;
      this.postTurn(turn);
      this.post({ type: 'busy', busy: this.running !== undefined });
    }
  }

  private progress(params: AnswerProgressParams): void {
    const turn = this.running?.askId === params.askId ? this.turns.find((t) => t.view.askId === params.askId) : undefined;
    if (!turn || typeof params.text !== 'string') return;
    turn.view = { ...turn.view, answer: params.text };
    this.postTurn(turn);
  }

  private receive(value: unknown): void {
    const allowedUris = new Set(this.turns.flatMap((turn) => (turn.evidence ? [...evidenceUris(turn.evidence)] : [])));
    const message = parseAskPanelMessage(value, allowedUris, new Set(this.turns.map((turn) => turn.view.askId)));
    if (!message) {
      this.ctx.output.warn(`Ask panel: ignored an invalid message: ${JSON.stringify(value)?.slice(0, 200)}`);
      return;
    }
    void this.act(message);
  }

  private async act(message: AskPanelMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        // A new or reloaded webview starts empty: give it the whole conversation.
        this.post({ type: 'reset' });
        for (const turn of this.turns) this.postTurn(turn);
        this.post({ type: 'busy', busy: this.running !== undefined });
        return;
      case 'ask':
        if (this.running) {
          void vscode.window.showInformationMessage('Heed: a question is still running; wait for it or cancel it first.');
          return;
        }
        if (this.turns.length === 0) this.conversation = { kind: 'workspace', uri: activeDocumentUri() };
        return this.ask(message.question);
      case 'cancel':
        this.running?.source.cancel();
        return;
      case 'copy': {
        const turn = message.askId ? this.turns.find((t) => t.view.askId === message.askId) : [...this.turns].reverse().find((t) => t.view.answer.length > 0);
        if (!turn || turn.view.answer.length === 0) {
          void vscode.window.showInformationMessage('Heed: there is no answer to copy yet.');
          return;
        }
        await vscode.env.clipboard.writeText(turn.view.answer);
        vscode.window.setStatusBarMessage('Heed: answer copied', 3000);
        return;
      }
      case 'evidence': {
        const evidence = this.turns.find((t) => t.view.askId === message.askId)?.evidence;
        if (evidence) EvidencePanel.show(this.ctx, evidence);
        else void vscode.window.showInformationMessage('Heed: the server returned no evidence for this answer.');
        return;
      }
      case 'open':
        return openLocation(message.uri, message.line);
    }
  }

  private postTurn(turn: Turn): void {
    // A turn of a conversation that was replaced finishes later; the panel no longer shows it.
    if (this.turns.includes(turn)) this.post({ type: 'turn', turn: turn.view });
  }

  private post(update: AskPanelUpdate): void {
    void this.panel.webview.postMessage(update);
  }
}

/** The document a question from the panel is asked in: the editor the user was in. */
export function activeDocumentUri(): string | undefined {
  return (vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0])?.document.uri.toString();
}
