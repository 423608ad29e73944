// Offline preview: runs the whole program for a stack under Pulumi's mock runtime with the
// stack's real config files, and prints the resource tree and the stack outputs the way
// `pulumi preview` does; `--json` prints the same as data, every resource's inputs included
// (secrets masked). With `--archives DIR` it writes each Lambda's deployment archive as
// the program built it (handler-archive.ts). No cloud credentials, no pulumi CLI.
//
//   node bin/preview/cli.js [--stack red|black|all] [--json] [--archives DIR]
//                                       [--deployed FILE]
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import { parseArgs as parseArgs_ } from "util";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { deflateRawSync } from "zlib";
import { MOCK_ACCOUNT, MockCloud, isSecretValue, resolveOutput as resolve, secretValue } from "./mock-cloud";
import { AccountSettings, Refusal, formatRefusal, partitionOf } from "./aws-rules";
import { PreviewResource, SECRET_MASK, StackPreview } from "../policy/stack-model";
import { StackConfigFile, listStacks, loadStackConfig, parseOverride, programEntry } from "../stack-config";
import { LIVE_POINTER_PROJECT_SUFFIX, bakeAlarmNames, slotAlarmNames } from "../outputs";
import { providerRegion } from "../config/region";

/** The project root: bin/preview/../.. when compiled. */
export const PROJECT_DIR = path.resolve(__dirname, "..", "..");
/** The live pointer's project, beside the slots' Pulumi.yaml. */
export const LIVE_DIR = "live";

/** The slots' project directory and the live pointer's, from either. */
export function projectDirs(projectDir: string): { slots: string; live: string } {
    const parent = path.dirname(projectDir);
    if (path.basename(projectDir) === LIVE_DIR && fs.existsSync(path.join(parent, "Pulumi.yaml"))) return { slots: parent, live: projectDir };
    return { slots: projectDir, live: path.join(projectDir, LIVE_DIR) };
}

/** Every stack the preview knows: the slots' (Pulumi.<slot>.yaml) and the live pointer's (live/Pulumi.<stack>.yaml), each with its project directory. */
export function allStacks(projectDir: string): { stack: string; dir: string }[] {
    const { slots, live } = projectDirs(projectDir);
    return [
        ...listStacks(slots).map((stack) => ({ stack, dir: slots })),
        ...(fs.existsSync(path.join(live, "Pulumi.yaml")) ? listStacks(live).map((stack) => ({ stack, dir: live })) : []),
    ];
}

export interface OfflineOptions {
    projectDir?: string;
    /** Folder to write each Lambda's deployment archive into (one sub-folder per function). */
    archiveDir?: string;
    /**
     * Outputs of deployed stacks, for StackReferences: stack name to outputs, or null for a
     * stack never deployed. Stacks not named get outputs synthesized from their config; the
     * stack being previewed counts as never deployed (a first `pulumi up`).
     */
    deployed?: Record<string, Record<string, unknown> | null>;
    /** Config to change for this run, as `pulumi config set` would (null removes a key). */
    overrides?: Record<string, string | null>;
}

export interface ArchiveSummary {
    function: string;
    dir: string;
    files: number;
    bytes: number;
    /** Sum of the files' deflated sizes: close to the zip Lambda receives. */
    deflatedBytes: number;
    /** Size of the zip file Lambda would receive: each entry deflated (or stored), plus zip's headers. */
    zippedBytes: number;
    packages: string[];
}

/** A message the program logged (pulumi.log), as `pulumi preview` lists it under Diagnostics. */
export interface Diagnostic {
    severity: "info" | "warning" | "error";
    message: string;
}

/** The result of one offline run, in-process. */
export interface OfflineRun extends StackPreview {
    archives: ArchiveSummary[];
    placeholders: string[];
    diagnostics: Diagnostic[];
}

/**
 * Runs `work` while collecting what pulumi.log writes: without an engine (the mock runtime) the
 * SDK prints "info: [runtime] ..." to stdout and "warning: [runtime] ..." to stderr, which would
 * otherwise mix with --json output.
 */
async function collectingDiagnostics<T>(diagnostics: Diagnostic[], work: () => Promise<T>): Promise<T> {
    const original = { log: console.log, warn: console.warn, error: console.error };
    const capture = (fallback: (...args: unknown[]) => void) => (...args: unknown[]) => {
        const line = args.map(String).join(" ");
        const m = /^(info|warning|error): \[runtime\] ([\s\S]*)$/.exec(line);
        if (m) diagnostics.push({ severity: m[1] as Diagnostic["severity"], message: m[2] });
        else fallback(...args);
    };
    console.log = capture(original.log);
    console.warn = capture(original.warn);
    console.error = capture(original.error);
    try {
        return await work();
    } finally {
        Object.assign(console, original);
    }
}

/** Replaces every leaf of a value by SECRET_MASK, keeping its shape (map keys stay visible). */
function maskLeaves(value: unknown): unknown {
    if (isSecretValue(value)) return maskLeaves(value.value);
    if (Array.isArray(value)) return value.map(maskLeaves);
    if (value && typeof value === "object" && value.constructor === Object) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskLeaves(v)]));
    }
    return SECRET_MASK;
}

/** Masks secrets and records their paths. */
function mask(value: unknown, at: string, secrets: string[]): unknown {
    if (isSecretValue(value)) {
        secrets.push(at);
        return maskLeaves(value.value);
    }
    if (Array.isArray(value)) return value.map((v, i) => mask(v, `${at}[${i}]`, secrets));
    if (value && typeof value === "object") {
        const constructorName = value.constructor?.name;
        if (constructorName && constructorName !== "Object") return `[${constructorName}]`; // assets, archives
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, at ? `${at}.${k}` : k, secrets)]));
    }
    return value;
}

/** The mock account's region when neither the stack nor the environment names one. */
const DEFAULT_REGION = "us-east-1";

/** The region a stack deploys to, as the AWS provider finds it (its aws:region, else AWS_REGION or AWS_DEFAULT_REGION), else the mock's. */
export function stackRegion(values: Record<string, string>): string {
    return providerRegion(values["aws:region"])?.region ?? DEFAULT_REGION;
}

/** Outputs a deployed stack would have, in real formats, derived from its config file. */
export function synthesizeOutputs(projectDir: string, stack: string): Record<string, unknown> {
    const config = loadStackConfig(projectDir, stack);
    const region = stackRegion(config.values);
    const restApiId = `${stack.slice(0, 4)}0deploy`.padEnd(10, "0").slice(0, 10);
    const alarms = slotAlarmNames(config.project, stack);
    const outputs: Record<string, unknown> = {
        slot: stack,
        restApiId,
        stageName: stack,
        invokeUrl: `https://${restApiId}.execute-api.${region}.amazonaws.com/${stack}`,
        executionArn: `arn:${partitionOf(region)}:execute-api:${region}:${MOCK_ACCOUNT}:${restApiId}/${stack}`,
        specSha256: "0".repeat(64),
        releaseId: config.values["gateway:releaseId"] ?? "deployed",
        authorizerFunctionName: `${stack}-authorizer-pair-authorizer-0000000`,
        reporterFunctionName: `${stack}-authorizer-pair-reporter-0000000`,
        usageTopicArn: `arn:${partitionOf(region)}:sns:${region}:${MOCK_ACCOUNT}:${stack}-authorizer-pair-usage-0000000`,
        deadLetterQueueUrl: `https://sqs.${region}.amazonaws.com/${MOCK_ACCOUNT}/${stack}-authorizer-pair-usage-dlq-0000000`,
        alarmNames: bakeAlarmNames(alarms),
        deadLetterAlarmName: alarms.deadLetters,
    };
    if (config.values["gateway:cloudWatchRole"] === "create") {
        outputs.gatewayCloudWatchRoleArn = `arn:${partitionOf(region)}:iam::${MOCK_ACCOUNT}:role/${stack}-gateway-account-cloudwatch-role-0000000`;
    }
    const order = config.values["ring:order"] ? JSON.parse(config.values["ring:order"]) as string[] : ["red", "black"];
    if ((config.values["ring:primary"] ?? order[0]) === stack) {
        Object.assign(outputs, {
            vpcId: "vpc-0deployed00000000",
            privateSubnetIds: ["subnet-0deployed0000000a", "subnet-0deployed0000000b"],
            lambdaSecurityGroupId: "sg-0deployed00000000",
            redisEndpoint: `master.${stack}-auth-cache-redis.deploy.use1.cache.amazonaws.com`,
            redisPort: 6379,
            redisAuthToken: secretValue("offline-placeholder-deployed-auth-token"),
            dashboardName: config.project,
            dashboardUrl: `https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${config.project}`,
        });
    }
    return outputs;
}

/**
 * Outputs the live pointer's stack would have, derived from its config file: its last deploy pointed
 * the domain at the primary, with no history and no cohort.
 */
export function synthesizeLivePointerOutputs(projectDir: string, stack: string): Record<string, unknown> {
    const { slots, live } = projectDirs(projectDir);
    const order = JSON.parse(loadStackConfig(slots, listStacks(slots)[0]).values["ring:order"] ?? "[\"red\",\"black\"]") as string[];
    const primary = loadStackConfig(slots, order[0]).values["ring:primary"] ?? order[0];
    const config = loadStackConfig(live, stack, []);
    return {
        liveSlot: primary, previousLive: null, liveUrl: `https://${config.values["domain:name"]}/${config.values["domain:basePath"] ?? ""}`,
        domainName: config.values["domain:name"], ringHistory: [], cohorts: [],
    };
}

/** Runs the program for one stack in this process. Call once per process. */
export async function runOffline(stack: string, options: OfflineOptions = {}): Promise<OfflineRun> {
    const projectDir = options.projectDir ?? PROJECT_DIR;
    const dirs = projectDirs(projectDir);
    const isLivePointer = projectDir === dirs.live;
    const config: StackConfigFile = loadStackConfig(projectDir, stack, isLivePointer ? [] : undefined);
    for (const [key, value] of Object.entries(options.overrides ?? {})) {
        if (value === null) delete config.values[key];
        else config.values[key] = value;
    }
    const region = stackRegion(config.values);
    const slotOutputs = (name: string): Record<string, unknown> | undefined => {
        if (options.deployed && name in options.deployed) return options.deployed[name] ?? undefined;
        if ((name === stack && !isLivePointer) || !listStacks(dirs.slots).includes(name)) return undefined;
        return synthesizeOutputs(dirs.slots, name);
    };
    const cloud = new MockCloud({
        region,
        stackOutputs: (fullName) => {
            const [, project, name] = fullName.split("/");
            if (!project.endsWith(LIVE_POINTER_PROJECT_SUFFIX)) return slotOutputs(name);
            if (options.deployed && name in options.deployed) return options.deployed[name] ?? undefined;
            return listStacks(dirs.live).includes(name) ? synthesizeLivePointerOutputs(projectDir, name) : undefined;
        },
        account: isLivePointer ? undefined : accountBefore(dirs.slots, stack, region, config, slotOutputs),
    });

    // The SDK must see the mocks before the program loads @pulumi/aws (see DESIGN.md §9).
    await pulumi.runtime.setMocks(cloud, config.project, stack, false, "organization");
    pulumi.runtime.setAllConfig(config.values, config.secretKeys);
    const previousCwd = process.cwd();
    const entry = programEntry(projectDir);
    process.chdir(entry.pwd);
    const parents = new Map<pulumi.Resource, pulumi.Resource | undefined>();
    // runInPulumiStack resolves outputs to plain values; keep the program's own (secret-aware) ones.
    let stackOutputs: Record<string, unknown> = {};
    const diagnostics: Diagnostic[] = [];
    try {
        const program = (await import(path.resolve(entry.pwd, entry.main))) as { default: () => Promise<Record<string, unknown>> };
        await pulumi.runtime.runInPulumiStack(async () => {
            // Legacy transformations run inside the SDK, so they see every resource's parent even under mocks.
            pulumi.runtime.registerStackTransformation((t) => {
                parents.set(t.resource, t.opts.parent);
                return undefined;
            });
            stackOutputs = await collectingDiagnostics(diagnostics, () => program.default());
            return stackOutputs;
        });
        await pulumi.runtime.disconnect();
    } finally {
        process.chdir(previousCwd);
    }

    if (cloud.refusals.length > 0) throw new AwsRefusalError(cloud.refusals);

    const urnOf = new Map<string, { urn: string; parent?: string }>();
    const stackResource = pulumi.runtime.getStackResource();
    const stackUrn = stackResource ? await resolve(stackResource.urn) : undefined;
    for (const [resource, parent] of parents) {
        const urn = await resolve(resource.urn);
        const type = urn.split("::")[2].split("$").pop() as string;
        urnOf.set(`${type}::${urn.split("::")[3]}`, { urn, parent: parent ? await resolve(parent.urn) : stackUrn });
    }
    // Children the mock made for a remote component (the VPC's), named as the engine names a child: the parent's type chain.
    for (const r of cloud.resources.filter((x) => x.parent)) {
        const parent = urnOf.get(`${r.parent?.type}::${r.parent?.name}`);
        if (!parent) continue;
        const [prefix, , qualifiedType] = parent.urn.split("::");
        urnOf.set(`${r.type}::${r.name}`, { urn: `${prefix}::${parent.urn.split("::")[1]}::${qualifiedType}$${r.type}::${r.name}`, parent: parent.urn });
    }

    const resources: PreviewResource[] = cloud.resources.map((r) => {
        const secretInputs: string[] = [];
        const inputs = mask(r.inputs, "", secretInputs) as Record<string, unknown>;
        const state = mask(r.state, "", []) as Record<string, unknown>;
        const known = r.type === "pulumi:pulumi:Stack" ? { urn: stackUrn as string } : urnOf.get(`${r.type}::${r.name}`);
        return { urn: known?.urn ?? "", type: r.type, name: r.name, id: r.custom ? r.id : "", parent: known?.parent, custom: r.custom, inputs, secretInputs, state };
    });

    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [name, value] of Object.entries(stackOutputs)) {
        const output = pulumi.output(value);
        if (await pulumi.isSecret(output)) {
            secretOutputs.push(name);
            outputs[name] = SECRET_MASK;
        } else {
            outputs[name] = await resolve(output);
        }
    }

    const archives: ArchiveSummary[] = [];
    if (options.archiveDir) {
        for (const r of cloud.resources.filter((x) => x.type === "aws:lambda/function:Function")) {
            archives.push(await writeArchive(r.name, r.inputs.code, path.resolve(previousCwd, options.archiveDir)));
        }
    }

    const configView: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config.values)) configView[key] = config.secretKeys.includes(key) ? SECRET_MASK : value;
    return {
        stack, project: config.project, resources, outputs, secretOutputs, config: configView,
        secretConfig: config.secretKeys, archives, placeholders: config.placeholders, diagnostics,
    };
}

/** The project's fix for a refusal of AWS's rules that config decides, by rule id. */
const FIXES: Record<string, string> = {
    "apigateway.stage-logging-needs-account-role": "set `gateway:cloudWatchRole: create` on the primary (it then owns the region's API Gateway CloudWatch role), " +
        "or `gateway:cloudWatchRole: existing` when the account already has one (README: Deploying to AWS)",
    "apigateway.method-logging-needs-account-role": "set `gateway:cloudWatchRole: create` on the primary, or `existing` when the account already has the role",
};

/** What AWS would refuse: the run fails as `pulumi up` would, naming every refused input and the project's fix where config decides it. */
export class AwsRefusalError extends Error {
    constructor(readonly refusals: Refusal[]) {
        const fixes = [...new Set(refusals.map((r) => FIXES[r.ruleId]).filter((f): f is string => f !== undefined))];
        super(`AWS would refuse ${refusals.length} input${refusals.length === 1 ? "" : "s"} (\`pulumi up\` would fail):\n` +
            refusals.map((r) => `  - ${formatRefusal(r)}`).join("\n") + fixes.map((f) => `\nfix: ${f}`).join(""));
        this.name = "AwsRefusalError";
    }
}

/**
 * The API Gateway account settings of `region` before this run, as far as the project knows them: a
 * CloudWatch role a stack of the ring deployed to the same region owns (its `gatewayCloudWatchRoleArn`
 * output, deployed or derived from its config; the setting is one per account and region), or one the
 * stack says the account already has (`gateway:cloudWatchRole: existing`); otherwise a fresh region,
 * which has none.
 */
function accountBefore(projectDir: string, stack: string, region: string, config: StackConfigFile,
    outputsOf: (stack: string) => Record<string, unknown> | undefined): AccountSettings {
    if (config.values["gateway:cloudWatchRole"] === "existing") {
        return { cloudWatchRoleArn: `arn:${partitionOf(region)}:iam::${MOCK_ACCOUNT}:role/existing-api-gateway-cloudwatch`, cloudWatchRoleSource: "gateway:cloudWatchRole: existing" };
    }
    for (const other of listStacks(projectDir).filter((s) => s !== stack)) {
        if (stackRegion(loadStackConfig(projectDir, other).values) !== region) continue;
        const arn = outputsOf(other)?.gatewayCloudWatchRoleArn;
        if (typeof arn === "string") return { cloudWatchRoleArn: arn, cloudWatchRoleSource: `stack ${other}'s gatewayCloudWatchRoleArn (${region})` };
    }
    return {};
}

/** Writes a function's AssetArchive as the folder Lambda unpacks. */
async function writeArchive(name: string, code: unknown, root: string): Promise<ArchiveSummary> {
    if (!(code instanceof pulumi.asset.AssetArchive)) throw new Error(`${name}: code is not an AssetArchive`);
    const dir = path.join(root, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const packages = new Set<string>();
    for (const [entry, asset] of Object.entries(await code.assets)) {
        const target = path.join(dir, entry);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        if (asset instanceof pulumi.asset.StringAsset) {
            fs.writeFileSync(target, await (asset as unknown as { text: Promise<string> }).text);
        } else if (asset instanceof pulumi.asset.FileAsset || asset instanceof pulumi.asset.FileArchive) {
            const source = await (asset as unknown as { path: Promise<string> }).path;
            fs.cpSync(source, target, { recursive: true, dereference: true });
        } else {
            throw new Error(`${name}: archive entry ${entry} is a ${asset.constructor.name}, which the offline preview cannot write`);
        }
    }
    let files = 0;
    let bytes = 0;
    let deflatedBytes = 0;
    let zippedBytes = 22; // a zip's end-of-central-directory record
    for (const file of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (!file.isFile()) continue;
        const full = path.join(file.parentPath, file.name);
        const content = fs.readFileSync(full);
        const deflated = deflateRawSync(content).length;
        const relative = path.relative(dir, full);
        const nameBytes = Buffer.byteLength(relative);
        // A package is shipped wherever a node_modules folder of the archive holds it.
        const parts = relative.split(path.sep);
        const at = parts.lastIndexOf("node_modules");
        if (at >= 0 && at + 2 < parts.length) packages.add(parts.slice(at + 1, parts[at + 1].startsWith("@") ? at + 3 : at + 2).join("/"));
        files += 1;
        bytes += content.length;
        deflatedBytes += deflated;
        // Each entry is stored or deflated, whichever is smaller, behind a local header (30 bytes + name) and a central directory entry (46 + name).
        zippedBytes += Math.min(deflated, content.length) + 30 + nameBytes + 46 + nameBytes;
    }
    return { function: name, dir, files, bytes, deflatedBytes, zippedBytes, packages: [...packages].sort() };
}

/** Runs the offline preview of one stack in a child process (the runtime is one per process). */
export function previewStack(stack: string, options: OfflineOptions = {}): OfflineRun {
    const args = [path.join(__dirname, "cli.js"), "--stack", stack, "--json"];
    if (options.archiveDir) args.push("--archives", options.archiveDir);
    if (options.projectDir) args.push("--project", options.projectDir);
    for (const [key, value] of Object.entries(options.overrides ?? {})) {
        args.push(value === null ? "--unset" : "--set", value === null ? key : `${key}=${value}`);
    }
    let deployedFile: string | undefined;
    if (options.deployed) {
        deployedFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-deployed-")), "deployed.json");
        fs.writeFileSync(deployedFile, JSON.stringify(options.deployed));
        args.push("--deployed", deployedFile);
    }
    const child = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (deployedFile) fs.rmSync(path.dirname(deployedFile), { recursive: true, force: true });
    if (child.status !== 0) {
        throw new OfflinePreviewError(stack, child.stderr.trim() || child.stdout.trim() || `exit ${child.status}`);
    }
    return JSON.parse(child.stdout) as OfflineRun;
}

export class OfflinePreviewError extends Error {
    constructor(readonly stack: string, readonly details: string) {
        super(`offline preview of stack "${stack}" failed:\n${details}`);
        this.name = "OfflinePreviewError";
    }
}

/** Renders a run like `pulumi preview`: the resource tree, then outputs. */
export function renderPreview(run: OfflineRun): string {
    const lines: string[] = [`Previewing update (${run.stack}) offline, against a mock AWS account ${MOCK_ACCOUNT}:`, ""];
    const children = new Map<string | undefined, PreviewResource[]>();
    for (const r of run.resources) {
        const key = r.type === "pulumi:pulumi:Stack" ? "root" : r.parent;
        children.set(key, [...(children.get(key) ?? []), r]);
    }
    const rows: [string, string][] = [];
    const walk = (r: PreviewResource, prefix: string, last: boolean, depth: number) => {
        rows.push([`${depth === 0 ? "" : prefix + (last ? "└─ " : "├─ ")}${r.type}`, r.name]);
        const kids = children.get(r.urn) ?? [];
        kids.forEach((k, i) => walk(k, depth === 0 ? "" : prefix + (last ? "   " : "│  "), i === kids.length - 1, depth + 1));
    };
    for (const root of children.get("root") ?? []) walk(root, "", true, 0);
    const width = Math.max(...rows.map(([t]) => t.length), 4) + 2;
    lines.push(`     ${"Type".padEnd(width)}Name`);
    for (const [type, name] of rows) lines.push(` +   ${type.padEnd(width)}${name}`);
    if (run.diagnostics.length > 0) {
        lines.push("", "Diagnostics:", `  pulumi:pulumi:Stack (${run.project}-${run.stack}):`);
        for (const d of run.diagnostics) lines.push(`    ${d.severity}: ${d.message}`);
    }
    lines.push("", "Outputs:");
    const keyWidth = Math.max(...Object.keys(run.outputs).map((k) => k.length)) + 2;
    for (const [name, value] of Object.entries(run.outputs).sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`    ${`${name}:`.padEnd(keyWidth)}${value === SECRET_MASK ? "[secret]" : JSON.stringify(value)}`);
    }
    lines.push("", "Resources:", `    + ${run.resources.length} to create`);
    for (const a of run.archives) {
        lines.push(`Lambda archive ${a.function}: ${a.files} files, ${(a.bytes / 1024).toFixed(0)} KiB (${(a.zippedBytes / 1024).toFixed(0)} KiB zipped), packages: ${a.packages.join(", ") || "none"} -> ${a.dir}`);
    }
    if (run.placeholders.length > 0) {
        lines.push("", `Note: ${run.placeholders.join(", ")} previewed with placeholder secrets; before \`pulumi up\`, set ` +
            run.placeholders.map((k) => `\`pulumi config set --secret ${k} <value> -s ${run.stack}\``).join(" and ") + ".");
    }
    return lines.join("\n");
}

interface CliArgs {
    /** Each stack with the project directory that holds its Pulumi.<stack>.yaml. */
    stacks: { stack: string; dir: string }[];
    json: boolean;
    archiveDir?: string;
    projectDir: string;
    deployedFile?: string;
    overrides: Record<string, string | null>;
}

const USAGE = `usage: npm run preview -- [--stack <name>|all] [--json] [--archives DIR]

Runs the program for each stack under Pulumi's mock runtime with the stack's own config
files and prints what \`pulumi preview\` would: the resource tree and the stack outputs.
Every stack: the slots' (Pulumi.<slot>.yaml) and the live pointer's (live/Pulumi.<stack>.yaml),
previewed as if its last deploy pointed the domain at the primary.
  --stack NAME    one stack (a Pulumi.NAME.yaml or live/Pulumi.NAME.yaml), or all (default)
  --json          print the previews as JSON, with every resource's inputs (secrets masked)
  --archives DIR  write each Lambda's deployment archive to DIR/<function>/
  --set KEY=VALUE change a config value for this run only (repeatable)
  --unset KEY     remove a config value for this run only (repeatable)
  --deployed FILE JSON map of stack name to its deployed outputs (null = never deployed),
                  for StackReferences; other stacks get outputs derived from their config`;

function parseArgs(argv: string[]): CliArgs {
    const { values } = parseArgs_({
        args: argv,
        strict: true,
        options: {
            stack: { type: "string", multiple: true, default: [] },
            json: { type: "boolean", default: false },
            archives: { type: "string" },
            project: { type: "string" },
            deployed: { type: "string" },
            set: { type: "string", multiple: true, default: [] },
            unset: { type: "string", multiple: true, default: [] },
            help: { type: "boolean", short: "h", default: false },
        },
    });
    if (values.help) {
        console.log(USAGE);
        process.exit(0);
    }
    const projectDir = values.project ? path.resolve(values.project) : PROJECT_DIR;
    const overrides: Record<string, string | null> = Object.fromEntries(values.set.map(parseOverride));
    for (const key of values.unset) overrides[key] = null;
    const known = allStacks(projectDir);
    const stacks = values.stack.length === 0 || values.stack.includes("all") ? known : values.stack.map((stack) => {
        const found = known.find((k) => k.stack === stack);
        if (!found) throw new Error(`no stack "${stack}": no Pulumi.${stack}.yaml beside Pulumi.yaml or in ${LIVE_DIR}/ (stacks: ${known.map((k) => k.stack).join(", ")})`);
        return found;
    });
    return { stacks, json: values.json, archiveDir: values.archives, projectDir, deployedFile: values.deployed, overrides };
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const deployed = args.deployedFile ? JSON.parse(fs.readFileSync(args.deployedFile, "utf8")) : undefined;
    const options: OfflineOptions = { archiveDir: args.archiveDir, deployed, overrides: args.overrides };
    if (args.stacks.length === 1) {
        const started = Date.now();
        const run = await runOffline(args.stacks[0].stack, { ...options, projectDir: args.stacks[0].dir });
        if (args.json) {
            process.stdout.write(JSON.stringify(run) + "\n");
        } else {
            console.log(renderPreview(run));
            console.log(`Duration: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        }
        return;
    }
    // One process per stack: Pulumi's runtime state is global to a process.
    const runs: OfflineRun[] = [];
    for (const { stack, dir } of args.stacks) {
        const started = Date.now();
        const run = previewStack(stack, { ...options, projectDir: dir });
        runs.push(run);
        if (!args.json) console.log(`${renderPreview(run)}\nDuration: ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    }
    if (args.json) process.stdout.write(JSON.stringify(runs) + "\n");
}

if (require.main === module) {
    main().catch((e: Error) => {
        console.error(e instanceof OfflinePreviewError ? e.message : e instanceof AwsRefusalError ? `error: ${e.message}` : `error: ${e.message}${(e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? `\n${USAGE}` : ""}`);
        process.exit(1);
    });
}
