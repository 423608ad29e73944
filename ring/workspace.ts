// What the ring commands share about driving the `pulumi` CLI through the Automation API: reading a
// stack's config and outputs (undefined when the stack does not exist), its config file before the
// stack exists, and turning a failed call into a RingError that names the stack and the fix.
import * as fs from "fs";
import * as path from "path";
import { ConcurrentUpdateError, LocalWorkspace, StackNotFoundError } from "@pulumi/pulumi/automation";
import type { ConfigMap, OutputMap } from "@pulumi/pulumi/automation";
import type { ConfigSource } from "../config";
import { loadStackConfig } from "../stack-config";
import { EXIT, RingError } from "./plan";

/** A stack file as `pulumi config --json` would show it (secrets left out), for a stack not created yet. */
export function configFileOf(projectDir: string, stack: string): ConfigMap {
    const file = path.join(projectDir, `Pulumi.${stack.split("/").pop()}.yaml`);
    if (!fs.existsSync(file)) return {};
    const { values, secretKeys } = loadStackConfig(projectDir, stack.split("/").pop() as string);
    return Object.fromEntries(Object.entries(values).filter(([k]) => !secretKeys.includes(k)).map(([k, v]) => [k, { value: v, secret: false }]));
}

/** A ConfigSource over `pulumi config --json` entries, so the program's own rules validate what the commands read. */
export function configMapSource(project: string, stack: string, cfg: ConfigMap): ConfigSource {
    return {
        project,
        stack,
        get: (key) => cfg[key]?.value,
        isSecret: (key) => cfg[key]?.secret === true,
        keys: () => Object.keys(cfg),
    };
}

/** The error lines of a failed update's Diagnostics section (the CLI's display prints a program's errors there, on stdout). */
function diagnosticErrors(text: string): string[] {
    const lines = text.split("\n");
    const errors: string[] = [];
    lines.forEach((line, i) => {
        if (!/^\s+error: /.test(line)) return;
        errors.push(line.trim());
        const indent = line.length - line.trimStart().length;
        for (let j = i + 1; j < lines.length && lines[j].startsWith(" ".repeat(indent + 1)) && !/^\s+(error|warning|info): /.test(lines[j]); j++) {
            errors.push(lines[j].trim());
        }
    });
    return errors;
}

/**
 * What a failed CLI call said, without the Automation API's wrapping: the errors a failed update
 * printed in its diagnostics (stdout), else its stderr. The Automation API hands a failed command's
 * output over as execa's message ("Command failed with exit code N: <command>", then stderr and stdout).
 */
export function cliStderr(err: unknown): string {
    const msg = err instanceof Error ? err.message : String(err);
    const stderr = /stderr: ([\s\S]*?)\n err\?:/.exec(msg)?.[1] ?? msg;
    const stdout = /stdout: ([\s\S]*?)\n stderr:/.exec(msg)?.[1] ?? "";
    const text = `${stderr}\n${stdout}`.replace(/^Command failed with exit code -?\d+: [^\n]*\n?/, "");
    const errors = diagnosticErrors(text);
    return errors.length > 0 ? errors.join("\n") : text.trim();
}

/** Turns an Automation API failure into a RingError that names the stack and the fix. */
export function failure(what: string, stack: string, err: unknown, fix?: string): RingError {
    if (err instanceof RingError) return err;
    const detail = cliStderr(err);
    if (err instanceof ConcurrentUpdateError) {
        return new RingError(`${what} on stack ${stack} failed: another update is running on it\n${detail}`, EXIT.failed,
            `wait for it to finish (or \`pulumi cancel -s ${stack}\` if it is stuck), then rerun`);
    }
    if (/ENOENT/.test(detail) && /pulumi/.test(detail)) {
        return new RingError(`${what} failed: the pulumi CLI was not found on PATH`, EXIT.failed,
            "install it (https://www.pulumi.com/docs/install/) and log in with `pulumi login`");
    }
    return new RingError(`${what} on stack ${stack} failed:\n${detail}`, EXIT.failed, fix ?? `see the pulumi output above; fix it and rerun, or run \`pulumi up -s ${stack}\` by hand`);
}

/** The outputs that are not secret. */
export function plainOutputs(outputs: OutputMap): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(outputs)) {
        if (!v.secret) out[k] = v.value;
    }
    return out;
}

/** `pulumi config --json` of a stack (with project-level values), or undefined when the stack does not exist. */
export async function readConfig(ws: LocalWorkspace, stack: string): Promise<ConfigMap | undefined> {
    try {
        return await ws.getAllConfig(stack);
    } catch (err) {
        if (err instanceof StackNotFoundError) return undefined;
        throw failure("reading config", stack, err);
    }
}

/** Plain outputs of a stack, or undefined when the stack does not exist. */
export async function readOutputs(ws: LocalWorkspace, stack: string): Promise<Record<string, unknown> | undefined> {
    try {
        return plainOutputs(await ws.stackOutputs(stack));
    } catch (err) {
        if (err instanceof StackNotFoundError) return undefined;
        throw failure("reading outputs", stack, err);
    }
}

/** `pulumi stack export` of a stack. */
export async function exportState(ws: LocalWorkspace, stack: string): Promise<unknown> {
    try {
        return await ws.exportStack(stack);
    } catch (err) {
        throw failure("exporting the state", stack, err);
    }
}
