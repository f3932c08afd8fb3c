// Where a question points, less where any question points. The lines a question's own
// tokens attend to mix what it asks about with what every question attends to: the
// workspace's last file, which ends just before the question (on "Where is NAME defined?"
// over real code it held a third to a half of the top-3 places). Asking once more a
// question that names nothing, over the same workspace, measures the second part; a line
// keeps the share of the question's attention above that baseline's.

import type { EvidenceRequest } from '../../engine/evidence';
import type { PartLineScore } from '../../engine/evidenceLines';
import { defaultGenerateOptions, type GenerateOptions } from '../../engine/generate';
import type { SpecialTokens } from '../../engine/types';
import type { PromptParts } from '../../worker/messages';
import { askPrompt, type AskFraming } from './askPrompt';

/** The question that names nothing: the same form as a "where" question, no subject. */
export const neutralQuestion = 'Where is it defined?';

/**
 * The generation that measures the baseline: the neutral question after `workspacePrompt`
 * (the repo header and workspace part a question gets, so the prefix cache holds it),
 * framed as the question was; one token, for the question's rows' evidence alone.
 */
export function neutralQuestionJob(
  workspacePrompt: PromptParts,
  framing: AskFraming,
  special: SpecialTokens,
): { parts: PromptParts; options: GenerateOptions; evidence: EvidenceRequest } {
  const neutral = askPrompt({ question: neutralQuestion, kind: 'workspace', history: [], ...framing }, special);
  return {
    parts: [...workspacePrompt, ...neutral.parts],
    options: { ...defaultGenerateOptions, maxTokens: 1 },
    evidence: { heads: 'retrieval', fromPart: workspacePrompt.length + neutral.askedPart },
  };
}

/** Each line's share of the attention on the workspace's lines (parts before `questionStart`), summing to 1 over those lines. */
function workspaceShares(lines: readonly PartLineScore[], questionStart: number): Map<string, PartLineScore> {
  let total = 0;
  for (const line of lines) if (line.part < questionStart) total += line.score;
  const shares = new Map<string, PartLineScore>();
  for (const line of lines) if (line.part < questionStart && total > 0) shares.set(`${line.part}:${line.line}`, { ...line, score: line.score / total });
  return shares;
}

/**
 * The question's lines (`question`, promptLines of its evidence) less the neutral
 * question's (`neutral`), each as shares of the workspace's lines (the parts before
 * `questionStart`, which both prompts share): the positive differences, highest first,
 * then by part and line. The question's own parts drop out; they are not places.
 */
export function contrastLines(question: readonly PartLineScore[], neutral: readonly PartLineScore[], questionStart: number): PartLineScore[] {
  const baseline = workspaceShares(neutral, questionStart);
  const lines: PartLineScore[] = [];
  for (const [key, line] of workspaceShares(question, questionStart)) {
    const score = line.score - (baseline.get(key)?.score ?? 0);
    if (score > 0) lines.push({ part: line.part, line: line.line, score });
  }
  return lines.sort((a, b) => b.score - a.score || a.part - b.part || a.line - b.line);
}
