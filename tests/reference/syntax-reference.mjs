// Syntax probing (docs/heads.md, "Syntactic heads") written again from its
// definition in float64, independently of wasm/core/syntax.cpp: token tags
// from the vocabulary's bytes, pair masses, and the chance of each head's
// positional profile. The engine's syntaxProbe and `headlight syntax` are
// checked against it.

// GPT-2's printable stand-ins for bytes (bytes_to_unicode): code point -> byte.
function byteOfSymbol() {
  const bytes = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const symbols = [...bytes];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      symbols.push(256 + extra++);
    }
  }
  return new Map(symbols.map((s, i) => [String.fromCodePoint(s), bytes[i]]));
}

// vocab.json text -> (V) the byte length of each token id.
export function tokenByteLengths(vocabJson) {
  const vocab = JSON.parse(vocabJson);
  const symbols = byteOfSymbol();
  const lengths = [];
  for (const [token, id] of Object.entries(vocab)) {
    let n = 0;
    for (const ch of token) {
      if (!symbols.has(ch)) throw new Error(`reference: ${JSON.stringify(token)} is not byte symbols`);
      n += 1;
    }
    lengths[id] = n;
  }
  return lengths;
}

// The tag of each token of a probe sentence ({text, words: [[start, end,
// tag]]}, byte offsets): the word holding the token's first byte that is not
// a space; -1 for a token of spaces only.
export function referenceTokenTags(byteLengths, ids, sentence) {
  const bytes = Buffer.from(sentence.text, 'utf8');
  const tags = [];
  let at = 0;
  for (const id of ids) {
    const end = Math.min(bytes.length, at + byteLengths[id]);
    let tag = -1;
    for (let b = at; b < end; b++) {
      if (bytes[b] === 0x20 || bytes[b] === 0x09 || bytes[b] === 0x0a) continue;
      const word = sentence.words.find(([s, e]) => s <= b && b < e);
      tag = word ? word[2] : -1;
      break;
    }
    tags.push(tag);
    at = end;
  }
  return tags;
}

// sentences: [{ attn: (L, H, T, T) numbers, tags: (T) }]. Returns queries
// (G), share and chanceShare (L * H * G * G): mass and chance over the
// queries of the query tag, chance from the profile P[q][k] = mean of
// A[q][k] over the sentences longer than q.
export function referenceSyntax(sentences, L, H, G) {
  const maxT = Math.max(...sentences.map((s) => s.tags.length));
  const queries = new Array(G).fill(0);
  for (const { tags } of sentences) for (let q = 1; q < tags.length; q++) if (tags[q] >= 0) queries[tags[q]]++;
  const share = new Float64Array(L * H * G * G);
  const chanceShare = new Float64Array(L * H * G * G);
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const A = (s, q, k) => s.attn[(((l * H + h) * s.tags.length) + q) * s.tags.length + k];
      const profile = [];
      for (let q = 0; q < maxT; q++) {
        const longer = sentences.filter((s) => s.tags.length > q);
        profile.push(Array.from({ length: q + 1 }, (_, k) =>
          longer.reduce((sum, s) => sum + A(s, q, k), 0) / longer.length));
      }
      const base = (l * H + h) * G * G;
      for (const s of sentences) {
        for (let q = 1; q < s.tags.length; q++) {
          const a = s.tags[q];
          if (a < 0) continue;
          for (let k = 0; k <= q; k++) {
            const b = s.tags[k];
            if (b < 0) continue;
            share[base + a * G + b] += A(s, q, k) / queries[a];
            chanceShare[base + a * G + b] += profile[q][k] / queries[a];
          }
        }
      }
    }
  }
  return { queries, share, chanceShare };
}
