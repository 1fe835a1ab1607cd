/** Adam (Kingma & Ba) over one flat parameter vector, with PyTorch's default betas and epsilon. */
export class Adam {
  private readonly firstMoment: Float64Array;
  private readonly secondMoment: Float64Array;
  private stepCount = 0;

  constructor(
    private readonly parameters: Float64Array,
    private readonly gradients: Float64Array,
    public learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    if (parameters.length !== gradients.length) throw new Error('parameters and gradients differ in length');
    this.firstMoment = new Float64Array(parameters.length);
    this.secondMoment = new Float64Array(parameters.length);
  }

  step(): void {
    this.stepCount += 1;
    const { beta1, beta2, epsilon, parameters, gradients, firstMoment, secondMoment } = this;
    const firstCorrection = 1 - beta1 ** this.stepCount;
    const secondCorrection = 1 - beta2 ** this.stepCount;
    for (let i = 0; i < parameters.length; i++) {
      const gradient = gradients[i]!;
      const m = beta1 * firstMoment[i]! + (1 - beta1) * gradient;
      const v = beta2 * secondMoment[i]! + (1 - beta2) * gradient * gradient;
      firstMoment[i] = m;
      secondMoment[i] = v;
      parameters[i] -= (this.learningRate * (m / firstCorrection)) / (Math.sqrt(v / secondCorrection) + epsilon);
    }
  }
}

/** Scales gradients down so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradientNorm(gradients: Float64Array, maxNorm: number): number {
  let sumSq = 0;
  for (let i = 0; i < gradients.length; i++) sumSq += gradients[i]! * gradients[i]!;
  const norm = Math.sqrt(sumSq);
  if (norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-12);
    for (let i = 0; i < gradients.length; i++) gradients[i] *= scale;
  }
  return norm;
}
