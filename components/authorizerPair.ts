import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AUTHORIZER_TIMEOUT_SECONDS } from "../config";
import { handlerCode, LazyPackages } from "../handler-archive";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { createAuthorizerHandler } from "../handlers/authorizer";
import type { AuthorizerEvent } from "../handlers/credentials";
import { JWT_PACKAGE } from "../handlers/jwt";
import { METRICS_PACKAGE } from "../handlers/metrics";
import { createReporterHandler, type ReporterEvent, type ReporterResult } from "../handlers/reporter";
import { SECRET_PARAMETER_VARIABLES } from "../handlers/secrets";
import { AuthorizerSettings, functionEnvironment } from "../handlers/settings";
import { XML_PACKAGE } from "../handlers/threescale";

/** Settings of the pair known at program start; connection details arrive as Inputs. */
export type StaticAuthorizerSettings = Omit<AuthorizerSettings, "usageTopicArn" | "redis" | "threescale"> & {
    threescale: Omit<AuthorizerSettings["threescale"], "serviceToken" | "adminUrl" | "accessToken">;
    redisTimeoutMs: number;
};

export interface AuthorizerPairArgs {
    settings: StaticAuthorizerSettings;
    /** Secret 3scale service token. */
    serviceToken: pulumi.Input<string>;
    /** porta's URL and a secret access token: only the reporter gets them (handlers/porta.ts). */
    porta?: { adminUrl: string; accessToken: pulumi.Input<string> };
    redisHost: pulumi.Input<string>;
    redisPort: pulumi.Input<number>;
    /** Secret Redis AUTH token. */
    redisAuthToken: pulumi.Input<string>;
    /** Private subnets the functions run in (they reach Redis there, and 3scale through NAT). */
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
    /** EventBridge schedule that flushes pending usage even without an SNS nudge. */
    flushSchedule: string;
    /** The `service` dimension of the handlers' CloudWatch metrics (`<project>-<slot>`); none published when unset. */
    metricsService?: string;
    /**
     * The AWS Parameters and Secrets Lambda Extension layer version the functions read their secrets
     * through (arm64). Unset: the latest AWS publishes for the region, read at each update.
     */
    secretsExtensionLayerArn?: string;
    tags?: Record<string, string>;
}

/**
 * Packages the handlers load only when first needed (not by a cached decision), and whether a
 * function ships each: jose goes only with credentials jwt, as nothing else loads it.
 */
export function handlerLazyPackages(jwt: boolean): LazyPackages {
    return { [XML_PACKAGE]: true, [METRICS_PACKAGE]: true, [JWT_PACKAGE]: jwt };
}

/** The Lambda runtime of both functions; their bundles target its Node.js version. */
const RUNTIME = aws.lambda.Runtime.NodeJS22dX;
/** Both functions' instruction set; the secrets extension's layer must be built for it. */
const ARCHITECTURE = "arm64";
/**
 * AWS's public parameter naming the latest Parameters and Secrets Lambda Extension layer for arm64 in the
 * region ("Using Parameter Store parameters in AWS Lambda functions", AWS Systems Manager user guide:
 * "The latest Lambda extension ARN versions are stored as public parameters").
 */
export const SECRETS_EXTENSION_LATEST_PARAMETER = "/aws/service/aws-parameters-and-secrets-lambda-extension/arm64/latest";

/** AWS managed policies the functions need: logs and VPC attachment, X-Ray writes; nothing more. Named in the region's partition. */
const VPC_ACCESS_POLICY = "service-role/AWSLambdaVPCAccessExecutionRole";
const XRAY_WRITE_POLICY = "AWSXRayDaemonWriteAccess";

/**
 * The 3scale-backed authorizer and the usage reporter it nudges through SNS.
 * The authorizer answers API Gateway from the Redis decision cache (3scale on a miss)
 * and counts hits; at most once per usage window it publishes to the usage topic, and the
 * reporter (also run on a schedule) reports the pending counts to 3scale in batches.
 * Failed reporter invocations land in the dead-letter queue.
 */
export class AuthorizerPair extends pulumi.ComponentResource {
    readonly authorizer: aws.lambda.CallbackFunction<AuthorizerEvent, APIGatewayAuthorizerResult>;
    readonly reporter: aws.lambda.CallbackFunction<ReporterEvent, ReporterResult>;
    readonly usageTopic: aws.sns.Topic;
    readonly deadLetterQueue: aws.sqs.Queue;
    /** Encrypts the pair's secrets in Parameter Store; only the pair's roles may decrypt with it. */
    readonly secretsKey: aws.kms.Key;
    readonly authorizerFunctionName: pulumi.Output<string>;
    readonly reporterFunctionName: pulumi.Output<string>;
    readonly authorizerInvokeArn: pulumi.Output<string>;
    readonly authorizerArn: pulumi.Output<string>;
    readonly usageTopicArn: pulumi.Output<string>;
    readonly deadLetterQueueUrl: pulumi.Output<string>;

    /** The ARN partition of the region (aws, aws-cn, aws-us-gov): managed policy ARNs differ between them. */
    private readonly partition: pulumi.Output<string>;

    constructor(name: string, args: AuthorizerPairArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-ring:ring:AuthorizerPair", name, {}, opts);
        const tags = { ...args.tags, "api-ring:component": "AuthorizerPair" };
        this.partition = aws.getPartitionOutput({}, { parent: this }).partition;

        this.usageTopic = new aws.sns.Topic(`${name}-usage`, {
            kmsMasterKeyId: "alias/aws/sns",
            tags,
        }, { parent: this });

        this.deadLetterQueue = new aws.sqs.Queue(`${name}-usage-dlq`, {
            sqsManagedSseEnabled: true,
            messageRetentionSeconds: 14 * 24 * 3600,
            tags,
        }, { parent: this });

        // The secrets never enter the functions' configuration, which GetFunctionConfiguration shows in clear
        // to anyone allowed to read it: each is a SecureString parameter, read by the functions at cold start
        // (handlers/secrets.ts). A key of the pair's own encrypts them, because the AWS managed aws/ssm key
        // lets every principal of the account decrypt; only the pair's roles are granted Decrypt on it.
        this.secretsKey = new aws.kms.Key(`${name}-secrets`, {
            description: "api-ring: encrypts the authorizer pair's secrets in Parameter Store",
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            tags,
        }, { parent: this });
        const secretParameter = (suffix: string, what: string, value: pulumi.Input<string>): aws.ssm.Parameter =>
            new aws.ssm.Parameter(`${name}-${suffix}`, {
                description: `api-ring: ${what}, read by the authorizer pair at cold start`,
                type: "SecureString",
                value: pulumi.secret(value),
                keyId: this.secretsKey.arn,
                tags,
            }, { parent: this });
        const serviceToken = secretParameter("service-token", "the 3scale service token", args.serviceToken);
        const redisAuthToken = secretParameter("redis-auth-token", "the Redis AUTH token", args.redisAuthToken);
        // porta's token is the reporter's alone: only its environment names the parameter, only its role reads it.
        const portaAccessToken = args.porta ? secretParameter("porta-access-token", "the porta access token", args.porta.accessToken) : undefined;

        const s = args.settings;
        const placeholder = "";
        const environment = {
            ...functionEnvironment({
                ...s,
                redis: { host: placeholder, port: 0, tls: true, timeoutMs: s.redisTimeoutMs },
                usageTopicArn: placeholder,
                secretParameters: { serviceToken: placeholder, redisAuthToken: placeholder },
            }, args.metricsService),
            // Known only at deploy time.
            [SECRET_PARAMETER_VARIABLES.serviceToken]: serviceToken.name,
            [SECRET_PARAMETER_VARIABLES.redisAuthToken]: redisAuthToken.name,
            // A changed secret is a new parameter version: the functions' configuration changes with it, so new
            // containers (which read the new value) replace the old.
            PARAMETER_VERSIONS: pulumi.interpolate`${serviceToken.version}.${redisAuthToken.version}`,
            REDIS_HOST: pulumi.output(args.redisHost),
            REDIS_PORT: pulumi.output(args.redisPort).apply(String),
            USAGE_TOPIC_ARN: this.usageTopic.arn,
        };
        const vpcConfig = { subnetIds: args.subnetIds, securityGroupIds: args.securityGroupIds };
        const region = aws.getRegionOutput({}, { parent: this }).region;
        // The functions read their secrets through AWS's extension (handlers/secrets.ts): its layer, pinned by
        // config or the latest for the region.
        const layers = [args.secretsExtensionLayerArn ?? aws.ssm.getParameterOutput({ name: SECRETS_EXTENSION_LATEST_PARAMETER }, { parent: this }).value];
        const readSecrets = (parameters: aws.ssm.Parameter[]) => [{
            Sid: "ReadOwnSecrets",
            Effect: "Allow",
            // The extension calls GetParameter, one parameter a call, with the function's credentials.
            Action: ["ssm:GetParameter"],
            Resource: parameters.map((p) => p.arn),
        }, {
            Sid: "DecryptOwnSecrets",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: this.secretsKey.arn,
            // Only as Parameter Store decrypts a parameter, not a direct Decrypt of anything under the key.
            Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`ssm.${region}.amazonaws.com` } },
        }];

        const authorizerAccess = this.role(`${name}-authorizer`, tags, [{
            Sid: "NudgeUsageReporter",
            Effect: "Allow",
            Action: ["sns:Publish"],
            Resource: this.usageTopic.arn,
        }, ...readSecrets([serviceToken, redisAuthToken])]);
        this.authorizer = new aws.lambda.CallbackFunction(`${name}-authorizer`, {
            description: "api-ring: 3scale-backed TOKEN authorizer with a Redis decision cache",
            ...handlerCode(`${name}-authorizer`, RUNTIME, "authorizer", createAuthorizerHandler, handlerLazyPackages(s.credentials.kind === "jwt")),
            // Our least-privilege role: without one CallbackFunction attaches nine managed *FullAccess policies.
            role: authorizerAccess.role,
            runtime: RUNTIME,
            architectures: [ARCHITECTURE],
            layers,
            memorySize: 512,
            // Far below API Gateway's 29 s; config refuses bounds that do not fit inside it (config/authorizer.ts).
            timeout: AUTHORIZER_TIMEOUT_SECONDS,
            environment: { variables: environment },
            vpcConfig,
            tracingConfig: { mode: "Active" },
            tags,
        }, { parent: this, dependsOn: authorizerAccess.grants });

        const reporterAccess = this.role(`${name}-reporter`, tags, [{
            Sid: "DeadLetters",
            Effect: "Allow",
            Action: ["sqs:SendMessage"],
            Resource: this.deadLetterQueue.arn,
        }, ...readSecrets(portaAccessToken ? [serviceToken, redisAuthToken, portaAccessToken] : [serviceToken, redisAuthToken])]);
        this.reporter = new aws.lambda.CallbackFunction(`${name}-reporter`, {
            description: "api-ring: reports pending usage to 3scale in batches",
            ...handlerCode(`${name}-reporter`, RUNTIME, "reporter", createReporterHandler, handlerLazyPackages(false)),
            role: reporterAccess.role,
            runtime: RUNTIME,
            architectures: [ARCHITECTURE],
            layers,
            memorySize: 256,
            timeout: 60,
            environment: {
                variables: args.porta && portaAccessToken ? {
                    ...environment,
                    THREESCALE_ADMIN_URL: args.porta.adminUrl,
                    [SECRET_PARAMETER_VARIABLES.portaAccessToken]: portaAccessToken.name,
                    PARAMETER_VERSIONS: pulumi.interpolate`${serviceToken.version}.${redisAuthToken.version}.${portaAccessToken.version}`,
                } : environment,
            },
            vpcConfig,
            deadLetterConfig: { targetArn: this.deadLetterQueue.arn },
            tracingConfig: { mode: "Active" },
            tags,
        }, { parent: this, dependsOn: reporterAccess.grants });

        const snsPermission = new aws.lambda.Permission(`${name}-reporter-from-sns`, {
            action: "lambda:InvokeFunction",
            function: this.reporter.name,
            principal: "sns.amazonaws.com",
            sourceArn: this.usageTopic.arn,
        }, { parent: this });
        new aws.sns.TopicSubscription(`${name}-usage-to-reporter`, {
            topic: this.usageTopic.arn,
            protocol: "lambda",
            endpoint: this.reporter.arn,
        }, { parent: this, dependsOn: [snsPermission] });

        const flush = new aws.cloudwatch.EventRule(`${name}-usage-flush`, {
            description: "api-ring: flush pending usage to 3scale",
            scheduleExpression: args.flushSchedule,
            tags,
        }, { parent: this });
        const schedulePermission = new aws.lambda.Permission(`${name}-reporter-from-schedule`, {
            action: "lambda:InvokeFunction",
            function: this.reporter.name,
            principal: "events.amazonaws.com",
            sourceArn: flush.arn,
        }, { parent: this });
        new aws.cloudwatch.EventTarget(`${name}-usage-flush`, {
            rule: flush.name,
            arn: this.reporter.arn,
        }, { parent: this, dependsOn: [schedulePermission] });

        this.authorizerFunctionName = this.authorizer.name;
        this.reporterFunctionName = this.reporter.name;
        this.authorizerArn = this.authorizer.arn;
        this.authorizerInvokeArn = this.authorizer.invokeArn;
        this.usageTopicArn = this.usageTopic.arn;
        this.deadLetterQueueUrl = this.deadLetterQueue.url;
        this.registerOutputs({
            secretsKeyArn: this.secretsKey.arn,
            authorizerFunctionName: this.authorizerFunctionName,
            reporterFunctionName: this.reporterFunctionName,
            authorizerInvokeArn: this.authorizerInvokeArn,
            usageTopicArn: this.usageTopicArn,
            deadLetterQueueUrl: this.deadLetterQueueUrl,
        });
    }

    private managedPolicy(path: string): pulumi.Output<string> {
        return pulumi.interpolate`arn:${this.partition}:iam::aws:policy/${path}`;
    }

    /**
     * A Lambda role with VPC access, X-Ray writes and the function's own statements; the
     * function waits for the grants (it cannot attach to the VPC without them).
     */
    private role(name: string, tags: Record<string, string>, statements: Record<string, unknown>[]): { role: aws.iam.Role; grants: pulumi.Resource[] } {
        const role = new aws.iam.Role(`${name}-role`, {
            assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" }),
            tags,
        }, { parent: this });
        const vpcAccess = new aws.iam.RolePolicyAttachment(`${name}-vpc-access`, {
            role: role.name,
            policyArn: this.managedPolicy(VPC_ACCESS_POLICY),
        }, { parent: this });
        const own = new aws.iam.RolePolicy(`${name}-policy`, {
            role: role.name,
            policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
        }, { parent: this });
        const xray = new aws.iam.RolePolicyAttachment(`${name}-xray`, {
            role: role.name,
            policyArn: this.managedPolicy(XRAY_WRITE_POLICY),
        }, { parent: this });
        return { role, grants: [vpcAccess, own, xray] };
    }
}
