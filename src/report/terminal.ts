/**
 * The terminal report: the prediction, then per method the conservation check and the text as a
 * heatmap (ANSI background colours: red supports the target class, blue speaks against it), or plain
 * text with the score beside every unit when colour is off.
 */
import type { Explanation, MethodExplanation } from "../explain/result.js";
import {
  ansi256ToRgb,
  divergingColor,
  maxAbs,
  relevanceColor,
  textColor,
  toAnsi256,
  type Rgb,
} from "./colors.js";
import { formatNumber, formatPercent, formatScore } from "./format.js";
import { joinWords, readPieces, tokenUnits, type Word } from "./words.js";

export type ColorMode = "truecolor" | "256" | "none";

export interface TerminalOptions {
  color: ColorMode;
  /** Join word pieces into words (scores summed); default: one unit per token. */
  joinWords?: boolean;
  /** Leave special tokens ([CLS], [SEP], <s>, …) out of the heatmap. */
  hideSpecial?: boolean;
  /** Line width to wrap the text to (default 80). */
  width?: number;
}

/**
 * The colour mode for a stream: none when it is not a terminal or NO_COLOR is set (to any value),
 * 24-bit when COLORTERM says so, else the 256-colour palette.
 */
export function chooseColorMode(env: Record<string, string | undefined>, isTTY: boolean): ColorMode {
  if (!isTTY || env.NO_COLOR !== undefined) return "none";
  const colorterm = (env.COLORTERM ?? "").toLowerCase();
  return colorterm === "truecolor" || colorterm === "24bit" ? "truecolor" : "256";
}

const RESET = "\x1b[0m";
const BOLD = "\x1b[1m";
const INDENT = "  ";

/** SGR codes for a background colour with a contrasting foreground. */
function paint(bg: Rgb, mode: ColorMode): string {
  if (mode === "truecolor") {
    const fg = textColor(bg);
    return `\x1b[48;2;${bg.r};${bg.g};${bg.b}m\x1b[38;2;${fg.r};${fg.g};${fg.b}m`;
  }
  const n = toAnsi256(bg);
  const fg = textColor(ansi256ToRgb(n));
  return `\x1b[48;5;${n}m\x1b[38;5;${fg.r > 128 ? 231 : 16}m`;
}

/**
 * Make text from the input safe to print: control characters (which could inject terminal escape
 * sequences) and bidirectional overrides become visible placeholders.
 */
export function sanitizeForTerminal(text: string): string {
  return (
    text
      .replace(/\n/g, "↵")
      .replace(/\t/g, "⇥")
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "\ufffd")
  );
}

/** Columns a string takes in a terminal: combining marks 0, East Asian wide characters and emoji 2. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (/\p{M}/u.test(ch) || c === 0x200b || c === 0x200d) continue;
    const wide =
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1faff) ||
      (c >= 0x20000 && c <= 0x3fffd);
    w += wide ? 2 : 1;
  }
  return w;
}

interface Cell {
  /** The printed string (with escape codes). */
  out: string;
  /** Its visible width. */
  width: number;
  spaceBefore: boolean;
}

/** Greedy word wrap of cells to `width` columns, every line indented. */
function wrap(cells: readonly Cell[], width: number, indent = INDENT): string[] {
  const lines: string[] = [];
  let line = "";
  let used = 0;
  for (const cell of cells) {
    const sep = used > 0 && cell.spaceBefore ? 1 : 0;
    if (used > 0 && indent.length + used + sep + cell.width > width) {
      lines.push(indent + line);
      line = "";
      used = 0;
    }
    const gap = used > 0 && cell.spaceBefore ? " " : "";
    line += gap + cell.out;
    used += gap.length + cell.width;
  }
  if (used > 0) lines.push(indent + line);
  return lines;
}

function unitCells(units: readonly Word[], scale: number, mode: ColorMode): Cell[] {
  return units.map((u) => {
    const text = sanitizeForTerminal(u.text);
    if (mode === "none") {
      const out = `${text}(${formatScore(u.score)})`;
      return { out, width: displayWidth(out), spaceBefore: true };
    }
    return {
      out: paint(relevanceColor(u.score, scale), mode) + text + RESET,
      width: displayWidth(text),
      spaceBefore: u.spaceBefore,
    };
  });
}

function legend(label: string, scale: number, mode: ColorMode): string {
  const target = sanitizeForTerminal(label);
  if (mode === "none") {
    return `${INDENT}scores: + supports ${target}, - against; max |score| = ${formatNumber(scale)}`;
  }
  const steps = 11;
  let bar = "";
  for (let i = 0; i < steps; i++) bar += paint(divergingColor(-1 + (2 * i) / (steps - 1)), mode) + "  ";
  return `${INDENT}against ◀ ${bar}${RESET} ▶ supports ${target}   (max |score| = ${formatNumber(scale)})`;
}

function conservationLines(m: MethodExplanation, width: number): string[] {
  if (!m.conservative) return [`${INDENT}(not a relevance method: scores are not meant to sum to the logit)`];
  const diff = m.sum - m.logit;
  const rel = m.logit !== 0 ? ` (${((100 * Math.abs(diff)) / Math.abs(m.logit)).toFixed(2)}%)` : "";
  const lines = [
    `${INDENT}conservation: Σ R = ${formatNumber(m.sum)}  vs  logit f = ${formatNumber(m.logit)}  ` +
      `(Σ R - f = ${formatNumber(diff)}${rel})`,
  ];
  if (m.layers && m.layers.length > 0) {
    const cells: Cell[] = m.layers.map((v, i) => {
      const out = `${i === 0 ? "emb" : `L${i}`} ${formatNumber(v)}`;
      return { out, width: displayWidth(out), spaceBefore: true };
    });
    cells[0] = { ...cells[0]!, out: "Σ R per layer: " + cells[0]!.out, width: cells[0]!.width + 15 };
    lines.push(...wrap(cells, width));
  }
  return lines;
}

function predictionLine(expl: Explanation): string {
  const lm = expl.targetToken !== undefined;
  const name = (s: string) => sanitizeForTerminal(lm ? JSON.stringify(s) : s);
  let line =
    `${lm ? "next token" : "prediction"}: ${name(expl.predictedLabel)} ` +
    `(p = ${formatPercent(expl.probabilities[expl.predicted] ?? NaN)})`;
  if (expl.target !== expl.predicted) {
    line +=
      `, explaining ${lm ? "token" : "target"}: ${name(expl.label)} ` +
      `(p = ${formatPercent(expl.probabilities[expl.target] ?? NaN)})`;
  }
  if (expl.contrast) line += `, against ${name(expl.contrast.text)}`;
  return line;
}

/** The whole terminal report of one explanation, lines joined by `\n` (ends with a newline). */
export function renderTerminal(expl: Explanation, opts: TerminalOptions): string {
  const width = Math.max(20, opts.width ?? 80);
  const mode = opts.color;
  const lines: string[] = [predictionLine(expl)];
  for (const [id, m] of Object.entries(expl.explanations)) {
    lines.push("");
    const ms = m.ms !== undefined ? `  (${m.ms.toFixed(0)} ms)` : "";
    const title = `method ${sanitizeForTerminal(id)}${ms}`;
    lines.push(mode === "none" ? title : BOLD + title + RESET);
    lines.push(...conservationLines(m, width));
    const unitOpts = { hideSpecial: opts.hideSpecial };
    let units: Word[];
    if (opts.joinWords) {
      units = joinWords(expl.tokens, m.attributions, unitOpts);
    } else {
      units = tokenUnits(expl.tokens, m.attributions, unitOpts);
      if (mode === "none") {
        // Units are space-separated in plain text: mark word continuations as WordPiece does.
        const pieces = readPieces(expl.tokens);
        units = units.map((u) =>
          pieces[u.tokenIndices[0]!]!.startsWord ? u : { ...u, text: "##" + u.text },
        );
      }
    }
    const scale = maxAbs(units.map((u) => u.score));
    lines.push(...wrap(unitCells(units, scale, mode), width));
    lines.push(legend(expl.label, scale, mode));
  }
  return lines.join("\n") + "\n";
}
