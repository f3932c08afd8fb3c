// The prompt of a question. It starts with the same workspace part a completion in the
// active file gets, so the worker finds that part in its prefix cache and computes only
// the question. With a ChatML chat template (Qwen's instruct models) the question is a
// user turn; a base code model (the embedded one) gets it as code: a comment to complete
// in a new file of the active file's language, or, to explain a selection, the selected
// code followed by a comment that starts its explanation.
//
// What is asked ends the prompt as a part of its own (`askedPart`): the question (with the
// selection it is about), after any framing and earlier turns. Evidence counts that part's
// tokens as queries, so the lines the model attended to while reading the question come
// from the question itself, not from the framing's boilerplate.

import type { SpecialTokens } from '../../engine/types';
import type { PromptParts } from '../../worker/messages';

export interface AskPromptInput {
  question: string;
  kind: 'workspace' | 'selection';
  /** The selected code and its file's path, for kind "selection". */
  selection?: { path: string; text: string };
  /** The active file's path: its extension chooses the comment syntax. */
  activePath?: string;
  history: Array<{ question: string; answer: string }>;
  chatFormat?: 'chatml';
  /** The model has a chat template, in a format Heed does not write (not ChatML): said in the framing. */
  otherChatTemplate?: boolean;
}

/** How a question is framed besides its text: the same for a question and the neutral question asked beside it. */
export type AskFraming = Pick<AskPromptInput, 'activePath' | 'chatFormat' | 'otherChatTemplate'>;

export interface AskPrompt {
  /** The parts after the workspace part. */
  parts: PromptParts;
  /** Index in `parts` of the part that holds what is asked (the last part): the question, and for an explanation the selected code before it. */
  askedPart: number;
  /** What was asked of the model, in words and in the text it saw, for the panel. */
  framing: string;
  stop: string[];
}

interface CommentStyle {
  line: string;
  extension: string;
}

const hashComment = new Set(['py', 'sh', 'rb', 'pl', 'r', 'yaml', 'yml', 'toml']);

function commentStyleOf(path: string | undefined): CommentStyle {
  const extension = path?.includes('.') ? path.slice(path.lastIndexOf('.') + 1).toLowerCase() : 'ts';
  return hashComment.has(extension) ? { line: '#', extension } : { line: '//', extension: /^[a-z0-9]{1,5}$/.test(extension) ? extension : 'ts' };
}

/** Text as comment lines: every line of it prefixed, so that nothing in it ends the comment. */
function asComment(text: string, style: CommentStyle, label: string): string {
  const lines = text.trim().split(/\r?\n/);
  return lines.map((line, i) => `${style.line} ${i === 0 ? label : ' '.repeat(label.length)}${line}`.trimEnd()).join('\n');
}

export function askPrompt(input: AskPromptInput, special: SpecialTokens): AskPrompt {
  if (input.chatFormat === 'chatml') return chatPrompt(input);
  const style = commentStyleOf(input.selection?.path ?? input.activePath);
  const turns = input.history.map((turn) => `${asComment(turn.question, style, 'Q: ')}\n${asComment(turn.answer, style, 'A: ')}\n`).join('');
  const question = `${asComment(input.question, style, 'Q: ')}\n${style.line} A:`;
  // Earlier turns come before what is asked now, so that what is asked ends the prompt.
  let lead: string;
  let asked: string;
  let path: string;
  if (input.kind === 'selection' && input.selection) {
    path = input.selection.path;
    lead = turns ? `${turns}\n` : '';
    asked = `${input.selection.text.replace(/\s+$/, '')}\n\n${question}`;
  } else {
    path = `questions.${style.extension}`;
    lead = `${style.line} Questions about this repository, answered by its maintainers.\n\n${turns}`;
    asked = question;
  }
  const body = lead + asked;
  const fileStart: PromptParts = special.fileSep !== undefined ? [{ special: 'fileSep' }, { text: `${path}\n` }] : [{ text: '\n' }];
  const parts: PromptParts = [...fileStart, ...(lead ? [{ text: lead }] : []), { text: asked }];
  return {
    parts,
    askedPart: parts.length - 1,
    framing: `${input.otherChatTemplate ? "The model's chat template is not ChatML, the one chat format Heed writes" : 'A base code model has no chat'}: the question was put to it as a comment to complete, after the workspace files, in a file named ${path}:\n\n${body}`,
    // The answer is the rest of the comment: it ends where the comment does.
    stop: ['\n\n', `\n${style.line} Q:`],
  };
}

function chatPrompt(input: AskPromptInput): AskPrompt {
  const turn = (role: string, text: string) => `<|im_start|>${role}\n${text}<|im_end|>\n`;
  const question = input.kind === 'selection' && input.selection ? `${input.question}\n\n\`\`\`\n${input.selection.text}\n\`\`\`\n(from ${input.selection.path})` : input.question;
  const lead = ['\n', turn('system', 'You answer questions about the repository above. Name files and lines when they matter.'), ...input.history.flatMap((h) => [turn('user', h.question), turn('assistant', h.answer)])].join('');
  const asked = `${turn('user', question)}<|im_start|>assistant\n`;
  return { parts: [{ text: lead }, { text: asked }], askedPart: 1, framing: `Chat (the model's ChatML template), after the workspace files:\n\n${lead.slice(1)}${asked}`, stop: ['<|im_end|>'] };
}
