// The stand-in `pulumi` CLI's backend (see fake-pulumi.ts): stacks and their state in one JSON file,
// named and resolved as the CLI does, config in the project's stack files, and `state move`.
//
// Sources, read from pulumi/pulumi (snapshot 1b5949891b):
// - Stack names: a bare name is a stack of the project in the working directory, `org/stack` the same
//   project in another org, `org/project/stack` fully qualified (pkg/backend/diy/store.go,
//   ParseReference). Stacks are kept per project, as the diy backend keeps
//   `.pulumi/stacks/<project>/<stack>.json`; the org is not kept (the diy backend has only
//   "organization").
// - A stack's outputs are its root stack resource's outputs (pkg/resource/stack/deployment.go,
//   DeserializeStackOutputs); a StackReference to a stack that does not exist fails with
//   `unknown stack "<name>"` (pkg/backend/backend.go, backendClient.GetStackOutputs); one with no
//   deployment yet answers no outputs (pkg/backend/diy/state.go, getSnapshotStackOutputs).
// - `pulumi config set` writes the value into Pulumi.<stack>.yaml beside the project's Pulumi.yaml
//   (pkg/cmd/pulumi/config/config.go); a secret is written `secure: <ciphertext>` (here `fake:<value>`).
// - `pulumi state move` (pkg/cmd/pulumi/state/state_move.go, CLI 3.115+): see moveState below.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

export interface FakeResource {
    urn: string;
    custom: boolean;
    type: string;
    id?: string;
    parent?: string;
    /** `<provider urn>::<provider id>`, as the engine records a resource's provider. */
    provider?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    dependencies?: string[];
    /** A resource the engine has not finished deleting (replace, failed delete). */
    delete?: boolean;
    /** Protected: the engine refuses to delete it (`pulumi import` protects what it imports, by default). */
    protect?: boolean;
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
    /** The root stack resource's outputs, plain (secrets unwrapped). */
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

/** A routing rule of a custom domain, as API Gateway V2's GetRoutingRule answers it. */
export interface FakeRoutingRule {
    id: string;
    priority: number;
    conditions: { matchHeaders?: { anyOf: { header: string; valueGlob: string } }; matchBasePaths?: { anyOfs: string[] } }[];
    actions: { invokeApi: { apiId: string; stage: string; stripBasePath?: boolean } }[];
}

/** One call the stand-in's AWS provider made, for tests that assert what AWS saw. */
export interface FakeAwsCall {
    op: "create" | "update" | "delete";
    type: string;
    id: string;
    stack: string;
}

/** What AWS says, apart from Pulumi's state: what the tests' AWS SDK stubs answer from. */
export interface FakeAws {
    /** Base path mappings by domain name (the root mapping, base path "(none)", or the one base path given). */
    mappings: Record<string, { restApiId: string; stage: string; basePath?: string }>;
    /** Custom domains API Gateway knows: those the program creates, or a test seeds. */
    domains?: Record<string, { routingMode: string; endpointType: string }>;
    /** Routing rules by domain name. */
    routingRules?: Record<string, FakeRoutingRule[]>;
    calls?: FakeAwsCall[];
    /** Provider operations that fail, as AWS would refuse them (a throttled call, a rule stuck in use): each fails every time until removed. */
    failSteps?: { op: "create" | "update" | "delete"; type: string; message: string }[];
}

export interface FakeState {
    /** Stacks by `<project>/<stack>`. */
    stacks: Record<string, FakeStack>;
    fail?: FakeFailure[];
    /** The selected stack, per project. */
    current?: Record<string, string>;
    aws?: FakeAws;
}

/** The CLI's own error: printed on stderr, exit code 255 (or `code`). */
export class CliError extends Error {
    constructor(readonly stderr: string, readonly code = 255, readonly stdout = "") {
        super(stderr);
    }
}

export type ConfigMap = Record<string, unknown>;

export function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readYaml(file: string): unknown {
    return fs.existsSync(file) ? yaml.load(fs.readFileSync(file, "utf8")) : undefined;
}

/** The project directory holding Pulumi.yaml, searched upwards from `cwd` as the CLI does. */
export function projectDir(cwd: string): string {
    for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) throw new CliError(`error: no Pulumi.yaml project file found (searching upwards from ${cwd})`);
    }
}

export interface Project {
    dir: string;
    name: string;
    doc: Record<string, unknown>;
    /** Project-level config (Pulumi.yaml `config:`), keys qualified with the project name when bare. */
    config: ConfigMap;
}

export function projectOf(cwd: string): Project {
    const dir = projectDir(cwd);
    const doc = readYaml(path.join(dir, "Pulumi.yaml"));
    if (!isRecord(doc) || typeof doc["name"] !== "string") throw new CliError(`error: ${dir}/Pulumi.yaml: project is missing a 'name' attribute`);
    const config: ConfigMap = {};
    if (isRecord(doc["config"])) {
        for (const [k, v] of Object.entries(doc["config"])) {
            const val = isRecord(v) ? ("value" in v ? v["value"] : v["default"]) : v;
            if (val !== undefined) config[k.includes(":") ? k : `${doc["name"]}:${k}`] = val;
        }
    }
    return { dir, name: doc["name"], doc, config };
}

/** A stack named on the command line, resolved against the project in the working directory. */
export interface StackRef {
    project: string;
    stack: string;
    /** The key of the stack in FakeState.stacks. */
    key: string;
}

export function resolveStack(name: string, project: string): StackRef {
    const parts = name.split("/");
    if (parts.length > 3 || parts.some((p) => p === "")) throw new CliError(`error: could not parse stack reference '${name}'`);
    const stackProject = parts.length === 3 ? parts[1] : project;
    const stack = parts[parts.length - 1];
    return { project: stackProject, stack, key: `${stackProject}/${stack}` };
}

function stackFile(project: Project, stack: string): string {
    return path.join(project.dir, `Pulumi.${stack}.yaml`);
}

/** The stack file's own config (Pulumi.<stack>.yaml), values as written. */
export function stackConfig(project: Project, stack: string): ConfigMap {
    const doc = readYaml(stackFile(project, stack));
    return isRecord(doc) && isRecord(doc["config"]) ? { ...doc["config"] } : {};
}

export function writeStackConfig(project: Project, stack: string, config: ConfigMap): void {
    const file = stackFile(project, stack);
    const doc = readYaml(file);
    fs.writeFileSync(file, yaml.dump(isRecord(doc) ? { ...doc, config } : { config }));
}

/** Stack config with project-level values under it, as `pulumi config` and the program see it. */
export function mergedConfig(project: Project, stack: string): ConfigMap {
    return { ...project.config, ...stackConfig(project, stack) };
}

/** A secret as the stand-in writes it: `secure: fake:<value>`. */
export function isSecure(value: unknown): value is { secure: string } {
    return isRecord(value) && typeof value["secure"] === "string";
}

export function decrypt(value: { secure: string }): string {
    return value.secure.replace(/^fake:/, "");
}

export function emptyStack(): FakeStack {
    return { outputs: {}, secretOutputs: [], resources: [], history: [] };
}

export function getStack(state: FakeState, ref: StackRef): FakeStack {
    const st = state.stacks[ref.key];
    if (!st) throw new CliError(`error: no stack named '${ref.stack}' found`);
    return st;
}

/** The root stack resource's URN (pkg/resource/stack/deployment.go, CreateRootStackResource). */
export function rootStackUrn(project: string, stack: string): string {
    return `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`;
}

/** `pulumi stack export`: a version 3 deployment. */
export function exportDeployment(st: FakeStack): unknown {
    return {
        version: 3,
        deployment: {
            manifest: { time: "2026-01-01T00:00:00Z", magic: "fake", version: "v3.270.0" },
            secrets_providers: { type: "passphrase", state: { salt: "v1:fake" } },
            resources: st.resources,
        },
    };
}

const PROVIDER_PREFIX = "pulumi:providers:";

/** The URN with its stack and project renamed (urn.RenameStack, urn.RenameProject), and its type chain rebuilt for `parentType`. */
function rewriteUrn(urn: string, dest: StackRef, parentType?: string): string {
    const parts = urn.split("::");
    const qualified = parts[2];
    const name = parts.slice(3).join("::");
    const type = qualified.split("$").pop() as string;
    const chain = parentType === undefined ? qualified : parentType === "" ? type : `${parentType}$${type}`;
    return `urn:pulumi:${dest.stack}::${dest.project}::${chain}::${name}`;
}

function qualifiedType(urn: string): string {
    return urn.split("::")[2];
}

/**
 * `pulumi state move --source S --dest D [--include-parents] <urn>...`, as state_move.go does it:
 * the named resources and their children move (a provider cannot be named: "cannot move providers");
 * providers they use are copied (they stay in the source too) and reparented to the destination's root
 * stack; a moved resource whose parent stays is reparented to the destination's root stack (created
 * when the destination has none), and every URN is renamed to the destination's stack and project;
 * dependencies on resources that stay are dropped and listed; a resource that already exists in the
 * destination stops the move; the destination is saved before the source. Returns what the CLI prints.
 */
export function moveState(state: FakeState, source: StackRef, dest: StackRef, urns: string[], includeParents: boolean): string {
    const src = state.stacks[source.key];
    if (!src) throw new CliError(`error: no stack named '${source.stack}' found`);
    const dst = state.stacks[dest.key];
    if (!dst) throw new CliError(`error: no stack named '${dest.stack}' found`);
    if (src.resources.length === 0) throw new CliError("error: source stack has no resources");

    const out: string[] = [];
    const toMove = new Map<string, FakeResource>();
    for (const res of src.resources) {
        if (!urns.includes(res.urn)) continue;
        if (res.type.startsWith(PROVIDER_PREFIX)) throw new CliError("error: cannot move providers. Only resources can be moved, and providers will be included automatically");
        toMove.set(res.urn, res);
    }
    for (const urn of urns.filter((u) => !toMove.has(u))) out.push(`warning: Resource ${urn} not found in source stack`);
    if (toMove.size === 0) {
        throw new CliError(`error: no resources found to move\nRun 'pulumi stack --stack ${source.key} --show-urns' to get a list of URNs`, 255, out.join("\n"));
    }
    const byUrn = new Map(src.resources.map((r) => [r.urn, r]));
    if (includeParents) {
        for (const res of [...toMove.values()]) {
            for (let p = res.parent ? byUrn.get(res.parent) : undefined; p; p = p.parent ? byUrn.get(p.parent) : undefined) {
                if (p.type === "pulumi:pulumi:Stack" || p.type.startsWith(PROVIDER_PREFIX)) continue;
                toMove.set(p.urn, p);
            }
        }
    }
    // Children of what moves move with it (ChildrenOf: direct children, walked as the set grows).
    for (let grew = true; grew;) {
        grew = false;
        for (const res of src.resources) {
            if (!toMove.has(res.urn) && res.parent && toMove.has(res.parent) && !res.type.startsWith(PROVIDER_PREFIX)) {
                toMove.set(res.urn, res);
                grew = true;
            }
        }
    }
    for (const res of [...toMove.values()]) if (res.type === "pulumi:pulumi:Stack") toMove.delete(res.urn);

    const remaining = src.resources.filter((r) => !toMove.has(r.urn));
    const moving = src.resources.filter((r) => toMove.has(r.urn));
    const broken: string[] = [];
    for (const r of remaining) {
        const kept = (r.dependencies ?? []).filter((d) => !toMove.has(d));
        if (kept.length !== (r.dependencies ?? []).length) broken.push(`  ${r.urn} depends on a moved resource`);
        r.dependencies = kept;
    }

    const destRoot = rootStackUrn(dest.project, dest.stack);
    const destResources = [...dst.resources];
    if (!destResources.some((r) => r.type === "pulumi:pulumi:Stack")) destResources.unshift({ urn: destRoot, custom: false, type: "pulumi:pulumi:Stack" });
    const rewrite = new Map<string, string>();
    const providerRefs = new Set(moving.map((r) => r.provider).filter((p): p is string => !!p));
    for (const prov of remaining.filter((r) => r.type.startsWith(PROVIDER_PREFIX) && providerRefs.has(`${r.urn}::${r.id}`))) {
        const copy: FakeResource = { ...prov, urn: rewriteUrn(prov.urn, dest, ""), parent: destRoot, dependencies: [] };
        const existing = destResources.find((r) => r.urn === copy.urn);
        if (existing && existing.id !== copy.id && JSON.stringify(existing.inputs) !== JSON.stringify(copy.inputs)) {
            throw new CliError(`error: provider ${copy.urn} already exists in destination stack`);
        }
        rewrite.set(`${prov.urn}::${prov.id}`, `${copy.urn}::${(existing ?? copy).id}`);
        if (!existing) destResources.push(copy);
    }

    out.push(`Planning to move the following resources from organization/${source.key} to organization/${dest.key}:`, "");
    for (const r of moving) out.push(`  - ${r.urn}`);
    out.push("");
    for (const res of moving) {
        const parent = res.parent && toMove.has(res.parent) ? rewrite.get(res.parent) as string : destRoot;
        const urn = rewriteUrn(res.urn, dest, parent === destRoot ? "" : qualifiedType(parent));
        if (destResources.some((r) => r.urn === urn)) throw new CliError(`error: resource ${urn} already exists in destination stack`);
        const deps = res.dependencies ?? [];
        const keptDeps = deps.filter((d) => toMove.has(d));
        if (keptDeps.length !== deps.length) broken.push(`  ${res.urn} depends on a resource that stays`);
        rewrite.set(res.urn, urn);
        destResources.push({
            ...res, urn, parent,
            provider: res.provider ? rewrite.get(res.provider) ?? res.provider : undefined,
            dependencies: keptDeps.map((d) => rewrite.get(d) ?? d),
        });
    }
    if (broken.length > 0) out.push("The following dependencies were broken by the move:", ...broken, "");
    dst.resources = destResources;
    src.resources = remaining;
    out.push(`Successfully moved resources from organization/${source.key} to organization/${dest.key}`);
    return out.join("\n") + "\n";
}
