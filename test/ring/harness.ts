// Test harness for the ring commands: a throwaway project directory, the stand-in `pulumi`
// first on PATH, and a runner for the compiled CLI (bin/ring/cli.js) as a child process.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import {
    FakeState, LogEntry, ParsedArgs, mergedConfig, parseCli, programOutputs, programResources,
} from "./fake-pulumi";

const RING_JS = path.resolve(__dirname, "../../ring/cli.js");
const FAKE_JS = path.resolve(__dirname, "fake-pulumi.js");

export interface RunResult {
    code: number | null;
    stdout: string;
    stderr: string;
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

    constructor(opts: ProjectOptions = {}) {
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
            st.stacks[slot].history.push({
                version: 1, kind: "update", startTime: "2026-01-01T00:00:00.000Z", endTime: "2026-01-01T00:01:00.000Z",
                message: "", environment: {}, config: {}, result: "succeeded", resourceChanges: { create: 5 },
            });
        }
        this.writeState(st);
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

    run(...args: string[]): RunResult {
        const cwdArgs = args.includes("--cwd") ? [] : ["--cwd", this.dir];
        const res = spawnSync(process.execPath, [RING_JS, ...args, ...cwdArgs], {
            encoding: "utf8",
            env: {
                ...process.env,
                PATH: `${this.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
                FAKE_PULUMI_STATE: this.stateFile,
                FAKE_PULUMI_LOG: this.logFile,
                PULUMI_SKIP_UPDATE_CHECK: "true",
            },
            timeout: 60_000,
        });
        if (res.error) throw res.error;
        return { code: res.status, stdout: res.stdout, stderr: res.stderr };
    }

    cleanup(): void {
        fs.rmSync(path.dirname(this.dir), { recursive: true, force: true });
    }
}

/** The value of a flag in parsed args (first occurrence). */
export function flag(p: ParsedArgs, name: string): string | undefined {
    return p.flags.get(name)?.[0];
}
