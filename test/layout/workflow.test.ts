// The GitHub Actions workflow passes on a fresh fork: the offline job needs no secret, and the real
// preview job (run only with a Pulumi organization and an AWS role) sets every secret the program
// requires from repository secrets, else placeholders the config accepts. The secrets step runs
// here against a stand-in `pulumi` on PATH that keeps stack config in files, as `pulumi config`
// keeps it in the stack's settings.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { SECRET_KEYS, readSlotConfig } from "../../config";
import { configSource, loadStackConfig } from "../../stack-config";

const PROJECT = path.resolve(__dirname, "..", "..", "..");
const WORKFLOW = path.join(PROJECT, ".github", "workflows", "policy.yml");
const SECRETS_STEP = path.join(PROJECT, ".github", "workflows", "stack-secrets.sh");
const PLAN_STEP = path.join(PROJECT, ".github", "workflows", "preview-plan.sh");

/**
 * A \`pulumi\` that answers stack select, config get, config set --secret (value on stdin) and stack output
 * (a stack's outputs are files under $FAKE_CONFIG/outputs; a stack never deployed has none) from files
 * under $FAKE_CONFIG, and records each call with the folder it ran in.
 */
const FAKE_PULUMI = `#!/usr/bin/env bash
set -euo pipefail
echo "$(basename "$PWD"): $*" >> "$FAKE_CONFIG/calls"
case "$1 $2" in
  "stack select") exit 0 ;;
  "stack output") f="$FAKE_CONFIG/outputs/$(echo "$5" | tr / _)/$3"; [ -f "$f" ] && cat "$f" || { echo "error: current stack does not have output property '$3'" >&2; exit 255; } ;;
  "config get") f="$FAKE_CONFIG/$(echo "$5" | tr / _)/$3"; [ -f "$f" ] && cat "$f" || exit 1 ;;
  "config set") [ "$3" = "--secret" ] || exit 2; d="$FAKE_CONFIG/$(echo "$6" | tr / _)"; mkdir -p "$d"; cat > "$d/$4" ;;
  *) exit 3 ;;
esac
`;

function runSecretsStep(stack: string, env: Record<string, string>, existing: Record<string, string> = {}): Record<string, string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-workflow-"));
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin", "pulumi"), FAKE_PULUMI, { mode: 0o755 });
    const stackDir = path.join(dir, "config", stack.replace("/", "_"));
    fs.mkdirSync(stackDir, { recursive: true });
    for (const [k, v] of Object.entries(existing)) fs.writeFileSync(path.join(stackDir, k), v);
    const run = spawnSync("bash", [SECRETS_STEP], {
        cwd: PROJECT, encoding: "utf8",
        env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, FAKE_CONFIG: path.join(dir, "config"), STACK: stack, ...env },
    });
    assert.strictEqual(run.status, 0, run.stderr);
    const values = Object.fromEntries(fs.readdirSync(stackDir).map((k) => [k, fs.readFileSync(path.join(stackDir, k), "utf8")]));
    fs.rmSync(dir, { recursive: true, force: true });
    return values;
}

/** Runs the plan step for `stack` with the given stacks deployed (stack -> outputs); returns its step outputs, its stdout and the pulumi calls. */
function runPlanStep(stack: string, deployed: Record<string, Record<string, string>> = {}): { outputs: Record<string, string>; stdout: string; calls: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-workflow-"));
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin", "pulumi"), FAKE_PULUMI, { mode: 0o755 });
    for (const [name, outputs] of Object.entries(deployed)) {
        const at = path.join(dir, "config", "outputs", name.replace("/", "_"));
        fs.mkdirSync(at, { recursive: true });
        for (const [k, v] of Object.entries(outputs)) fs.writeFileSync(path.join(at, k), v);
    }
    fs.mkdirSync(path.join(dir, "config"), { recursive: true });
    const githubOutput = path.join(dir, "github-output");
    const run = spawnSync("bash", [PLAN_STEP], {
        cwd: PROJECT, encoding: "utf8",
        env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, FAKE_CONFIG: path.join(dir, "config"), STACK: stack, GITHUB_OUTPUT: githubOutput },
    });
    assert.strictEqual(run.status, 0, run.stderr);
    const outputs = Object.fromEntries(fs.readFileSync(githubOutput, "utf8").trim().split("\n").map((l) => l.split("=") as [string, string]));
    const calls = fs.readFileSync(path.join(dir, "config", "calls"), "utf8").trim().split("\n");
    fs.rmSync(dir, { recursive: true, force: true });
    return { outputs, stdout: run.stdout, calls };
}

describe("the GitHub Actions workflow on a fresh fork", () => {
    const workflow = yaml.load(fs.readFileSync(WORKFLOW, "utf8")) as { jobs: Record<string, { if?: string; steps: { run?: string; uses?: string; with?: Record<string, string> }[] }> };

    it("runs the offline job with no secret at all, as the README's commands", () => {
        const offline = workflow.jobs.offline;
        assert.strictEqual(offline.if, undefined);
        assert.ok(!JSON.stringify(offline).includes("secrets."), "the offline job reads no secret");
        assert.deepStrictEqual(offline.steps.filter((s) => s.run?.startsWith("npm")).map((s) => s.run), ["npm ci", "npm run lint", "npm run preview", "npm run policy", "npm test"]);
    });

    it("runs the real preview only with a Pulumi organization and an AWS role, after setting the stack's secrets", () => {
        const preview = workflow.jobs.preview;
        assert.match(String(preview.if), /vars\.PULUMI_ORG != ''/);
        assert.match(String(preview.if), /vars\.AWS_PREVIEW_ROLE_ARN != ''/);
        const secrets = preview.steps.findIndex((s) => s.run === "bash .github/workflows/stack-secrets.sh");
        const run = preview.steps.findIndex((s) => s.with?.command === "preview");
        assert.ok(secrets > 0 && secrets < run, "the secrets step comes before the preview");
    });

    it("previews a secondary slot only once the primary is deployed: the plan step decides, the secrets and preview steps follow it", () => {
        const steps = workflow.jobs.preview.steps as { id?: string; if?: string; run?: string; with?: Record<string, string> }[];
        const plan = steps.findIndex((s) => s.run === "bash .github/workflows/preview-plan.sh");
        assert.ok(plan > 0, "a plan step");
        assert.strictEqual(steps[plan].id, "plan");
        assert.strictEqual(steps[plan].if, undefined, "the plan step always runs");
        const gated = steps.slice(plan + 1).filter((s) => s.run === "bash .github/workflows/stack-secrets.sh" || s.with?.command === "preview");
        assert.strictEqual(gated.length, 2);
        for (const step of gated) assert.strictEqual(step.if, "steps.plan.outputs.run == 'true'");
    });

    it("plans the primary's preview on a fork that never deployed, and skips the secondary's with a notice that names the primary and the fix", () => {
        const red = runPlanStep("acme/red");
        assert.deepStrictEqual(red.outputs, { run: "true" });
        const black = runPlanStep("acme/black");
        assert.deepStrictEqual(black.outputs, { run: "false" });
        assert.match(black.stdout, /^::notice::acme\/black is not previewed: it reads the VPC and Redis from the primary acme\/red, which has never been deployed; `pulumi up -s acme\/red` first/m);
        assert.ok(black.calls.includes(`${path.basename(PROJECT)}: stack output vpcId --stack acme/red`), black.calls.join("\n"));
    });

    it("plans the secondary's preview once the primary has outputs", () => {
        assert.deepStrictEqual(runPlanStep("acme/black", { "acme/red": { vpcId: "vpc-0123" } }).outputs, { run: "true" });
    });

    it("creates the live pointer's stack, empty, when it is missing: every slot's program reads it", () => {
        for (const stack of ["acme/red", "acme/black"]) {
            assert.ok(runPlanStep(stack).calls.includes("live: stack select --create acme/live"), stack);
        }
    });

    it("sets placeholders the program's config accepts for every secret it requires, on the primary and a secondary", () => {
        const red = runSecretsStep("acme/red", {});
        const black = runSecretsStep("acme/black", {});
        assert.deepStrictEqual(Object.keys(red).sort(), [...SECRET_KEYS].sort());
        assert.deepStrictEqual(Object.keys(black), ["threescale:serviceToken"]);
        for (const [stack, secrets] of [["red", red], ["black", black]] as const) {
            const file = loadStackConfig(PROJECT, stack);
            const values = { ...file.values, ...secrets };
            assert.doesNotThrow(() => readSlotConfig(configSource({ project: file.project, stack, values, secretKeys: Object.keys(secrets) })));
        }
    });

    it("uses the repository's secrets when it has them, and keeps what the stack already holds", () => {
        const red = runSecretsStep("acme/red", { THREESCALE_SERVICE_TOKEN: "real-service-token-0123", CACHE_AUTH_TOKEN: "" }, { "cache:authToken": "kept-auth-token-0123456789" });
        assert.deepStrictEqual(red, { "threescale:serviceToken": "real-service-token-0123", "cache:authToken": "kept-auth-token-0123456789" });
    });
});
