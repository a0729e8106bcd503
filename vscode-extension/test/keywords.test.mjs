// Keeps the TextMate grammar's keywords in sync with the lark grammar (../grammar/dspx.lark).
//
// Keywords of the lark grammar are its double-quoted word literals ("program", "step", ...)
// plus the reserved words its NAME terminal excludes. Keywords of the TextMate grammar are
// the words inside its regex alternation groups, like `\b(maximize|minimize)\b`.
// Every lark keyword must be highlighted; every highlighted word must be a lark keyword or
// be listed in BUILTIN_NAMES below, with the reason it is highlighted although lark parses it
// as a plain NAME.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const larkPath = process.env.DSPX_LARK_GRAMMAR ?? join(here, '..', '..', 'grammar', 'dspx.lark');
const tmPath = join(here, '..', 'syntaxes', 'dspx.tmLanguage.json');

// Names that lark parses as NAME (the checker gives them meaning) but that the editor
// highlights because LANGUAGE.md gives them a fixed meaning. Add a name here only with its category.
const BUILTIN_NAMES = {
  'types (§3)': ['string', 'int', 'float', 'bool', 'list', 'map'],
  'field checks (§3)': ['range', 'len', 'pattern', 'tokens'],
  'module kinds (§4)': ['predict', 'cot', 'pot', 'react'],
  'adapters (§4)': ['chat', 'json', 'markdown'],
  'domain builtin (§5)': ['instructions'],
  'objective metrics (§5)': ['exact_match', 'f1', 'contains', 'numeric_match', 'metric'],
  'measures for objectives and budgets (§5)': ['cost', 'latency', 'tokens'],
  'optimize keys (§5)': ['trainset', 'devset', 'split', 'sampler', 'trials', 'max_spend', 'concurrency', 'seed'],
  'samplers (§5)': ['grid', 'random', 'tpe', 'nsga2', 'cmaes'],
  'compile-time values in sampler conditions (§5)': ['space_size', 'variable_count', 'continuous_count'],
  'duration units, part of the DURATION terminal (§2)': ['ms', 's', 'm'],
};
const allowed = new Set(Object.values(BUILTIN_NAMES).flat());

const WORD = '[A-Za-z_][A-Za-z0-9_]*';

function larkKeywords(source) {
  const code = source
    .split('\n')
    .filter((line) => !/^\s*\/\//.test(line))
    .join('\n');
  const literals = [...code.matchAll(new RegExp(`"(${WORD})"`, 'g'))].map((m) => m[1]);
  const reserved = /^NAME\s*:\s*\/\(\?!\(\?:([\w|]+)\)/m.exec(code);
  assert.ok(reserved, 'the NAME terminal of dspx.lark no longer starts with its reserved-word lookahead');
  return { literals: new Set(literals), reserved: new Set(reserved[1].split('|')) };
}

function textMateWords(grammar) {
  const words = new Set();
  const group = new RegExp(`\\((?:\\?:)?(${WORD}(?:\\|${WORD})*)\\)`, 'g');
  const visit = (node) => {
    if (Array.isArray(node)) {
      node.forEach(visit);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (['match', 'begin', 'end'].includes(key) && typeof value === 'string') {
          for (const m of value.matchAll(group)) {
            m[1].split('|').forEach((word) => words.add(word));
          }
        } else {
          visit(value);
        }
      }
    }
  };
  visit(grammar);
  return words;
}

assert.ok(existsSync(larkPath), `no lark grammar at ${larkPath} (set DSPX_LARK_GRAMMAR to its path)`);
const lark = larkKeywords(readFileSync(larkPath, 'utf8'));
const tm = textMateWords(JSON.parse(readFileSync(tmPath, 'utf8')));
const difference = (a, b) => [...a].filter((x) => !b.has(x)).sort();

test('the lark grammar has keywords to compare (the extraction works)', () => {
  for (const word of ['program', 'signature', 'step', 'objective', 'optimize', 'expect']) {
    assert.ok(lark.literals.has(word), `"${word}" not found among the literals of ${larkPath}`);
  }
  assert.ok(tm.has('program') && tm.has('maximize'), 'no keywords extracted from the TextMate grammar');
});

test('every keyword of the lark grammar is highlighted', () => {
  assert.deepEqual(difference(lark.literals, tm), [], 'lark keywords missing from dspx.tmLanguage.json');
});

test('every reserved word is highlighted', () => {
  assert.deepEqual(difference(lark.reserved, tm), [], 'reserved words missing from dspx.tmLanguage.json');
});

test('every highlighted word is a lark keyword or an allow-listed builtin name', () => {
  const known = new Set([...lark.literals, ...lark.reserved, ...allowed]);
  assert.deepEqual(difference(tm, known), [], 'highlighted but neither a lark keyword nor in BUILTIN_NAMES');
});

test('the allow-list is current: no entry is a lark keyword, every entry is highlighted', () => {
  const promoted = [...allowed].filter((word) => lark.literals.has(word) || lark.reserved.has(word)).sort();
  assert.deepEqual(promoted, [], 'now keywords of the lark grammar: remove them from BUILTIN_NAMES');
  assert.deepEqual(difference(allowed, tm), [], 'in BUILTIN_NAMES but not highlighted by the TextMate grammar');
});
