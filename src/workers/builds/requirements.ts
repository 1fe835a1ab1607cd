/**
 * What an agent's requirements.txt may ask for, parsed strictly: each line is a PEP 508
 * requirement made of a name, optional extras, optional version specifiers and an optional
 * environment marker (`numpy==1.26.4`, `torch>=2,<3; python_version >= "3.10"`). Nothing else:
 * no pip options (`--global-option`, `--index-url`, anywhere on the line, also after a marker),
 * no `-r`/`-c` files, no `-e`, no URLs or direct references, no local paths, no line continuations.
 * Any of those could point pip at code of the upload's choosing, or make it build an sdist (run
 * its setup code) on the build machine.
 *
 * The build then hands pip not the uploaded text but the requirements re-written from what was
 * parsed (`canonical`), so pip reads exactly what was checked. Every bad line is reported with its
 * number and the rule it breaks.
 */
export interface RequirementProblem {
  line: number;
  rule: string;
  text: string;
}

export type RequirementsCheck = { ok: true; requirements: string[] } | { ok: false; problems: RequirementProblem[]; problem: string };

export const REQUIREMENT_RULES = {
  option: 'pip options are not allowed',
  requirementFile: 'requirement and constraint files (-r, -c) are not allowed',
  editable: 'editable installs (-e) are not allowed',
  url: 'URLs and direct references are not allowed',
  path: 'local paths are not allowed',
  continuation: 'line continuations are not allowed',
  grammar: 'not a requirement (only a name, extras, version specifiers and an environment marker are allowed)',
} as const;

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
const VERSION_OPERATOR = /^(?:===|~=|==|!=|<=|>=|<|>)/;
/** PEP 440 versions, with `.*` prefixes and local labels; nothing a shell or pip could read as more. */
const VERSION = /^[A-Za-z0-9_.*+!-]+/;
const MARKER_VARIABLES = new Set([
  'python_version',
  'python_full_version',
  'os_name',
  'sys_platform',
  'platform_release',
  'platform_system',
  'platform_version',
  'platform_machine',
  'platform_python_implementation',
  'implementation_name',
  'implementation_version',
  'extra',
]);
const MARKER_STRING = /^(?:"[A-Za-z0-9 ._*+!<>=~,:()-]*"|'[A-Za-z0-9 ._*+!<>=~,:()-]*')/;
const MARKER_OPERATOR = /^(?:===|~=|==|!=|<=|>=|<|>|not\s+in\b|in\b)/;

class Cursor {
  constructor(
    private readonly text: string,
    public at = 0,
  ) {}

  skipSpaces(): void {
    while (this.at < this.text.length && (this.text[this.at] === ' ' || this.text[this.at] === '\t')) this.at += 1;
  }

  take(pattern: RegExp): string | null {
    this.skipSpaces();
    const match = pattern.exec(this.text.slice(this.at));
    if (!match) return null;
    this.at += match[0].length;
    return match[0];
  }

  takeLiteral(literal: string): boolean {
    this.skipSpaces();
    if (!this.text.startsWith(literal, this.at)) return false;
    this.at += literal.length;
    return true;
  }

  atEnd(): boolean {
    this.skipSpaces();
    return this.at >= this.text.length;
  }
}

/** `spec (',' spec)*`, each an operator and a version; null when malformed. */
function parseSpecifiers(cursor: Cursor): string[] | null {
  const specifiers: string[] = [];
  do {
    const operator = cursor.take(VERSION_OPERATOR);
    const version = operator ? cursor.take(VERSION) : null;
    if (!operator || !version) return null;
    specifiers.push(`${operator}${version}`);
  } while (cursor.takeLiteral(','));
  return specifiers;
}

function parseMarkerValue(cursor: Cursor): string | null {
  const quoted = cursor.take(MARKER_STRING);
  if (quoted) return `"${quoted.slice(1, -1)}"`;
  const variable = cursor.take(/^[a-z_]+/);
  return variable && MARKER_VARIABLES.has(variable) ? variable : null;
}

/** marker := atom (('and' | 'or') atom)*, atom := '(' marker ')' | value op value. */
function parseMarker(cursor: Cursor): string | null {
  const parts: string[] = [];
  for (;;) {
    if (cursor.takeLiteral('(')) {
      const inner = parseMarker(cursor);
      if (inner === null || !cursor.takeLiteral(')')) return null;
      parts.push(`(${inner})`);
    } else {
      const left = parseMarkerValue(cursor);
      const operator = left ? cursor.take(MARKER_OPERATOR) : null;
      const right = operator ? parseMarkerValue(cursor) : null;
      if (!left || !operator || !right) return null;
      parts.push(`${left} ${operator.replace(/\s+/, ' ')} ${right}`);
    }
    const joiner = cursor.take(/^(?:and|or)\b/);
    if (!joiner) return parts.join(' ');
    parts.push(joiner);
  }
}

/** The canonical text of one requirement line, or null if it is not name[extras]specs;marker. */
export function parseRequirement(line: string): string | null {
  const cursor = new Cursor(line);
  const name = cursor.take(NAME);
  if (!name) return null;
  let extras = '';
  if (cursor.takeLiteral('[')) {
    const names: string[] = [];
    if (!cursor.takeLiteral(']')) {
      do {
        const extra = cursor.take(NAME);
        if (!extra) return null;
        names.push(extra);
      } while (cursor.takeLiteral(','));
      if (!cursor.takeLiteral(']')) return null;
    }
    extras = `[${names.join(',')}]`;
  }
  let specifiers: string[] = [];
  if (cursor.takeLiteral('(')) {
    const inner = parseSpecifiers(cursor);
    if (!inner || !cursor.takeLiteral(')')) return null;
    specifiers = inner;
  } else {
    cursor.skipSpaces();
    const before = cursor.at;
    if (cursor.take(VERSION_OPERATOR)) {
      cursor.at = before;
      const parsed = parseSpecifiers(cursor);
      if (!parsed) return null;
      specifiers = parsed;
    }
  }
  let marker = '';
  if (cursor.takeLiteral(';')) {
    const parsed = parseMarker(cursor);
    if (parsed === null) return null;
    marker = `; ${parsed}`;
  }
  if (!cursor.atEnd()) return null;
  return `${name}${extras}${specifiers.join(',')}${marker}`;
}

/** Which rule a line breaks, by the most specific reason (for the build log). */
function ruleBroken(line: string): string {
  if (/^-r\b|^--requirement\b|^-c\b|^--constraint\b/.test(line)) return REQUIREMENT_RULES.requirementFile;
  if (/^-e\b|^--editable\b/.test(line)) return REQUIREMENT_RULES.editable;
  if (/(^|\s)-/.test(line)) return REQUIREMENT_RULES.option;
  if (/:\/\/|@|^[A-Za-z]+:/.test(line)) return REQUIREMENT_RULES.url;
  if (/^[./~]/.test(line) || line.includes('/') || line.includes('\\')) return line.endsWith('\\') ? REQUIREMENT_RULES.continuation : REQUIREMENT_RULES.path;
  return REQUIREMENT_RULES.grammar;
}

export function checkRequirements(text: string): RequirementsCheck {
  const requirements: string[] = [];
  const problems: RequirementProblem[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index += 1) {
    // pip's own comment rule: '#' at the start or after whitespace starts a comment.
    const line = lines[index]!.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const canonical = line.endsWith('\\') ? null : parseRequirement(line);
    if (canonical === null) problems.push({ line: index + 1, rule: ruleBroken(line), text: line });
    else requirements.push(canonical);
  }
  if (problems.length > 0) {
    const describe = (p: RequirementProblem) => `requirements.txt line ${p.line}: ${p.rule} ("${p.text}")`;
    return { ok: false, problems, problem: problems.map(describe).join('\n') };
  }
  return { ok: true, requirements };
}

export const describeRequirementProblem = (problem: RequirementProblem): string =>
  `requirements.txt line ${problem.line}: ${problem.rule} ("${problem.text}")`;
