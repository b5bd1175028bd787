import type { StackImages } from './target.ts';
import { OFFLINE_IMAGES } from './target.ts';

// Which images to use. A variable the user set always wins. Otherwise the official image,
// unless it is not on this machine while the air-gapped stand-in is: then the stand-in, so
// `scripts/offline-images.sh` followed by `chaos-gate up` works with no registry.

export const IMAGE_ENV: Record<keyof StackImages, string> = {
  region: 'CHAOS_GATE_REGION_IMAGE',
  node: 'CHAOS_GATE_NODE_IMAGE',
  prometheus: 'CHAOS_GATE_PROMETHEUS_IMAGE',
  grafana: 'CHAOS_GATE_GRAFANA_IMAGE',
};

export interface ImageChoice {
  images: StackImages;
  /** One line per image that was substituted, for the run's log and report. */
  notes: string[];
}

export function chooseImages(
  defaults: StackImages,
  env: Readonly<Record<string, string | undefined>>,
  present: ReadonlySet<string>,
): ImageChoice {
  const images = { ...defaults };
  const notes: string[] = [];
  for (const key of Object.keys(IMAGE_ENV) as (keyof StackImages)[]) {
    const override = env[IMAGE_ENV[key]];
    if (override) {
      images[key] = override;
      notes.push(`${key} image ${override} (from ${IMAGE_ENV[key]})`);
    }
  }
  for (const key of ['node', 'prometheus'] as const) {
    if (env[IMAGE_ENV[key]]) continue;
    const offline = OFFLINE_IMAGES[key];
    if (!present.has(images[key]) && present.has(offline)) {
      notes.push(`${key} image ${offline} (air-gapped stand-in for ${images[key]}, which is not on this machine)`);
      images[key] = offline;
    }
  }
  return { images, notes };
}
