import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";

export interface AuthCacheNetworkArgs {
    /** IPv4 range of the VPC, e.g. 10.40.0.0/16. */
    cidrBlock: string;
    /** Availability zones to spread subnets (and cache nodes) over. */
    availabilityZones: number;
    engine: "redis" | "valkey";
    engineVersion: string;
    nodeType: string;
    /** Cache nodes: one primary plus replicas. Two or more turn on automatic failover. */
    nodes: number;
    /** Secret AUTH token every client must present. */
    authToken: pulumi.Input<string>;
    tags?: Record<string, string>;
}

export const REDIS_PORT = 6379;

/**
 * The authorizer's decision cache and the network it lives in: a VPC with public and
 * private subnets behind a NAT gateway (the Lambdas still reach 3scale and SNS), a
 * security group for the Lambdas, and an ElastiCache replication group that admits only
 * that group, encrypted in transit and at rest, with an AUTH token.
 * Owned by the primary slot so the cache stays warm across flips.
 */
export class AuthCacheNetwork extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly privateSubnetIds: pulumi.Output<string[]>;
    readonly publicSubnetIds: pulumi.Output<string[]>;
    readonly lambdaSecurityGroupId: pulumi.Output<string>;
    readonly redisSecurityGroupId: pulumi.Output<string>;
    readonly redisEndpoint: pulumi.Output<string>;
    readonly redisPort: pulumi.Output<number>;

    constructor(name: string, args: AuthCacheNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-ring:ring:AuthCacheNetwork", name, {}, opts);
        if (args.nodes < 1) {
            throw new Error(`AuthCacheNetwork ${name}: nodes is ${args.nodes}; expected at least 1`);
        }
        const tags = { ...args.tags, "api-ring:component": "AuthCacheNetwork" };

        const vpc = new awsx.ec2.Vpc(`${name}-vpc`, {
            cidrBlock: args.cidrBlock,
            numberOfAvailabilityZones: args.availabilityZones,
            natGateways: { strategy: "Single" },
            subnetStrategy: "Auto",
            subnetSpecs: [
                { type: "Public", cidrMask: 24 },
                { type: "Private", cidrMask: 22 },
            ],
            enableDnsHostnames: true,
            tags,
        }, { parent: this });

        const lambdaGroup = new aws.ec2.SecurityGroup(`${name}-lambda-sg`, {
            vpcId: vpc.vpcId,
            description: "api-ring authorizer pair Lambdas",
            // The Lambdas call 3scale and SNS over HTTPS and Redis inside the VPC.
            egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "3scale, SNS and Redis" }],
            tags,
        }, { parent: this });

        const redisGroup = new aws.ec2.SecurityGroup(`${name}-redis-sg`, {
            vpcId: vpc.vpcId,
            description: "api-ring decision cache: Redis from the authorizer Lambdas only",
            ingress: [{
                protocol: "tcp",
                fromPort: REDIS_PORT,
                toPort: REDIS_PORT,
                securityGroups: [lambdaGroup.id],
                description: "Redis from the authorizer pair",
            }],
            tags,
        }, { parent: this });

        const subnetGroup = new aws.elasticache.SubnetGroup(`${name}-redis-subnets`, {
            description: "api-ring decision cache, private subnets",
            subnetIds: vpc.privateSubnetIds,
            tags,
        }, { parent: this });

        const multiNode = args.nodes > 1;
        const redis = new aws.elasticache.ReplicationGroup(`${name}-redis`, {
            description: "api-ring authorizer decision cache and usage counters",
            engine: args.engine,
            engineVersion: args.engineVersion,
            nodeType: args.nodeType,
            numCacheClusters: args.nodes,
            port: REDIS_PORT,
            subnetGroupName: subnetGroup.name,
            securityGroupIds: [redisGroup.id],
            transitEncryptionEnabled: true,
            atRestEncryptionEnabled: true,
            authToken: pulumi.secret(args.authToken),
            automaticFailoverEnabled: multiNode,
            multiAzEnabled: multiNode,
            applyImmediately: true,
            tags,
        }, { parent: this, additionalSecretOutputs: ["authToken"] });

        this.vpcId = vpc.vpcId;
        this.privateSubnetIds = vpc.privateSubnetIds;
        this.publicSubnetIds = vpc.publicSubnetIds;
        this.lambdaSecurityGroupId = lambdaGroup.id;
        this.redisSecurityGroupId = redisGroup.id;
        this.redisEndpoint = redis.primaryEndpointAddress;
        this.redisPort = pulumi.output(REDIS_PORT);
        this.registerOutputs({
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            publicSubnetIds: this.publicSubnetIds,
            lambdaSecurityGroupId: this.lambdaSecurityGroupId,
            redisSecurityGroupId: this.redisSecurityGroupId,
            redisEndpoint: this.redisEndpoint,
            redisPort: this.redisPort,
        });
    }
}
