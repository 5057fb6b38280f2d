import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import ts from 'typescript';
import { PYTHON_PACKAGE_DIR } from '../shared/config';
import { isPythonScript } from '../shared/processes';
import { HttpError } from './errors';

/** What the API learns from a script's source, without running it. */
export interface ScriptInfo {
  /** The constant options of the entrypoint's `pixyzSchedule({...}, fn)` (Python: `@pixyz_schedule(...)`), if wrapped. */
  options: Record<string, unknown>;
  /** The entrypoint's doc comment (`/** … *\/` above it, without the stars; Python: its docstring); null when none. */
  doc: string | null;
}

export class ScriptParseError extends Error {
  override name = 'ScriptParseError';
}


/** What inspectScript and inspectAnyScript found (or refused) lately, by script content: a pipeline submits the same script again and again. */
const inspected = new Map<string, ScriptInfo | ScriptParseError>();
const MAX_INSPECTED = 256;

/**
 * Finds `entrypoint` among the script's top-level exports (see readScript); the answer for the
 * same content, kind and entrypoint is remembered (parsing costs ~0.5 ms of CPU).
 */
export function inspectScript(fileName: string, source: string, entrypoint: string): ScriptInfo {
  const kind = path.extname(fileName).toLowerCase().endsWith('ts') ? 'ts' : 'js';
  const key = cacheKey(kind, entrypoint, source);
  let known = inspected.get(key);
  if (known === undefined) {
    try {
      known = readScript(fileName, source, entrypoint);
    } catch (err) {
      if (!(err instanceof ScriptParseError)) throw err;
      known = err;
    }
    remember(key, known);
  }
  return answer(known);
}

/**
 * inspectScript for any job script: a Python one (`@pixyz_schedule(...)` options, the
 * entrypoint's docstring) is read by pixyz_worker.options in PIXYZ_PYTHON (Python's own parser,
 * tens of milliseconds: remembered by content too).
 */
export async function inspectAnyScript(fileName: string, source: string, entrypoint: string, python: string): Promise<ScriptInfo> {
  if (!isPythonScript(fileName)) return inspectScript(fileName, source, entrypoint);
  const key = cacheKey('py', entrypoint, source);
  let known = inspected.get(key);
  if (known === undefined) {
    const read = await readPythonScript(python, path.basename(fileName), source, entrypoint);
    known = 'error' in read ? new ScriptParseError(read.error) : { options: read.options, doc: read.doc };
    remember(key, known);
  }
  return answer(known);
}

const PYTHON_INSPECT_TIMEOUT_MS = 15_000;

function readPythonScript(python: string, fileName: string, source: string, entrypoint: string): Promise<{ error: string } | ScriptInfo> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', '-c', PYTHON_INSPECT, entrypoint, fileName], { stdio: ['pipe', 'pipe', 'pipe'], timeout: PYTHON_INSPECT_TIMEOUT_MS });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // it exited early: its exit says why
    // The server's setup, not the script's fault: 503, saying what to fix.
    child.once('error', (e) => reject(new HttpError(503, `Python scripts need a Python 3 interpreter: PIXYZ_PYTHON=${python} could not be run (${e.message})`)));
    child.once('close', (code, signal) => {
      try {
        if (code !== 0) throw new Error(signal ?? `exit code ${code}`);
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as { error: string } | ScriptInfo);
      } catch (e) {
        reject(new HttpError(503, `PIXYZ_PYTHON=${python} could not read the script's options (${(e as Error).message}): ${Buffer.concat(err).toString('utf8').trim().slice(-500)}`));
      }
    });
    child.stdin.end(source);
  });
}

/** Runs pixyz_worker.options from this checkout in isolated mode (no site-packages, no PYTHON* variables, no script folder on the path). */
const PYTHON_INSPECT = `import sys; sys.path.insert(0, ${JSON.stringify(PYTHON_PACKAGE_DIR)}); sys.argv[0] = 'options'; from pixyz_worker.options import main; sys.exit(main())`;

function cacheKey(kind: string, entrypoint: string, source: string): string {
  return crypto.createHash('sha256').update(`${kind}\0${entrypoint}\0`).update(source).digest('base64');
}

function remember(key: string, known: ScriptInfo | ScriptParseError): void {
  if (inspected.size >= MAX_INSPECTED) inspected.delete(inspected.keys().next().value!);
  inspected.set(key, known);
}

function answer(known: ScriptInfo | ScriptParseError): ScriptInfo {
  if (known instanceof ScriptParseError) throw new ScriptParseError(known.message);
  return { options: { ...known.options }, doc: known.doc };
}

/**
 * Finds `entrypoint` among the script's top-level exports (`export function main`,
 * `export const main = pixyzSchedule({...}, fn)`, `export { main }`, `exports.main = …`) and
 * reads the constant options of its `pixyzSchedule` wrapper. Throws ScriptParseError when the
 * script has no such export or does not parse.
 */
function readScript(fileName: string, source: string, entrypoint: string): ScriptInfo {
  const ext = path.extname(fileName).toLowerCase();
  const kind = ext.endsWith('ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, kind);
  const diagnostics = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  if (diagnostics.length > 0) {
    const d = diagnostics[0]!;
    const { line, character } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
    throw new ScriptParseError(
      `The script does not parse: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')} (line ${line + 1}, column ${character + 1})`,
    );
  }

  const locals = new Map<string, ts.Expression | ts.FunctionDeclaration>();
  const exported = new Map<string, ts.Expression | ts.FunctionDeclaration>();
  const statementOf = new Map<ts.Node, ts.Statement>();
  const exportedNames = new Map<string, string>(); // export { local as name }
  const isExported = (node: ts.Node) =>
    ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

  for (const stmt of sf.statements) {
    if (ts.isFunctionDeclaration(stmt) && stmt.name) {
      statementOf.set(stmt, stmt);
      locals.set(stmt.name.text, stmt);
      if (isExported(stmt)) exported.set(stmt.name.text, stmt);
    } else if (ts.isVariableStatement(stmt)) {
      for (const decl of stmt.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name) || !decl.initializer) continue;
        statementOf.set(decl.initializer, stmt);
        locals.set(decl.name.text, decl.initializer);
        if (isExported(stmt)) exported.set(decl.name.text, decl.initializer);
      }
    } else if (ts.isExportDeclaration(stmt) && stmt.exportClause && ts.isNamedExports(stmt.exportClause) && !stmt.moduleSpecifier) {
      for (const el of stmt.exportClause.elements) exportedNames.set(el.name.text, (el.propertyName ?? el.name).text);
    } else if (ts.isExpressionStatement(stmt) && ts.isBinaryExpression(stmt.expression)) {
      collectCommonJsExport(stmt.expression, exported);
      for (const value of exported.values()) if (!statementOf.has(value)) statementOf.set(value, stmt);
    }
  }
  for (const [name, local] of exportedNames) {
    const target = locals.get(local);
    if (target) exported.set(name, target);
  }

  const target = exported.get(entrypoint);
  if (!target) throw new ScriptParseError(`The script file does not have the function ${entrypoint}`);
  const statement = statementOf.get(target);
  const doc = statement ? docComment(sf, statement) : null;
  if (ts.isFunctionDeclaration(target)) return { options: {}, doc };
  const fn = unwrap(target, locals);
  if (ts.isFunctionExpression(fn) || ts.isArrowFunction(fn)) return { options: {}, doc };
  if (ts.isCallExpression(fn) && calleeName(fn) === 'pixyzSchedule') {
    const [opts] = fn.arguments;
    return { options: opts ? constantObject(opts, locals) : {}, doc };
  }
  throw new ScriptParseError(`The script file does not have the function ${entrypoint}`);
}

/** The last `/** … *\/` comment right above a statement, as plain text. */
function docComment(sf: ts.SourceFile, statement: ts.Statement): string | null {
  const ranges = ts.getLeadingCommentRanges(sf.text, statement.getFullStart()) ?? [];
  const last = ranges.filter((r) => sf.text.startsWith('/**', r.pos)).at(-1);
  if (!last) return null;
  const body = sf.text
    .slice(last.pos + 3, last.end - 2)
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, '').trimEnd());
  const text = body.join('\n').trim();
  return text || null;
}

function unwrap(expr: ts.Expression, locals: Map<string, ts.Expression | ts.FunctionDeclaration>): ts.Node {
  let e: ts.Node = expr;
  for (let i = 0; i < 5; i++) {
    while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
    if (ts.isIdentifier(e) && locals.has(e.text)) e = locals.get(e.text)!;
    else break;
  }
  return e;
}

function collectCommonJsExport(bin: ts.BinaryExpression, out: Map<string, ts.Expression | ts.FunctionDeclaration>): void {
  if (bin.operatorToken.kind !== ts.SyntaxKind.EqualsToken || !ts.isPropertyAccessExpression(bin.left)) return;
  const owner = bin.left.expression.getText();
  if (owner === 'exports' || owner === 'module.exports') out.set(bin.left.name.text, bin.right);
}

function calleeName(call: ts.CallExpression): string | undefined {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return undefined;
}

type Locals = Map<string, ts.Expression | ts.FunctionDeclaration>;

/**
 * The literal properties of an object literal (`{ params }` and `params: params` read the
 * script's top-level `const params = {…}`); computed or non-constant ones are left out.
 */
function constantObject(node: ts.Expression, locals: Locals, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!ts.isObjectLiteralExpression(node)) return out;
  for (const prop of node.properties) {
    let key: string | undefined;
    let value: unknown;
    if (ts.isPropertyAssignment(prop)) {
      key = ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name) ? prop.name.text : undefined;
      value = key === undefined ? undefined : constant(prop.initializer, locals, depth);
    } else if (ts.isShorthandPropertyAssignment(prop)) {
      key = prop.name.text;
      value = constant(prop.name, locals, depth);
    }
    if (key !== undefined && value !== undefined) out[key] = value;
  }
  return out;
}

function constant(node: ts.Expression, locals: Locals, depth = 0): unknown {
  if (depth > 8) return undefined; // a constant that names itself, or nested too deep to be options
  while (ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isParenthesizedExpression(node)) node = node.expression;
  if (ts.isIdentifier(node)) {
    const local = locals.get(node.text);
    return local && !ts.isFunctionDeclaration(local) ? constant(local, locals, depth + 1) : undefined;
  }
  // Nested literals: a process's `params` declaration.
  if (ts.isObjectLiteralExpression(node)) return constantObject(node, locals, depth + 1);
  if (ts.isArrayLiteralExpression(node)) {
    const items = node.elements.map((e) => constant(e, locals, depth + 1));
    return items.every((v) => v !== undefined) ? items : undefined;
  }
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand)) {
    return -Number(node.operand.text);
  }
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (node.kind === ts.SyntaxKind.NullKeyword) return null;
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.AsteriskToken) {
    const a = constant(node.left, locals, depth);
    const b = constant(node.right, locals, depth);
    if (typeof a === 'number' && typeof b === 'number') return a * b; // timeLimit: 2 * 3600
  }
  return undefined;
}
