/**
 * Object URLs for stored Blobs (thumbnails, samples) and downloads. Everything stays on the device:
 * a download is a Blob URL clicked through an <a download>, never a network request.
 */
import { useEffect, useState } from 'react';

/** An object URL for `blob` while the component shows it (revoked on change and unmount). */
export function useBlobUrl(blob: Blob | null | undefined): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob) {
      setUrl(null);
      return;
    }
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url;
}

/** Saves bytes as a file through the browser's download (a Blob URL, revoked once the click is handled). */
export function downloadBytes(bytes: Uint8Array<ArrayBuffer>, fileName: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // the download has taken its copy once the click is handled; a later revoke frees the bytes
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
