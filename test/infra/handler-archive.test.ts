// The Lambda archives' own code (handler-archive.ts): compiled modules of handlers/, traced from
// the entry point. That they run in a Lambda-like process is test/infra/archive.test.ts.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compileHandlerModule, handlerArchive, traceHandler } from "../../handler-archive";
import { createReporterHandler } from "../../handlers/reporter";

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
});
