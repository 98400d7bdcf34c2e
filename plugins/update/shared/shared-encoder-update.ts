import type { EncoderUpdateStrategy } from '../../../src/index.js';

/**
 * The end-to-end mechanism's "update rule" (He et al. 2020, Sec. 3.2 and Fig. 2a): there is no key
 * encoder; the query encoder encodes the keys too, inside the gradient scope, so the keys are
 * updated by back-propagation together with the queries. The trainer never calls `update`.
 */
export class SharedEncoderUpdate implements EncoderUpdateStrategy {
  readonly id = 'shared';
  readonly keySource = 'query-encoder' as const;

  update(): void {
    // Nothing to move: the keys' encoder is the query encoder, trained by the optimizer.
  }
}
