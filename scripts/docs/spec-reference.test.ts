import fs from 'node:fs';
import path from 'node:path';
import { generatedDocs, specJsonSchema } from './spec-reference';

/** The committed spec reference is the one the schema generates, and the schema documents every field. */
describe('the generated spec reference', () => {
  it.each(Object.entries(generatedDocs()).map(([file, text]) => [path.relative(process.cwd(), file), file, text] as const))('%s is up to date (npm run docs)', (_, file, text) => {
    expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)').toBe(text);
  });

  it('every field of the spec has a description', () => {
    const undocumented: string[] = [];
    type Node = { description?: string; properties?: Record<string, Node>; additionalProperties?: Node | boolean; anyOf?: Node[]; oneOf?: Node[] };
    const walk = (node: Node, at: string) => {
      for (const option of node.anyOf ?? node.oneOf ?? []) walk(option, at);
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        const field = `${at}${name}`;
        // `type` is the option's own name; a window's from/to are described with the window.
        if (!child.description && name !== 'type' && !/\.(from|to)$/.test(field)) undocumented.push(field);
        walk(child, `${field}.`);
      }
      if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${at}<name>.`);
    };
    walk(specJsonSchema() as Node, '');
    expect(undocumented).toEqual([]);
  });
});
