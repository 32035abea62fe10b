/**
 * deploy/: the Kubernetes Indexed Job and its merge Job are well-formed batch/v1 Jobs whose pods
 * run every shard once (JOB_COMPLETION_INDEX 0…N−1 → --shard 1/N…N/N, one folder each, on the
 * shared volume the merge reads); the Slurm array script turns SLURM_ARRAY_TASK_ID into the shard.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

interface Container {
  name: string;
  image: string;
  command: string[];
  args: string[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Job {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions: number;
    parallelism?: number;
    template: {
      spec: {
        restartPolicy: string;
        containers: Container[];
        volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

function jobs(file: string): Job[] {
  const docs = parseAllDocuments(readFileSync(root(file), "utf8"));
  for (const d of docs) assert.deepEqual(d.errors, [], file);
  return docs.map((d) => d.toJS() as Job);
}

/** Checks the fields a batch/v1 Job needs and that every volume mount names a volume. */
function checkJob(job: Job): Container {
  assert.equal(job.apiVersion, "batch/v1");
  assert.equal(job.kind, "Job");
  assert.match(job.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  assert.ok(Number.isInteger(job.spec.completions) && job.spec.completions >= 1);
  const pod = job.spec.template.spec;
  assert.ok(["Never", "OnFailure"].includes(pod.restartPolicy));
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0]!;
  assert.equal(typeof c.image, "string");
  assert.deepEqual(c.command, ["/bin/sh", "-c"]);
  assert.equal(c.args.length, 1);
  const volumes = new Set(pod.volumes.map((v) => v.name));
  for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `mount ${m.name} has no volume`);
  return c;
}

/** The words the container's shell runs, with xait replaced by echo and the pod's environment set. */
function shellWords(c: Container, env: Record<string, string>): string[] {
  const script = c.args[0]!.replace("exec node /app/bin/xait.js", "echo");
  return execFileSync("/bin/sh", ["-c", script], { env: { PATH: process.env.PATH, ...env } })
    .toString()
    .trim()
    .split(/\s+/);
}

const flag = (words: string[], name: string) => words[words.indexOf(name) + 1];

test("the Indexed Job runs shard i+1 of N in pod i, each into its own folder on the shared volume", () => {
  const [job] = jobs("deploy/kubernetes/evaluate-job.yaml");
  const c = checkJob(job!);
  assert.equal(job!.spec.completionMode, "Indexed");
  const n = job!.spec.completions;
  assert.equal(job!.spec.parallelism, n);
  const outs = new Set<string>();
  for (let i = 0; i < n; i++) {
    const words = shellWords(c, { JOB_COMPLETION_INDEX: String(i) });
    assert.deepEqual(words.slice(0, 2), ["evaluate", "perturbation"]);
    assert.equal(flag(words, "--shard"), `${i + 1}/${n}`);
    assert.ok(words.includes("--resume"), "a rescheduled pod continues its journal");
    outs.add(flag(words, "--out")!);
  }
  assert.equal(outs.size, n);
  const results = c.volumeMounts!.find((m) => m.name === "results")!.mountPath;
  for (const o of outs) assert.ok(o.startsWith(results + "/"));
});

test("the merge Job reads every shard folder of the evaluation Job from the same volume", () => {
  const [evaluation] = jobs("deploy/kubernetes/evaluate-job.yaml");
  const [merge] = jobs("deploy/kubernetes/merge-job.yaml");
  const c = checkJob(merge!);
  const script = c.args[0]!;
  assert.match(script, /^exec node \/app\/bin\/xait\.js evaluate merge (\S+) (\S+)\/shard-\*$/);
  const shardGlob = /evaluate merge \S+ (\S+)\/shard-\*/.exec(script)![1]!;
  const out = flag(shellWords(checkJob(evaluation!), { JOB_COMPLETION_INDEX: "0" }), "--out")!;
  assert.equal(out, `${shardGlob}/shard-1`);
  const claim = (j: Job) =>
    j.spec.template.spec.volumes.find((v) => v.name === "results")!.persistentVolumeClaim!.claimName;
  assert.equal(claim(merge!), claim(evaluation!));
  const claims = jobs("deploy/kubernetes/volumes.yaml") as unknown as {
    kind: string;
    metadata: { name: string };
  }[];
  assert.ok(claims.some((v) => v.kind === "PersistentVolumeClaim" && v.metadata.name === claim(merge!)));
});

test("the Slurm array script runs shard SLURM_ARRAY_TASK_ID of the array's size, and refuses other ids", () => {
  const script = root("deploy/slurm/evaluate-array.sh");
  const run = (env: Record<string, string>) =>
    spawnSync("/bin/sh", [script], { env: { PATH: process.env.PATH, XAIT: "echo", ...env } });
  const r = run({ SLURM_ARRAY_TASK_ID: "7", SLURM_ARRAY_TASK_COUNT: "50", RESULTS: "/scratch/r" });
  assert.equal(r.status, 0, r.stderr.toString());
  const words = r.stdout.toString().trim().split(/\s+/);
  assert.equal(flag(words, "--shard"), "7/50");
  assert.equal(flag(words, "--out"), "/scratch/r/shard-7");
  assert.ok(words.includes("--resume"));
  assert.equal(
    flag(run({ SLURM_ARRAY_TASK_ID: "3", SHARDS: "4" }).stdout.toString().trim().split(/\s+/), "--shard"),
    "3/4",
  );
  for (const bad of ["0", "51", "x"]) {
    const b = run({ SLURM_ARRAY_TASK_ID: bad, SLURM_ARRAY_TASK_COUNT: "50" });
    assert.equal(b.status, 2, bad);
    assert.match(b.stderr.toString(), /^error: /);
  }
  assert.notEqual(run({}).status, 0);
});
