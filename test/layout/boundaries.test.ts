// The import boundaries of DESIGN.md section 2, as `npm run lint` enforces them: each case lints a
// deliberate bad import in a file of the folder it names, through ESLint's own API and the project's
// eslint.config.mjs, and expects the folder's message; the good imports beside them pass.
import * as assert from "assert";
import * as path from "path";
import { ESLint } from "eslint";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

async function restrictedImports(file: string, source: string): Promise<string[]> {
    const eslint = new ESLint({ cwd: PROJECT });
    const [result] = await eslint.lintText(source, { filePath: path.join(PROJECT, file) });
    return result.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("layout: import boundaries (npm run lint)", function () {
    this.timeout(60_000);

    const refused: Array<[string, string, RegExp]> = [
        ["handlers/bad.ts", `import { readSlotConfig } from "../config";`, /handlers\/ is the Lambda code/],
        ["handlers/bad.ts", `import * as pulumi from "@pulumi/pulumi";`, /no Pulumi import/],
        ["policy/bad.ts", `import type { StackConfigFile } from "../stack-config";`, /policy\/ imports nothing outside policy\//],
        ["policy/rules/bad.ts", `import { previewStack } from "../../preview/cli";`, /policy\/ imports nothing outside policy\//],
        ["dev-servers/bad.ts", `import { keys } from "../handlers/keys";`, /dev-servers\/ stand in/],
        ["index.ts", `import { RingOps } from "./ring/ops";`, /The program never imports a command/],
        ["components/bad.ts", `import { startRedis } from "../dev-servers/redis-server";`, /The program never imports a command/],
        ["config/bad.ts", `import { RingOps } from "../ring/ops";`, /The program never imports a command/],
        ["ring/bad.ts", `import { previewStack } from "../preview/cli";`, /ring\/ is one command/],
        ["preview/bad.ts", `import { createLocalGateway } from "../local/gateway";`, /preview\/ is one command/],
        ["local/bad.ts", `import { testSettings } from "../test/support/settings";`, /local\/ is one command/],
        ["live/bad.ts", `import { bundleSpec } from "../openapi";`, /live\/ is the live pointer's program/],
        ["live/bad.ts", `import slotProgram from "../index";`, /live\/ is the live pointer's program/],
        ["live/bad.ts", `import { RingOps } from "../ring/ops";`, /live\/ is the live pointer's program/],
        ["components/bad.ts", `import { nextState } from "../live/change";`, /The program never imports .* the live pointer's program/],
    ];
    for (const [file, source, message] of refused) {
        it(`refuses in ${file}: ${source}`, async () => {
            const messages = await restrictedImports(file, `${source}\nexport {};\n`);
            assert.strictEqual(messages.length, 1, `expected one boundary error, got ${JSON.stringify(messages)}`);
            assert.match(messages[0], message);
        });
    }

    const allowed: Array<[string, string]> = [
        ["handlers/bad.ts", `import { keys } from "./keys";`],
        ["policy/rules/bad.ts", `import type { StackPreview } from "../stack-model";`],
        ["components/bad.ts", `import { sha256 } from "../openapi";`],
        ["preview/bad.ts", `import { checkStack } from "../policy/offline";`],
        ["local/bad.ts", `import { startThreescale } from "../dev-servers/threescale";`],
        ["ring/bad.ts", `import type { PrimaryOutputs } from "../outputs";`],
        ["ring/bad.ts", `import { nextState } from "../live/change";`],
        ["live/bad.ts", `import { DomainFlip } from "../components/domainFlip";`],
        ["live/bad.ts", `import { readLivePointerConfig } from "../config";`],
    ];
    for (const [file, source] of allowed) {
        it(`allows in ${file}: ${source}`, async () => {
            assert.deepStrictEqual(await restrictedImports(file, `${source}\nexport {};\n`), []);
        });
    }
});
