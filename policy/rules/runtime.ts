// Rule 10: Lambda runtimes are not deprecated.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, describe, forTypes, read, settings } from "./support";
import { T } from "./types";

export interface RuntimeConfig {
    allowedRuntimes: string[];
}

export const RUNTIME_DEFAULTS: RuntimeConfig = { allowedRuntimes: ["nodejs20.x", "nodejs22.x", "nodejs24.x"] };

export const lambdaRuntimeSupported: ResourceValidationPolicy = {
    name: "lambda-runtime-supported",
    description: "Lambda functions use a runtime from the allow-list (policy config allowedRuntimes; default nodejs20.x, nodejs22.x, nodejs24.x).",
    remediationSteps: "Set runtime to a supported one, e.g. nodejs22.x (what the authorizer pair runs).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedRuntimes: { type: "array", items: { type: "string" }, default: RUNTIME_DEFAULTS.allowedRuntimes, description: "Runtimes functions may use." },
        },
    },
    validateResource: forTypes([T.lambdaFunction], (args, report) => {
        const { allowedRuntimes } = settings(RUNTIME_DEFAULTS, args.getConfig<Partial<RuntimeConfig>>());
        if (read(args.props, "packageType") === "Image") return; // container images carry their own runtime
        const runtime = read(args.props, "runtime");
        if (runtime === UNKNOWN || allowedRuntimes.includes(runtime as string)) return;
        report(`${args.name}: runtime is ${describe(runtime)}, not one of ${allowedRuntimes.join(", ")}; move the function to a supported runtime.`);
    }),
};
