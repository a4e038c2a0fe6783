/** Browser-safe safetensors API. The Node file source is in ./node-source (import it directly). */
export * from './dtype';
export * from './header';
export * from './source';
export * from './http-source';
export * from './reader';
export * from './writer';
