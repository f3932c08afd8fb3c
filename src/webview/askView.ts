// The "Heed: Ask" panel's static body and the turn snapshots the extension posts to it.
// media/ask.js builds each turn from a snapshot with textContent only, so model text and
// file lines never become markup. Pure, so tests can check both.

import type { AskResult, EvidenceReport } from '../../server/protocol';
import { escapeHtml, lineRangeLabel } from './html';
import { rankedSpans } from './evidenceHtml';
import { maxQuestionChars } from './messages';

/** One evidence span as the ask panel lists it: a clickable location with its lines. */
export interface LocationView {
  uri: string;
  /** 0-based line the click opens. */
  line: number;
  label: string;
  /** The span's share of attention relative to the best span, 0..1, for the score bar. */
  relativeScore: number;
  text: string;
}

export type TurnStatus = 'running' | 'done' | 'failed' | 'cancelled';

/** Everything the panel shows of one question; posted whole on each change, so a reloaded panel can be rebuilt. */
export interface TurnView {
  askId: string;
  question: string;
  status: TurnStatus;
  /** The answer so far while running, the whole answer when done. */
  answer: string;
  /** What was asked of the model (AskResult.framing), once done. */
  framing?: string;
  stopReason?: string;
  error?: string;
  /** The answer's evidence, question and answer together; null: done, and the server returned no evidence. */
  locations?: LocationView[] | null;
  /** Where the question points: the spans its own tokens attended to, before the answer (EvidenceReport.questionSpans); absent without them. */
  questionLocations?: LocationView[];
  /** EvidenceReport.questionBaseline: the question that names nothing whose attention the question's locations are less of. */
  questionBaseline?: string;
}

/** Posted by the extension to media/ask.js. */
export type AskPanelUpdate = { type: 'reset' } | { type: 'turn'; turn: TurnView } | { type: 'busy'; busy: boolean };

/** The evidence spans as locations, best first. */
export function locationsOf(report: EvidenceReport): LocationView[] {
  return spanLocations(report.spans);
}

/** Spans as locations, best first, bars relative to the best. */
export function spanLocations(evidenceSpans: EvidenceReport['spans']): LocationView[] {
  const spans = rankedSpans(evidenceSpans);
  const top = spans.length > 0 ? spans[0].score : 0;
  return spans.map((span) => ({
    uri: span.uri,
    line: span.startLine,
    label: lineRangeLabel(span.path, span.startLine, span.endLine),
    relativeScore: top > 0 ? span.score / top : 0,
    text: span.lines.map((line) => line.text).join('\n'),
  }));
}

export function doneTurn(askId: string, question: string, result: AskResult): TurnView {
  return {
    askId,
    question,
    status: 'done',
    answer: result.answer,
    framing: result.framing,
    stopReason: result.stopReason,
    locations: result.evidence ? locationsOf(result.evidence) : null,
    ...(result.evidence?.questionSpans ? { questionLocations: spanLocations(result.evidence.questionSpans) } : {}),
    ...(result.evidence?.questionBaseline ? { questionBaseline: result.evidence.questionBaseline } : {}),
  };
}

/** The panel's fixed markup; turns are added by media/ask.js. */
export function askBody(): string {
  return `<main>
<section id="conversation" aria-live="polite"></section>
<p id="empty" class="empty">Ask from the command palette ("Heed: Ask About the Workspace", "Heed: Explain Selection") or below.</p>
</main>
<form id="ask-form">
<label for="question">${escapeHtml('Follow-up question')}</label>
<textarea id="question" rows="2" maxlength="${maxQuestionChars}" placeholder="${escapeHtml('Ask a follow-up; earlier questions and answers go with it')}"></textarea>
<div class="buttons">
<button type="submit" id="ask">Ask</button>
<button type="button" id="cancel" hidden>Cancel</button>
</div>
</form>`;
}
