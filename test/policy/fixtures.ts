// StackPreview-shaped fixtures for the policy tests: a small, correct stack to break one
// property at a time.
import type { PreviewResource, StackPreview } from "../../scripts/preview-model";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- fixture inputs are edited freely

export function resource(type: string, name: string, inputs: Json, extra: Partial<PreviewResource> = {}): PreviewResource {
    return {
        urn: `urn:pulumi:test::api-ring::${type}::${name}`, type, name, id: extra.id ?? `${name}-id`, custom: true,
        inputs, secretInputs: [], state: {}, ...extra,
    };
}

export function stack(resources: PreviewResource[]): StackPreview {
    return {
        stack: "test", project: "api-ring", outputs: {}, secretOutputs: [], config: {}, secretConfig: [],
        resources: [resource("pulumi:pulumi:Stack", "api-ring-test", {}, { id: "", custom: false }), ...resources],
    };
}

const BODY = JSON.stringify({
    swagger: "2.0",
    securityDefinitions: { threescale: { type: "apiKey", "x-amazon-apigateway-authorizer": { type: "token" } } },
    paths: {
        "/heartbeat": { get: { security: [] } },
        "/discovery/v1/catalogs": { get: { security: [{ threescale: [] }] } },
        "/{proxy+}": { "x-amazon-apigateway-any-method": { security: [{ threescale: [] }] } },
    },
});

/** A stack that passes every rule. */
export function goodResources(): PreviewResource[] {
    return [
        resource("awsx:ec2:Vpc", "vpc", {}, { state: { privateSubnetIds: ["subnet-private-a", "subnet-private-b"], publicSubnetIds: ["subnet-public-a"] } }),
        resource("aws:ec2/securityGroup:SecurityGroup", "lambda-sg", { egress: [] }, { id: "sg-lambda" }),
        resource("aws:ec2/securityGroup:SecurityGroup", "redis-sg", {
            ingress: [{ protocol: "tcp", fromPort: 6379, toPort: 6379, securityGroups: ["sg-lambda"] }],
        }, { id: "sg-redis" }),
        resource("aws:elasticache/replicationGroup:ReplicationGroup", "redis", {
            transitEncryptionEnabled: true, atRestEncryptionEnabled: true, authToken: "[secret]", port: 6379, securityGroupIds: ["sg-redis"],
        }, { secretInputs: ["authToken"] }),
        resource("aws:lambda/function:Function", "authorizer", {
            runtime: "nodejs22.x",
            environment: { variables: { REDIS_HOST: "[secret]", THREESCALE_SERVICE_TOKEN: "[secret]", USAGE_TOPIC_ARN: "[secret]" } },
            vpcConfig: { subnetIds: ["subnet-private-a", "subnet-private-b"], securityGroupIds: ["sg-lambda"] },
        }, { secretInputs: ["environment"] }),
        resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "vpc-access", { policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" }),
        resource("aws:apigateway/restApi:RestApi", "api", { body: BODY }, { id: "api123" }),
        resource("aws:apigateway/stage:Stage", "stage", {
            restApi: "api123", stageName: "red", accessLogSettings: { destinationArn: "arn:aws:logs:us-east-1:123456789012:log-group:x", format: "{}" },
        }),
        resource("aws:apigateway/methodSettings:MethodSettings", "settings", {
            restApi: "api123", stageName: "red", methodPath: "*/*",
            settings: { loggingLevel: "ERROR", throttlingRateLimit: 500, throttlingBurstLimit: 1000, cachingEnabled: false },
        }),
        resource("aws:sns/topic:Topic", "usage", { kmsMasterKeyId: "alias/aws/sns" }),
        resource("aws:apigateway/domainName:DomainName", "domain", { domainName: "api.example.edu", securityPolicy: "TLS_1_2" }),
    ];
}

/** The good stack with one resource's inputs changed (by name). */
export function withChange(name: string, change: (inputs: Json, r: PreviewResource) => void): StackPreview {
    const resources = goodResources();
    const target = resources.find((r) => r.name === name);
    if (!target) throw new Error(`no fixture resource ${name}`);
    change(target.inputs, target);
    return stack(resources);
}
