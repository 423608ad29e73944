import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface GatewayAccountArgs {
    tags?: Record<string, string>;
}

/**
 * The region's API Gateway account settings: the CloudWatch Logs role API Gateway writes every
 * stage's execution and access logs with ("Set up CloudWatch logging for REST APIs in API
 * Gateway": a role trusting apigateway.amazonaws.com with AmazonAPIGatewayPushToCloudWatchLogs,
 * named in the account settings). There is one per account and region, so one stack owns it: the
 * primary, opted in with `gateway:cloudWatchRole: create`.
 *
 * All three are retained on delete: `pulumi destroy`, or the stack no longer creating them, removes
 * them from the stack's state and leaves them in AWS. @pulumi/aws 7 is built on terraform-provider-aws
 * v6, whose aws_api_gateway_account resets the region's settings when it is deleted
 * (hashicorp/terraform-provider-aws#42226; its v6 upgrade guide, resource/aws_api_gateway_account), and
 * a deleted role leaves the setting naming a role API Gateway cannot assume: either would stop the
 * execution and access logs of every REST API in the region, other stacks' included.
 */
export class GatewayAccount extends pulumi.ComponentResource {
    readonly account: aws.apigateway.Account;
    readonly cloudWatchRoleArn: pulumi.Output<string>;

    constructor(name: string, args: GatewayAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-ring:ring:GatewayAccount", name, {}, opts);
        const partition = aws.getPartitionOutput({}, { parent: this }).partition;
        const role = new aws.iam.Role(`${name}-cloudwatch-role`, {
            description: "API Gateway writes this region's execution and access logs to CloudWatch Logs with this role",
            assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "apigateway.amazonaws.com" }),
            tags: args.tags,
        }, { parent: this, retainOnDelete: true });
        const push = new aws.iam.RolePolicyAttachment(`${name}-cloudwatch-push`, {
            role: role.name,
            policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs`,
        }, { parent: this, retainOnDelete: true });
        // API Gateway checks that it can assume the role when the setting is made: the policy first.
        this.account = new aws.apigateway.Account(`${name}-settings`, {
            cloudwatchRoleArn: role.arn,
        }, { parent: this, dependsOn: [push], retainOnDelete: true });
        this.cloudWatchRoleArn = this.account.cloudwatchRoleArn;
        this.registerOutputs({ cloudWatchRoleArn: this.cloudWatchRoleArn });
    }
}
