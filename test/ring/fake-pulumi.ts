// A stand-in `pulumi` CLI for the ring command tests. The tests put a launcher named `pulumi`
// first on PATH (see harness.ts); the Automation API then runs this instead of the real CLI.
//
// - Records every invocation (argv, cwd) as one JSON line appended to $FAKE_PULUMI_LOG.
// - Keeps the "backend" (stacks, outputs, exported resources, history) in the JSON file $FAKE_PULUMI_STATE.
// - Keeps config where the real CLI does: Pulumi.yaml (project-level) and Pulumi.<stack>.yaml in the cwd.
// - Answers with the real CLI's JSON shapes: `stack output --json`, `config --json` ({value, objectValue, secret}),
//   `stack export` (version 3 deployment), `stack history --json`, `stack ls --json`, `whoami --json`, `version`.
// - `up` simulates the api-ring program: a full up (re)writes the slot's outputs and resources; an up with
//   --target <mapping urn> on the primary re-points the mapping and the liveSlot output at ring:live.
// - Keeps what AWS itself says in `aws` (the domain's base path mapping): `up` changes it as the provider
//   would; a test changes only it to act out a flip made in the console. The tests' AWS SDK stubs read it.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { bakeAlarmNames, slotAlarmNames } from "../../outputs";

export const FAKE_VERSION = "3.270.0";
export const MAPPING_TYPE = "aws:apigateway/basePathMapping:BasePathMapping";

export interface FakeResource {
    urn: string;
    custom: boolean;
    type: string;
    id?: string;
    parent?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    dependencies?: string[];
}

export interface HistoryEntry {
    version: number;
    kind: string;
    startTime: string;
    endTime: string;
    message: string;
    environment: Record<string, string>;
    config: Record<string, unknown>;
    result: string;
    resourceChanges: Record<string, number>;
}

export interface FakeStack {
    outputs: Record<string, unknown>;
    secretOutputs: string[];
    resources: FakeResource[];
    history: HistoryEntry[];
}

/** Makes a command fail: every argv word in `match` must appear, and the stack must match if given. */
export interface FakeFailure {
    match: string[];
    stack?: string;
    stderr: string;
}

/** What AWS says, apart from Pulumi's state: the domain's mapping (keyed by domain name). */
export interface FakeAws {
    mappings: Record<string, { restApiId: string; stage: string }>;
}

export interface FakeState {
    stacks: Record<string, FakeStack>;
    fail?: FakeFailure[];
    current?: string;
    aws?: FakeAws;
}

export interface LogEntry {
    argv: string[];
    cwd: string;
}

type ConfigMap = Record<string, unknown>;

/** Flags of the pulumi CLI that take a value. */
const VALUE_FLAGS = new Set([
    "--stack", "-s", "--target", "--message", "-m", "--exec-kind", "--page-size", "--page", "--color", "--client",
    "--event-log", "--secrets-provider", "--parallel", "--exec-agent", "--replace", "--exclude", "--policy-pack",
    "--policy-pack-config", "--file", "--config-file",
]);

export interface ParsedArgs {
    words: string[];
    flags: Map<string, string[]>;
    bools: Set<string>;
}

export function parseCli(argv: string[]): ParsedArgs {
    const words: string[] = [];
    const flags = new Map<string, string[]>();
    const bools = new Set<string>();
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--") {
            // Everything after `--` is positional, except a trailing --non-interactive the runner may append.
            for (const b of argv.slice(i + 1)) if (b !== "--non-interactive") words.push(b);
            break;
        }
        if (a.startsWith("-")) {
            const eq = a.indexOf("=");
            if (eq > 0) {
                const k = a.slice(0, eq);
                flags.set(k, [...(flags.get(k) ?? []), a.slice(eq + 1)]);
            } else if (VALUE_FLAGS.has(a)) {
                flags.set(a, [...(flags.get(a) ?? []), argv[++i]]);
            } else {
                bools.add(a);
            }
        } else {
            words.push(a);
        }
    }
    return { words, flags, bools };
}

/** The last segment of `org/project/stack` or `org/stack`. */
export function shortStack(name: string): string {
    const parts = name.split("/");
    return parts[parts.length - 1];
}

function readYaml(file: string): unknown {
    return fs.existsSync(file) ? yaml.load(fs.readFileSync(file, "utf8")) : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function projectOf(cwd: string): { name: string; config: ConfigMap } {
    const doc = readYaml(path.join(cwd, "Pulumi.yaml"));
    if (!isRecord(doc)) throw new CliError("error: no Pulumi.yaml project file found (searching upwards from " + cwd + ")");
    const config: ConfigMap = {};
    if (isRecord(doc["config"])) {
        for (const [k, v] of Object.entries(doc["config"])) {
            const val = isRecord(v) ? ("value" in v ? v["value"] : v["default"]) : v;
            if (val !== undefined) config[k.includes(":") ? k : `${String(doc["name"])}:${k}`] = val;
        }
    }
    return { name: String(doc["name"]), config };
}

function stackFile(cwd: string, stack: string): string {
    return path.join(cwd, `Pulumi.${shortStack(stack)}.yaml`);
}

export function stackConfig(cwd: string, stack: string): ConfigMap {
    const doc = readYaml(stackFile(cwd, stack));
    return isRecord(doc) && isRecord(doc["config"]) ? { ...doc["config"] } : {};
}

function writeStackConfig(cwd: string, stack: string, config: ConfigMap): void {
    const file = stackFile(cwd, stack);
    const doc = readYaml(file);
    const out = isRecord(doc) ? { ...doc, config } : { config };
    fs.writeFileSync(file, yaml.dump(out));
}

/** Stack config with project-level values applied, as `pulumi config` sees it. */
export function mergedConfig(cwd: string, stack: string): ConfigMap {
    return { ...projectOf(cwd).config, ...stackConfig(cwd, stack) };
}

/** `pulumi config --json` entry shape. */
function configJson(value: unknown, showSecrets: boolean): Record<string, unknown> {
    if (isRecord(value) && typeof value["secure"] === "string") {
        return showSecrets ? { value: String(value["secure"]).replace(/^fake:/, ""), secret: true } : { secret: true };
    }
    if (typeof value === "object" && value !== null) {
        return { value: JSON.stringify(value), objectValue: value, secret: false };
    }
    return { value: String(value), secret: false };
}

class CliError extends Error {
    constructor(readonly stderr: string, readonly code = 255) {
        super(stderr);
    }
}

function sha(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

function str(v: unknown, fallback: string): string {
    return typeof v === "string" && v !== "" ? v : fallback;
}

/** The history the program exports: ring:history from config, its newest ring:historyLimit entries. */
function historyOutput(config: ConfigMap): unknown[] {
    const raw = config["ring:history"];
    const list: unknown = typeof raw === "string" ? JSON.parse(raw) : raw ?? [];
    const limit = Number(config["ring:historyLimit"] ?? 20);
    return Array.isArray(list) ? list.slice(-limit) : [];
}

/** What the api-ring program would export for `slot` with `config` (the typed contract in outputs.ts). */
export function programOutputs(slot: string, config: ConfigMap, order: string[], prior?: Record<string, unknown>): {
    outputs: Record<string, unknown>; secretOutputs: string[];
} {
    const primary = str(config["ring:primary"], order[0]);
    const restApiId = str(prior?.["restApiId"], `${slot}0api0${sha(slot).slice(0, 4)}`);
    const region = str(config["aws:region"], "us-east-1");
    const releaseId = str(config["gateway:releaseId"], `release-${slot}`);
    const outputs: Record<string, unknown> = {
        slot,
        restApiId,
        stageName: slot,
        invokeUrl: `https://${restApiId}.execute-api.${region}.amazonaws.com/${slot}`,
        executionArn: `arn:aws:execute-api:${region}:123456789012:${restApiId}/${slot}`,
        specSha256: sha(`spec:${str(config["gateway:spec"], "api/openapi.yaml")}:${releaseId}`),
        releaseId,
        authorizerFunctionName: `${slot}-authorizer`,
        reporterFunctionName: `${slot}-reporter`,
        usageTopicArn: `arn:aws:sns:${region}:123456789012:${slot}-usage`,
        deadLetterQueueUrl: `https://sqs.${region}.amazonaws.com/123456789012/${slot}-usage-dlq`,
        alarmNames: bakeAlarmNames(slotAlarmNames("api-ring", slot)),
        deadLetterAlarmName: slotAlarmNames("api-ring", slot).deadLetters,
    };
    const secretOutputs: string[] = [];
    if (slot === primary) {
        Object.assign(outputs, {
            liveSlot: str(config["ring:live"], slot),
            liveUrl: `https://${str(config["domain:name"], "api.example.edu")}/`,
            vpcId: "vpc-0abc",
            privateSubnetIds: ["subnet-1", "subnet-2"],
            lambdaSecurityGroupId: "sg-lambda",
            redisEndpoint: "master.ring.cache.amazonaws.com",
            redisPort: 6379,
            redisAuthToken: "s3cr3t-redis-token",
            ringHistory: historyOutput(config),
            dashboardName: "api-ring",
            dashboardUrl: `https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=api-ring`,
        });
        secretOutputs.push("redisAuthToken");
    }
    return { outputs, secretOutputs };
}

/** The resources the fake keeps for a deployed slot (the primary also owns the live mapping). */
export function programResources(project: string, stack: string, slot: string, isPrimary: boolean, live?: { restApiId: string; stage: string }): FakeResource[] {
    const s = shortStack(stack);
    const root = `urn:pulumi:${s}::${project}::pulumi:pulumi:Stack::${project}-${s}`;
    const ring = `urn:pulumi:${s}::${project}::api-ring:index:GatewayRing::${slot}`;
    const api = `urn:pulumi:${s}::${project}::api-ring:index:GatewayRing$aws:apigateway/restApi:RestApi::${slot}-api`;
    const res: FakeResource[] = [
        { urn: root, custom: false, type: "pulumi:pulumi:Stack" },
        { urn: ring, custom: false, type: "api-ring:index:GatewayRing", parent: root },
        { urn: api, custom: true, type: "aws:apigateway/restApi:RestApi", id: `${slot}api`, parent: ring },
    ];
    if (isPrimary) {
        const flip = `urn:pulumi:${s}::${project}::api-ring:index:DomainFlip::live`;
        res.push({ urn: flip, custom: false, type: "api-ring:index:DomainFlip", parent: root });
        res.push({
            urn: `urn:pulumi:${s}::${project}::api-ring:index:DomainFlip$${MAPPING_TYPE}::live-mapping`,
            custom: true, type: MAPPING_TYPE, id: "api.example.edu/", parent: flip,
            inputs: { domainName: "api.example.edu", restApi: live?.restApiId ?? "", stageName: live?.stage ?? "" },
            outputs: { domainName: "api.example.edu", restApi: live?.restApiId ?? "", stageName: live?.stage ?? "" },
        });
    }
    return res;
}

function emptyStack(): FakeStack {
    return { outputs: {}, secretOutputs: [], resources: [], history: [] };
}

function ringOrder(config: ConfigMap): string[] {
    const o = config["ring:order"];
    return Array.isArray(o) ? o.map(String) : ["red", "black"];
}

function getStack(state: FakeState, name: string | undefined): FakeStack {
    const s = name ?? state.current;
    if (s === undefined) throw new CliError("error: no stack selected; please use `pulumi stack select` to choose one");
    const st = state.stacks[shortStack(s)];
    if (!st) throw new CliError(`error: no stack named '${shortStack(s)}' found`);
    return st;
}

/** Runs one fake CLI call; returns stdout. Throws CliError for a failing call. */
export function run(argv: string[], cwd: string, state: FakeState): string {
    const { words, flags, bools } = parseCli(argv);
    const stackArg = flags.get("--stack")?.[0] ?? flags.get("-s")?.[0];
    const json = bools.has("--json");
    const showSecrets = bools.has("--show-secrets");
    const cmd = words.slice(0, 2).join(" ");

    for (const f of state.fail ?? []) {
        if (f.match.every((m) => argv.includes(m)) && (f.stack === undefined || (stackArg && shortStack(stackArg) === f.stack))) {
            throw new CliError(f.stderr);
        }
    }

    if (words[0] === "version") return `v${FAKE_VERSION}\n`;
    if (words[0] === "whoami") {
        return json ? JSON.stringify({ user: "ring-test", organizations: ["ring-test"], url: "https://app.pulumi.com/ring-test" }, null, 2) + "\n" : "ring-test\n";
    }
    if (cmd === "stack select") {
        const name = stackArg ?? words[2];
        getStack(state, name);
        state.current = shortStack(name);
        return "";
    }
    if (cmd === "stack init") {
        const name = shortStack(words[2] ?? stackArg ?? "");
        if (state.stacks[name]) throw new CliError(`error: stack '${name}' already exists`);
        state.stacks[name] = emptyStack();
        state.current = name;
        return `Created stack '${name}'\n`;
    }
    if (cmd === "stack ls") {
        const list = Object.entries(state.stacks).map(([name, st]) => ({
            name, current: name === state.current, updateInProgress: false,
            resourceCount: st.resources.length,
            ...(st.history.length ? { lastUpdate: st.history[st.history.length - 1].endTime } : {}),
        }));
        return JSON.stringify(list, null, 4) + "\n";
    }
    if (cmd === "stack output") {
        const st = getStack(state, stackArg);
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(st.outputs)) out[k] = st.secretOutputs.includes(k) && !showSecrets ? "[secret]" : v;
        return JSON.stringify(out, null, 2) + "\n";
    }
    if (cmd === "stack export") {
        const st = getStack(state, stackArg);
        return JSON.stringify({
            version: 3,
            deployment: {
                manifest: { time: "2026-01-01T00:00:00Z", magic: "fake", version: `v${FAKE_VERSION}` },
                secrets_providers: { type: "passphrase", state: { salt: "v1:fake" } },
                resources: st.resources,
            },
        }, null, 4) + "\n";
    }
    if (cmd === "stack history") {
        const st = getStack(state, stackArg);
        const size = Number(flags.get("--page-size")?.[0] ?? st.history.length);
        return JSON.stringify([...st.history].reverse().slice(0, size), null, 4) + "\n";
    }
    if (words[0] === "config" && (words.length === 1 || words[1] === "get")) {
        const name = stackArg ?? state.current;
        getStack(state, name);
        const cfg = mergedConfig(cwd, name as string);
        if (words[1] === "get") {
            const key = words[2];
            if (!(key in cfg)) throw new CliError(`error: configuration key '${key}' not found for stack '${name}'`);
            return JSON.stringify(configJson(cfg[key], true), null, 2) + "\n";
        }
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(cfg).sort()) out[k] = configJson(cfg[k], showSecrets);
        return JSON.stringify(out, null, 2) + "\n";
    }
    if (cmd === "config set") {
        const name = stackArg ?? state.current;
        getStack(state, name);
        const [key, value] = words.slice(2);
        if (key === undefined || value === undefined) throw new CliError("error: config set needs a key and a value");
        const cfg = stackConfig(cwd, name as string);
        cfg[key] = bools.has("--secret") ? { secure: `fake:${value}` } : value;
        writeStackConfig(cwd, name as string, cfg);
        return "";
    }
    if (cmd === "config rm") {
        const name = stackArg ?? state.current;
        getStack(state, name);
        const cfg = stackConfig(cwd, name as string);
        delete cfg[words[2]];
        writeStackConfig(cwd, name as string, cfg);
        return "";
    }
    if (words[0] === "up") return up(argv, cwd, state, stackArg, flags);
    throw new CliError(`error: fake pulumi does not implement: ${argv.join(" ")}`);
}

function up(argv: string[], cwd: string, state: FakeState, stackArg: string | undefined, flags: Map<string, string[]>): string {
    if (!argv.includes("--yes") && !argv.includes("--skip-preview")) throw new CliError("error: --yes must be passed in to proceed when running in non-interactive mode");
    const name = shortStack(stackArg ?? state.current ?? "");
    const st = getStack(state, name);
    const project = projectOf(cwd).name;
    const cfg = mergedConfig(cwd, name);
    const order = ringOrder(cfg);
    const primary = str(cfg["ring:primary"], order[0]);
    const targets = flags.get("--target") ?? [];
    const start = new Date().toISOString();
    let changes: Record<string, number>;

    if (targets.length > 0) {
        for (const t of targets) {
            if (!st.resources.some((r) => r.urn === t)) throw new CliError(`error: Target '${t}' could not be found in the stack`);
        }
        changes = { same: st.resources.length };
        for (const r of st.resources) {
            if (!targets.includes(r.urn) || r.type !== MAPPING_TYPE) continue;
            const live = str(cfg["ring:live"], name);
            const liveStack = state.stacks[live];
            const restApi = String(live === name ? st.outputs["restApiId"] : liveStack?.outputs["restApiId"] ?? "");
            if (restApi === "") throw new CliError(`error: stack reference ${live}: stack has no outputs`);
            r.inputs = { ...r.inputs, restApi, stageName: live };
            r.outputs = { ...r.outputs, restApi, stageName: live };
            setAwsMapping(state, String(r.outputs["domainName"]), { restApiId: restApi, stage: live });
            changes = { same: st.resources.length - 1, update: 1 };
        }
        // The engine sets the root stack's outputs unconditionally, also in a targeted update.
        if (name === primary) {
            st.outputs["liveSlot"] = str(cfg["ring:live"], name);
            st.outputs["ringHistory"] = historyOutput(cfg);
        }
    } else {
        const existed = st.resources.length > 0;
        const { outputs, secretOutputs } = programOutputs(name, cfg, order, st.outputs);
        const liveSlot = str(cfg["ring:live"], name);
        const liveOut = liveSlot === name ? outputs : state.stacks[liveSlot]?.outputs;
        if (name === primary && liveSlot !== name && !liveOut?.["restApiId"]) {
            throw new CliError(`error: ring:live is "${liveSlot}", but stack "${liveSlot}" has never been deployed (it has no outputs).`);
        }
        st.outputs = outputs;
        st.secretOutputs = secretOutputs;
        st.resources = programResources(project, name, name, name === primary,
            name === primary ? { restApiId: String(liveOut?.["restApiId"] ?? ""), stage: liveSlot } : undefined);
        if (name === primary) setAwsMapping(state, str(cfg["domain:name"], "api.example.edu"), { restApiId: String(liveOut?.["restApiId"] ?? ""), stage: liveSlot });
        changes = existed ? { same: st.resources.length - 1, update: 1 } : { create: st.resources.length };
    }
    const end = new Date().toISOString();
    st.history.push({
        version: st.history.length + 1, kind: "update", startTime: start, endTime: end,
        message: flags.get("--message")?.[0] ?? "", environment: { "exec.kind": flags.get("--exec-kind")?.[0] ?? "cli" },
        config: {}, result: "succeeded", resourceChanges: changes,
    });
    state.current = name;
    const summary = Object.entries(changes).map(([k, n]) => `    ${n} ${k === "same" ? "unchanged" : k === "create" ? "created" : k + "d"}`).join("\n");
    return `Updating (${name})\n\nResources:\n${summary}\n\nDuration: 1s\n`;
}

/** What the AWS provider does to AWS when it creates or updates the mapping. */
export function setAwsMapping(state: FakeState, domain: string, mapping: { restApiId: string; stage: string } | null): void {
    state.aws ??= { mappings: {} };
    if (mapping === null) delete state.aws.mappings[domain];
    else state.aws.mappings[domain] = mapping;
}

function main(): void {
    const argv = process.argv.slice(2);
    const cwd = process.cwd();
    const logFile = process.env.FAKE_PULUMI_LOG;
    if (logFile) fs.appendFileSync(logFile, JSON.stringify({ argv, cwd } satisfies LogEntry) + "\n");
    const stateFile = process.env.FAKE_PULUMI_STATE;
    const state: FakeState = stateFile && fs.existsSync(stateFile)
        ? JSON.parse(fs.readFileSync(stateFile, "utf8")) as FakeState
        : { stacks: {} };
    try {
        const out = run(argv, cwd, state);
        if (stateFile) fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
        process.stdout.write(out);
    } catch (err) {
        if (err instanceof CliError) {
            process.stderr.write(err.stderr.endsWith("\n") ? err.stderr : err.stderr + "\n");
            process.exitCode = err.code;
        } else {
            process.stderr.write(`fake pulumi crashed: ${err instanceof Error ? err.stack : String(err)}\n`);
            process.exitCode = 99;
        }
    }
}

if (require.main === module) main();
