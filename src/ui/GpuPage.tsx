/** The "GPU" section: what adapter the studio got, what it can do, and the limits that size the work. */
import { REQUIRED_LIMITS, type AdapterSummary } from '../gpu';
import { SHOWN_LIMITS, adapterTitle, formatLimit } from './format';
import { IconAlert, IconCheck, IconCross } from './Icons';
import { probeGpu } from './gpu-probe';
import { useStudio } from './store';
import { TuningCard } from './gpu/TuningCard';

const CAPABILITIES = [
  {
    feature: 'shader-f16',
    title: 'Half precision',
    yes: 'Weights and activations are stored as f16: half the memory of f32, and faster on most GPUs.',
    no: 'Weights stay f16, packed in pairs and unpacked by the kernels; the math and activations are f32: everything works, with more activation memory.',
  },
  {
    feature: 'subgroups',
    title: 'Subgroups',
    yes: 'Enabled on the device, but no kernel uses subgroups today: reductions go through workgroup memory.',
    no: 'Reductions go through workgroup memory, which works everywhere.',
  },
  {
    feature: 'timestamp-query',
    title: 'GPU timestamps',
    // the TimestampProfiler (src/gpu/profiler.ts) serves the bench scripts; the studio's run estimates time whole steps
    yes: 'Kernels can be timed on the GPU itself (the benchmark scripts do); the studio times whole steps for its estimates.',
    no: 'Kernels cannot be timed on the GPU itself; the studio times whole steps for its estimates.',
  },
] as const;

function AdapterCard({ s }: { s: AdapterSummary }) {
  const rows: [string, string][] = [
    ['Vendor', s.vendor],
    ['Architecture', s.architecture],
    ['Device', s.device],
    ['Description', s.description],
  ];
  return (
    <section className="card card-hero" aria-labelledby="adapter-title">
      <div className="hero-head">
        <div>
          <div className="eyebrow">Active adapter</div>
          <h2 id="adapter-title" className="hero-title" data-testid="adapter-name">{adapterTitle(s)}</h2>
        </div>
        <span className={s.isFallbackAdapter ? 'pill pill-warn' : 'pill pill-ok'} data-testid="fallback-pill">
          {s.isFallbackAdapter ? 'Fallback adapter (CPU)' : 'Hardware adapter'}
        </span>
      </div>
      <dl className="facts">
        {rows.map(([k, v]) => (
          <div className="fact" key={k}>
            <dt>{k}</dt>
            <dd className={v ? 'value' : 'value unset'} data-testid={`adapter-${k.toLowerCase()}`}>{v || 'not reported'}</dd>
          </div>
        ))}
      </dl>
      {s.isFallbackAdapter && (
        <div className="callout callout-warn">
          <IconAlert />
          <p>
            This is a software adapter that runs WebGPU on the CPU. Everything works, but slowly: an SDXL image
            can take hours. If this computer has a graphics card, check that hardware acceleration is on
            and that <code>chrome://gpu</code> lists WebGPU as hardware accelerated.
          </p>
        </div>
      )}
    </section>
  );
}

function Capabilities({ s }: { s: AdapterSummary }) {
  const enabled = useStudio((st) => st.enabled);
  return (
    <section className="card" aria-labelledby="caps-title">
      <h3 id="caps-title" className="card-title">Capabilities</h3>
      <ul className="caps">
        {CAPABILITIES.map((c) => {
          const has = s.features.includes(c.feature);
          return (
            <li className="cap" key={c.feature} data-testid={`cap-${c.feature}`} data-available={has}>
              <span className={has ? 'cap-mark cap-yes' : 'cap-mark cap-no'}>{has ? <IconCheck /> : <IconCross />}</span>
              <div>
                <div className="cap-title">
                  {c.title} <code>{c.feature}</code>
                  <span className="sr-only">{has ? ' available' : ' not available'}</span>
                </div>
                <p className="cap-text">{has ? c.yes : c.no}</p>
              </div>
            </li>
          );
        })}
      </ul>
      {enabled && (
        <p className="card-note">
          Device created with {[enabled.f16 && 'f16', enabled.subgroups && 'subgroups', enabled.timestamps && 'timestamps']
            .filter(Boolean)
            .join(', ') || 'no optional features'}.
        </p>
      )}
    </section>
  );
}

function Limits({ s }: { s: AdapterSummary }) {
  const need = REQUIRED_LIMITS as Record<string, number>;
  return (
    <section className="card" aria-labelledby="limits-title">
      <h3 id="limits-title" className="card-title">Limits</h3>
      <table className="limits">
        <thead>
          <tr><th>Limit</th><th className="num">This GPU</th><th className="num">Studio needs</th></tr>
        </thead>
        <tbody>
          {SHOWN_LIMITS.map((l) => (
            <tr key={l.key} data-testid={`limit-${l.key}`}>
              <td>
                <div className="limit-label">{l.label}</div>
                <code className="limit-key">{l.key}</code>
              </td>
              <td className="num strong">{formatLimit(s.limits[l.key], l.unit)}</td>
              <td className="num muted">{need[l.key] !== undefined ? `≥ ${formatLimit(need[l.key], l.unit)}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Lost() {
  const error = useStudio((s) => s.gpuError);
  return (
    <div className="callout callout-bad" role="alert">
      <IconAlert />
      <div>
        <p><strong>The GPU device was lost.</strong> {error?.message}</p>
        <button type="button" className="btn btn-primary" onClick={() => void probeGpu()}>Reconnect</button>
      </div>
    </div>
  );
}

export function GpuPage() {
  const s = useStudio((st) => st.summary);
  const status = useStudio((st) => st.gpuStatus);
  return (
    <div className="page">
      <div className="page-head">
        <h1>GPU</h1>
        <p className="lede">
          Every step of SDXL and SD-1.5, training included, runs on this adapter through WebGPU, in hand-written WGSL kernels.
        </p>
      </div>
      {status === 'lost' && <Lost />}
      {s ? (
        <div className="grid">
          <AdapterCard s={s} />
          <Capabilities s={s} />
          <Limits s={s} />
          <TuningCard />
          <details className="card features">
            <summary>All adapter features <span className="muted">({s.features.length})</span></summary>
            <ul className="tags">{s.features.map((f) => <li key={f} className="tag mono">{f}</li>)}</ul>
          </details>
        </div>
      ) : (
        <div className="card loading" aria-busy="true">
          <span className="spinner" /> Looking for a GPU…
        </div>
      )}
    </div>
  );
}
