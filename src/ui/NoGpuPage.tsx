/**
 * Shown instead of the studio when no usable GPU device could be created. Says what went wrong in
 * words (the named error's message, never a stack) and what to try, for each kind of failure.
 */
import type { ReactNode } from 'react';
import { IconAlert, Logo } from './Icons';
import { probeGpu } from './gpu-probe';
import { useStudio, type GpuFailureKind } from './store';

const Code = ({ children }: { children: ReactNode }) => <code className="kbd">{children}</code>;

const ACCEL = (
  <>Turn on hardware acceleration: open <Code>chrome://settings/system</Code>, switch on “Use graphics acceleration when available”, and relaunch the browser.</>
);
const CHROME_GPU = (
  <>Open <Code>chrome://gpu</Code> in a new tab. “WebGPU” should read “Hardware accelerated”. If it is disabled or blocklisted there, updating the graphics driver usually fixes it.</>
);
const BROWSER = <>Use Chrome or Edge, version 113 or later, on a desktop computer (Windows, macOS, ChromeOS or Linux).</>;

const COPY: Record<GpuFailureKind, { title: string; lead: string; steps: ReactNode[] }> = {
  'no-webgpu': {
    title: 'This browser does not offer WebGPU',
    lead: 'CIDM Studio runs Stable Diffusion XL on your own graphics card through WebGPU, and this browser does not expose it.',
    steps: [
      BROWSER,
      ACCEL,
      CHROME_GPU,
      <>On Linux, WebGPU may still be behind a flag: enable <Code>chrome://flags/#enable-unsafe-webgpu</Code> and relaunch.</>,
    ],
  },
  'insecure-context': {
    title: 'WebGPU needs a secure connection',
    lead: 'Browsers only offer WebGPU to pages served over HTTPS or from localhost, and this page is neither.',
    steps: [
      <>Open the studio at an <Code>https://</Code> address, or run it locally at <Code>http://localhost</Code>.</>,
      BROWSER,
    ],
  },
  'no-adapter': {
    title: 'No graphics adapter is available',
    lead: 'The browser supports WebGPU, but it did not give the studio a GPU to run on.',
    steps: [ACCEL, CHROME_GPU, BROWSER],
  },
  'limit-too-low': {
    title: 'This GPU is too small for the studio',
    lead: 'The graphics adapter works, but one of its WebGPU limits is below what the SDXL kernels need.',
    steps: [
      <>Use a computer with a more capable GPU (a discrete card, or a recent integrated GPU with 8 GB of shared memory or more).</>,
      CHROME_GPU,
    ],
  },
  'feature-missing': {
    title: 'This GPU lacks a required feature',
    lead: 'The graphics adapter works, but it does not offer a WebGPU feature the studio requires.',
    steps: [CHROME_GPU, <>Update the browser and the graphics driver, then reload.</>],
  },
  'device-failed': {
    title: 'The GPU could not be started',
    lead: 'The browser found a graphics adapter, but creating a WebGPU device on it failed.',
    steps: [<>Close other tabs that use the GPU heavily (games, 3D, video calls) and try again.</>, CHROME_GPU, ACCEL],
  },
};

export function NoGpuPage() {
  const kind = useStudio((s) => s.failureKind) ?? 'device-failed';
  const error = useStudio((s) => s.gpuError);
  const probing = useStudio((s) => s.gpuStatus === 'probing');
  const copy = COPY[kind];
  return (
    <main className="nogpu" data-testid="no-gpu" data-kind={kind}>
      <div className="nogpu-card">
        <div className="nogpu-brand"><Logo size={32} /><span>CIDM Studio</span></div>
        <div className="nogpu-icon"><IconAlert /></div>
        <h1>{copy.title}</h1>
        <p className="lede">{copy.lead}</p>
        {error && (
          <div className="nogpu-reason">
            <div className="nogpu-reason-head">
              <span className="nogpu-reason-label">What the browser said</span>
              <code className="nogpu-code">{error.code}</code>
            </div>
            <p data-testid="no-gpu-message">{error.message}</p>
          </div>
        )}
        <h2>What to do</h2>
        <ol className="steps">{copy.steps.map((s, i) => <li key={i}><span>{s}</span></li>)}</ol>
        <div className="nogpu-actions">
          <button type="button" className="btn btn-primary" disabled={probing} onClick={() => void probeGpu()}>
            {probing ? 'Checking…' : 'Try again'}
          </button>
          <span className="muted small">Nothing is uploaded: the studio only runs on this computer’s own GPU.</span>
        </div>
      </div>
    </main>
  );
}
