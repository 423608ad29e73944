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

/** `requiredSecrets`: the secrets the stack's program requires, previewed with placeholders when unset (the slots' by default). */
export function loadStackConfig(projectDir: string, stack: string, requiredSecrets: readonly string[] = SECRET_KEYS): StackConfigFile {
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
    const required = requiredSecrets.filter((k) => k !== "cache:authToken" || stack === primary);
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

/** Where a project's program runs and what the language host requires. */
export interface ProgramEntry {
    /** The directory the program runs in (its process's cwd). */
    pwd: string;
    /** The module to require, relative to `pwd`. */
    main: string;
}

/**
 * The program of the project in `projectDir`, as the Pulumi engine and the nodejs language host find it
 * (pulumi/pulumi pkg/engine/project.go getPwdMain: Pulumi.yaml's `main`, relative to the project, runs
 * from its own directory, a directory `main` from itself; sdk/nodejs/cmd/run/run.ts: without `main`,
 * package.json's). A TypeScript `main` runs from the project directory as ts-node would, but from its
 * compiled twin under `bin/` (tsconfig's outDir), as the offline commands run every program.
 */
export function programEntry(projectDir: string): ProgramEntry {
    const project = readYaml(path.join(projectDir, "Pulumi.yaml"));
    let main = typeof project.main === "string" ? project.main : undefined;
    if (main === undefined) {
        const pkg = path.join(projectDir, "package.json");
        const declared = fs.existsSync(pkg) ? (JSON.parse(fs.readFileSync(pkg, "utf8")) as { main?: unknown }).main : undefined;
        main = typeof declared === "string" ? declared : "index.js";
    }
    if (/\.ts$/.test(main)) return { pwd: projectDir, main: path.join("bin", main.replace(/\.ts$/, ".js")) };
    const target = path.resolve(projectDir, main);
    if (!fs.existsSync(target)) throw new Error(`project 'main' could not be read: ${target} does not exist (build the project first: npm run build)`);
    return fs.statSync(target).isDirectory() ? { pwd: target, main: "." } : { pwd: path.dirname(target), main: path.basename(target) };
}
