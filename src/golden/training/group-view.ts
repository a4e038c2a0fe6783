/**
 * Opens the cases of one manifest group as a single tensor lookup (a CIDM step's inputs, forward taps,
 * gradients and optimizer state live in separate files of the same group).
 */
import type { GoldenCase, ManifestCase } from '../case-file';
import { GoldenCase as Case } from '../case-file';
import { caseIds } from '../text-encoder-case';
import type { CidmGroupView, CidmSpecJson } from './cidm-case';

export interface OpenGroup extends CidmGroupView {
  close(): Promise<void>;
}

export async function openGroup(dir: string, cases: readonly [string, ManifestCase][], spec: CidmSpecJson): Promise<OpenGroup> {
  const opened: GoldenCase[] = [];
  try {
    for (const [name, entry] of cases) opened.push(await Case.open(dir, name, entry));
  } catch (err) {
    await Promise.all(opened.map((c) => c.close()));
    throw err;
  }
  const owner = new Map<string, GoldenCase>();
  for (const c of opened) for (const n of c.file.names()) owner.set(n, c);
  const of = (t: string) => {
    const c = owner.get(t);
    if (!c) throw new Error(`no case of the group holds ${t}`);
    return c;
  };
  return {
    name: opened[0]?.name.replace(/_[^_]*$/, '') || 'cidm',
    dir,
    spec,
    has: (t) => owner.has(t),
    shape: (t) => of(t).shape(t),
    f32: (t) => of(t).f32(t),
    ints: async (t) => {
      const c = of(t);
      return c.file.info(t).dtype === 'I64' ? caseIds(c, t) : (await c.numbers(t)).map(Math.round);
    },
    names: () => [...owner.keys()],
    close: async () => {
      await Promise.all(opened.map((c) => c.close()));
    },
  };
}
