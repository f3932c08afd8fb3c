// Post-processing of a raw model completion: a chain of small pure filters, each of which
// may change the text or drop the completion (undefined). Order matters and is fixed in
// `postProcess`.

export interface FilterContext {
  /** Text of the current line before the cursor. */
  linePrefix: string;
  /** Text of the current line after the cursor. */
  lineSuffix: string;
}

export type Filter = (text: string, context: FilterContext) => string | undefined;

/** Single-line completions: everything from the first line break on is dropped. */
export const firstLineOnly: Filter = (text) => {
  const br = text.search(/\r?\n/);
  return br < 0 ? text : text.slice(0, br);
};

export const trimTrailingWhitespace: Filter = (text) => text.replace(/[ \t]+$/, '');

/** A completion made only of whitespace shows nothing useful. */
export const dropBlank: Filter = (text) => (text.trim().length === 0 ? undefined : text);

/**
 * Degenerate loops ("foo foo foo foo"): when the text ends with one unit of up to 16
 * characters repeated three or more times, the repeats after the first are cut.
 */
export const cutRepeatedTail: Filter = (text) => {
  for (let unit = 1; unit <= 16 && unit * 3 <= text.length; unit++) {
    const tail = text.slice(text.length - unit);
    let repeats = 1;
    while (repeats * unit + unit <= text.length && text.slice(text.length - (repeats + 1) * unit, text.length - repeats * unit) === tail) repeats++;
    if (repeats >= 3) return text.slice(0, text.length - (repeats - 1) * unit);
  }
  return text;
};

/** Nothing to add when the completion only retypes what already follows the cursor. */
export const dropWhenSuffixAlreadyThere: Filter = (text, { lineSuffix }) =>
  lineSuffix.trim().length > 0 && lineSuffix.trimEnd().startsWith(text.trimEnd()) ? undefined : text;

export const defaultFilters: Filter[] = [firstLineOnly, cutRepeatedTail, trimTrailingWhitespace, dropBlank, dropWhenSuffixAlreadyThere];

export function postProcess(text: string, context: FilterContext, filters: Filter[] = defaultFilters): string | undefined {
  let current: string | undefined = text;
  for (const filter of filters) {
    if (current === undefined) return undefined;
    current = filter(current, context);
  }
  return current;
}
