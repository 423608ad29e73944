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

/** A `pulumi` that answers stack select, config get and config set --secret (value on stdin) from files under $FAKE_CONFIG. */
const FAKE_PULUMI = `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >> "$FAKE_CONFIG/calls"
case "$1 $2" in
  "stack select") exit 0 ;;
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
