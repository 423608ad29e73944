// The ring commands: deploy / flip / rollback / status over the slots of the api-ring project.
//   npm run ring -- <command> [options]        (after `npm run build`; see `--help`)
// Results go to stdout (the slot, or JSON with --json); progress and pulumi's own output go to stderr.
// `runRing(argv, deps)` is the command line in-process: the CLI passes real AWS clients, the
// tests pass SDK clients stubbed with aws-sdk-client-mock, a clock, and the stand-in pulumi.
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import type { PulumiCommand } from "@pulumi/pulumi/automation";
import { EXIT, HISTORY_SHOWN, RingError, UsageError, formatCommand, formatStatus } from "./plan";
import type { ExitCode } from "./plan";
import type { AwsClientsFactory } from "./aws";
import { Clock, FlipResult, RingOps } from "./ops";

const EXIT_CODES = `Exit codes:
  0  done (with --dry-run: the plan passed every guard)
  1  a pulumi operation failed, the stacks or AWS could not be read, or the bake stopped watching
     (the flip stands)
  2  usage error (unknown command or option, missing argument)
  3  a guard refused (slot outside the ring, never deployed, live, nothing to roll back to, drift between AWS
     and ring:live, a failed smoke test); nothing was changed
  4  flip only: an alarm fired while the new live slot baked, and the ring flipped back to the slot live before
     (or, when it could not, says what to run)`;

const COMMON = `Options:
  --cwd <dir>     project directory holding Pulumi.yaml (default: the project root)
  --org <org>     Pulumi Cloud org: stacks are named <org>/<slot> (default: your default org/backend)
  --dry-run       read the stacks and AWS (and run the gate) and print what would be done; change nothing
  --json          print the result as JSON on stdout
  -h, --help      this help`;

const HELP: Record<string, string> = {
    main: `Usage: ring <command> [options]

Red/black ring operations for the api-ring Pulumi project (one stack per slot, ring:order in Pulumi.yaml).

Commands:
  deploy [slot]   release to the idle slot: 'pulumi up' on the slot after the live one (wrapping);
                  prints the slot it deployed. Refuses the live slot.
  flip <slot>     smoke-test <slot> through its stage URL, point the custom domain at it (ring:live,
                  ring:previousLive and ring:history on the primary, then only the base path mapping),
                  then watch its alarms for ring:bakeMinutes and flip back by itself when one fires.
  rollback        flip back to ring:previousLive (smoke-tested, not watched).
  status          what AWS maps the domain to beside ring:live (drift), every slot's stage URL, spec
                  hash, release id and alarms, and the last flips.

${COMMON}

${EXIT_CODES}

Run 'ring <command> --help' for more.`,
    deploy: `Usage: ring deploy [slot] [options]

Finds the live slot (what AWS maps the custom domain to), picks the next slot in ring:order
(wrapping; nothing live, or a live slot outside the ring, means the first slot) and runs
'pulumi up' on its stack, creating the stack if it does not exist yet. Prints the slot on stdout.
Give [slot] to release to a specific idle slot instead. Refuses the live slot, any deploy while
AWS and ring:live disagree (drift), any non-primary slot before the primary was deployed, and
the primary's first deploy onto a domain AWS already maps until the mapping is adopted.

${COMMON}

${EXIT_CODES}`,
    flip: `Usage: ring flip <slot> [options]

1. Reads what AWS maps the custom domain to (GetBasePathMapping) and refuses when it is not
   what ring:live on the primary says (drift), naming both and the fix.
2. The gate: GET <slot's stage URL>/heartbeat must answer the slot's release id, and, when
   ring:smokeTest names a request, that request with the test key (ring:smokeTestKey) must
   answer 2xx. A failure refuses the flip and prints what was expected and what came back.
3. Sets ring:live=<slot>, ring:previousLive=<live slot> and ring:history (this flip appended)
   on the primary stack, then runs 'pulumi up --target <base path mapping URN>' there: the
   mapping is the only resource that changes. If the update fails, the config is put back.
4. The bake: watches <slot>'s alarms (its alarmNames output) for ring:bakeMinutes. When one
   fires, flips back to the slot live before, records why, and exits 4.

Options of flip:
  --skip-gate       flip without the smoke test (recorded in the history as gate "skipped")
  --no-bake         do not watch the alarms after the flip
  --reason <text>   why, for the history
  --override-drift  flip although AWS and ring:live disagree (the flip resolves it; recorded)

${COMMON}

${EXIT_CODES}`,
    rollback: `Usage: ring rollback [options]

Flips back to the slot recorded in ring:previousLive on the primary stack (set by the last flip).
Refuses when none is recorded. The same guards and gate as 'ring flip'; no bake (a rollback is
the way back). Takes --skip-gate, --reason and --override-drift.

${COMMON}

${EXIT_CODES}`,
    status: `Usage: ring status [options]

Prints what AWS maps the custom domain to beside ring:live on the primary (naming any
difference as drift), and for every slot in ring:order: its stack, whether it is deployed, its
stage URL (invokeUrl), spec hash (specSha256), release id, which slot is live, and the state of
its alarms; then the last ${HISTORY_SHOWN} entries of the ring's history (--json gives them all). Changes
nothing. Exits 1 when AWS could not be read (after printing what could be).

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

/** Runs one ring command line in this process; resolves to the exit code. */
export async function runRing(argv: string[], deps: RingDeps = {}): Promise<ExitCode> {
    const io = deps.io ?? defaultIo;
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            strict: true,
            options: {
                cwd: { type: "string" },
                org: { type: "string" },
                "dry-run": { type: "boolean", default: false },
                json: { type: "boolean", default: false },
                help: { type: "boolean", short: "h", default: false },
                "skip-gate": { type: "boolean", default: false },
                "no-bake": { type: "boolean", default: false },
                "override-drift": { type: "boolean", default: false },
                reason: { type: "string" },
            },
        });
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

    try {
        const maxArgs = command === "flip" || command === "deploy" ? 1 : 0;
        if (rest.length > maxArgs) throw new UsageError(`too many arguments for ${command}: ${rest.join(" ")}`);
        if (command === "flip" && rest.length === 0) throw new UsageError("flip needs the slot to point the domain at: ring flip <slot>");
        const given = FLIP_OPTIONS.filter((o) => values[o] !== undefined && values[o] !== false);
        if (command !== "flip" && command !== "rollback" && given.length > 0) {
            throw new UsageError(`${given.map((o) => `--${o}`).join(", ")} ${given.length > 1 ? "are" : "is"} for flip and rollback only`);
        }
        if (command === "rollback" && values["no-bake"]) throw new UsageError("--no-bake is for flip only: a rollback is never baked");

        const cwd = values.cwd !== undefined ? path.resolve(values.cwd) : (findProjectRoot(__dirname) ?? process.cwd());
        if (!["Pulumi.yaml", "Pulumi.yml", "Pulumi.json"].some((f) => fs.existsSync(path.join(cwd, f)))) {
            throw new UsageError(`${cwd} holds no Pulumi.yaml: run from the api-ring project or pass --cwd <project dir>`);
        }
        const dryRun = values["dry-run"] === true;
        const json = values.json === true;
        const ops = await RingOps.open({
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

        switch (command) {
            case "status": {
                const { complete, ...st } = await ops.status();
                io.out(json ? JSON.stringify(st, null, 2) : formatStatus(st, st.project));
                return complete ? EXIT.ok : EXIT.failed;
            }
            case "deploy": {
                const r = await ops.deploy(rest[0]);
                if (json) {
                    io.out(JSON.stringify({
                        dryRun: r.dryRun, slot: r.plan.slot, stack: r.plan.stack, live: r.plan.live ?? null,
                        createsStack: r.plan.createsStack, reason: r.plan.reason, commands: r.commands,
                        invokeUrl: r.invokeUrl, releaseId: r.releaseId, specSha256: r.specSha256,
                    }, null, 2));
                } else if (r.dryRun) {
                    io.out(r.commands.map((c) => `would run: ${formatCommand(c)}`).join("\n"));
                } else {
                    if (r.invokeUrl) io.err(`deployed slot ${r.plan.slot}: stage URL ${r.invokeUrl} (release ${r.releaseId ?? "?"}); smoke-test it, then \`npm run ring -- flip ${r.plan.slot}\``);
                    io.out(r.plan.slot);
                }
                return EXIT.ok;
            }
            case "flip":
            case "rollback": {
                const request = {
                    skipGate: values["skip-gate"] === true, noBake: values["no-bake"] === true,
                    overrideDrift: values["override-drift"] === true, reason: values.reason,
                };
                const r = command === "flip" ? await ops.flip(rest[0], request) : await ops.rollback(request);
                return reportFlip(r, json, io);
            }
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

/** Prints a flip's outcome; the exit code says whether the watch flipped it back. */
function reportFlip(r: FlipResult, json: boolean, io: Io): ExitCode {
    const bake = r.bake;
    const live = bake?.flippedBackTo ?? r.plan.target;
    const code = bake?.fired ? EXIT.rolledBack : bake?.watchError ? EXIT.failed : EXIT.ok;
    if (json) {
        io.out(JSON.stringify({
            dryRun: r.dryRun, noop: r.plan.noop, live, previous: r.plan.from ?? null,
            primaryStack: r.plan.primaryStack, config: r.plan.config, targets: r.targets,
            commands: r.commands, liveUrl: r.liveUrl, gate: r.gate ?? null, entry: r.entry ?? null, bake: bake ?? null,
        }, null, 2));
        return code;
    }
    if (r.dryRun && !r.plan.noop) {
        io.out(r.commands.map((c) => `would run: ${formatCommand(c)}`).join("\n"));
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
