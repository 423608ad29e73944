// The Lambda archives' own code (handler-archive.ts): compiled modules of handlers/, traced from
// the entry point. That they run in a Lambda-like process is test/infra/archive.test.ts.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compileHandlerModule, handlerArchive, traceHandler } from "../../handler-archive";
import { handlerLazyPackages } from "../../components/authorizerPair";
import { createAuthorizerHandler } from "../../handlers/authorizer";
import { createReporterHandler } from "../../handlers/reporter";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

/** Each entry of an archive as text: a string asset's content, a file asset's path. */
async function archiveText(archive: { assets: Promise<Record<string, unknown>> | Record<string, unknown> }): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [entry, asset] of Object.entries(await archive.assets)) {
        const a = asset as { text?: Promise<string>; path?: Promise<string> };
        out[entry] = a.text !== undefined ? `text:${await a.text}` : `file:${await a.path}`;
    }
    return out;
}

describe("handler archive", () => {
    it("refuses a factory its handler module does not export, naming both", () => {
        assert.throws(() => handlerArchive("authorizer", createReporterHandler), /^Error: handler module authorizer does not export createReporterHandler$/);
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
        const compiled = await archiveText(handlerArchive("authorizer", createAuthorizerHandler, lazy));
        // A fresh process loading the .ts files through a require hook, as ts-node does under `pulumi up`.
        const fromSource = execFileSync(process.execPath, ["-e", `
            const ts = require("typescript"), fs = require("fs");
            require.extensions[".ts"] = (module, file) => module._compile(ts.transpileModule(fs.readFileSync(file, "utf8"),
                { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);
            const { handlerArchive } = require("./handler-archive.ts");
            const { createAuthorizerHandler } = require("./handlers/authorizer.ts");
            if (!require.cache[require.resolve("./handlers/authorizer.ts")]) throw new Error("not loaded from source");
            (async () => {
                const archive = handlerArchive("authorizer", createAuthorizerHandler, ${JSON.stringify(lazy)});
                const out = {};
                for (const [entry, a] of Object.entries(await archive.assets)) out[entry] = a.text !== undefined ? "text:" + await a.text : "file:" + await a.path;
                process.stdout.write(JSON.stringify(out));
            })();`], { cwd: PROJECT, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
        const source = JSON.parse(fromSource) as Record<string, string>;
        assert.deepStrictEqual(Object.keys(source).sort(), Object.keys(compiled).sort());
        assert.deepStrictEqual(source, compiled);
    });

    it("ships a lazily loaded package only when asked, whatever this process has loaded", async () => {
        // A JWT verified in this process loads jose under handlers/jwt's module: the loader now lists it as its child.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("jose");
        const shipsJose = async (jwt: boolean) => Object.keys(await archiveText(handlerArchive("authorizer", createAuthorizerHandler,
            { "fast-xml-parser": true, jose: jwt }))).some((e) => e.startsWith("node_modules/jose/"));
        assert.deepStrictEqual([await shipsJose(false), await shipsJose(true)], [false, true]);
    });
});

