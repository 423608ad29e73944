// The pack's policies, in report order, without constructing the pack (constructing a
// PolicyPack starts serving at once). policy/index.ts builds the pack from this list;
// policy/offline.ts runs it without the pulumi CLI.
import type { Policies } from "@pulumi/policy";
import { slotsHaveAlarms } from "./rules/alarms";
import { methodsUseAuthorizer } from "./rules/authorizer";
import { stageBlocksForgedContextHeaders } from "./rules/contextHeaders";
import { domainTls12 } from "./rules/domain";
import { redisEncryptionAndAuth } from "./rules/elasticache";
import { noManagedFullAccess } from "./rules/iam";
import { redisLambdasInPrivateSubnets } from "./rules/lambdaNetwork";
import { privateSubnetsEgressThroughNat, redisInPrivateSubnets } from "./rules/network";
import { redisIngressLambdaOnly } from "./rules/redisIngress";
import { restApiFailsOnWarnings } from "./rules/restApi";
import { lambdaRuntimeSupported } from "./rules/runtime";
import { secretOutputsStaySecret, secretsStaySecret } from "./rules/secrets";
import { snsTopicEncrypted } from "./rules/sns";
import { stageThrottlingAndLogging } from "./rules/stage";

export const POLICY_PACK_NAME = "api-ring-baseline";

export const policies: Policies = [
    redisEncryptionAndAuth,
    redisIngressLambdaOnly,
    redisLambdasInPrivateSubnets,
    noManagedFullAccess,
    stageThrottlingAndLogging,
    methodsUseAuthorizer,
    snsTopicEncrypted,
    domainTls12,
    secretsStaySecret,
    secretOutputsStaySecret,
    lambdaRuntimeSupported,
    slotsHaveAlarms,
    privateSubnetsEgressThroughNat,
    redisInPrivateSubnets,
    restApiFailsOnWarnings,
    stageBlocksForgedContextHeaders,
];
