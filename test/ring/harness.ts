// Test harness for the ring commands: a throwaway project directory, the stand-in `pulumi`
// (fake-pulumi.ts), the AWS SDK clients stubbed at the SDK's own level with aws-sdk-client-mock
// (answering from what the stand-in says AWS holds), a loopback server standing in for the
// slots' stage URLs (the gate's requests to https://<api>.execute-api.<region>.amazonaws.com go
// to it), and two runners: `run` calls runRing in this process, `runProcess` runs
// the compiled CLI (bin/ring/cli.js) as a child process with the stand-in first on PATH.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { APIGatewayClient, GetBasePathMappingCommand, NotFoundException } from "@aws-sdk/client-api-gateway";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import type { MetricAlarm } from "@aws-sdk/client-cloudwatch";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { runRing } from "../../ring/cli";
import type { Clock } from "../../ring/ops";
import type { RingHistoryEntry } from "../../outputs";
import {
    FakeState, LogEntry, ParsedArgs, mergedConfig, parseCli, programOutputs, programResources, setAwsMapping,
} from "./fake-pulumi";

const RING_JS = path.resolve(__dirname, "../../ring/cli.js");
const FAKE_JS = path.resolve(__dirname, "fake-pulumi.js");

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

/** The API key the stage server's probe route accepts. */
export const TEST_KEY = "smoke-test-key-0123456789abcdef";

/**
 * Stands in for the slots' stage URLs on loopback: GET /<slot>/heartbeat answers the release
 * the slot's outputs name (as API Gateway's mock integration does), or what a test sets in
 * `releases`; GET /<slot>/discovery/v1/catalogs answers 200 with TEST_KEY in X-Api-Key (the
 * program's default) or in the user_key query parameter, 403 otherwise (as the authorizer would).
 */
export class StageServer {
    readonly releases = new Map<string, string>();
    /** Status a slot's every answer is forced to (e.g. 502 for a broken slot). */
    readonly statuses = new Map<string, number>();
    readonly requests: { method: string; url: string; apiKey?: string }[] = [];
    private server?: http.Server;
    base = "";

    constructor(private readonly releaseOf: (slot: string) => string | undefined) {}

    async start(): Promise<void> {
        this.server = http.createServer((req, res) => {
            const header = req.headers["x-api-key"];
            this.requests.push({ method: req.method ?? "", url: req.url ?? "", apiKey: typeof header === "string" ? header : undefined });
            const queryKey = new URL(req.url ?? "/", "http://stage").searchParams.get("user_key");
            const [, slot, ...rest] = (req.url ?? "").split("?")[0].split("/");
            const route = `/${rest.join("/")}`;
            const forced = this.statuses.get(slot);
            const send = (status: number, body: unknown) => {
                res.writeHead(forced ?? status, { "content-type": "application/json" });
                res.end(JSON.stringify(body));
            };
            if (route === "/heartbeat") return send(200, { status: "ok", release: this.releases.get(slot) ?? this.releaseOf(slot) ?? "" });
            if (route === "/discovery/v1/catalogs") {
                return header === TEST_KEY || queryKey === TEST_KEY ? send(200, { results: [] }) : send(403, { message: "User is not authorized to access this resource" });
            }
            send(403, { message: "Missing Authentication Token" });
        });
        await new Promise<void>((resolve) => (this.server as http.Server).listen(0, "127.0.0.1", resolve));
        this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    /** fetch, with execute-api origins sent to this server (the path, /<stage>/..., is kept). */
    readonly fetch: typeof fetch = (input, init) => {
        const url = String(input instanceof Request ? input.url : input)
            .replace(/^https:\/\/[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com/, this.base);
        return fetch(url, init);
    };

    async stop(): Promise<void> {
        if (this.server) await new Promise<void>((resolve) => (this.server as http.Server).close(() => resolve()));
    }
}

/** What runRing printed and returned. */
export interface InProcessResult extends RunResult {
    /** pulumi's streamed output. */
    pulumiOutput: string;
}

export interface ProjectOptions {
    order?: string[];
    primary?: string;
    /** ring:live in the primary's stack config. */
    live?: string;
    previousLive?: string;
}

export class Harness {
    readonly dir: string;
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
        this.binDir = path.join(root, "bin");
        fs.mkdirSync(this.dir);
        fs.mkdirSync(this.binDir);
        this.stateFile = path.join(root, "state.json");
        this.logFile = path.join(root, "calls.jsonl");
        this.order = opts.order ?? ["red", "black"];
        this.primary = opts.primary ?? this.order[0];

        const launcher = path.join(this.binDir, "pulumi");
        fs.writeFileSync(launcher, `#!/bin/sh\nexec "${process.execPath}" "${FAKE_JS}" "$@"\n`);
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
            const config: Record<string, unknown> = {
                "aws:region": "us-east-1",
                "gateway:releaseId": `release-2026-11-23.${i + 1}`,
            };
            if (slot === this.primary) {
                config["ring:live"] = opts.live ?? this.primary;
                config["domain:name"] = "api.example.edu";
                if (opts.previousLive) config["ring:previousLive"] = opts.previousLive;
            }
            fs.writeFileSync(path.join(this.dir, `Pulumi.${slot}.yaml`), yaml.dump({ config }));
        });
        this.writeState({ stacks: {} });

        this.stage = new StageServer((slot) => {
            const release = this.state().stacks[slot]?.outputs["releaseId"];
            return typeof release === "string" ? release : undefined;
        });
        this.apiGatewayMock = mockClient(this.apiGateway);
        this.apiGatewayMock.on(GetBasePathMappingCommand).callsFake((input: { domainName: string; basePath: string }) => {
            const m = this.state().aws?.mappings[input.domainName];
            if (!m || input.basePath !== "(none)") {
                throw new NotFoundException({ message: "Invalid base path mapping identifier specified", $metadata: { httpStatusCode: 404 } });
            }
            return { basePath: "(none)", restApiId: m.restApiId, stage: m.stage };
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
        setAwsMapping(st, domain, mapping);
        this.writeState(st);
    }

    awsMapping(domain = "api.example.edu"): { restApiId: string; stage: string } | undefined {
        return this.state().aws?.mappings[domain];
    }

    writeState(state: FakeState): void {
        fs.writeFileSync(this.stateFile, JSON.stringify(state, null, 2));
    }

    state(): FakeState {
        return JSON.parse(fs.readFileSync(this.stateFile, "utf8")) as FakeState;
    }

    /** Creates stacks (empty) for `slots`. */
    createStacks(...slots: string[]): void {
        const st = this.state();
        for (const s of slots) st.stacks[s] ??= { outputs: {}, secretOutputs: [], resources: [], history: [] };
        this.writeState(st);
    }

    /** Marks `slots` as deployed, with outputs and resources as the program would leave them. `live` is the slot the mapping points at. */
    deploy(slots: string[], live: string): void {
        const st = this.state();
        this.setConfig(this.primary, "ring:live", live);
        for (const slot of slots) {
            const cfg = mergedConfig(this.dir, slot);
            const { outputs, secretOutputs } = programOutputs(slot, cfg, this.order);
            st.stacks[slot] = { outputs, secretOutputs, resources: [], history: [] };
        }
        for (const slot of slots) {
            const liveOut = st.stacks[live]?.outputs;
            st.stacks[slot].resources = programResources("api-ring", slot, slot, slot === this.primary,
                { restApiId: String(liveOut?.["restApiId"] ?? ""), stage: live });
            if (slot === this.primary) setAwsMapping(st, "api.example.edu", { restApiId: String(liveOut?.["restApiId"] ?? ""), stage: live });
            st.stacks[slot].history.push({
                version: 1, kind: "update", startTime: "2026-01-01T00:00:00.000Z", endTime: "2026-01-01T00:01:00.000Z",
                message: "", environment: {}, config: {}, result: "succeeded", resourceChanges: { create: 5 },
            });
        }
        this.writeState(st);
    }

    /**
     * The primary's stack as `pulumi import` leaves it after adopting an existing mapping
     * (README, "Adopting an existing mapping"): the DomainFlip component and the mapping, no
     * outputs; AWS maps the domain to `mapping`.
     */
    adoptMapping(mapping: { restApiId: string; stage: string }): void {
        const st = this.state();
        const resources = programResources("api-ring", this.primary, this.primary, true, mapping)
            .filter((r) => r.type === "pulumi:pulumi:Stack" || r.type.includes("DomainFlip") || r.type.includes("BasePathMapping"));
        st.stacks[this.primary] = { outputs: {}, secretOutputs: [], resources, history: [] };
        setAwsMapping(st, "api.example.edu", mapping);
        this.writeState(st);
    }

    /** The ring's history as the primary's config holds it. */
    history(): RingHistoryEntry[] {
        const raw = this.config(this.primary)["ring:history"];
        return typeof raw === "string" ? JSON.parse(raw) as RingHistoryEntry[] : [];
    }

    /** Reads a key of Pulumi.<stack>.yaml. */
    config(stack: string): Record<string, unknown> {
        const doc = yaml.load(fs.readFileSync(path.join(this.dir, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
        return doc.config ?? {};
    }

    setConfig(stack: string, key: string, value: unknown): void {
        const file = path.join(this.dir, `Pulumi.${stack}.yaml`);
        const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
        doc.config = { ...doc.config, [key]: value };
        if (value === undefined) delete doc.config[key];
        fs.writeFileSync(file, yaml.dump(doc));
    }

    failOn(match: string[], stderr: string, stack?: string): void {
        const st = this.state();
        st.fail = [...(st.fail ?? []), { match, stderr, stack }];
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

    /** Calls that change something: up, config set/rm, stack init/select/rm/import, destroy, refresh, cancel. */
    mutatingCalls(): ParsedArgs[] {
        return this.calls().map((c) => parseCli(c.argv)).filter((p) => {
            const [a, b] = p.words;
            return ["up", "destroy", "refresh", "cancel", "import"].includes(a) ||
                (a === "config" && ["set", "rm", "set-all", "rm-all", "refresh"].includes(b)) ||
                (a === "stack" && ["init", "rm", "import", "select", "rename"].includes(b));
        });
    }

    /** Runs a ring command line in this process, with the stubbed AWS clients, the stage server and the fake clock. */
    async run(...args: string[]): Promise<InProcessResult> {
        this.pulumiCommand ??= await PulumiCommand.get({ root: path.dirname(this.binDir), skipVersionCheck: true });
        const cwdArgs = args.includes("--cwd") ? [] : ["--cwd", this.dir];
        let stdout = "";
        let stderr = "";
        let pulumiOutput = "";
        const code = await runRing([...args, ...cwdArgs], {
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
export function eachTestDeployed(set: (h: Harness) => void, get: () => Harness | undefined, slots = ["red", "black"], live = "red"): void {
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
