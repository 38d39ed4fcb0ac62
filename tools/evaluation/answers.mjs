// answers.mjs: the count in a model's free answer. (Labels and option letters
// are read by the metrics core when scoring: src/metrics/answer_mapping.h.)
// An answer without a number returns null and is counted as unmapped in the
// results (and as wrong in accuracy), never guessed.

const words = (s) => ` ${String(s ?? '').toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9]+/g, ' ').trim()} `;

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten',
  'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'];

// The first whole number in the answer (digits or a word up to twenty; "no",
// "none" mean 0), or null.
export function countFromAnswer(answer) {
  const text = words(answer);
  const m = /\s(\d+)\s/.exec(text);
  const tokens = text.trim().split(' ');
  let first = m ? { at: m.index, n: Number(m[1]) } : null;
  let pos = 1;
  for (const t of tokens) {
    const w = NUMBER_WORDS.indexOf(t);
    const n = w >= 0 ? w : t === 'no' || t === 'none' || t === 'zero' ? 0 : null;
    if (n !== null && (!first || pos < first.at)) { first = { at: pos, n }; break; }
    pos += t.length + 1;
  }
  return first ? first.n : null;
}
