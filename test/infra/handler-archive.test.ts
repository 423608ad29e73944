// The Lambda archives' own code (handler-archive.ts): compiled modules of handlers/, traced from
// the entry point. That they run in a Lambda-like process is test/infra/archive.test.ts.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUILD_DIR, compileHandlerModule, handlerCode, traceHandler } from "../../handler-archive";
import { handlerLazyPackages } from "../../components/authorizerPair";
import { createAuthorizerHandler } from "../../handlers/authorizer";
import { createReporterHandler } from "../../handlers/reporter";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

/** What a function's code paths name, and each file written for it under BUILD_DIR with its content. */
function codeText(functionName: string, code: ReturnType<typeof handlerCode>): Record<string, unknown> {
    const dir = path.join(BUILD_DIR, functionName);
    const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile())
        .map((f) => path.join(f.parentPath, f.name)).sort().map((f) => [f, fs.readFileSync(f, "utf8")]);
    return { codePathOptions: code.codePathOptions, files };
}

describe("handler archive", () => {
    it("refuses a factory its handler module does not export, naming both", () => {
        assert.throws(() => handlerCode("f", "authorizer", createReporterHandler), /^Error: handler module authorizer does not export createReporterHandler$/);
    });

    it("names the source it cannot find, and the way out", () => {
        assert.throws(() => compileHandlerModule("no-such-handler"),
            (e: Error) => e.message === `handler module no-such-handler: no source at ${path.join(process.cwd(), "handlers", "no-such-handler.ts")}: run the program from the project`);
    });

    it("refuses package files outside the working directory: the archive could not place them", () => {
        const saved = process.cwd();
        const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-cwd-"));
        process.chdir(elsewhere);
        try {
            assert.throws(() => traceHandler("reporter"), /^Error: handler file .*node_modules.* lies outside the working directory .*api-ring-cwd-.*: run the program from the project$/);
        } finally {
            process.chdir(saved);
            fs.rmSync(elsewhere, { recursive: true, force: true });
        }
    });

    it("compiles each module to CommonJS for Node 22 with its imports intact and its types gone", () => {
        const code = compileHandlerModule("authorizer");
        assert.ok(code.startsWith('"use strict";'));
        assert.ok(code.includes('require("./decision-cache")') && code.includes('require("crypto")'));
        assert.ok(!/require\("aws-lambda"\)|require\("ioredis"\)/.test(code), "type-only imports are gone");
        assert.ok(/\?\?=|\?\./.test(code), "ES2022 syntax is kept, not lowered");
    });

    it("builds the same archive when the program runs from its TypeScript sources, as under pulumi up", async function () {
        this.timeout(60_000);
        const lazy = handlerLazyPackages(false);
        const compiled = codeText("same-archive", handlerCode("same-archive", "authorizer", createAuthorizerHandler, lazy));
        // A fresh process loading the .ts files through a require hook, as ts-node does under `pulumi up`.
        const fromSource = execFileSync(process.execPath, ["-e", `
            const ts = require("typescript"), fs = require("fs");
            require.extensions[".ts"] = (module, file) => module._compile(ts.transpileModule(fs.readFileSync(file, "utf8"),
                { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);
            const { handlerCode } = require("./handler-archive.ts");
            const path = require("path");
            const { createAuthorizerHandler } = require("./handlers/authorizer.ts");
            if (!require.cache[require.resolve("./handlers/authorizer.ts")]) throw new Error("not loaded from source");
            const code = handlerCode("same-archive", "authorizer", createAuthorizerHandler, ${JSON.stringify(lazy)});
            const dir = path.join(${JSON.stringify(BUILD_DIR)}, "same-archive");
            const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile())
                .map((f) => path.join(f.parentPath, f.name)).sort().map((f) => [f, fs.readFileSync(f, "utf8")]);
            process.stdout.write(JSON.stringify({ codePathOptions: code.codePathOptions, files }));`], { cwd: PROJECT, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
        assert.deepStrictEqual(JSON.parse(fromSource), compiled);
    });

    it("ships a lazily loaded package only when asked, whatever this process has loaded", () => {
        // A JWT verified in this process loads jose under handlers/jwt's module: the loader now lists it as its child.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("jose");
        const shipsJose = (jwt: boolean) => {
            const options = handlerCode("lazy-jose", "authorizer", createAuthorizerHandler, { "fast-xml-parser": true, jose: jwt }).codePathOptions;
            return [...(options.extraIncludePaths ?? []), ...(options.extraIncludePackages ?? [])].some((e) => e === "jose" || e.startsWith("node_modules/jose/"));
        };
        assert.deepStrictEqual([shipsJose(false), shipsJose(true)], [false, true]);
    });
});

