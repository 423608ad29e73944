// Rule 8: a custom domain uses TLS 1.2.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, describe, forTypes, read, settings } from "./support";
import { T } from "./types";

export interface DomainTlsConfig {
    allowedSecurityPolicies: string[];
}

export const DOMAIN_TLS_DEFAULTS: DomainTlsConfig = { allowedSecurityPolicies: ["TLS_1_2"] };

export const domainTls12: ResourceValidationPolicy = {
    name: "domain-tls-1-2",
    description: "API Gateway custom domains set securityPolicy to TLS_1_2 (or another policy the pack's config allows).",
    remediationSteps: "Set securityPolicy: \"TLS_1_2\" on the aws.apigateway.DomainName.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedSecurityPolicies: { type: "array", items: { type: "string" }, default: DOMAIN_TLS_DEFAULTS.allowedSecurityPolicies, description: "Security policies a custom domain may use." },
        },
    },
    validateResource: forTypes([T.domainName], (args, report) => {
        const { allowedSecurityPolicies } = settings(DOMAIN_TLS_DEFAULTS, args.getConfig<Partial<DomainTlsConfig>>());
        const policy = read(args.props, "securityPolicy");
        if (policy === UNKNOWN || allowedSecurityPolicies.includes(policy as string)) return;
        const shown = policy === undefined ? "unset (API Gateway may then accept TLS 1.0)" : describe(policy);
        report(`${args.name}: securityPolicy is ${shown}; set securityPolicy to ${allowedSecurityPolicies.join(" or ")}.`);
    }),
};
