// A live line chart in plain SVG (no charting library): loss on the left axis, pretext accuracy (0..1) on the
// right, one point per step event, redrawn as events arrive.

const NS = 'http://www.w3.org/2000/svg';

export interface LiveChartOptions {
  /** Total steps expected (the x axis). */
  steps: number;
  /** Pixel size. Default 560 × 260. */
  width?: number;
  height?: number;
}

/**
 * Appends an SVG chart to `parent`; `add` plots one step.
 *
 * @example
 * const chart = new LiveChart(document.body, { steps: 24 });
 * moco.on('step').subscribe((e) => chart.add(e.loss, e.pretextAccuracy));
 */
export class LiveChart {
  readonly svg: SVGSVGElement;
  private readonly loss: SVGPolylineElement;
  private readonly accuracy: SVGPolylineElement;
  private readonly lossLabel: SVGTextElement;
  private readonly points: Array<[number, number]> = [];
  private readonly width: number;
  private readonly height: number;
  private readonly pad = 36;

  constructor(parent: HTMLElement, private readonly options: LiveChartOptions) {
    this.width = options.width ?? 560;
    this.height = options.height ?? 260;
    this.svg = el('svg', { width: this.width, height: this.height, viewBox: `0 0 ${this.width} ${this.height}`, role: 'img' }) as SVGSVGElement;
    this.svg.setAttribute('aria-label', 'loss and pretext accuracy per step');
    const { pad } = this;
    this.svg.append(
      el('rect', { x: 0, y: 0, width: this.width, height: this.height, fill: '#fff' }),
      el('line', { x1: pad, y1: this.height - pad, x2: this.width - pad, y2: this.height - pad, stroke: '#888' }),
      el('line', { x1: pad, y1: pad / 2, x2: pad, y2: this.height - pad, stroke: '#888' }),
      text(`step (of ${options.steps})`, this.width / 2, this.height - 8, '#333'),
      text('loss', pad + 24, pad / 2 + 4, '#1f5fbf'),
      text('pretext accuracy', this.width - pad - 70, pad / 2 + 4, '#d0641c'),
    );
    this.loss = el('polyline', { fill: 'none', stroke: '#1f5fbf', 'stroke-width': 2, 'data-series': 'loss' }) as SVGPolylineElement;
    this.accuracy = el('polyline', { fill: 'none', stroke: '#d0641c', 'stroke-width': 2, 'data-series': 'pretext-accuracy' }) as SVGPolylineElement;
    this.lossLabel = text('', pad + 4, this.height - pad - 6, '#1f5fbf');
    this.svg.append(this.loss, this.accuracy, this.lossLabel);
    parent.append(this.svg);
  }

  /** Plots one step's loss and pretext accuracy. */
  add(loss: number, accuracy: number): void {
    this.points.push([loss, accuracy]);
    const maxLoss = Math.max(...this.points.map(([l]) => l), 1e-6);
    const x = (i: number) => this.pad + ((this.width - 2 * this.pad) * (i + 0.5)) / Math.max(this.options.steps, this.points.length);
    const y = (v: number) => this.height - this.pad - (this.height - 1.5 * this.pad) * v;
    this.loss.setAttribute('points', this.points.map(([l], i) => `${x(i).toFixed(1)},${y(l / maxLoss).toFixed(1)}`).join(' '));
    this.accuracy.setAttribute('points', this.points.map(([, a], i) => `${x(i).toFixed(1)},${y(a).toFixed(1)}`).join(' '));
    this.lossLabel.textContent = `loss ${loss.toFixed(3)} (max ${maxLoss.toFixed(2)})`;
  }
}

function el(name: string, attrs: Record<string, string | number>): SVGElement {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function text(content: string, x: number, y: number, fill: string): SVGTextElement {
  const node = el('text', { x, y, fill, 'font-size': 12, 'font-family': 'sans-serif' }) as SVGTextElement;
  node.textContent = content;
  return node;
}
