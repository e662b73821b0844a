// Finds where a JSON path (as the engine reports it: `conditions.users.bogus`,
// `grantControls.builtInControls[1]`) sits in JSON text, so the JSON view can point at the
// exact line of a validation error. Runs only on text JSON.parse accepted.

/**
 * Maps every path in `text` to `{ start, end, line }`: for an object member, the span from
 * its key to the end of its value; for an array item, its value. The root is "".
 */
export function locatePaths(text) {
  const spans = new Map();
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i += 1;
  };
  const string = () => {
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i += 1;
    return JSON.parse(text.slice(start, i));
  };
  const value = (path, from) => {
    ws();
    const start = from ?? i;
    const c = text[i];
    if (c === "{") {
      i += 1;
      ws();
      if (text[i] === "}") i += 1;
      else {
        for (;;) {
          ws();
          const keyStart = i;
          const key = string();
          ws();
          i += 1; // ':'
          value(path === "" ? key : `${path}.${key}`, keyStart);
          ws();
          if (text[i] === ",") i += 1;
          else { i += 1; break; }
        }
      }
    } else if (c === "[") {
      i += 1;
      ws();
      if (text[i] === "]") i += 1;
      else {
        for (let n = 0; ; n += 1) {
          value(`${path}[${n}]`);
          ws();
          if (text[i] === ",") i += 1;
          else { i += 1; break; }
        }
      }
    } else if (c === '"') string();
    else while (i < text.length && !",}] \t\r\n".includes(text[i])) i += 1;
    spans.set(path, { start, end: i, line: lineOf(text, start) });
  };
  value("");
  return spans;
}

function lineOf(text, offset) {
  let line = 1;
  for (let k = 0; k < offset; k += 1) if (text.charCodeAt(k) === 10) line += 1;
  return line;
}

/** The span of `path`, or of its nearest existing parent (a missing field's object). */
export function findPath(spans, path) {
  let p = path;
  for (;;) {
    const span = spans.get(p);
    if (span) return { ...span, exact: p === path };
    if (p === "") return undefined;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    p = cut < 0 ? "" : p.slice(0, cut);
  }
}

/**
 * Where JSON text stops being JSON: `{ offset, line, column, message }`, or undefined when
 * it parses. Browsers word JSON.parse errors differently and some give no position, so
 * this small strict parser finds the first bad character itself.
 */
export function syntaxError(text) {
  let i = 0;
  const fail = (message) => {
    const error = new Error(message);
    error.offset = i;
    throw error;
  };
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i += 1;
  };
  const shown = () => (i >= text.length ? "the end of the text" : `\`${text[i]}\``);
  const expect = (c) => {
    ws();
    if (text[i] !== c) fail(`expected \`${c}\`, found ${shown()}`);
    i += 1;
  };
  const string = () => {
    if (text[i] !== '"') fail(`expected a string in double quotes, found ${shown()}`);
    i += 1;
    while (text[i] !== '"') {
      if (i >= text.length || text.charCodeAt(i) < 0x20) fail("unterminated string");
      if (text[i] === "\\") {
        i += 1;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail("bad \\u escape");
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "")) fail(`bad escape \`\\${text[i] ?? ""}\``);
      }
      i += 1;
    }
    i += 1;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === "{") {
      i += 1;
      ws();
      if (text[i] === "}") { i += 1; return; }
      for (;;) {
        ws();
        string();
        expect(":");
        value();
        ws();
        if (text[i] === ",") { i += 1; continue; }
        if (text[i] === "}") { i += 1; return; }
        fail(`expected \`,\` or \`}\`, found ${shown()}`);
      }
    }
    if (c === "[") {
      i += 1;
      ws();
      if (text[i] === "]") { i += 1; return; }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") { i += 1; continue; }
        if (text[i] === "]") { i += 1; return; }
        fail(`expected \`,\` or \`]\`, found ${shown()}`);
      }
    }
    if (c === '"') return string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
    if (!literal) {
      fail(i >= text.length ? "the text ends where a value should be"
        : `unexpected ${shown()}: a value is a string in double quotes, a number, true, false, null, an object or an array`);
    }
    i += literal[0].length;
    return undefined;
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${shown()} after the end of the JSON`);
    return undefined;
  } catch (error) {
    const before = text.slice(0, error.offset);
    return { offset: error.offset, line: before.split("\n").length,
      column: error.offset - before.lastIndexOf("\n"), message: error.message };
  }
}
