// The pack's policies, without constructing the pack (constructing it starts serving).
import type { Policies } from "@pulumi/policy";
import { redisEncryption, redisIngress } from "./cache";
import { domainTls12, methodsUseAuthorizer, stageLimitsAndLogs } from "./gateway";
import { noManagedFullAccess } from "./iam";
import { topicEncrypted } from "./messaging";
import { lambdaPrivateSubnets } from "./network";
import { supportedRuntime } from "./runtime";
import { secretsStaySecret } from "./secrets";

export const POLICY_PACK_NAME = "api-ring-baseline";

export const policies: Policies = [
    redisEncryption,
    redisIngress,
    lambdaPrivateSubnets,
    noManagedFullAccess,
    stageLimitsAndLogs,
    methodsUseAuthorizer,
    topicEncrypted,
    domainTls12,
    secretsStaySecret,
    supportedRuntime,
];
