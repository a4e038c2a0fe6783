// WGSL files are imported as text through Vite's `?raw` suffix (in the app and in Vitest alike).
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
