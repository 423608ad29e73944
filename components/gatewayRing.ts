import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../config";
import { BundledSpec, LambdaPermission, lambdaPermissions, missingStageVariables, sha256 } from "../openapi";
import { reservedHeadersRule } from "./reservedHeaders";

/** The stage settings of a slot, as its config states them. */
export type StageLimits = Pick<GatewayConfig, "logLevel" | "metrics" | "caching" | "cacheClusterSize" | "rateLimit" | "burstLimit">;

export interface GatewayRingArgs {
    /** The slot this gateway is; also the stage name. */
    slot: string;
    /** The bundled OpenAPI document with the authorizer injected (and its binary media types merged with config's). */
    spec: BundledSpec;
    /** Backend hosts, as stage variables. */
    hosts: Record<string, string>;
    /** Other stage variables the document uses (e.g. landing_page). */
    stageVariables?: Record<string, string>;
    /** Release id, the stage variable `id` the heartbeat returns. */
    releaseId: string;
    limits: StageLimits;
    /** Invocation URI of the authorizer function, for x-amazon-apigateway-authorizer. */
    authorizerInvokeArn: pulumi.Input<string>;
    /** The authorizer function, which this API is allowed to invoke. */
    authorizerFunctionName: pulumi.Input<string>;
    /** Days access logs are kept. */
    accessLogRetentionDays?: number;
    /**
     * What sets the region's API Gateway CloudWatch role (GatewayAccount) when this stack owns it: the
     * stage and its method settings log to CloudWatch, which API Gateway refuses until the role is set.
     */
    accountSettings?: pulumi.Resource;
    tags?: Record<string, string>;
}

/** The REST API's name, also API Gateway's `ApiName` metric dimension: fixed per slot, so other stacks can name its metrics. */
export function restApiNameFor(slot: string): string {
    return `api-ring-${slot}`;
}

/** One access-log line per request, with the authorizer's outcome, as JSON. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
    requestId: "$context.requestId",
    ip: "$context.identity.sourceIp",
    requestTime: "$context.requestTime",
    httpMethod: "$context.httpMethod",
    resourcePath: "$context.resourcePath",
    status: "$context.status",
    responseLength: "$context.responseLength",
    latencyMs: "$context.responseLatency",
    principalId: "$context.authorizer.principalId",
    plan: "$context.authorizer.plan",
    authorizerStatus: "$context.authorizer.status",
    authorizerLatencyMs: "$context.authorizer.latency",
    integrationStatus: "$context.integration.status",
    release: "$stageVariables.id",
});

/** A permission's name: the component's, the function's, and a hash of what it grants (stable, unique). */
function permissionName(component: string, permission: LambdaPermission): string {
    const fn = permission.functionArn.split(":").pop() as string;
    return `${component}-invokes-${fn}-${sha256(JSON.stringify([permission.functionArn, permission.qualifier, permission.sourcePath])).slice(0, 8)}`;
}

/**
 * One slot of the ring: a REST API built from the OpenAPI document, its deployment, a
 * stage named after the slot (stage variables = backend hosts + release id, access logs,
 * X-Ray), the stage's method settings (log level, metrics, caching, throttling), the
 * access-log group, the web ACL that keeps clients from sending the gateway's own x-api-ring-*
 * headers in any spelling (reservedHeaders.ts), and the permissions API Gateway needs to invoke the
 * Lambda functions: the ring's authorizer and each function the document names without credentials.
 * The deployment is redone exactly when the body or the variables change.
 */
export class GatewayRing extends pulumi.ComponentResource {
    readonly restApi: aws.apigateway.RestApi;
    readonly stage: aws.apigateway.Stage;
    readonly webAcl: aws.wafv2.WebAcl;
    readonly restApiId: pulumi.Output<string>;
    readonly restApiName: pulumi.Output<string>;
    readonly stageName: pulumi.Output<string>;
    readonly invokeUrl: pulumi.Output<string>;
    readonly executionArn: pulumi.Output<string>;
    readonly specSha256: string;
    readonly releaseId: string;

    constructor(name: string, args: GatewayRingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-ring:ring:GatewayRing", name, {}, opts);
        const tags = { ...args.tags, "api-ring:component": "GatewayRing", "api-ring:slot": args.slot };
        const variables = { ...args.hosts, ...args.stageVariables, id: args.releaseId };
        const missing = missingStageVariables(args.spec, variables).map((m) => m.name);
        if (missing.length > 0) {
            throw new Error(`GatewayRing ${name}: the OpenAPI document uses stage variable${missing.length > 1 ? "s" : ""} ` +
                `${missing.join(", ")}, which neither hosts nor stageVariables define; add ${missing.map((m) => `${m}: <value>`).join(", ")} ` +
                "to gateway:hosts (backend hosts) or gateway:stageVariables (anything else)");
        }

        const body = pulumi.output(args.authorizerInvokeArn).apply((uri) => args.spec.render(uri));
        this.restApi = new aws.apigateway.RestApi(`${name}-api`, {
            name: restApiNameFor(args.slot),
            description: `api-ring slot ${args.slot}, release ${args.releaseId}`,
            body,
            // overwrite: the slot serves exactly the document, so a route removed from it is gone
            // (merge would keep it live). The program sets no resource policy that could drift.
            putRestApiMode: "overwrite",
            // PutRestApi reports what it cannot import as warnings, which the provider never reads: fail instead.
            failOnWarnings: true,
            // The same list as the body's: the provider applies this argument after the import, replacing the body's.
            binaryMediaTypes: args.spec.binaryMediaTypes.length > 0 ? args.spec.binaryMediaTypes : undefined,
            endpointConfiguration: { types: "REGIONAL" },
            tags,
        }, { parent: this });

        const deployment = new aws.apigateway.Deployment(`${name}-deployment`, {
            restApi: this.restApi.id,
            description: `release ${args.releaseId}`,
            triggers: {
                redeployment: body.apply((b) => sha256(JSON.stringify({ body: b, variables: sortedEntries(variables) }))),
            },
        }, { parent: this });

        const accessLogs = new aws.cloudwatch.LogGroup(`${name}-access-logs`, {
            name: `/aws/apigateway/api-ring-${args.slot}/access`,
            retentionInDays: args.accessLogRetentionDays ?? 30,
            tags,
        }, { parent: this });

        this.stage = new aws.apigateway.Stage(`${name}-stage`, {
            restApi: this.restApi.id,
            deployment: deployment.id,
            stageName: args.slot,
            description: `release ${args.releaseId}`,
            variables,
            accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
            xrayTracingEnabled: true,
            cacheClusterEnabled: args.limits.caching,
            cacheClusterSize: args.limits.caching ? args.limits.cacheClusterSize : undefined,
            tags,
        }, { parent: this, dependsOn: args.accountSettings ? [args.accountSettings] : [] });

        new aws.apigateway.MethodSettings(`${name}-method-settings`, {
            restApi: this.restApi.id,
            stageName: this.stage.stageName,
            methodPath: "*/*",
            settings: {
                loggingLevel: args.limits.logLevel,
                metricsEnabled: args.limits.metrics,
                dataTraceEnabled: false,
                cachingEnabled: args.limits.caching,
                // A response cache holds API answers: encrypted whenever it is on.
                cacheDataEncrypted: args.limits.caching,
                throttlingRateLimit: args.limits.rateLimit,
                throttlingBurstLimit: args.limits.burstLimit,
            },
        }, { parent: this, dependsOn: args.accountSettings ? [args.accountSettings] : [] });

        // Before routing, the authorizer and every integration: no client header may pass for one the gateway sets.
        const metricName = `${restApiNameFor(args.slot)}-reserved-headers`;
        this.webAcl = new aws.wafv2.WebAcl(`${name}-web-acl`, {
            scope: "REGIONAL",
            // WAF descriptions take word characters, spaces and + = : # @ / - , . only (no *): the WebACL data type's pattern.
            description: `api-ring slot ${args.slot}: requests carrying a header whose name starts with x-api-ring-, in any spelling, are blocked`,
            defaultAction: { allow: {} },
            rules: [reservedHeadersRule(metricName)],
            visibilityConfig: { cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true },
            tags,
        }, { parent: this });
        new aws.wafv2.WebAclAssociation(`${name}-web-acl-association`, {
            resourceArn: this.stage.arn,
            webAclArn: this.webAcl.arn,
        }, { parent: this });

        // The API may invoke its authorizer, and nothing but its authorizers may through this grant.
        new aws.lambda.Permission(`${name}-invokes-authorizer`, {
            action: "lambda:InvokeFunction",
            function: args.authorizerFunctionName,
            principal: "apigateway.amazonaws.com",
            sourceArn: pulumi.interpolate`${this.restApi.executionArn}/authorizers/*`,
        }, { parent: this });

        // The document's Lambda functions without credentials, each allowed exactly the stage, method and
        // resource (or the authorizers) of this API that invoke it.
        const { permissions, unresolved } = lambdaPermissions(args.spec.lambdaInvocations, variables, args.slot);
        if (unresolved.length > 0) {
            throw new Error(`GatewayRing ${name}: cannot name ${unresolved.map((u) => `${u.message.split(" (")[0]}: ` +
                `${u.variable ? `the stage variable ${u.variable} is ${u.got === undefined ? "not set" : JSON.stringify(u.got)}` : `got ${JSON.stringify(u.got)}`}; expected ${u.message}`).join("; ")}`);
        }
        for (const permission of permissions) {
            new aws.lambda.Permission(permissionName(name, permission), {
                action: "lambda:InvokeFunction",
                function: permission.functionArn,
                qualifier: permission.qualifier,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${this.restApi.executionArn}/${permission.sourcePath}`,
            }, { parent: this });
        }

        this.restApiId = this.restApi.id;
        this.restApiName = this.restApi.name;
        this.stageName = this.stage.stageName;
        this.invokeUrl = this.stage.invokeUrl;
        this.executionArn = this.stage.executionArn;
        this.specSha256 = args.spec.sha256;
        this.releaseId = args.releaseId;
        this.registerOutputs({
            restApiId: this.restApiId,
            restApiName: this.restApiName,
            stageName: this.stageName,
            invokeUrl: this.invokeUrl,
            executionArn: this.executionArn,
            specSha256: this.specSha256,
            releaseId: this.releaseId,
        });
    }
}

function sortedEntries(record: Record<string, string>): [string, string][] {
    return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
