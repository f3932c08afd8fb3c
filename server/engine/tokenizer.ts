// Wraps @huggingface/tokenizers around a model folder's tokenizer.json.
//
// Special-token text typed by a user (say a file that contains "<|endoftext|>") must encode
// as ordinary text, or a workspace file could end a prompt or forge a file separator. The
// library always splits on every added token and has no `split_special_tokens` option, so
// user text goes through a second tokenizer built from the same JSON without the special
// added tokens: their text then falls through to the byte-level BPE like any other text.
// Decoding uses the full tokenizer so that special ids still print as their names.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Tokenizer as HfTokenizerClass } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };
import { ModelLoadError, SpecialTokens, Tokenizer } from './types';

/** Qwen2.5-Coder's special-token names; the embedded model uses the same ones. */
export const specialTokenNames = {
  endOfText: '<|endoftext|>',
  fimPrefix: '<|fim_prefix|>',
  fimMiddle: '<|fim_middle|>',
  fimSuffix: '<|fim_suffix|>',
  fimPad: '<|fim_pad|>',
  fileSep: '<|file_sep|>',
  repoName: '<|repo_name|>',
} as const;

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

// The package is an ES module with a CommonJS build (its "node.require" export); our bundles
// are CommonJS, so load that build with require and borrow only the types from the ESM side.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer: HfTokenizer } = require('@huggingface/tokenizers') as { Tokenizer: typeof HfTokenizerClass };
type HfTokenizer = HfTokenizerClass;

function readJson(dir: string, file: string, required: boolean): Record<string, unknown> | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) {
    if (required) throw new ModelLoadError(file, 'missing');
    return undefined;
  }
  try {
    const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (e) {
    throw new ModelLoadError(file, `cannot parse (${(e as Error).message})`);
  }
}

export function loadTokenizer(dir: string): Tokenizer {
  const tokenizerJson = readJson(dir, 'tokenizer.json', true)!;
  const tokenizerConfig = readJson(dir, 'tokenizer_config.json', false) ?? {};
  const generationConfig = readJson(dir, 'generation_config.json', false);
  const addedTokens = (tokenizerJson.added_tokens ?? []) as AddedTokenJson[];
  if (!Array.isArray(addedTokens)) throw new ModelLoadError('tokenizer.json', '"added_tokens" is not a list');

  let full: HfTokenizer;
  let plain: HfTokenizer;
  try {
    full = new HfTokenizer(tokenizerJson, tokenizerConfig);
    plain = new HfTokenizer({ ...tokenizerJson, added_tokens: addedTokens.filter((t) => !t.special) }, tokenizerConfig);
  } catch (e) {
    throw new ModelLoadError('tokenizer.json', `cannot build the tokenizer (${(e as Error).message})`);
  }

  const idOf = (content: string): number | undefined => addedTokens.find((t) => t.content === content)?.id ?? full.token_to_id(content);
  const special: SpecialTokens = { eos: [] };
  for (const [key, name] of Object.entries(specialTokenNames) as Array<[keyof typeof specialTokenNames, string]>) {
    special[key] = idOf(name);
  }
  const eos = new Set<number>();
  const configured = generationConfig?.eos_token_id;
  for (const id of Array.isArray(configured) ? configured : configured === undefined ? [] : [configured]) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new ModelLoadError('generation_config.json', `eos_token_id ${JSON.stringify(configured)} is not a token id or list of them`);
    }
    eos.add(id);
  }
  if (special.endOfText !== undefined) eos.add(special.endOfText);
  special.eos = [...eos].sort((a, b) => a - b);

  // A string, or (newer checkpoints) a list of named templates of which "default" is used.
  const template = tokenizerConfig.chat_template;
  const chatTemplate =
    typeof template === 'string'
      ? template
      : Array.isArray(template)
        ? (template as Array<{ name?: unknown; template?: unknown }>).find((t) => t.name === 'default' && typeof t.template === 'string')?.template
        : undefined;

  const fimOrder = tokenizerConfig.fim_order ?? 'psm';
  if (fimOrder !== 'psm' && fimOrder !== 'spm') throw new ModelLoadError('tokenizer_config.json', `"fim_order" must be "psm" or "spm", got ${JSON.stringify(fimOrder)}`);

  return {
    special,
    fimOrder,
    ...(typeof chatTemplate === 'string' ? { chatTemplate } : {}),
    // add_special_tokens: false keeps post-processors from adding BOS/EOS around user text.
    encode: (text) => (text.length === 0 ? [] : plain.encode(text, { add_special_tokens: false }).ids),
    // clean_up_tokenization_spaces would rewrite " ." as "." and break exact round trips.
    decode: (ids) => (ids.length === 0 ? '' : full.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false })),
  };
}
