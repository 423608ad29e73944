// A stand-in for AWS under Pulumi's mock runtime: it records every resource the program
// registers and answers with the values the real providers would compute (ids, ARNs,
// URLs) in their real formats, so the program's outputs look like a real deployment's.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

export const MOCK_ACCOUNT = "123456789012";

/** Pulumi's wire marker for secret values (the SDK's specialSigKey / specialSecretSig). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
    type: string;
    name: string;
    custom: boolean;
    provider?: string;
    /** Inputs as registered; secret values still wrapped in Pulumi's secret marker. */
    inputs: Record<string, unknown>;
    id: string;
    state: Record<string, unknown>;
}

export interface MockCloudOptions {
    region: string;
    /** Outputs of another stack for a StackReference; undefined = never deployed. */
    stackOutputs(stack: string): Record<string, unknown> | undefined;
}

export function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The value of an Output once known; under mocks with preview off, every Output resolves. */
export function resolveOutput<T>(value: pulumi.Input<T>): Promise<T> {
    return new Promise((done) => pulumi.output(value).apply((v) => {
        done(v as T);
        return v;
    }));
}

export function secretValue(value: unknown): Record<string, unknown> {
    return { [SIG_KEY]: SECRET_SIG, value };
}

function hex(seed: string, length: number): string {
    return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** Like hex, but letters and digits as API Gateway ids are (10 lower-case characters). */
function apiId(seed: string): string {
    return BigInt(`0x${hex(seed, 16)}`).toString(36).padStart(10, "0").slice(0, 10);
}

export class MockCloud implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    constructor(private readonly options: MockCloudOptions) {}

    call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/offline`, userId: "AIDAOFFLINE" };
            case "aws:index/getRegion:getRegion":
                return { name: this.options.region, region: this.options.region, id: this.options.region };
            case "aws:index/getPartition:getPartition":
                return { partition: "aws", dnsSuffix: "amazonaws.com" };
            default:
                return args.inputs;
        }
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
        const { id, computed } = this.compute(args);
        const state = { ...args.inputs, ...computed };
        this.resources.push({ type: args.type, name: args.name, custom: args.custom ?? true, provider: args.provider, inputs: args.inputs, id, state });
        return { id, state };
    }

    private compute(args: pulumi.runtime.MockResourceArgs): { id: string; computed: Record<string, unknown> } {
        const { region } = this.options;
        const seed = `${args.type}::${args.name}`;
        const input = (key: string): string | undefined => {
            const v = args.inputs[key];
            return typeof v === "string" ? v : undefined;
        };
        // Pulumi's auto-naming: the logical name plus a random suffix.
        const physical = input("name") ?? `${args.name}-${hex(seed, 7)}`;
        const arn = (service: string, resource: string, withRegion = true) =>
            `arn:aws:${service}:${withRegion ? region : ""}:${MOCK_ACCOUNT}:${resource}`;

        switch (args.type) {
            case "pulumi:pulumi:StackReference": {
                const stack = String(args.inputs.name).split("/").pop() as string;
                const outputs = this.options.stackOutputs(stack) ?? {};
                const secretOutputNames = Object.entries(outputs).filter(([, v]) => isSecretValue(v)).map(([k]) => k);
                return { id: String(args.inputs.name), computed: { outputs, secretOutputNames } };
            }
            case "awsx:ec2:Vpc": {
                const subnets = (kind: string) => [0, 1].map((i) => `subnet-0${hex(`${seed}-${kind}-${i}`, 16)}`);
                return {
                    id: `vpc-0${hex(seed, 16)}`,
                    computed: {
                        vpcId: `vpc-0${hex(seed, 16)}`,
                        privateSubnetIds: subnets("private"),
                        publicSubnetIds: subnets("public"),
                        isolatedSubnetIds: [],
                    },
                };
            }
            case "aws:ec2/securityGroup:SecurityGroup": {
                const id = `sg-0${hex(seed, 16)}`;
                return { id, computed: { arn: arn("ec2", `security-group/${id}`), name: physical } };
            }
            case "aws:apigateway/restApi:RestApi": {
                const id = apiId(seed);
                return { id, computed: { rootResourceId: apiId(`${seed}/root`), executionArn: arn("execute-api", id), arn: `arn:aws:apigateway:${region}::/restapis/${id}` } };
            }
            case "aws:apigateway/deployment:Deployment":
                return { id: apiId(seed).slice(0, 6), computed: { createdDate: "2026-11-23T00:00:00Z" } };
            case "aws:apigateway/stage:Stage": {
                const restApi = input("restApi") ?? "unknown";
                const stage = input("stageName") ?? args.name;
                return {
                    id: `ags-${restApi}-${stage}`,
                    computed: {
                        invokeUrl: `https://${restApi}.execute-api.${region}.amazonaws.com/${stage}`,
                        executionArn: arn("execute-api", `${restApi}/${stage}`),
                        arn: `arn:aws:apigateway:${region}::/restapis/${restApi}/stages/${stage}`,
                    },
                };
            }
            case "aws:apigateway/domainName:DomainName":
                return {
                    id: input("domainName") ?? args.name,
                    computed: {
                        regionalDomainName: `d-${apiId(seed)}.execute-api.${region}.amazonaws.com`,
                        regionalZoneId: "Z1UJRXOUMOOFQ8",
                        arn: `arn:aws:apigateway:${region}::/domainnames/${input("domainName")}`,
                    },
                };
            case "aws:lambda/function:Function": {
                const functionArn = arn("lambda", `function:${physical}`);
                return {
                    id: physical,
                    computed: {
                        name: physical,
                        arn: functionArn,
                        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${functionArn}/invocations`,
                        qualifiedArn: `${functionArn}:$LATEST`,
                        version: "$LATEST",
                    },
                };
            }
            case "aws:iam/role:Role":
                return { id: physical, computed: { name: physical, arn: arn("iam", `role/${physical}`, false), uniqueId: `AROA${hex(seed, 16).toUpperCase()}` } };
            case "aws:sns/topic:Topic":
                return { id: arn("sns", physical), computed: { name: physical, arn: arn("sns", physical) } };
            case "aws:sqs/queue:Queue":
                return {
                    id: `https://sqs.${region}.amazonaws.com/${MOCK_ACCOUNT}/${physical}`,
                    computed: { name: physical, arn: arn("sqs", physical), url: `https://sqs.${region}.amazonaws.com/${MOCK_ACCOUNT}/${physical}` },
                };
            case "aws:cloudwatch/logGroup:LogGroup":
                return { id: physical, computed: { name: physical, arn: arn("logs", `log-group:${physical}`) } };
            case "aws:cloudwatch/eventRule:EventRule":
                return { id: physical, computed: { name: physical, arn: arn("events", `rule/${physical}`) } };
            case "aws:elasticache/replicationGroup:ReplicationGroup": {
                const id = `${args.name}-${hex(seed, 7)}`.toLowerCase().slice(0, 40);
                const short = region.replace(/^(\w)\w*-(\w)\w*-(\d)$/, "$1$2$3");
                return {
                    id,
                    computed: {
                        arn: arn("elasticache", `replicationgroup:${id}`),
                        primaryEndpointAddress: `master.${id}.${hex(seed, 6)}.${short}.cache.amazonaws.com`,
                        readerEndpointAddress: `replica.${id}.${hex(seed, 6)}.${short}.cache.amazonaws.com`,
                    },
                };
            }
            case "aws:cloudwatch/metricAlarm:MetricAlarm":
                return { id: physical, computed: { arn: arn("cloudwatch", `alarm:${physical}`) } };
            case "aws:cloudwatch/dashboard:Dashboard": {
                const name = input("dashboardName") ?? physical;
                return { id: name, computed: { dashboardArn: `arn:aws:cloudwatch::${MOCK_ACCOUNT}:dashboard/${name}` } };
            }
            case "aws:wafv2/webAcl:WebAcl": {
                // AWS WAF API reference, CreateWebACL: Id is a UUID, the ARN
                // arn:aws:wafv2:{region}:{account}:regional/webacl/{name}/{id} for REGIONAL scope.
                const h = hex(seed, 32);
                const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
                return { id, computed: { name: physical, arn: arn("wafv2", `regional/webacl/${physical}/${id}`), capacity: 2 } };
            }
            case "aws:elasticache/subnetGroup:SubnetGroup":
                return { id: physical.toLowerCase(), computed: { name: physical.toLowerCase(), arn: arn("elasticache", `subnetgroup:${physical}`) } };
            default:
                return { id: `${physical}`, computed: args.custom === false ? {} : { arn: arn(args.type.split(":")[1].split("/")[0], physical) } };
        }
    }
}
