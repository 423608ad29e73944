// The live pointer as the ring commands drive it: the project in live/ (its own Pulumi.yaml, its
// program compiled with the commands to bin/live/), one stack, whose outputs are which slot is live,
// the history and the cohorts. A change is one `pulumi up` of that stack with the change in the
// environment of that one update (live/change.ts): nothing is written to a file.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { LIVE_CHANGE_ENV, LivePointerChange, LivePointerState, stateFromOutputs } from "../live/change";
import { LIVE_POINTER_PROJECT_SUFFIX, LIVE_POINTER_STACK } from "../outputs";
import { EXIT, RingError, isRecord, shellQuote, stackNameFor } from "./plan";
import { configFileOf, exportState, failure, plainOutputs, readConfig, readOutputs } from "./workspace";

/** Where the live pointer's project lives, beside the slots' Pulumi.yaml. */
export const LIVE_POINTER_DIR = "live";

export interface LivePointerOptions {
    /** The slots' project directory; the live pointer's is its live/ folder. */
    cwd: string;
    /** The slots' project name: the live pointer's must be it with LIVE_POINTER_PROJECT_SUFFIX. */
    slotProject: string;
    org?: string;
    pulumiCommand?: PulumiCommand;
    envVars?: Record<string, string>;
    onOutput?: (chunk: string) => void;
}

export class LivePointer {
    readonly dir: string;
    readonly stack: string;

    private constructor(private readonly ws: LocalWorkspace, private readonly opts: LivePointerOptions, readonly project: string) {
        this.dir = path.join(opts.cwd, LIVE_POINTER_DIR);
        this.stack = stackNameFor(LIVE_POINTER_STACK, opts.org);
    }

    /** Opens the live pointer's project; refuses a checkout without it, or one named for another ring. */
    static async open(opts: LivePointerOptions): Promise<LivePointer> {
        const dir = path.join(opts.cwd, LIVE_POINTER_DIR);
        const expected = `${opts.slotProject}${LIVE_POINTER_PROJECT_SUFFIX}`;
        if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
            throw new RingError(`${dir} holds no Pulumi.yaml: the live pointer's project (${expected}) is missing from this checkout`, EXIT.usage,
                "run from a checkout of the api-ring project at this release or later (README, \"The live pointer\")");
        }
        let ws: LocalWorkspace;
        try {
            ws = await LocalWorkspace.create({ workDir: dir, pulumiCommand: opts.pulumiCommand, envVars: opts.envVars });
        } catch (err) {
            throw failure("starting the pulumi CLI", "(none)", err);
        }
        const settings: unknown = await ws.projectSettings();
        const project = isRecord(settings) && typeof settings["name"] === "string" ? settings["name"] : "";
        if (project !== expected) {
            throw new RingError(`${dir}/Pulumi.yaml names the project "${project}", but the slots' project is "${opts.slotProject}": the live pointer's must be "${expected}"`,
                EXIT.failed, `rename it in ${LIVE_POINTER_DIR}/Pulumi.yaml (the slots' programs read stack ${expected}/${LIVE_POINTER_STACK})`);
        }
        return new LivePointer(ws, opts, project);
    }

    /**
     * Its config (`pulumi config --json`; its stack file's when the stack does not exist yet), its last
     * outputs and the state they hold (nothing before its first deployment).
     */
    async read(): Promise<{ exists: boolean; config: ConfigMap; outputs: Record<string, unknown>; state: LivePointerState }> {
        const config = await readConfig(this.ws, this.stack);
        const outputs = config === undefined ? {} : await readOutputs(this.ws, this.stack) ?? {};
        try {
            return { exists: config !== undefined, config: config ?? configFileOf(this.dir, this.stack), outputs, state: stateFromOutputs(outputs, this.stack) };
        } catch (err) {
            throw new RingError(err instanceof Error ? err.message : String(err), EXIT.failed);
        }
    }

    async exportState(): Promise<unknown> {
        return exportState(this.ws, this.stack);
    }

    /** Creates the stack when it does not exist (slots' programs read its outputs; a missing stack fails them). True when created. */
    async ensureStack(): Promise<boolean> {
        if (await readConfig(this.ws, this.stack) !== undefined) return false;
        try {
            await Stack.createOrSelect(this.stack, this.ws);
            return true;
        } catch (err) {
            throw failure("creating the live pointer's stack", this.stack, err, `create it by hand: \`pulumi stack init ${this.stack}\` in ${LIVE_POINTER_DIR}/`);
        }
    }

    /** Sets a plain config key of its stack (its stack file in live/). */
    async setConfig(key: string, value: string): Promise<void> {
        await this.ws.setConfig(this.stack, key, { value, secret: false });
    }

    /** The command a change runs, for --dry-run: pasteable, from the slots' project directory. Without a change: an update that keeps what is live. */
    commandLine(change?: LivePointerChange): string {
        const env = change ? `${LIVE_CHANGE_ENV}=${shellQuote(JSON.stringify(change))} ` : "";
        return `(cd ${LIVE_POINTER_DIR} && ${env}pulumi up --yes --skip-preview --stack ${shellQuote(this.stack)})`;
    }

    /** Applies a change: one `pulumi up` of the live pointer's stack with the change in its environment. Resolves to its plain outputs. */
    async apply(change: LivePointerChange, message: string): Promise<Record<string, unknown>> {
        const ws = await LocalWorkspace.create({
            workDir: this.dir, pulumiCommand: this.opts.pulumiCommand,
            envVars: { ...this.opts.envVars, [LIVE_CHANGE_ENV]: JSON.stringify(change) },
        });
        const stack = await Stack.createOrSelect(this.stack, ws);
        const res = await stack.up({ message, onOutput: this.opts.onOutput });
        return plainOutputs(res.outputs);
    }
}
