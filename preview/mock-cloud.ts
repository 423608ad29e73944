// A stand-in for AWS under Pulumi's mock runtime: it records every resource the program
// registers and answers with the values the real providers would compute (ids, ARNs,
// URLs) in their real formats, so the program's outputs look like a real deployment's.
// Before it answers, it names each resource as pulumi-aws would (autonaming) and checks its
// inputs against AWS's documented creation rules (preview/aws-rules/, each rule citing its
// source); what AWS would refuse is recorded in `refusals`, which fail the offline preview as
// they would fail `pulumi up`. The remote component awsx:ec2:Vpc is expanded into the children
// awsx creates (preview/aws-rules/awsx-vpc.ts), which are checked and recorded the same way.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { AccountSettings, AUTONAME_SOURCE, CreatedResource, Refusal, autoname, checkResource, expandVpc, partitionOf } from "./aws-rules";
import { publicParameter } from "./public-parameters";

export const MOCK_ACCOUNT = "123456789012";

/** Pulumi's wire marker for secret values (the SDK's specialSigKey / specialSecretSig). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
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
    /** For a child the mock creates itself (the VPC's), its parent by type and name. */
    parent?: { type: string; name: string };
}

export interface MockCloudOptions {
    region: string;
    /** Outputs of another stack for a StackReference, by its full name (`organization/<project>/<stack>`); undefined = never deployed. */
    stackOutputs(name: string): Record<string, unknown> | undefined;
    /** The region's API Gateway account settings before this run; a fresh account has none. */
    account?: AccountSettings;
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

/** A UUID-shaped id (KMS key ids, WAF ids), derived from the seed. */
function uuid(seed: string): string {
    const h = hex(seed, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Like hex, but letters and digits as API Gateway ids are (10 lower-case characters). */
function apiId(seed: string): string {
    return BigInt(`0x${hex(seed, 16)}`).toString(36).padStart(10, "0").slice(0, 10);
}

/** Replaces Pulumi's secret wrappers by their values and lists the paths that were secret. */
function unwrapSecrets(value: unknown, at: string, secretPaths: string[]): unknown {
    if (isSecretValue(value)) {
        secretPaths.push(at);
        return unwrapSecrets(value.value, at, []);
    }
    if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, at ? `${at}.${i}` : String(i), secretPaths));
    if (value && typeof value === "object" && value.constructor === Object) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, at ? `${at}.${k}` : k, secretPaths)]));
    }
    return value;
}

export class MockCloud implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    /** Every input AWS (or pulumi-aws's autonaming) would refuse, in the order the resources were created. */
    readonly refusals: Refusal[] = [];
    /** The region's API Gateway account settings, as this run leaves them. */
    readonly account: AccountSettings;
    /** What this run created so far, secrets unwrapped, for the rules that look across resources. */
    private readonly created: CreatedResource[] = [];
    readonly partition: string;
    constructor(private readonly options: MockCloudOptions) {
        this.account = { ...options.account };
        this.partition = partitionOf(options.region);
    }

    call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: MOCK_ACCOUNT, arn: `arn:${this.partition}:iam::${MOCK_ACCOUNT}:user/offline`, userId: "AIDAOFFLINE" };
            case "aws:index/getRegion:getRegion":
                return { name: this.options.region, region: this.options.region, id: this.options.region };
            case "aws:index/getPartition:getPartition":
                // AWS General Reference, "Amazon Resource Names (ARNs)": the partition of each region.
                return { id: this.partition, partition: this.partition, dnsSuffix: this.partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com", reverseDnsPrefix: this.partition === "aws-cn" ? "cn.com.amazonaws" : "com.amazonaws" };
            case "aws:ssm/getParameter:getParameter": {
                // Only AWS's public parameters can be answered offline; the program reads no other.
                const name = String(args.inputs.name);
                const value = publicParameter(name, this.options.region);
                // As the provider reports GetParameter's ParameterNotFound (terraform-provider-aws ssm/parameter_data_source.go).
                if (value === undefined) throw new Error(`reading SSM Parameter (${name}): operation error SSM: GetParameter, ParameterNotFound (in ${this.options.region})`);
                return { id: name, name, type: "String", value, insecureValue: value, version: 1, arn: `arn:${this.partition}:ssm:${this.options.region}::parameter${name}`, withDecryption: true };
            }
            default:
                return args.inputs;
        }
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
        const inputs = this.named(args);
        if (args.type === "awsx:ec2:Vpc") return this.vpc(args.name, inputs);
        const { id, computed } = this.compute({ ...args, inputs });
        const state = { ...inputs, ...computed };
        this.resources.push({ type: args.type, name: args.name, custom: args.custom ?? true, provider: args.provider, inputs, id, state });
        this.remember(args.type, args.name, id, inputs, state);
        return { id, state };
    }

    /**
     * The inputs as the provider hands them to AWS: autonamed as pulumi-aws names them, then checked
     * against AWS's rules; an Account that passes sets the account's CloudWatch role.
     */
    private named(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
        const inputs: Record<string, unknown> = { ...args.inputs };
        const named = autoname(args.type, args.name, inputs, hex(`${args.type}::${args.name}`, 7));
        if (named && "error" in named) {
            this.refusals.push({ type: args.type, name: args.name, input: named.field, value: "(unset)", ruleId: "pulumi-aws.autoname", rule: named.error, source: AUTONAME_SOURCE });
            inputs[named.field] = `${args.name.slice(0, 20)}-${hex(args.name, 7)}`;
        } else if (named) {
            inputs[named.field] = named.name;
        }
        if (args.custom !== false || args.type === "awsx:ec2:Vpc") this.check(args.type, args.name, inputs);
        return inputs;
    }

    /**
     * Starts another deployment on this mock (a test harness building one component after another):
     * the rules across resources no longer see what earlier deployments created.
     */
    startDeployment(): void {
        this.created.length = 0;
    }

    /** Records a resource for the rules that look across resources (a routing rule's domain, a parameter's key). */
    private remember(type: string, name: string, id: string, inputs: Record<string, unknown>, state: Record<string, unknown>): void {
        this.created.push({ type, name, id, inputs: unwrapSecrets(inputs, "", []) as Record<string, unknown>, state: unwrapSecrets(state, "", []) as Record<string, unknown> });
    }

    private check(type: string, name: string, inputs: Record<string, unknown>): void {
        const secretPaths: string[] = [];
        const plain = unwrapSecrets(inputs, "", secretPaths) as Record<string, unknown>;
        const context = { region: this.options.region, partition: this.partition, account: this.account, created: this.created };
        const refused = checkResource(type, name, plain, context, secretPaths);
        this.refusals.push(...refused);
        if (type === "aws:apigateway/account:Account" && refused.length === 0 && typeof plain.cloudwatchRoleArn === "string") {
            this.account.cloudWatchRoleArn = plain.cloudwatchRoleArn;
            this.account.cloudWatchRoleSource = `aws:apigateway/account:Account "${name}"`;
        }
    }

    /** The remote awsx VPC: its children as awsx creates them, each checked and recorded; its outputs from theirs. */
    private vpc(name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
        const expanded = expandVpc(name, inputs, this.options.region, (prefix, seed) => `${prefix}-0${hex(`${prefix}::${name}::${seed}`, 16)}`);
        this.resources.push({ type: "awsx:ec2:Vpc", name, custom: false, inputs, id: "", state: { ...inputs, ...expanded.outputs } });
        for (const child of expanded.children) {
            this.check(child.type, child.name, child.inputs);
            this.resources.push({ type: child.type, name: child.name, custom: true, inputs: child.inputs, id: child.id, state: { ...child.inputs, id: child.id }, parent: child.parent });
            this.remember(child.type, child.name, child.id, child.inputs, { ...child.inputs, id: child.id });
        }
        return { id: expanded.outputs.vpcId, state: { ...expanded.outputs } };
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
        const p = this.partition;
        const arn = (service: string, resource: string, withRegion = true) =>
            `arn:${p}:${service}:${withRegion ? region : ""}:${MOCK_ACCOUNT}:${resource}`;

        switch (args.type) {
            case "pulumi:pulumi:StackReference": {
                const outputs = this.options.stackOutputs(String(args.inputs.name)) ?? {};
                const secretOutputNames = Object.entries(outputs).filter(([, v]) => isSecretValue(v)).map(([k]) => k);
                return { id: String(args.inputs.name), computed: { outputs, secretOutputNames } };
            }
            case "aws:ec2/securityGroup:SecurityGroup": {
                const id = `sg-0${hex(seed, 16)}`;
                return { id, computed: { arn: arn("ec2", `security-group/${id}`), name: physical } };
            }
            case "aws:apigateway/restApi:RestApi": {
                const id = apiId(seed);
                return { id, computed: { rootResourceId: apiId(`${seed}/root`), executionArn: arn("execute-api", id), arn: `arn:${p}:apigateway:${region}::/restapis/${id}` } };
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
                        arn: `arn:${p}:apigateway:${region}::/restapis/${restApi}/stages/${stage}`,
                    },
                };
            }
            case "aws:apigateway/domainName:DomainName":
                return {
                    id: input("domainName") ?? args.name,
                    computed: {
                        regionalDomainName: `d-${apiId(seed)}.execute-api.${region}.amazonaws.com`,
                        regionalZoneId: "Z1UJRXOUMOOFQ8",
                        arn: `arn:${p}:apigateway:${region}::/domainnames/${input("domainName")}`,
                    },
                };
            // terraform-provider-aws internal/service/apigateway/base_path_mapping.go: the id is `<domain>/<base path>`.
            case "aws:apigateway/basePathMapping:BasePathMapping":
                return { id: `${input("domainName")}/${input("basePath") ?? ""}`, computed: {} };
            // internal/service/apigatewayv2/routing_rule.go: an id API Gateway makes, and an ARN under the domain.
            case "aws:apigatewayv2/routingRule:RoutingRule": {
                const id = hex(`${seed}:${JSON.stringify(args.inputs)}`, 6);
                return { id, computed: { routingRuleId: id, routingRuleArn: `arn:${p}:apigateway:${region}:${MOCK_ACCOUNT}:/domainnames/${input("domainName")}/routingrules/${id}` } };
            }
            case "aws:lambda/function:Function": {
                const functionArn = arn("lambda", `function:${physical}`);
                return {
                    id: physical,
                    computed: {
                        name: physical,
                        arn: functionArn,
                        invokeArn: `arn:${p}:apigateway:${region}:lambda:path/2015-03-31/functions/${functionArn}/invocations`,
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
                const id = input("replicationGroupId") ?? physical;
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
                return { id: name, computed: { dashboardArn: `arn:${p}:cloudwatch::${MOCK_ACCOUNT}:dashboard/${name}` } };
            }
            case "aws:ssm/parameter:Parameter": {
                // The id is the name; the ARN's resource part drops a path's leading slash (parameter/a/b).
                return { id: physical, computed: { name: physical, arn: arn("ssm", `parameter/${physical.replace(/^\//, "")}`), version: 1, tier: "Standard" } };
            }
            case "aws:kms/key:Key": {
                const keyId = uuid(seed);
                return { id: keyId, computed: { keyId, arn: arn("kms", `key/${keyId}`) } };
            }
            case "aws:wafv2/webAcl:WebAcl": {
                // AWS WAF API reference, CreateWebACL: Id is a UUID, the ARN
                // arn:aws:wafv2:{region}:{account}:regional/webacl/{name}/{id} for REGIONAL scope.
                const id = uuid(seed);
                return { id, computed: { name: physical, arn: arn("wafv2", `regional/webacl/${physical}/${id}`), capacity: 2 } };
            }
            case "aws:elasticache/subnetGroup:SubnetGroup":
                return { id: physical.toLowerCase(), computed: { name: physical.toLowerCase(), arn: arn("elasticache", `subnetgroup:${physical}`) } };
            default:
                return { id: `${physical}`, computed: args.custom === false ? {} : { arn: arn(args.type.split(":")[1].split("/")[0], physical) } };
        }
    }
}
