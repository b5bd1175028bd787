// Hostile YAML for the tests of input bounds (config-bounds, chaos-load, config-fuzz).

/** A "billion laughs": `levels` levels of nine aliases each, 9^levels strings once expanded. */
export function aliasBomb(levels = 10): string {
  const name = (i: number) => `l${i}`;
  let text = `${name(0)}: &${name(0)} [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n`;
  for (let i = 1; i < levels; i++)
    text += `${name(i)}: &${name(i)} [${Array(9)
      .fill(`*${name(i - 1)}`)
      .join(', ')}]\n`;
  return text;
}
