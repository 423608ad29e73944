// A stand-in `pulumi` CLI for the ring command tests. The tests put a launcher named `pulumi` first on
// PATH (see harness.ts); the Automation API then runs this instead of the real CLI.
//
// - Records every invocation (argv, cwd) as one JSON line appended to $FAKE_PULUMI_LOG.
// - Keeps the backend (stacks by project, their resources, outputs, update history) and what AWS says
//   in the JSON file $FAKE_PULUMI_STATE (fake-backend.ts); config where the real CLI keeps it,
//   Pulumi.yaml and Pulumi.<stack>.yaml of the project in the working directory.
// - `up` runs the stack's real program under Pulumi's mock runtime, as the engine would run it:
//   every guard, the OpenAPI document and all outputs are the program's own; `--target` changes only
//   the targeted resources while every root output is written from the program's run; a program
//   error fails the update with the program's message (fake-engine.ts, which cites the engine files).
// - `config set` edits the stack file; `state move` moves resources between stacks as state_move.go.
// - Answers with the real CLI's JSON shapes: `stack output --json`, `config --json` ({value,
//   objectValue, secret}), `stack export` (version 3 deployment), `stack history --json`, `stack ls
//   --json`, `whoami --json`, `version`.
import * as fs from "fs";
import {
    CliError, ConfigMap, FakeState, HistoryEntry, Project, StackRef, decrypt, emptyStack, exportDeployment, getStack,
    isSecure, mergedConfig, moveState, projectOf, resolveStack, stackConfig, writeStackConfig,
} from "./fake-backend";

export const FAKE_VERSION = "3.270.0";

export interface LogEntry {
    argv: string[];
    cwd: string;
}

/** Flags of the pulumi CLI that take a value. */
const VALUE_FLAGS = new Set([
    "--stack", "-s", "--target", "--message", "-m", "--exec-kind", "--page-size", "--page", "--color", "--client",
    "--event-log", "--secrets-provider", "--parallel", "--exec-agent", "--replace", "--exclude", "--policy-pack",
    "--policy-pack-config", "--file", "--config-file", "--source", "--dest",
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

/** `pulumi config --json` entry shape. */
function configJson(value: unknown, showSecrets: boolean): Record<string, unknown> {
    if (isSecure(value)) return showSecrets ? { value: decrypt(value), secret: true } : { secret: true };
    if (typeof value === "object" && value !== null) return { value: JSON.stringify(value), objectValue: value, secret: false };
    return { value: String(value), secret: false };
}

/** Config as the CLI hands it to the program: every value a string, secrets decrypted and named. */
export function programConfig(config: ConfigMap): { values: Record<string, string>; secretKeys: string[] } {
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [k, v] of Object.entries(config)) {
        if (isSecure(v)) {
            values[k] = decrypt(v);
            secretKeys.push(k);
        } else {
            values[k] = typeof v === "string" ? v : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
        }
    }
    return { values, secretKeys };
}

interface Call {
    argv: string[];
    project: () => Project;
    parsed: ParsedArgs;
    state: FakeState;
}

function selected(call: Call): StackRef {
    const project = call.project();
    const name = call.parsed.flags.get("--stack")?.[0] ?? call.parsed.flags.get("-s")?.[0] ?? call.state.current?.[project.name];
    if (name === undefined) throw new CliError("error: no stack selected; please use `pulumi stack select` to choose one");
    return resolveStack(name, project.name);
}

function stackCommand(call: Call): string {
    const { parsed, state } = call;
    const [, sub] = parsed.words;
    if (sub === "select" || sub === "init") {
        const project = call.project();
        const ref = resolveStack(parsed.flags.get("--stack")?.[0] ?? parsed.flags.get("-s")?.[0] ?? parsed.words[2] ?? "", project.name);
        const exists = state.stacks[ref.key] !== undefined;
        if (sub === "init" && exists) throw new CliError(`error: stack '${ref.stack}' already exists`);
        if (sub === "select" && !exists && !parsed.bools.has("--create")) throw new CliError(`error: no stack named '${ref.stack}' found`);
        state.stacks[ref.key] ??= emptyStack();
        if (!parsed.bools.has("--no-select")) state.current = { ...state.current, [project.name]: ref.stack };
        return exists ? "" : `Created stack '${ref.stack}'\n`;
    }
    if (sub === "ls") {
        const project = call.project();
        const list = Object.entries(state.stacks).filter(([key]) => key.startsWith(`${project.name}/`)).map(([key, st]) => ({
            name: key.slice(project.name.length + 1), current: key === `${project.name}/${state.current?.[project.name]}`, updateInProgress: false,
            resourceCount: st.resources.length,
            ...(st.history.length ? { lastUpdate: st.history[st.history.length - 1].endTime } : {}),
        }));
        return JSON.stringify(list, null, 4) + "\n";
    }
    const st = getStack(state, selected(call));
    if (sub === "output") {
        const show = parsed.bools.has("--show-secrets");
        const out = Object.fromEntries(Object.entries(st.outputs).map(([k, v]) => [k, st.secretOutputs.includes(k) && !show ? "[secret]" : v]));
        return JSON.stringify(out, null, 2) + "\n";
    }
    if (sub === "export") return JSON.stringify(exportDeployment(st), null, 4) + "\n";
    if (sub === "history") {
        const size = Number(parsed.flags.get("--page-size")?.[0] ?? st.history.length);
        return JSON.stringify([...st.history].reverse().slice(0, size), null, 4) + "\n";
    }
    throw new CliError(`error: fake pulumi does not implement: stack ${sub}`);
}

function configCommand(call: Call): string {
    const { parsed, state } = call;
    const project = call.project();
    const ref = selected(call);
    getStack(state, ref);
    const [, sub, key, value] = parsed.words;
    if (sub === undefined || sub === "get") {
        const cfg = mergedConfig(project, ref.stack);
        if (sub === "get") {
            if (!(key in cfg)) throw new CliError(`error: configuration key '${key}' not found for stack '${ref.stack}'`);
            return JSON.stringify(configJson(cfg[key], true), null, 2) + "\n";
        }
        const show = parsed.bools.has("--show-secrets");
        return JSON.stringify(Object.fromEntries(Object.keys(cfg).sort().map((k) => [k, configJson(cfg[k], show)])), null, 2) + "\n";
    }
    const cfg = stackConfig(project, ref.stack);
    if (sub === "set") {
        if (key === undefined || value === undefined) throw new CliError("error: config set needs a key and a value");
        cfg[key] = parsed.bools.has("--secret") ? { secure: `fake:${value}` } : value;
    } else if (sub === "rm") {
        delete cfg[key];
    } else {
        throw new CliError(`error: fake pulumi does not implement: config ${sub}`);
    }
    writeStackConfig(project, ref.stack, cfg);
    return "";
}

async function up(call: Call): Promise<string> {
    const { parsed, state } = call;
    if (!parsed.bools.has("--yes") && !parsed.bools.has("--skip-preview")) throw new CliError("error: --yes must be passed in to proceed when running in non-interactive mode");
    const project = call.project();
    const ref = selected(call);
    const st = getStack(state, ref);
    const { values, secretKeys } = programConfig(mergedConfig(project, ref.stack));
    const targets = parsed.flags.get("--target") ?? [];
    for (const t of targets) {
        if (!st.resources.some((r) => r.urn === t)) throw new CliError(`error: Target '${t}' could not be found in the stack`);
    }
    const start = new Date().toISOString();
    const organization = ref.key.split("/").length > 2 ? ref.key.split("/")[0] : "organization";
    // Loaded only here: the program's runtime (@pulumi/pulumi and the program) is what makes an update slow.
    const { runUpdate, updateFailure } = await import("./fake-engine");
    const result = await runUpdate({ project, ref, organization, config: values, secretKeys, targets, state });
    const entry: HistoryEntry = {
        version: st.history.length + 1, kind: "update", startTime: start, endTime: new Date().toISOString(),
        message: parsed.flags.get("--message")?.[0] ?? "", environment: { "exec.kind": parsed.flags.get("--exec-kind")?.[0] ?? "cli" },
        config: {}, result: result.error ? "failed" : "succeeded", resourceChanges: result.changes,
    };
    st.history.push(entry);
    state.current = { ...state.current, [project.name]: ref.stack };
    if (result.error) throw updateFailure(ref.stack, project.name, result);
    const summary = Object.entries(result.changes).map(([k, n]) => `    ${n} ${k === "same" ? "unchanged" : k === "create" ? "created" : `${k}d`}`).join("\n");
    return `Updating (${ref.stack})\n\nResources:\n${summary}\n\nDuration: 1s\n`;
}

function stateMove(call: Call): string {
    const { parsed, state } = call;
    const project = call.project();
    const source = parsed.flags.get("--source")?.[0];
    const dest = parsed.flags.get("--dest")?.[0];
    if (source === undefined && dest === undefined) throw new CliError("error: at least one of --source or --dest must be provided");
    const current = state.current?.[project.name] ?? "";
    const urns = parsed.words.slice(2);
    if (urns.length === 0) throw new CliError("error: requires at least 1 arg(s), only received 0");
    if (!parsed.bools.has("--yes") && !parsed.bools.has("-y")) throw new CliError("error: --yes must be passed in to proceed when running in non-interactive mode");
    return moveState(state, resolveStack(source ?? current, project.name), resolveStack(dest ?? current, project.name), urns, parsed.bools.has("--include-parents"));
}

/** Runs one fake CLI call; resolves to stdout. Throws CliError for a failing call. */
export async function run(argv: string[], cwd: string, state: FakeState): Promise<string> {
    const parsed = parseCli(argv);
    const stackArg = parsed.flags.get("--stack")?.[0] ?? parsed.flags.get("-s")?.[0];
    for (const f of state.fail ?? []) {
        if (f.match.every((m) => argv.includes(m)) && (f.stack === undefined || (stackArg && shortStack(stackArg) === f.stack))) throw new CliError(f.stderr);
    }
    let project: Project | undefined;
    const call: Call = { argv, parsed, state, project: () => (project ??= projectOf(cwd)) };
    const [first, second] = parsed.words;
    if (first === "version") return `v${FAKE_VERSION}\n`;
    if (first === "whoami") {
        return parsed.bools.has("--json") ? JSON.stringify({ user: "ring-test", organizations: ["ring-test"], url: "https://app.pulumi.com/ring-test" }, null, 2) + "\n" : "ring-test\n";
    }
    if (first === "stack") return stackCommand(call);
    if (first === "config") return configCommand(call);
    if (first === "up") return up(call);
    if (first === "state" && (second === "move" || second === "mv")) return stateMove(call);
    throw new CliError(`error: fake pulumi does not implement: ${argv.join(" ")}`);
}

async function main(): Promise<void> {
    const argv = process.argv.slice(2);
    const cwd = process.cwd();
    const logFile = process.env.FAKE_PULUMI_LOG;
    if (logFile) fs.appendFileSync(logFile, JSON.stringify({ argv, cwd } satisfies LogEntry) + "\n");
    const stateFile = process.env.FAKE_PULUMI_STATE;
    const state: FakeState = stateFile && fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, "utf8")) as FakeState : { stacks: {} };
    const save = () => { if (stateFile) fs.writeFileSync(stateFile, JSON.stringify(state, null, 2)); };
    // A program awaiting something that never comes drains the event loop; say so rather than exit quietly.
    const stalled = () => {
        process.stderr.write("fake pulumi: the program stopped before it finished: something it awaited never resolved\n");
        process.exit(99);
    };
    process.once("beforeExit", stalled);
    try {
        const out = await run(argv, cwd, state);
        save();
        process.stdout.write(out);
    } catch (err) {
        if (err instanceof CliError) {
            // A failed update still leaves its state (what it did before failing) and its history entry.
            if (parseCli(argv).words[0] === "up") save();
            if (err.stdout) process.stdout.write(err.stdout);
            if (err.stderr) process.stderr.write(err.stderr.endsWith("\n") ? err.stderr : err.stderr + "\n");
            process.exitCode = err.code;
        } else {
            process.stderr.write(`fake pulumi crashed: ${err instanceof Error ? err.stack : String(err)}\n`);
            process.exitCode = 99;
        }
    }
    process.off("beforeExit", stalled);
    // The program's runtime may hold handles open; the CLI's process ends with its command, once its output is written.
    process.stdout.write("", () => process.stderr.write("", () => process.exit()));
}

if (require.main === module) void main();
