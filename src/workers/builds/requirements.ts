/**
 * What an agent's requirements.txt may ask for: plain requirement specifiers from the package
 * index (`numpy==1.26.4`, `torch>=2; python_version >= "3.10"`). pip options (`-e`, `--index-url`,
 * `-r other.txt`), URLs and local paths are refused: they would let an upload point pip at code
 * of its own choosing, which pip could then run on the build machine outside the sandbox.
 */
export type RequirementsCheck = { ok: true; requirements: string[] } | { ok: false; problem: string };

const SPECIFIER = /^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._, -]+\])?\s*([<>=!~]=?[^;@]*)?(\s*;.*)?$/;

export function checkRequirements(text: string): RequirementsCheck {
  const requirements: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const where = `requirements.txt line ${index + 1}`;
    if (line.startsWith('-')) return { ok: false, problem: `${where}: pip options are not allowed ("${line}")` };
    if (/:\/\/|@/.test(line)) return { ok: false, problem: `${where}: URLs and direct references are not allowed ("${line}")` };
    if (/^[./~]/.test(line) || line.includes('/') || line.includes('\\')) {
      return { ok: false, problem: `${where}: local paths are not allowed ("${line}")` };
    }
    if (!SPECIFIER.test(line)) return { ok: false, problem: `${where}: not a requirement specifier ("${line}")` };
    requirements.push(line);
  }
  return { ok: true, requirements };
}
