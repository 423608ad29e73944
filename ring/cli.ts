// The ring commands: deploy / flip / rollback / status / cohort / migrate over the slots of the api-ring
// project and its live pointer (the project in live/).
//   npm run ring -- <command> [options]        (after `npm run build`; see `--help`)
// Results go to stdout (the slot, or JSON with --json); progress and pulumi's own output go to stderr.
// `runRing(argv, deps)` is the command line in-process: the CLI passes real AWS clients, the
// tests pass SDK clients stubbed with aws-sdk-client-mock, a clock, and the stand-in pulumi.
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import type { PulumiCommand } from "@pulumi/pulumi/automation";
import { parseHeader } from "../live/cohorts";
import type { CohortHeader } from "../outputs";
import { EXIT, RingError, UsageError } from "./plan";
import type { ExitCode } from "./plan";
import type { AwsClientsFactory } from "./aws";
import { Clock, CohortResult, DeployResult, FlipResult, RingOps } from "./ops";
import { MigrateResult, migrate } from "./migrate";
import { HISTORY_SHOWN, formatCohort, formatStatus } from "./status";

const EXIT_CODES = `Exit codes:
  0  done (with --dry-run: the plan passed every guard)
  1  a pulumi operation failed, the stacks or AWS could not be read, or the bake stopped watching
     (the flip stands)
  2  usage error (unknown command or option, missing argument)
  3  a guard refused (slot outside the ring, never deployed, live, nothing to roll back to, drift between AWS
     and the live pointer, a failed smoke test, a cohort API Gateway would refuse, a ring not moved yet);
     nothing was changed
  4  flip only: an alarm fired while the new live slot baked, and the ring flipped back to the slot live before
     (or, when it could not, says what to run)`;

const COMMON = `Options:
  --cwd <dir>     project directory holding Pulumi.yaml and live/ (default: the project root)
  --org <org>     Pulumi Cloud org: stacks are named <org>/<slot> (default: your default org/backend)
  --dry-run       read the stacks and AWS (and run the gate) and print what would be done; change nothing
  --json          print the result as JSON on stdout
  -h, --help      this help`;

const HELP: Record<string, string> = {
    main: `Usage: ring <command> [options]

Red/black ring operations for the api-ring Pulumi project: one stack per slot (ring:order in
Pulumi.yaml), and the live pointer, the project in live/, whose one stack owns the custom
domain's mapping: which slot is live, the history and the cohorts are its state.

Commands:
  deploy [slot]   release to the idle slot: 'pulumi up' on the slot after the live one (wrapping);
                  prints the slot it deployed. Refuses the live slot. Never changes what is live.
  flip <slot>     smoke-test <slot> through its stage URL (and its cohorts through the domain), point
                  the custom domain at it (one update of the live pointer's stack, from any checkout),
                  then watch its alarms for ring:bakeMinutes and flip back by itself when one fires.
  rollback        flip back to the live pointer's previous slot (smoke-tested, not watched).
  status          what AWS maps the domain to beside what the live pointer says (drift), every slot's
                  stage URL, spec hash, release id and alarms, the cohorts, and the last flips.
  cohort <slot> --header NAME=VALUE
                  requests to the domain carrying the header reach <slot> (an API Gateway routing rule);
                  --remove --header NAME=VALUE ends it. A flip ends every cohort.
  migrate         move a ring deployed before the live pointer (the mapping in the primary's state) to
                  the live pointer's stack, without touching AWS.

${COMMON}

${EXIT_CODES}

Run 'ring <command> --help' for more.`,
    deploy: `Usage: ring deploy [slot] [options]

Finds the live slot (what AWS maps the custom domain to), picks the next slot in ring:order
(wrapping; nothing live, or a live slot outside the ring, means the first slot) and runs
'pulumi up' on its stack, creating the stack if it does not exist yet (and the live pointer's,
which every slot reads). Prints the slot on stdout. Give [slot] to release to a specific idle slot
instead. Refuses the live slot, any deploy while AWS and the live pointer disagree (drift), any
non-primary slot before the primary was deployed, and the primary of a ring not moved yet.

${COMMON}

${EXIT_CODES}`,
    flip: `Usage: ring flip <slot> [options]

1. Reads what AWS maps the custom domain to (GetBasePathMapping) and refuses when it is not
   what the live pointer's state says (drift), naming both and the fix.
2. The gate: GET <slot's stage URL>/heartbeat must answer the slot's release id; when
   ring:smokeTest names a request, that request with the test key (ring:smokeTestKey) must
   answer 2xx; and for each cohort of <slot>, GET https://<domain>/heartbeat with its header
   must answer the slot's release id. A failure refuses the flip, printing what came back.
3. One 'pulumi up' of the live pointer's stack (in live/) with the flip in its environment:
   the mapping points at <slot> (updated in place), the flip is recorded in its history, and
   every cohort ends. It runs no slot's program and reads nothing of the working tree, so it
   works from any checkout. If the update fails, nothing changed.
4. The bake: watches <slot>'s alarms (its alarmNames output) for ring:bakeMinutes. When one
   fires, flips back to the slot live before, records why, and exits 4.

Options of flip:
  --skip-gate       flip without the smoke test (recorded in the history as gate "skipped")
  --no-bake         do not watch the alarms after the flip
  --reason <text>   why, for the history
  --override-drift  flip although AWS and the live pointer disagree (the flip resolves it; recorded)

${COMMON}

${EXIT_CODES}`,
    rollback: `Usage: ring rollback [options]

Flips back to the slot the live pointer recorded as previous (the one live before the last
flip). Refuses when none is recorded. The same guards and gate as 'ring flip'; no bake (a
rollback is the way back). Works from any checkout. Takes --skip-gate, --reason and
--override-drift.

${COMMON}

${EXIT_CODES}`,
    status: `Usage: ring status [options]

Prints what AWS maps the custom domain to beside what the live pointer says (naming any
difference as drift), and for every slot in ring:order: its stack, whether it is deployed, its
stage URL (invokeUrl), the spec hash and release id it serves (its own outputs, which only its
own deploy changes), which slot is live, and the state of its alarms; then the cohorts and the
last ${HISTORY_SHOWN} entries of the ring's history (--json gives them all). Changes nothing. Exits 1
when AWS could not be read (after printing what could be).

${COMMON}

${EXIT_CODES}`,
    cohort: `Usage: ring cohort <slot> --header NAME=VALUE [--header NAME=VALUE] [--priority N] [options]
       ring cohort --remove --header NAME=VALUE [--header NAME=VALUE] [options]

A header cohort: requests to the custom domain carrying every header given (one or two; VALUE is
a glob: beta, beta*, *beta or *beta*) reach <slot>'s stage, whatever is live, through an API
Gateway routing rule evaluated before the base path mapping. Use it to let testers reach the
idle slot through the production hostname before a flip; the flip's gate then probes the slot
through the domain with that header. The same headers again re-point the cohort. A flip (or a
rollback) ends every cohort. Names, values and priorities are checked as API Gateway checks
them. One update of the live pointer's stack; refuses the live slot, a slot never deployed,
drift, and a domain whose routing mode takes no rules.

Options of cohort:
  --header NAME=VALUE  a header the cohort's requests carry (one or two)
  --priority <n>       the rule's priority, 1 to 1000000, lowest first (default: the next 100)
  --remove             end the cohort matching the headers

${COMMON}

${EXIT_CODES}`,
    migrate: `Usage: ring migrate [options]

For a ring deployed before the live pointer, whose primary's state holds the custom domain's
mapping (and the domain, when the program created it): moves them to the live pointer's stack
with 'pulumi state move' (CLI 3.115 or later), runs the live pointer's first update, which
takes over the live slot, the previous slot and the history (AWS is not called: the mapping is
neither deleted nor created), and removes the keys the primary no longer reads (ring:live,
ring:previousLive, ring:history, ring:historyLimit, domain:*) from its stack file, copying the
domain:* ones to the live pointer's. Commit both stack files afterwards. Run it before the
primary's first deploy with this release: that deploy is refused until then.

${COMMON}

${EXIT_CODES}`,
};

/** Walks up from `start` to the directory holding Pulumi.yaml. */
export function findProjectRoot(start: string): string | undefined {
    let dir = path.resolve(start);
    for (;;) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml")) || fs.existsSync(path.join(dir, "Pulumi.yml"))) return dir;
        const up = path.dirname(dir);
        if (up === dir) return undefined;
        dir = up;
    }
}

export interface Io {
    out: (text: string) => void;
    err: (text: string) => void;
    /** pulumi's own output, as it streams. */
    stream?: (chunk: string) => void;
}

const defaultIo: Io = {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
    stream: (chunk) => process.stderr.write(chunk),
};

/** What a ring command line runs with; every field has a real default. */
export interface RingDeps {
    io?: Io;
    /** The AWS SDK clients (real ones for the primary's region by default). */
    aws?: AwsClientsFactory;
    /** The gate's HTTP client. */
    fetch?: typeof fetch;
    /** The bake's clock. */
    clock?: Clock;
    bakePollMs?: number;
    /** The pulumi CLI (the one on PATH by default) and extra environment for it. */
    pulumiCommand?: PulumiCommand;
    envVars?: Record<string, string>;
}

/** Options only flip and rollback take. */
const FLIP_OPTIONS = ["skip-gate", "no-bake", "reason", "override-drift"] as const;
/** Options only cohort takes. */
const COHORT_OPTIONS = ["header", "priority", "remove"] as const;

interface CohortArguments {
    slot?: string;
    headers: CohortHeader[];
    remove: boolean;
    priority?: number;
}

/** Reads `cohort`'s arguments; refuses what does not make a cohort, before anything is read. */
function cohortArguments(slot: string | undefined, headers: string[], priority: string | undefined, remove: boolean): CohortArguments {
    if (headers.length === 0) throw new UsageError("cohort needs the header its requests carry: ring cohort <slot> --header NAME=VALUE");
    if (!remove && slot === undefined) throw new UsageError("cohort needs the slot its requests reach: ring cohort <slot> --header NAME=VALUE");
    if (remove && (slot !== undefined || priority !== undefined)) throw new UsageError("cohort --remove takes only the cohort's --header(s)");
    let parsed: CohortHeader[];
    try {
        parsed = headers.map(parseHeader);
    } catch (err) {
        throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    let n: number | undefined;
    if (priority !== undefined) {
        n = /^\d+$/.test(priority) ? Number(priority) : NaN;
        if (!Number.isInteger(n)) throw new UsageError(`--priority ${JSON.stringify(priority)}: expected a whole number from 1 to 1000000`);
    }
    return { slot, headers: parsed, remove, priority: n };
}

const OPTIONS = {
    cwd: { type: "string" },
    org: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
    "skip-gate": { type: "boolean", default: false },
    "no-bake": { type: "boolean", default: false },
    "override-drift": { type: "boolean", default: false },
    reason: { type: "string" },
    header: { type: "string", multiple: true },
    priority: { type: "string" },
    remove: { type: "boolean", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>["values"];

interface CommandLine {
    command: string;
    rest: string[];
    values: Values;
}

/** Parses the command line; answers help and bad usage itself, returning the exit code then. */
function parseCommandLine(argv: string[], io: Io): CommandLine | ExitCode {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
    } catch (err) {
        io.err(`error: ${err instanceof Error ? err.message : String(err)}\n\n${HELP.main}`);
        return EXIT.usage;
    }
    const { values, positionals } = parsed;
    const [command, ...rest] = positionals;
    if (command === undefined || command === "help") {
        if (values.help || command === "help") {
            io.out(HELP[rest[0] ?? "main"] ?? HELP.main);
            return EXIT.ok;
        }
        io.err(`error: no command given\n\n${HELP.main}`);
        return EXIT.usage;
    }
    if (!(command in HELP) || command === "main") {
        io.err(`error: unknown command "${command}"\n\n${HELP.main}`);
        return EXIT.usage;
    }
    if (values.help) {
        io.out(HELP[command]);
        return EXIT.ok;
    }
    return { command, rest, values };
}

/** Refuses arguments and options the command does not take; reads cohort's, which need reading. */
function checkUsage({ command, rest, values }: CommandLine): CohortArguments | undefined {
    const maxArgs = command === "flip" || command === "deploy" || command === "cohort" ? 1 : 0;
    if (rest.length > maxArgs) throw new UsageError(`too many arguments for ${command}: ${rest.join(" ")}`);
    if (command === "flip" && rest.length === 0) throw new UsageError("flip needs the slot to point the domain at: ring flip <slot>");
    const given = FLIP_OPTIONS.filter((o) => values[o] !== undefined && values[o] !== false);
    if (command !== "flip" && command !== "rollback" && given.length > 0) {
        throw new UsageError(`${given.map((o) => `--${o}`).join(", ")} ${given.length > 1 ? "are" : "is"} for flip and rollback only`);
    }
    if (command === "rollback" && values["no-bake"]) throw new UsageError("--no-bake is for flip only: a rollback is never baked");
    const cohortOptions = COHORT_OPTIONS.filter((o) => values[o] !== undefined && values[o] !== false);
    if (command !== "cohort" && cohortOptions.length > 0) {
        throw new UsageError(`${cohortOptions.map((o) => `--${o}`).join(", ")} ${cohortOptions.length > 1 ? "are" : "is"} for cohort only`);
    }
    return command === "cohort" ? cohortArguments(rest[0], values.header ?? [], values.priority, values.remove === true) : undefined;
}

/** Opens the ring for the project at --cwd (or the one this CLI was built in). */
function openRing(values: Values, dryRun: boolean, io: Io, deps: RingDeps): Promise<RingOps> {
    const cwd = values.cwd !== undefined ? path.resolve(values.cwd) : (findProjectRoot(__dirname) ?? process.cwd());
    if (!["Pulumi.yaml", "Pulumi.yml", "Pulumi.json"].some((f) => fs.existsSync(path.join(cwd, f)))) {
        throw new UsageError(`${cwd} holds no Pulumi.yaml: run from the api-ring project or pass --cwd <project dir>`);
    }
    return RingOps.open({
        cwd,
        org: values.org,
        dryRun,
        log: (line) => io.err(line),
        onOutput: io.stream ?? ((chunk) => process.stderr.write(chunk)),
        pulumiCommand: deps.pulumiCommand,
        envVars: deps.envVars,
        aws: deps.aws,
        fetch: deps.fetch,
        clock: deps.clock,
        bakePollMs: deps.bakePollMs,
    });
}

/** Runs one ring command line in this process; resolves to the exit code. */
export async function runRing(argv: string[], deps: RingDeps = {}): Promise<ExitCode> {
    const io = deps.io ?? defaultIo;
    const line = parseCommandLine(argv, io);
    if (typeof line === "number") return line;
    const { command, rest, values } = line;
    try {
        const cohort = checkUsage(line);
        const json = values.json === true;
        const ops = await openRing(values, values["dry-run"] === true, io, deps);
        switch (command) {
            case "status": {
                const { complete, ...st } = await ops.status();
                io.out(json ? JSON.stringify(st, null, 2) : formatStatus(st, st.project));
                return complete ? EXIT.ok : EXIT.failed;
            }
            case "deploy":
                return reportDeploy(await ops.deploy(rest[0]), json, io);
            case "flip":
            case "rollback": {
                const request = {
                    skipGate: values["skip-gate"] === true, noBake: values["no-bake"] === true,
                    overrideDrift: values["override-drift"] === true, reason: values.reason,
                };
                const r = command === "flip" ? await ops.flip(rest[0], request) : await ops.rollback(request);
                return reportFlip(r, json, io);
            }
            case "cohort": {
                const c = cohort as CohortArguments;
                return reportCohort(await ops.cohort(c.slot, c.headers, { remove: c.remove, priority: c.priority }), json, io);
            }
            case "migrate":
                return reportMigrate(await migrate(ops), json, io);
        }
        throw new UsageError(`unknown command "${command}"`);
    } catch (err) {
        if (err instanceof RingError) {
            io.err(`error: ${err.message}`);
            if (err.exitCode === EXIT.usage) io.err(`\n${HELP[command] ?? HELP.main}`);
            return err.exitCode;
        }
        io.err(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        return EXIT.failed;
    }
}

/** Prints a deploy's outcome: the slot on stdout, what to do next on stderr. */
function reportDeploy(r: DeployResult, json: boolean, io: Io): ExitCode {
    if (json) {
        io.out(JSON.stringify({
            dryRun: r.dryRun, slot: r.plan.slot, stack: r.plan.stack, live: r.plan.live ?? null,
            createsStack: r.plan.createsStack, reason: r.plan.reason, commands: r.commands,
            invokeUrl: r.invokeUrl, releaseId: r.releaseId, specSha256: r.specSha256,
        }, null, 2));
    } else if (r.dryRun) {
        io.out(r.commands.map((c) => `would run: ${c}`).join("\n"));
    } else {
        if (r.invokeUrl) io.err(`deployed slot ${r.plan.slot}: stage URL ${r.invokeUrl} (release ${r.releaseId ?? "?"}); smoke-test it, then \`npm run ring -- flip ${r.plan.slot}\``);
        io.out(r.plan.slot);
    }
    return EXIT.ok;
}

/** Prints what a cohort command added or removed. */
function reportCohort(r: CohortResult, json: boolean, io: Io): ExitCode {
    if (json) io.out(JSON.stringify({ dryRun: r.dryRun, noop: r.plan.noop, removed: r.plan.removed, cohort: r.plan.cohort, cohorts: r.plan.change.cohorts, commands: r.commands }, null, 2));
    else if (r.dryRun) io.out(r.commands.map((line) => `would run: ${line}`).join("\n"));
    else io.out(`${r.plan.removed ? "removed" : "cohort"}: ${formatCohort(r.plan.cohort)}`);
    return EXIT.ok;
}

/** Prints a migration's outcome and what to commit afterwards. */
function reportMigrate(r: MigrateResult, json: boolean, io: Io): ExitCode {
    if (json) io.out(JSON.stringify(r, null, 2));
    else if (r.dryRun) io.out(r.commands.map((line) => `would run: ${line}`).join("\n"));
    else {
        io.err(`migrate: done; ${r.live} is live, as before. Commit the changed stack files (Pulumi.<primary>.yaml and live/Pulumi.*.yaml); ` +
            `the primary's next deploy drops its old outputs (liveSlot, liveUrl, ringHistory)`);
        io.out(r.live);
    }
    return EXIT.ok;
}

/** Prints a flip's outcome; the exit code says whether the watch flipped it back. */
function reportFlip(r: FlipResult, json: boolean, io: Io): ExitCode {
    const bake = r.bake;
    const live = bake?.flippedBackTo ?? r.plan.target;
    const code = bake?.fired ? EXIT.rolledBack : bake?.watchError ? EXIT.failed : EXIT.ok;
    if (json) {
        io.out(JSON.stringify({
            dryRun: r.dryRun, noop: r.plan.noop, live, previous: r.plan.from ?? null,
            pointerStack: r.plan.pointerStack, change: r.plan.change, removedCohorts: r.plan.removedCohorts,
            commands: r.commands, liveUrl: r.liveUrl, gate: r.gate ?? null, entry: r.entry ?? null, bake: bake ?? null,
        }, null, 2));
        return code;
    }
    if (r.dryRun && !r.plan.noop) {
        io.out(r.commands.map((c) => `would run: ${c}`).join("\n"));
        return code;
    }
    if (bake?.fired) {
        io.err(bake.flippedBackTo
            ? `rolled back: alarm ${bake.fired.name} fired while ${r.plan.target} baked (${bake.fired.reason ?? "no reason given"}); the domain serves ${bake.flippedBackTo} again, and the history says why`
            : `alarm ${bake.fired.name} fired while ${r.plan.target} baked (${bake.fired.reason ?? "no reason given"}), and the ring could NOT flip back by itself: ${bake.flipBackError ?? "?"}; ` +
              `flip by hand: \`npm run ring -- flip <slot> --skip-gate --reason "alarm ${bake.fired.name}"\``);
    } else if (bake?.watchError) {
        io.err(`the flip to ${r.plan.target} stands, but the bake stopped watching: ${bake.watchError}; watch the dashboard, and \`npm run ring -- rollback\` if it goes bad`);
    } else if (!r.plan.noop) {
        io.err(`live slot is now ${r.plan.target}${r.liveUrl ? ` (${r.liveUrl})` : ""}; roll back with \`npm run ring -- rollback\``);
    }
    io.out(bake?.fired && !bake.flippedBackTo ? r.plan.target : live);
    return code;
}

/** The command line with real AWS clients, the pulumi on PATH, stdout and stderr. */
export function main(argv: string[], io: Io = defaultIo): Promise<ExitCode> {
    return runRing(argv, { io });
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    }, (err: unknown) => {
        process.stderr.write(`error: ${String(err)}\n`);
        process.exitCode = EXIT.failed;
    });
}
