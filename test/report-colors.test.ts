import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ansi256ToRgb,
  CATEGORICAL,
  contrastRatio,
  divergingColor,
  luminance,
  maxAbs,
  relevanceColor,
  textColor,
  toAnsi256,
  toCssRgb,
  toHex,
  type Rgb,
} from "../src/report/colors.js";

/** Distance from white, signed by hue: > 0 for reds, < 0 for blues. */
function signedIntensity(c: Rgb): number {
  const strength = 1 - Math.min(c.r, c.g, c.b) / 255;
  return c.r >= c.b ? strength : -strength;
}

test("zero relevance is white, the ends are dark red (supports) and dark blue (against)", () => {
  assert.deepEqual(relevanceColor(0, 2), { r: 255, g: 255, b: 255 });
  const red = relevanceColor(2, 2);
  const blue = relevanceColor(-2, 2);
  assert.ok(red.r > red.b && red.r > red.g, `red end ${toHex(red)}`);
  assert.ok(blue.b > blue.r && blue.b > blue.g, `blue end ${toHex(blue)}`);
  assert.deepEqual(relevanceColor(5, 2), red, "clamped beyond max |R|");
  assert.deepEqual(relevanceColor(-5, 2), blue);
});

test("degenerate inputs are neutral", () => {
  assert.deepEqual(relevanceColor(1, 0), { r: 255, g: 255, b: 255 });
  assert.deepEqual(relevanceColor(NaN, 1), { r: 255, g: 255, b: 255 });
  assert.deepEqual(relevanceColor(1, NaN), { r: 255, g: 255, b: 255 });
  assert.deepEqual(divergingColor(Infinity), { r: 255, g: 255, b: 255 });
});

test("the scale is monotone: more relevance, more intense red; less, more intense blue", () => {
  let previous = -Infinity;
  for (let i = -100; i <= 100; i++) {
    const s = signedIntensity(divergingColor(i / 100));
    assert.ok(s >= previous - 1e-12, `t=${i / 100}: ${s} < ${previous}`);
    previous = s;
  }
});

test("scaling is per method: the same ratio gives the same colour", () => {
  assert.deepEqual(relevanceColor(0.5, 1), relevanceColor(50, 100));
});

test("maxAbs ignores non-finite scores", () => {
  assert.equal(maxAbs([0.5, -2, NaN, Infinity, 1]), 2);
  assert.equal(maxAbs([]), 0);
});

test("text colour keeps contrast: dark on light, white on saturated", () => {
  assert.deepEqual(textColor({ r: 255, g: 255, b: 255 }), { r: 0, g: 0, b: 0 });
  assert.deepEqual(textColor(divergingColor(1)), { r: 255, g: 255, b: 255 });
  assert.deepEqual(textColor(divergingColor(-1)), { r: 255, g: 255, b: 255 });
  for (let i = -20; i <= 20; i++) {
    const bg = divergingColor(i / 20);
    const ratio = contrastRatio(textColor(bg), bg);
    assert.ok(ratio >= 4.5, `t=${i / 20} ${toHex(bg)}: contrast ${ratio.toFixed(2)} < 4.5 (WCAG AA)`);
  }
});

test("luminance and formats", () => {
  assert.equal(luminance({ r: 255, g: 255, b: 255 }), 1);
  assert.equal(luminance({ r: 0, g: 0, b: 0 }), 0);
  assert.equal(toHex({ r: 255, g: 0, b: 16 }), "#ff0010");
  assert.equal(toCssRgb({ r: 1, g: 2, b: 3 }), "rgb(1, 2, 3)");
});

test("256-colour approximation keeps the hue of pale tints", () => {
  assert.equal(toAnsi256({ r: 255, g: 255, b: 255 }), 231);
  assert.equal(toAnsi256({ r: 0, g: 0, b: 0 }), 16);
  const grey = toAnsi256({ r: 128, g: 128, b: 128 });
  assert.ok(grey >= 232, `grey uses the ramp (${grey})`);
  const paleBlue = ansi256ToRgb(toAnsi256(divergingColor(-0.15)));
  assert.ok(paleBlue.b > paleBlue.r, `pale blue stays blue: ${toHex(paleBlue)}`);
  const paleRed = ansi256ToRgb(toAnsi256(divergingColor(0.15)));
  assert.ok(paleRed.r > paleRed.b, `pale red stays red: ${toHex(paleRed)}`);
  for (let n = 16; n < 256; n++) assert.equal(toAnsi256(ansi256ToRgb(n)), n, `round trip ${n}`);
});

test("categorical palette has distinct colours", () => {
  assert.equal(new Set(CATEGORICAL.map((c) => c.toLowerCase())).size, CATEGORICAL.length);
});
