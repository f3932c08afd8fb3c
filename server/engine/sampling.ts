// Choosing the next token from logits: greedy, or temperature + nucleus (top-p) sampling
// with a seeded generator so that a run can be repeated exactly.

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** log softmax(logits)[index], computed stably. */
export function logSoftmaxAt(logits: Float32Array, index: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[index] - max - Math.log(sum);
}

export function chooseToken(logits: Float32Array, temperature: number, topP: number, random: () => number): number {
  if (temperature <= 0) return argmax(logits);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    probs[i] = Math.exp((logits[i] - max) / temperature);
    sum += probs[i];
  }
  // Candidates in descending probability until their mass reaches topP. With topP = 1
  // every token is a candidate and the per-token sort of the whole vocabulary is skipped.
  let keep: number[];
  let keptMass = sum;
  if (topP >= 1) {
    keep = Array.from(probs.keys());
  } else {
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
    keep = [];
    keptMass = 0;
    for (const i of order) {
      keep.push(i);
      keptMass += probs[i];
      if (keptMass / sum >= topP) break;
    }
  }
  let threshold = random() * keptMass;
  for (const i of keep) {
    threshold -= probs[i];
    if (threshold <= 0) return i;
  }
  return keep[keep.length - 1];
}
