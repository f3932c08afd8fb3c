// Evidence in the editor: the reports of recent completions and answers, `heed/evidence`
// for the panel, and a hover over accepted completions (tracked through later edits).

import type { Connection, Hover, HoverParams, ServerCapabilities, TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Feature } from '../feature';
import { completionAcceptedNotification, evidenceRequest, type CompletionAcceptedParams, type EvidenceParams, type EvidenceReport } from '../../protocol';
import { AcceptedRanges } from './acceptedRanges';
import { evidenceHover } from './hoverMarkdown';

/** Reports kept for the panel and hovers: the latest completions and answers. */
const maxReports = 200;

const fenceLanguages: Record<string, string> = { ts: 'typescript', tsx: 'typescript', js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript', py: 'python', json: 'json', md: 'markdown' };
const languageOf = (path: string): string => fenceLanguages[path.slice(path.lastIndexOf('.') + 1)] ?? '';

/**
 * A report held by id: built already, or built once when first read or just after the reply
 * that recorded it, whichever is first (recordAfterReply). `undefined` if building it failed.
 */
type HeldReport = () => EvidenceReport | undefined;

export class EvidenceFeature implements Feature {
  private readonly reports = new Map<string, HeldReport>();
  private latestCompletion: string | undefined;
  private readonly accepted = new AcceptedRanges();
  private nextId = 1;

  constructor(
    private readonly documents: TextDocuments<TextDocument>,
    private readonly log: (line: string) => void,
  ) {}

  initialize(connection: Connection): Partial<ServerCapabilities> {
    connection.onRequest(evidenceRequest, (params: EvidenceParams | undefined) => this.report(params?.id ?? this.acceptedAt(params) ?? this.latestCompletion) ?? null);
    connection.onNotification(completionAcceptedNotification, (params: CompletionAcceptedParams) => this.completionAccepted(params));
    connection.onHover((params) => this.hover(params));
    this.documents.onDidChangeContent(({ document }) => this.accepted.changed(document.uri, document.getText()));
    this.documents.onDidClose(({ document }) => this.accepted.closed(document.uri));
    return { hoverProvider: true };
  }

  newId(kind: EvidenceReport['kind']): string {
    return `${kind}-${this.nextId++}`;
  }

  record(report: EvidenceReport): void {
    this.hold(report.id, report.kind, () => report);
  }

  /**
   * Records the report `build` gives, without building it now: a completion's reply does not
   * wait for its evidence to be mapped to files and lines (about 0.4-0.7 ms at 16k tokens).
   * It is built right after (setImmediate, once the reply is on its way), or when first read
   * if that comes sooner; `build`'s inputs are let go once it has run.
   */
  recordAfterReply(id: string, kind: EvidenceReport['kind'], build: () => EvidenceReport): void {
    let pending: (() => EvidenceReport) | undefined = build;
    let report: EvidenceReport | undefined;
    const held: HeldReport = () => {
      if (pending) {
        const building = pending;
        pending = undefined;
        try {
          report = building();
        } catch (error) {
          this.log(`evidence of ${id} could not be mapped to the workspace: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      return report;
    };
    this.hold(id, kind, held);
    setImmediate(held);
  }

  private hold(id: string, kind: EvidenceReport['kind'], held: HeldReport): void {
    this.reports.set(id, held);
    if (kind === 'completion') this.latestCompletion = id;
    for (const old of this.reports.keys()) {
      if (this.reports.size <= maxReports) break;
      this.reports.delete(old);
    }
  }

  report(id: string | undefined): EvidenceReport | undefined {
    return id === undefined ? undefined : this.reports.get(id)?.();
  }

  /** The id of the accepted completion at a position, if any. */
  private acceptedAt(params: EvidenceParams | undefined): string | undefined {
    const document = params?.uri === undefined ? undefined : this.documents.get(params.uri);
    if (!document || !Number.isInteger(params!.line) || !Number.isInteger(params!.character)) return undefined;
    return this.accepted.at(document.uri, document.offsetAt({ line: params!.line!, character: params!.character! }))?.id;
  }

  private completionAccepted(params: CompletionAcceptedParams): void {
    const document = this.documents.get(params.uri);
    if (!document || !this.reports.has(params.id) || typeof params.text !== 'string') return;
    const offset = document.offsetAt({ line: params.line, character: params.character });
    // The server may hear of the acceptance before or after the edit that inserted it.
    const text = document.getText();
    if (text.startsWith(params.text, offset)) this.accepted.add(params.uri, text, params.id, offset, params.text.length);
    else this.recordWhenInserted(params, offset);
  }

  /** An acceptance heard before the document showed its text: recorded at the document's next change, if that change inserted it. */
  private recordWhenInserted(params: CompletionAcceptedParams, offset: number): void {
    const subscription = this.documents.onDidChangeContent(({ document }) => {
      if (document.uri !== params.uri) return;
      subscription.dispose();
      const text = document.getText();
      if (text.startsWith(params.text, offset)) this.accepted.add(document.uri, text, params.id, offset, params.text.length);
    });
  }

  private hover(params: HoverParams): Hover | null {
    const document = this.documents.get(params.textDocument.uri);
    if (!document) return null;
    const hit = this.accepted.at(document.uri, document.offsetAt(params.position));
    const report = hit && this.report(hit.id);
    if (!hit || !report) return null;
    return {
      contents: { kind: 'markdown', value: evidenceHover(report, languageOf) },
      range: { start: document.positionAt(hit.range.start), end: document.positionAt(hit.range.end) },
    };
  }
}
