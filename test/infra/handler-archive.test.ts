// The Lambdas' code (handler-archive.ts): each handler module bundled by esbuild from its
// TypeScript sources, and what CallbackFunction gets to pack and call it. That the bundles run in a
// Lambda-like process is test/infra/archive.test.ts; what the functions' archives hold under the
// mock runtime is test/infra/components.test.ts.
import * as assert from "assert";
import { execFileSync, spawn, spawnSync } from "child_process";
import { isBuiltin } from "module";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { BUILD_DIR, bundleHandler, handlerCode } from "../../handler-archive";
import { handlerLazyPackages } from "../../components/authorizerPair";
import { createAuthorizerHandler } from "../../handlers/authorizer";
import { createReporterHandler } from "../../handlers/reporter";

const PROJECT = path.resolve(__dirname, "..", "..", "..");
const RUNTIME = "nodejs22.x";

/** Each file of a folder by its path below it, with its text. */
function folderText(dir: string): Record<string, string> {
    return Object.fromEntries(fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile())
        .map((f) => path.join(f.parentPath, f.name)).sort().map((f) => [path.relative(dir, f), fs.readFileSync(f, "utf8")]));
}

/** The string literals a bundle passes to `require` or `import()`: what it leaves for Node to load. */
function loadsLeft(code: string): string[] {
    return [...new Set([...code.matchAll(/\b(?:require|import)\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]))].sort();
}

/** Runs `body` with `dir` as the working directory, as the program runs from the project. */
function inDirectory<T>(dir: string, body: () => T): T {
    const saved = process.cwd();
    process.chdir(dir);
    try {
        return body();
    } finally {
        process.chdir(saved);
    }
}

describe("handler code", function () {
    this.timeout(60_000);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-bundle-"));
    after(() => {
        fs.rmSync(work, { recursive: true, force: true });
        for (const made of ["factory-check", "same-bundle", "in-use", "concurrent"]) fs.rmSync(path.join(PROJECT, BUILD_DIR, made), { recursive: true, force: true });
    });

    it("refuses a factory its handler module does not export, naming both", () => {
        assert.throws(() => handlerCode("f", RUNTIME, "authorizer", createReporterHandler), /^Error: handler module authorizer does not export createReporterHandler$/);
    });

    it("names the source it cannot find, and the way out", () => {
        assert.throws(() => bundleHandler(path.join(work, "none"), "no-such-handler", RUNTIME),
            (e: Error) => e.message === `handler module no-such-handler: no source at ${path.join(process.cwd(), "handlers", "no-such-handler.ts")}: run the program from the project`);
    });

    it("refuses a runtime that is not Lambda's Node.js, naming it", () => {
        assert.throws(() => bundleHandler(path.join(work, "py"), "reporter", "python3.13"), /^Error: runtime python3\.13: expected a Lambda Node\.js runtime such as nodejs22\.x$/);
    });

    it("names the handler module, the file and the line of what the bundler refuses", () => {
        const project = path.join(work, "broken-project");
        fs.mkdirSync(path.join(project, "handlers"), { recursive: true });
        fs.writeFileSync(path.join(project, "handlers", "broken.ts"), `export const ok = 1;\nimport { gone } from "./missing";\nexport const use = gone;\n`);
        assert.throws(() => inDirectory(project, () => bundleHandler(path.join(project, "out"), "broken", RUNTIME)),
            /^Error: handler module broken: handlers\/broken\.ts:2: Could not resolve "\.\/missing"$/);
        assert.ok(!fs.existsSync(path.join(project, "out", "broken.js")), "nothing is written for a refused bundle");
    });

    it("bundles everything a handler loads at init into one file for Node 22, leaving only Node's own modules, the runtime's SDK and the lazy packages", () => {
        const dir = path.join(work, "authorizer");
        bundleHandler(dir, "authorizer", RUNTIME, handlerLazyPackages(false));
        const files = folderText(dir);
        assert.deepStrictEqual(Object.keys(files), [
            "authorizer.js",
            path.join("node_modules", "@aws-lambda-powertools", "metrics", "index.js"),
            path.join("node_modules", "fast-xml-parser", "index.js"),
        ]);
        const bundle = files["authorizer.js"];
        // ioredis and the handler modules are inside; the SNS client (the runtime's) and jose (not shipped) are left. No SSM
        // client: the secrets come through the Parameters and Secrets extension (handlers/secrets.ts).
        assert.deepStrictEqual(loadsLeft(bundle).filter((name) => !isBuiltin(name)), ["@aws-sdk/client-sns", "jose"]);
        assert.ok(bundle.includes("createAuthorizerHandler"), "the handler module is bundled");
        // Lazily loaded packages are required by the name the handlers give them, found in the folder's node_modules.
        assert.ok(/require\(XML_PACKAGE\)/.test(bundle) && /require\(METRICS_PACKAGE\)/.test(bundle), "the lazy requires stay lazy");
        assert.ok(/\?\?=|\?\./.test(bundle), "ES2022 syntax is kept, not lowered");
        for (const [name, code] of Object.entries(files)) {
            assert.ok(!/sourceMappingURL/.test(code), `${name} carries no source map reference`);
            assert.ok(!code.includes(PROJECT) && !code.includes(os.tmpdir()), `${name} names no path of this machine, so every clone builds the same archive`);
            assert.ok(!/\bwith\s*\(/.test(code), `${name} has no with block`);
        }
    });

    it("builds byte for byte the same bundle each time, so an unchanged handler is no change to deploy", () => {
        const first = path.join(work, "first");
        const second = path.join(work, "second");
        bundleHandler(first, "reporter", RUNTIME, handlerLazyPackages(false));
        bundleHandler(second, "reporter", RUNTIME, handlerLazyPackages(false));
        assert.deepStrictEqual(folderText(second), folderText(first));
    });

    it("replaces the function's folder whole: a package an earlier run shipped does not linger", () => {
        const dir = path.join(work, "jwt-then-not");
        bundleHandler(dir, "authorizer", RUNTIME, handlerLazyPackages(true));
        assert.ok(fs.existsSync(path.join(dir, "node_modules", "jose", "index.js")), "jose is shipped with jwt");
        bundleHandler(dir, "authorizer", RUNTIME, handlerLazyPackages(false));
        assert.ok(!fs.existsSync(path.join(dir, "node_modules", "jose")), "and gone without it");
    });

    it("ships a lazily loaded package only when asked, whatever this process has loaded", () => {
        // A JWT verified in this process loads jose: the bundle must not depend on what the program's process has loaded.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("jose");
        const shipsJose = (jwt: boolean) => {
            const dir = path.join(work, `jose-${jwt}`);
            bundleHandler(dir, "authorizer", RUNTIME, handlerLazyPackages(jwt));
            const files = folderText(dir);
            return [Object.keys(files).some((f) => f.includes(`node_modules${path.sep}jose${path.sep}`)), files["authorizer.js"].includes("JWSSignatureVerificationFailed")];
        };
        assert.deepStrictEqual([shipsJose(false), shipsJose(true)], [[false, false], [true, false]], "jose ships as its own file, never inside the bundle");
    });

    it("hands CallbackFunction a factory that only requires the bundle, and code paths that pack its folder and no dependency whole", async () => {
        const code = handlerCode("factory-check", RUNTIME, "reporter", createReporterHandler, handlerLazyPackages(false));
        const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
        const dir = code.codePathOptions.extraIncludePaths?.[0] ?? "";
        assert.match(dir, new RegExp(`^${BUILD_DIR.replace(".", "\\.")}/factory-check/[0-9a-f]{16}$`), "the function's folder, named by its content");
        assert.deepStrictEqual(code.codePathOptions, { extraIncludePaths: [dir], extraExcludePackages: Object.keys(manifest.dependencies) });
        // What CallbackFunction does with the factory (pulumi-aws lambdaMixins.ts): serialize it as a factory.
        const serialized = await pulumi.runtime.serializeFunction(code.callbackFactory, { isFactoryFunction: true, exportName: "handler", allowSecrets: true });
        assert.strictEqual(serialized.text.match(/\bwith\s*\(/g)?.length, 1, `the factory's own scope only:\n${serialized.text}`);
        assert.ok(serialized.text.includes(`with({ entry: "./${dir}/reporter.js", exportName: "createReporterHandler"`), serialized.text);
        assert.ok(serialized.text.includes("return () => require(entry)[exportName]();"), serialized.text);
        assert.ok(serialized.text.length < 600, `a few lines, not serialized modules (${serialized.text.length} characters)`);
    });

    it("builds the same bundle when the program runs from its TypeScript sources, as under pulumi up", () => {
        const lazy = handlerLazyPackages(false);
        const dir = handlerCode("same-bundle", RUNTIME, "authorizer", createAuthorizerHandler, lazy).codePathOptions.extraIncludePaths?.[0] ?? "";
        const compiled = folderText(path.join(PROJECT, dir));
        fs.rmSync(path.join(PROJECT, BUILD_DIR, "same-bundle"), { recursive: true });
        // A fresh process loading the .ts files through a require hook, as ts-node does under `pulumi up`.
        const fromSources = execFileSync(process.execPath, ["-e", `
            const ts = require("typescript"), fs = require("fs");
            require.extensions[".ts"] = (module, file) => module._compile(ts.transpileModule(fs.readFileSync(file, "utf8"),
                { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);
            const { handlerCode } = require("./handler-archive.ts");
            const { createAuthorizerHandler } = require("./handlers/authorizer.ts");
            if (!require.cache[require.resolve("./handlers/authorizer.ts")]) throw new Error("not loaded from source");
            process.stdout.write(handlerCode("same-bundle", ${JSON.stringify(RUNTIME)}, "authorizer", createAuthorizerHandler, ${JSON.stringify(lazy)}).codePathOptions.extraIncludePaths[0]);`],
        { cwd: PROJECT, encoding: "utf8" });
        assert.strictEqual(fromSources, dir, "the same content, the same folder");
        assert.deepStrictEqual(folderText(path.join(PROJECT, dir)), compiled);
    });

    it("leaves a run's bundle whole while another run of the same stack builds the function anew (a preview during a test run)", () => {
        const withJwt = handlerCode("in-use", RUNTIME, "authorizer", createAuthorizerHandler, handlerLazyPackages(true)).codePathOptions.extraIncludePaths?.[0] ?? "";
        const before = folderText(path.join(PROJECT, withJwt));
        assert.ok(Object.keys(before).some((f) => f.includes(`node_modules${path.sep}jose${path.sep}`)), "the first run ships jose");
        // The second run builds while the first still has to pack its folder (the engine reads the archive when it registers the function).
        const without = handlerCode("in-use", RUNTIME, "authorizer", createAuthorizerHandler, handlerLazyPackages(false)).codePathOptions.extraIncludePaths?.[0] ?? "";
        assert.deepStrictEqual(folderText(path.join(PROJECT, withJwt)), before, "the first run's folder is as it built it");
        assert.ok(!Object.keys(folderText(path.join(PROJECT, without))).some((f) => f.includes(`${path.sep}jose${path.sep}`)), "the second run's has no jose");
    });

    it("two runs building the same function at once each get their whole bundle, and leave no half-built folder", async () => {
        const build = (jwt: boolean) => new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ["-e", `
                const { handlerCode } = require("./bin/handler-archive.js");
                const { createAuthorizerHandler } = require("./bin/handlers/authorizer.js");
                const { handlerLazyPackages } = require("./bin/components/authorizerPair.js");
                for (let i = 0; i < 5; i++) process.stdout.write(handlerCode("concurrent", ${JSON.stringify(RUNTIME)}, "authorizer", createAuthorizerHandler, handlerLazyPackages(${jwt})).codePathOptions.extraIncludePaths[0] + "\\n");`],
            { cwd: PROJECT });
            let out = "";
            let err = "";
            child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
            child.stderr.on("data", (d: Buffer) => { err += d.toString(); });
            child.on("close", (status) => (status === 0 ? resolve(out) : reject(new Error(`build (jwt ${jwt}) failed: ${err}`))));
        });
        const [withJwt, without] = await Promise.all([build(true), build(false)]);
        for (const [jwt, out] of [[true, withJwt], [false, without]] as const) {
            const dirs = [...new Set(out.trim().split("\n"))];
            assert.strictEqual(dirs.length, 1, `each build of the same content lands in one folder: ${dirs.join(", ")}`);
            const reference = path.join(work, `reference-${jwt}`);
            bundleHandler(reference, "authorizer", RUNTIME, handlerLazyPackages(jwt));
            assert.deepStrictEqual(folderText(path.join(PROJECT, dirs[0])), folderText(reference), `the jwt ${jwt} run's folder is whole`);
        }
        assert.deepStrictEqual(fs.readdirSync(path.join(PROJECT, BUILD_DIR, "concurrent")).filter((f) => f.startsWith(".")), [], "no staging folder is left");
    });

    it("a factory that uses an imported binding instead fails to serialize, and fails the run loudly", () => {
        // CallbackFunction's serialization errors surface only as unhandled rejections (test/setup.ts fails the run on one).
        const mocha = path.join(PROJECT, "node_modules", "mocha", "bin", "mocha.js");
        const run = spawnSync(process.execPath, [mocha, "--no-config", "--require", path.join(PROJECT, "bin/test/setup.js"),
            path.join(PROJECT, "test/fixtures/serialization/capturing-factory.js")], { cwd: PROJECT, encoding: "utf8", timeout: 120_000 });
        assert.notStrictEqual(run.status, 0, run.stdout);
        assert.match(run.stdout + run.stderr, /Error serializing[\s\S]*captured\s+module '[^']*handlers\/authorizer\.js'/);
    });
});
