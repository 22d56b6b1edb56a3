/**
 * `billing:*` → a RegExp over `resourceKey(resource)`. `*` matches any run of characters
 * (including `:`), `?` exactly one; everything else is literal, so a pattern can never inject
 * regex syntax.
 */
export function compileResourceGlob(pattern: string): RegExp {
  let source = '';
  for (const character of pattern) {
    if (character === '*') source += '.*';
    else if (character === '?') source += '.';
    else source += character.replace(/[\\^$.|+()[\]{}/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}
