// Inline completions over LSP 3.18 textDocument/inlineCompletion: the text around the
// cursor, after the workspace files chosen for it, goes to the model worker; its
// single-line continuation comes back as ghost text.

import type { CancellationToken, Connection, InlineCompletionItem, InlineCompletionParams, ServerCapabilities } from 'vscode-languageserver/node';
import type { TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { EngineService } from '../../engineService';
import type { Feature } from '../feature';
import { JobFailedError } from '../../worker/modelHost';
import type { WorkspaceContext } from '../../context/workspaceContext';
import { cursorCharsPerToken, cursorText, cursorTokenCaps, describeSkip, skipReason } from './documentContext';
import { completionPrompt, promptBudgets, promptFormatFor } from './prompt';
import { workspaceNames } from '../workspaceNames';
import { postProcess } from './filters';
import { completionAcceptedCommand, type CompletionAcceptedParams, type ServerSettings } from '../../protocol';
import type { EvidenceFeature } from '../evidence/evidenceFeature';
import { buildReport, partSources } from '../evidence/evidenceReport';
import type { ModelSummary, PromptParts } from '../../worker/messages';
import type { WorkspaceSelection } from '../../context/workspaceContext';

interface BuiltPrompt {
  prompt: PromptParts;
  maxPromptTokens: number;
  workspace: WorkspaceSelection;
  /** Where the text before the cursor starts in the document. */
  prefixStart: number;
}

/** Share of the current file's budget given to text before the cursor; the rest goes after it. */
const prefixShare = 0.75;

function sleep(ms: number, token: CancellationToken): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(() => {
      subscription.dispose();
      resolve();
    }, ms);
    const subscription = token.onCancellationRequested(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class CompletionFeature implements Feature {
  private readonly skipped = new Set<string>();
  private lastCursor: { uri: string; offset: number } | undefined;
  private lastOpened: string | undefined;
  private names = workspaceNames([]);

  constructor(
    private readonly engine: EngineService,
    private readonly documents: TextDocuments<TextDocument>,
    private readonly workspace: WorkspaceContext,
    private readonly log: (line: string) => void,
    private readonly notice: (message: string) => void,
    private readonly evidence?: EvidenceFeature,
  ) {}

  initialize(connection: Connection, workspaceRoots: string[]): Partial<ServerCapabilities> {
    this.names = workspaceNames(workspaceRoots);
    connection.languages.inlineCompletion.on((params, token) => this.complete(params, token));
    return { inlineCompletionProvider: true };
  }

  /** The completion prompt for a cursor in a document: the workspace files chosen for it, then the document around the cursor. */
  private async buildPrompt(document: TextDocument, offset: number, settings: ServerSettings, model: ModelSummary): Promise<BuiltPrompt> {
    const text = document.getText();
    const path = this.names.displayPath(document.uri);
    const budgetChars = settings.maxPromptTokens * cursorCharsPerToken;
    const cursor = cursorText(text, offset, Math.floor(budgetChars * prefixShare), Math.floor(budgetChars * (1 - prefixShare)));
    const withSuffix = promptFormatFor(model.special, model.fimOrder) !== 'prefix';
    const cursorTokens = cursorTokenCaps(settings.maxPromptTokens, cursor.suffix.length, 1 - prefixShare, withSuffix);
    const { maxPromptTokens, workspaceBudgetTokens } = promptBudgets(model.config.maxPositions, model.special, settings, settings.maxTokens);
    const workspace = await this.workspace.select(document, workspaceBudgetTokens);
    const prompt = completionPrompt(model.special, model.fimOrder, this.names.repoName, path, cursor, { workspace: workspace.parts, cursorTokens });
    return { prompt, maxPromptTokens, workspace, prefixStart: offset - cursor.prefix.length };
  }

  /**
   * The prompt a completion would get at the last cursor Heed completed at (or the end of
   * the most recently opened document): what a warm-up prefills while the editor is idle,
   * so that the next completion finds the workspace part cached. None without a model or
   * a usable document.
   */
  async warmUpPrompt(): Promise<{ prompt: PromptParts; maxPromptTokens: number } | undefined> {
    const settings = this.engine.currentSettings;
    const model = this.engine.loadedModel;
    if (!settings?.completionEnabled || !model || settings.contextMaxTokens === 0) return undefined;
    const last = this.lastCursor ?? (this.lastOpened ? { uri: this.lastOpened, offset: Number.POSITIVE_INFINITY } : undefined);
    const document = last && this.documents.get(last.uri);
    if (!document || skipReason(document.getText()) !== undefined) return undefined;
    const offset = Math.min(last!.offset, document.getText().length);
    const { prompt, maxPromptTokens } = await this.buildPrompt(document, offset, settings, model);
    return { prompt, maxPromptTokens };
  }

  /** A document the user opened: where a warm-up goes before any completion was asked. */
  documentOpened(uri: string): void {
    this.lastOpened = uri;
  }

  async complete(params: InlineCompletionParams, token: CancellationToken): Promise<InlineCompletionItem[] | null> {
    const settings = this.engine.currentSettings;
    const model = this.engine.loadedModel;
    if (!settings?.completionEnabled || !model) return null;
    const document = this.documents.get(params.textDocument.uri);
    if (!document) return null;
    const text = document.getText();
    const path = this.names.displayPath(document.uri);
    // One notice while a document stays skipped; it can be told again only after a
    // request found it fine (edits alone do not re-arm it, or every keystroke would).
    const skip = skipReason(text);
    if (skip) {
      if (!this.skipped.has(document.uri)) {
        this.skipped.add(document.uri);
        this.notice(describeSkip(skip, path));
      }
      return null;
    }
    this.skipped.delete(document.uri);
    await sleep(settings.debounceMs, token);
    if (token.isCancellationRequested) return null;

    const offset = document.offsetAt(params.position);
    this.lastCursor = { uri: document.uri, offset };
    try {
      const { prompt, maxPromptTokens, workspace, prefixStart } = await this.buildPrompt(document, offset, settings, model);
      if (token.isCancellationRequested) return null;
      const withEvidence = this.evidence !== undefined && settings.evidenceEnabled;
      const options = { maxTokens: settings.maxTokens, temperature: 0, topP: 1, seed: 0, stop: ['\n'] };
      const result = await this.engine.generate(prompt, maxPromptTokens, options, token, withEvidence ? { heads: 'retrieval' } : undefined);
      const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
      const lineEnd = text.indexOf('\n', offset);
      const linePrefix = text.slice(lineStart, offset);
      const lineSuffix = text.slice(offset, lineEnd < 0 ? text.length : lineEnd).replace(/\r$/, '');
      const insert = postProcess(result.text, { linePrefix, lineSuffix });
      this.log(
        `completion ${path}:${params.position.line + 1} prompt ${result.promptTokens} tokens (${result.reusedTokens} reused${result.restoredTokens > 0 ? `, ${result.restoredTokens} of them from the prefix cache` : ''}), ` +
          `${workspace.files} workspace ${workspace.files === 1 ? 'file' : 'files'} offered (~${workspace.estimatedTokens} tokens estimated)` +
          `${result.droppedPromptUnits ? `, ${result.droppedPromptUnits} left out to fit` : ''}, ` +
          `first token ${result.ttftMs.toFixed(1)} ms, ${result.tokens.length} tokens in ${result.totalMs.toFixed(1)} ms, ${result.stopReason}` +
          (result.evidence ? `, evidence ${result.evidence.ms.toFixed(1)} ms` : '') +
          (result.evidenceProblem ? `, no evidence: ${result.evidenceProblem}` : '') +
          (insert === undefined ? ', dropped by filters' : ''),
      );
      if (insert === undefined || token.isCancellationRequested) return null;
      const item: InlineCompletionItem = { insertText: insert, range: { start: params.position, end: params.position } };
      if (this.evidence && result.evidence) {
        const id = this.evidence.newId('completion');
        const current = { uri: document.uri, path, text, prefixStart, cursor: offset, excludeCursorLine: true };
        const evidence = result.evidence;
        this.evidence.recordAfterReply(id, 'completion', () =>
          buildReport(evidence, partSources(prompt, (p) => workspace.uriOfPath.get(p), current), current, {
            id,
            kind: 'completion',
            text: insert,
            uri: document.uri,
            line: params.position.line,
            character: params.position.character,
            promptTokens: result.promptTokens,
            generatedTokens: result.tokens.length,
            totalMs: result.totalMs,
          }),
        );
        const accepted: CompletionAcceptedParams = { id, uri: document.uri, line: params.position.line, character: params.position.character, text: insert };
        item.command = { title: 'Heed: completion accepted', command: completionAcceptedCommand, arguments: [accepted] };
      }
      return [item];
    } catch (error) {
      if (error instanceof JobFailedError && error.cancelled) return null;
      this.log(`completion failed in ${path}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }
}
