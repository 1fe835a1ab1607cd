/**
 * A multilayer perceptron (ReLU hidden layers, linear output) on Float64Arrays, with batched
 * forward and backward passes. All parameters live in one flat vector so optimisers, target
 * network updates and serialisation treat a network as one array.
 */
import type { RandomSource } from '../domain/training/seeded-random';
import { denseForward, denseInputGradient, denseParameterGradient } from './dense-kernels';

export interface BackwardOptions {
  /** Accumulate parameter gradients (off when only the input gradient is wanted, e.g. dQ/da). */
  parameterGradients?: boolean;
  /** Compute the gradient with respect to the input (off for the first layer of an actor). */
  inputGradient?: boolean;
}

export class Mlp {
  readonly parameters: Float64Array;
  readonly gradients: Float64Array;
  private readonly weights: Float64Array[] = [];
  private readonly biases: Float64Array[] = [];
  private readonly weightGradients: Float64Array[] = [];
  private readonly biasGradients: Float64Array[] = [];
  /** activations[0] is the input; activations[l + 1] the output of layer l (after ReLU if hidden). */
  private activations: Float64Array[] = [];
  private layerGradients: Float64Array[] = [];
  private capacity = 0;
  private batch = 0;

  constructor(readonly layerSizes: readonly number[], parameters?: Float64Array) {
    if (layerSizes.length < 2 || layerSizes.some((size) => !Number.isInteger(size) || size < 1)) {
      throw new Error(`invalid layer sizes ${JSON.stringify(layerSizes)}`);
    }
    const count = Mlp.parameterCount(layerSizes);
    if (parameters && parameters.length !== count) {
      throw new Error(`expected ${count} parameters for layers ${layerSizes.join('x')}, got ${parameters.length}`);
    }
    this.parameters = parameters ?? new Float64Array(count);
    this.gradients = new Float64Array(count);
    let offset = 0;
    for (let layer = 0; layer + 1 < layerSizes.length; layer++) {
      const inputs = layerSizes[layer]!;
      const outputs = layerSizes[layer + 1]!;
      this.weights.push(this.parameters.subarray(offset, offset + inputs * outputs));
      this.weightGradients.push(this.gradients.subarray(offset, offset + inputs * outputs));
      offset += inputs * outputs;
      this.biases.push(this.parameters.subarray(offset, offset + outputs));
      this.biasGradients.push(this.gradients.subarray(offset, offset + outputs));
      offset += outputs;
    }
  }

  static parameterCount(layerSizes: readonly number[]): number {
    let count = 0;
    for (let layer = 0; layer + 1 < layerSizes.length; layer++) {
      count += layerSizes[layer]! * layerSizes[layer + 1]! + layerSizes[layer + 1]!;
    }
    return count;
  }

  /** PyTorch's default Linear initialisation: uniform in ±1/sqrt(fan-in), optionally scaled for the output layer. */
  static initialised(layerSizes: readonly number[], random: RandomSource, outputLayerScale = 1): Mlp {
    const network = new Mlp(layerSizes);
    const lastLayer = layerSizes.length - 2;
    for (let layer = 0; layer <= lastLayer; layer++) {
      const bound = (1 / Math.sqrt(layerSizes[layer]!)) * (layer === lastLayer ? outputLayerScale : 1);
      for (const values of [network.weights[layer]!, network.biases[layer]!]) {
        for (let i = 0; i < values.length; i++) values[i] = (2 * random.nextFloat() - 1) * bound;
      }
    }
    return network;
  }

  get inputSize(): number {
    return this.layerSizes[0]!;
  }

  get outputSize(): number {
    return this.layerSizes[this.layerSizes.length - 1]!;
  }

  /**
   * Runs `batch` rows of `input` through the network. The returned array is owned by the network
   * and valid until the next forward call; backward uses the activations kept from this call.
   */
  forward(input: Float64Array, batch: number): Float64Array {
    if (input.length < batch * this.inputSize) {
      throw new Error(`expected ${batch} rows of ${this.inputSize} inputs, got ${input.length} values`);
    }
    this.ensureCapacity(batch);
    this.batch = batch;
    const first = this.activations[0]!;
    first.set(input.subarray(0, batch * this.inputSize));
    const layers = this.weights.length;
    for (let layer = 0; layer < layers; layer++) {
      const inputs = this.layerSizes[layer]!;
      const outputs = this.layerSizes[layer + 1]!;
      const output = this.activations[layer + 1]!;
      denseForward(this.activations[layer]!, this.weights[layer]!, this.biases[layer]!, output, batch, inputs, outputs);
      if (layer + 1 < layers) {
        for (let i = 0; i < batch * outputs; i++) if (output[i]! < 0) output[i] = 0;
      }
    }
    return this.activations[layers]!.subarray(0, batch * this.outputSize);
  }

  /**
   * Backpropagates dLoss/dOutput (batch x outputs) from the last forward call. Parameter gradients
   * are added to `gradients` (call zeroGradients between optimiser steps); returns dLoss/dInput,
   * owned by the network, or undefined when inputGradient is false.
   */
  backward(outputGradient: Float64Array, options: BackwardOptions = {}): Float64Array | undefined {
    const withParameters = options.parameterGradients ?? true;
    const withInput = options.inputGradient ?? true;
    const batch = this.batch;
    const layers = this.weights.length;
    let current = this.layerGradients[layers]!;
    current.set(outputGradient.subarray(0, batch * this.outputSize));
    for (let layer = layers - 1; layer >= 0; layer--) {
      const inputs = this.layerSizes[layer]!;
      const outputs = this.layerSizes[layer + 1]!;
      if (withParameters) {
        denseParameterGradient(
          this.activations[layer]!,
          current,
          this.weightGradients[layer]!,
          this.biasGradients[layer]!,
          batch,
          inputs,
          outputs,
        );
      }
      if (layer === 0 && !withInput) return undefined;
      const previous = this.layerGradients[layer]!;
      denseInputGradient(current, this.weights[layer]!, previous, batch, inputs, outputs);
      if (layer > 0) {
        // ReLU passes the gradient only where its output was positive.
        const activation = this.activations[layer]!;
        for (let i = 0; i < batch * inputs; i++) if (activation[i]! <= 0) previous[i] = 0;
      }
      current = previous;
    }
    return current.subarray(0, batch * this.inputSize);
  }

  zeroGradients(): void {
    this.gradients.fill(0);
  }

  copyParametersFrom(source: Mlp): void {
    this.parameters.set(source.parameters);
  }

  /** Target-network tracking: θ_target ← τ θ_source + (1 − τ) θ_target. */
  polyakUpdateFrom(source: Mlp, tau: number): void {
    const target = this.parameters;
    const online = source.parameters;
    for (let i = 0; i < target.length; i++) target[i] = tau * online[i]! + (1 - tau) * target[i]!;
  }

  clone(): Mlp {
    return new Mlp(this.layerSizes, Float64Array.from(this.parameters));
  }

  private ensureCapacity(batch: number): void {
    if (batch <= this.capacity) return;
    this.capacity = batch;
    this.activations = this.layerSizes.map((size) => new Float64Array(batch * size));
    this.layerGradients = this.layerSizes.map((size) => new Float64Array(batch * size));
  }
}
