// One slot of the api-ring: read and validate config, build the slot's components, and on the
// primary the shared network; export the output contract. Which slot is live is the live pointer's
// state (the project in live/), read here through its outputs; no slot owns the mapping.
import * as pulumi from "@pulumi/pulumi";
import { AuthCacheNetwork } from "./components/authCacheNetwork";
import { AuthorizerPair } from "./components/authorizerPair";
import { GatewayAccount } from "./components/gatewayAccount";
import { GatewayRing } from "./components/gatewayRing";
import { RingDashboard } from "./components/ringDashboard";
import { SlotWatch } from "./components/slotWatch";
import { ConfigError, SlotConfig, handlerSettings, readSlotConfig, runtimeConfigSource } from "./config";
import { serviceName } from "./handlers/metrics";
import { checkLiveUpdate, checkMappingMoved, checkPrimaryDeployed } from "./guards";
import { SpecError, bundleSpec, formatProblem, lambdaPermissions, lambdaPermissionsSummary, releaseIdFor, specSummary, stageVariableProblems } from "./openapi";
import { AccountSettingsOutputs, LIVE_POINTER_PROJECT_SUFFIX, LIVE_POINTER_STACK, PrimaryOutputs, SlotOutputs, StackOutputs, referencedOutputs } from "./outputs";

/** The network every slot's authorizer pair runs in, owned by the primary. */
interface SharedNetwork {
    privateSubnetIds: pulumi.Input<string[]>;
    lambdaSecurityGroupId: pulumi.Input<string>;
    redisEndpoint: pulumi.Input<string>;
    redisPort: pulumi.Input<number>;
    redisAuthToken: pulumi.Input<string>;
}

function stackReference(config: SlotConfig, slot: string, role: string): pulumi.StackReference {
    return new pulumi.StackReference(`${role}-${slot}`, { name: `${pulumi.getOrganization()}/${config.project}/${slot}` });
}

/** The live pointer's stack: the project in live/, named after this one (README, "The live pointer"). */
function livePointerReference(config: SlotConfig): pulumi.StackReference {
    return new pulumi.StackReference("live-pointer", {
        name: `${pulumi.getOrganization()}/${config.project}${LIVE_POINTER_PROJECT_SUFFIX}/${LIVE_POINTER_STACK}`,
    });
}

async function slotProgram(): Promise<StackOutputs<SlotOutputs> | StackOutputs<PrimaryOutputs>> {
    const config = readSlotConfig(runtimeConfigSource());
    const { slot, ring, gateway: gw, authorizer: az } = config;
    const tags = { "api-ring:project": config.project, "api-ring:slot": slot };

    const spec = await bundleSpec(gw.specPath, {
        credentials: az.credentials, resultTtlSeconds: az.resultTtlSeconds,
        mirrors: gw.specMirrors, baseDir: process.cwd(), binaryMediaTypes: gw.binaryMediaTypes, allowPublicCatchAll: gw.allowPublicCatchAll,
        publicRoutes: gw.publicRoutes, authorizerRoutes: gw.authorizerRoutes, publicPreflights: gw.publicPreflights,
    });
    // Quirks API Gateway accepts are the user's to see, not to fix before deploying.
    for (const warning of spec.warnings) void pulumi.log.warn(`gateway:spec: ${formatProblem(warning)}`);
    const releaseId = releaseIdFor(spec, gw.releaseId);
    const variables = { ...gw.hosts, ...gw.stageVariables, id: releaseId };
    const problems = stageVariableProblems(spec, variables, slot);
    if (problems.length > 0) throw new ConfigError(slot, problems);
    const permissions = lambdaPermissions(spec.lambdaInvocations, variables, slot).permissions;
    for (const line of [...specSummary(spec), ...lambdaPermissionsSummary(permissions)]) void pulumi.log.info(`gateway:spec: ${line}`);
    // Which slot is live is the live pointer's state; this slot's last outputs say what it serves.
    const pointer = await referencedOutputs(livePointerReference(config), ["liveSlot"]);
    const deployed = await referencedOutputs(stackReference(config, slot, "deployed"), ["specSha256", "liveSlot"]);
    if (config.isPrimary) checkMappingMoved(slot, deployed, pointer, `${config.project}${LIVE_POINTER_PROJECT_SUFFIX}`);
    checkLiveUpdate(slot, pointer["liveSlot"], ring.allowLiveUpdate, deployed["specSha256"], spec.sha256);
    const primaryRef = config.isPrimary ? undefined : stackReference(config, ring.primary, "primary");

    let network: SharedNetwork;
    let owned: AuthCacheNetwork | undefined;
    if (config.isPrimary && config.cache && config.network) {
        owned = new AuthCacheNetwork(`${slot}-auth-cache`, {
            ...config.network,
            ...config.cache,
            tags,
        });
        network = {
            privateSubnetIds: owned.privateSubnetIds,
            lambdaSecurityGroupId: owned.lambdaSecurityGroupId,
            redisEndpoint: owned.redisEndpoint,
            redisPort: owned.redisPort,
            redisAuthToken: config.cache.authToken,
        };
    } else {
        const primary = primaryRef as pulumi.StackReference;
        checkPrimaryDeployed(slot, ring.primary, await primary.getOutputValue("vpcId"));
        network = {
            privateSubnetIds: primary.requireOutput("privateSubnetIds") as pulumi.Output<string[]>,
            lambdaSecurityGroupId: primary.requireOutput("lambdaSecurityGroupId") as pulumi.Output<string>,
            redisEndpoint: primary.requireOutput("redisEndpoint") as pulumi.Output<string>,
            redisPort: primary.requireOutput("redisPort") as pulumi.Output<number>,
            redisAuthToken: primary.requireOutput("redisAuthToken") as pulumi.Output<string>,
        };
    }

    const pair = new AuthorizerPair(`${slot}-authorizer-pair`, {
        settings: {
            threescale: { backendUrl: config.threescale.backendUrl, serviceId: config.threescale.serviceId, timeoutMs: config.threescale.timeoutMs },
            redisTimeoutMs: az.redisTimeoutMs,
            ...handlerSettings(config),
        },
        serviceToken: config.threescale.serviceToken,
        porta: config.threescale.porta,
        redisHost: network.redisEndpoint,
        redisPort: network.redisPort,
        redisAuthToken: network.redisAuthToken,
        subnetIds: network.privateSubnetIds,
        securityGroupIds: [network.lambdaSecurityGroupId],
        flushSchedule: az.flushSchedule,
        metricsService: serviceName(config.project, slot),
        secretsExtensionLayerArn: az.secretsExtensionLayerArn,
        tags,
    });

    // The region's API Gateway CloudWatch role: one per account and region, owned by the primary when it opts in.
    const account = config.isPrimary && gw.cloudWatchRole === "create" ? new GatewayAccount(`${slot}-gateway-account`, { tags }) : undefined;

    const gateway = new GatewayRing(`${slot}-gateway`, {
        slot,
        spec,
        hosts: gw.hosts,
        stageVariables: gw.stageVariables,
        releaseId,
        limits: gw,
        authorizerInvokeArn: pair.authorizerInvokeArn,
        authorizerFunctionName: pair.authorizerFunctionName,
        accountSettings: account?.account,
        tags,
    });

    const watch = new SlotWatch(`${slot}-watch`, {
        project: config.project,
        slot,
        apiName: gateway.restApiName,
        stageName: gateway.stageName,
        authorizerFunctionName: pair.authorizerFunctionName,
        deadLetterQueueName: pair.deadLetterQueue.name,
        thresholds: config.alarms,
        tags,
    });

    const outputs: StackOutputs<SlotOutputs & Partial<AccountSettingsOutputs>> = {
        slot,
        restApiId: gateway.restApiId,
        stageName: gateway.stageName,
        invokeUrl: gateway.invokeUrl,
        executionArn: gateway.executionArn,
        specSha256: gateway.specSha256,
        releaseId: gateway.releaseId,
        authorizerFunctionName: pair.authorizerFunctionName,
        reporterFunctionName: pair.reporterFunctionName,
        usageTopicArn: pair.usageTopicArn,
        deadLetterQueueUrl: pair.deadLetterQueueUrl,
        alarmNames: watch.alarmNames,
        deadLetterAlarmName: watch.deadLetterAlarmName,
        ...(account ? { gatewayCloudWatchRoleArn: account.cloudWatchRoleArn } : {}),
    };
    if (!owned) return outputs;

    const dashboard = new RingDashboard("ring", {
        project: config.project,
        slots: ring.order,
        periodSeconds: config.alarms.periodSeconds,
    });

    const primaryOutputs: StackOutputs<PrimaryOutputs> = {
        ...outputs,
        vpcId: owned.vpcId,
        privateSubnetIds: owned.privateSubnetIds,
        lambdaSecurityGroupId: owned.lambdaSecurityGroupId,
        redisEndpoint: owned.redisEndpoint,
        redisPort: owned.redisPort,
        redisAuthToken: pulumi.secret(network.redisAuthToken),
        dashboardName: dashboard.dashboardName,
        dashboardUrl: dashboard.dashboardUrl,
    };
    return primaryOutputs;
}

/** Config and spec problems are the user's to fix: report them without a stack trace. */
export = async () => {
    try {
        return await slotProgram();
    } catch (e) {
        if (e instanceof ConfigError || e instanceof SpecError) throw new pulumi.RunError(e.message);
        throw e;
    }
};
