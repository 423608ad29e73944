// Test harness for the ring commands: a throwaway checkout of the project (Pulumi.yaml as the
// repository's, realistic stack files, its own copy of the API document, and links to the repository's
// build, handlers and node_modules, so the program runs from it as from a clone); the stand-in
// `pulumi` (fake-pulumi.ts), which runs that program as the engine would; the AWS SDK clients stubbed at
// the SDK's own level with aws-sdk-client-mock (answering from what the stand-in says AWS holds); a
// loopback server standing in for the slots' stage URLs (the gate's requests to
// https://<api>.execute-api.<region>.amazonaws.com go to it); and two runners: `run` calls runRing in
// this process, `runProcess` runs the compiled CLI (bin/ring/cli.js) as a child process with the
// stand-in first on PATH. Deploying through the stand-in runs the program (seconds), so `deploy`
// keeps what a deploy of the same project files left, and replays it.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { APIGatewayClient, GetBasePathMappingCommand, GetDomainNameCommand, NotFoundException } from "@aws-sdk/client-api-gateway";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import type { MetricAlarm } from "@aws-sdk/client-cloudwatch";
import { BUILD_DIR } from "../../handler-archive";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { runRing } from "../../ring/cli";
import { adoptionImportCommand } from "../../ring/plan";
import type { Clock } from "../../ring/ops";
import type { Cohort, RingHistoryEntry } from "../../outputs";
import { LIVE_CHANGE_ENV, LivePointerChange } from "../../live/change";
import { FakeResource, FakeStack, FakeState, rootStackUrn } from "./fake-backend";
import { LogEntry, ParsedArgs, parseCli } from "./fake-pulumi";
import { DOMAIN, StageServer, globMatches } from "./stage-server";

const RING_JS = path.resolve(__dirname, "../../ring/cli.js");
/** The repository: its build (bin/), handlers and node_modules are what a checkout's program runs. */
const REPO = path.resolve(__dirname, "../../..");

export interface RunResult {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** A clock for the bake: sleeping advances it at once, so a ten-minute bake takes no time. */
export class FakeClock implements Clock {
    readonly sleeps: number[] = [];
    constructor(public time = Date.parse("2026-11-23T10:00:00Z")) {}
    now(): number {
        return this.time;
    }
    async sleep(ms: number): Promise<void> {
        this.sleeps.push(ms);
        this.time += ms;
    }
}

export { DOMAIN, StageServer, TEST_KEY, globMatches } from "./stage-server";

/** What runRing printed and returned. */
export interface InProcessResult extends RunResult {
    /** pulumi's streamed output. */
    pulumiOutput: string;
}

export interface ProjectOptions {
    order?: string[];
    primary?: string;
}

/** The stack file of a slot, as an operator would write it (Pulumi.red.yaml / Pulumi.black.yaml), secrets as the stand-in encrypts them. */
export function slotStackConfig(slot: string, index: number, primary: boolean): Record<string, unknown> {
    return {
        "aws:region": "us-east-1",
        "gateway:logLevel": "ERROR",
        "gateway:metrics": true,
        "gateway:rateLimit": 500,
        "gateway:burstLimit": 1000,
        "gateway:releaseId": `release-2026-11-23.${index + 1}`,
        "gateway:hosts": { edxapp_host: `courses-${slot}.example.edu`, discovery_host: `discovery-${slot}.example.edu` },
        "threescale:serviceId": "2555417777820",
        "threescale:serviceToken": { secure: "fake:service-token-0123456789" },
        "authorizer:failureMode": "resilient",
        "authorizer:planRoutes": { Basic: ["discovery/*"], Unlimited: ["*"] },
        ...(primary ? { "cache:authToken": { secure: "fake:redis-auth-token-0123456789abcdef" } } : {}),
    };
}

/** The live pointer's project (live/Pulumi.yaml, as the repository's) and its stack file. */
export const LIVE_PROJECT = "api-ring-live";
export const LIVE_STACK = "live";
export function livePointerStackConfig(): Record<string, unknown> {
    return { "aws:region": "us-east-1", "domain:name": DOMAIN };
}

/** What a deploy of the same project files left: the backend's state and the project's files. */
const deployed = new Map<string, { state: string; files: Record<string, string> }>();

function filesOf(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    // The functions' bundles (BUILD_DIR) are rebuilt by every run of the program: not the project's files.
    const kept = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.name !== BUILD_DIR);
    for (const entry of kept.flatMap((e) => e.isDirectory() ? fs.readdirSync(path.join(dir, e.name), { recursive: true, withFileTypes: true }) : [e])) {
        if (entry.isFile()) {
            const full = path.join(entry.parentPath, entry.name);
            out[path.relative(dir, full)] = fs.readFileSync(full, "utf8");
        }
    }
    return out;
}

export class Harness {
    readonly dir: string;
    /** The live pointer's project: live/ in the checkout. */
    readonly liveDir: string;
    readonly binDir: string;
    readonly stateFile: string;
    readonly logFile: string;
    readonly order: string[];
    readonly primary: string;
    readonly apiGateway = new APIGatewayClient({ region: "us-east-1" });
    readonly cloudWatch = new CloudWatchClient({ region: "us-east-1" });
    readonly apiGatewayMock: AwsClientStub<APIGatewayClient>;
    readonly cloudWatchMock: AwsClientStub<CloudWatchClient>;
    /** Alarm states DescribeAlarms answers by default (alarms not named here are OK). */
    readonly alarms = new Map<string, Partial<MetricAlarm>>();
    readonly stage: StageServer;
    readonly clock = new FakeClock();
    /** Regions the AWS clients were asked for. */
    readonly regions: (string | undefined)[] = [];
    private pulumiCommand?: PulumiCommand;

    /** A project with the stand-in's state empty and the stage server listening. */
    static async create(opts: ProjectOptions = {}): Promise<Harness> {
        const h = new Harness(opts);
        await h.stage.start();
        return h;
    }

    private constructor(opts: ProjectOptions = {}) {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "ring-test-"));
        this.dir = path.join(root, "project");
        this.liveDir = path.join(this.dir, "live");
        this.binDir = path.join(root, "bin");
        fs.mkdirSync(this.dir);
        fs.mkdirSync(this.binDir);
        this.stateFile = path.join(root, "state.json");
        this.logFile = path.join(root, "calls.jsonl");
        this.order = opts.order ?? ["red", "black"];
        this.primary = opts.primary ?? this.order[0];

        // The checkout's build, handlers and node_modules are the repository's. The program archives the
        // handlers' node_modules files by their paths under the project, so the stand-in runs with Node's
        // --preserve-symlinks: paths stay the checkout's, as they are in a real clone.
        for (const linked of ["bin", "handlers", "node_modules", "package.json"]) fs.symlinkSync(path.join(REPO, linked), path.join(this.dir, linked));
        fs.cpSync(path.join(REPO, "api"), path.join(this.dir, "api"), { recursive: true });
        const launcher = path.join(this.binDir, "pulumi");
        const fake = path.join(this.dir, "bin", "test", "ring", "fake-pulumi.js");
        fs.writeFileSync(launcher, `#!/bin/sh\nexec "${process.execPath}" --preserve-symlinks --preserve-symlinks-main "${fake}" "$@"\n`);
        fs.chmodSync(launcher, 0o755);

        const project: Record<string, unknown> = {
            name: "api-ring",
            runtime: { name: "nodejs", options: { typescript: true } },
            main: "index.ts",
            config: {
                "ring:order": { description: "slots", value: this.order },
                ...(opts.primary ? { "ring:primary": { value: opts.primary } } : {}),
            },
        };
        fs.writeFileSync(path.join(this.dir, "Pulumi.yaml"), yaml.dump(project));
        this.order.forEach((slot, i) => {
            fs.writeFileSync(path.join(this.dir, `Pulumi.${slot}.yaml`), yaml.dump({ config: slotStackConfig(slot, i, slot === this.primary) }));
        });
        fs.mkdirSync(this.liveDir);
        fs.writeFileSync(path.join(this.liveDir, "Pulumi.yaml"), yaml.dump({
            name: LIVE_PROJECT, runtime: { name: "nodejs", options: { typescript: false } }, main: "../bin/live/index.js",
        }));
        fs.writeFileSync(path.join(this.liveDir, `Pulumi.${LIVE_STACK}.yaml`), yaml.dump({ config: livePointerStackConfig() }));
        // The custom domain exists in API Gateway (domain:certificateArn unset), routing by its mapping only, as a new domain does.
        this.writeState({ stacks: {}, aws: { mappings: {}, domains: { [DOMAIN]: { routingMode: "BASE_PATH_MAPPING_ONLY", endpointType: "REGIONAL" } } } });

        this.stage = new StageServer((slot) => {
            const release = this.outputs(slot)["releaseId"];
            return typeof release === "string" ? release : undefined;
        }, (domain, headers) => this.routeDomain(domain, headers));
        this.apiGatewayMock = mockClient(this.apiGateway);
        this.apiGatewayMock.on(GetBasePathMappingCommand).callsFake((input: { domainName: string; basePath: string }) => {
            const m = this.state().aws?.mappings[input.domainName];
            if (!m || input.basePath !== (m.basePath ?? "(none)")) {
                throw new NotFoundException({ message: "Invalid base path mapping identifier specified", $metadata: { httpStatusCode: 404 } });
            }
            return { basePath: input.basePath, restApiId: m.restApiId, stage: m.stage };
        });
        this.apiGatewayMock.on(GetDomainNameCommand).callsFake((input: { domainName: string }) => {
            const d = this.state().aws?.domains?.[input.domainName];
            if (!d) throw new NotFoundException({ message: "Invalid domain name identifier specified", $metadata: { httpStatusCode: 404 } });
            return { domainName: input.domainName, routingMode: d.routingMode, endpointConfiguration: { types: [d.endpointType] }, securityPolicy: "TLS_1_2" };
        });
        this.cloudWatchMock = mockClient(this.cloudWatch);
        this.cloudWatchMock.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames?: string[] }) => ({
            MetricAlarms: (input.AlarmNames ?? []).map((name) => ({
                AlarmName: name, StateValue: "OK", StateReason: "Threshold Crossed: no datapoints were received", ...this.alarms.get(name),
            })),
        }));
    }

    /** Acts out a flip made outside the ring commands (the AWS console, the seed's flip.py): only AWS changes. */
    setAwsMapping(mapping: { restApiId: string; stage: string } | null, domain = "api.example.edu"): void {
        const st = this.state();
        st.aws ??= { mappings: {} };
        if (mapping === null) delete st.aws.mappings[domain];
        else st.aws.mappings[domain] = mapping;
        this.writeState(st);
    }

    awsMapping(domain = "api.example.edu"): { restApiId: string; stage: string } | undefined {
        const m = this.state().aws?.mappings[domain];
        return m ? { restApiId: m.restApiId, stage: m.stage } : undefined;
    }

    /** The slot a request to the domain reaches: its routing rules by priority, then its base path mapping. */
    routeDomain(domain: string, headers: http.IncomingHttpHeaders): string | undefined {
        const aws = this.state().aws;
        const mode = aws?.domains?.[domain]?.routingMode ?? "BASE_PATH_MAPPING_ONLY";
        let target: { restApiId: string; stage: string } | undefined;
        if (mode !== "BASE_PATH_MAPPING_ONLY") {
            for (const rule of aws?.routingRules?.[domain] ?? []) {
                const matched = rule.conditions.every((c) => {
                    if (!c.matchHeaders) return true;
                    const sent = headers[c.matchHeaders.anyOf.header.toLowerCase()];
                    return typeof sent === "string" && globMatches(c.matchHeaders.anyOf.valueGlob, sent);
                });
                if (matched) {
                    target = { restApiId: rule.actions[0].invokeApi.apiId, stage: rule.actions[0].invokeApi.stage };
                    break;
                }
            }
        }
        if (!target && mode !== "ROUTING_RULE_ONLY") target = aws?.mappings[domain];
        if (!target) return undefined;
        const t = target;
        return this.order.find((slot) => this.outputs(slot)["restApiId"] === t.restApiId && this.outputs(slot)["stageName"] === t.stage);
    }

    /** Sets the domain's routing mode in API Gateway, as `aws apigateway update-domain-name` would. */
    setRoutingMode(mode: string, domain = DOMAIN): void {
        const st = this.state();
        st.aws ??= { mappings: {} };
        st.aws.domains = { ...st.aws.domains, [domain]: { endpointType: "REGIONAL", ...st.aws.domains?.[domain], routingMode: mode } };
        this.writeState(st);
    }

    writeState(state: FakeState): void {
        fs.writeFileSync(this.stateFile, JSON.stringify(state, null, 2));
    }

    state(): FakeState {
        return JSON.parse(fs.readFileSync(this.stateFile, "utf8")) as FakeState;
    }

    /** A stack of the slot project (`api-ring/<slot>`), as the backend holds it. */
    stack(slot: string, project = "api-ring"): FakeStack {
        return this.state().stacks[`${project}/${slot}`] ?? { outputs: {}, secretOutputs: [], resources: [], history: [] };
    }

    /** A slot's stack outputs (plain). */
    outputs(slot: string, project = "api-ring"): Record<string, unknown> {
        return this.stack(slot, project).outputs;
    }

    /** Changes a stack's outputs (and its root stack resource's) as if its last deploy had left them so. */
    editOutputs(slot: string, edit: (outputs: Record<string, unknown>) => void, project = "api-ring"): void {
        const st = this.state();
        const stack = st.stacks[`${project}/${slot}`];
        edit(stack.outputs);
        const root = stack.resources.find((r) => r.type === "pulumi:pulumi:Stack");
        if (root) root.outputs = { ...stack.outputs };
        this.writeState(st);
    }

    /** The live pointer's stack outputs (plain). */
    pointer(): Record<string, unknown> {
        return this.outputs(LIVE_STACK, LIVE_PROJECT);
    }

    /** Creates stacks (empty) for `slots`. */
    createStacks(...slots: string[]): void {
        const st = this.state();
        for (const s of slots) st.stacks[`api-ring/${s}`] ??= { outputs: {}, secretOutputs: [], resources: [], history: [] };
        this.writeState(st);
    }

    /** Runs the stand-in pulumi in `cwd` (the project by default), as a user would from a shell. */
    pulumi(args: string[], cwd = this.dir, env: Record<string, string> = {}): RunResult {
        const res = spawnSync(path.join(this.binDir, "pulumi"), args, { cwd, encoding: "utf8", env: { ...process.env, ...this.env(), ...env }, timeout: 300_000 });
        if (res.error) throw res.error;
        return { code: res.status, stdout: res.stdout, stderr: res.stderr };
    }

    /** `pulumi up` of a stack through the stand-in, failing the test when it fails. */
    up(slot: string, cwd = this.dir, env: Record<string, string> = {}): RunResult {
        const r = this.pulumi(["up", "--yes", "--skip-preview", "--stack", slot], cwd, env);
        if (r.code !== 0) throw new Error(`pulumi up -s ${slot} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
        return r;
    }

    /** Applies a change to the live pointer as a ring command does: one `pulumi up` of its stack, the change in its environment. */
    changePointer(change: Partial<LivePointerChange> & { live: string | null }): RunResult {
        const current = this.pointer();
        const full: LivePointerChange = {
            expectedLive: (current["liveSlot"] as string | null | undefined) ?? null, previousLive: null, cohorts: (current["cohorts"] as Cohort[] | undefined) ?? [], ...change,
        };
        return this.up(LIVE_STACK, this.liveDir, { [LIVE_CHANGE_ENV]: JSON.stringify(full) });
    }

    /**
     * Deploys `slots` through the stand-in (the real program, the primary first) and points the live
     * pointer at `live`, as `ring deploy` and the first `ring flip` would have left them; the same
     * project files deployed before are replayed.
     */
    deploy(slots: string[], live: string | null): void {
        const key = crypto.createHash("sha256").update(JSON.stringify([filesOf(this.dir), slots, live, this.state()])).digest("hex");
        const cached = deployed.get(key);
        if (cached) {
            fs.writeFileSync(this.stateFile, cached.state);
            for (const [file, text] of Object.entries(cached.files)) fs.writeFileSync(path.join(this.dir, file), text);
            return;
        }
        if (!this.state().stacks[`${LIVE_PROJECT}/${LIVE_STACK}`]) this.pulumi(["stack", "init", LIVE_STACK], this.liveDir);
        const ordered = [...slots].sort((a, b) => (a === this.primary ? -1 : b === this.primary ? 1 : this.order.indexOf(a) - this.order.indexOf(b)));
        for (const slot of ordered) {
            if (!this.state().stacks[`api-ring/${slot}`]) this.createStacks(slot);
            this.up(slot);
        }
        if (live !== null) this.changePointer({ live });
        this.clearLog();
        deployed.set(key, { state: fs.readFileSync(this.stateFile, "utf8"), files: filesOf(this.dir) });
    }

    /**
     * The live pointer's stack as `pulumi import` leaves it after adopting an existing mapping (README,
     * "Adopting an existing mapping") with the import command the ring names (`command`): the DomainFlip
     * component and the mapping, protected as that command protects it, no outputs; AWS maps the domain
     * to `mapping`.
     */
    adoptMapping(mapping: { restApiId: string; stage: string }, command = adoptionImportCommand(LIVE_STACK)): void {
        // `pulumi import` protects what it imports unless told --protect=false (pkg/cmd/pulumi/import.go: the
        // flag's default is true).
        const protect = !/--protect(=|\s+)false\b/.test(command);
        const st = this.state();
        const root = rootStackUrn(LIVE_PROJECT, LIVE_STACK);
        const flip = `urn:pulumi:${LIVE_STACK}::${LIVE_PROJECT}::api-ring:ring:DomainFlip::live`;
        const resources: FakeResource[] = [
            { urn: root, custom: false, type: "pulumi:pulumi:Stack" },
            { urn: flip, custom: false, type: "api-ring:ring:DomainFlip", parent: root },
            {
                urn: `urn:pulumi:${LIVE_STACK}::${LIVE_PROJECT}::api-ring:ring:DomainFlip$aws:apigateway/basePathMapping:BasePathMapping::live-mapping`,
                custom: true, type: "aws:apigateway/basePathMapping:BasePathMapping", id: `${DOMAIN}/`, parent: flip, protect,
                inputs: { domainName: DOMAIN, restApi: mapping.restApiId, stageName: mapping.stage },
                outputs: { domainName: DOMAIN, restApi: mapping.restApiId, stageName: mapping.stage, basePath: "" },
            },
        ];
        st.stacks[`${LIVE_PROJECT}/${LIVE_STACK}`] = { outputs: {}, secretOutputs: [], resources, history: [] };
        st.aws ??= { mappings: {} };
        st.aws.mappings[DOMAIN] = mapping;
        this.writeState(st);
    }

    /**
     * The ring as the release before the live pointer left it (issue 14's program): the primary's state
     * holds the DomainFlip component and the mapping (under the primary's default AWS provider), its
     * outputs say which slot is live and hold the history, its stack file holds ring:live,
     * ring:previousLive and domain:name; the live pointer's stack does not exist. AWS maps the domain
     * to `live`. Call after deploy(slots, null).
     */
    oldRing(live: string, history: RingHistoryEntry[] = [], previousLive?: string, createdDomain?: { certificateArn: string }): void {
        const st = this.state();
        const primary = st.stacks[`api-ring/${this.primary}`];
        const root = rootStackUrn("api-ring", this.primary);
        const flip = `urn:pulumi:${this.primary}::api-ring::api-ring:ring:DomainFlip::live`;
        const provider = primary.resources.find((r) => r.type === "pulumi:providers:aws") as FakeResource;
        const target = { restApi: String(this.outputs(live)["restApiId"]), stageName: live };
        primary.resources.push({ urn: flip, custom: false, type: "api-ring:ring:DomainFlip", parent: root });
        const domainUrn = `urn:pulumi:${this.primary}::api-ring::api-ring:ring:DomainFlip$aws:apigateway/domainName:DomainName::live-domain`;
        if (createdDomain) {
            // The domain as issue 14's DomainFlip created it: regional, TLS 1.2, tagged with the primary's tags, no routing mode.
            const inputs = {
                domainName: DOMAIN, regionalCertificateArn: createdDomain.certificateArn, endpointConfiguration: { types: "REGIONAL" }, securityPolicy: "TLS_1_2",
                tags: { "api-ring:project": "api-ring", "api-ring:slot": this.primary },
            };
            primary.resources.push({
                urn: domainUrn, custom: true, type: "aws:apigateway/domainName:DomainName", id: DOMAIN, parent: flip, provider: `${provider.urn}::${provider.id}`,
                inputs, outputs: {
                    ...inputs, arn: `arn:aws:apigateway:us-east-1::/domainnames/${DOMAIN}`, routingMode: "BASE_PATH_MAPPING_ONLY",
                    regionalDomainName: `d-0a1b2c3d4e.execute-api.us-east-1.amazonaws.com`, regionalZoneId: "Z1UJRXOUMOOFQ8", tagsAll: inputs.tags,
                },
            });
        }
        primary.resources.push({
            urn: `urn:pulumi:${this.primary}::api-ring::api-ring:ring:DomainFlip$aws:apigateway/basePathMapping:BasePathMapping::live-mapping`,
            custom: true, type: "aws:apigateway/basePathMapping:BasePathMapping", id: `${DOMAIN}/`, parent: flip, provider: `${provider.urn}::${provider.id}`,
            inputs: { domainName: DOMAIN, ...target }, outputs: { domainName: DOMAIN, ...target }, ...(createdDomain ? { dependencies: [domainUrn] } : {}),
        });
        Object.assign(primary.outputs, { liveSlot: live, liveUrl: `https://${DOMAIN}/`, ringHistory: history });
        delete st.stacks[`${LIVE_PROJECT}/${LIVE_STACK}`];
        st.aws ??= { mappings: {} };
        st.aws.mappings[DOMAIN] = { restApiId: target.restApi, stage: live };
        this.writeState(st);
        this.setConfig(this.primary, "ring:live", live);
        if (previousLive) this.setConfig(this.primary, "ring:previousLive", previousLive);
        this.setConfig(this.primary, "domain:name", DOMAIN);
        if (createdDomain) this.setConfig(this.primary, "domain:certificateArn", createdDomain.certificateArn);
    }

    /** The ring's history, as `ring status --json` reports it. */
    async history(): Promise<RingHistoryEntry[]> {
        const r = await this.run("status", "--json");
        return (JSON.parse(r.stdout) as { history: RingHistoryEntry[] }).history;
    }

    /** Reads Pulumi.<stack>.yaml's config. */
    config(stack: string, dir = this.dir): Record<string, unknown> {
        const doc = yaml.load(fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
        return doc.config ?? {};
    }

    setConfig(stack: string, key: string, value: unknown, dir = this.dir): void {
        const file = path.join(dir, `Pulumi.${stack}.yaml`);
        const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
        doc.config = { ...doc.config, [key]: value };
        if (value === undefined) delete doc.config[key];
        fs.writeFileSync(file, yaml.dump(doc));
    }

    /** Changes the API document in the working tree (its version), as the next release's checkout would. */
    editSpec(version: string, dir = this.dir): void {
        const file = path.join(dir, "api", "openapi.yaml");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^ {2}version: .*$/m, `  version: "${version}"`));
    }

    /** A second clone of the project as it is on disk now: its own working tree, the same backend. */
    cloneProject(): string {
        const clone = fs.mkdtempSync(path.join(path.dirname(this.dir), "clone-"));
        fs.cpSync(this.dir, clone, { recursive: true, verbatimSymlinks: true });
        return clone;
    }

    failOn(match: string[], stderr: string, stack?: string): void {
        const st = this.state();
        st.fail = [...(st.fail ?? []), { match, stderr, stack }];
        this.writeState(st);
    }

    /** Makes the stand-in's AWS refuse every `op` on resources of `type` with `message` (null: accept them again). */
    failStep(op: "create" | "update" | "delete", type: string, message: string | null): void {
        const st = this.state();
        st.aws ??= { mappings: {} };
        st.aws.failSteps = (st.aws.failSteps ?? []).filter((f) => f.op !== op || f.type !== type);
        if (message !== null) st.aws.failSteps.push({ op, type, message });
        this.writeState(st);
    }

    clearLog(): void {
        if (fs.existsSync(this.logFile)) fs.unlinkSync(this.logFile);
    }

    calls(): LogEntry[] {
        if (!fs.existsSync(this.logFile)) return [];
        return fs.readFileSync(this.logFile, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as LogEntry);
    }

    /** Parsed calls whose first words are `words` (e.g. ["up"], ["config", "set"]). */
    callsOf(...words: string[]): ParsedArgs[] {
        return this.calls().map((c) => parseCli(c.argv)).filter((p) => words.every((w, i) => p.words[i] === w));
    }

    /** Calls that change something: up, config set/rm, stack init/select/rm/import, destroy, refresh, cancel, state. */
    mutatingCalls(): ParsedArgs[] {
        return this.calls().map((c) => parseCli(c.argv)).filter((p) => {
            const [a, b] = p.words;
            return ["up", "destroy", "refresh", "cancel", "import", "state"].includes(a) ||
                (a === "config" && ["set", "rm", "set-all", "rm-all", "refresh"].includes(b)) ||
                (a === "stack" && ["init", "rm", "import", "select", "rename"].includes(b));
        });
    }

    /** Runs a ring command line in this process, with the stubbed AWS clients, the stage server and the fake clock. */
    async run(...args: string[]): Promise<InProcessResult> {
        return this.runWith(runRing, ...args);
    }

    /** The same with another build of the ring commands (a checkout's own bin/ring/cli.js). */
    async runWith(ring: typeof runRing, ...args: string[]): Promise<InProcessResult> {
        this.pulumiCommand ??= await PulumiCommand.get({ root: path.dirname(this.binDir), skipVersionCheck: true });
        const cwdArgs = args.includes("--cwd") ? [] : ["--cwd", this.dir];
        let stdout = "";
        let stderr = "";
        let pulumiOutput = "";
        const code = await ring([...args, ...cwdArgs], {
            io: {
                out: (t) => { stdout += t.endsWith("\n") ? t : `${t}\n`; },
                err: (t) => { stderr += t.endsWith("\n") ? t : `${t}\n`; },
                stream: (chunk) => { pulumiOutput += chunk; },
            },
            aws: (region) => {
                this.regions.push(region);
                return { apiGateway: this.apiGateway, cloudWatch: this.cloudWatch };
            },
            clock: this.clock,
            fetch: this.stage.fetch,
            pulumiCommand: this.pulumiCommand,
            envVars: this.env(),
        });
        return { code, stdout, stderr, pulumiOutput };
    }

    /** Environment of the stand-in pulumi. */
    private env(): Record<string, string> {
        return {
            FAKE_PULUMI_STATE: this.stateFile,
            FAKE_PULUMI_LOG: this.logFile,
            PULUMI_SKIP_UPDATE_CHECK: "true",
        };
    }

    /** Runs the compiled CLI as a child process: real AWS clients, the stand-in pulumi first on PATH. */
    runProcess(args: string[], env: Record<string, string> = {}): RunResult {
        const cwdArgs = args.includes("--cwd") ? [] : ["--cwd", this.dir];
        const res = spawnSync(process.execPath, [RING_JS, ...args, ...cwdArgs], {
            encoding: "utf8",
            env: {
                ...process.env,
                PATH: `${this.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
                ...this.env(),
                ...env,
            },
            timeout: 60_000,
        });
        if (res.error) throw res.error;
        return { code: res.status, stdout: res.stdout, stderr: res.stderr };
    }

    async cleanup(): Promise<void> {
        this.apiGatewayMock.restore();
        this.cloudWatchMock.restore();
        await this.stage.stop();
        fs.rmSync(path.dirname(this.dir), { recursive: true, force: true });
    }
}

/**
 * Gives every test of the calling mocha suite a fresh project with `slots` deployed and AWS
 * mapping the domain to `live`, and cleans it up after (`get` returns the one to clean, which a
 * test may have replaced).
 */
export function eachTestDeployed(set: (h: Harness) => void, get: () => Harness | undefined, slots = ["red", "black"], live: string | null = "red"): void {
    beforeEach(async () => {
        const h = await Harness.create();
        h.deploy(slots, live);
        set(h);
    });
    afterEach(async () => get()?.cleanup());
}

/** The value of a flag in parsed args (first occurrence). */
export function flag(p: ParsedArgs, name: string): string | undefined {
    return p.flags.get(name)?.[0];
}
