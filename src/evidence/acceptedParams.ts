// Reads the heed.completionAccepted command off inline completion items and checks its
// argument. Pure (no 'vscode' import): the items are typed by the fields read.

import { completionAcceptedCommand, type CompletionAcceptedParams } from '../../server/protocol';

interface ItemWithCommand {
  command?: { command: string; arguments?: unknown[] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The command's one argument when it has the contract's shape; undefined otherwise. */
export function parseAcceptedParams(value: unknown): CompletionAcceptedParams | undefined {
  if (!isRecord(value)) return undefined;
  const { id, uri, line, character, text } = value;
  if (typeof id !== 'string' || id.length === 0 || typeof uri !== 'string' || typeof text !== 'string') return undefined;
  if (!Number.isSafeInteger(line) || !Number.isSafeInteger(character)) return undefined;
  return { id, uri, line: line as number, character: character as number, text };
}

/** The evidence id of the first item carrying Heed's accepted command: the one VS Code shows as ghost text. */
export function evidenceIdOf(items: readonly ItemWithCommand[]): string | undefined {
  const first = items[0]?.command;
  if (!first || first.command !== completionAcceptedCommand) return undefined;
  return parseAcceptedParams(first.arguments?.[0])?.id;
}
