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
import { PROJECT_DIR, allStacks, previewStack } from "./cli";
import { parseOverride } from "../stack-config";

export interface StackReport {
    stack: string;
    violations: Violation[];
}

/** The pack over one stack: its resources, and its config file; `overrides` change stack config for this run, as the preview's --set. */
export function checkStackOffline(stack: string, config: PolicyConfig = {}, projectDir = PROJECT_DIR, overrides: Record<string, string | null> = {}): StackReport {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    const violations = [
        ...checkStack(previewStack(stack, { projectDir, overrides }), config),
        ...checkConfigFile(stack, fs.readFileSync(file, "utf8")),
    ];
    return { stack, violations };
}

const USAGE = `usage: npm run policy -- [--stack NAME]... [--config FILE] [--set KEY=VALUE]... [--unset KEY]... [--json]
Runs the api-ring policy pack over the offline preview of every stack (default: all, the live pointer's in live/ included).
  --config FILE   policy config (JSON): { "<policy>": "advisory" | { "enforcementLevel": ..., <settings> } }
  --set KEY=VALUE change a stack config value for this run only, as npm run preview -- --set (repeatable)
  --unset KEY     remove a stack config value for this run only (repeatable)
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
                set: { type: "string", multiple: true, default: [] },
                unset: { type: "string", multiple: true, default: [] },
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
    let overrides: Record<string, string | null>;
    try {
        overrides = Object.fromEntries(values.set.map(parseOverride));
    } catch (e) {
        console.error(`${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    for (const key of values.unset) overrides[key] = null;
    const known = allStacks(PROJECT_DIR);
    const unknown = stacks.filter((s) => !known.some((k) => k.stack === s));
    if (unknown.length > 0) {
        console.error(`no stack ${unknown.join(", ")}: the stacks are ${known.map((k) => k.stack).join(", ")}`);
        return 2;
    }
    const reports = known.filter((k) => stacks.length === 0 || stacks.includes(k.stack)).map((k) => checkStackOffline(k.stack, config, k.dir, overrides));
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
