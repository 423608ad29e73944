// The code of each Lambda function, for aws.lambda.CallbackFunction: the function's handler
// module of handlers/, bundled by esbuild from its TypeScript sources into one file with the
// packages it loads at init, and each package it loads only when first needed bundled into a
// file of its own where Node's require finds it. CallbackFunction's factory only requires the
// bundle (no closure serialization on the hot path) and Pulumi's code paths pack the folder.
// The bundle is made from the sources when the program runs, under `pulumi up` (ts-node) as in
// the offline preview (compiled): no build step.
import * as esbuild from "esbuild";
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";

/** The file Lambda loads: CallbackFunction writes the serialized factory there and sets `handler: "__index.handler"` (pulumi-aws sdk/nodejs/lambda/lambdaMixins.ts). */
export const ARCHIVE_ENTRY = "__index";

/** The folder, under the working directory, where each function's bundle is written for its archive. */
export const BUILD_DIR = ".lambda";

/** Packages the Lambda Node.js runtime provides; the handlers load them only when first needed. */
const RUNTIME_PROVIDED = "@aws-sdk/*";

/** Packages the handlers load only when first needed (not at init), each with whether the function ships it. */
export type LazyPackages = Record<string, boolean>;

/** What a CallbackFunction needs to ship a handler module: the factory Lambda calls at cold start and the files it loads. */
export interface HandlerCode<F> {
    callbackFactory: F;
    codePathOptions: pulumi.runtime.CodePathOptions;
}

/** The folder of the Lambda code, as the program loaded it (handlers/*.ts, or bin/handlers/*.js when compiled). */
const LOADED_HANDLERS = path.join(__dirname, "handlers");

/**
 * The code of function `functionName` for a CallbackFunction on `runtime` (e.g. "nodejs22.x"), whose
 * handler is `factory()`, a factory exported by the handler module `handlerModule` (e.g. "authorizer"):
 * the factory Lambda calls once per container, which requires the bundle and calls it, and the code
 * paths that pack the function's folder under BUILD_DIR and no package of package.json's
 * `dependencies` (the bundles carry what the handlers load).
 */
export function handlerCode<F extends (...args: never[]) => unknown>(
    functionName: string, runtime: string, handlerModule: string, factory: F, lazyPackages: LazyPackages = {},
): HandlerCode<() => ReturnType<F>> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(path.join(LOADED_HANDLERS, handlerModule)) as Record<string, unknown>;
    if (exported[factory.name] !== factory) throw new Error(`handler module ${handlerModule} does not export ${factory.name || "the factory given"}`);
    const dir = path.join(BUILD_DIR, functionName);
    bundleHandler(dir, handlerModule, runtime, lazyPackages);
    return {
        callbackFactory: requireFactory(`./${dir.split(path.sep).join("/")}/${handlerModule}.js`, factory.name) as () => ReturnType<F>,
        codePathOptions: { extraIncludePaths: [dir], extraExcludePackages: dependencies() },
    };
}

/**
 * Bundles handler module `handlerModule` (handlers/<name>.ts under the working directory) for `runtime`
 * into `dir`, replaced whole so nothing of an earlier run lingers: `<name>.js` with everything it loads
 * at init, and each lazily loaded package the function ships as `node_modules/<package>/index.js`, where
 * the bundle's `require` of it finds it. The runtime's AWS SDK and the lazily loaded packages stay out of
 * the first file.
 */
export function bundleHandler(dir: string, handlerModule: string, runtime: string, lazyPackages: LazyPackages = {}): void {
    const source = path.join(process.cwd(), "handlers", `${handlerModule}.ts`);
    if (!fs.existsSync(source)) throw new Error(`handler module ${handlerModule}: no source at ${source}: run the program from the project`);
    const target = nodeTarget(runtime);
    const shipped = Object.keys(lazyPackages).filter((name) => lazyPackages[name]);
    fs.rmSync(dir, { recursive: true, force: true });
    try {
        esbuild.buildSync({
            absWorkingDir: process.cwd(),
            entryPoints: [{ in: source, out: handlerModule }, ...shipped.map((name) => ({ in: name, out: `node_modules/${name}/index` }))],
            outdir: dir,
            bundle: true,
            platform: "node",
            format: "cjs",
            target,
            external: [RUNTIME_PROVIDED, ...Object.keys(lazyPackages)],
            // import() becomes require(), as tsc compiles it for CommonJS: Lambda provides its AWS SDK through
            // NODE_PATH (Lambda's reserved environment variables), which require honours and ES module
            // resolution ignores (Node.js docs, ECMAScript modules: "No NODE_PATH").
            supported: { "dynamic-import": false },
            // What Lambda runs, nothing for a debugger: no source map, no legal comment. Not minified (CDK's
            // NodejsFunction default): well inside the size target as it is, stack traces in the logs keep the
            // handlers' names, and minified bundles started no faster (README, design notes).
            sourcemap: false,
            legalComments: "none",
            logLevel: "silent",
        });
    } catch (e) {
        const errors = (e as { errors?: esbuild.Message[] }).errors ?? [];
        const where = (m: esbuild.Message) => (m.location ? `${m.location.file}:${m.location.line}: ` : "");
        throw new Error(`handler module ${handlerModule}: ${errors.length > 0 ? errors.map((m) => `${where(m)}${m.text}`).join("; ") : (e as Error).message}`);
    }
}

/** esbuild's target for a Lambda Node.js runtime ("nodejs22.x" -> "node22"). */
function nodeTarget(runtime: string): string {
    const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
    if (major === undefined) throw new Error(`runtime ${runtime}: expected a Lambda Node.js runtime such as nodejs22.x`);
    return `node${major}`;
}

/**
 * A factory that loads `entry` from the archive and calls its export `exportName`. Pulumi serializes it
 * (pulumi/pulumi sdk/nodejs/runtime/closure/serializeClosure.ts) into `__index.js` with its two strings
 * as its one captured scope; what it returns is the plain bundle's handler.
 */
function requireFactory(entry: string, exportName: string): () => unknown {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return () => (require(entry) as Record<string, () => unknown>)[exportName]();
}

/**
 * The program's own `dependencies` (package.json where Pulumi runs it): CallbackFunction's code paths
 * pack each whole with what it depends on (pulumi/pulumi sdk/nodejs/runtime/closure/codePaths.ts), and the
 * bundles already carry what the handlers load of them.
 */
function dependencies(): string[] {
    const manifest = JSON.parse(fs.readFileSync("package.json", "utf8")) as { dependencies?: Record<string, string> };
    return Object.keys(manifest.dependencies ?? {});
}
