import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';

export interface SourcePosition {
  line: number;
  column: number;
}

export type YamlPath = readonly PropertyKey[];

/** A parsed YAML file that can still say where a value came from, for error messages. */
export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /** Position of the value at `path`, or of its nearest existing ancestor. */
  locate(path: YamlPath): SourcePosition | undefined;
  /**
   * File position of character `offset` inside the string scalar at `path`, when the scalar is
   * written on one line without escapes; otherwise the scalar's own position.
   */
  locateInString(path: YamlPath, offset: number): SourcePosition | undefined;
}

export type YamlParseResult =
  | { ok: true; source: YamlSource }
  | { ok: false; errors: { message: string; line?: number; column?: number }[] };

export function parseYamlSource(file: string, text: string): YamlParseResult {
  const lineCounter = new LineCounter();
  // uniqueKeys (the default) makes a repeated key an error instead of a silent override.
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      errors: document.errors.map((error) => ({
        message: error.message.split('\n')[0] ?? error.message,
        line: error.linePos?.[0].line,
        column: error.linePos?.[0].col,
      })),
    };
  }

  const positionAt = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const nodeAt = (path: YamlPath): unknown => (path.length === 0 ? document.contents : document.getIn(path, true));

  // A mapping entry is located at its key (`on_timout:`), anything else at the node itself.
  const offsetOf = (path: YamlPath): number | undefined => {
    const parent = path.length > 0 ? nodeAt(path.slice(0, -1)) : undefined;
    if (isMap(parent)) {
      const key = path[path.length - 1];
      const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key);
      if (pair && isNode(pair.key) && pair.key.range) return pair.key.range[0];
    }
    const node = nodeAt(path);
    return isNode(node) && node.range ? node.range[0] : undefined;
  };

  const locate = (path: YamlPath): SourcePosition | undefined => {
    for (let length = path.length; length >= 0; length--) {
      const offset = offsetOf(path.slice(0, length));
      if (offset !== undefined) return positionAt(offset);
    }
    return undefined;
  };

  const locateInString = (path: YamlPath, offset: number): SourcePosition | undefined => {
    const node = document.getIn(path, true);
    if (!isNode(node) || !node.range || !('value' in node) || typeof node.value !== 'string') return locate(path);
    const start = node.range[0];
    const value = node.value;
    const quoted = text[start] === '"' || text[start] === "'";
    const contentStart = quoted ? start + 1 : start;
    if (text.slice(contentStart, contentStart + value.length) !== value) return positionAt(start);
    return positionAt(contentStart + offset);
  };

  return { ok: true, source: { file, data: document.toJS(), locate, locateInString } };
}
