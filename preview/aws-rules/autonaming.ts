// pulumi-aws's autonaming: the provider, not AWS, names a resource whose name input is unset, as
// the logical name, "-", and 7 random hex digits, within a maximum length per resource type; a name
// that does not fit fails before AWS is called ("could not make instance of '<type>': name '<name>-'
// plus 7 random chars is longer than maximum length N", pulumi sdk/go/common/resource/uniqueness.go
// NewUniqueName). Maximum lengths and transforms: pulumi/pulumi-aws provider/resources.go (the
// per-resource AutoName / AutoNameTransform / AutoNameWithCustomOptions entries) and
// provider/autonaming.go (every other `name` input: 255).

export interface AutonameSpec {
    /** The input the provider fills. */
    field: string;
    maxlen: number;
    /** Applied to the logical name first (ElastiCache ids are lower-case). */
    lowercase?: boolean;
}

const DEFAULT_MAXLEN = 255;

/** The resource types the program creates that the provider autonames, and how. */
export const AUTONAMED: Readonly<Record<string, AutonameSpec>> = {
    "aws:lambda/function:Function": { field: "name", maxlen: 64 },
    "aws:iam/role:Role": { field: "name", maxlen: 64 },
    "aws:cloudwatch/eventRule:EventRule": { field: "name", maxlen: 64 },
    "aws:cloudwatch/eventTarget:EventTarget": { field: "targetId", maxlen: DEFAULT_MAXLEN },
    "aws:sqs/queue:Queue": { field: "name", maxlen: 80 },
    "aws:elasticache/replicationGroup:ReplicationGroup": { field: "replicationGroupId", maxlen: 40, lowercase: true },
    "aws:sns/topic:Topic": { field: "name", maxlen: DEFAULT_MAXLEN },
    "aws:ec2/securityGroup:SecurityGroup": { field: "name", maxlen: DEFAULT_MAXLEN },
    "aws:elasticache/subnetGroup:SubnetGroup": { field: "name", maxlen: DEFAULT_MAXLEN },
    "aws:iam/rolePolicy:RolePolicy": { field: "name", maxlen: DEFAULT_MAXLEN },
    "aws:cloudwatch/logGroup:LogGroup": { field: "name", maxlen: DEFAULT_MAXLEN },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { field: "name", maxlen: DEFAULT_MAXLEN },
    "aws:apigateway/restApi:RestApi": { field: "name", maxlen: DEFAULT_MAXLEN },
    "aws:wafv2/webAcl:WebAcl": { field: "name", maxlen: DEFAULT_MAXLEN },
};

export const AUTONAME_SOURCE = "pulumi/pulumi-aws provider/resources.go and provider/autonaming.go; pulumi sdk/go/common/resource/uniqueness.go (NewUniqueName)";

export type Autonamed = { field: string; name: string } | { field: string; error: string } | undefined;

/** The name the provider gives a resource whose name input is unset; `suffix` stands for the 7 random hex digits. */
export function autoname(type: string, logicalName: string, inputs: Record<string, unknown>, suffix: string): Autonamed {
    const spec = AUTONAMED[type];
    if (!spec || inputs[spec.field] !== undefined) return undefined;
    const prefix = `${spec.lowercase ? logicalName.toLowerCase() : logicalName}-`;
    if (prefix.length + suffix.length > spec.maxlen) {
        return { field: spec.field, error: `could not make instance of '${type}': name '${prefix}' plus ${suffix.length} random chars is longer than maximum length ${spec.maxlen}` };
    }
    return { field: spec.field, name: prefix + suffix };
}
