// answers.mjs: reading a model's free answer as a task's answer: which label
// it names, which count, which multiple-choice option. An answer that cannot
// be read returns null and is counted as unmapped in the results (and as
// wrong in accuracy), never guessed.

const words = (s) => ` ${String(s ?? '').toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9]+/g, ' ').trim()} `;

// The phrases that name a label: its name, its id with separators as spaces,
// its answer text and synonyms, each also with a plural 's' added or removed.
function phrases(label) {
  const base = [label.name, label.id, label.answer, ...(label.synonyms ?? [])]
    .filter(Boolean).map((p) => words(p).trim()).filter(Boolean);
  const out = new Set();
  for (const p of base) { out.add(p); out.add(p.endsWith('s') ? p.slice(0, -1) : `${p}s`); }
  return [...out].filter((p) => p.length > 1);
}

// labels: [{id, name, answer?, synonyms?}] -> {id, matched} or {id: null, why}.
// Every phrase found as whole words counts; a match inside a longer match (the
// "polyps" of "dyed lifted polyps") is dropped; the earliest remaining match
// wins, the longer one on a tie.
export function labelFromAnswer(answer, labels) {
  const text = words(answer);
  if (!text.trim()) return { id: null, why: 'empty answer' };
  const matches = [];
  for (const l of labels) {
    for (const p of phrases(l)) {
      let from = 0, at;
      while ((at = text.indexOf(` ${p} `, from)) >= 0) {
        matches.push({ id: l.id, start: at, end: at + p.length + 1, phrase: p });
        from = at + 1;
      }
    }
  }
  const kept = matches.filter((m) => !matches.some((o) => o !== m && o.id !== m.id && o.start <= m.start && o.end >= m.end && o.end - o.start > m.end - m.start));
  if (!kept.length) return { id: null, why: 'names no label' };
  kept.sort((a, b) => a.start - b.start || (b.end - b.start) - (a.end - a.start));
  return { id: kept[0].id, matched: kept[0].phrase };
}

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

// A multiple-choice answer -> option letter or null, in the spirit of
// VLMEvalKit's can_infer: a lone letter ("B", "(B)", "B.", "Answer: B"), else
// the only option letter standing alone in the answer, else the only option
// whose text appears in it.
export function optionFromAnswer(answer, options) {
  const letters = Object.keys(options);
  const s = String(answer ?? '').trim();
  const lead = /^(?:the\s+)?(?:correct\s+)?(?:answer|option)?\s*(?:is)?\s*[:：]?\s*\(?([A-J])\)?(?:[.):：,\s]|$)/i.exec(s);
  if (lead && letters.includes(lead[1].toUpperCase()) && (lead[1] === lead[1].toUpperCase() || s.length <= 3)) return lead[1].toUpperCase();
  const alone = letters.filter((l) => new RegExp(`(^|[^A-Za-z])${l}([^A-Za-z]|$)`).test(s));
  if (alone.length === 1) return alone[0];
  const text = words(s);
  const byText = letters.filter((l) => words(options[l]).trim() && text.includes(words(options[l])));
  if (byText.length === 1) return byText[0];
  return null;
}
