/**
 * The three matrix products of a dense layer, over row-major Float64Arrays. They are blocked two
 * batch rows by two output units: each loaded value is used twice, which measured about 3x faster
 * than the plain triple loop in V8 (see bench/train.ts for the end-to-end numbers).
 *
 * Shapes: input [batch x inputs], weights [outputs x inputs], output [batch x outputs].
 */

/** output = input · weightsᵀ + bias */
export function denseForward(
  input: Float64Array,
  weights: Float64Array,
  bias: Float64Array,
  output: Float64Array,
  batch: number,
  inputs: number,
  outputs: number,
): void {
  let b = 0;
  for (; b + 1 < batch; b += 2) {
    const x0 = b * inputs;
    const x1 = x0 + inputs;
    const o0 = b * outputs;
    const o1 = o0 + outputs;
    let j = 0;
    for (; j + 1 < outputs; j += 2) {
      const w0 = j * inputs;
      const w1 = w0 + inputs;
      let s00 = bias[j]!;
      let s01 = bias[j + 1]!;
      let s10 = s00;
      let s11 = s01;
      for (let i = 0; i < inputs; i++) {
        const a = input[x0 + i]!;
        const c = input[x1 + i]!;
        const wa = weights[w0 + i]!;
        const wb = weights[w1 + i]!;
        s00 += a * wa;
        s01 += a * wb;
        s10 += c * wa;
        s11 += c * wb;
      }
      output[o0 + j] = s00;
      output[o0 + j + 1] = s01;
      output[o1 + j] = s10;
      output[o1 + j + 1] = s11;
    }
    for (; j < outputs; j++) {
      const w0 = j * inputs;
      let s0 = bias[j]!;
      let s1 = s0;
      for (let i = 0; i < inputs; i++) {
        const w = weights[w0 + i]!;
        s0 += input[x0 + i]! * w;
        s1 += input[x1 + i]! * w;
      }
      output[o0 + j] = s0;
      output[o1 + j] = s1;
    }
  }
  for (; b < batch; b++) {
    const x0 = b * inputs;
    for (let j = 0; j < outputs; j++) {
      const w0 = j * inputs;
      let s = bias[j]!;
      for (let i = 0; i < inputs; i++) s += input[x0 + i]! * weights[w0 + i]!;
      output[b * outputs + j] = s;
    }
  }
}

/** inputGrad = outputGrad · weights (overwrites inputGrad) */
export function denseInputGradient(
  outputGrad: Float64Array,
  weights: Float64Array,
  inputGrad: Float64Array,
  batch: number,
  inputs: number,
  outputs: number,
): void {
  inputGrad.fill(0, 0, batch * inputs);
  let b = 0;
  for (; b + 1 < batch; b += 2) {
    const g0 = b * outputs;
    const g1 = g0 + outputs;
    const x0 = b * inputs;
    const x1 = x0 + inputs;
    let j = 0;
    for (; j + 1 < outputs; j += 2) {
      const w0 = j * inputs;
      const w1 = w0 + inputs;
      const a0 = outputGrad[g0 + j]!;
      const a1 = outputGrad[g0 + j + 1]!;
      const c0 = outputGrad[g1 + j]!;
      const c1 = outputGrad[g1 + j + 1]!;
      for (let i = 0; i < inputs; i++) {
        const wa = weights[w0 + i]!;
        const wb = weights[w1 + i]!;
        inputGrad[x0 + i] += a0 * wa + a1 * wb;
        inputGrad[x1 + i] += c0 * wa + c1 * wb;
      }
    }
    for (; j < outputs; j++) {
      const w0 = j * inputs;
      const a = outputGrad[g0 + j]!;
      const c = outputGrad[g1 + j]!;
      for (let i = 0; i < inputs; i++) {
        const w = weights[w0 + i]!;
        inputGrad[x0 + i] += a * w;
        inputGrad[x1 + i] += c * w;
      }
    }
  }
  for (; b < batch; b++) {
    for (let j = 0; j < outputs; j++) {
      const g = outputGrad[b * outputs + j]!;
      const w0 = j * inputs;
      for (let i = 0; i < inputs; i++) inputGrad[b * inputs + i] += g * weights[w0 + i]!;
    }
  }
}

/** weightsGrad += outputGradᵀ · input; biasGrad += column sums of outputGrad */
export function denseParameterGradient(
  input: Float64Array,
  outputGrad: Float64Array,
  weightsGrad: Float64Array,
  biasGrad: Float64Array,
  batch: number,
  inputs: number,
  outputs: number,
): void {
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < outputs; j++) biasGrad[j] += outputGrad[b * outputs + j]!;
  }
  let b = 0;
  for (; b + 1 < batch; b += 2) {
    const x0 = b * inputs;
    const x1 = x0 + inputs;
    const g0 = b * outputs;
    const g1 = g0 + outputs;
    let j = 0;
    for (; j + 1 < outputs; j += 2) {
      const w0 = j * inputs;
      const w1 = w0 + inputs;
      const a0 = outputGrad[g0 + j]!;
      const a1 = outputGrad[g0 + j + 1]!;
      const c0 = outputGrad[g1 + j]!;
      const c1 = outputGrad[g1 + j + 1]!;
      for (let i = 0; i < inputs; i++) {
        const xa = input[x0 + i]!;
        const xc = input[x1 + i]!;
        weightsGrad[w0 + i] += a0 * xa + c0 * xc;
        weightsGrad[w1 + i] += a1 * xa + c1 * xc;
      }
    }
    for (; j < outputs; j++) {
      const w0 = j * inputs;
      const a = outputGrad[g0 + j]!;
      const c = outputGrad[g1 + j]!;
      for (let i = 0; i < inputs; i++) weightsGrad[w0 + i] += a * input[x0 + i]! + c * input[x1 + i]!;
    }
  }
  for (; b < batch; b++) {
    for (let j = 0; j < outputs; j++) {
      const g = outputGrad[b * outputs + j]!;
      const w0 = j * inputs;
      for (let i = 0; i < inputs; i++) weightsGrad[w0 + i] += g * input[b * inputs + i]!;
    }
  }
}
