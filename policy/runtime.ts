import type { ResourceValidationPolicy } from "@pulumi/policy";
import { forTypes } from "./support";

export const supportedRuntime: ResourceValidationPolicy = {
    name: "lambda-runtime-supported",
    description: "Lambda functions use a runtime that is not deprecated.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedRuntimes: { type: "array", items: { type: "string" }, default: ["nodejs20.x", "nodejs22.x", "nodejs24.x"], description: "Runtimes functions may use." },
        },
    },
    validateResource: forTypes(["aws:lambda/function:Function"], (props, args, report) => {
        const { allowedRuntimes } = args.getConfig<{ allowedRuntimes: string[] }>();
        if (props.runtime !== undefined && !allowedRuntimes.includes(props.runtime)) {
            report(`${args.name}: runtime ${props.runtime} is not one of ${allowedRuntimes.join(", ")}; move to a supported runtime.`);
        }
    }),
};
