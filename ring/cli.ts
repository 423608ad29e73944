// The ring commands: deploy / flip / rollback / status over the slots of the api-ring project.
//   npm run ring -- <command> [options]        (after `npm run build`; see `--help`)
// Results go to stdout (the slot, or JSON with --json); progress and pulumi's own output go to stderr.
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { EXIT, RingError, UsageError, formatCommand, formatStatus } from "./plan";
import type { ExitCode } from "./plan";
import { RingOps } from "./ops";

const EXIT_CODES = `Exit codes:
  0  done (with --dry-run: the plan passed every guard)
  1  a pulumi operation failed (or the stacks could not be read)
  2  usage error (unknown command or option, missing argument)
  3  a guard refused (slot outside the ring, never deployed, live, nothing to roll back to); nothing was changed`;

const COMMON = `Options:
  --cwd <dir>     project directory holding Pulumi.yaml (default: the project root)
  --org <org>     Pulumi Cloud org: stacks are named <org>/<slot> (default: your default org/backend)
  --dry-run       read the stacks and print what would be done; change nothing
  --json          print the result as JSON on stdout
  -h, --help      this help`;

const HELP: Record<string, string> = {
    main: `Usage: ring <command> [options]

Red/black ring operations for the api-ring Pulumi project (one stack per slot, ring:order in Pulumi.yaml).

Commands:
  deploy [slot]   release to the idle slot: 'pulumi up' on the slot after the live one (wrapping);
                  prints the slot it deployed. Refuses the live slot.
  flip <slot>     point the custom domain at <slot>: sets ring:live (and ring:previousLive) on the
                  primary stack and updates only its base path mapping.
  rollback        flip back to ring:previousLive.
  status          every slot's stage URL, spec hash, release id, and which slot is live.

${COMMON}

${EXIT_CODES}

Run 'ring <command> --help' for more.`,
    deploy: `Usage: ring deploy [slot] [options]

Finds the live slot (the primary stack's 'liveSlot' output), picks the next slot in ring:order
(wrapping; nothing live, or a live slot outside the ring, means the first slot) and runs
'pulumi up' on its stack, creating the stack if it does not exist yet. Prints the slot on stdout.
Give [slot] to release to a specific idle slot instead. Refuses the live slot, a slot that a
half-done flip names in ring:live, and any non-primary slot before the primary was deployed.

${COMMON}

${EXIT_CODES}`,
    flip: `Usage: ring flip <slot> [options]

Points the custom domain at <slot>: sets ring:live=<slot> and ring:previousLive=<live slot> on the
primary stack, then runs 'pulumi up --target <base path mapping URN>' on the primary, so the
mapping is the only resource that changes. Refuses a slot outside the ring or never deployed.
If the update fails, the config is put back and the domain keeps pointing at the old slot.

${COMMON}

${EXIT_CODES}`,
    rollback: `Usage: ring rollback [options]

Flips back to the slot recorded in ring:previousLive on the primary stack (set by the last flip).
Refuses when none is recorded. Same guards and mechanics as 'ring flip'.

${COMMON}

${EXIT_CODES}`,
    status: `Usage: ring status [options]

Prints, for every slot in ring:order: its stack, whether it is deployed, its stage URL
(invokeUrl), spec hash (specSha256), release id, and which slot is live. Warns when ring:live
on the primary and the live mapping disagree (a half-done flip). Changes nothing.

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
}

const defaultIo: Io = {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
};

/** Runs one ring command line; resolves to the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<ExitCode> {
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
            onOutput: (chunk) => process.stderr.write(chunk),
        });

        switch (command) {
            case "status": {
                const st = await ops.status();
                io.out(json ? JSON.stringify(st, null, 2) : formatStatus(st, st.project));
                return EXIT.ok;
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
                const r = command === "flip" ? await ops.flip(rest[0]) : await ops.rollback();
                if (json) {
                    io.out(JSON.stringify({
                        dryRun: r.dryRun, noop: r.plan.noop, live: r.plan.target, previous: r.plan.from ?? null,
                        primaryStack: r.plan.primaryStack, config: r.plan.config, targets: r.targets,
                        commands: r.commands, liveUrl: r.liveUrl,
                    }, null, 2));
                } else if (r.dryRun && !r.plan.noop) {
                    io.out(r.commands.map((c) => `would run: ${formatCommand(c)}`).join("\n"));
                } else {
                    if (!r.plan.noop) io.err(`live slot is now ${r.plan.target}${r.liveUrl ? ` (${r.liveUrl})` : ""}; roll back with \`npm run ring -- rollback\``);
                    io.out(r.plan.target);
                }
                return EXIT.ok;
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

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    }, (err: unknown) => {
        process.stderr.write(`error: ${String(err)}\n`);
        process.exitCode = EXIT.failed;
    });
}
