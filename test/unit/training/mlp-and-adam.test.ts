import { createSeededRandom } from '../../../src/domain/training/seeded-random';
import { Adam, clipGradientNorm } from '../../../src/ml/adam';
import { Mlp } from '../../../src/ml/mlp';

/** L = Σ c ⊙ output: a loss whose gradient with respect to the output is simply c. */
function weightedOutputLoss(network: Mlp, input: Float64Array, batch: number, weights: Float64Array): number {
  const output = network.forward(input, batch);
  return output.reduce((sum, value, index) => sum + value * weights[index]!, 0);
}

describe('Mlp', () => {
  // Odd batch and odd widths exercise both the 2x2 blocked kernels and their remainder paths.
  const layerSizes = [5, 7, 4, 3];
  const batch = 3;
  const random = createSeededRandom(11);
  const network = Mlp.initialised(layerSizes, random);
  const input = Float64Array.from({ length: batch * 5 }, () => 2 * random.nextFloat() - 1);
  const lossWeights = Float64Array.from({ length: batch * 3 }, () => 2 * random.nextFloat() - 1);

  it('backward matches finite differences for every parameter and input', () => {
    network.zeroGradients();
    network.forward(input, batch);
    const inputGradient = Float64Array.from(network.backward(lossWeights)!);
    const step = 1e-6;
    for (let i = 0; i < network.parameters.length; i++) {
      const saved = network.parameters[i]!;
      network.parameters[i] = saved + step;
      const plus = weightedOutputLoss(network, input, batch, lossWeights);
      network.parameters[i] = saved - step;
      const minus = weightedOutputLoss(network, input, batch, lossWeights);
      network.parameters[i] = saved;
      expect(network.gradients[i]).toBeCloseTo((plus - minus) / (2 * step), 6);
    }
    for (let i = 0; i < input.length; i++) {
      const shifted = Float64Array.from(input);
      shifted[i] = input[i]! + step;
      const plus = weightedOutputLoss(network, shifted, batch, lossWeights);
      shifted[i] = input[i]! - step;
      const minus = weightedOutputLoss(network, shifted, batch, lossWeights);
      expect(inputGradient[i]).toBeCloseTo((plus - minus) / (2 * step), 6);
    }
  });

  it('a batch gives the same rows as one observation at a time', () => {
    const rows = Float64Array.from(network.forward(input, batch));
    for (let b = 0; b < batch; b++) {
      const single = network.forward(input.subarray(b * 5, (b + 1) * 5), 1);
      expect(Array.from(single)).toEqual(Array.from(rows.subarray(b * 3, (b + 1) * 3)));
    }
  });

  it('backward without parameter gradients leaves them untouched', () => {
    network.zeroGradients();
    network.forward(input, batch);
    network.backward(lossWeights, { parameterGradients: false });
    expect(network.gradients.every((value) => value === 0)).toBe(true);
  });

  it('polyak update moves a target tau of the way to the online network', () => {
    const target = Mlp.initialised(layerSizes, createSeededRandom(5));
    const before = Float64Array.from(target.parameters);
    target.polyakUpdateFrom(network, 0.25);
    for (let i = 0; i < before.length; i++) {
      expect(target.parameters[i]).toBeCloseTo(0.25 * network.parameters[i]! + 0.75 * before[i]!, 12);
    }
  });

  it('rejects parameters that do not fit the layer sizes', () => {
    expect(() => new Mlp([2, 3], new Float64Array(5))).toThrow(/expected 9 parameters/);
  });
});

describe('Adam', () => {
  it('follows the bias-corrected update of Kingma & Ba', () => {
    const parameters = Float64Array.of(1, -2);
    const gradients = Float64Array.of(0.5, -4);
    const adam = new Adam(parameters, gradients, 0.1);
    adam.step();
    // First step: m̂ = g, v̂ = g², so each parameter moves by lr·g/(|g| + ε) ≈ ±lr.
    expect(parameters[0]).toBeCloseTo(0.9, 6);
    expect(parameters[1]).toBeCloseTo(-1.9, 6);
    const afterFirstStep = parameters[0]!;
    gradients.set([0.5, 0]);
    adam.step();
    const m = 0.9 * 0.1 * 0.5 + 0.1 * 0.5;
    const v = 0.999 * 0.001 * 0.25 + 0.001 * 0.25;
    const expected = afterFirstStep - (0.1 * (m / (1 - 0.9 ** 2))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    expect(parameters[0]).toBeCloseTo(expected, 10);
  });

  it('minimises a quadratic', () => {
    const parameters = Float64Array.of(3, -5);
    const gradients = new Float64Array(2);
    const adam = new Adam(parameters, gradients, 0.05);
    for (let i = 0; i < 2000; i++) {
      gradients[0] = 2 * (parameters[0]! - 1);
      gradients[1] = 2 * (parameters[1]! + 2);
      adam.step();
    }
    expect(parameters[0]).toBeCloseTo(1, 3);
    expect(parameters[1]).toBeCloseTo(-2, 3);
  });

  it('gradient clipping scales to the maximum norm and keeps the direction', () => {
    const gradients = Float64Array.of(3, 4);
    expect(clipGradientNorm(gradients, 1)).toBeCloseTo(5, 12);
    expect(gradients[0]).toBeCloseTo(0.6, 9);
    expect(gradients[1]).toBeCloseTo(0.8, 9);
  });
});
