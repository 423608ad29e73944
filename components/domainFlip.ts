import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface DomainFlipArgs {
    /** The custom domain, e.g. api.example.edu. */
    domainName: string;
    /** Base path of the mapping; "" is API Gateway's `(none)`. */
    basePath: string;
    /** The live slot's REST API and stage. */
    liveRestApiId: pulumi.Input<string>;
    liveStageName: pulumi.Input<string>;
    /**
     * When set, the domain is created here (regional endpoint, TLS 1.2) with this ACM
     * certificate; otherwise it must already exist.
     */
    certificateArn?: string;
    /** With certificateArn: the Route 53 zone that gets an alias record for the domain. */
    hostedZoneId?: string;
    tags?: Record<string, string>;
}

/**
 * The live pointer: the custom domain's base path mapping, aimed at the live slot.
 * Flipping changes only the mapping's restApi and stageName, which API Gateway updates in
 * place, so there is no moment without a mapping; a rollback is a flip back.
 */
export class DomainFlip extends pulumi.ComponentResource {
    readonly mapping: aws.apigateway.BasePathMapping;
    readonly domainName: pulumi.Output<string>;
    readonly liveUrl: pulumi.Output<string>;

    constructor(name: string, args: DomainFlipArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-ring:ring:DomainFlip", name, {}, opts);
        if (args.hostedZoneId && !args.certificateArn) {
            throw new Error(`DomainFlip ${name}: hostedZoneId is set but certificateArn is not; the alias record needs the domain this component creates from the certificate`);
        }

        let domainName: pulumi.Output<string> = pulumi.output(args.domainName);
        if (args.certificateArn) {
            const domain = new aws.apigateway.DomainName(`${name}-domain`, {
                domainName: args.domainName,
                regionalCertificateArn: args.certificateArn,
                endpointConfiguration: { types: "REGIONAL" },
                securityPolicy: "TLS_1_2",
                tags: args.tags,
            }, { parent: this });
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

        this.mapping = new aws.apigateway.BasePathMapping(`${name}-mapping`, {
            domainName,
            restApi: args.liveRestApiId,
            stageName: args.liveStageName,
            basePath: args.basePath === "" ? undefined : args.basePath,
        }, { parent: this });

        this.domainName = domainName;
        this.liveUrl = pulumi.interpolate`https://${domainName}/${args.basePath}`;
        this.registerOutputs({ domainName: this.domainName, liveUrl: this.liveUrl });
    }
}
