import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Cohort } from "../outputs";

/** A slot the domain sends requests to: its REST API and stage. */
export interface SlotTarget {
    restApiId: pulumi.Input<string>;
    stageName: pulumi.Input<string>;
}

export interface DomainFlipArgs {
    /** The custom domain, e.g. api.example.edu. */
    domainName: string;
    /** Base path of the mapping; "" is API Gateway's `(none)`. */
    basePath: string;
    /** The live slot; none maps nothing (before the first flip). */
    live?: SlotTarget;
    /** Header cohorts, each with the slot its requests reach. */
    cohorts?: (SlotTarget & { cohort: Cohort })[];
    /**
     * When set, the domain is created here (regional endpoint, TLS 1.2; routing rules before the base
     * path mapping once a cohort needs them) with this ACM certificate; otherwise it must already exist.
     */
    certificateArn?: string;
    /** With certificateArn: the Route 53 zone that gets an alias record for the domain. */
    hostedZoneId?: string;
    tags?: Record<string, string>;
}

/**
 * The routing mode a domain needs for cohorts: routing rules first, then the base path mapping. The
 * `apigateway` API spells it ROUTING_RULE_THEN_BASE_PATH_MAPPING (`apigatewayv2`:
 * ROUTING_RULE_THEN_API_MAPPING); AWS, "Set the routing mode for your custom domain name".
 */
export const COHORT_ROUTING_MODE = "ROUTING_RULE_THEN_BASE_PATH_MAPPING";

/**
 * The live pointer: the custom domain's base path mapping, aimed at the live slot, and the cohorts'
 * routing rules. Flipping changes only the mapping's restApi and stageName, which API Gateway updates
 * in place, so there is no moment without a mapping; a rollback is a flip back. A cohort is an API
 * Gateway routing rule (`aws.apigatewayv2.RoutingRule`, which also serves REST APIs): requests
 * carrying its headers reach its slot's stage, evaluated before the mapping.
 */
export class DomainFlip extends pulumi.ComponentResource {
    readonly mapping?: aws.apigateway.BasePathMapping;
    readonly rules: aws.apigatewayv2.RoutingRule[];
    readonly domainName: pulumi.Output<string>;
    readonly liveUrl: pulumi.Output<string>;

    constructor(name: string, args: DomainFlipArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-ring:ring:DomainFlip", name, {}, opts);
        if (args.hostedZoneId && !args.certificateArn) {
            throw new Error(`DomainFlip ${name}: hostedZoneId is set but certificateArn is not; the alias record needs the domain this component creates from the certificate`);
        }

        let domainName: pulumi.Output<string> = pulumi.output(args.domainName);
        let domain: aws.apigateway.DomainName | undefined;
        if (args.certificateArn) {
            domain = new aws.apigateway.DomainName(`${name}-domain`, {
                domainName: args.domainName,
                regionalCertificateArn: args.certificateArn,
                endpointConfiguration: { types: "REGIONAL" },
                securityPolicy: "TLS_1_2",
                // Set only while a cohort needs it: left out, the provider keeps the mode the domain has
                // (routingMode is optional and computed), so a domain moved from a primary that created it
                // without one, or whose cohorts ended, is not updated.
                ...(args.cohorts?.length ? { routingMode: COHORT_ROUTING_MODE } : {}),
                tags: args.tags,
            }, {
                parent: this,
                // Tags are written when the domain is created; a domain moved from the primary keeps the ones it has.
                ignoreChanges: ["tags"],
            });
            domainName = domain.domainName;
            if (args.hostedZoneId) {
                new aws.route53.Record(`${name}-alias`, {
                    zoneId: args.hostedZoneId,
                    name: domain.domainName,
                    type: "A",
                    aliases: [{
                        name: domain.regionalDomainName,
                        zoneId: domain.regionalZoneId,
                        evaluateTargetHealth: false,
                    }],
                }, { parent: this });
            }
        }

        if (args.live) {
            this.mapping = new aws.apigateway.BasePathMapping(`${name}-mapping`, {
                domainName,
                restApi: args.live.restApiId,
                stageName: args.live.stageName,
                basePath: args.basePath === "" ? undefined : args.basePath,
            }, { parent: this });
        }

        // A rule with the mapping's base path strips it, as the mapping does (AWS, "Recreate an API mapping using routing rules").
        const basePathCondition = args.basePath === "" ? [] : [{ matchBasePaths: { anyOfs: [args.basePath] } }];
        this.rules = (args.cohorts ?? []).map(({ cohort, restApiId, stageName }) => new aws.apigatewayv2.RoutingRule(`${name}-cohort-${cohort.priority}`, {
            domainName,
            priority: cohort.priority,
            conditions: [...cohort.headers.map((h) => ({ matchHeaders: { anyOf: { header: h.name, valueGlob: h.value } } })), ...basePathCondition],
            actions: [{ invokeApi: { apiId: restApiId, stage: stageName, ...(args.basePath === "" ? {} : { stripBasePath: true }) } }],
        }, { parent: this, dependsOn: domain ? [domain] : [] }));

        this.domainName = domainName;
        this.liveUrl = pulumi.interpolate`https://${domainName}/${args.basePath}`;
        this.registerOutputs({ domainName: this.domainName, liveUrl: this.liveUrl });
    }
}
