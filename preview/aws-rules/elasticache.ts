// ElastiCache's creation rules for the replication group and its subnet group (ElastiCache API
// reference, CreateReplicationGroup and CreateCacheSubnetGroup; terraform-provider-aws
// internal/service/elasticache/replication_group.go for the cross-field checks it makes before calling).
import { AwsRule, enumRule, eachRule, stringRule } from "./rule";

const GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";
const SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup";
const CREATE = "ElastiCache API reference, CreateReplicationGroup (API_CreateReplicationGroup.html)";

export const ELASTICACHE_RULES: AwsRule[] = [
    stringRule({
        id: "elasticache.replication-group-id", types: [GROUP], input: "replicationGroupId", required: true, max: 40,
        pattern: /^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$|^[a-z]$/,
        rule: "1 to 40 alphanumeric characters or hyphens, beginning with a letter, no two consecutive hyphens, not ending with a hyphen (stored lower-case)",
        source: `${CREATE}, ReplicationGroupId; terraform-provider-aws internal/service/elasticache/replication_group.go (validateReplicationGroupID)`,
    }),
    stringRule({
        id: "elasticache.auth-token", types: [GROUP], input: "authToken", min: 16, max: 128, pattern: /^[A-Za-z0-9!&#$^<>-]+$/,
        rule: "16 to 128 printable ASCII characters; the only special characters permitted are ! & # $ ^ < > -",
        source: `${CREATE}, AuthToken (password constraints)`,
    }),
    eachRule({
        id: "elasticache.auth-token-needs-transit-encryption", types: [GROUP], input: "authToken",
        rule: "AuthToken can be specified only on replication groups where TransitEncryptionEnabled is true", source: `${CREATE}, AuthToken`,
        accepts: (_v, inputs) => (inputs.transitEncryptionEnabled === true ? undefined : "transitEncryptionEnabled is not true"),
    }),
    eachRule({
        id: "elasticache.failover-needs-replicas", types: [GROUP], input: "automaticFailoverEnabled",
        rule: "automatic failover needs at least 2 cache clusters, and Multi-AZ needs automatic failover",
        source: `${CREATE}, AutomaticFailoverEnabled and MultiAZEnabled; terraform-provider-aws internal/service/elasticache/replication_group.go (CustomizeDiff)`,
        accepts: (v, inputs) => {
            const clusters = typeof inputs.numCacheClusters === "number" ? inputs.numCacheClusters : 1;
            if (v === true && clusters < 2) return `${clusters} cache cluster`;
            if (inputs.multiAzEnabled === true && v !== true) return "multiAzEnabled without automatic failover";
            return undefined;
        },
    }),
    enumRule({ id: "elasticache.engine", types: [GROUP], input: "engine", allowed: ["redis", "valkey"], source: `${CREATE}, Engine (valkey or redis for a replication group)` }),
    stringRule({
        id: "elasticache.description", types: [GROUP], input: "description", required: true, max: 255,
        rule: "a description is required", source: `${CREATE}, ReplicationGroupDescription (required)`,
    }),
    stringRule({
        id: "elasticache.subnet-group-name", types: [SUBNET_GROUP], input: "name", required: true, max: 255, pattern: /^[A-Za-z0-9-]+$/,
        rule: "no more than 255 alphanumeric characters or hyphens (stored lower-case)",
        source: "ElastiCache API reference, CreateCacheSubnetGroup (API_CreateCacheSubnetGroup.html), CacheSubnetGroupName",
    }),
    stringRule({
        id: "elasticache.subnet-group-description", types: [SUBNET_GROUP], input: "description", required: true, max: 255,
        rule: "a description is required", source: "ElastiCache API reference, CreateCacheSubnetGroup, CacheSubnetGroupDescription (required)",
    }),
];
