// The longest functions in the page's JavaScript (www/**/*.js and the <script> blocks of
// www/*.html are not included), counted in lines from the header to the closing brace.
// Issue 23 holds every JS function to 60 lines at most:
//   node tests/browser/js_function_lengths.mjs [--max 60] [--top 10] [files...]
// prints the longest (all files under www/ by default) and exits 1 if one is over --max.
// A small scanner, not a parser: it skips strings, template literals, comments and regular
// expressions, and takes a `{` as a function body when it follows `=>`, or a `)` whose
// `(` does not belong to if/for/while/switch/catch (or a class's `extends (...)`).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WWW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../www');
const NOT_FUNCTIONS = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'extends']);

/** The source with strings, template text, comments and regexes blanked (newlines kept). */
function blank(source) {
  let out = '';
  let i = 0;
  const templates = [];  // brace depth inside each open template's `${`
  const keep = (s) => s.replace(/[^\n]/g, ' ');
  const regexAllowed = () => /(^|[=(,:;!&|?{}[+\-*%~^<>]|\breturn|\btypeof)\s*$/.test(out);
  while (i < source.length) {
    const c = source[i], next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      out += keep(source.slice(i, stop)); i = stop;
    } else if (c === '/' && next === '*') {
      const stop = source.indexOf('*/', i + 2) + 2;
      out += keep(source.slice(i, stop)); i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      out += keep(source.slice(i, j + 1)); i = j + 1;
    } else if (c === '`' || (c === '}' && templates.at(-1) === 0)) {
      if (c === '}') templates.pop();
      let j = i + 1;
      while (source[j] !== '`' && !(source[j] === '$' && source[j + 1] === '{')) j += source[j] === '\\' ? 2 : 1;
      out += keep(source.slice(i, j));
      if (source[j] === '`') { out += ' '; i = j + 1; } else { out += '  '; templates.push(0); i = j + 2; }
    } else if (c === '/' && regexAllowed()) {
      let j = i + 1, inClass = false;
      while (source[j] !== '/' || inClass) {
        if (source[j] === '\\') j++;
        else if (source[j] === '[') inClass = true;
        else if (source[j] === ']') inClass = false;
        j++;
      }
      out += keep(source.slice(i, j + 1)); i = j + 1;
    } else {
      if (templates.length && c === '{') templates[templates.length - 1]++;
      if (templates.length && c === '}') templates[templates.length - 1]--;
      out += c; i++;
    }
  }
  return out;
}

/** [{ name, line, lines }] for every function body in `source`. */
export function functionLengths(source) {
  const code = blank(source);
  const lineAt = (index) => code.slice(0, index).split('\n').length;
  const found = [];
  const stack = [];
  for (let i = 0; i < code.length; i++) {
    if (code[i] === '{') {
      stack.push({ at: i, header: functionHeader(code, i) });
    } else if (code[i] === '}') {
      const open = stack.pop();
      if (open?.header) {
        const line = lineAt(open.header.at);
        found.push({ name: open.header.name, line, lines: lineAt(i) - line + 1 });
      }
    }
  }
  return found;
}

/** The header of the function whose body opens at `brace`, or null if it is not one. */
function functionHeader(code, brace) {
  let j = brace - 1;
  while (/\s/.test(code[j])) j--;
  if (code[j] === '>' && code[j - 1] === '=') {
    // An arrow function: its header starts at its parameters (or its one parameter).
    j -= 2;
    while (/\s/.test(code[j])) j--;
    const start = code[j] === ')' ? matching(code, j) : j - (code.slice(0, j + 1).match(/[\w$]+$/)?.[0].length ?? 1) + 1;
    const before = code.slice(0, start).match(/([\w$.]+)\s*[=:]\s*(async\s*)?$/);
    return { at: lineStart(code, start), name: before ? before[1] : '(arrow)' };
  }
  if (code[j] !== ')') return null;
  const open = matching(code, j);
  const word = code.slice(0, open).match(/([\w$]+)\s*$/)?.[1];
  if (!word || NOT_FUNCTIONS.has(word)) return null;
  return { at: lineStart(code, open), name: word };
}

function matching(code, close) {
  let depth = 0;
  for (let k = close; k >= 0; k--) {
    if (code[k] === ')') depth++;
    if (code[k] === '(' && --depth === 0) return k;
  }
  return 0;
}

function lineStart(code, index) { return code.lastIndexOf('\n', index) + 1; }

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return /^pkg/.test(e.name) || e.name === 'models' ? [] : jsFiles(full);
    return e.name.endsWith('.js') ? [full] : [];
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const at = args.indexOf(name);
    return at < 0 ? fallback : Number(args.splice(at, 2)[1]);
  };
  const max = option('--max', 60);
  const top = option('--top', 10);
  const files = args.length ? args : jsFiles(WWW);
  const all = files.flatMap((file) => functionLengths(readFileSync(file, 'utf8'))
    .map((f) => ({ ...f, file: path.relative(process.cwd(), file) })));
  all.sort((a, b) => b.lines - a.lines);
  for (const f of all.slice(0, top)) console.log(`${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.name}`);
  const over = all.filter((f) => f.lines > max);
  console.log(`${all.length} functions in ${files.length} files; ${over.length} over ${max} lines`);
  process.exitCode = over.length ? 1 : 0;
}
