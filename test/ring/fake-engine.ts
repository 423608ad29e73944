// The stand-in `pulumi up`: runs the stack's real program under Pulumi's mock runtime and turns what
// it registers into steps the way the engine does, then applies them to the stand-in's backend and
// to the stand-in's AWS (fake-backend.ts). Read from pulumi/pulumi (snapshot 1b5949891b):
//
// - The program: the nodejs language host runs Pulumi.yaml's `main` from the directory the engine
//   gives it (pkg/engine/project.go, getPwdMain), requires it, and awaits the module's function (or
//   its exports) as the stack's outputs (sdk/nodejs/cmd/run/run.ts). A RunError is reported as its
//   message alone, anything else as "Running program '<dir>' failed with an unhandled exception".
// - Targets (pkg/resource/deploy/step_generator.go): with `--target`, a resource is updated only when
//   its URN is targeted; providers and the root stack are implicitly targeted (isImplicitlyTargetedResource).
//   An existing resource that is not targeted gets a SameStep: its old state is kept and handed back to
//   the program. A new resource that is not targeted is a skipped create: not recorded. Deletes are
//   generated only after the program finished, and only of targeted resources (GenerateDeletes).
// - Root outputs (pkg/resource/deploy/step_executor.go, executeRegisterResourceOutputs, and
//   deployment_executor.go, which finalizes them once the steps are done): the root stack's outputs event
//   is held until the deployment ends, targeted or not. Succeeded: the program's outputs are the stack's.
//   Errored: if the event came before the error (the program returned and its outputs resolved, e.g.
//   before a delete, which runs after the program), the old outputs are kept and those the program
//   registered replace them; an event after the error is never handled (the step executor cancelled the
//   deployment), and a program that threw registers none of its own: the old outputs stay. The stand-in's
//   provider steps answer at once, so a step failing while the program runs comes before its outputs.
// - A failed step ends the update; deletes run children first, and the one that failed and those after
//   it stay in the state.
// - ignoreChanges: ignored properties take their old values before the diff (step_generator.go,
//   processIgnoreChanges).
// - Same, update or replace: an existing resource whose inputs did not change is the same (a property
//   the provider computes when left out, PROVIDER_KEEPS, is no change when left out); otherwise it is
//   updated in place, unless a property its provider replaces on changed (REPLACE_ON, from the
//   providers' schemas) changed.
// - Default providers: one per package, `pulumi:providers:<pkg>::default_<version>`, recorded before the
//   resources that use them, each resource naming it as `<urn>::<id>` (pkg/resource/deploy/providers).
//
// What the stand-in's AWS does with the steps (FakeAws): a base path mapping created where one exists
// fails with API Gateway's ConflictException; a routing rule needs a domain whose routing mode admits
// rules and a priority no other rule of the domain has (AWS "Routing rules to connect API stages to a
// custom domain name for REST APIs"). A protected resource the program no longer declares is not deleted:
// the update fails (step_generator.go, GenerateDeletes); a resource the program registers takes the
// program's protect (none here), as the engine's update of it does. Not modelled: `--target-dependents`,
// the "untargeted create" error for a targeted resource that depends on a skipped create, refresh.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MockCloud, SIG_KEY, isSecretValue, resolveOutput, secretValue } from "../../preview/mock-cloud";
import { programEntry } from "../../stack-config";
import {
    CliError, FakeAws, FakeResource, FakeRoutingRule, FakeStack, FakeState, Project, StackRef, isRecord, rootStackUrn,
} from "./fake-backend";

/** Properties whose change makes the provider replace the resource rather than update it. */
const REPLACE_ON: Record<string, string[]> = {
    "aws:apigateway/basePathMapping:BasePathMapping": ["domainName"],
    "aws:apigateway/domainName:DomainName": ["domainName"],
    "aws:apigatewayv2/routingRule:RoutingRule": ["domainName"],
    "aws:apigateway/restApi:RestApi": [],
};

const MAPPING_TYPE = "aws:apigateway/basePathMapping:BasePathMapping";
const DOMAIN_TYPE = "aws:apigateway/domainName:DomainName";
const RULE_TYPE = "aws:apigatewayv2/routingRule:RoutingRule";

/**
 * Optional and computed properties: left out by the program, the provider keeps what AWS has, so their
 * absence is no change. terraform-provider-aws internal/service/apigateway/domain_name.go declares
 * endpoint_configuration and security_policy Optional+Computed; routing_mode came later, and
 * @pulumi/aws types it as it types those two, an output always present (apigateway/domainName.d.ts:
 * `routingMode: pulumi.Output<string>`, where an optional-only property is `Output<T | undefined>`).
 */
const PROVIDER_KEEPS: Record<string, string[]> = {
    [DOMAIN_TYPE]: ["endpointConfiguration", "securityPolicy", "routingMode"],
};

/** The inputs as the provider diffs them against `old`: a kept property the program left out is the old one. */
function diffView(type: string, inputs: Record<string, unknown>, old: Record<string, unknown> | undefined): Record<string, unknown> {
    const view = { ...inputs };
    for (const k of PROVIDER_KEEPS[type] ?? []) if (!(k in view) && old && k in old) view[k] = old[k];
    return view;
}

/**
 * ignoreChanges: the engine sets each ignored property of the new inputs back to its old value (or
 * removes it when the old inputs have none) before it diffs and records them
 * (pkg/resource/deploy/step_generator.go, processIgnoreChanges). Top-level property names only.
 */
function ignoreChanges(inputs: Record<string, unknown>, old: Record<string, unknown>, ignored: string[]): void {
    for (const k of ignored) {
        if (k in old) inputs[k] = old[k];
        else delete inputs[k];
    }
}

export interface UpdateRequest {
    project: Project;
    ref: StackRef;
    organization: string;
    /** Config as the CLI hands it to the program: strings (structured values as JSON), secrets decrypted. */
    config: Record<string, string>;
    secretKeys: string[];
    /** URNs of --target; empty for a whole update. */
    targets: string[];
    state: FakeState;
}

export interface UpdateResult {
    changes: Record<string, number>;
    /** The program's or a step's error, as the CLI's diagnostics print it. */
    error?: string;
    /** What the program logged (pulumi.log), as diagnostics. */
    diagnostics: string[];
}

type Step = "same" | "create" | "update" | "replace" | "skip" | "delete";

interface Pending {
    urn: string;
    parent: string;
    custom: boolean;
    dependencies: string[];
    /** The inputs as the SDK put them on the wire (secrets, assets and references as Pulumi's signature objects), assets digested. */
    wireInputs: Record<string, unknown>;
    /** The same, assets whole: what a SameStep hands back for an asset property. */
    rawInputs: Record<string, unknown>;
    /** The resource's ignoreChanges option. */
    ignoreChanges: string[];
}

/** The part of the SDK's RegisterResourceRequest the stand-in reads. */
interface RegisterRequest {
    getParent(): string;
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getDependenciesList(): string[];
    getIgnorechangesList(): string[];
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

interface Monitor {
    registerResource(req: RegisterRequest, callback: (...args: unknown[]) => void): unknown;
    registerResourceOutputs(req: { getUrn(): string }, callback: (...args: unknown[]) => void): unknown;
}

function sha(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

/** The URN the engine gives a resource (resource.NewURN): its type qualified by its parent's type chain. */
function urnOf(project: string, stack: string, parent: string, type: string, name: string): string {
    const qualified = parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** Pulumi's wire signatures of assets and archives (sdk/nodejs/runtime/rpc.ts, specialAssetSig / specialArchiveSig). */
const ASSET_SIGS = new Set(["c44067f5952c0a294b673a41bacd8c17", "0def7320c3a5731c473e5ecbe6d01bc7"]);

/** Inputs as kept in the stand-in's state: an asset or archive by its signature and a hash of its contents, as the engine compares them. */
function digestAssets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(digestAssets);
    if (!isRecord(value)) return value;
    if (ASSET_SIGS.has(String(value[SIG_KEY]))) return { [SIG_KEY]: value[SIG_KEY], hash: sha(JSON.stringify(value)) };
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, digestAssets(v)]));
}

function hasDigest(value: unknown): boolean {
    if (Array.isArray(value)) return value.some(hasDigest);
    if (!isRecord(value)) return false;
    return ASSET_SIGS.has(String(value[SIG_KEY])) || Object.values(value).some(hasDigest);
}

/** Old outputs as handed back to the program: an asset property is the registration's own asset (the old one's digest equals it). */
function withAssets(outputs: Record<string, unknown>, raw: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(outputs).filter(([k, v]) => !hasDigest(v) || k in raw).map(([k, v]) => [k, hasDigest(v) ? raw[k] : v]));
}

/** A value with its objects' keys sorted: the engine compares property maps by key, not by order (resource.PropertyMap.Diff). */
function canonical(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(canonical);
    if (!isRecord(value)) return value;
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
}

function sameInputs(a: unknown, b: unknown): boolean {
    return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** The stand-in's AWS: what a provider's create, update and delete do to it. */
class StandInAws {
    constructor(private readonly aws: FakeAws, private readonly stack: string) {}

    apply(op: "create" | "update" | "delete", type: string, id: string, inputs: Record<string, unknown>): void {
        const refused = this.aws.failSteps?.find((f) => f.op === op && f.type === type);
        if (refused) throw new Error(refused.message);
        const str = (k: string) => typeof inputs[k] === "string" ? inputs[k] as string : "";
        if (type === MAPPING_TYPE) {
            const domain = str("domainName");
            const basePath = str("basePath") || "(none)";
            const existing = this.aws.mappings[domain];
            if (op === "delete") {
                if (existing && (existing.basePath ?? "(none)") === basePath) delete this.aws.mappings[domain];
            } else {
                if (op === "create" && existing && (existing.basePath ?? "(none)") === basePath) {
                    throw new Error(`creating API Gateway Base Path Mapping (${domain}/${basePath === "(none)" ? "" : basePath}): ConflictException: Base path already exists for this domain name`);
                }
                this.aws.mappings[domain] = { restApiId: str("restApi"), stage: str("stageName"), basePath };
            }
        } else if (type === DOMAIN_TYPE) {
            this.aws.domains ??= {};
            if (op === "delete") delete this.aws.domains[str("domainName")];
            else {
                const endpoint = isRecord(inputs["endpointConfiguration"]) ? inputs["endpointConfiguration"]["types"] : undefined;
                // Left out, the routing mode is API Gateway's default on create and what the domain has on update (PROVIDER_KEEPS).
                const had = this.aws.domains[str("domainName")];
                this.aws.domains[str("domainName")] = {
                    routingMode: str("routingMode") || (op === "update" ? had?.routingMode : undefined) || "BASE_PATH_MAPPING_ONLY",
                    endpointType: typeof endpoint === "string" ? endpoint : had?.endpointType ?? "EDGE",
                };
            }
        } else if (type === RULE_TYPE) {
            this.applyRule(op, id, inputs);
        } else {
            return;
        }
        this.aws.calls = [...(this.aws.calls ?? []), { op, type, id, stack: this.stack }];
    }

    private applyRule(op: "create" | "update" | "delete", id: string, inputs: Record<string, unknown>): void {
        const domain = String(inputs["domainName"]);
        this.aws.routingRules ??= {};
        const rules = (this.aws.routingRules[domain] ?? []).filter((r) => r.id !== id);
        if (op !== "delete") {
            const mode = this.aws.domains?.[domain]?.routingMode ?? "BASE_PATH_MAPPING_ONLY";
            if (mode === "BASE_PATH_MAPPING_ONLY" || mode === "API_MAPPING_ONLY") {
                throw new Error(`creating API Gateway v2 Routing Rule: BadRequestException: the routing mode of ${domain} is ${mode}, which admits no routing rules`);
            }
            const priority = Number(inputs["priority"]);
            if (rules.some((r) => r.priority === priority)) {
                throw new Error(`creating API Gateway v2 Routing Rule: ConflictException: a routing rule of ${domain} already has priority ${priority}`);
            }
            rules.push({ id, priority, conditions: inputs["conditions"] as FakeRoutingRule["conditions"], actions: inputs["actions"] as FakeRoutingRule["actions"] });
        }
        this.aws.routingRules[domain] = rules.sort((a, b) => a.priority - b.priority);
    }
}

/** The mocks the program runs against: the preview's mock cloud for new state, the engine's rules for what happens to it. */
class EngineMocks implements pulumi.runtime.Mocks {
    pending?: Pending;
    readonly news: FakeResource[] = [];
    readonly steps: [string, Step][] = [];
    stepError?: string;

    constructor(private readonly req: UpdateRequest, private readonly cloud: MockCloud, private readonly olds: Map<string, FakeResource>,
        private readonly aws: StandInAws) {}

    call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        return this.cloud.call(args);
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
        // A StackReference is read, not registered: served from the backend's stacks.
        if (args.type === "pulumi:pulumi:StackReference") return this.cloud.newResource(args);
        const p = this.pending;
        this.pending = undefined;
        if (!p) throw new Error(`stand-in engine: ${args.type} ${args.name} registered without a request`);
        if (args.type === "pulumi:pulumi:Stack") {
            this.news.push({ urn: p.urn, custom: false, type: args.type });
            return { id: undefined, state: {} };
        }
        const old = this.olds.get(p.urn);
        const targeted = this.req.targets.length === 0 || this.req.targets.includes(p.urn);
        if (old && !targeted) return this.keep(p, old, false);
        if (!old && !targeted) {
            this.steps.push([p.urn, "skip"]);
            return { id: undefined, state: args.inputs as Record<string, unknown> };
        }
        if (old) {
            ignoreChanges(p.wireInputs, old.inputs ?? {}, p.ignoreChanges);
            ignoreChanges(args.inputs as Record<string, unknown>, old.inputs ?? {}, p.ignoreChanges);
        }
        const computed = this.cloud.newResource(args);
        const outputs: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(computed.state)) outputs[k] = k in args.inputs && v === args.inputs[k] ? p.wireInputs[k] : v;
        const diffed = diffView(args.type, p.wireInputs, old?.inputs);
        if (old && sameInputs(old.inputs, diffed)) return this.keep(p, old, true);
        const replace = old !== undefined && (REPLACE_ON[args.type] ?? []).some((k) => !sameInputs(old.inputs?.[k], diffed[k]));
        const step: Step = !old ? "create" : replace ? "replace" : "update";
        const id = step === "update" ? old?.id : computed.id;
        if (p.custom) {
            try {
                if (step === "replace" && old) this.aws.apply("delete", args.type, old.id ?? "", old.inputs ?? {});
                this.aws.apply(step === "update" ? "update" : "create", args.type, id ?? "", args.inputs as Record<string, unknown>);
            } catch (err) {
                this.stepError ??= `${args.type} ${args.name}: ${err instanceof Error ? err.message : String(err)}`;
                throw err;
            }
        }
        this.steps.push([p.urn, step]);
        this.news.push({ urn: p.urn, custom: p.custom, type: args.type, id: p.custom ? id : undefined, parent: p.parent || undefined, inputs: p.wireInputs, outputs, dependencies: p.dependencies });
        return { id, state: computed.state };
    }

    /** A same step: a targeted one writes the program's goal, whose protect is the program's (none here); an untargeted resource keeps its old state whole. */
    private keep(p: Pending, old: FakeResource, targeted: boolean): { id: string | undefined; state: Record<string, unknown> } {
        this.steps.push([p.urn, "same"]);
        const { protect: _protect, ...goal } = old;
        this.news.push({ ...(targeted ? goal : old), parent: p.parent || undefined });
        return { id: old.id, state: withAssets(old.outputs ?? {}, p.rawInputs) };
    }
}

/** Outputs of another stack for a StackReference: `organization/<project>/<stack>`, as the backend has them. */
function referencedOutputs(state: FakeState, name: string): Record<string, unknown> {
    const parts = name.split("/");
    const key = parts.length === 3 ? `${parts[1]}/${parts[2]}` : undefined;
    const st = key ? state.stacks[key] : undefined;
    if (!st) throw new Error(`unknown stack "${name}"`);
    return Object.fromEntries(Object.entries(st.outputs).map(([k, v]) => [k, st.secretOutputs.includes(k) ? secretValue(v) : v]));
}

/** The message the CLI prints for what the program threw (run.ts, uncaughtHandler). */
function programError(err: unknown, program: string): string {
    if (pulumi.RunError.isInstance(err)) return err.message;
    const e = err instanceof Error ? err : new Error(String(err));
    return `Running program '${program}' failed with an unhandled exception:\n${e.stack ?? e.message}`;
}

/** Default providers for the packages the custom resources use, keeping the ids the old state gave them. */
function defaultProviders(req: UpdateRequest, news: FakeResource[], olds: FakeResource[]): FakeResource[] {
    const providers: FakeResource[] = [];
    for (const pkg of [...new Set(news.filter((r) => r.custom).map((r) => r.type.split(":")[0]))]) {
        let version = "0.0.0";
        try {
            version = (JSON.parse(fs.readFileSync(require.resolve(`@pulumi/${pkg}/package.json`), "utf8")) as { version: string }).version;
        } catch {
            // a package without an SDK here keeps 0.0.0
        }
        const urn = `urn:pulumi:${req.ref.stack}::${req.ref.project}::pulumi:providers:${pkg}::default_${version.replace(/\./g, "_")}`;
        const inputs: Record<string, unknown> = { version, ...(pkg === "aws" ? { region: req.config["aws:region"] } : {}) };
        const id = olds.find((r) => r.urn === urn)?.id ?? sha(`${urn}:${JSON.stringify(inputs)}`).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, "$1-$2-$3-$4-$5");
        providers.push({ urn, custom: true, type: `pulumi:providers:${pkg}`, id, parent: rootStackUrn(req.ref.project, req.ref.stack), inputs, outputs: inputs });
        for (const r of news) if (r.custom && r.type.split(":")[0] === pkg) r.provider = `${urn}::${id}`;
    }
    return providers;
}

/** Resolves the program's outputs: plain values, and the names of those that are secret. */
async function stackOutputs(returned: Record<string, unknown>): Promise<{ outputs: Record<string, unknown>; secret: string[] }> {
    const outputs: Record<string, unknown> = {};
    const secret: string[] = [];
    for (const [name, value] of Object.entries(returned)) {
        const o = pulumi.output(value);
        const resolved = await resolveOutput(o);
        if (resolved === undefined) continue;
        if (await pulumi.isSecret(o)) secret.push(name);
        outputs[name] = isSecretValue(resolved as unknown) ? (resolved as { value: unknown }).value : resolved;
    }
    return { outputs, secret };
}

/** Runs `pulumi up` of one stack: the program, its steps, the new state. Call once per process (the runtime is global). */
export async function runUpdate(req: UpdateRequest): Promise<UpdateResult> {
    const st = req.state.stacks[req.ref.key] as FakeStack;
    const olds = new Map(st.resources.filter((r) => !r.delete).map((r) => [r.urn, r]));
    req.state.aws ??= { mappings: {} };
    const cloud = new MockCloud({ region: req.config["aws:region"] ?? "us-east-1", stackOutputs: (name) => referencedOutputs(req.state, name) });
    const mocks = new EngineMocks(req, cloud, olds, new StandInAws(req.state.aws, req.ref.key));
    const entry = programEntry(req.project.dir);

    await pulumi.runtime.setMocks(mocks, req.ref.project, req.ref.stack, false, req.organization);
    const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (r: RegisterRequest, callback: (...args: unknown[]) => void) => {
        // The mock monitor calls newResource synchronously from here, before its first await.
        mocks.pending = {
            urn: urnOf(req.ref.project, req.ref.stack, r.getParent(), r.getType(), r.getName()),
            parent: r.getParent(), custom: r.getCustom(), dependencies: r.getDependenciesList(),
            wireInputs: digestAssets(r.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
            rawInputs: r.getObject()?.toJavaScript() ?? {},
            ignoreChanges: r.getIgnorechangesList(),
        };
        return register(r, callback);
    };
    // The engine keeps the root stack's outputs event until the deployment ends; one that arrives after a
    // step failed is never handled, the deployment having been cancelled (step_executor.go, stackOutputsEvent).
    const root = rootStackUrn(req.ref.project, req.ref.stack);
    let outputsRegistered = false;
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (r: { getUrn(): string }, callback: (...args: unknown[]) => void) => {
        if (r.getUrn() === root && mocks.stepError === undefined) outputsRegistered = true;
        return registerOutputs(r, callback);
    };
    pulumi.runtime.setAllConfig(req.config, req.secretKeys);

    const diagnostics: string[] = [];
    let failure: string | undefined;
    // The engine ends the update at the first error; a program awaiting what the error left unresolved never returns.
    let failed: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => { failed = resolve; });
    const onUncaught = (err: unknown) => {
        failure ??= programError(err, entry.pwd);
        failed();
    };
    process.on("unhandledRejection", onUncaught);
    const original = { log: console.log, warn: console.warn, error: console.error };
    const capture = (line: unknown[]) => {
        const m = /^(info|warning|error): \[runtime\] ([\s\S]*)$/.exec(line.map(String).join(" "));
        if (m) diagnostics.push(`${m[1]}: ${m[2]}`);
    };
    console.log = (...a: unknown[]) => capture(a);
    console.warn = (...a: unknown[]) => capture(a);
    console.error = (...a: unknown[]) => capture(a);
    const previousCwd = process.cwd();
    let returned: Record<string, unknown> = {};
    try {
        process.chdir(entry.pwd);
        // run.ts: a module whose export is a function is called; its (awaited) result is the stack's outputs.
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the language host requires the program
        const loaded = require(path.resolve(entry.pwd, entry.main)) as unknown;
        const main = isRecord(loaded) && "default" in loaded ? loaded["default"] : loaded;
        const run = pulumi.runtime.runInPulumiStack(async () => {
            try {
                returned = (await (typeof main === "function" ? (main as () => unknown)() : main) ?? {}) as Record<string, unknown>;
            } catch (err) {
                failure ??= programError(err, entry.pwd);
            }
            return returned;
        });
        await Promise.race([run.then(() => pulumi.runtime.disconnect()), stopped]);
    } catch (err) {
        failure ??= programError(err, entry.pwd);
    } finally {
        process.chdir(previousCwd);
        Object.assign(console, original);
        process.off("unhandledRejection", onUncaught);
    }
    if (mocks.stepError) failure = mocks.stepError;

    // The new snapshot: root stack, providers, what the program registered, then what stays of the old one.
    const registered = new Set(mocks.news.map((r) => r.urn));
    const deletes = failure ? [] : [...olds.values()].filter((r) => !registered.has(r.urn) && !r.type.startsWith("pulumi:providers:") &&
        r.type !== "pulumi:pulumi:Stack" && (req.targets.length === 0 || req.targets.includes(r.urn)));
    // A protected resource is never deleted: generating its delete is an error, and the update runs no
    // delete at all (step_generator.go, GenerateDeletes; the message as the engine words it).
    const guarded = deletes.find((r) => r.protect);
    if (guarded) {
        failure = `unable to delete resource "${guarded.urn}"\nas it is currently marked for protection. To unprotect the resource, either remove the \`protect\` flag ` +
            `from the resource in your Pulumi program and run \`pulumi up\` or use the command:\n\`pulumi state unprotect '${guarded.urn}'\``;
        deletes.length = 0;
    }
    // Deletes run children first; the first that fails ends the update, and it and those after it stay in the state.
    const deleted = new Set<string>();
    for (const r of [...deletes].reverse()) {
        try {
            if (r.custom) new StandInAws(req.state.aws, req.ref.key).apply("delete", r.type, r.id ?? "", r.inputs ?? {});
        } catch (err) {
            failure = `${r.type} ${r.urn.split("::").pop()}: ${err instanceof Error ? err.message : String(err)}`;
            break;
        }
        mocks.steps.push([r.urn, "delete"]);
        deleted.add(r.urn);
    }
    const kept = [...olds.values()].filter((r) => !registered.has(r.urn) && !deleted.has(r.urn) && !r.type.startsWith("pulumi:providers:") && r.type !== "pulumi:pulumi:Stack");
    const resources = [...mocks.news.filter((r) => r.type !== "pulumi:pulumi:Stack"), ...kept];
    const providers = defaultProviders(req, resources, [...olds.values()]);
    const oldRoot = olds.get(root);

    // Root outputs (deployment_executor.go, then executeRegisterResourceOutputs with finalizingStackOutputs):
    // a deployment that succeeded writes the program's outputs; one that errored after the program
    // registered them writes them over the old ones, keeping the old ones it did not register; one that
    // errored before keeps the old outputs.
    let outputs = st.outputs;
    let secretOutputs = st.secretOutputs;
    if (!failure || outputsRegistered) {
        const resolved = await stackOutputs(returned);
        outputs = failure ? { ...st.outputs, ...resolved.outputs } : resolved.outputs;
        secretOutputs = failure ? [...st.secretOutputs.filter((k) => !(k in resolved.outputs)), ...resolved.secret] : resolved.secret;
    }
    const rootOutputs = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, secretOutputs.includes(k) ? secretValue(v) : v]));
    st.resources = [{ ...(oldRoot ?? {}), urn: root, custom: false, type: "pulumi:pulumi:Stack", outputs: rootOutputs }, ...providers, ...resources];
    st.outputs = outputs;
    st.secretOutputs = secretOutputs;

    const changes: Record<string, number> = {};
    for (const [, step] of mocks.steps) if (step !== "skip") changes[step] = (changes[step] ?? 0) + 1;
    return { changes, error: failure, diagnostics };
}

/** Raised by the fake CLI when the update failed: the diagnostics on stdout, as the CLI's display prints them. */
export function updateFailure(stack: string, project: string, result: UpdateResult): CliError {
    const lines = [`Updating (${stack})`, "", "Diagnostics:", `  pulumi:pulumi:Stack (${project}-${stack}):`,
        ...result.diagnostics.map((d) => `    ${d}`), ...String(result.error).split("\n").map((l, i) => (i === 0 ? `    error: ${l}` : `    ${l}`)), ""];
    return new CliError("", 255, lines.join("\n"));
}
