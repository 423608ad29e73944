// The deployment archive of a Lambda function: its handler modules from handlers/, compiled one
// file at a time to plain CommonJS, and the files of node_modules those modules load. Real modules
// rather than Pulumi's closure serialization (aws.lambda.CallbackFunction), whose code reaches every
// captured name through `with` blocks that V8 cannot optimise, on the authorizer's hot path.
// The archive is the same whether the program runs under ts-node (`pulumi up`) or compiled (the
// offline preview): it is always made from the TypeScript sources.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** The folder of the Lambda code, as the program loaded it (handlers/*.ts, or bin/handlers/*.js when compiled). */
const LOADED_HANDLERS = path.join(__dirname, "handlers");

/** Packages the Lambda Node.js runtime provides; the handlers load them only when first needed. */
const RUNTIME_PROVIDED = /^@aws-sdk\/|^aws-sdk$/;

/** The file Lambda loads: CallbackFunction writes the serialized factory there and sets `handler: "__index.handler"` (pulumi-aws sdk/nodejs/lambda/lambdaMixins.ts). */
export const ARCHIVE_ENTRY = "__index";

/** Packages the handlers load only when first needed (not at init), each with whether the function ships it. */
export type LazyPackages = Record<string, boolean>;

/** What the handlers loaded: their own modules (names under handlers/, no extension) and files of node_modules. */
export interface HandlerTrace {
    modules: string[];
    packageFiles: string[];
}

/**
 * What a handler module loads, as Node's loader recorded it (module.children, which lists every
 * module a module required, cached or not): the modules of handlers/ it reaches, and the files of
 * node_modules with the package.json files Node reads for them (the package's own, for `main`, and
 * any nested one that sets a folder's module type). Packages the handlers load only when first
 * needed (`lazyPackages`, each with whether this function ships it) are left out of that walk,
 * whatever this process has loaded, and those shipped are loaded here and traced the same way; an
 * ES module package (jose) records no children, so its whole runtime code goes, JavaScript and
 * JSON only. Paths of node_modules are relative to the working directory (the project, where
 * Pulumi runs the program).
 */
export function traceHandler(handlerModule: string, lazyPackages: LazyPackages = {}): HandlerTrace {
    const modules = new Set<string>();
    const files = new Set<string>();
    const seen = new Set<NodeModule>();
    // `from`: the lazily loaded package whose own walk this is (it may enter that package, no other lazy one).
    const visit = (module: NodeModule | undefined, from?: string): void => {
        if (module === undefined || seen.has(module)) return;
        const packageRoot = packageRootOf(module.filename);
        if (packageRoot !== undefined && Object.hasOwn(lazyPackages, packageRoot.name) && packageRoot.name !== from) return;
        seen.add(module);
        if (packageRoot === undefined) {
            const name = path.relative(LOADED_HANDLERS, module.filename).replace(/\.(ts|js)$/, "");
            if (name.startsWith("..")) throw new Error(`handler module ${handlerModule} loads ${module.filename}, outside handlers/`);
            modules.add(name.split(path.sep).join("/"));
        } else {
            if (RUNTIME_PROVIDED.test(packageRoot.name)) return;
            files.add(module.filename);
            for (let dir = path.dirname(module.filename); dir.startsWith(packageRoot.dir); dir = path.dirname(dir)) {
                if (fs.existsSync(path.join(dir, "package.json"))) files.add(path.join(dir, "package.json"));
                if (dir === packageRoot.dir) break;
            }
        }
        module.children.forEach((child) => visit(child, from));
    };
    visit(loadedHandler(handlerModule));
    for (const [name, shipped] of Object.entries(lazyPackages)) {
        if (!shipped) continue;
        const entry = require.resolve(name);
        const root = packageRootOf(entry);
        if (root === undefined) throw new Error(`handler module ${handlerModule}: lazily loaded package ${name} is not in node_modules (${entry})`);
        if (!isEsModule(entry)) {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            require(entry);
            visit(require.cache[entry], root.name);
            continue;
        }
        for (const entry of fs.readdirSync(root.dir, { recursive: true, withFileTypes: true })) {
            if (entry.isFile() && /\.(c|m)?js$|(^|\/)package\.json$/.test(entry.name) && !/\.d\.(c|m)?ts$/.test(entry.name)) {
                files.add(path.join(entry.parentPath, entry.name));
            }
        }
    }
    const packageFiles = [...files].map((file) => {
        const relative = path.relative(process.cwd(), file);
        // The archive places each file at this path: it must lie under the project.
        if (relative.startsWith("..")) throw new Error(`handler file ${file} lies outside the working directory ${process.cwd()}: run the program from the project`);
        return relative.split(path.sep).join("/");
    });
    return { modules: [...modules].sort(), packageFiles: packageFiles.sort() };
}

/** Whether Node loads `file` as an ES module: .mjs, or .js under a package.json that says "type": "module". */
function isEsModule(file: string): boolean {
    if (file.endsWith(".mjs")) return true;
    if (!file.endsWith(".js")) return false;
    for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest)) return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { type?: string }).type === "module";
    }
    return false;
}

/** The module of handlers/ named `name`, loaded (so its children are known). */
function loadedHandler(name: string): NodeModule {
    const id = require.resolve(path.join(LOADED_HANDLERS, name));
    if (require.cache[id] === undefined) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(id);
    }
    return require.cache[id] as NodeModule;
}

/** The package a file of node_modules belongs to: its folder and name (scoped names included). */
function packageRootOf(file: string): { dir: string; name: string } | undefined {
    const parts = file.split(path.sep);
    const at = parts.lastIndexOf("node_modules");
    if (at < 0) return undefined;
    const width = parts[at + 1]?.startsWith("@") ? 2 : 1;
    return { dir: parts.slice(0, at + 1 + width).join(path.sep), name: parts.slice(at + 1, at + 1 + width).join("/") };
}

/** How each handler file is compiled: what Lambda's Node.js 22 runs, nothing for a debugger. */
const COMPILER_OPTIONS: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    esModuleInterop: true,
    isolatedModules: true,
    removeComments: true,
    sourceMap: false,
};

const compiled = new Map<string, string>();

/** One handler module's source (handlers/<name>.ts under the project), compiled to CommonJS. */
export function compileHandlerModule(name: string): string {
    const source = path.join(process.cwd(), "handlers", `${name}.ts`);
    let text = compiled.get(source);
    if (text === undefined) {
        if (!fs.existsSync(source)) throw new Error(`handler module ${name}: no source at ${source}: run the program from the project`);
        const out = ts.transpileModule(fs.readFileSync(source, "utf8"), { compilerOptions: COMPILER_OPTIONS, fileName: source, reportDiagnostics: true });
        const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
        if (errors.length > 0) throw new Error(`handler module ${name}: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; ")}`);
        text = out.outputText;
        compiled.set(source, text);
    }
    return text;
}

/** The folder, under the working directory, where each function's code is written for its archive. */
export const BUILD_DIR = ".lambda";

/** What a CallbackFunction needs to ship a handler module: the factory Lambda calls at cold start and the files it loads. */
export interface HandlerCode<F> {
    callbackFactory: F;
    codePathOptions: pulumi.runtime.CodePathOptions;
}

/**
 * The code of function `functionName`, whose handler is `factory()`, a factory exported by the handler
 * module `handlerModule` (e.g. "authorizer"), for aws.lambda.CallbackFunction: its `callbackFactory`
 * only requires the compiled module from the archive and calls the factory once per container; the
 * archive (Pulumi's code paths) carries the compiled modules of handlers/ the entry loads, written under
 * BUILD_DIR, and the traced files of node_modules, and no package of package.json's `dependencies` whole.
 */
export function handlerCode<F extends (...args: never[]) => unknown>(functionName: string, handlerModule: string, factory: F, lazyPackages: LazyPackages = {}): HandlerCode<() => ReturnType<F>> {
    const exported = loadedHandler(handlerModule).exports as Record<string, unknown>;
    if (exported[factory.name] !== factory) throw new Error(`handler module ${handlerModule} does not export ${factory.name || "the factory given"}`);
    const wholePackages = Object.entries(lazyPackages).filter(([name, shipped]) => shipped && isEsModule(require.resolve(name))).map(([name]) => name);
    const trace = traceHandler(handlerModule, Object.fromEntries(Object.entries(lazyPackages).map(([name, shipped]) => [name, shipped && !wholePackages.includes(name)])));
    const dir = path.join(BUILD_DIR, functionName);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const name of trace.modules) {
        const file = path.join(dir, "handlers", `${name}.js`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, compileHandlerModule(name));
    }
    const entry = `./${dir.split(path.sep).join("/")}/handlers/${handlerModule}.js`;
    return {
        callbackFactory: requireFactory(entry, factory.name) as () => ReturnType<F>,
        codePathOptions: {
            extraIncludePaths: [dir, ...trace.packageFiles],
            extraIncludePackages: wholePackages,
            extraExcludePackages: dependencies().filter((name) => !wholePackages.includes(name)),
        },
    };
}

/**
 * A factory that loads `entry` from the archive and calls its export `exportName`. Pulumi serializes it
 * (pulumi/pulumi sdk/nodejs/runtime/closure/serializeClosure.ts) into `__index.js` with its two strings
 * as its one captured scope; what it returns is the plain module's handler.
 */
function requireFactory(entry: string, exportName: string): () => unknown {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return () => (require(entry) as Record<string, () => unknown>)[exportName]();
}

/** The program's own `dependencies` (package.json where Pulumi runs it), every one of which Pulumi's code paths would pack. */
function dependencies(): string[] {
    const manifest = JSON.parse(fs.readFileSync("package.json", "utf8")) as { dependencies?: Record<string, string> };
    return Object.keys(manifest.dependencies ?? {});
}
