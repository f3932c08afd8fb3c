// Questions from the command palette ("Heed: Ask About the Workspace", "Heed: Explain
// Selection"): answered over the workspace part a completion in the active file would
// get, so the worker finds it in its prefix cache; the answer streams to the client and
// comes back with its evidence.

import type { CancellationToken, Connection, ServerCapabilities, TextDocuments } from 'vscode-languageserver/node';
import { ResponseError, ErrorCodes, LSPErrorCodes } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { EngineService } from '../../engineService';
import type { Feature } from '../feature';
import type { WorkspaceContext } from '../../context/workspaceContext';
import { JobFailedError } from '../../worker/modelHost';
import { answerProgressNotification, askRequest, type AnswerProgressParams, type AskParams, type AskResult } from '../../protocol';
import { promptBudgets, repoHeader } from '../completion/prompt';
import { workspaceNames } from '../workspaceNames';
import { askPrompt, type AskFraming } from './askPrompt';
import { contrastLines, neutralQuestion, neutralQuestionJob } from './neutralQuestion';
import type { PromptEvidence } from '../../engine/evidence';
import type { PromptParts } from '../../worker/messages';
import type { EvidenceFeature } from '../evidence/evidenceFeature';
import { buildReport, partSources } from '../evidence/evidenceReport';

/** Tokens an answer may take. */
const answerMaxTokens = 160;
/** Characters of a selection put in the question at most (the rest is cut, and the panel says so through the framing). */
const selectionMaxChars = 12_000;
/** Progress notifications at most this often: each carries the whole text so far. */
const progressIntervalMs = 50;

export class AskFeature implements Feature {
  private names = workspaceNames([]);

  constructor(
    private readonly engine: EngineService,
    private readonly documents: TextDocuments<TextDocument>,
    private readonly workspace: WorkspaceContext,
    private readonly evidence: EvidenceFeature,
    private readonly log: (line: string) => void,
  ) {}

  initialize(connection: Connection, workspaceRoots: string[]): Partial<ServerCapabilities> {
    this.names = workspaceNames(workspaceRoots);
    connection.onRequest(askRequest, (params: AskParams, token) => this.ask(connection, params, token));
    return {};
  }

  async ask(connection: Connection, params: AskParams, token: CancellationToken): Promise<AskResult> {
    const settings = this.engine.currentSettings;
    const model = this.engine.loadedModel;
    if (!settings || !model) throw new ResponseError(ErrorCodes.InvalidRequest, 'No model is loaded yet: wait for Heed to be ready (status bar), then ask again.');
    if (typeof params.question !== 'string' || params.question.trim().length === 0) throw new ResponseError(ErrorCodes.InvalidParams, 'The question is empty.');
    const active = params.uri ? this.documents.get(params.uri) : undefined;
    let selection: { path: string; text: string } | undefined;
    if (params.kind === 'selection') {
      if (!active || !params.selection) throw new ResponseError(ErrorCodes.InvalidParams, 'Select the code to explain in an editor first.');
      const { startLine, startCharacter, endLine, endCharacter } = params.selection;
      const text = active.getText({ start: { line: startLine, character: startCharacter }, end: { line: endLine, character: endCharacter } });
      if (text.trim().length === 0) throw new ResponseError(ErrorCodes.InvalidParams, 'The selection is empty: select the code to explain first.');
      selection = { path: this.names.displayPath(active.uri), text: text.length > selectionMaxChars ? text.slice(0, selectionMaxChars) : text };
    }

    // The same workspace files a completion in the active file gets: a cached prefix.
    const { maxPromptTokens, workspaceBudgetTokens } = promptBudgets(model.config.maxPositions, model.special, settings, answerMaxTokens);
    const anchor = active ?? TextDocument.create('untitled:heed-question', 'plaintext', 0, params.question);
    const workspace = await this.workspace.select(anchor, workspaceBudgetTokens);
    const history = (params.history ?? []).filter((h) => typeof h?.question === 'string' && typeof h?.answer === 'string');
    const framing = { activePath: active ? this.names.displayPath(active.uri) : undefined, chatFormat: model.chatFormat, otherChatTemplate: model.hasChatTemplate && !model.chatFormat };
    const question = askPrompt({ question: params.question, kind: params.kind, selection, history, ...framing }, model.special);
    const prompt = [...repoHeader(model.special, this.names.repoName), ...workspace.parts, ...question.parts];

    let lastSent = 0;
    const progress = (text: string) => {
      const now = Date.now();
      if (now - lastSent < progressIntervalMs) return;
      lastSent = now;
      void connection.sendNotification(answerProgressNotification, { askId: params.askId, text } satisfies AnswerProgressParams);
    };
    try {
      const options = { maxTokens: answerMaxTokens, temperature: 0, topP: 1, seed: 0, stop: question.stop };
      // The question's own tokens count as queries too: what it asks about is evidence, even when the answer is weak.
      const evidence = settings.evidenceEnabled ? { heads: 'retrieval' as const, fromPart: prompt.length - question.parts.length + question.askedPart } : undefined;
      const result = await this.engine.generate(prompt, maxPromptTokens, options, token, evidence, progress);
      const answer = result.text.trim();
      void connection.sendNotification(answerProgressNotification, { askId: params.askId, text: answer } satisfies AnswerProgressParams);
      this.log(
        `answer: prompt ${result.promptTokens} tokens (${result.reusedTokens} reused), ${workspace.files} workspace files, ${result.tokens.length} tokens in ${result.totalMs.toFixed(0)} ms, ${result.stopReason}`,
      );
      let report = null;
      if (result.evidence) {
        // Only the workspace's files are places: the question's own file name is not one, even where the workspace has a file of that name.
        const questionStart = prompt.length - question.parts.length;
        const sources = partSources(prompt.slice(0, questionStart), (p) => workspace.uriOfPath.get(p));
        const asked = params.kind === 'workspace' ? await this.lessNeutral(result.evidence, prompt.slice(0, questionStart), maxPromptTokens, framing, token) : undefined;
        report = buildReport(asked?.evidence ?? result.evidence, sources, undefined, {
          id: this.evidence.newId('answer'),
          kind: 'answer',
          text: answer,
          ...(active ? { uri: active.uri, line: params.selection?.startLine ?? 0, character: params.selection?.startCharacter ?? 0 } : {}),
          promptTokens: result.promptTokens,
          generatedTokens: result.tokens.length,
          totalMs: result.totalMs,
          ...(asked ? { questionBaseline: neutralQuestion } : {}),
        });
        this.evidence.record(report);
      }
      return { answer, framing: question.framing, stopReason: result.stopReason, evidence: report };
    } catch (error) {
      if (error instanceof JobFailedError && error.cancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
      throw new ResponseError(ErrorCodes.InternalError, `Heed could not answer: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * A workspace question's own lines less those of a question that names nothing, asked
   * over the same workspace part (cached: one short pass; neutralQuestion.ts says why).
   * Undefined when the evidence has no question lines, or the neutral question fails (the
   * question's lines then stand as they are; a cancellation still cancels).
   */
  private async lessNeutral(
    evidence: PromptEvidence,
    workspacePrompt: PromptParts,
    maxPromptTokens: number,
    framing: AskFraming,
    token: CancellationToken,
  ): Promise<{ evidence: PromptEvidence } | undefined> {
    const model = this.engine.loadedModel;
    if (!evidence.promptLines || !model) return undefined;
    const neutral = neutralQuestionJob(workspacePrompt, framing, model.special);
    try {
      const baseline = await this.engine.generate(neutral.parts, maxPromptTokens, neutral.options, token, neutral.evidence);
      this.log(`neutral question: ${baseline.promptTokens} tokens (${baseline.reusedTokens} reused) in ${baseline.totalMs.toFixed(0)} ms`);
      if (!baseline.evidence?.promptLines) return undefined;
      return { evidence: { ...evidence, promptLines: contrastLines(evidence.promptLines, baseline.evidence.promptLines, workspacePrompt.length) } };
    } catch (error) {
      if (error instanceof JobFailedError && error.cancelled) throw error;
      this.log(`the neutral question failed, so the question's lines stand as they are: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }
}
