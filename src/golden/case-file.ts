/**
 * A golden case on disk: the manifest entry and its safetensors file, read through the project's own
 * streaming reader (so the golden runner also exercises the loader). Node only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFileSource } from '../model/safetensors/node-source';
import { SafetensorsFile } from '../model/safetensors/reader';

export interface ManifestCase {
  file: string;
  group?: string;
  description?: string;
  model?: string;
  models?: string | string[];
  tensors: Record<string, unknown>;
  [key: string]: unknown;
}

export interface GoldenManifest {
  cases: Record<string, ManifestCase>;
}

export function readManifest(dir: string): GoldenManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as GoldenManifest;
}

export class GoldenCase {
  private constructor(readonly name: string, readonly dir: string, readonly entry: ManifestCase, readonly file: SafetensorsFile) {}

  static async open(dir: string, name: string, entry: ManifestCase): Promise<GoldenCase> {
    const file = await SafetensorsFile.open(await NodeFileSource.open(join(dir, entry.file)));
    return new GoldenCase(name, dir, entry, file);
  }

  has(tensor: string): boolean {
    return this.file.has(tensor);
  }

  /** Every tensor name in the case's file. */
  names(): string[] {
    return this.file.names();
  }

  shape(tensor: string): number[] {
    return [...this.file.info(tensor).shape];
  }

  f32(tensor: string): Promise<Float32Array> {
    return this.file.read(tensor, 'f32');
  }

  async numbers(tensor: string): Promise<number[]> {
    return Array.from(await this.f32(tensor));
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/** Opens a model weights file of the golden set (e.g. models/unet/diffusion_pytorch_model.safetensors). */
export async function openModelFile(dir: string, relative: string): Promise<SafetensorsFile> {
  return SafetensorsFile.open(await NodeFileSource.open(join(dir, relative)));
}
