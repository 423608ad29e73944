// Reads a stack's configuration the way the Pulumi CLI hands it to the program: project
// config from Pulumi.yaml overlaid by Pulumi.<stack>.yaml, every value a string (lists and
// maps as JSON). Used by the offline preview and the local run, where no CLI is at hand.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { ConfigSource, SECRET_KEYS } from "./config";

export interface StackConfigFile {
    project: string;
    stack: string;
    /** Key ("namespace:name") to the value as the program sees it. */
    values: Record<string, string>;
    /** Keys whose values are secrets. */
    secretKeys: string[];
    /**
     * Secret keys the offline run filled with a placeholder: encrypted values cannot be
     * decrypted without the CLI, and unset ones are set with `pulumi config set --secret`.
     */
    placeholders: string[];
}

type YamlMap = Record<string, unknown>;

function readYaml(file: string): YamlMap {
    let parsed: unknown;
    try {
        parsed = yaml.load(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new Error(`${file}: ${(e as Error).message.split("\n")[0]}`);
    }
    if (typeof parsed !== "object" || parsed === null) throw new Error(`${file}: expected a YAML map`);
    return parsed as YamlMap;
}

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function isSecure(value: unknown): boolean {
    return typeof value === "object" && value !== null && "secure" in value;
}

/** Stacks of the project: every Pulumi.<stack>.yaml beside Pulumi.yaml. */
export function listStacks(projectDir: string): string[] {
    return fs.readdirSync(projectDir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

export function loadStackConfig(projectDir: string, stack: string): StackConfigFile {
    const project = readYaml(path.join(projectDir, "Pulumi.yaml"));
    const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        throw new Error(`no stack "${stack}": ${stackFile} does not exist (stacks here: ${listStacks(projectDir).join(", ") || "none"})`);
    }
    const values: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const placeholders: string[] = [];

    for (const [key, spec] of Object.entries((project.config ?? {}) as YamlMap)) {
        // Project-level config is either a bare value or { value, description, ... }.
        const value = typeof spec === "object" && spec !== null && !Array.isArray(spec) ? (spec as YamlMap).value : spec;
        if (value !== undefined) values[key] = asConfigString(value);
    }
    for (const [key, value] of Object.entries((readYaml(stackFile).config ?? {}) as YamlMap)) {
        if (isSecure(value)) {
            values[key] = placeholderFor(key);
            secretKeys.add(key);
            placeholders.push(key);
        } else {
            values[key] = asConfigString(value);
        }
    }

    // Secrets the program requires but the file cannot carry in the clear.
    const order = values["ring:order"] ? (JSON.parse(values["ring:order"]) as string[]) : ["red", "black"];
    const primary = values["ring:primary"] ?? order[0];
    const required = SECRET_KEYS.filter((k) => k !== "cache:authToken" || stack === primary);
    for (const key of required) {
        if (values[key] === undefined) {
            values[key] = placeholderFor(key);
            secretKeys.add(key);
            placeholders.push(key);
        }
    }
    return { project: String(project.name), stack, values, secretKeys: [...secretKeys].sort(), placeholders };
}

/** A value that passes validation and is obviously not a real secret. */
function placeholderFor(key: string): string {
    return `offline-placeholder-${key.replace(/[^A-Za-z0-9]/g, "-")}`;
}

/** A ConfigSource over a stack's values, as the program sees them under the CLI. */
export function configSource(file: Pick<StackConfigFile, "project" | "stack" | "values" | "secretKeys">): ConfigSource {
    return {
        project: file.project,
        stack: file.stack,
        get: (key) => file.values[key],
        isSecret: (key) => file.secretKeys.includes(key),
        keys: () => Object.keys(file.values),
    };
}

/** Parses a `--set key=value` argument. */
export function parseOverride(argument: string): [string, string] {
    const at = argument.indexOf("=");
    if (at <= 0) throw new Error(`--set needs KEY=VALUE, got "${argument}"`);
    return [argument.slice(0, at), argument.slice(at + 1)];
}
