// Helpers shared by the rules: type filters with the engine's not-applicable semantics,
// stack resources by type, and what is known about secretness.
import type { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";

export type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- resource properties are untyped JSON

/** A resource validation that applies to the given types only, as validateResourceOfType does. */
export function forTypes(types: string[], check: (props: Props, args: ResourceValidationArgs, report: ReportViolation) => void): ResourceValidation {
    return (args, report) => {
        if (!types.includes(args.type)) return args.notApplicable(`Policy only applies to resources of type ${types.map((t) => `'${t}'`).join(", ")}`);
        check(args.props as Props, args, report);
    };
}

export function ofType(resources: PolicyResource[], type: string): PolicyResource[] {
    return resources.filter((r) => r.type === type);
}

export function asList<T>(value: T | T[] | undefined | null): T[] {
    return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
}

/**
 * The engine hands validations plain values, secrets unwrapped, and says nothing of which
 * were secret. The offline check knows (the mock runtime sees the secret markers) and passes
 * the secret paths ("authToken", "environment") alongside; the real CLI does not.
 */
export interface SecretAwareArgs {
    secretPaths?: string[];
}

/** Whether `path` (e.g. "environment.variables.X") is a secret or inside one; undefined when unknowable. */
export function isSecretPath(args: SecretAwareArgs, path: string): boolean | undefined {
    if (!args.secretPaths) return undefined;
    return args.secretPaths.some((p) => path === p || path.startsWith(`${p}.`));
}
