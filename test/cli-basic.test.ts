import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { VERSION } from "../src/version.js";

const xait = (...args: string[]) =>
  spawnSync(process.execPath, ["bin/xait.js", ...args], { encoding: "utf8" });

test("xait --version prints the package version", () => {
  const r = xait("--version");
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), VERSION);
  assert.equal(JSON.parse(readFileSync("package.json", "utf8")).version, VERSION);
});

test("xait --help lists the commands with examples", () => {
  const r = xait("--help");
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: xait <command>/);
  assert.match(r.stdout, /Examples:/);
});

test("an unknown command is a one-line usage error with exit code 2", () => {
  const r = xait("frobnicate");
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /^error: unknown command 'frobnicate'/);
});
