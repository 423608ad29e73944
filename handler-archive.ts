// The code of each Lambda function, for aws.lambda.CallbackFunction: the function's handler
// module of handlers/, bundled by esbuild from its TypeScript sources into one file with the
// packages it loads at init, and each package it loads only when first needed bundled into a
// file of its own where Node's require finds it. CallbackFunction's factory only requires the
// bundle (no closure serialization on the hot path) and Pulumi's code paths pack the folder.
// The bundle is made from the sources when the program runs, under `pulumi up` (ts-node) as in
// the offline preview (compiled): no build step. Each bundle lands in a folder named by its content,
// moved there whole, so runs of the same stack at once (a preview during a test run) never write
// into a folder another run is still packing.
import { createHash } from "crypto";
import * as esbuild from "esbuild";
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";

/** The file Lambda loads: CallbackFunction writes the serialized factory there and sets `handler: "__index.handler"` (pulumi-aws sdk/nodejs/lambda/lambdaMixins.ts). */
export const ARCHIVE_ENTRY = "__index";

/** The folder, under the working directory, where each function's bundle is written for its archive: `<function>/<content hash>/`. */
export const BUILD_DIR = ".lambda";

/** How long a function's earlier bundle is kept beside its current one, for a run that may still pack it. */
const KEEP_EARLIER_MS = 24 * 60 * 60 * 1000;

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
    const dir = buildHandler(functionName, handlerModule, runtime, lazyPackages);
    return {
        callbackFactory: requireFactory(`./${dir.split(path.sep).join("/")}/${handlerModule}.js`, factory.name) as () => ReturnType<F>,
        codePathOptions: { extraIncludePaths: [dir], extraExcludePackages: dependencies() },
    };
}

/**
 * Builds the bundle of function `functionName` into `BUILD_DIR/<function>/<content hash>` and returns
 * that folder (relative to the working directory). The bundle is written into a staging folder of its
 * own and renamed into place whole (rename(2) is atomic, and refuses to replace a folder that has
 * files): a run never writes into a folder another run may be packing, and a folder, once there, never
 * changes. Same content, same folder, so an unchanged handler is no change to deploy. Earlier bundles
 * of the function are removed once no run can still be packing them (a day unused).
 */
export function buildHandler(functionName: string, handlerModule: string, runtime: string, lazyPackages: LazyPackages = {}): string {
    const root = path.join(BUILD_DIR, functionName);
    fs.mkdirSync(root, { recursive: true });
    const staging = fs.mkdtempSync(path.join(root, ".staging-"));
    try {
        bundleHandler(staging, handlerModule, runtime, lazyPackages);
        const dir = path.join(root, contentHash(staging));
        while (!placed(staging, dir)) { /* removed between the two calls by a run clearing old bundles: place it again */ }
        removeEarlier(root, path.basename(dir));
        return dir;
    } finally {
        fs.rmSync(staging, { recursive: true, force: true });
    }
}

/** Moves `staging` to `dir`, or, when another run put the same content there first, marks that one in use; false when it vanished meanwhile. */
function placed(staging: string, dir: string): boolean {
    const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? "";
    try {
        fs.renameSync(staging, dir);
        return true;
    } catch (e) {
        if (!["ENOTEMPTY", "EEXIST"].includes(code(e))) throw e;
    }
    try {
        const now = new Date();
        fs.utimesSync(dir, now, now);
        return true;
    } catch (e) {
        if (code(e) === "ENOENT") return false;
        throw e;
    }
}

/** The folder's files (relative paths and contents), hashed: 16 hex digits of sha256. */
function contentHash(dir: string): string {
    const hash = createHash("sha256");
    const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile())
        .map((f) => path.join(f.parentPath, f.name)).sort();
    for (const file of files) hash.update(path.relative(dir, file).split(path.sep).join("/")).update("\0").update(fs.readFileSync(file)).update("\0");
    return hash.digest("hex").slice(0, 16);
}

/** Removes what a function's folder holds beside `current` that no run has used for KEEP_EARLIER_MS. */
function removeEarlier(root: string, current: string): void {
    for (const entry of fs.readdirSync(root)) {
        if (entry === current) continue;
        const at = path.join(root, entry);
        try {
            if (Date.now() - fs.statSync(at).mtimeMs > KEEP_EARLIER_MS) fs.rmSync(at, { recursive: true, force: true });
        } catch {
            // Another run removed it first.
        }
    }
}

/** The folder of function `functionName`'s bundle in an archive written to `archiveRoot` (the one content-named folder it holds). */
export function archivedBundleDir(archiveRoot: string, functionName: string): string {
    const root = path.join(archiveRoot, BUILD_DIR, functionName);
    const found = fs.readdirSync(root);
    if (found.length !== 1) throw new Error(`${root}: expected the one folder of the function's bundle, found ${found.length}`);
    return path.join(root, found[0]);
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
