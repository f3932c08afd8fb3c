// What Heed's webviews may post to the extension, validated before anything acts on it: a
// webview renders model and file text, so its messages are treated as untrusted input.

/** Longest question the panel's input may send. */
export const maxQuestionChars = 4000;

export interface OpenMessage {
  type: 'open';
  uri: string;
  /** 0-based. */
  line: number;
}

export type EvidencePanelMessage = OpenMessage;

export type AskPanelMessage =
  | OpenMessage
  | { type: 'ready' }
  | { type: 'ask'; question: string }
  | { type: 'cancel' }
  | { type: 'copy'; askId?: string }
  | { type: 'evidence'; askId: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An open request for a URI the panel showed (allowed) and a non-negative integer line; anything else is undefined. */
export function parseOpenMessage(value: unknown, allowedUris: ReadonlySet<string>): OpenMessage | undefined {
  if (!isRecord(value) || value.type !== 'open') return undefined;
  const { uri, line } = value;
  if (typeof uri !== 'string' || !allowedUris.has(uri)) return undefined;
  if (typeof line !== 'number' || !Number.isSafeInteger(line) || line < 0) return undefined;
  return { type: 'open', uri, line };
}

export function parseEvidencePanelMessage(value: unknown, allowedUris: ReadonlySet<string>): EvidencePanelMessage | undefined {
  return parseOpenMessage(value, allowedUris);
}

/** The ask panel's messages; askIds must be ones the panel was given (knownAskIds). */
export function parseAskPanelMessage(value: unknown, allowedUris: ReadonlySet<string>, knownAskIds: ReadonlySet<string>): AskPanelMessage | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case 'open':
      return parseOpenMessage(value, allowedUris);
    case 'ready':
      return { type: 'ready' };
    case 'cancel':
      return { type: 'cancel' };
    case 'ask': {
      const question = typeof value.question === 'string' ? value.question.trim() : '';
      return question.length > 0 && question.length <= maxQuestionChars ? { type: 'ask', question } : undefined;
    }
    case 'copy':
      if (value.askId === undefined) return { type: 'copy' };
      return typeof value.askId === 'string' && knownAskIds.has(value.askId) ? { type: 'copy', askId: value.askId } : undefined;
    case 'evidence':
      return typeof value.askId === 'string' && knownAskIds.has(value.askId) ? { type: 'evidence', askId: value.askId } : undefined;
    default:
      return undefined;
  }
}
