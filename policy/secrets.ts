// Secrets stay Pulumi secrets: in the Lambdas' environment, in ElastiCache's AUTH token,
// and in the stack config files.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { SecretAwareArgs, forTypes, isSecretPath } from "./support";

/** Names that hold secrets: tokens, secrets, passwords, keys (but not ARNs, ids or URLs of them). */
export function looksSecret(name: string): boolean {
    return /(TOKEN|SECRET|PASSWORD|PASSWD|KEY)/i.test(name) && !/(_ARN|_ID|_URL|Arn|Id|Url)$/.test(name);
}

export const secretsStaySecret: ResourceValidationPolicy = {
    name: "secrets-stay-secret",
    description: "Secret values (tokens, passwords, keys) in Lambda environments and ElastiCache AUTH tokens are Pulumi secrets.",
    enforcementLevel: "mandatory",
    validateResource: forTypes(["aws:lambda/function:Function", "aws:elasticache/replicationGroup:ReplicationGroup"], (props, args, report) => {
        const known = args as typeof args & SecretAwareArgs;
        if (isSecretPath(known, "") === undefined) {
            return args.notApplicable("the Pulumi engine does not tell policies which values are secret; `npm run policy` checks this offline");
        }
        if (args.type === "aws:elasticache/replicationGroup:ReplicationGroup") {
            if (props.authToken && !isSecretPath(known, "authToken")) report(`${args.name}: authToken is plain text; pass it as a Pulumi secret (pulumi.secret or secret config).`);
            return;
        }
        const variables = (props.environment?.variables ?? {}) as Record<string, unknown>;
        for (const name of Object.keys(variables).filter(looksSecret)) {
            if (variables[name] && !isSecretPath(known, `environment.variables.${name}`)) {
                report(`${args.name}: environment variable ${name} is plain text; pass it as a Pulumi secret.`);
            }
        }
    }),
};

/** Keys of a stack config file (Pulumi.<stack>.yaml text) that hold a secret in plain text. */
export function plainSecretsInConfig(text: string, parse: (yaml: string) => unknown): string[] {
    const config = ((parse(text) ?? {}) as { config?: Record<string, unknown> }).config ?? {};
    return Object.entries(config)
        .filter(([key, value]) => looksSecret(key.split(":").pop() ?? key) && !(typeof value === "object" && value !== null && "secure" in value))
        .map(([key]) => key);
}
