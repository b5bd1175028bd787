import { expect, test } from 'vitest';
import { chooseImages } from '../../src/stack/images.ts';
import { OFFICIAL_IMAGES, OFFLINE_IMAGES } from '../../src/stack/target.ts';

test('official images when they are on the machine', () => {
  const present = new Set([OFFICIAL_IMAGES.node, OFFICIAL_IMAGES.prometheus, OFFLINE_IMAGES.node]);
  expect(chooseImages(OFFICIAL_IMAGES, {}, present)).toEqual({ images: OFFICIAL_IMAGES, notes: [] });
});

test('air-gapped stand-ins when only they are on the machine, with a note each', () => {
  const { images, notes } = chooseImages(
    OFFICIAL_IMAGES,
    {},
    new Set([OFFLINE_IMAGES.node, OFFLINE_IMAGES.prometheus]),
  );
  expect(images.node).toBe(OFFLINE_IMAGES.node);
  expect(images.prometheus).toBe(OFFLINE_IMAGES.prometheus);
  expect(images.grafana).toBe(OFFICIAL_IMAGES.grafana);
  expect(notes).toHaveLength(2);
  expect(notes[0]).toContain('air-gapped');
});

test('official images (to be pulled) when neither is present', () => {
  expect(chooseImages(OFFICIAL_IMAGES, {}, new Set()).images).toEqual(OFFICIAL_IMAGES);
});

test('a variable the user set always wins', () => {
  const { images, notes } = chooseImages(
    OFFICIAL_IMAGES,
    { CHAOS_GATE_NODE_IMAGE: 'my/node:24', CHAOS_GATE_GRAFANA_IMAGE: 'my/grafana:1' },
    new Set([OFFLINE_IMAGES.node]),
  );
  expect(images.node).toBe('my/node:24');
  expect(images.grafana).toBe('my/grafana:1');
  expect(notes.join('\n')).toContain('CHAOS_GATE_NODE_IMAGE');
});
