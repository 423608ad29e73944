// Offline policy check: runs the CrossGuard pack over the offline preview of every stack
// (or the ones named) without cloud credentials, checks the stack config files for plain
// secrets, prints resource, rule and message, and exits 1 on a mandatory violation.
//
//   node bin/preview/policy-check.js [--stack NAME]... [--config FILE] [--json]
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { checkConfigFile } from "../policy/configFile";
import { PolicyConfig, Violation, checkStack } from "../policy/offline";
import { PROJECT_DIR, previewStack } from "./cli";
import { listStacks } from "../stack-config";

export interface StackReport {
    stack: string;
    violations: Violation[];
}

/** The pack over one stack: its resources, and its config file. */
export function checkStackOffline(stack: string, config: PolicyConfig = {}, projectDir = PROJECT_DIR): StackReport {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    const violations = [
        ...checkStack(previewStack(stack, { projectDir }), config),
        ...checkConfigFile(stack, fs.readFileSync(file, "utf8")),
    ];
    return { stack, violations };
}

const USAGE = `usage: npm run policy -- [--stack NAME]... [--config FILE] [--json]
Runs the api-ring policy pack over the offline preview of every stack (default: all).
  --config FILE  policy config (JSON): { "<policy>": "advisory" | { "enforcementLevel": ..., <settings> } }
Exit code: 0 no mandatory violation, 1 a mandatory violation, 2 usage error.`;

function main(): number {
    let values;
    try {
        ({ values } = parseArgs({
            args: process.argv.slice(2),
            strict: true,
            options: {
                stack: { type: "string", multiple: true, default: [] },
                config: { type: "string" },
                json: { type: "boolean", default: false },
                help: { type: "boolean", short: "h", default: false },
            },
        }));
    } catch (e) {
        console.error(`${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    if (values.help) {
        console.log(USAGE);
        return 0;
    }
    const config = values.config ? JSON.parse(fs.readFileSync(values.config, "utf8")) as PolicyConfig : {};
    const json = values.json;
    const stacks = values.stack;
    const reports = (stacks.length > 0 ? stacks : listStacks(PROJECT_DIR)).map((s) => checkStackOffline(s, config));
    const mandatory = reports.flatMap((r) => r.violations).filter((v) => v.enforcementLevel === "mandatory");
    if (json) {
        console.log(JSON.stringify(reports, null, 2));
    } else {
        for (const report of reports) {
            console.log(`stack ${report.stack}: ${report.violations.length === 0 ? "no violations" : `${report.violations.length} violation(s)`}`);
            for (const v of report.violations) console.log(`  [${v.enforcementLevel}] ${v.policy}  ${v.type} ${v.name}\n      ${v.message}`);
        }
    }
    return mandatory.length > 0 ? 1 : 0;
}

if (require.main === module) {
    try {
        process.exit(main());
    } catch (e) {
        console.error(`error: ${(e as Error).message}`);
        process.exit(1);
    }
}
