/**
 * CIDM's concept consolidation loss (spec §2.2; golden-training README "The CIDM step" item 6) on the
 * LoRA up matrices of the task being trained, against the stored ups of every earlier task:
 *   R1_code  = mean over (i, m) of mean |U_m U_m⁽ⁱ⁾ᵀ|   (the released code's loss_orth; the default)
 *   R1_paper = Σ_{i,m} Σ |U_m U_m⁽ⁱ⁾ᵀ|                 (paper Eq. 2 with the sum read literally; selectable)
 *   enhan    = mean over m of mean((U_m − 1)²)          (the code's loss_enhan)
 *   loss     = γ·R1 + γ·enhan, γ = 0.1 (the code's single `--orthogonal` weight)
 * The whole term is active only when task_id > 1, i.e. when there is at least one earlier task: the
 * code skips orth AND enhan for the first task (trainer_edlora.py:258-282), so with no old tasks this
 * records nothing, adds no gradient and reports zeros.
 *
 * One dispatch for all modules (shaders/consolidation.wgsl), then a deterministic reduction of the
 * per-row partials. The gradient is ADDED into the ups' f32 gradients in the LoRA group's flat buffer,
 * so run it after a backward that overwrites them, or before one that accumulates.
 */
import type { GpuContext } from '../../gpu/context';
import { LimitTooLowError } from '../../gpu/errors';
import type { KernelDescriptor } from '../../gpu/kernel';
import { binding, type Tensor } from '../../gpu/tensor';
import { grid1d } from '../../ops/grid';
import { sumLastAxis } from '../../ops/reduce';
import { BadRankError } from './errors';
import type { FlatParams } from './flat-params';
import source from '../../../shaders/consolidation.wgsl?raw';

const WG = 64;
/** Registers per invocation grow with the rank (u and the gradient sums); LoRA ranks are far below. */
export const MAX_CONSOLIDATION_RANK = 64;

export const consolidationKernel: KernelDescriptor<{ rank: number }> = {
  name: 'cidm-consolidation',
  source,
  defines: ({ rank }) => ({ RANK: rank }),
  constants: () => ({ WG }),
};

export type R1Form = 'code' | 'paper';

export interface ConsolidationOptions {
  /** γ (default 0.1). */
  gamma?: number;
  /** Which R1 enters the loss and its gradient (default 'code'); both values are always reported. */
  r1Form?: R1Form;
}

export interface ConsolidationValues {
  /** False for the first task: nothing was computed. */
  active: boolean;
  r1Code: number;
  r1Paper: number;
  enhan: number;
  /** γ·R1 (the chosen form) + γ·enhan: this term's contribution to the training loss. */
  total: number;
}

/** Stored up matrices of one earlier task, by the same names as this task's ups. */
export type OldTaskUps = ReadonlyMap<string, Float32Array>;

export class ConsolidationLoss {
  private constructor(
    private readonly lora: FlatParams,
    readonly tasks: number,
    readonly rank: number,
    readonly rowsTotal: number,
    private readonly blocks: number,
    private readonly tables: { modules: Tensor; blocks: Tensor; old: Tensor } | null,
    readonly gamma: number,
    readonly r1Form: R1Form,
  ) {}

  /**
   * Builds the module table and uploads the earlier tasks' ups (once per task being trained).
   * `upNames` are the ups' names in `lora`; every earlier task must hold each of them, same shape.
   */
  static create(ctx: GpuContext, lora: FlatParams, upNames: readonly string[], oldTasks: readonly OldTaskUps[], o: ConsolidationOptions = {}): ConsolidationLoss {
    const gamma = o.gamma ?? 0.1;
    const form = o.r1Form ?? 'code';
    if (!upNames.length) throw new RangeError('consolidation: no LoRA up matrices given');
    const shapes = upNames.map((n) => lora.layout.entry(n).shape);
    const rank = shapes[0]![1] ?? 0;
    for (const [j, s] of shapes.entries()) {
      if (s.length !== 2) throw new RangeError(`consolidation: up "${upNames[j]}" must be [out, rank], got [${s.join(', ')}]`);
      if (s[1] !== rank) throw new BadRankError(s[1]!, `up "${upNames[j]}" has rank ${s[1]} but "${upNames[0]}" has ${rank}; one task has one rank`);
    }
    if (rank < 1 || rank > MAX_CONSOLIDATION_RANK) throw new BadRankError(rank, `the consolidation kernel takes ranks 1..${MAX_CONSOLIDATION_RANK}`);
    const rowsTotal = shapes.reduce((a, s) => a + s[0]!, 0);
    const tasks = oldTasks.length;
    // task_id == 1: no consolidation at all (see the header).
    if (tasks === 0) return new ConsolidationLoss(lora, 0, rank, rowsTotal, 0, null, gamma, form);

    const limit = ctx.device.limits.maxStorageBufferBindingSize;
    if (lora.layout.size * 4 > limit) throw new LimitTooLowError('maxStorageBufferBindingSize', limit, lora.layout.size * 4);
    const modules = new ArrayBuffer(upNames.length * 32);
    const mu = new Uint32Array(modules);
    const mf = new Float32Array(modules);
    const blockList: number[] = [];
    const oldData = new Float32Array(rowsTotal * rank * tasks);
    let firstRow = 0;
    for (const [m, name] of upNames.entries()) {
      const rows = shapes[m]![0]!;
      const size = rows * rank;
      const oldAt = firstRow * rank * tasks;
      for (const [i, task] of oldTasks.entries()) {
        const u = task.get(name);
        if (!u) throw new RangeError(`consolidation: earlier task ${i + 1} has no up matrix "${name}"`);
        if (u.length !== size) throw new BadRankError(u.length / rows, `earlier task ${i + 1}'s "${name}" has ${u.length} values, this task's [${rows}, ${rank}] needs ${size}`);
        oldData.set(u, oldAt + i * size);
      }
      mu.set([lora.layout.entry(name).offset, oldAt, rows, firstRow], m * 8);
      mf[m * 8 + 4] = 1 / (tasks * upNames.length * rows * rows);
      mf[m * 8 + 5] = 1 / (upNames.length * size);
      for (let r0 = 0; r0 < rows; r0 += WG) blockList.push(m, r0);
      firstRow += rows;
    }
    const oldBytes = oldData.byteLength;
    if (oldBytes > limit) throw new LimitTooLowError('maxStorageBufferBindingSize', limit, oldBytes);
    const tModules = ctx.persistent([upNames.length * 8], 'f32', 'consolidation modules');
    ctx.write(tModules, new Float32Array(modules));
    const tBlocks = ctx.persistent([blockList.length], 'f32', 'consolidation blocks');
    ctx.write(tBlocks, new Float32Array(Uint32Array.from(blockList).buffer));
    const tOld = ctx.persistent([oldData.length], 'f32', 'consolidation old ups');
    ctx.write(tOld, oldData);
    return new ConsolidationLoss(lora, tasks, rank, rowsTotal, blockList.length / 2, { modules: tModules, blocks: tBlocks, old: tOld }, gamma, form);
  }

  /** CIDM: consolidation only from the second task on (task_id > 1). */
  get active(): boolean {
    return this.tables !== null;
  }

  /**
   * Records the kernel: adds γ·(dR1 + d enhan)/dU, times `gradScale`, into the ups' gradients and returns
   * [R1_code, R1_paper, enhan] as an f32 tensor [3] (the caller releases it), or null when inactive.
   */
  async record(ctx: GpuContext, o: { gradScale?: number } = {}): Promise<Tensor | null> {
    if (!this.tables) return null;
    const k = await ctx.kernel(consolidationKernel, { rank: this.rank });
    const partials = ctx.empty([3, this.rowsTotal], 'f32', 'consolidation partials');
    const t = this.tables;
    ctx.dispatch(k, {
      uniforms: { blocks: this.blocks, tasks: this.tasks, rows_total: this.rowsTotal, paper: this.r1Form === 'paper' ? 1 : 0,
        gamma: this.gamma, grad_scale: o.gradScale ?? 1 },
      bindings: [t.modules, t.blocks, this.lora.flat('param'), t.old, this.lora.flat('grad'), partials].map(binding),
      workgroups: grid1d(this.blocks, 1),
    });
    const values = await sumLastAxis(ctx, partials, { label: 'consolidation values' });
    ctx.submit().then(() => ctx.release(partials), () => undefined);
    return values;
  }

  /** record() and read the values back (one GPU round trip). */
  async apply(ctx: GpuContext, o: { gradScale?: number } = {}): Promise<ConsolidationValues> {
    const t = await this.record(ctx, o);
    if (!t) return { active: false, r1Code: 0, r1Paper: 0, enhan: 0, total: 0 };
    const v = await ctx.read(t);
    ctx.release(t);
    return this.values(v);
  }

  /** Turns the [3] tensor's values into the named losses. */
  values(v: ArrayLike<number>): ConsolidationValues {
    const [r1Code, r1Paper, enhan] = [v[0]!, v[1]!, v[2]!];
    const r1 = this.r1Form === 'paper' ? r1Paper : r1Code;
    return { active: true, r1Code, r1Paper, enhan, total: this.gamma * r1 + this.gamma * enhan };
  }

  destroy(ctx: GpuContext): void {
    if (!this.tables) return;
    ctx.destroyTensor(this.tables.modules);
    ctx.destroyTensor(this.tables.blocks);
    ctx.destroyTensor(this.tables.old);
  }
}
