/** zlib (RFC 1950) deflate/inflate through the platform's CompressionStream (browsers, workers, Node ≥ 18). */
async function pipe(data: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const blob = new Blob([data as Uint8Array<ArrayBuffer>]);
  const out = await new Response(blob.stream().pipeThrough(stream)).arrayBuffer();
  return new Uint8Array(out);
}

export const deflate = (data: Uint8Array) => pipe(data, new CompressionStream('deflate'));
export const inflate = (data: Uint8Array) => pipe(data, new DecompressionStream('deflate'));
