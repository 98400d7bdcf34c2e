// Data-parallel steps over worker threads: the paper's multi-GPU setting (He et al. 2020, §3.3 and Appendix A:
// batch 256 over 8 GPUs, BatchNorm per GPU) on the cores of one machine.
//
// Every step this thread makes the views (so the augmentation draws are the one-thread run's) and splits the
// batch into one share per worker; each computes its share's loss and gradients; this thread sums them in share
// order, applies the update and sends the summed gradients and the keys to the replicas, which apply the very
// same update. The trainable state stays identical everywhere, and a step equals the one-thread step with
// `microBatch` = batch/workers (same shares, same sums, same order). Shuffle BN (a normalization with
// `shufflesKeys`) shuffles the key batch across the workers first, as the paper does across GPUs. What differs
// from one thread: draws a strategy makes inside a share (a memory bank's sample) come from each worker's own
// generator, and BatchNorm's moving statistics are this thread's share's (as PyTorch's DistributedDataParallel
// keeps rank 0's buffers).
import * as tf from '@tensorflow/tfjs-core';
import { lossAndGradientsInParts, microBatches } from '../../execution/micro-batches.js';
import type { StepExecutor, StepResult } from '../../execution/step-executor.js';
import { permuteRows } from '../../kernels/permute-rows.js';
import { Random } from '../../random/random.js';
import type { MocoStep, StepBatch, StepGradients, Views } from '../../step/moco-step.js';
import type { StepContext } from '../../strategies/step-context.js';
import type { WorkerExecutorFactory, WorkerSetup } from '../../training/fit-options.js';
import { ReplicaGroup } from './replica-group.js';
import { buffersOf, fromHost, toHost, toHostRows, type HostTensor, type StepPosition } from './replica-messages.js';

type Share = [start: number, size: number];

/**
 * Starts `workers − 1` worker threads from the run's state and trains each step across them and this thread.
 *
 * @example
 * import { workerThreadExecutor } from 'tfjs-moco/node';
 * await moco.fit(data, { epochs: 10, workers: 2, workerPlugins: ['tfjs-moco/plugins'], workerExecutor: workerThreadExecutor });
 */
export const workerThreadExecutor: WorkerExecutorFactory = async (setup) => {
  const group = await ReplicaGroup.start(setup.run, setup.workers, setup.workerPlugins, setup.microBatch);
  return new WorkerExecutor(setup, group);
};

export class WorkerExecutor implements StepExecutor {
  private readonly step: MocoStep;

  constructor(
    private readonly setup: WorkerSetup,
    private readonly group: ReplicaGroup,
  ) {
    this.step = setup.step;
  }

  async run(batch: StepBatch, ctx: StepContext, learningRate: number): Promise<StepResult> {
    const step = this.step;
    const { indices } = batch;
    const views = tf.tidy(() => step.views(batch.images, ctx));
    let keys: tf.Tensor2D[] | undefined;
    let local: StepGradients | undefined;
    try {
      const n = views[0].shape[0];
      const shares = microBatches(n, Math.ceil(n / this.group.size));
      const position: StepPosition = { epoch: ctx.epoch, step: ctx.step, progress: ctx.progress };
      // Shuffle BN across workers (§3.3): the key batch is permuted before it is split into shares, each worker's
      // key encoder normalizes its share of the permuted batch, and the keys are put back in batch order.
      if (this.shufflesKeysAcrossWorkers) keys = await this.keysShuffledAcrossWorkers(views, shares, ctx, position);
      const messages = shares.slice(1).map((share) => ({
        type: 'share' as const,
        position,
        batchSize: n,
        v1: toHostRows(views[0], share),
        v2: toHostRows(views[1], share),
        indices: indices && toHostRows(indices, share),
        keys: keys?.map((k) => toHostRows(k, share)),
      }));
      const pending = this.group.shares(messages, messages.map((m) => buffersOf([m.v1, m.v2, m.indices, ...(m.keys ?? [])])));
      // This thread's share, while the replicas compute theirs.
      const [start, size] = shares[0];
      local = tf.tidy(() => {
        const rows = <T extends tf.Tensor>(t: T): T => tf.slice(t, start, size) as T;
        const sizes = { batchSize: n, microBatch: this.setup.microBatch };
        return lossAndGradientsInParts(step, [rows(views[0]), rows(views[1])], indices && rows(indices), ctx, sizes, keys?.map(rows));
      });
      const remote = await pending;
      const mine = local;
      const whole = tf.tidy(() => {
        // Summed in share order, as the micro-batch executor sums its micro-batches: the same numbers as one thread.
        const grads: tf.NamedTensorMap = {};
        step.networks.trainable.forEach((v, i) => {
          grads[v.name] = remote.reduce((g, r) => tf.add(g, fromHost(r.grads[i])), mine.grads[v.name]);
        });
        const loss = remote.reduce((l, r) => tf.add(l, tf.scalar(r.loss)), mine.loss as tf.Tensor) as tf.Scalar;
        const accuracy = remote.reduce((a, r) => tf.add(a, tf.scalar(r.accuracy)), mine.accuracy as tf.Tensor) as tf.Scalar;
        const inBatchOrder = (own: tf.Tensor2D[], theirs: (r: (typeof remote)[number]) => HostTensor[]) =>
          own.map((m, p) => (remote.length === 0 ? m : (tf.concat([m, ...remote.map((r) => fromHost(theirs(r)[p]) as tf.Tensor2D)]) as tf.Tensor2D)));
        return { grads, loss, accuracy, keys: inBatchOrder(mine.keys, (r) => r.pairKeys), queries: inBatchOrder(mine.queries, (r) => r.pairQueries) };
      });
      try {
        // The replicas apply only what this thread applies: a non-finite step is sent to none of them, so every
        // replica keeps the same (last finite) state as this thread.
        const reading = step.readAndUpdate(whole, indices, ctx, learningRate);
        if (reading.finite) {
          this.group.apply({
            type: 'apply',
            position,
            learningRate,
            grads: step.networks.trainable.map((v) => toHost(whole.grads[v.name])),
            keys: whole.keys.map(toHost),
            queries: whole.queries.map(toHost),
            indices: indices && toHost(indices),
          });
        }
        return { ...reading, batch: batch.images.shape[0], applied: reading.finite };
      } finally {
        // With one share these are `local`'s own tensors; disposing a tensor twice is a no-op in tfjs.
        tf.dispose([...Object.values(whole.grads), whole.loss, whole.accuracy, ...whole.keys, ...whole.queries]);
      }
    } finally {
      tf.dispose([...views, ...(keys ?? [])]);
      if (local) tf.dispose([...Object.values(local.grads), local.loss, local.accuracy, ...local.keys, ...local.queries]);
    }
  }

  /** Whether the key batch is shuffled across the workers (Shuffle BN with a key encoder). */
  private get shufflesKeysAcrossWorkers(): boolean {
    const { normalization, dictionary } = this.step.capabilities;
    return normalization.shufflesKeys && this.step.networks.key !== undefined && !dictionary.providesPositives;
  }

  /**
   * The positive keys of the whole batch (one [N,d] per view pair), encoded with the key batch permuted across the
   * workers: each worker (this thread included) encodes the rows of the permuted batch that fall in its share.
   * The permutation is drawn from this thread's generator, where one thread's Shuffle BN draws it.
   */
  private async keysShuffledAcrossWorkers([v1, v2]: Views, shares: Share[], ctx: StepContext, position: StepPosition): Promise<tf.Tensor2D[]> {
    const keyViews = this.step.capabilities.loss.symmetric ? [v2, v1] : [v2];
    const n = v1.shape[0];
    const perms = keyViews.map(() => ctx.random.permutation(n));
    const shuffled = tf.tidy(() => keyViews.map((v, p) => permuteRows(v, perms[p])));
    let local: tf.Tensor2D[] | undefined;
    try {
      const messages = shares.slice(1).map((share) => ({ type: 'keys' as const, position, views: shuffled.map((v) => toHostRows(v, share)) }));
      const pending = this.group.keys(messages, messages.map((m) => buffersOf(m.views)));
      const [start, size] = shares[0];
      local = tf.tidy(() => this.step.encodeKeys(shuffled.map((v) => tf.slice(v, start, size) as tf.Tensor4D)));
      const remote = await pending;
      const mine = local;
      // Rows of the permuted batch, shares in order; row i of it is image perm[i]: put each back in place.
      return tf.tidy(() =>
        mine.map((own, p) => {
          const all = remote.length === 0 ? own : tf.concat([own, ...remote.map((r) => fromHost(r.keys[p]) as tf.Tensor2D)]);
          return permuteRows(all, Random.inverse(perms[p]));
        }),
      );
    } finally {
      tf.dispose([...shuffled, ...(local ?? [])]);
    }
  }

  async dispose(): Promise<void> {
    await this.group.close();
  }
}
